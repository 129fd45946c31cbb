// Exercises: routing by path and method (exact paths, a path parameter, 404,
// 405 with an Allow header, HEAD answered like GET without a body, OPTIONS).
export const requests = [
  { name: "root", path: "/" },
  { name: "user by id", path: "/users/42" },
  { name: "create user", method: "POST", path: "/users", body: "name=ada", headers: { "content-type": "application/x-www-form-urlencoded" } },
  { name: "method not allowed", method: "DELETE", path: "/users" },
  { name: "not found", path: "/nope/deeper" },
  { name: "options", method: "OPTIONS", path: "/users" },
  { name: "trailing slash", path: "/users/" },
  { name: "put user", method: "PUT", path: "/users/7", body: "{\"x\":1}" },
];

const routes = [
  ["GET", /^\/$/, () => new Response("home")],
  ["GET", /^\/users\/?$/, () => Response.json([{ id: 1 }, { id: 2 }])],
  ["POST", /^\/users$/, async (req) => new Response(`created from ${await req.text()}`, { status: 201, headers: { location: "/users/3" } })],
  ["GET", /^\/users\/(\d+)$/, (_req, m) => Response.json({ id: Number(m[1]) })],
  ["PUT", /^\/users\/(\d+)$/, async (req, m) => Response.json({ id: Number(m[1]), replaced: await req.json() })],
];

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const matching = routes.filter(([, re]) => re.test(pathname));
    if (matching.length === 0) return new Response(`no route for ${pathname}`, { status: 404 });
    const allow = [...new Set(matching.map(([m]) => m))].join(", ");
    if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: { allow } });
    const route = matching.find(([m]) => m === request.method);
    if (!route) return new Response(`${request.method} not allowed`, { status: 405, headers: { allow } });
    return route[2](request, pathname.match(route[1]));
  },
};
