/**
 * A host-side stream (an incoming request body, a fetched response body) seen
 * from the guest: a byte ReadableStream that pulls one chunk per "stream.read"
 * op and cancels with "stream.cancel". Nothing is read ahead (highWaterMark 0).
 */
import { callOp } from "../core/host.ts";
import { ReadableStream, chunkBytes } from "./streams.ts";
import type { ReadableByteStreamController } from "./streams.ts";
import type { AbortSignalLike } from "./webidl.ts";

export function hostStream(id: number, signal?: AbortSignalLike | null): ReadableStream<Uint8Array> {
  let finished = false;
  let controller: ReadableByteStreamController;
  const release = () => {
    finished = true;
    signal?.removeEventListener("abort", onAbort);
  };
  const cancelHost = () => callOp("stream.cancel", { stream: id }).then(
    () => undefined,
    () => undefined,
  );
  // Fetch "abort fetch": a body still being read errors with the signal's reason.
  const onAbort = () => {
    if (finished) return;
    release();
    controller.error(signal!.reason);
    void cancelHost();
  };
  return new ReadableStream({
    type: "bytes",
    start(c) {
      controller = c;
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    },
    async pull(c) {
      // An empty chunk enqueues nothing, and the stream would not pull again: loop past it.
      for (;;) {
        let chunk: unknown;
        try {
          chunk = await callOp("stream.read", { stream: id });
        } catch (e) {
          release();
          throw e;
        }
        if (finished) return;
        if (chunk === null || chunk === undefined) {
          release();
          c.close();
          // A pending BYOB read is answered by respond(0) after close.
          c.byobRequest?.respond(0);
          return;
        }
        const bytes = chunkBytes(chunk);
        if (bytes.byteLength > 0) {
          c.enqueue(bytes);
          return;
        }
      }
    },
    cancel() {
      if (finished) return;
      release();
      return cancelHost();
    },
  });
}
