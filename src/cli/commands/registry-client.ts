/** The CLI's client for the registry API: `--origin`/`--token` or VERGE_ORIGIN/VERGE_TOKEN, errors as VergeErrors. */
import { VergeError } from "../../shared/errors.ts";
import type { ApiErrorBody, WhoAmI } from "../../shared/protocol.ts";
import { UsageError } from "../output.ts";

export const CONNECTION_OPTIONS = {
  origin: { type: "string" },
  token: { type: "string" },
  tenant: { type: "string" },
  json: { type: "boolean" },
} as const;

export const CONNECTION_HELP = `  --origin <url>    registry URL (or VERGE_ORIGIN)
  --token <token>   API token (or VERGE_TOKEN)
  --tenant <name>   tenant (default: the token's own)
  --json            machine-readable output`;

export interface RegistryClient {
  origin: string;
  call<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Headers }>;
  /** The tenant to act in: `--tenant`, or the token's own. */
  tenant(): Promise<string>;
}

export function connect(values: { origin?: string | undefined; token?: string | undefined; tenant?: string | undefined }): RegistryClient {
  const origin = (values.origin ?? process.env.VERGE_ORIGIN ?? "").replace(/\/+$/, "");
  const token = values.token ?? process.env.VERGE_TOKEN;
  if (origin === "") throw new UsageError("no registry: pass --origin <url> or set VERGE_ORIGIN");
  if (token === undefined || token === "") throw new UsageError("no token: pass --token <token> or set VERGE_TOKEN");
  const call: RegistryClient["call"] = async (method, path, body, headers = {}) => {
    let res: Response;
    const init: RequestInit = { method, headers: { authorization: `Bearer ${token}`, ...headers } };
    if (body instanceof Uint8Array || typeof body === "string") init.body = body as string | Uint8Array<ArrayBuffer>;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] = "application/json";
    }
    try {
      res = await fetch(origin + path, init);
    } catch (err) {
      throw new VergeError("ERR_ORIGIN_UNREACHABLE", `cannot reach the registry at ${origin}: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}`);
    }
    const text = await res.text();
    const parsed = text === "" ? undefined : JSON.parse(text);
    if (!res.ok) {
      const e = (parsed as ApiErrorBody | undefined)?.error;
      const message = `${e?.message ?? `HTTP ${res.status}`}${e?.requestId ? ` (request ${e.requestId})` : ""}`;
      // A 4xx is the caller's to fix: a plain error (exit 1, no "bug or outage" note) that names the code.
      if (res.status < 500) throw new Error(`${e?.code ?? `HTTP ${res.status}`}: ${message}`);
      throw new VergeError((e?.code ?? "ERR_INTERNAL") as `ERR_${string}`, message);
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    origin,
    call,
    async tenant() {
      if (values.tenant !== undefined) return values.tenant;
      const me = (await call<WhoAmI>("GET", "/v1/whoami")).body;
      if (me.tenant === null) throw new UsageError("this is an operator token: pass --tenant <name>");
      return me.tenant;
    },
  };
}

export function print(json: boolean | undefined, value: unknown, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human}\n`);
}
