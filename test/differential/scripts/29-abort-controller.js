// Exercises: AbortController/AbortSignal: abort() default reason (AbortError
// DOMException), a custom reason, the abort event and onabort firing once,
// throwIfAborted, AbortSignal.abort(), AbortSignal.any(), AbortSignal.timeout()
// (TimeoutError), and pipeTo() stopped by a signal (pre-aborted and mid-flow).
export const requests = [{ name: "abort", path: "/" }];

export default {
  async fetch() {
    const out = {};
    const c = new AbortController();
    const events = [];
    c.signal.addEventListener("abort", (e) => events.push(`listener:${e.type}:${e.target === c.signal}`));
    c.signal.onabort = () => events.push("onabort");
    out.before = c.signal.aborted;
    c.abort();
    c.abort();
    out.after = c.signal.aborted;
    out.events = events;
    out.defaultReason = [c.signal.reason instanceof DOMException, c.signal.reason.name, c.signal.reason.code];
    try {
      c.signal.throwIfAborted();
    } catch (e) {
      out.throwIfAborted = e === c.signal.reason;
    }
    const custom = new AbortController();
    custom.abort("my reason");
    out.customReason = custom.signal.reason;
    const pre = AbortSignal.abort(new Error("pre"));
    out.static = [pre.aborted, pre.reason.message];
    const a = new AbortController();
    const b = new AbortController();
    const any = AbortSignal.any([a.signal, b.signal]);
    b.abort("from b");
    out.any = [any.aborted, any.reason];
    const t = AbortSignal.timeout(5);
    await new Promise((resolve) => t.addEventListener("abort", resolve));
    out.timeout = [t.aborted, t.reason.name];
    // pipeTo with a signal: aborted before the pipe starts, and aborted while
    // chunks flow. (Not while the source's pull() is pending forever: workerd
    // then never rejects the pipe and cancels the request as hung.)
    let sinkAbort = null;
    const stalled = new ReadableStream({ pull: () => new Promise(() => {}) });
    out.pipeToPreAborted = await stalled
      .pipeTo(new WritableStream({ abort: (r) => { sinkAbort = r.name; } }), { signal: AbortSignal.abort() })
      .then(() => "resolved", (e) => `rejected ${e.name}`);
    out.pipeToPreAbortedSink = [sinkAbort, stalled.locked];
    let n = 0;
    const pc = new AbortController();
    const flowing = new ReadableStream({ pull: (ctl) => ctl.enqueue(n++) });
    const written = [];
    out.pipeToFlowing = await flowing
      .pipeTo(new WritableStream({ write(x) { written.push(x); if (x === 3) pc.abort(); } }), { signal: pc.signal })
      .then(() => "resolved", (e) => `rejected ${e.name}`);
    out.pipeToFlowingWritten = written;
    return Response.json(out);
  },
};
