/**
 * Publishes `verge up`'s demo through the registry's HTTP API, as a user would
 * with `verge publish`, `verge alias set` and `verge deploy`: tenant `demo`, one
 * function per dialect aliased `live`, and distribution `demo` on localhost.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundle } from "../../build/bundle.ts";
import { VergeError } from "../../shared/errors.ts";
import type { ChangeStatus, CreatedToken, Health, VersionInfo } from "../../shared/protocol.ts";

export interface DemoOptions {
  registry: string;
  adminToken: string;
  originUrl: string;
  dataDir: string;
}

export interface DeployedDemo {
  nodeToken: string;
  tenantToken: string;
  /** Resolves once `count` live nodes have applied everything the demo wrote. */
  waitForNodes(count: number, timeoutMs: number): Promise<void>;
}

const FUNCTIONS = [
  { name: "auth", file: "auth.js", env: {} },
  { name: "rewrite", file: "rewrite.js", env: {} },
  { name: "api", file: "hello.js", env: { GREETING: "Hello from verge" } },
  { name: "hash", file: "api.js", env: {} },
];

export async function deployDemo(o: DemoOptions): Promise<DeployedDemo> {
  const call = client(o.registry);
  const admin = call(o.adminToken);
  await admin("POST", "/v1/tenants", { name: "demo" }, [409]);
  const nodeToken = await token(join(o.dataDir, "node.token"), admin, { tenant: null, scopes: ["node"], name: "verge up edge nodes" }, call);
  const tenantToken = await token(join(o.dataDir, "demo.token"), admin, { tenant: "demo", scopes: ["publish", "deploy", "read"], name: "verge up" }, call);
  const demo = call(tenantToken);

  for (const f of FUNCTIONS) {
    await demo("PUT", `/v1/tenants/demo/functions/${f.name}`, { config: { env: f.env } });
    const built = await bundle(fileURLToPath(new URL(`./${f.file}`, import.meta.url)));
    const version = (await demo("POST", `/v1/tenants/demo/functions/${f.name}/versions`, new TextEncoder().encode(built.code))) as VersionInfo;
    await demo("PUT", `/v1/tenants/demo/functions/${f.name}/aliases/live`, { version: version.digest });
  }
  const live = (fn: string) => ({ function: fn, alias: "live", includeBody: false });
  await demo("PUT", "/v1/tenants/demo/distributions/demo", {
    hostnames: ["localhost", "127.0.0.1"],
    origins: [{ id: "demo-origin", url: o.originUrl, connectTimeoutMs: 2000, readTimeoutMs: 10000, customHeaders: { "x-from-edge": "verge" } }],
    behaviors: [
      { pathPattern: "/api/*", originId: "demo-origin", functions: { "viewer-request": live("api") } },
      { pathPattern: "/hash", originId: "demo-origin", functions: { "viewer-request": live("hash") } },
    ],
    defaultBehavior: { originId: "demo-origin", functions: { "viewer-request": live("auth"), "origin-response": live("rewrite") } },
  });
  const head = ((await admin("GET", "/v1/health")) as Health).seq;

  return {
    nodeToken,
    tenantToken,
    async waitForNodes(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let last: ChangeStatus | undefined;
      while (Date.now() < deadline) {
        last = (await admin("GET", `/v1/changes/${head}`)) as ChangeStatus;
        if (last.applied.length >= count && last.complete) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new VergeError("ERR_TIMEOUT", `after ${timeoutMs} ms only ${last?.applied.length ?? 0} of ${count} edge nodes had applied change ${head} (applied: ${last?.applied.join(", ") || "none"}; pending: ${last?.pending.join(", ") || "none"}); see the [edge-N] lines above`);
    },
  };
}

type Call = (method: string, path: string, body?: unknown, okStatuses?: number[]) => Promise<unknown>;

function client(base: string): (bearer: string) => Call {
  return (bearer) => async (method, path, body, okStatuses = []) => {
    const headers: Record<string, string> = { authorization: `Bearer ${bearer}` };
    let payload: string | Uint8Array<ArrayBuffer> | undefined;
    if (body instanceof Uint8Array) {
      payload = body as Uint8Array<ArrayBuffer>;
      headers["content-type"] = "text/javascript";
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["content-type"] = "application/json";
    }
    const res = await fetch(base + path, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    const text = await res.text();
    if (!res.ok && !okStatuses.includes(res.status)) throw new VergeError("ERR_DEMO_SETUP", `${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
    return text === "" ? undefined : JSON.parse(text);
  };
}

/** A token kept in the data dir, made again if the registry no longer knows it (a wiped registry dir). */
async function token(file: string, admin: Call, spec: object, call: (bearer: string) => Call): Promise<string> {
  if (existsSync(file)) {
    const saved = readFileSync(file, "utf8").trim();
    try {
      await call(saved)("GET", "/v1/whoami");
      return saved;
    } catch {
      // fall through: make a new one
    }
  }
  const created = (await admin("POST", "/v1/tokens", { ...spec, name: `${(spec as { name: string }).name} ${randomBytes(3).toString("hex")}` })) as CreatedToken;
  writeFileSync(file, created.token, { mode: 0o600 });
  return created.token;
}
