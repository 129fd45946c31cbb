/**
 * Worker → primary requests, for what only the primary knows or does: the
 * worker list for `/_verge/health`, metrics summed over workers. One IPC round
 * trip (~60 µs) each: for operator routes, never for the request hot path.
 */
import { VergeError, type VergeErrorCode } from "../../src/shared/errors.ts";
import { isMessage } from "./messages.ts";

/** Worker → primary. */
export interface RequestMessage {
  type: "verge:request";
  id: number;
  kind: string;
  payload: unknown;
}

/** Primary → worker, answering the request with the same `id`. */
export type ReplyMessage =
  | { type: "verge:reply"; id: number; ok: true; value: unknown }
  | { type: "verge:reply"; id: number; ok: false; error: { code: string; message: string } };

export type RequestHandler = (payload: unknown, from: { id: number; pid: number }) => unknown;

/** Primary side: answers `verge:request` messages with the handler registered for their kind. */
export function createRequestRouter() {
  const handlers = new Map<string, RequestHandler>();
  return {
    on(kind: string, handler: RequestHandler): () => void {
      handlers.set(kind, handler);
      return () => void (handlers.get(kind) === handler && handlers.delete(kind));
    },
    /** Handles `message` when it is a request; `reply` sends the answer back to the worker. */
    handle(message: unknown, from: { id: number; pid: number }, reply: (m: ReplyMessage) => void): boolean {
      if (!isMessage(message) || message.type !== "verge:request") return false;
      const { id, kind, payload } = message as unknown as RequestMessage;
      const handler = handlers.get(kind);
      const fail = (code: string, text: string) => reply({ type: "verge:reply", id, ok: false, error: { code, message: text } });
      if (handler === undefined) {
        fail("ERR_NO_SUCH_REQUEST", `supervisor: no handler for request "${kind}"; expected one registered with onRequest("${kind}", …)`);
        return true;
      }
      Promise.resolve()
        .then(() => handler(payload, from))
        .then(
          (value) => reply({ type: "verge:reply", id, ok: true, value }),
          (err: { code?: unknown; message?: unknown }) => fail(typeof err?.code === "string" ? err.code : "ERR_REQUEST_FAILED", String(err?.message ?? err)),
        );
      return true;
    },
  };
}

/** Worker side: sends requests and settles them from `verge:reply` messages. */
export function createRequester(send: ((m: RequestMessage) => void) | null) {
  let next = 0;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  return {
    request(kind: string, payload: unknown = null, timeoutMs = 5_000): Promise<unknown> {
      if (send === null) {
        return Promise.reject(new VergeError("ERR_NOT_SUPERVISED", `request "${kind}": this process runs alone, not under the supervisor; expected a cluster worker`));
      }
      const id = ++next;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new VergeError("ERR_SUPERVISOR_TIMEOUT", `request "${kind}": the primary did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
        timer.unref();
        pending.set(id, { resolve, reject, timer });
        send({ type: "verge:request", id, kind, payload });
      });
    },
    /** True when `message` was a reply (and is now settled). */
    settle(message: unknown): boolean {
      if (!isMessage(message) || message.type !== "verge:reply") return false;
      const reply = message as unknown as ReplyMessage;
      const p = pending.get(reply.id);
      if (p === undefined) return true;
      pending.delete(reply.id);
      clearTimeout(p.timer);
      if (reply.ok) p.resolve(reply.value);
      else p.reject(new VergeError(reply.error.code as VergeErrorCode, reply.error.message));
      return true;
    },
  };
}
