/**
 * The captured host bridge and the op table. Trusted guest code only: user code
 * never sees `host` (it is deleted from the global before user code runs).
 */
import type { HostBridge, OpKind } from "../../bridge/protocol.ts";

declare const globalThis: { __verge_host?: HostBridge } & Record<string, unknown>;

/** Builtins captured before user code can replace them. */
export const primordials = {
  JSONStringify: JSON.stringify,
  JSONParse: JSON.parse,
  ObjectKeys: Object.keys,
  ObjectDefineProperty: Object.defineProperty,
  ObjectFreeze: Object.freeze,
  ArrayIsArray: Array.isArray,
  PromiseResolve: Promise.resolve.bind(Promise),
  MapCtor: Map,
  DateCtor: Date,
  String,
  ErrorCaptureStackTrace: (Error as unknown as { captureStackTrace?: (o: object) => void }).captureStackTrace,
};

function captureHost(): HostBridge {
  const h = globalThis.__verge_host;
  if (h === undefined) throw new Error("verge prelude: host bridge missing");
  delete globalThis.__verge_host;
  return h;
}

export const host: HostBridge = captureHost();

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

const pending = new Map<number, Pending>();
let nextOpId = 1;

/** Starts an async host op and returns a promise settled by `settleOp`. */
export function callOp<T = unknown>(kind: OpKind, payload: unknown): Promise<T> {
  return startOp<T>(kind, payload).done;
}

/** {@link callOp}, with the op's id: the caller may cancel it with {@link cancelOp}. */
export function startOp<T = unknown>(kind: OpKind, payload: unknown): { id: number; done: Promise<T> } {
  const id = nextOpId++;
  const done = new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    try {
      host.startOp(id, kind, payload);
    } catch (e) {
      pending.delete(id);
      reject(e);
    }
  });
  return { id, done };
}

/**
 * Tells the host the caller gave up on op `id` (an aborted fetch): the host cancels
 * the work and frees what it holds for it (the request, its response body). The op
 * may still settle; nobody is waiting for it then.
 */
export function cancelOp(id: number): void {
  callOp("cancel", { op: id }).catch(() => {});
}

/**
 * Settles an op. A failed op's value is `{ name, message }`; it is rethrown as
 * the matching error class (TypeError, DOMException by name, or Error).
 */
export function settleOp(id: number, ok: boolean, value: unknown): void {
  const p = pending.get(id);
  if (p === undefined) return;
  pending.delete(id);
  if (ok) p.resolve(value);
  else p.reject(reviveHostError(value));
}

/** The built-in class another Worker's exception keeps through a service binding (workerd: any other arrives as an Error). */
function remoteClass(name: string): new (message: string) => Error {
  switch (name) {
    case "TypeError":
      return TypeError;
    case "RangeError":
      return RangeError;
    case "SyntaxError":
      return SyntaxError;
    case "ReferenceError":
      return ReferenceError;
    case "EvalError":
      return EvalError;
    case "URIError":
      return URIError;
    default:
      return Error;
  }
}

export function reviveHostError(value: unknown): Error {
  const v = (value ?? {}) as { name?: string; message?: string; remote?: boolean };
  const name = typeof v.name === "string" ? v.name : "Error";
  const message = typeof v.message === "string" ? v.message : "host operation failed";
  if (v.remote === true) {
    // Another Worker's exception, as workerd passes it to the caller of a service binding.
    const e = new (remoteClass(name))(message);
    (e as Error & { remote: boolean }).remote = true;
    return e;
  }
  if (name === "TypeError") return new TypeError(message);
  if (name === "RangeError") return new RangeError(message);
  const DOMExceptionCtor = (globalThis as Record<string, unknown>).DOMException as
    | (new (message: string, name: string) => Error)
    | undefined;
  if (DOMExceptionCtor !== undefined && name !== "Error") return new DOMExceptionCtor(message, name);
  const e = new Error(message);
  e.name = name;
  return e;
}

/**
 * Forgets every pending op without settling it: the invocation that started them is over, and
 * the host never settles an ended invocation's ops. What awaited them stays pending (a cancelled
 * invocation's code does not run on); the map does not keep them.
 */
export function dropAllOps(): void {
  pending.clear();
}

/** Rejects every pending op (used when an invocation is abandoned). */
export function rejectAllOps(reason: string): void {
  for (const [id, p] of pending) {
    pending.delete(id);
    p.reject(new Error(reason));
  }
}
