/**
 * The primary's crash ledger (issue 4): each abnormal worker exit blames one
 * function id; `crashes` crashes of one digest within `windowMs` quarantine
 * that digest until it is released or a new version (a new digest) replaces
 * it. Kept in memory and in a JSON file, so a restarted supervisor keeps both
 * the quarantine and the crashes still inside the window.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { VergeError } from "../../src/shared/errors.ts";
import { digestOf } from "./marker.ts";
import type { QuarantineEntry, QuarantineView } from "./messages.ts";

export interface QuarantineRule {
  /** Crashes of one digest that quarantine it (default 3). */
  crashes: number;
  /** Sliding window the crashes must fall in (default 10 minutes). */
  windowMs: number;
}

export const DEFAULT_QUARANTINE_RULE: QuarantineRule = { crashes: 3, windowMs: 600_000 };

export interface CrashLedgerOptions {
  rule?: QuarantineRule;
  /** JSON file to persist to (read at creation); none keeps the ledger in memory only. */
  file?: string;
  now?: () => number;
  /** A failed write of the file (memory stays right; the file catches up at the next change). Default: rethrow. */
  onSaveError?: (err: Error) => void;
}

export interface CrashLedger extends QuarantineView {
  /** Counts one crash blamed on `functionId`; returns the entry when this crash quarantined its digest. */
  recordCrash(functionId: string): QuarantineEntry | null;
  /** Lifts a quarantine (operator action); false when the digest was not quarantined. */
  release(digest: string): boolean;
}

/** The file's shape. */
interface LedgerFile {
  version: 1;
  quarantined: QuarantineEntry[];
  /** Crash times (ms since the epoch) per digest, inside the window when written. */
  crashes: Record<string, number[]>;
}

export function createCrashLedger(options: CrashLedgerOptions = {}): CrashLedger {
  const rule = options.rule ?? DEFAULT_QUARANTINE_RULE;
  const now = options.now ?? Date.now;
  const quarantined = new Map<string, QuarantineEntry>();
  const crashes = new Map<string, number[]>();

  if (options.file !== undefined) {
    const saved = load(options.file);
    for (const e of saved.quarantined) quarantined.set(e.digest, e);
    const horizon = now() - rule.windowMs;
    for (const [digest, times] of Object.entries(saved.crashes)) {
      const recent = times.filter((t) => t > horizon);
      if (recent.length > 0) crashes.set(digest, recent);
    }
  }

  function save(): void {
    if (options.file === undefined) return;
    const data: LedgerFile = { version: 1, quarantined: [...quarantined.values()], crashes: Object.fromEntries(crashes) };
    // Write then rename: a reader (or a crash mid-write) never sees half a file.
    const tmp = `${options.file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(options.file), { recursive: true });
      writeFileSync(tmp, JSON.stringify(data, null, 2) + "\n");
      renameSync(tmp, options.file);
    } catch (err) {
      if (options.onSaveError === undefined) throw err;
      options.onSaveError(err as Error);
    }
  }

  return {
    has: (digest) => quarantined.has(digest),
    list: () => [...quarantined.values()].map((e) => ({ ...e })),

    recordCrash(functionId) {
      const digest = digestOf(functionId);
      const at = now();
      const existing = quarantined.get(digest);
      if (existing !== undefined) {
        existing.crashes++;
        save();
        return null;
      }
      const times = (crashes.get(digest) ?? []).filter((t) => t > at - rule.windowMs);
      times.push(at);
      let entry: QuarantineEntry | null = null;
      if (times.length >= rule.crashes) {
        entry = { digest, functionId, crashes: times.length, since: new Date(at).toISOString() };
        quarantined.set(digest, entry);
        crashes.delete(digest);
      } else {
        crashes.set(digest, times);
      }
      save();
      return entry === null ? null : { ...entry };
    },

    release(digest) {
      const had = quarantined.delete(digest);
      crashes.delete(digest);
      if (had) save();
      return had;
    },
  };
}

function load(file: string): LedgerFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, quarantined: [], crashes: {} };
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new VergeError("ERR_INVALID_QUARANTINE_FILE", `${file}: expected the supervisor's quarantine JSON, found unparsable text (${(err as Error).message}); fix or delete the file`, { cause: err });
  }
  const d = data as Partial<LedgerFile>;
  const validEntry = (e: unknown): e is QuarantineEntry =>
    typeof e === "object" && e !== null && typeof (e as QuarantineEntry).digest === "string" && typeof (e as QuarantineEntry).functionId === "string" &&
    typeof (e as QuarantineEntry).crashes === "number" && typeof (e as QuarantineEntry).since === "string";
  if (d.version !== 1 || !Array.isArray(d.quarantined) || !d.quarantined.every(validEntry) || typeof d.crashes !== "object" || d.crashes === null) {
    throw new VergeError("ERR_INVALID_QUARANTINE_FILE", `${file}: expected { version: 1, quarantined: [{ digest, functionId, crashes, since }], crashes: { digest: [ms] } }; fix or delete the file`);
  }
  const times: Record<string, number[]> = {};
  for (const [digest, list] of Object.entries(d.crashes)) {
    if (Array.isArray(list)) times[digest] = list.filter((t): t is number => typeof t === "number");
  }
  return { version: 1, quarantined: d.quarantined, crashes: times };
}
