/**
 * The guest prelude entry: built once into one script (src/build/prelude.ts),
 * run in every new isolate before the user's bundle.
 * 1. capture the host bridge (core/host.ts runs first and deletes the global);
 * 2. install the Web platform globals;
 * 3. publish the guest entry points for the host, which takes them and deletes the global.
 *    Each entry that may have run user code ends by reporting the isolate's WebAssembly memory
 *    (wasm/accounting.ts): a `memory.grow` inside wasm is seen by no JS until then.
 */
import type { GuestApi } from "../bridge/protocol.ts";
import { dropAllOps, settleOp } from "./core/host.ts";
import { installConsole } from "./core/console.ts";
import { installTimers, fireTimer, clearAllTimers } from "./core/timers.ts";
import { pull, cancelOutgoing, cancelAllOutgoing } from "./core/streams-out.ts";
import { installPlatform } from "./platform/index.ts";
import { installFetchApi } from "./fetch/index.ts";
import { installWasm } from "./wasm/install.ts";
import { reportWasmMemory } from "./wasm/accounting.ts";
import { loadedChunk } from "./core/lazy.ts";
import { prepareEnv, init, dispatch, dispatchCloudFront, dispatchFetch, installServiceWorkerGlobals, installWorkersModule, warm } from "./core/dispatch.ts";

installWasm();
installConsole();
installTimers();
installPlatform();
installFetchApi();
installServiceWorkerGlobals();
installWorkersModule();

// Fixed arities, no Function.prototype.apply: user code may have replaced it by the time these run.
const api: GuestApi = {
  init(namespace, env, specs) {
    try {
      return init(namespace, env, specs);
    } finally {
      reportWasmMemory(true);
    }
  },
  prepareEnv(env, specs, asGlobals) {
    try {
      prepareEnv(env, specs, asGlobals);
    } finally {
      reportWasmMemory(true);
    }
  },
  dispatch(invocation, job) {
    try {
      dispatch(invocation, job);
    } finally {
      reportWasmMemory(true);
    }
  },
  dispatchFetch(invocation, method, url, headers, body, cf) {
    try {
      return dispatchFetch(invocation, method, url, headers, body, cf);
    } finally {
      reportWasmMemory(true);
    }
  },
  dispatchCloudFront(invocation, eventJson, contextJson, startedAt) {
    try {
      dispatchCloudFront(invocation, eventJson, contextJson, startedAt);
    } finally {
      reportWasmMemory(true);
    }
  },
  settle(opId, ok, value) {
    try {
      settleOp(opId, ok, value);
    } finally {
      reportWasmMemory(true);
    }
  },
  fireTimer(timerId) {
    try {
      fireTimer(timerId);
    } finally {
      reportWasmMemory(true);
    }
  },
  pull(stream) {
    try {
      pull(stream);
    } finally {
      reportWasmMemory(true);
    }
  },
  cancelStream(stream, reason) {
    try {
      cancelOutgoing(stream, reason);
    } finally {
      reportWasmMemory(true);
    }
  },
  socket(socket, data, code, reason) {
    try {
      // Only a function that made a WebSocketPair has the part (and a connection to deliver to).
      loadedChunk("websocket")?.hostSocketEvent(socket, data, code, reason);
    } finally {
      reportWasmMemory(true);
    }
  },
  finish() {
    try {
      clearAllTimers();
      cancelAllOutgoing();
      // Ops of the invocation the host will never settle (it drops them once it ended): forgotten, not kept for good.
      dropAllOps();
      loadedChunk("websocket")?.finishSockets();
    } finally {
      reportWasmMemory(true);
    }
  },
  warm,
};

Object.defineProperty(globalThis, "__verge_guest", { value: api, configurable: true, writable: false, enumerable: false });
