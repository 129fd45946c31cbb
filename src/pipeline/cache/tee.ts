/**
 * Streams an origin body to the viewer chunk by chunk while keeping a copy
 * for the cache, up to a limit. The copy is handed over only when the origin
 * body ended completely; a body that errors, outgrows the limit, or that the
 * viewer cancels is abandoned (the viewer's stream is unaffected by the limit).
 * The stream is pull-driven: the origin is read as fast as the viewer reads.
 */
import { concatBytes } from "../../shared/http.ts";

export type AbandonReason = "oversize" | "error" | "cancel" | "not-bytes";

export interface TeeHandlers {
  /** Once, after the last chunk, with the whole body (within the limit). */
  complete(body: Uint8Array): void;
  /** Once, when the body will not be stored. */
  abandon(reason: AbandonReason): void;
}

/**
 * @example
 * const body = teeIntoCache(res.body!, 10 << 20, { complete: (b) => store(b), abandon: () => {} });
 * return new Response(body, res);
 */
export function teeIntoCache(body: ReadableStream<Uint8Array>, limit: number, handlers: TeeHandlers): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let chunks: Uint8Array[] = [];
  let length = 0;
  let settled = false;
  const abandon = (reason: AbandonReason): void => {
    if (settled) return;
    settled = true;
    chunks = [];
    handlers.abandon(reason);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let step: Awaited<ReturnType<typeof reader.read>>;
        try {
          step = await reader.read();
        } catch (err) {
          abandon("error");
          controller.error(err);
          return;
        }
        if (step.done) {
          controller.close();
          if (!settled) {
            settled = true;
            const whole = concatBytes(chunks, length);
            chunks = [];
            handlers.complete(whole);
          }
          return;
        }
        const chunk = step.value;
        if (!settled) {
          if (!(chunk instanceof Uint8Array)) abandon("not-bytes");
          else if (length + chunk.byteLength > limit) abandon("oversize");
          else {
            // A copy: the viewer side owns (and may transfer) the chunk it is given.
            chunks.push(chunk.slice());
            length += chunk.byteLength;
          }
        }
        controller.enqueue(chunk);
      },
      async cancel(reason) {
        abandon("cancel");
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
