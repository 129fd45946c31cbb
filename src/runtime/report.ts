/** What each invocation reports: budgets used against their limits, and the console lines. */
import type { LogLevel } from "./bridge/protocol.ts";

export interface Usage {
  used: number;
  limit: number | null;
}

export interface LimitReport {
  cpuMs: Usage;
  wallMs: Usage;
  /** Highest isolate heap (used + external) seen at the end of any guest entry of this invocation. */
  heapMb: Usage;
  subrequests: Usage;
  responseBytes: Usage;
}

export interface LogEntry {
  level: LogLevel;
  message: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
