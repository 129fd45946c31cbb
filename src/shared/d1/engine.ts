/**
 * The D1 engine: runs D1 requests on database files in a child process of its
 * own (engine-child.ts), one request at a time, each with a time limit. A
 * request that runs past it (a recursive CTE that never ends) gets a D1_ERROR
 * and the child is killed, which is the only way to stop SQLite from node:sqlite
 * (no interrupt, no progress handler; a worker thread cannot be terminated
 * while SQLite runs). The next request starts a new child; the database file is
 * intact (SQLite rolls back the interrupted transaction when it reopens it).
 *
 * So the host's event loop never waits on SQL, and a runaway query costs one
 * core until the limit, never the host. Used by the runtime's `d1` binding kind
 * (one engine per database file in the process that runs bindings). It lives in
 * src/shared so that the registry, which may import nothing else, can host
 * databases with it too.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { D1DatabaseLimits } from "./database.ts";
import type { D1Request, D1Response } from "./wire.ts";

const CHILD = fileURLToPath(new URL("./engine-child.ts", import.meta.url));

export interface D1EngineOptions {
  /** Milliseconds one request may run (default 30 000, D1's maximum query duration). */
  timeoutMs?: number;
  limits?: Partial<D1DatabaseLimits>;
  /** `meta.served_by` (default "verge.db"). */
  servedBy?: string;
}

export interface D1Engine {
  /** Runs `request` on the database file at `path` (created when missing). Never rejects: failures are D1 failures. */
  run(path: string, request: D1Request): Promise<D1Response>;
  /** Ends the child (requests waiting get a D1_ERROR). */
  close(): Promise<void>;
}

interface Pending {
  id: number;
  path: string;
  request: D1Request;
  resolve(r: D1Response): void;
}

export const D1_DEFAULT_TIMEOUT_MS = 30_000;
const STARTUP_TIMEOUT_MS = 15_000;

export function createD1Engine(options: D1EngineOptions = {}): D1Engine {
  const timeoutMs = options.timeoutMs ?? D1_DEFAULT_TIMEOUT_MS;
  let child: ChildProcess | undefined;
  /** The child has said it is ready (loading Node and the engine takes a few hundred ms, not counted against a query). */
  let ready = false;
  let nextId = 1;
  let closed = false;
  const queue: Pending[] = [];
  let running: { job: Pending; timer: NodeJS.Timeout; child: ChildProcess } | undefined;

  const finish = (response: D1Response) => {
    const r = running;
    if (r === undefined) return;
    running = undefined;
    clearTimeout(r.timer);
    r.job.resolve(response);
    pump();
  };

  const spawn = (): ChildProcess => {
    const c = fork(CHILD, [], {
      execArgv: ["--disable-warning=ExperimentalWarning"],
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      serialization: "json",
    });
    c.on("message", (m: { id: number; response: D1Response; ready?: boolean }) => {
      if (m.ready === true) {
        if (child === c) {
          ready = true;
          pump();
        }
        return;
      }
      if (running !== undefined && m.id === running.job.id) finish(m.response);
    });
    c.on("exit", (code, signal) => {
      const why = signal ?? `exit code ${code}`;
      if (child === c) {
        const wasReady = ready;
        child = undefined;
        ready = false;
        // It died before it was ready (it could not start): a waiting request fails instead of waiting.
        if (!wasReady) queue.shift()?.resolve({ ok: false, kind: "D1_ERROR", message: `the database engine could not start (${why})` });
      }
      if (running?.child === c) finish({ ok: false, kind: "D1_ERROR", message: `the database engine stopped (${why}) while running this query` });
      else pump();
    });
    c.on("error", () => {});
    // A process that never says it is ready (a machine out of memory, a broken install) is ended: the waiting request fails.
    const startup = setTimeout(() => {
      if (child === c && !ready) c.kill("SIGKILL");
    }, STARTUP_TIMEOUT_MS);
    startup.unref();
    c.once("exit", () => clearTimeout(startup));
    // The engine must never keep its host alive by itself.
    c.unref();
    (c.channel as unknown as { unref?(): void } | undefined)?.unref?.();
    return c;
  };

  const pump = () => {
    if (running !== undefined || closed) return;
    if (queue.length === 0) {
      (child?.channel as unknown as { unref?(): void } | undefined)?.unref?.();
      return;
    }
    child ??= spawn();
    (child.channel as unknown as { ref?(): void } | undefined)?.ref?.();
    if (!ready) return;
    const job = queue.shift()!;
    const c = child;
    const timer = setTimeout(() => {
      if (running?.job !== job) return;
      c.kill("SIGKILL");
      if (child === c) {
        child = undefined;
        ready = false;
      }
      finish({ ok: false, kind: job.request.op === "exec" ? "D1_EXEC_ERROR" : "D1_ERROR", message: `the query ran longer than ${timeoutMs} ms and was stopped; the transaction was rolled back` });
    }, timeoutMs);
    running = { job, timer, child: c };
    c.send({ id: job.id, path: job.path, limits: options.limits ?? {}, servedBy: options.servedBy, request: job.request });
  };

  return {
    run(path, request) {
      if (closed) return Promise.resolve({ ok: false, kind: "D1_ERROR", message: "the database engine is closed" });
      return new Promise<D1Response>((resolve) => {
        queue.push({ id: nextId++, path, request, resolve });
        pump();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.resolve({ ok: false, kind: "D1_ERROR", message: "the database engine is closed" });
      const c = child;
      child = undefined;
      if (c === undefined || c.exitCode !== null) return;
      const gone = new Promise<void>((r) => c.once("exit", () => r()));
      c.ref();
      c.disconnect();
      await gone;
    },
  };
}
