// Exercises: ctx.waitUntil: the response is returned while the waitUntil work (a
// 1500 ms timer) is still pending; the body is computed before it ends. The test
// also checks the response arrives well before the timer would fire.
export const requests = [{ name: "response before waitUntil ends", path: "/", maxMs: 1200 }];

export default {
  async fetch(request, env, ctx) {
    const events = [];
    let done = false;
    ctx.waitUntil(
      new Promise((resolve) => {
        setTimeout(() => {
          done = true;
          resolve();
        }, 1500);
      }),
    );
    ctx.waitUntil(Promise.resolve().then(() => events.push("microtask waitUntil ran")));
    await null;
    events.push(`handler returning, done=${done}`);
    return Response.json({ events, typeofWaitUntil: typeof ctx.waitUntil, typeofPassThrough: typeof ctx.passThroughOnException });
  },
};
