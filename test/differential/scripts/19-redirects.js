// Exercises: Response.redirect with 301/302/307/308 and the default status (302),
// the Location header (serialized, percent-encoded), a relative URL (a Worker has
// no base URL to resolve it against), an invalid redirect status (RangeError), and
// that the redirect's headers are immutable (TypeError).
export const requests = [
  { name: "301", path: "/r/301" },
  { name: "302", path: "/r/302" },
  { name: "307", path: "/r/307", method: "POST", body: "keep" },
  { name: "308", path: "/r/308" },
  { name: "default", path: "/r/default" },
  { name: "bad status", path: "/r/200" },
  { name: "immutable headers", path: "/immutable" },
  { name: "relative", path: "/relative" },
];

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const target = "https://example.com/new path?x=ü#h";
    if (pathname === "/immutable") {
      const res = Response.redirect(target, 301);
      try {
        res.headers.set("x-added", "1");
        return new Response("mutable");
      } catch (e) {
        return new Response(`immutable: ${e.name}`);
      }
    }
    if (pathname === "/relative") {
      try {
        return Response.redirect("/elsewhere", 302);
      } catch (e) {
        return new Response(`relative redirect: ${e.name}`, { status: 500 });
      }
    }
    const code = pathname.split("/")[2];
    if (code === "default") return Response.redirect(target);
    try {
      return Response.redirect(target, Number(code));
    } catch (e) {
      return new Response(`bad redirect status: ${e.name}`, { status: 500 });
    }
  },
};
