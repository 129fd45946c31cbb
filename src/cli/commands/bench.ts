/**
 * `verge bench [name ...] [--quick] [--summary]`: the benchmarks of bench/
 * (bench/run.ts, the same as `npm run bench -- ...`), in a child process with
 * the flags every process that loads isolated-vm needs. Results go to
 * bench/results/; the exit code is the runner's.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { UsageError } from "../output.ts";

const RUNNER = fileURLToPath(new URL("../../../bench/run.ts", import.meta.url));

export const help = `verge bench [name ...] [--quick] [--summary] [--<flag> <value> ...]

Runs verge's benchmarks, each against its baselines measured in the same run
(medians and raw rounds), and writes bench/results/<date>-<name>.{json,md,svg}
and the summary bench/results/<date>.{json,md,svg}. Without a name: all of
cold-start, warm-dispatch, density, registry, fleet, functions and edge (up to
15 minutes on 2 cores); profile and guest-apis run only when named.

Names: cold-start, warm-dispatch, density, registry, fleet, functions, edge, profile, guest-apis

Options:
  --quick        fewer rounds and samples (~5 minutes for all)
  --summary      only rewrite the summary from the newest results
  --<flag> <v>   passed to every benchmark script (e.g. density --n 300)

Run it on a quiet machine: the figures are ratios within a run, but a busy
machine still moves them. See bench/README.md.
`;

export async function run(argv: string[]): Promise<void> {
  // The runner checks the names (and exits 2 for an unknown one): its table is the one list of benchmarks.
  if (!existsSync(RUNNER)) throw new UsageError(`verge bench: ${RUNNER} is missing: the benchmarks ship with the repository, not the package`);
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, ["--no-node-snapshot", "--disable-warning=ExperimentalWarning", RUNNER, ...argv], { stdio: "inherit" });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.on("error", reject);
    child.on("exit", (c, signal) => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolve(c ?? (signal !== null ? 1 : 0));
    });
  });
  if (code !== 0) process.exitCode = code;
}
