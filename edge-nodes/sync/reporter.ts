/**
 * Node reports (`POST /v1/nodes/:id/report`): right after each applied batch,
 * at most one per `minIntervalMs` (later requests coalesce into one), and a
 * heartbeat every `heartbeatMs` so the registry keeps the node live (its
 * liveness window is 60 s by default). `verge deploy --wait` watches these.
 */
import { hostname } from "node:os";
import type { NodeReport } from "../../src/shared/protocol.ts";
import type { RegistryClient } from "./registry-client.ts";

export interface ReporterOptions {
  client: RegistryClient;
  nodeId: string;
  log: (line: Record<string, unknown>) => void;
  report(): { appliedSeq: number; staleSeconds: number };
  minIntervalMs?: number;
  heartbeatMs?: number;
}

export interface Reporter {
  /** Asks for a report soon (now, or when the interval allows). */
  request(): void;
  start(): void;
  stop(): Promise<void>;
}

export function createReporter(options: ReporterOptions): Reporter {
  const { client, nodeId, log } = options;
  const minIntervalMs = options.minIntervalMs ?? 250;
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const host = hostname().replace(/[^\x21-\x7e]/g, "").slice(0, 253);
  let lastSent = -Infinity;
  let inFlight: Promise<void> | undefined;
  let pending = false;
  let timer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let failing = false;
  let stopped = false;

  async function send(): Promise<void> {
    const { appliedSeq, staleSeconds } = options.report();
    const body: NodeReport = { appliedSeq, staleSeconds: Math.floor(staleSeconds), ...(host === "" ? {} : { hostname: host }) };
    try {
      await client.report(nodeId, body, AbortSignal.timeout(10_000));
      if (failing) log({ msg: "sync: reporting again", appliedSeq });
      failing = false;
    } catch (err) {
      if (!failing) log({ msg: "sync: report failed", appliedSeq, reason: (err as Error).message });
      failing = true;
    }
  }

  function request(): void {
    if (stopped) return;
    if (inFlight !== undefined) {
      pending = true;
      return;
    }
    const wait = lastSent + minIntervalMs - Date.now();
    if (wait > 0) {
      timer ??= setTimeout(() => {
        timer = undefined;
        request();
      }, wait);
      return;
    }
    lastSent = Date.now();
    inFlight = send().finally(() => {
      inFlight = undefined;
      if (pending) {
        pending = false;
        request();
      }
    });
  }

  return {
    request,
    start() {
      heartbeat = setInterval(request, heartbeatMs);
      heartbeat.unref();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(heartbeat);
      await inFlight;
    },
  };
}
