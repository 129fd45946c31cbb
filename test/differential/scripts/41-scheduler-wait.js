// Exercises: Workers' scheduler.wait(ms): it resolves with undefined after the
// delay, in order with timers; an AbortSignal aborted before or during the wait
// rejects it, with workerd's copy of the reason (a string, an Error, a
// TypeError, the default AbortError), never the reason object itself.
export const requests = [{ name: "scheduler.wait", path: "/" }];

export default {
  async fetch() {
    const log = [];
    setTimeout(() => log.push("timer 5"), 5);
    const value = await scheduler.wait(20);
    log.push("waited 20");
    const out = {};
    for (const [kind, reason] of [["string", "stop"], ["error", new Error("boom")], ["typeerror", new TypeError("tt")], ["number", 42], ["default", undefined]]) {
      const describe = (e) => [e?.name, String(e), e === reason];
      const c = new AbortController();
      const during = scheduler.wait(10_000, { signal: c.signal }).then(() => "resolved", describe);
      reason === undefined ? c.abort() : c.abort(reason);
      out[kind] = await during;
      out[`${kind} before`] = await scheduler.wait(1, { signal: reason === undefined ? AbortSignal.abort() : AbortSignal.abort(reason) }).then(() => "resolved", describe);
    }
    return Response.json({ value: value === undefined, log, out, type: typeof scheduler.wait });
  },
};
