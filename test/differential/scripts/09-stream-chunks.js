// Exercises: a ReadableStream response body produced chunk by chunk with pull()
// and an await between chunks, enqueueing strings encoded with TextEncoder, a
// start()-based stream closed asynchronously, and the byte total.
export const requests = [
  { name: "pull", path: "/pull" },
  { name: "start", path: "/start" },
  { name: "empty stream", path: "/empty" },
];

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const enc = new TextEncoder();
    if (pathname === "/pull") {
      let i = 0;
      const stream = new ReadableStream({
        async pull(controller) {
          await new Promise((r) => setTimeout(r, 2));
          if (i === 5) return controller.close();
          controller.enqueue(enc.encode(`chunk ${i++}\n`));
        },
      });
      return new Response(stream, { headers: { "content-type": "text/plain; charset=utf-8" } });
    }
    if (pathname === "/start") {
      const stream = new ReadableStream({
        start(controller) {
          controller.enqueue(enc.encode("first|"));
          queueMicrotask(() => controller.enqueue(enc.encode("microtask|")));
          setTimeout(() => {
            controller.enqueue(enc.encode("timer"));
            controller.close();
          }, 1);
        },
      });
      return new Response(stream);
    }
    return new Response(new ReadableStream({ start: (c) => c.close() }));
  },
};
