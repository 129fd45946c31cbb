// Exercises: ReadableStream tee() (both branches see every chunk), async iteration
// with for await...of, ReadableStream.from() where present, reader.cancel() and
// the underlying source's cancel(reason), a WritableStream sink collecting writes,
// and locked/desiredSize.
export const requests = [{ name: "tee and iterate", path: "/" }];

export default {
  async fetch() {
    const out = {};
    const make = () =>
      new ReadableStream({
        start(c) {
          ["a", "b", "c"].forEach((x) => c.enqueue(x));
          c.close();
        },
      });
    const [l, r] = make().tee();
    const left = [];
    for await (const chunk of l) left.push(chunk);
    const right = [];
    for await (const chunk of r) right.push(chunk);
    out.tee = [left, right];
    out.from = typeof ReadableStream.from === "function" ? await (async () => {
      const got = [];
      for await (const x of ReadableStream.from([1, 2, 3])) got.push(x);
      return got;
    })() : "missing";
    let cancelReason = null;
    const cancellable = new ReadableStream({ pull: (c) => c.enqueue("x"), cancel: (reason) => { cancelReason = reason; } }, { highWaterMark: 0 });
    const reader = cancellable.getReader();
    out.locked = cancellable.locked;
    out.first = await reader.read();
    await reader.cancel("stop");
    out.cancelReason = cancelReason;
    out.afterCancel = await reader.read();
    const written = [];
    const ws = new WritableStream({ write: (chunk) => { written.push(chunk); }, close: () => { written.push("closed"); } }, { highWaterMark: 2 });
    const w = ws.getWriter();
    out.desiredSize = w.desiredSize;
    await w.write("one");
    await w.write("two");
    await w.close();
    out.written = written;
    return Response.json(out);
  },
};
