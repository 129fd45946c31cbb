// Exercises: responses without a body: 204, 205 and 304 with headers; a HEAD
// request answered with a body (the body must not reach the client); an empty
// string body with 200; a redirect-like 303 with Location and no body.
export const requests = [
  { name: "204", path: "/204" },
  { name: "304", path: "/304", headers: { "if-none-match": "\"v1\"" } },
  { name: "HEAD with body", method: "HEAD", path: "/head" },
  { name: "empty 200", path: "/empty" },
  { name: "303", method: "POST", path: "/303", body: "x" },
];

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    switch (pathname) {
      case "/204":
        return new Response(null, { status: 204, headers: { "x-reason": "nothing" } });
      case "/304":
        return new Response(null, { status: 304, headers: { etag: "\"v1\"", "cache-control": "max-age=60" } });
      case "/head":
        return new Response("body that HEAD must not carry", { headers: { "content-type": "text/plain", "x-method": request.method } });
      case "/empty":
        return new Response("", { headers: { "x-empty": "1" } });
      case "/303":
        return new Response(null, { status: 303, headers: { location: "/done" } });
    }
    return new Response("?", { status: 404 });
  },
};
