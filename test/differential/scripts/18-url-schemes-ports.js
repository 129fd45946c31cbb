// Exercises: special schemes and default ports (http 80, https 443, ws 80, wss 443,
// ftp 21 dropped from serialization), explicit non-default ports, the port setter,
// file: URLs, non-special schemes (opaque paths, null origin), blob:/data: origins,
// protocol setter rules between special and non-special schemes.
export const requests = [{ name: "schemes", path: "/" }];

const inputs = [
  "http://h:80/", "https://h:443/", "http://h:443/", "ws://h:80/", "wss://h:443/x", "ftp://h:21/", "ftp://h:22/",
  "HTTP://H:0080/", "http://h:65535/", "http://h:65536/", "file:///C:/dir/../x.txt", "file://host/share", "mailto:Joe@Example.COM",
  "foo://Host:80/p", "foo:/p/../q", "javascript:alert(1)", "data:text/plain,hi", "blob:https://a.b:8443/uuid", "urn:isbn:0451450523",
];

export default {
  async fetch() {
    const parsed = {};
    for (const input of inputs) {
      try {
        const u = new URL(input);
        parsed[input] = { href: u.href, protocol: u.protocol, host: u.host, port: u.port, pathname: u.pathname, origin: u.origin };
      } catch (e) {
        parsed[input] = `throws ${e.name}`;
      }
    }
    const setters = {};
    const u = new URL("https://example.com:8443/");
    u.port = "443";
    setters.defaultPortCleared = u.href;
    u.port = "8080abc";
    setters.portWithJunk = u.href;
    u.protocol = "http";
    setters.toHttp = u.href;
    u.protocol = "foo";
    setters.toNonSpecialRefused = u.href;
    const n = new URL("foo://h/x");
    n.protocol = "http";
    setters.nonSpecialToSpecialRefused = n.href;
    return Response.json({ parsed, setters });
  },
};
