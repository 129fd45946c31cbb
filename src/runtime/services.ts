/** The default host services: guarded fetch through undici and WebCrypto-backed crypto.subtle. */
import { hasCode } from "../shared/errors.ts";
import { createGuardedFetch, type FetchPolicy } from "./fetch-guard.ts";
import type { HostServices } from "./host-services.ts";
import type { LogEntry } from "./report.ts";
import { createSubtleHost } from "./bridge/subtle.ts";

export interface HostServicesOptions {
  fetch?: FetchPolicy;
  onLog?: (entry: LogEntry, functionId: string) => void;
}

export function createHostServices(options: HostServicesOptions = {}): HostServices & { close(): Promise<void> } {
  const guarded = createGuardedFetch(options.fetch);
  const services: HostServices & { close(): Promise<void> } = {
    async fetch(request, opts) {
      try {
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
