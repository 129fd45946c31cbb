/**
 * A real fleet for tests: a registry on port 0 over a temp LMDB directory, N
 * edge nodes (in this process, or supervised with workers), a real origin web
 * server, and helpers to publish functions, write distributions, wait until
 * every node applied a change, and send requests with any Host header.
 */
import { createServer as createNetServer } from "node:net";
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestOrigin, type TestOrigin } from "../../origin/testing/harness.ts";
import { startEdgeNode, type EdgeNode, type EdgeNodeOptions } from "../../edge-nodes/server.ts";

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface TestWebOrigin {
  url: string;
  port: number;
  /** Requests the origin received, newest last. */
  seen: Array<{ method: string; url: string; headers: Record<string, string | string[] | undefined>; body: string }>;
  close(): Promise<void>;
}

/** An origin whose behaviour a test sets per request: `handler` gets the request and its body. */
export async function startWebOrigin(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<TestWebOrigin> {
  const seen: TestWebOrigin["seen"] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface Fleet {
  registry: TestOrigin;
  tenant: string;
  tenantToken: string;
  nodeToken: string;
  nodes: EdgeNode[];
  /** Creates/updates the function, publishes `source`, points alias `live` at it; returns the digest. */
  publish(name: string, source: string, config?: Record<string, unknown>): Promise<string>;
  /** Writes a distribution; returns the change's sequence number. */
  distribution(name: string, body: unknown): Promise<number>;
  /** Waits until every node reports having applied `seq` (registry head by default). */
  waitApplied(seq?: number): Promise<void>;
  /** One request to node `i` with the given Host. */
  get(i: number, host: string, path: string, init?: { method?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Reply>;
  startNode(i: number): Promise<EdgeNode>;
  /** Closes the registry, keeping its data directory (nodes lose their feed). */
  stopRegistry(): Promise<void>;
  /** Starts the registry again on the same port over the same data directory. */
  restartRegistry(): Promise<TestOrigin>;
  close(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now (a supervised node needs a fixed port: its url is built from it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startFleet(options: { nodes?: number; workers?: number; tenant?: string; nodeOptions?: (i: number) => Partial<EdgeNodeOptions> } = {}): Promise<Fleet> {
  let registry = await startTestOrigin({ keepDir: true });
  let registryUp = true;
  const tenant = options.tenant ?? "acme";
  const tenantToken = await registry.tenant(tenant, ["publish", "deploy", "read", "admin"]);
  const nodeToken = await registry.token(null, ["node"]);
  const dirs: string[] = [];
  const nodes: EdgeNode[] = [];
  const count = options.nodes ?? 2;
  const startNode = async (i: number) => {
    dirs[i] ??= mkdtempSync(join(tmpdir(), `verge-edge-${i}-`));
    const node = await startEdgeNode({
      registry: { url: registry.url, token: nodeToken },
      nodeId: `node-${i}`,
      region: `region-${i}`,
      dataDir: dirs[i]!,
      port: (options.workers ?? 0) > 0 ? await freePort() : 0,
      host: "127.0.0.1",
      workers: options.workers ?? 0,
      allowPrivateSubrequests: true,
      log: () => {},
      ...options.nodeOptions?.(i),
    });
    nodes[i] = node;
    return node;
  };
  for (let i = 0; i < count; i++) await startNode(i);
  const as = { token: tenantToken };
  const fleet: Fleet = {
    registry,
    tenant,
    tenantToken,
    nodeToken,
    nodes,
    async publish(name, source, config = {}) {
      const f = await registry.call("PUT", `/v1/tenants/${tenant}/functions/${name}`, { ...as, json: { config } });
      if (f.status >= 300) throw new Error(`function ${name}: ${f.status} ${JSON.stringify(f.body)}`);
      const v = await registry.call("POST", `/v1/tenants/${tenant}/functions/${name}/versions`, { ...as, body: new TextEncoder().encode(source), headers: { "content-type": "text/javascript" } });
      if (v.status >= 300) throw new Error(`publish ${name}: ${v.status} ${JSON.stringify(v.body)}`);
      const a = await registry.call("PUT", `/v1/tenants/${tenant}/functions/${name}/aliases/live`, { ...as, json: { version: v.body.digest } });
      if (a.status >= 300) throw new Error(`alias ${name}: ${a.status} ${JSON.stringify(a.body)}`);
      return v.body.digest as string;
    },
    async distribution(name, body) {
      const r = await registry.call("PUT", `/v1/tenants/${tenant}/distributions/${name}`, { ...as, json: body });
      if (r.status >= 300) throw new Error(`distribution ${name}: ${r.status} ${JSON.stringify(r.body)}`);
      return Number(r.headers.get("x-verge-seq"));
    },
    async waitApplied(seq) {
      const target = seq ?? (await registry.call("GET", "/v1/health")).body.seq;
      const deadline = Date.now() + 20_000;
      for (;;) {
        const r = await registry.call("GET", `/v1/changes/${target}`);
        if (r.status === 200 && r.body.applied.length >= nodes.length) return;
        if (Date.now() > deadline) throw new Error(`nodes did not apply change ${target}: ${JSON.stringify(r.body)}`);
        await new Promise((res) => setTimeout(res, 20));
      }
    },
    get(i, host, path, init = {}) {
      const url = new URL(path, nodes[i]!.url);
      return new Promise((resolve, reject) => {
        const req = httpRequest(
          { host: url.hostname, port: url.port, path: url.pathname + url.search, method: init.method ?? "GET", headers: { host, ...init.headers }, agent: false },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
            res.on("error", reject);
          },
        );
        req.on("error", reject);
        req.end(init.body);
      });
    },
    startNode,
    async stopRegistry() {
      if (registryUp) await registry.close();
      registryUp = false;
    },
    async restartRegistry() {
      if (registryUp) await registry.close();
      registry = await startTestOrigin({ port: Number(new URL(registry.url).port), dataDir: registry.dataDir, keepDir: true });
      registryUp = true;
      fleet.registry = registry;
      return registry;
    },
    async close() {
      for (const n of nodes) await n?.close().catch(() => {});
      if (registryUp) await registry.close();
      rmSync(registry.dataDir, { recursive: true, force: true });
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
  return fleet;
}

/** A Lambda@Edge handler source from the body of `async (event) => { ... }` with `cf` = the record's cf. */
export function lambda(body: string): string {
  return `export const handler = async (event, context) => { const cf = event.Records[0].cf; ${body} };\n`;
}
