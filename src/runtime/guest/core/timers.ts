/**
 * setTimeout/setInterval inside the isolate. The host owns the clock: the guest
 * asks for a timer, the host enters the guest with `fireTimer(id)` when it is due.
 * Timers belong to the running invocation and are dropped when it finishes.
 */
import { host } from "./host.ts";
import { defineGlobal } from "./globals.ts";
import { toGuestError } from "./errors.ts";

/** What `scheduler.wait` reads of an AbortSignal (core has no DOM types). */
interface SignalLike {
  aborted: boolean;
  reason: unknown;
  addEventListener(type: "abort", fn: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", fn: () => void): void;
}

interface Timer {
  fn: unknown;
  args: unknown[];
  interval: number | null;
}

const timers = new Map<number, Timer>();
let nextId = 1;

function clampDelay(ms: unknown): number {
  const n = Number(ms);
  return Number.isFinite(n) && n > 0 ? Math.min(n, 2 ** 31 - 1) : 0;
}

function schedule(fn: unknown, ms: unknown, args: unknown[], repeat: boolean): number {
  if (typeof fn !== "function") throw new TypeError("The callback must be a function");
  const id = nextId++;
  const delay = clampDelay(ms);
  timers.set(id, { fn, args, interval: repeat ? Math.max(delay, 1) : null });
  host.setTimer(id, delay);
  return id;
}

function clear(id: unknown): void {
  const n = typeof id === "number" ? id : Number(id);
  if (timers.delete(n)) host.clearTimer(n);
}

export function fireTimer(id: number): void {
  const t = timers.get(id);
  if (t === undefined) return;
  if (t.interval === null) timers.delete(id);
  else host.setTimer(id, t.interval);
  try {
    (t.fn as (...a: unknown[]) => void)(...t.args);
  } catch (e) {
    // As in browsers and Workers: an exception in a timer callback is reported, not fatal.
    const g = toGuestError(e);
    host.log("error", `Uncaught ${g.stack || `${g.name}: ${g.message}`}`);
  }
}

/** setTimeout for trusted guest code (AbortSignal.timeout): the global may have been replaced. */
export function guestSetTimeout(fn: () => void, ms: number): number {
  return schedule(fn, ms, [], false);
}

export function clearAllTimers(): void {
  for (const id of timers.keys()) host.clearTimer(id);
  timers.clear();
}

const ERRORS = ["Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError"];

/**
 * An abort reason as workerd rejects `scheduler.wait` with it: a new error of the
 * same built-in kind with the same message (a DOMException keeps its name), and
 * any other value as `Error(String(value))`; never the reason object itself.
 */
function tunneled(reason: unknown): unknown {
  const g = globalThis as unknown as Record<string, new (message?: string, name?: string) => unknown>;
  if (typeof reason === "object" && reason !== null) {
    const { name, message } = reason as { name?: unknown; message?: unknown };
    const text = typeof message === "string" ? message : "";
    if (typeof name === "string" && typeof g.DOMException === "function" && reason instanceof g.DOMException) return new g.DOMException(text, name);
    if (reason instanceof Error) return new g[ERRORS.includes(name as string) ? (name as string) : "Error"]!(text);
  }
  return new Error(String(reason));
}

export function installTimers(): void {
  defineGlobal("setTimeout", function setTimeout(fn: unknown, ms?: unknown, ...args: unknown[]) {
    return schedule(fn, ms, args, false);
  });
  defineGlobal("setInterval", function setInterval(fn: unknown, ms?: unknown, ...args: unknown[]) {
    return schedule(fn, ms, args, true);
  });
  defineGlobal("clearTimeout", function clearTimeout(id: unknown) {
    clear(id);
  });
  defineGlobal("clearInterval", function clearInterval(id: unknown) {
    clear(id);
  });
  // Workers' `scheduler.wait(ms, { signal })`: an awaitable setTimeout, rejected on abort as workerd does (tunneled).
  defineGlobal(
    "scheduler",
    Object.freeze({
      wait: function wait(delay?: unknown, options?: unknown): Promise<void> {
        const signal = options === undefined || options === null ? undefined : (options as { signal?: unknown }).signal;
        if (signal !== undefined && signal !== null && typeof (signal as SignalLike).addEventListener !== "function") {
          return Promise.reject(new TypeError("scheduler.wait: options.signal must be an AbortSignal"));
        }
        const s = signal as SignalLike | undefined | null;
        if (s?.aborted === true) return Promise.reject(tunneled(s.reason));
        return new Promise<void>((resolve, reject) => {
          const onAbort = (): void => {
            clear(id);
            reject(tunneled(s!.reason));
          };
          const id = schedule(() => {
            s?.removeEventListener("abort", onAbort);
            resolve();
          }, delay, [], false);
          s?.addEventListener("abort", onAbort, { once: true });
        });
      },
    }),
  );
  defineGlobal("queueMicrotask", function queueMicrotask(fn: unknown) {
    if (typeof fn !== "function") throw new TypeError("The callback must be a function");
    Promise.resolve().then(() => (fn as () => void)());
  });
}
