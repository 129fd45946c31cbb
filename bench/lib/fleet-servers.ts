/**
 * The fleet bench/fleet.ts measures, as separate processes in the topology of
 * lib/netns.ts: the registry (`verge origin`, restartable on the same data and
 * port), and per node a customer origin and a client (lib/fleet-agent.ts), a
 * delay proxy to the registry when the links are not delayed by netem
 * (lib/delay-proxy.ts), and `verge edge --workers 1`. Every process is started in
 * a process group of its own and killed by group on close, on error, on SIGINT
 * and at exit; then the namespaces are deleted.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ADMIN, TENANT, call, must, setup } from "./registry-server.ts";
import { BENCH_DIR } from "./rounds.ts";
import { freePort } from "./proc.ts";
import { createTopology, type Region, type Topology } from "./netns.ts";

const CLI = join(BENCH_DIR, "..", "src", "cli", "main.ts");
const AGENT = join(BENCH_DIR, "lib", "fleet-agent.ts");
const PROXY = join(BENCH_DIR, "lib", "delay-proxy.ts");
const NODE = [process.execPath, "--no-node-snapshot", "--disable-warning=ExperimentalWarning"];

const live = new Set<ChildProcess>();
let cleanupHooks: Array<() => void> = [];

function killTree(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {}
}

/** Kills every process this module started and tears the topology down (sync: also runs at exit). */
function cleanupAll(): void {
  for (const c of live) killTree(c);
  live.clear();
  for (const h of cleanupHooks) h();
  cleanupHooks = [];
}

let signalsInstalled = false;
function installSignals(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  process.on("exit", cleanupAll);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      cleanupAll();
      process.exit(130);
    });
  }
}

interface Proc {
  child: ChildProcess;
  /** Last output, for error messages. */
  tail(): string;
  exited: Promise<void>;
}

function start(argv: string[], env: NodeJS.ProcessEnv = process.env): Proc {
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["pipe", "pipe", "pipe"], detached: true });
  live.add(child);
  let tail = "";
  const keep = (d: Buffer) => (tail = (tail + d.toString()).slice(-3000));
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((r) => child.once("exit", () => (live.delete(child), r())));
  return { child, tail: () => tail, exited };
}

/** Resolves with the first match of `re` on stdout, keeps draining stdout afterwards. */
function waitLine(p: Proc, re: RegExp, what: string, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = "";
    let done = false;
    const timer = setTimeout(() => finish(new Error(`${what} did not start within ${timeoutMs} ms: ${p.tail()}`)), timeoutMs);
    const finish = (err: Error | null, m?: RegExpExecArray) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(m!);
    };
    p.child.stdout!.on("data", (d: Buffer) => {
      if (done) return;
      out += d.toString();
      const m = re.exec(out);
      if (m) finish(null, m);
    });
    p.child.once("exit", (code) => finish(new Error(`${what} exited with ${code}: ${p.tail()}`)));
  });
}

/** A JSON-lines client process (lib/fleet-agent.ts client) in a node's namespace. */
export interface Client {
  call<T = any>(cmd: string, args: Record<string, unknown>): Promise<T>;
}

function client(p: Proc): Client {
  let next = 1;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  let buf = "";
  p.child.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.startsWith("{")) continue;
      const msg = JSON.parse(line) as { id: number; ok: boolean; result?: unknown; error?: string };
      const w = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.ok) w?.resolve(msg.result);
      else w?.reject(new Error(msg.error));
    }
  });
  p.child.once("exit", () => {
    for (const w of pending.values()) w.reject(new Error(`client exited: ${p.tail()}`));
    pending.clear();
  });
  return {
    call(cmd, args) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        p.child.stdin!.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
      });
    },
  };
}

export interface FleetNode {
  index: number;
  region: Region;
  /** URLs as seen from inside the node's namespace (where its client runs). */
  edgeUrl: string;
  originUrl: string;
  host: string;
  client: Client;
}

export interface Fleet {
  topology: Topology;
  nodes: FleetNode[];
  registryUrl: string;
  token: string;
  /** Current registry head sequence. */
  seq(): Promise<number>;
  /** Kills the registry process (SIGKILL) and resolves when it is gone. */
  killRegistry(): Promise<void>;
  /** Starts it again on the same data directory and port; resolves when it answers. */
  startRegistry(): Promise<void>;
  publishVersion(fn: string, source: string): Promise<string>;
  setAlias(fn: string, digest: string): Promise<number>;
  distribution(name: string, body: unknown): Promise<void>;
  close(): Promise<void>;
}

export async function startFleet(regions: Region[], opts: { loopback?: boolean; log?: (m: string) => void } = {}): Promise<Fleet> {
  installSignals();
  const log = opts.log ?? (() => {});
  const topo = createTopology(regions, opts.loopback ? { force: "loopback" } : {});
  const dirs: string[] = [];
  cleanupHooks.push(() => {
    topo.teardown();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const ns = topo.registryNs !== null;
  try {
    log(`topology: ${topo.mode}`);
    const regDir = mkdtempSync(join(tmpdir(), "verge-fleet-registry-"));
    dirs.push(regDir);
    const regPort = ns ? 8788 : await freePort();
    const regEnv = { ...process.env, VERGE_ADMIN_TOKEN: ADMIN, VERGE_SECRET_KEY: "bench-secret-key" };
    let registry: Proc | undefined;
    const startRegistry = async () => {
      registry = start(topo.wrap(topo.registryNs, [...NODE, CLI, "origin", "--port", String(regPort), "--host", topo.registryListenHost, "--data", regDir]), regEnv);
      await waitLine(registry, /listening on (http:\/\/\S+)/, "registry");
      registry.child.stdout!.resume();
    };
    await startRegistry();
    const registryUrl = `http://${topo.adminHost}:${regPort}`;
    const token = await setup(registryUrl);
    const nodeToken = (await must(call(registryUrl, "POST", "/v1/tokens", ADMIN, JSON.stringify({ tenant: null, scopes: ["node"], name: "fleet-node" })), [201], "node token")).token as string;

    const nodes: FleetNode[] = [];
    for (const [i, region] of regions.entries()) {
      const nsName = topo.nodeNs[i] ?? null;
      const run = (argv: string[]) => start(topo.wrap(nsName, argv));
      // 1. The node's way to the registry: the delayed link, or a delay proxy in front of it.
      let regUrl = `http://${topo.registryHostFor(i)}:${regPort}`;
      if (!topo.linksDelayed) {
        const proxy = run([...NODE, PROXY, "--listen", `127.0.0.1:${ns ? 8790 : 0}`, "--target", `${topo.registryHostFor(i)}:${regPort}`, "--delay-ms", String(region.oneWayMs)]);
        const m = await waitLine(proxy, /listening on (\d+)/, `delay proxy ${i}`);
        proxy.child.stdout!.resume();
        regUrl = `http://127.0.0.1:${m[1]}`;
      }
      // 2. The customer origin, near the node.
      const origin = run([...NODE, AGENT, "origin", String(ns ? 8080 : 0)]);
      const om = await waitLine(origin, /listening on (\d+)/, `origin ${i}`);
      origin.child.stdout!.resume();
      // 3. The edge node: supervisor + one worker process.
      const dataDir = mkdtempSync(join(tmpdir(), `verge-fleet-edge-${i}-`));
      dirs.push(dataDir);
      const edgePort = ns ? 8787 : await freePort();
      const edge = run([...NODE, CLI, "edge", "--port", String(edgePort), "--host", "127.0.0.1", "--origin", regUrl, "--token", nodeToken, "--data", dataDir, "--node-id", `fleet-${i}`, "--region", region.name, "--workers", "1", "--allow-private-subrequests"]);
      const em = await waitLine(edge, /listening on (http:\/\/\S+)/, `edge ${i}`, 60_000);
      edge.child.stdout!.resume();
      // 4. The client.
      const agent = run([...NODE, AGENT, "client"]);
      await waitLine(agent, /client ready/, `client ${i}`);
      nodes.push({ index: i, region, edgeUrl: em[1]!, originUrl: `http://127.0.0.1:${om[1]}`, host: `n${i}.fleet.test`, client: client(agent) });
      log(`node ${i} (${region.name}, +${region.oneWayMs} ms one way) at ${em[1]} via ${regUrl}`);
    }
    const base = `/v1/tenants/${TENANT}`;
    const seq = async () => (await must(call(registryUrl, "GET", "/v1/health", null), [200], "health")).seq as number;
    return {
      topology: topo,
      nodes,
      registryUrl,
      token,
      seq,
      async killRegistry() {
        const r = registry!;
        killTree(r.child);
        await r.exited;
      },
      startRegistry,
      async publishVersion(fn, source) {
        await must(call(registryUrl, "PUT", `${base}/functions/${fn}`, token, JSON.stringify({ config: {} })), [200, 201], `function ${fn}`);
        const v = await must(call(registryUrl, "POST", `${base}/functions/${fn}/versions`, token, source, "text/javascript"), [200, 201], `publish ${fn}`);
        return v.digest as string;
      },
      async setAlias(fn, digest) {
        const r = await must(call(registryUrl, "PUT", `${base}/functions/${fn}/aliases/live`, token, JSON.stringify({ version: digest })), [200, 201], `alias ${fn}`);
        return typeof r.seq === "number" ? r.seq : await seq();
      },
      async distribution(name, body) {
        await must(call(registryUrl, "PUT", `${base}/distributions/${name}`, token, JSON.stringify(body)), [200, 201], `distribution ${name}`);
      },
      async close() {
        cleanupAll();
      },
    };
  } catch (err) {
    cleanupAll();
    throw err;
  }
}
