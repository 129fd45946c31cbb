/** Lazy part "events": Event, EventTarget, CustomEvent, AbortController, AbortSignal. */
// The eager prelude, so esbuild puts it in one shared module that every part links to (src/build/prelude.ts).
import "../index.ts";
export { Event, EventTarget, CustomEvent, defineEventHandler } from "../platform/events.ts";
export { AbortController, AbortSignal, isAbortSignal, onAbort, signalAbort } from "../platform/abort.ts";
