// Exercises: which Workers globals exist (typeof), self, navigator.hardwareConcurrency
// and reportError (reports without throwing). Globals verge does not have on purpose
// (EventSource, ...) are listed in README's known divergences.
export const requests = [{ name: "globals", path: "/" }];

const NAMES = ["self", "reportError", "scheduler", "structuredClone", "queueMicrotask", "caches", "crypto", "navigator", "URLPattern", "HTMLRewriter", "CompressionStream", "TextEncoderStream", "Blob", "File", "FormData", "AbortSignal", "EventTarget", "CustomEvent", "WebAssembly", "SharedArrayBuffer", "WebSocketPair", "WebSocket", "MessageEvent", "CloseEvent", "ErrorEvent", "setImmediate", "Buffer", "process", "global"];

export default {
  async fetch() {
    const types = Object.fromEntries(NAMES.map((n) => [n, typeof globalThis[n]]));
    let threw = false;
    try {
      reportError(new Error("reported"));
    } catch {
      threw = true;
    }
    return Response.json({ types, self: self === globalThis, cores: navigator.hardwareConcurrency, threw });
  },
};
