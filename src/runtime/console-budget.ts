/**
 * How much console output a function keeps: an invocation keeps 1,000 lines or
 * 256 KiB of text (Workers Logs keeps 256 KB of log events per invocation), a
 * bundle's top level 100 lines. Past the budget every further line is dropped,
 * so a function printing in a loop cannot flood its host; the caller forwards
 * one notice when the first line is dropped.
 */
import type { LogEntry } from "./report.ts";

export const MAX_LOGS = 1000;
/** Console lines kept from a bundle's top level (Sandbox.startupLogs). */
export const STARTUP_LOGS = 100;
export const MAX_LOG_BYTES = 256 * 1024;

export class ConsoleBudget {
  readonly kept: LogEntry[] = [];
  #dropped = 0;
  #bytes = 0;
  readonly #maxLines: number;
  /** "this invocation's", "the top level's": whose limit the notices name. */
  readonly #whose: string;

  constructor(maxLines: number, whose: string) {
    this.#maxLines = maxLines;
    this.#whose = whose;
  }

  /** Keeps `entry` if it fits; returns how many lines were dropped so far (0: this one was kept). */
  add(entry: LogEntry): number {
    const bytes = entry.message.length;
    if (this.#dropped === 0 && this.kept.length < this.#maxLines && this.#bytes + bytes <= MAX_LOG_BYTES) {
      this.kept.push(entry);
      this.#bytes += bytes;
      return 0;
    }
    return ++this.#dropped;
  }

  /** The line a live log gets when the first line is dropped. */
  notice(timestamp: number): LogEntry {
    return { level: "warn", message: `console output over ${this.#whose} limit (${this.#maxLines} lines or ${MAX_LOG_BYTES / 1024} KiB) is dropped from here on`, timestamp };
  }

  /** The kept lines, ending with how many were dropped if any were. */
  report(): LogEntry[] {
    if (this.#dropped > 0) this.kept.push({ level: "warn", message: `${this.#dropped} more console lines were dropped (limit ${this.#maxLines} lines or ${MAX_LOG_BYTES / 1024} KiB per invocation)`, timestamp: Date.now() });
    return this.kept;
  }
}
