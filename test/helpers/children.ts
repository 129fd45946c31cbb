/** The harness's child processes as the test sees them (Linux /proc). */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** The pids of this process's harness child processes. */
export function harnessChildren(): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && readFileSync(`/proc/${name}/cmdline`, "utf8").includes("harness/child.ts")) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The paths of the files process `pid` holds open. */
export function openFiles(pid: number): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}
