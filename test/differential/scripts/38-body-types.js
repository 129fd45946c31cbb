// Exercises: the Content-Type a body type implies and the bytes it sends:
// string (text/plain;charset=UTF-8), URLSearchParams (urlencoded;charset=UTF-8),
// Blob with and without type, ArrayBuffer (none), a caller Content-Type winning,
// and Request bodies of the same types read back with text().
export const requests = [
  { name: "string", path: "/string" },
  { name: "params", path: "/params" },
  { name: "blob typed", path: "/blob" },
  { name: "blob untyped", path: "/blob-untyped" },
  { name: "arraybuffer", path: "/ab" },
  { name: "override", path: "/override" },
  { name: "request bodies", path: "/requests" },
];

export default {
  async fetch(request) {
    switch (new URL(request.url).pathname) {
      case "/string":
        return new Response("plain \u00e9");
      case "/params":
        return new Response(new URLSearchParams({ a: "1 2", b: "\u00e9" }));
      case "/blob":
        return new Response(new Blob(["<b>hi</b>"], { type: "text/html" }));
      case "/blob-untyped":
        return new Response(new Blob(["raw"]));
      case "/ab":
        return new Response(new TextEncoder().encode("bytes").buffer);
      case "/override":
        return new Response(new URLSearchParams({ a: "1" }), { headers: { "Content-Type": "text/x-mine" } });
      case "/requests": {
        const bodies = [["s", "str"], ["p", new URLSearchParams({ q: "1" })], ["b", new Blob(["blob"], { type: "x/y" })], ["u", new Uint8Array([104, 105])]];
        const out = {};
        for (const [k, body] of bodies) {
          const r = new Request("https://example.com/", { method: "POST", body });
          out[k] = [r.headers.get("content-type"), await r.text()];
        }
        let getWithBody;
        try {
          new Request("https://example.com/", { method: "GET", body: "x" });
          getWithBody = "accepted";
        } catch (e) {
          getWithBody = e.name;
        }
        out.getWithBody = getWithBody;
        return Response.json(out);
      }
    }
    return new Response("?", { status: 404 });
  },
};
