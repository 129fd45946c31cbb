/**
 * Test helpers: a supervisor (or a lone worker) in a child process, its JSON
 * output lines, waiting with deadlines instead of sleeps, and plain HTTP.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import http from "node:http";
import { fileURLToPath } from "node:url";

export const PRIMARY_FIXTURE = fileURLToPath(new URL("./primary-fixture.ts", import.meta.url));
export const WORKER_FIXTURE = fileURLToPath(new URL("./worker-fixture.ts", import.meta.url));

export type Line = Record<string, unknown> & { event?: string };

export interface Spawned {
  child: ChildProcess;
  lines: Line[];
  stderr(): string;
  /** The first line (from index `from`) matching `match`, waiting up to `timeoutMs`. */
  waitFor(match: (line: Line) => boolean, timeoutMs?: number, from?: number): Promise<Line>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  command(cmd: object): void;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Runs `node --no-node-snapshot <script> <args>` with core dumps off (the
 * abort tests must not fill the disk), and registers its cleanup with `after`.
 */
export function spawnNode(script: string, args: string[], after: (fn: () => void) => void): Spawned {
  const child = spawn("/bin/sh", ["-c", 'ulimit -c 0; exec "$@"', "sh", process.execPath, "--no-node-snapshot", script, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines: Line[] = [];
  let err = "";
  let pending = "";
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf("\n")) !== -1) {
      const text = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        lines.push(JSON.parse(text) as Line);
      } catch {
        lines.push({ event: "text", text });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      resolve({ code, signal });
      for (const w of waiters) w();
    }),
  );
  const cleanup = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  // A backstop for a test that failed before its cleanup ran: never leave a supervisor behind.
  process.once("exit", cleanup);
  after(cleanup);

  return {
    child,
    lines,
    stderr: () => err,
    waitFor(match, timeoutMs = 10_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.slice(from).find(match);
          if (found !== undefined) done(() => resolve(found));
          else if (child.exitCode !== null || child.signalCode !== null) done(() => reject(new Error(`process exited before the expected line; output:\n${show()}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no matching line within ${timeoutMs} ms; output:\n${show()}`))), timeoutMs);
        const done = (fn: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          fn();
        };
        waiters.add(check);
        check();
      });
    },
    exited,
    command: (cmd) => child.stdin!.write(JSON.stringify(cmd) + "\n"),
    kill: (signal = "SIGTERM") => child.kill(signal),
  };

  function show(): string {
    return `${lines.map((l) => JSON.stringify(l)).join("\n")}\n--- stderr ---\n${err.slice(-4000)}`;
  }
}

/** A supervisor over the worker fixture; resolves once it is ready, with the shared port. */
export async function startSupervised(options: object, after: (fn: () => void) => void): Promise<Spawned & { port: number }> {
  const s = spawnNode(PRIMARY_FIXTURE, [JSON.stringify(options)], after);
  const ready = await s.waitFor((l) => l.event === "supervisor-ready" || l.event === "supervisor-ready-failed", 30_000);
  if (ready.event !== "supervisor-ready") throw new Error(`supervisor did not start: ${JSON.stringify(ready)}`);
  return Object.assign(s, { port: ready.port as number });
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** GET on 127.0.0.1 (a fresh connection unless an agent is given). */
export function get(port: number, path: string, agent: http.Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
        } catch (err) {
          reject(err);
        }
      });
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/** Calls `probe` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise<void>((r) => setTimeout(r, 10)); // a poll interval, not a wait for the work
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? "" : ` (last error: ${(last as Error).message})`}`);
}

/** Asks fresh connections until one lands on a worker for which `accept(body)` is true. */
export function reach(port: number, path: string, accept: (body: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Answer> {
  return poll(`${path} answered as expected`, async () => {
    const a = await get(port, path);
    return accept(a.body) ? a : undefined;
  }, timeoutMs);
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
