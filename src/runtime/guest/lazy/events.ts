/** Lazy part "events": Event, EventTarget, CustomEvent, AbortController, AbortSignal. */
export { Event, EventTarget, CustomEvent, defineEventHandler, dispatchCatching } from "../platform/events.ts";
export { AbortController, AbortSignal, isAbortSignal, onAbort, signalAbort } from "../platform/abort.ts";
