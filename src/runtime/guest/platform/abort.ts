/**
 * AbortController and AbortSignal (DOM §3.1, https://dom.spec.whatwg.org/#aborting-ongoing-activities).
 *
 * Trusted guest code (fetch, streams) can react to an abort without going
 * through event listeners user code could stop, with `onAbort(signal, fn)`.
 *
 * Deviation: the spec holds dependent signals of `AbortSignal.any` weakly.
 * isolated-vm runs no WeakRef/FinalizationRegistry cleanup, so sources hold
 * their dependents strongly until either side aborts.
 *
 * @example
 * const signal = AbortSignal.any([AbortSignal.timeout(1000), controller.signal]);
 * signal.throwIfAborted();
 */
import { guestSetTimeout } from "../core/timers.ts";
import { DOMException } from "./dom-exception.ts";
import { Event, EventTarget, defineEventHandler } from "./events.ts";

type AbortAlgorithm = (reason: unknown) => void;

const CONSTRUCT = Symbol("AbortSignal.construct");

// Assigned by the class static block (private-name brand checks live inside the class body).
let isAbortSignalImpl: (v: unknown) => v is AbortSignal;
let signalAbortImpl: (signal: AbortSignal, reason: unknown) => void;
let addAlgorithmImpl: (signal: AbortSignal, fn: AbortAlgorithm) => () => void;

export class AbortSignal extends EventTarget {
  #aborted = false;
  #reason: unknown = undefined;
  #algorithms = new Set<AbortAlgorithm>();
  /** For a dependent signal (AbortSignal.any): its sources. For a source: the dependents. */
  #sources = new Set<AbortSignal>();
  #dependents = new Set<AbortSignal>();
  #dependent = false;

  constructor(token?: unknown) {
    if (token !== CONSTRUCT) throw new TypeError("Illegal constructor");
    super();
  }

  get aborted(): boolean {
    return brand(this).#aborted;
  }

  get reason(): unknown {
    return brand(this).#reason;
  }

  throwIfAborted(): void {
    const s = brand(this);
    if (s.#aborted) throw s.#reason;
  }

  /** @example AbortSignal.abort() // aborted, reason is a DOMException "AbortError" */
  static abort(reason?: unknown): AbortSignal {
    const s = new AbortSignal(CONSTRUCT);
    s.#aborted = true;
    s.#reason = reason === undefined ? new DOMException("The operation was aborted", "AbortError") : reason;
    return s;
  }

  /** A signal that aborts with a "TimeoutError" DOMException after `ms` milliseconds. */
  static timeout(ms: number): AbortSignal {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'timeout' on 'AbortSignal': 1 argument required, but only 0 present.");
    const n = Number(ms);
    // WebIDL [EnforceRange] unsigned long long.
    if (!Number.isFinite(n) || n < 0 || n > Number.MAX_SAFE_INTEGER) {
      throw new TypeError("Failed to execute 'timeout' on 'AbortSignal': Value is outside the 'unsigned long long' value range.");
    }
    const s = new AbortSignal(CONSTRUCT);
    // The guest's own timer, not the global user code may have replaced.
    guestSetTimeout(() => signalAbort(s, new DOMException("The operation was aborted due to timeout", "TimeoutError")), Math.trunc(n));
    return s;
  }

  /** A signal that aborts when any of `signals` aborts, with that signal's reason. */
  static any(signals: Iterable<AbortSignal>): AbortSignal {
    if (signals === null || typeof signals !== "object" || typeof (signals as Iterable<unknown>)[Symbol.iterator] !== "function") {
      throw new TypeError("Failed to execute 'any' on 'AbortSignal': The provided value cannot be converted to a sequence.");
    }
    const list = [...signals];
    for (const x of list) {
      if (!isAbortSignal(x)) throw new TypeError("Failed to execute 'any' on 'AbortSignal': Failed to convert value to 'AbortSignal'.");
    }
    const result = new AbortSignal(CONSTRUCT);
    for (const x of list) {
      if (x.#aborted) {
        result.#aborted = true;
        result.#reason = x.#reason;
        return result;
      }
    }
    result.#dependent = true;
    for (const x of list) {
      // Link to the non-dependent sources only, so chains of any() stay flat (spec steps 4.2).
      const sources = x.#dependent ? [...x.#sources] : [x];
      for (const src of sources) {
        if (src.#aborted) continue;
        result.#sources.add(src);
        src.#dependents.add(result);
      }
    }
    return result;
  }

  static {
    isAbortSignalImpl = (v: unknown): v is AbortSignal => typeof v === "object" && v !== null && #aborted in v;
    signalAbortImpl = (signal: AbortSignal, reason: unknown) => {
      if (signal.#aborted) return;
      signal.#aborted = true;
      signal.#reason = reason === undefined ? new DOMException("The operation was aborted", "AbortError") : reason;
      // DOM "signal abort": mark every dependent aborted first, then run algorithms and fire events.
      const dependents: AbortSignal[] = [];
      for (const d of signal.#dependents) {
        if (d.#aborted) continue;
        d.#aborted = true;
        d.#reason = signal.#reason;
        dependents.push(d);
      }
      unlink(signal);
      runAbortSteps(signal);
      for (const d of dependents) {
        unlink(d);
        runAbortSteps(d);
      }
    };
    const unlink = (s: AbortSignal) => {
      for (const d of s.#dependents) d.#sources.delete(s);
      for (const src of s.#sources) src.#dependents.delete(s);
      s.#dependents.clear();
      s.#sources.clear();
    };
    const runAbortSteps = (s: AbortSignal) => {
      const algorithms = [...s.#algorithms];
      s.#algorithms.clear();
      for (const fn of algorithms) {
        try {
          fn(s.#reason);
        } catch (e) {
          reportError(e);
        }
      }
      s.dispatchEvent(new Event("abort"));
    };
    addAlgorithmImpl = (s: AbortSignal, fn: AbortAlgorithm) => {
      if (s.#aborted) return () => {};
      s.#algorithms.add(fn);
      return () => void s.#algorithms.delete(fn);
    };
  }
}

function brand(v: AbortSignal): AbortSignal {
  if (!isAbortSignalImpl(v)) throw new TypeError("Illegal invocation");
  return v;
}

function reportError(e: unknown): void {
  try {
    (globalThis as { console?: { error(...a: unknown[]): void } }).console?.error(e);
  } catch {
    // Reporting must never break the abort.
  }
}

defineEventHandler(AbortSignal.prototype, "abort");

/** Brand check usable by trusted code (fetch). */
export function isAbortSignal(value: unknown): value is AbortSignal {
  return isAbortSignalImpl(value);
}

/** DOM "signal abort" for trusted code. */
export function signalAbort(signal: AbortSignal, reason?: unknown): void {
  signalAbortImpl(signal, reason);
}

/**
 * Runs `fn(reason)` once when `signal` aborts, before its "abort" event fires;
 * returns a function that removes it. Does nothing if already aborted.
 */
export function onAbort(signal: AbortSignal, fn: AbortAlgorithm): () => void {
  return addAlgorithmImpl(brand(signal), fn);
}

export class AbortController {
  #signal = new AbortSignal(CONSTRUCT);

  get signal(): AbortSignal {
    if (!(#signal in this)) throw new TypeError("Illegal invocation");
    return this.#signal;
  }

  abort(reason?: unknown): void {
    if (!(#signal in this)) throw new TypeError("Illegal invocation");
    signalAbortImpl(this.#signal, reason);
  }
}
