/** Process facts read from /proc (Linux): CPU time of a process tree, RSS, free ports. */
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

const TICK_MS = 10; // USER_HZ is 100 on Linux

function statOf(pid: number): { ppid: number; cpuMs: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces and parentheses).
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(f[1]), cpuMs: (Number(f[11]) + Number(f[12])) * TICK_MS };
  } catch {
    return null;
  }
}

/**
 * CPU time (user + system, ms) used so far by `root` and every live descendant.
 * Resolution is 10 ms per process: use over windows of seconds.
 */
export function treeCpuMs(root = process.pid): number | null {
  let pids: number[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return null;
  }
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    const s = statOf(pid);
    if (s === null) continue;
    cpu.set(pid, s.cpuMs);
    const list = children.get(s.ppid) ?? [];
    list.push(pid);
    children.set(s.ppid, list);
  }
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    total += cpu.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/**
 * CPU time (ns) used so far by every thread of process `pid`, from the scheduler's
 * own count (`/proc/<pid>/task/<tid>/schedstat`, first field): exact to the
 * nanosecond, unlike /proc/<pid>/stat's 10 ms ticks, so it can time one request
 * of a server. A thread that is running while it is read shows its count as of
 * its last tick or context switch (up to a tick behind), so for this process use
 * `process.cpuUsage()`, which brings the caller's up to date. Threads that have
 * exited are not counted (read it around windows in which the process keeps its
 * threads, as a server does). Throws when /proc has no schedstat.
 */
export function processCpuNs(pid = process.pid): number {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch (err) {
    throw new Error(`processCpuNs: cannot list /proc/${pid}/task: ${(err as Error).message}`);
  }
  let total = 0;
  let read = 0;
  for (const tid of tids) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      read++;
    } catch {
      // the thread ended between the listing and the read
    }
  }
  if (read === 0) throw new Error(`processCpuNs: no readable /proc/${pid}/task/*/schedstat (a kernel without CONFIG_SCHED_INFO?)`);
  return total;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Reads a response body in any of the runtime's shapes (bytes, async chunks, absent) to a string. */
export async function bodyText(body: Uint8Array | AsyncIterable<Uint8Array> | null): Promise<string> {
  if (body === null) return "";
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  const dec = new TextDecoder();
  let s = "";
  for await (const chunk of body) s += dec.decode(chunk, { stream: true });
  return s + dec.decode();
}
