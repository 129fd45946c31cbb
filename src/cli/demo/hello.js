// Demo: a Workers module on /api/*: JSON, a streamed body, and fetch(request), which goes on through the cache to the origin.
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/api/json") return Response.json({ greeting: env.GREETING, at: new Date().toISOString() });
    if (url.pathname === "/api/stream") {
      const encoder = new TextEncoder();
      let i = 0;
      const body = new ReadableStream({
        async pull(controller) {
          if (i === 5) return controller.close();
          await new Promise((r) => setTimeout(r, 100));
          controller.enqueue(encoder.encode(`chunk ${i++}\n`));
        },
      });
      return new Response(body, { headers: { "content-type": "text/plain" } });
    }
    if (url.pathname === "/api/origin") {
      // Not answered here: the request continues through the node's cache to the origin.
      const response = await fetch(request);
      const copy = new Response(response.body, response);
      copy.headers.set("x-passed-through", "Workers fetch handler");
      return copy;
    }
    ctx.waitUntil(Promise.resolve().then(() => console.log("served", url.pathname)));
    return new Response(`${env.GREETING}! Try /api/json, /api/stream and /api/origin.\n`, { headers: { "content-type": "text/plain" } });
  },
};
