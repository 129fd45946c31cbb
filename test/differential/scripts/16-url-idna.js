// Exercises: URL host parsing: IDNA to punycode (münchen, emoji, full-width dot),
// uppercase hosts lowercased, IPv4 in hex/octal/short forms, IPv6 compression and
// embedded IPv4, forbidden host code points and invalid punycode (TypeError),
// UTS #46 compatibility mappings (the ligature "ﬀ" -> "ff", circled "①" -> "1").
export const requests = [{ name: "hosts", path: "/" }];

const inputs = [
  "http://münchen.de/", "http://MÜNCHEN.DE/", "https://☃.net/", "http://xn--mnchen-3ya.de/", "http://ex\u3002ample.com/",
  "http://EXAMPLE.COM./", "http://0x7f.1/", "http://0177.0.0.1/", "http://127.1/", "http://4294967295/", "http://4294967296/",
  "http://[0:0:0:0:0:0:0:1]/", "http://[2001:DB8::0:1]:8080/", "http://[::ffff:192.168.0.1]/", "http://exa mple.com/",
  "http://a<b/", "http://xn--a.com/", "http://ß.de/", "http://faß.de/", "http://%41.com/", "http://user:pa ss@host/",
  "http://\ufb00.com/", "http://\u2460.com/",
];

export default {
  async fetch() {
    const out = {};
    for (const input of inputs) {
      try {
        const u = new URL(input);
        out[input] = { href: u.href, host: u.host };
      } catch (e) {
        out[input] = `throws ${e.name}`;
      }
    }
    return Response.json(out);
  },
};
