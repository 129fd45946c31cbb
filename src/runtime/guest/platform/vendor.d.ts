/** Types for libraries bundled into the prelude whose own types are not reachable. */
/** The part of event-target-shim v6 verge uses (its own .d.ts is not reachable through its "exports" map). */
declare module "event-target-shim" {
  export class Event {
    constructor(type: string, eventInitDict?: { bubbles?: boolean; cancelable?: boolean; composed?: boolean });
    readonly type: string;
    readonly target: EventTarget | null;
    readonly currentTarget: EventTarget | null;
    readonly defaultPrevented: boolean;
    readonly isTrusted: boolean;
    readonly timeStamp: number;
    preventDefault(): void;
    stopPropagation(): void;
    stopImmediatePropagation(): void;
  }
  export class EventTarget {
    addEventListener(type: string, callback: unknown, options?: unknown): void;
    removeEventListener(type: string, callback: unknown, options?: unknown): void;
    dispatchEvent(event: Event): boolean;
  }
  export function defineEventAttribute(target: object, type: string): void;
  export function setWarningHandler(handler: ((warning: unknown) => void) | undefined): void;
  export function setErrorHandler(handler: ((error: Error) => void) | undefined): void;
}

/**
 * The eager part's table of the modules lazy parts import (src/build/prelude.ts generates it):
 * repo-relative path → module namespace. Only core/lazy.ts holds it.
 */
declare module "verge:core-table" {
  export const coreTable: Readonly<Record<string, object>>;
}
