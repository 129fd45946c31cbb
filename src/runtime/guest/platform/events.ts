/**
 * Event, EventTarget and CustomEvent (DOM §2), on event-target-shim v6, which
 * implements listener options (capture, once, passive, signal), cancelation and
 * event handler attributes. verge adds the argument checks the shim leaves out
 * (a missing event type and non-Event arguments are TypeErrors per WebIDL) and
 * silences the shim's development warnings.
 *
 * @example
 * const t = new EventTarget();
 * t.addEventListener("ping", (e) => console.log(e.detail), { once: true });
 * t.dispatchEvent(new CustomEvent("ping", { detail: 42 }));
 */
import {
  Event as ShimEvent,
  EventTarget as ShimEventTarget,
  defineEventAttribute,
  setErrorHandler,
  setWarningHandler,
} from "event-target-shim";

setWarningHandler(() => {});

export interface EventInit {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}

export class Event extends ShimEvent {
  constructor(type: string, eventInitDict?: EventInit) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'Event': 1 argument required, but only 0 present.");
    if (eventInitDict !== undefined && eventInitDict !== null && typeof eventInitDict !== "object") {
      throw new TypeError("Failed to construct 'Event': The provided value is not of type 'EventInit'.");
    }
    super(type, eventInitDict ?? undefined);
  }
}

export interface CustomEventInit<T = unknown> extends EventInit {
  detail?: T;
}

export class CustomEvent<T = unknown> extends Event {
  #detail: T | null;

  constructor(type: string, eventInitDict?: CustomEventInit<T>) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'CustomEvent': 1 argument required, but only 0 present.");
    super(type, eventInitDict);
    this.#detail = eventInitDict?.detail ?? null;
  }

  get detail(): T | null {
    if (!(#detail in this)) throw new TypeError("Illegal invocation");
    return this.#detail;
  }
}

export class EventTarget extends ShimEventTarget {
  override dispatchEvent(event: Event): boolean {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'dispatchEvent' on 'EventTarget': 1 argument required, but only 0 present.");
    if (!(event instanceof ShimEvent)) {
      throw new TypeError("Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'.");
    }
    return super.dispatchEvent(event);
  }
}

/** Defines the `on<type>` event handler attribute on a prototype (e.g. `AbortSignal.prototype.onabort`). */
export function defineEventHandler(prototype: object, type: string): void {
  defineEventAttribute(prototype as ShimEventTarget, type);
}

let catching = 0;
let caught: { error: unknown } | undefined;

/**
 * Dispatches `event` on `target` and returns the first error one of its listeners threw (the
 * listeners after it still run), or undefined. The shim reports a listener's error instead of
 * throwing it; here it is kept for the caller (a WebSocket fails its connection on one, as workerd).
 */
export function dispatchCatching(target: EventTarget, event: Event): { error: unknown } | undefined {
  const outer = caught;
  caught = undefined;
  if (catching++ === 0) setErrorHandler((error) => void (caught ??= { error }));
  try {
    target.dispatchEvent(event);
    return caught;
  } finally {
    caught = outer;
    if (--catching === 0) setErrorHandler(undefined);
  }
}
