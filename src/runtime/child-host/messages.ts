/**
 * Messages between a parent and its child-process host (JSON frames with
 * byte attachments over a pipe, see channel.ts, so Uint8Array travels as bytes).
 */
import type { SerializedError } from "../../shared/errors.ts";
import type { HeaderList } from "../../shared/http.ts";
import type { Limits } from "../../shared/limits.ts";
import type { BindingDecl } from "../bindings/index.ts";
import type { FunctionSource } from "../sandbox.ts";
import type { InvocationReport } from "../invocation.ts";
import type { FetchPolicy } from "../fetch-guard.ts";
import type { LogEntry } from "../report.ts";
import type { ServiceCall } from "../host-services.ts";

/** Serializable description of one function: what the child turns into a FunctionSpec. */
export interface FunctionDecl {
  source: FunctionSource;
  limits: Limits;
  bindings: Record<string, BindingDecl>;
  /**
   * Set when the child program extends this host (client.ts `program`,
   * child.ts `extendHost`) to route this function's fetch calls, as the
   * harness routes them through its edge pipeline: `data` is that program's
   * and opaque here; `answerWithinMs` is the watchdog's budget for such a
   * call, which then covers the answer only (the body may be an origin's, as
   * long as it takes; the runtime still holds the function to its budgets).
   */
  route?: { data: unknown; answerWithinMs: number };
}

export interface ChildConfig {
  fetch?: FetchPolicy;
  /** The parent answers service binding calls (ChildRuntimeOptions.service); else they fail in the child. */
  serviceBindings?: boolean;
  idleMemoryBytes?: number;
  forwardLogs?: boolean;
}

export interface WireRequest {
  method: string;
  url: string;
  headers: HeaderList;
  /** "stream": the child asks for chunks with req-read. */
  body: Uint8Array | null | "stream";
}

export type ToChild =
  | { t: "config"; config: ChildConfig }
  | { t: "register"; fn: number; decl: FunctionDecl }
  | { t: "unregister"; fn: number }
  | { t: "load"; id: number; fn: number }
  | { t: "fetch"; id: number; fn: number; request: WireRequest; opts: { cf?: Record<string, unknown>; eventType?: "viewer-request" | "origin-request"; clientIp?: string } }
  | { t: "event"; id: number; fn: number; event: unknown }
  | { t: "scheduled"; id: number; fn: number; cron: string; time: number }
  | { t: "read"; id: number }
  | { t: "cancel"; id: number }
  | { t: "req-chunk"; id: number; chunk: Uint8Array | null }
  /** The peer of the WebSocket fetch call `id` answered with (its response's `webSocket: true`) sent a message, closed, or is gone. */
  | { t: "ws-send"; id: number; data: string | Uint8Array }
  | { t: "ws-close"; id: number; code?: number; reason?: string }
  | { t: "ws-abort"; id: number }
  /** A host-side call on a binding (the harness's getKVNamespace): answered by "ok" with a `BindingCallResult`. */
  | { t: "binding"; id: number; name: string; decl: BindingDecl; method: string; args: unknown[] }
  | ServiceToChild;

/** An error as it crosses: the receiver throws the same class (TypeError, RangeError, else Error). */
export interface WireError {
  name: string;
  message: string;
  /** Another Worker's exception passed through a service binding (verge dev's Workers): the caller rejects with it as workerd does. */
  remote?: true;
}

/** A function's service binding call, from the child to the parent that runs the target (service-calls.ts). */
export type ServiceToParent =
  | { t: "service"; sid: number; call: ServiceCall; request: WireRequest & { body: Uint8Array | null } }
  /** The next chunk of a streamed response body. */
  | { t: "service-read"; sid: number }
  /** The caller gave up: abort the handler, drop the body. */
  | { t: "service-cancel"; sid: number };

export type ServiceToChild =
  | { t: "service-res"; sid: number; ok: true; response: { status: number; statusText: string; headers: HeaderList; body: Uint8Array | null | "stream" } }
  | { t: "service-res"; sid: number; ok: false; error: WireError }
  /** `chunk` null: the end (or, with `error`, the body failed). */
  | { t: "service-chunk"; sid: number; chunk: Uint8Array | null; error?: WireError };

/** A binding call's outcome: errors cross as `{ name, message }` so the caller throws the same class. */
export type BindingCallResult = { ok: true; value: unknown } | { ok: false; error: { name: string; message: string } };

export type ToParent =
  /** The answer; `report` too when the invocation was already over (one message instead of two). */
  | { t: "ok"; id: number; value: unknown; report?: WireReport }
  /** `reporting`: the invocation ran and its report follows in a "finished" message. */
  | { t: "err"; id: number; error: SerializedError; reporting?: true }
  | { t: "chunk"; id: number; chunk: Uint8Array | null }
  | { t: "chunk-err"; id: number; error: SerializedError }
  | { t: "finished"; id: number; report: WireReport }
  | { t: "req-read"; id: number }
  | { t: "log"; fn: string; entry: LogEntry }
  /** The function sent on the WebSocket of fetch call `id`, or closed it (1006: the connection failed). */
  | { t: "ws-msg"; id: number; data: string | Uint8Array }
  | { t: "ws-close"; id: number; code: number; reason: string }
  | ServiceToParent;

export type WireReport = Omit<InvocationReport, "error" | "waitUntilErrors"> & {
  error?: SerializedError;
  waitUntilErrors: SerializedError[];
};
