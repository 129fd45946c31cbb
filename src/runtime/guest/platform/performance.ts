/**
 * `performance` (High Resolution Time §5: now, timeOrigin, toJSON) and
 * `navigator` ({ userAgent: "verge" }, as Workers has "Cloudflare-Workers").
 * The clock is the host's: `now()` counts milliseconds since the isolate's
 * time origin.
 *
 * @example
 * const t0 = performance.now(); await work(); console.log(performance.now() - t0);
 */
import { host } from "../core/host.ts";

const CONSTRUCT = Symbol("construct");

export class Performance {
  #timeOrigin: number;

  constructor(token?: unknown) {
    if (token !== CONSTRUCT) throw new TypeError("Illegal constructor");
    // The host clock starts with the isolate; Date.now() fixes it to the Unix epoch once.
    this.#timeOrigin = Date.now() - host.now();
  }

  get timeOrigin(): number {
    if (!(#timeOrigin in this)) throw new TypeError("Illegal invocation");
    return this.#timeOrigin;
  }

  now(): number {
    if (!(#timeOrigin in this)) throw new TypeError("Illegal invocation");
    return host.now();
  }

  toJSON(): { timeOrigin: number } {
    return { timeOrigin: this.timeOrigin };
  }
}

export class Navigator {
  constructor(token?: unknown) {
    if (token !== CONSTRUCT) throw new TypeError("Illegal constructor");
  }

  get userAgent(): string {
    return "verge";
  }

  /** As workerd reports it: one, whatever the host has (a function must not size work by it). */
  get hardwareConcurrency(): number {
    return 1;
  }
}

export function createPerformance(): Performance {
  return new Performance(CONSTRUCT);
}

export function createNavigator(): Navigator {
  return new Navigator(CONSTRUCT);
}
