/**
 * Crash attribution without per-request IPC (issue 4). Before guest code of a
 * function runs, the worker records the function id in a small file of its own
 * with one positioned write (pwrite), and only when the id differs from the
 * last one written. A write lands in the kernel's page cache, which outlives
 * the process: when a worker dies, the primary reads the file and blames the
 * function that was running.
 *
 * The marker says which function was entered last, not which one is running
 * now (the runtime has no exit hook, and a second write per request would
 * double the cost): a crash outside guest code blames the last function
 * entered. The quarantine rule (several crashes of one digest in a window)
 * keeps a stray blame from quarantining anything.
 */
import { mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";

const NEWLINE = 0x0a;

/**
 * Opens (and empties) the marker at `path` and returns the `onEnter` hook that
 * writes to it.
 *
 * @example
 * const onEnter = createCrashMarker(join(dataDir, "workers", "0.marker"));
 * const runtime = createRuntime({ services: { ...createHostServices(), onEnter } });
 */
export function createCrashMarker(path: string): (functionId: string) => void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, "w");
  let last = "";
  /** Bytes of the longest content written so far: a shorter id pads over it. */
  let extent = 0;
  let failed = false;
  return (functionId) => {
    // The same string object every time for one version: usually a pointer compare.
    if (functionId === last) return;
    const id = Buffer.from(`${functionId}\n`);
    const bytes = id.length >= extent ? id : Buffer.alloc(extent, NEWLINE);
    if (bytes !== id) id.copy(bytes);
    try {
      writeSync(fd, bytes, 0, bytes.length, 0);
      last = functionId;
      extent = Math.max(extent, bytes.length);
    } catch (err) {
      // Never fail a request over a lost blame; say it once.
      if (!failed) process.stderr.write(`verge supervisor: cannot write the crash marker ${path}: ${(err as Error).message}\n`);
      failed = true;
    }
  };
}

/** The function id a marker holds, or null when it is empty or missing. */
export function readCrashMarker(path: string): string | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return null;
  }
  const end = bytes.indexOf(NEWLINE);
  const id = bytes.subarray(0, end === -1 ? bytes.length : end).toString("utf8").trim();
  return id === "" ? null : id;
}

/** Empties a marker, so a worker that dies before writing one is not blamed on its predecessor. */
export function clearCrashMarker(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, "");
}

/** The digest in a function id `tenant/function/digest` (the whole id when it has no `/`). */
export function digestOf(functionId: string): string {
  return functionId.slice(functionId.lastIndexOf("/") + 1);
}
