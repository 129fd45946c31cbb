// Exercises: a service binding (serviceBindings: { AUTH: function }, Miniflare 4's
// function form): the Request env.AUTH.fetch() builds from a URL + init, from a
// Request, with a body; the Response's status, statusText, headers (Set-Cookie
// kept apart) and streamed body; redirects followed through the binding or
// returned (manual); a URL fetch() refuses; a function that throws (500, first
// line of its text: the stack's frames name each runtime's own files).
// Headers are compared without connection, transfer-encoding and date: Miniflare
// runs the function behind a loopback HTTP server, which adds them.
export const requests = [
  { name: "url-and-init", path: "/init" },
  { name: "request-object", method: "PUT", path: "/request", headers: { "x-user": "ada" }, body: "put body" },
  { name: "response-shape", path: "/shape" },
  { name: "stream", path: "/stream" },
  { name: "redirect-follow", path: "/redirect" },
  { name: "redirect-manual", path: "/manual" },
  { name: "bad-scheme", path: "/scheme" },
  { name: "thrown", path: "/throw" },
  { name: "fetcher-shape", path: "/fetcher" },
];

const keep = (headers) => [...headers].filter(([k]) => k.startsWith("x-") || k === "content-type");

export const serviceBindings = {
  async AUTH(request) {
    const url = new URL(request.url);
    if (url.pathname === "/throw") throw new Error("auth is down");
    if (url.pathname === "/go") return new Response("moved", { status: 302, headers: { location: "/landed" } });
    if (url.pathname === "/shape") {
      const h = new Headers({ "x-a": "1", "content-type": "application/json" });
      h.append("set-cookie", "a=1; Path=/");
      h.append("set-cookie", "b=2");
      return new Response('{"ok":true}', { status: 203, statusText: "Partly", headers: h });
    }
    if (url.pathname === "/stream") {
      let i = 0;
      return new Response(new ReadableStream({ pull(c) { i++; if (i > 3) c.close(); else c.enqueue(new TextEncoder().encode(`part ${i}\n`)); } }));
    }
    const body = request.body === null ? null : await request.text();
    return Response.json({ method: request.method, url: request.url, headers: keep(request.headers), body });
  },
};

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    try {
      switch (path) {
        case "/init":
          return new Response((await env.AUTH.fetch("https://auth.test/check?x=1", { method: "POST", body: "secret", headers: { "x-token": "t" } })).body);
        case "/request":
          return env.AUTH.fetch(new Request("https://auth.test/from-request", request));
        case "/shape": {
          const r = await env.AUTH.fetch("https://auth.test/shape");
          return Response.json({ status: r.status, statusText: r.statusText, headers: [...r.headers].filter(([k]) => k.startsWith("x-") || k === "content-type" || k === "set-cookie"), cookies: r.headers.getSetCookie(), body: await r.json(), url: r.url, redirected: r.redirected });
        }
        case "/stream":
          return new Response((await env.AUTH.fetch("https://auth.test/stream")).body);
        case "/redirect": {
          const r = await env.AUTH.fetch("https://auth.test/go");
          return Response.json({ status: r.status, url: r.url, redirected: r.redirected, body: await r.json() });
        }
        case "/manual": {
          const r = await env.AUTH.fetch("https://auth.test/go", { redirect: "manual" });
          return Response.json({ status: r.status, location: r.headers.get("location"), body: await r.text() });
        }
        case "/scheme":
          await env.AUTH.fetch("ftp://auth.test/");
          return new Response("fetched");
        case "/throw": {
          const r = await env.AUTH.fetch("https://auth.test/throw");
          return Response.json({ status: r.status, type: r.headers.get("content-type"), first: (await r.text()).split("\n")[0] });
        }
        case "/fetcher":
          return Response.json({ tag: Object.prototype.toString.call(env.AUTH), fetch: typeof env.AUTH.fetch, keys: Object.keys(env.AUTH), global: typeof globalThis.Fetcher });
      }
    } catch (e) {
      return Response.json({ name: e.name, message: e.message }, { status: 599 });
    }
    return new Response("no route", { status: 404 });
  },
};
