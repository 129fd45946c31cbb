// Exercises: Request.clone() and Response.clone(): both copies readable
// independently, headers copied (not shared), bodyUsed per copy, clone after the
// body was used (TypeError), clone of a streaming body (tee), and returning a clone.
export const requests = [
  { name: "request clone", method: "POST", path: "/request", body: "request body", headers: { "x-test": "1" } },
  { name: "response clone", path: "/response" },
  { name: "return clone", path: "/return" },
];

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/request") {
      const copy = request.clone();
      const a = await request.text();
      const usedAfterRead = [request.bodyUsed, copy.bodyUsed];
      const b = await copy.text();
      let cloneUsed;
      try {
        request.clone();
        cloneUsed = "cloned";
      } catch (e) {
        cloneUsed = e.name;
      }
      const withNewHeaders = new Request(copy.url, { headers: copy.headers });
      withNewHeaders.headers.set("x-test", "2");
      return Response.json({ a, b, usedAfterRead, cloneUsed, method: copy.method, url: copy.url, originalHeader: copy.headers.get("x-test"), newHeader: withNewHeaders.headers.get("x-test") });
    }
    const enc = new TextEncoder();
    const original = new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(enc.encode("streamed "));
          c.enqueue(enc.encode("body"));
          c.close();
        },
      }),
      { status: 201, statusText: "Made", headers: { "x-orig": "yes" } },
    );
    const copy = original.clone();
    copy.headers.set("x-copy", "only");
    if (pathname === "/return") {
      await original.text();
      return copy;
    }
    const [t1, t2] = await Promise.all([original.text(), copy.text()]);
    return Response.json({ t1, t2, status: copy.status, statusText: copy.statusText, origHasCopyHeader: original.headers.has("x-copy"), used: [original.bodyUsed, copy.bodyUsed] });
  },
};
