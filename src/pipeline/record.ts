/**
 * The request's record, emitted once when its response body has been sent,
 * cancelled or failed, so `bytesOut` is what went out; the response itself is
 * never held back for it. Invocation CPU and wall times are those reported by
 * then (an invocation's report settles when its body and waitUntil are done).
 */
import { partsOf } from "../shared/http.ts";
import type { CacheResult, RequestRecord } from "./types.ts";
import type { InvocationEntry } from "./flow.ts";

export interface RecordDraft {
  requestId: string;
  /** ms (the pipeline's clock) when the request arrived; the record's `at`. */
  started: number;
  method: string;
  host: string;
  path: string;
  distribution: string | null;
  cache: CacheResult | null;
  invocations: InvocationEntry[];
  error?: { code: string; message: string };
}

/** `new Date(ms).toISOString()`, reused while the millisecond is the same (many records share one under load). */
let lastMs = NaN;
let lastIso = "";
function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/** Callbacks for the next turn of the event loop: one `setImmediate` for all the responses of this one. */
let pending: Array<() => void> | null = null;

function later(fn: () => void): void {
  if (pending === null) {
    pending = [];
    setImmediate(runPending);
  }
  pending.push(fn);
}

function runPending(): void {
  const due = pending ?? [];
  pending = null;
  for (const fn of due) {
    try {
      fn();
    } catch {
      // finish() guards its listener; nothing else here may stop the others
    }
  }
}

/** Returns `response` with its body counted; calls `emit` once with the finished record. */
export function withRecord(response: Response, draft: RecordDraft, now: () => number, emit: ((r: RequestRecord) => void) | undefined): Response {
  if (emit === undefined) return response;
  const finish = finisher(response.status, draft, now, emit);
  // A body in memory goes out whole (or not at all, when the viewer left first).
  const known = partsOf(response);
  if (known !== undefined || response.body === null) {
    // Let invocations that already ended report their times first.
    const bytes = known?.body?.byteLength ?? 0;
    later(() => finish(bytes));
    return response;
  }
  const reader = response.body.getReader();
  let bytes = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = await reader.read();
        if (r.done) {
          controller.close();
          finish(bytes);
        } else {
          bytes += r.value.byteLength;
          controller.enqueue(r.value);
        }
      } catch (err) {
        finish(bytes, err);
        controller.error(err);
      }
    },
    cancel(reason) {
      finish(bytes, reason ?? new Error("the viewer went away"));
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** The record of a response whose body (`bytes` long) is in memory and goes out whole: emitted on the next turn, as {@link withRecord} does. */
export function recordSent(status: number, bytes: number, draft: RecordDraft, now: () => number, emit: ((r: RequestRecord) => void) | undefined): void {
  if (emit === undefined) return;
  const finish = finisher(status, draft, now, emit);
  later(() => finish(bytes));
}

/** `finish(bytes, failure?)`: builds and emits the record, the first time only. */
function finisher(status: number, draft: RecordDraft, now: () => number, emit: (r: RequestRecord) => void): (bytes: number, failure?: unknown) => void {
  let done = false;
  return (bytes, failure) => {
    if (done) return;
    done = true;
    const record: RequestRecord = {
      requestId: draft.requestId,
      at: isoTime(draft.started),
      method: draft.method,
      host: draft.host,
      path: draft.path,
      status,
      cache: draft.cache,
      distribution: draft.distribution,
      invocations: draft.invocations.map((i) => ({ ...i })),
      bytesOut: bytes,
      durationMs: Math.max(0, now() - draft.started),
    };
    if (draft.error !== undefined) record.error = draft.error;
    else if (failure !== undefined) record.error = { code: "ERR_RESPONSE_ABORTED", message: failure instanceof Error ? failure.message : String(failure) };
    try {
      emit(record);
    } catch {
      // a failing listener must not fail the response
    }
  };
}
