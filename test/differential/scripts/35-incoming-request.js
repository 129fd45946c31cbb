// Exercises: the incoming Request as a Worker sees it: method, url (as sent by the
// client, not the runtime's listening address), immutable headers (TypeError on
// set), redirect mode, body null for GET, signal present, a method case kept or
// normalized, and a new Request built from it with overrides.
export const requests = [
  { name: "get", path: "/path/x?y=1#not-sent" },
  { name: "post", method: "post", path: "/p", body: "b" },
  { name: "custom method", method: "PROPFIND", path: "/dav" },
];

export default {
  async fetch(request) {
    let headersMutable;
    try {
      request.headers.set("x-new", "1");
      headersMutable = "mutable";
    } catch (e) {
      headersMutable = e.name;
    }
    const derived = new Request(request, { method: "PUT", headers: { "x-derived": "1" }, body: "new body" });
    return Response.json({
      method: request.method,
      url: request.url,
      headersMutable,
      redirect: request.redirect,
      bodyNull: request.body === null,
      hasSignal: typeof request.signal === "object" && request.signal !== null,
      derived: [derived.method, derived.url, derived.headers.get("x-derived"), await derived.text()],
      isRequest: request instanceof Request,
    });
  },
};
