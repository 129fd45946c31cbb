/**
 * `verge up` (what `npm start` runs): a local fleet.
 *
 * 1. a demo origin web server;
 * 2. the origin registry (in this process), its operator token kept in the data dir;
 * 3. three edge nodes, each a `verge edge` process with its own port, LMDB
 *    directory and region name, following the registry;
 * 4. the demo functions, one per dialect, built, published and aliased `live`,
 *    attached to a demo distribution served by every node;
 * 5. wait until every node has applied it, print the URLs and a few curl lines.
 * Ctrl-C stops every process it started.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startOriginServer } from "../../../origin/server.ts";
import { VergeError } from "../../shared/errors.ts";
import { UsageError } from "../output.ts";
import { startDemoOrigin } from "../demo/origin.ts";
import { deployDemo } from "../demo/deploy.ts";

export const help = `verge up [--port <first edge port>] [--data <dir>] [--workers <n>]

Starts a local fleet: the origin registry, 3 edge nodes, a demo origin web
server, and demo functions (a Lambda@Edge viewer-request redirect/auth, a
Lambda@Edge origin-response header rewrite, a Workers module API on /api/*, a
service worker on /hash) published and attached to a demo distribution. Prints
the URLs and a few curl lines to try. Ctrl-C stops everything.
  --port <n>     first edge node port (default 8787: nodes 8787-8789, registry 8786, demo origin 8797)
  --data <dir>   data directory (default VERGE_DATA or .verge)
  --workers <n>  worker processes per edge node (default 1)
`;

const REGIONS = ["eu-west", "us-east", "ap-south"];
const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { port: { type: "string", default: "8787" }, data: { type: "string" }, workers: { type: "string", default: "1" } } });
  for (const name of ["port", "workers"] as const) if (!/^\d+$/.test(values[name])) throw new UsageError(`--${name}: expected a number, found "${values[name]}"`);
  const first = Number(values.port);
  // The registry takes the port before the first edge node's, the demo origin the tenth after it.
  if (first < 2 || first + 10 > 65535) throw new UsageError(`--port: the fleet needs ports ${first - 1} to ${first + 10}; expected a first edge port from 2 to 65525, found "${values.port}"`);
  const dataDir = resolve(values.data ?? process.env.VERGE_DATA ?? ".verge");
  mkdirSync(dataDir, { recursive: true });
  const ports = { registry: first - 1, edges: [first, first + 1, first + 2], origin: first + 10 };
  for (const port of [ports.registry, ...ports.edges, ports.origin]) await assertFree(port);

  const children: ChildProcess[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  let stopping = false;
  const alive = () => children.filter((c) => c.exitCode === null && c.signalCode === null);
  const stop = async (code: number, signal?: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const exits = Promise.all(alive().map((c) => new Promise((r) => c.once("exit", r))));
    // Ctrl-C in a terminal reaches the whole process group: the nodes are already
    // draining, and a second signal would make their supervisors kill at once.
    if (signal === "SIGINT") await Promise.race([exits, new Promise((r) => setTimeout(r, 2_000))]);
    for (const c of alive()) c.kill("SIGTERM");
    await exits;
    for (const f of cleanups.reverse()) await f().catch(() => {});
    process.exit(code);
  };
  process.once("SIGINT", () => void stop(0, "SIGINT"));
  process.once("SIGTERM", () => void stop(0, "SIGTERM"));

  try {
    const origin = await startDemoOrigin(ports.origin);
    cleanups.push(origin.close);
    const adminToken = persisted(join(dataDir, "admin.token"), () => `vrg_admin_${randomBytes(24).toString("base64url")}`);
    const registry = await startOriginServer({ dataDir: join(dataDir, "registry"), port: ports.registry, adminToken, log: (line) => process.stdout.write(`[registry] ${line}\n`) });
    cleanups.push(registry.close);
    const deployed = await deployDemo({ registry: registry.url, adminToken, originUrl: origin.url, dataDir });

    for (const [i, port] of ports.edges.entries()) {
      const id = `edge-${i + 1}`;
      const child = spawn(
        process.execPath,
        ["--no-node-snapshot", MAIN, "edge", "--port", String(port), "--origin", registry.url, "--token", deployed.nodeToken, "--data", join(dataDir, id), "--node-id", id, "--region", REGIONS[i]!, "--workers", values.workers, "--allow-private-subrequests"],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      children.push(child);
      prefixLines(child, `[${id}] `);
      child.once("exit", (code, signal) => {
        if (!stopping) process.stdout.write(`[${id}] exited (${signal ?? code}); stopping the fleet\n`);
        void stop(1);
      });
    }
    await deployed.waitForNodes(REGIONS.length, 60_000);
    for (const port of ports.edges) await waitHealthy(`http://127.0.0.1:${port}/_verge/health`, 60_000);
    const edge = (i: number) => `http://127.0.0.1:${ports.edges[i]}`;
    process.stdout.write(
      [
        "",
        "verge up: a local fleet is running",
        `  registry     ${registry.url}   (admin token in ${join(dataDir, "admin.token")})`,
        ...ports.edges.map((p, i) => `  edge-${i + 1}       http://127.0.0.1:${p}   region ${REGIONS[i]}   health: http://127.0.0.1:${p}/_verge/health`),
        `  demo origin  ${origin.url}`,
        "",
        "Try:",
        `  curl -i ${edge(0)}/                          # origin page, tagged at viewer-request, rewritten at origin-response`,
        `  curl -i ${edge(1)}/old/page                  # 301 from the viewer-request function`,
        `  curl -i ${edge(2)}/private/report -H 'authorization: Bearer demo'`,
        `  curl -s ${edge(0)}/api/json                  # Workers module`,
        `  curl -i ${edge(0)}/api/origin                # Workers fetch(request) through the cache to the origin`,
        `  curl -s ${edge(1)}/hash -d 'hello'           # service worker`,
        `  curl -s ${edge(0)}/_verge/metrics | head`,
        `Every node's requests and console lines, live: VERGE_ORIGIN=${registry.url} VERGE_TOKEN=${deployed.tenantToken} npx verge logs`,
        `Publish your own: VERGE_ORIGIN=${registry.url} VERGE_TOKEN=${deployed.tenantToken} npx verge publish ./my-fn.js --name my-fn`,
        "Ctrl-C stops everything.",
        "",
      ].join("\n"),
    );
  } catch (err) {
    process.stderr.write(`verge up: ${(err as Error).message}\n`);
    await stop(1);
  }
}

/** Polls an edge node's health until its workers answer. */
async function waitHealthy(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new VergeError("ERR_TIMEOUT", `${url} did not answer within ${timeoutMs} ms (${last}); see the [edge-N] lines above`);
}

/** A value kept in a file so a second `verge up` over the same data dir finds it again. */
function persisted(file: string, make: () => string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const value = make();
  writeFileSync(file, value, { mode: 0o600 });
  return value;
}

function assertFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "EADDRINUSE" ? new VergeError("ERR_PORT_IN_USE", `port ${port} is already in use: stop what holds it (an earlier \`verge up\`?) or pass --port <first port>`) : err),
    );
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
  });
}

function prefixLines(child: ChildProcess, prefix: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
    });
  }
}
