// Exercises: setTimeout inside a handler: ordering against microtasks and
// queueMicrotask, timers with equal and different delays, clearTimeout,
// setInterval with clearInterval after three ticks, extra arguments passed to the
// callback, and a numeric-ish timer id.
export const requests = [{ name: "timers", path: "/" }];

export default {
  async fetch() {
    const log = [];
    const done = new Promise((resolve) => {
      setTimeout(() => log.push("t10"), 10);
      setTimeout(() => log.push("t0-a"), 0);
      setTimeout((x, y) => log.push(`t0-b ${x} ${y}`), 0, "arg1", "arg2");
      const cancelled = setTimeout(() => log.push("cancelled!"), 1);
      clearTimeout(cancelled);
      Promise.resolve().then(() => log.push("promise"));
      queueMicrotask(() => log.push("microtask"));
      let ticks = 0;
      const iv = setInterval(() => {
        log.push(`tick ${++ticks}`);
        if (ticks === 3) {
          clearInterval(iv);
          setTimeout(() => resolve(), 15);
        }
      }, 1);
      log.push("sync");
    });
    await done;
    const id = setTimeout(() => {}, 0);
    clearTimeout(id);
    // Intervals of 1 ms may interleave with the 10 ms timer; report the relative order that is defined.
    const ticks = log.filter((l) => l.startsWith("tick"));
    return Response.json({ start: log.slice(0, 5), ticks, hasT10: log.includes("t10"), cancelled: log.includes("cancelled!"), idType: typeof id === "number" || typeof id === "object" });
  },
};
