// Exercises: request.json() (valid, invalid -> SyntaxError, empty body), and
// Response.json() with status and extra headers, non-ASCII and nested data,
// a caller-supplied content-type kept, and a value JSON cannot serialize (TypeError).
export const requests = [
  { name: "valid json", method: "POST", path: "/", headers: { "content-type": "application/json" }, body: "{\"n\":1,\"list\":[1,2,{\"deep\":true}],\"text\":\"h\u00e9llo \u2603\"}" },
  { name: "invalid json", method: "POST", path: "/", headers: { "content-type": "application/json" }, body: "{not json" },
  { name: "empty body", method: "POST", path: "/" },
  { name: "custom content-type", path: "/custom" },
  { name: "bigint", path: "/bigint" },
];

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/custom") return Response.json({ ok: true }, { status: 202, headers: { "content-type": "application/vnd.api+json", "x-extra": "1" } });
    if (pathname === "/bigint") {
      try {
        return Response.json({ n: 1n });
      } catch (e) {
        return Response.json({ error: e.name }, { status: 500 });
      }
    }
    try {
      const data = await request.json();
      return Response.json({ received: data, type: typeof data, keys: Object.keys(data) }, { status: 200, statusText: "Fine" });
    } catch (e) {
      return Response.json({ error: e.name, isSyntaxError: e instanceof SyntaxError }, { status: 400 });
    }
  },
};
