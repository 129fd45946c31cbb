/**
 * Spawns `verge dev` as a real child process on port 0 and reads the URL from
 * its banner. The child is killed when the test ends.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

export interface DevProcess {
  url: string;
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Waits until the output matches, or fails with the output. */
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<void>;
}

/** `startupMs`: how long the banner may take (several Workers build and start their processes first). */
export async function startDev(t: TestContext, args: string[], cwd: string, env: Record<string, string> = {}, startupMs = 15_000): Promise<DevProcess> {
  const child = spawn(process.execPath, ["--no-node-snapshot", MAIN, "dev", "--port", "0", ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const waitFor = async (pattern: RegExp | string, timeoutMs = 15_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    const hit = (): boolean => (typeof pattern === "string" ? out.includes(pattern) : pattern.test(out));
    while (!hit()) {
      if (child.exitCode !== null) throw new Error(`verge dev exited (${child.exitCode}) before printing ${pattern}:\n${out}`);
      if (Date.now() > deadline) throw new Error(`verge dev did not print ${pattern} within ${timeoutMs} ms:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await waitFor(/url\s+http:\/\/127\.0\.0\.1:\d+\//, startupMs);
  const url = /url\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)![1]!;
  return { url, child, output: () => out, waitFor };
}
