/**
 * The servers bench/edge.ts puts under load, all on 127.0.0.1: a plain origin
 * web server, a verge fleet (the real `verge origin` registry as a child
 * process, edge nodes through `startEdgeNode`, functions published and
 * distributions written over the registry's HTTP API), `workerd serve` with a
 * Worker, a bare Hono app on @hono/node-server and a bare node:http server.
 */
import { spawn } from "node:child_process";
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ADMIN, TENANT, call, must, setup, startRegistry } from "./registry-server.ts";
import { freePort } from "./proc.ts";
import { workerdBinary, workerdConfig } from "./workerd.ts";

export interface Running {
  url: string;
  close(): Promise<void>;
}

/** An origin answering every GET with a small body and `cache-control: max-age=600`. */
export async function startPlainOrigin(): Promise<Running> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=600" }).end("hello from the origin"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface VergeFleet {
  nodes: Running[];
  /** Publishes `source` as a new version of `name` (created if new) and moves alias `live` to it. */
  publish(name: string, source: string): Promise<string>;
  distribution(name: string, body: unknown): Promise<void>;
  close(): Promise<void>;
}

/** A registry (child process) and `nodes` edge nodes in this process (`workers` worker processes each). */
export async function startVergeFleet(nodes: number, workers: number): Promise<VergeFleet> {
  const { startEdgeNode } = await import("../../edge-nodes/server.ts");
  const registry = await startRegistry();
  const dirs: string[] = [];
  const running: Running[] = [];
  const close = async () => {
    for (const n of running) await n.close().catch(() => {});
    await registry.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  try {
    const token = await setup(registry.url);
    const nodeToken = (await must(call(registry.url, "POST", "/v1/tokens", ADMIN, JSON.stringify({ tenant: null, scopes: ["node"], name: "bench-node" })), [201], "node token")).token as string;
    for (let i = 0; i < nodes; i++) {
      const dir = mkdtempSync(join(tmpdir(), `verge-bench-edge-${i}-`));
      dirs.push(dir);
      const node = await startEdgeNode({
        registry: { url: registry.url, token: nodeToken },
        nodeId: `bench-${i}`,
        region: `r${i}`,
        dataDir: dir,
        port: workers === 0 ? 0 : await freePort(),
        host: "127.0.0.1",
        workers,
        allowPrivateSubrequests: true,
        log: () => {},
      });
      running.push(node);
    }
    const base = `/v1/tenants/${TENANT}`;
    return {
      nodes: running,
      async publish(name, source) {
        await must(call(registry.url, "PUT", `${base}/functions/${name}`, token, JSON.stringify({ config: {} })), [200, 201], `function ${name}`);
        const v = await must(call(registry.url, "POST", `${base}/functions/${name}/versions`, token, source, "text/javascript"), [200, 201], `publish ${name}`);
        await must(call(registry.url, "PUT", `${base}/functions/${name}/aliases/live`, token, JSON.stringify({ version: v.digest })), [200, 201], `alias ${name}`);
        return v.digest as string;
      },
      async distribution(name, body) {
        await must(call(registry.url, "PUT", `${base}/distributions/${name}`, token, JSON.stringify(body)), [200, 201], `distribution ${name}`);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

const agent = new Agent({ keepAlive: true });

/** One GET with a Host header (fetch would not send it), over a keep-alive agent. */
export function get(url: string, host: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { host }, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.setTimeout(5_000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** GET with a Host header until `ok(status, body)` (or `timeoutMs`); returns the last body. */
export async function waitFor(url: string, host: string, ok: (status: number, body: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let status = 0;
    let body = "";
    try {
      ({ status, body } = await get(url, host));
    } catch {}
    if (ok(status, body)) return body;
    if (performance.now() > deadline) throw new Error(`${url} (Host ${host}) not ready within ${timeoutMs} ms: last ${status} ${body.slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `workerd serve` of an ES-module Worker on a free port, in its own process group. */
export async function startWorkerd(script: string): Promise<Running & { pid: number }> {
  const bin = await workerdBinary();
  if (bin === null) throw new Error("workerd binary not found (the `workerd` package comes with miniflare)");
  const dir = mkdtempSync(join(tmpdir(), "verge-bench-workerd-"));
  const port = await freePort();
  writeFileSync(join(dir, "worker.js"), script);
  writeFileSync(
    join(dir, "config.capnp"),
    workerdConfig(port),
  );
  // In the variant's process group: killing the variant (timeout) ends workerd too.
  const child = spawn(bin, ["serve", join(dir, "config.capnp")], { stdio: ["ignore", "ignore", "ignore"] });
  const close = async () => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitFor(url, "hello.test", (s) => s === 200, 10_000);
  } catch (err) {
    await close();
    throw err;
  }
  return { url, pid: child.pid!, close };
}

/** A bare node:http hello world (the floor under any Node server), in this process. */
export async function startNodeHttp(): Promise<Running> {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/plain; charset=UTF-8" }).end("hello world");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A bare Hono hello world on @hono/node-server, in this process. */
export async function startHono(): Promise<Running> {
  const { Hono } = await import("hono");
  const { serve } = await import("@hono/node-server");
  const app = new Hono();
  app.get("*", (c) => c.text("hello world"));
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as Server)) as Server;
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
