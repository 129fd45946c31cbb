// Exercises: Response construction with invalid status codes: caught (compare the
// error class) and uncaught (the Response constructor's RangeError escapes the
// handler, an exception like 20-uncaught-exception). Also valid edge statuses 200/599,
// null-body statuses with a body (TypeError), a zero-length body with 204, an
// invalid statusText, and the default statusText.
export const requests = [
  { name: "caught statuses", path: "/caught" },
  { name: "uncaught 600", path: "/uncaught" },
  { name: "599", path: "/599" },
  { name: "204 empty", path: "/204" },
  { name: "204 with empty string body", path: "/204-empty-string" },
  { name: "default statusText", path: "/status-text" },
];

function attempt(init, body = null) {
  try {
    const r = new Response(body, init);
    return r.status;
  } catch (e) {
    return e.name;
  }
}

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/uncaught") return new Response("never", { status: 600 });
    if (pathname === "/599") return new Response("edge", { status: 599, statusText: "Custom" });
    if (pathname === "/204") return new Response(null, { status: 204, headers: { "x-empty": "yes" } });
    if (pathname === "/204-empty-string") return Response.json({ s204empty: attempt({ status: 204 }, "") });
    if (pathname === "/status-text") {
      return Response.json({ default200: new Response().statusText, default404: new Response(null, { status: 404 }).statusText, explicit: new Response(null, { statusText: "Fine" }).statusText });
    }
    return Response.json({
      s0: attempt({ status: 0 }),
      s199: attempt({ status: 199 }),
      s200: attempt({ status: 200 }),
      s599: attempt({ status: 599 }),
      s600: attempt({ status: 600 }),
      sNaN: attempt({ status: Number.NaN }),
      sString: attempt({ status: "404" }),
      s204body: attempt({ status: 204 }, "body"),
      s304body: attempt({ status: 304 }, "body"),
      badStatusText: attempt({ status: 200, statusText: "bad\ntext" }),
      defaultStatus: new Response().status,
      ok: [new Response(null, { status: 299 }).ok, new Response(null, { status: 300 }).ok],
    });
  },
};
