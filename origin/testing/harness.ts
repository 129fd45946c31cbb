/**
 * Test helpers for the registry: a real server on port 0 over a real LMDB
 * directory in a temp folder, removed on close, and a small JSON client.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Scope } from "../../src/shared/protocol.ts";
import { startOriginServer, type OriginServerOptions } from "../server.ts";

export const ADMIN = "test-admin-token-0123456789abcdef";

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestOrigin {
  url: string;
  dataDir: string;
  logs: string[];
  call<T = any>(method: string, path: string, options?: { token?: string | null; json?: unknown; body?: string | Uint8Array<ArrayBuffer>; headers?: Record<string, string> }): Promise<Reply<T>>;
  /** Creates a tenant and a token for it with the given scopes. */
  tenant(name: string, scopes?: Scope[]): Promise<string>;
  token(tenant: string | null, scopes: Scope[]): Promise<string>;
  close(): Promise<void>;
}

export async function startTestOrigin(options: Partial<OriginServerOptions> & { keepDir?: boolean } = {}): Promise<TestOrigin> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "verge-origin-"));
  const logs: string[] = [];
  const server = await startOriginServer({ port: 0, secretKey: "test-secret-key", adminToken: ADMIN, log: (l) => logs.push(l), ...options, dataDir });
  const call: TestOrigin["call"] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const token = o.token === undefined ? ADMIN : o.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body = o.body;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers["content-type"] = "application/json";
    }
    const res = await fetch(server.url + path, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, body: parsed as any, headers: res.headers };
  };
  const token: TestOrigin["token"] = async (tenant, scopes) => {
    const r = await call("POST", "/v1/tokens", { json: { tenant, scopes, name: `test ${scopes.join("+")}` } });
    if (r.status !== 201) throw new Error(`token: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.token as string;
  };
  return {
    url: server.url,
    dataDir,
    logs,
    call,
    token,
    async tenant(name, scopes = ["admin"]) {
      const r = await call("POST", "/v1/tenants", { json: { name } });
      if (r.status !== 201) throw new Error(`tenant: ${r.status} ${JSON.stringify(r.body)}`);
      return token(name, scopes);
    },
    async close() {
      await server.close();
      if (!options.keepDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A distinct valid Workers bundle per `n`. */
export function bundle(n: number | string = 0): string {
  return `export default { fetch() { return new Response(${JSON.stringify(`v${n}`)}); } };\n`;
}
