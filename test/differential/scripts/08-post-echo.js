// Exercises: POST echo: the request body streamed straight back as the response
// body (new Response(request.body)), with the request's content-type and method;
// a larger body (64 KiB) to cross chunk boundaries; an empty POST.
const big = "0123456789abcdef".repeat(4096);
export const requests = [
  { name: "small", method: "POST", path: "/", headers: { "content-type": "text/x-echo" }, body: "echo me \u00e9" },
  { name: "64 KiB", method: "POST", path: "/", headers: { "content-type": "application/octet-stream" }, body: big },
  { name: "patch", method: "PATCH", path: "/", body: "patched" },
  { name: "empty", method: "POST", path: "/" },
];

export default {
  async fetch(request) {
    const headers = new Headers({ "x-method": request.method, "x-had-body": String(request.body !== null) });
    const ct = request.headers.get("content-type");
    if (ct) headers.set("content-type", ct);
    return new Response(request.body, { headers });
  },
};
