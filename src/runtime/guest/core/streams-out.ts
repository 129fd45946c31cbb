/** Guest streams read by the host (a function's streaming response body), one chunk per pull. */
import { host } from "./host.ts";
import { toGuestError } from "./errors.ts";

type Reader = { read(): Promise<{ done: boolean; value?: unknown }>; cancel(reason?: unknown): Promise<void> };

const streams = new Map<number, Reader>();
let nextId = 1;

export function registerOutgoing(stream: { getReader(): Reader }): number {
  const id = nextId++;
  streams.set(id, stream.getReader());
  return id;
}

export function pull(id: number): void {
  const reader = streams.get(id);
  if (reader === undefined) {
    host.chunk(id, null);
    return;
  }
  reader.read().then(
    ({ done, value }) => {
      if (done) {
        streams.delete(id);
        host.chunk(id, null);
      } else if (value instanceof Uint8Array) {
        host.chunk(id, value);
      } else if (ArrayBuffer.isView(value)) {
        host.chunk(id, new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      } else if (value instanceof ArrayBuffer) {
        host.chunk(id, new Uint8Array(value));
      } else {
        streams.delete(id);
        host.emit({
          type: "chunk-error",
          stream: id,
          error: { name: "TypeError", message: "This ReadableStream did not return bytes.", stack: "" },
        });
      }
    },
    (e) => {
      streams.delete(id);
      host.emit({ type: "chunk-error", stream: id, error: toGuestError(e) });
    },
  );
}

export function cancelOutgoing(id: number, reason: string): void {
  const reader = streams.get(id);
  streams.delete(id);
  if (reader !== undefined) reader.cancel(reason).catch(() => {});
}

export function cancelAllOutgoing(): void {
  for (const id of [...streams.keys()]) cancelOutgoing(id, "invocation finished");
}
