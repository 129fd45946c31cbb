/**
 * The guest prelude entry: built once into one script (src/build/prelude.ts),
 * run in every new isolate before the user's bundle.
 * 1. capture the host bridge (core/host.ts runs first and deletes the global);
 * 2. install the Web platform globals;
 * 3. publish the guest entry points for the host, which takes them and deletes the global.
 */
import type { GuestApi } from "../bridge/protocol.ts";
import { settleOp } from "./core/host.ts";
import { installConsole } from "./core/console.ts";
import { installTimers, fireTimer, clearAllTimers } from "./core/timers.ts";
import { pull, cancelOutgoing, cancelAllOutgoing } from "./core/streams-out.ts";
import { installPlatform } from "./platform/index.ts";
import { installFetchApi } from "./fetch/index.ts";
import { prepareEnv, init, dispatch, dispatchCloudFront, dispatchFetch, installServiceWorkerGlobals, installWorkersModule, warm } from "./core/dispatch.ts";

installConsole();
installTimers();
installPlatform();
installFetchApi();
installServiceWorkerGlobals();
installWorkersModule();

const api: GuestApi = {
  init,
  prepareEnv,
  dispatch,
  dispatchFetch,
  dispatchCloudFront,
  settle: settleOp,
  fireTimer,
  pull,
  cancelStream: cancelOutgoing,
  finish() {
    clearAllTimers();
    cancelAllOutgoing();
  },
  warm,
};

Object.defineProperty(globalThis, "__verge_guest", { value: api, configurable: true, writable: false, enumerable: false });
