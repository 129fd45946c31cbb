/**
 * A web `Response` from the plain parts the child host sends (a streamed body
 * stays streamed). `bufferBytes`: how much of a streamed body to take ahead of
 * the reader, as a client's socket buffers take a server's writes (default: one
 * chunk). `signal`: an abort after the response errors its streamed body, as
 * `fetch` does (undici), and stops the source.
 */
type ResponseBody = NonNullable<ConstructorParameters<typeof Response>[0]>;
const NULL_BODY = new Set([101, 204, 205, 304]);

export function toResponse(status: number, statusText: string, headers: Array<[string, string]>, body: Uint8Array | AsyncIterable<Uint8Array> | null, bufferBytes?: number, signal?: AbortSignal): Response {
  let stream: ResponseBody | null = null;
  if (body instanceof Uint8Array) stream = body.byteLength > 0 ? (body as Uint8Array<ArrayBuffer>) : null;
  else if (body !== null) {
    const it = body[Symbol.asyncIterator]();
    let onAbort: (() => void) | undefined;
    stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (signal === undefined) return;
        onAbort = () => {
          controller.error(signal.reason);
          it.return?.()?.catch(() => {});
        };
        signal.addEventListener("abort", onAbort, { once: true });
      },
      async pull(controller) {
        const r = await it.next();
        if (signal?.aborted) return;
        if (r.done) {
          if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
          controller.close();
        } else controller.enqueue(r.value);
      },
      async cancel() {
        if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
        await it.return?.();
      },
    }, bufferBytes === undefined ? undefined : new ByteLengthQueuingStrategy({ highWaterMark: bufferBytes })) as unknown as ResponseBody;
  }
  const h = new Headers();
  for (const [k, v] of headers) h.append(k, v);
  return new Response(NULL_BODY.has(status) ? null : stream, { status, statusText, headers: h });
}
