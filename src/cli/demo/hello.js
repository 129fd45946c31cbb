// Demo: a Workers module with routing, JSON and a streamed body.
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/json") return Response.json({ greeting: env.GREETING, at: new Date().toISOString() });
    if (url.pathname === "/stream") {
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
    ctx.waitUntil(Promise.resolve().then(() => console.log("served", url.pathname)));
    return new Response(`${env.GREETING}! Try /json and /stream.\n`, { headers: { "content-type": "text/plain" } });
  },
};
