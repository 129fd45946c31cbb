/**
 * The registry under test for bench/registry.ts: the real `verge origin` in its
 * own child process over a fresh temp LMDB directory (removed on stop), and a
 * small JSON client over fetch.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BENCH_DIR } from "./rounds.ts";

const CLI = join(BENCH_DIR, "..", "src", "cli", "main.ts");
export const ADMIN = "bench-admin-token-0123456789abcdef";
export const TENANT = "bench";

export interface Registry {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * `dir`: run over this data directory (e.g. a copy of a prepared one) instead of a
 * fresh temp one; `keepDir`: leave the directory on stop (to copy or reuse it).
 */
export async function startRegistry(options: { dir?: string; keepDir?: boolean } = {}): Promise<Registry> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "verge-bench-registry-"));
  const child: ChildProcess = spawn(process.execPath, ["--no-node-snapshot", "--disable-warning=ExperimentalWarning", CLI, "origin", "--port", "0", "--host", "127.0.0.1", "--data", dir], {
    env: { ...process.env, VERGE_ADMIN_TOKEN: ADMIN, VERGE_SECRET_KEY: "bench-secret-key" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  // A bench that dies without stopping it (an uncaught error, process.exit) does not leave it behind.
  const orphan = () => child.kill("SIGKILL");
  process.once("exit", orphan);
  void exited.then(() => process.off("exit", orphan));
  const cleanup = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(t);
    }
    if (options.keepDir !== true) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`registry did not start within 20 s: ${stderr}`)), 20_000);
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`registry exited with ${code}: ${stderr}`));
      });
    });
    child.stdout!.resume();
    return { url, pid: child.pid!, stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

export async function call(url: string, method: string, path: string, token: string | null, body?: string | Buffer, contentType = "application/json"): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = contentType;
  const res = await fetch(url + path, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json };
}

export async function must(p: Promise<{ status: number; json: any }>, ok: number[], what: string): Promise<any> {
  const r = await p;
  if (!ok.includes(r.status)) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
  return r.json;
}

/** A tenant and one token for it that can publish, deploy and read its feed. */
export async function setup(url: string): Promise<string> {
  await must(call(url, "POST", "/v1/tenants", ADMIN, JSON.stringify({ name: TENANT })), [201], "create tenant");
  const t = await must(call(url, "POST", "/v1/tokens", ADMIN, JSON.stringify({ tenant: TENANT, scopes: ["publish", "deploy", "read"], name: "bench" })), [201], "create token");
  return t.token as string;
}

export const publishPath = (fn: string) => `/v1/tenants/${TENANT}/functions/${fn}/versions`;
