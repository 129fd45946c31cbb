/**
 * The default host services: guarded fetch through undici (a WebSocket handshake through `ws`,
 * outbound-websocket.ts, under the same address rules) and WebCrypto-backed crypto.subtle.
 */
import { hasCode } from "../shared/errors.ts";
import { createAddressGuard, createGuardedFetch, type FetchPolicy } from "./fetch-guard.ts";
import { isWebSocketHandshake, openWebSocket } from "./outbound-websocket.ts";
import type { HostServices } from "./host-services.ts";
import type { LogEntry } from "./report.ts";
import { createSubtleHost } from "./bridge/subtle.ts";

export interface HostServicesOptions {
  fetch?: FetchPolicy;
  onLog?: (entry: LogEntry, functionId: string) => void;
}

export function createHostServices(options: HostServicesOptions = {}): HostServices & { close(): Promise<void> } {
  const guarded = createGuardedFetch(options.fetch);
  const guard = createAddressGuard(options.fetch);
  const handshakeMs = options.fetch?.timeoutMs ?? 30_000;
  const services: HostServices & { close(): Promise<void> } = {
    async fetch(request, opts) {
      try {
        if (isWebSocketHandshake(request.headers)) return await openWebSocket(request, opts, guard, handshakeMs);
        return await guarded.fetch(request, opts);
      } catch (err) {
        // undici wraps connect-time refusals in "fetch failed": surface the reason.
        const cause = (err as { cause?: unknown }).cause;
        if (hasCode(err, "ERR_FETCH_BLOCKED")) throw new TypeError(err.message);
        if (hasCode(cause, "ERR_FETCH_BLOCKED")) throw new TypeError(cause.message);
        throw err;
      }
    },
    createSubtle: () => createSubtleHost(),
    close: () => guarded.close(),
  };
  if (options.onLog) services.onLog = options.onLog;
  return services;
}
