/**
 * A worker for the supervisor's tests: node:http on the shared port, wired
 * through the worker API. Runs under the supervisor or alone (single-process
 * mode). Arguments: `--port=<n>` (default 0), `--fail-at-start` (exit 1 at once).
 *
 * Routes:
 *   /pid                      { pid, worker, clustered, execArgv }
 *   /slow?ms=                 prints { event: "slow-start", pid } on stdout, answers after ms
 *   /enter?id=t/fn/<digest>   onEnter(id)
 *   /abort?id=...             onEnter(id), then process.abort() (a memory bomb's stand-in)
 *   /hang?id=...              onEnter(id), then blocks the main thread for ever
 *   /bomb?id=...              a real memory bomb in the runtime (a growing Map under a 16 MB limit)
 *   /quarantined?digest=      { quarantined, list }
 *   /workers                  worker.workers()
 *   /ask?kind=                worker.request(kind, { from: pid })
 *   /messages                 the broadcast messages of type "reload" received
 *   /status?n=                worker.setStatus({ n })
 */
import { createServer } from "node:http";
import { connectWorker } from "../index.ts";
import type { SupervisorMessage } from "../index.ts";

const args = process.argv.slice(2);
if (args.includes("--fail-at-start")) process.exit(1);
const port = Number(args.find((a) => a.startsWith("--port="))?.slice("--port=".length) ?? 0);

const worker = connectWorker({ drainTimeoutMs: 10_000 });
const reloads: SupervisorMessage[] = [];
worker.onMessage("reload", (m) => reloads.push(m));

let inFlight = 0;
const server = createServer((req, res) => {
  inFlight++;
  res.on("close", () => inFlight--);
  const url = new URL(req.url ?? "/", "http://fixture");
  const json = (body: unknown, status = 200) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const id = url.searchParams.get("id") ?? "";
  switch (url.pathname) {
    case "/pid":
      return json({ pid: process.pid, worker: worker.id, clustered: worker.clustered, execArgv: process.execArgv });
    case "/slow":
      // Tells the test the request is in this worker's hands (workers share the primary's stdout).
      process.stdout.write(JSON.stringify({ event: "slow-start", pid: process.pid }) + "\n");
      setTimeout(() => json({ pid: process.pid, slept: Number(url.searchParams.get("ms")) }), Number(url.searchParams.get("ms") ?? 0));
      return;
    case "/enter":
      worker.onEnter(id);
      return json({ pid: process.pid, entered: id });
    case "/abort":
      worker.onEnter(id);
      process.abort();
      return;
    case "/hang":
      worker.onEnter(id);
      for (;;); // a guest stuck where V8 cannot interrupt it
    case "/bomb":
      void bomb(id).then(json, (err: { code?: string; message: string }) => json({ pid: process.pid, code: err.code, message: err.message }, 503));
      return;
    case "/quarantined":
      return json({ pid: process.pid, quarantined: worker.quarantine.has(url.searchParams.get("digest") ?? ""), list: worker.quarantine.list() });
    case "/workers":
      void worker.workers().then(json);
      return;
    case "/ask":
      worker.request(url.searchParams.get("kind") ?? "", { from: process.pid }).then(
        (value) => json({ pid: process.pid, value }),
        (err: { code: string; message: string }) => json({ pid: process.pid, code: err.code, message: err.message }, 500),
      );
      return;
    case "/status":
      worker.setStatus({ n: Number(url.searchParams.get("n")) });
      return json({ pid: process.pid });
    case "/messages":
      return json({ pid: process.pid, reloads });
    default:
      return json({ error: "no such route" }, 404);
  }
});

/** Loaded only when asked: the runtime (isolated-vm, the prelude) costs every worker's start otherwise. */
async function bomb(id: string): Promise<unknown> {
  const { createRuntime, createHostServices } = await import("../../../src/runtime/index.ts");
  const { resolveLimits } = await import("../../../src/shared/limits.ts");
  const runtime = createRuntime({ services: { ...createHostServices(), onEnter: worker.onEnter } });
  const code = `export default { fetch() { const m = new Map(); for (let i = 0; ; i++) m.set(i, { i, s: "x" + i }); } }`;
  const spec = { source: { id, code, format: "esm" as const }, limits: resolveLimits({ memoryMb: 16, cpuMs: 20_000, wallMs: 20_000 }), env: {}, bindings: {} };
  await runtime.fetch(spec, { method: "GET", url: "http://fixture/", headers: [], body: null });
  return { pid: process.pid, survived: true };
}

server.listen(port, "127.0.0.1", () => {
  worker.ready();
  const address = server.address();
  if (!worker.clustered && typeof address === "object" && address !== null) process.stdout.write(JSON.stringify({ event: "listening", port: address.port }) + "\n");
});
worker.drain(server, () => inFlight);
