// Exercises: small Web-platform details Workers code leans on: Response.json
// with init, Response.redirect, Headers.getSetCookie and iteration order of
// combined headers, URL.canParse and URL.parse, URLSearchParams sort and size,
// Request cloned with an overriding init, structuredClone of Map/Set/Date/RegExp
// and Error, TextDecoder fatal, Array.fromAsync and Promise.withResolvers.
export const requests = [{ name: "web details", path: "/" }];

export default {
  async fetch() {
    const out = {};
    const j = Response.json({ a: 1 }, { status: 201, headers: { "x-k": "v" } });
    out.json = [j.status, j.headers.get("content-type"), j.headers.get("x-k"), await j.text()];
    const r = Response.redirect("https://example.com/next", 308);
    out.redirect = [r.status, r.headers.get("location")];
    const h = new Headers([["set-cookie", "a=1"], ["Set-Cookie", "b=2"], ["x-b", "2"], ["x-a", "1"], ["x-a", "3"]]);
    out.headers = [h.getSetCookie(), [...h], h.get("x-a")];
    out.url = [URL.canParse("/rel", "https://x.test/"), URL.canParse("nope"), typeof URL.parse === "function" ? URL.parse("https://x.test/a?b#c")?.hash : "no URL.parse"];
    const p = new URLSearchParams("b=2&a=1&a=0");
    p.sort();
    out.params = [p.toString(), p.size];
    const base = new Request("https://x.test/a", { method: "POST", body: "hi", headers: { "x-one": "1" } });
    const copy = new Request(base, { headers: { "x-two": "2" } });
    out.request = [copy.method, copy.headers.get("x-one"), copy.headers.get("x-two"), await copy.text()];
    const cloned = structuredClone({ m: new Map([[1, "a"]]), s: new Set([2]), d: new Date(0), re: /x/gi, e: new TypeError("t") });
    out.clone = [cloned.m.get(1), cloned.s.has(2), cloned.d.toISOString(), cloned.re.flags, cloned.e instanceof TypeError, cloned.e.message];
    let fatal = "";
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array([0xff]));
    } catch (e) {
      fatal = e.name;
    }
    out.fatal = fatal;
    out.modern = [typeof Array.fromAsync, typeof Promise.withResolvers, typeof Object.groupBy];
    return Response.json(out);
  },
};
