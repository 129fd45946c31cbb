// Exercises: request.text() and request.arrayBuffer() (byte lengths of UTF-8),
// bodyUsed, reading a body twice (TypeError), bytes() where present, a Uint8Array
// and an ArrayBuffer as response bodies, and a DataView body.
export const requests = [
  { name: "text", method: "POST", path: "/text", body: "h\u00e9llo w\u00f6rld \u2603" },
  { name: "arrayBuffer", method: "POST", path: "/ab", body: "h\u00e9llo w\u00f6rld \u2603" },
  { name: "twice", method: "POST", path: "/twice", body: "once" },
  { name: "binary response", path: "/binary" },
  { name: "dataview response", path: "/dataview" },
];

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    switch (pathname) {
      case "/text": {
        const before = request.bodyUsed;
        const t = await request.text();
        return Response.json({ t, length: t.length, before, after: request.bodyUsed });
      }
      case "/ab": {
        const ab = await request.arrayBuffer();
        const bytes = [...new Uint8Array(ab)];
        return Response.json({ isArrayBuffer: ab instanceof ArrayBuffer, byteLength: ab.byteLength, bytes });
      }
      case "/twice": {
        await request.text();
        try {
          await request.text();
          return new Response("read twice?!");
        } catch (e) {
          return new Response(`second read: ${e.name}`, { status: 409 });
        }
      }
      case "/binary": {
        const bytes = new Uint8Array(256);
        for (let i = 0; i < 256; i++) bytes[i] = i;
        return new Response(bytes, { headers: { "content-type": "application/octet-stream" } });
      }
      case "/dataview": {
        const buf = new ArrayBuffer(8);
        new DataView(buf).setFloat64(0, Math.PI);
        return new Response(new DataView(buf, 2, 4));
      }
    }
    return new Response("?", { status: 404 });
  },
};
