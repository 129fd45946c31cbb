/** The CLI's client for the registry API: `--origin`/`--token` or VERGE_ORIGIN/VERGE_TOKEN, errors as VergeErrors. */
import { VergeError } from "../../shared/errors.ts";
import type { ApiErrorBody, WhoAmI } from "../../shared/protocol.ts";
import { REGISTRY_HEADER, REQUEST_ID_HEADER } from "../../../origin/headers.ts";
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

/**
 * A registry path with each interpolated name as one percent-encoded segment,
 * so a name holding `?`, `#` or `/` reaches the registry whole (which refuses
 * it as ERR_INVALID_NAME) instead of cutting the path or climbing out of it.
 * "", "." and ".." cannot be escaped (URL parsers resolve `%2e%2e` too): refused here.
 *
 * @example
 * apiPath`/v1/tenants/${"acme"}/functions/${"a?b"}` // "/v1/tenants/acme/functions/a%3Fb"
 */
export function apiPath(strings: TemplateStringsArray, ...names: Array<string | number>): string {
  return strings.reduce((path, part, i) => {
    if (i === 0) return part;
    const name = String(names[i - 1]);
    if (name === "" || name === "." || name === "..") throw new UsageError(`expected a name, found ${JSON.stringify(name)}: names are ${NAME_RULE}`);
    return path + encodeURIComponent(name) + part;
  }, "");
}

const NAME_RULE = "lowercase letters, digits, - or _ (at most 63)";

/** The registry URL from --origin or VERGE_ORIGIN, checked before anything is sent. */
function originOf(value: string | undefined): string {
  const origin = (value ?? process.env.VERGE_ORIGIN ?? "").replace(/\/+$/, "");
  if (origin === "") throw new UsageError("no registry: pass --origin <url> or set VERGE_ORIGIN");
  let url: URL | undefined;
  try {
    url = new URL(origin);
  } catch {}
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new UsageError(`--origin: expected an http:// or https:// URL, found ${JSON.stringify(origin.slice(0, 200))} (from ${value === undefined ? "VERGE_ORIGIN" : "--origin"})`);
  }
  return origin;
}

export function connect(values: { origin?: string | undefined; token?: string | undefined; tenant?: string | undefined }): RegistryClient {
  const origin = originOf(values.origin);
  const token = values.token ?? process.env.VERGE_TOKEN;
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
    // Every registry answer says so (origin/headers.ts): without it this is another server (an edge node, a web server).
    const requestId = res.headers.get(REGISTRY_HEADER) === null ? null : res.headers.get(REQUEST_ID_HEADER);
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      if (requestId !== null) throw new VergeError("ERR_INTERNAL", `the registry answered ${method} ${path} with ${res.status} and a body that is not JSON (request ${requestId})`);
    }
    if (requestId === null && res.status >= 500) {
      throw new VergeError("ERR_ORIGIN_UNREACHABLE", `${origin} answered ${method} ${path.split("?")[0]} with ${res.status} without ${REGISTRY_HEADER}: the registry, or a proxy in front of it, is failing`);
    }
    if (requestId === null) {
      throw new VergeError("ERR_INVALID_OPTIONS", `${origin} is not a verge registry: it answered ${method} ${path.split("?")[0]} with ${res.status} and no ${REGISTRY_HEADER} header; check --origin or VERGE_ORIGIN (the registry, not an edge node or your web server)`);
    }
    if (!res.ok) {
      const e = (parsed as ApiErrorBody | undefined)?.error;
      const message = `${e?.message ?? `HTTP ${res.status}`}${e?.requestId ? ` (request ${e.requestId})` : ""}`;
      // A 4xx is the caller's to fix: a plain error (exit 1, no "bug or outage" note) that names the code.
      if (res.status < 500) throw new Error(`${e?.code ?? `HTTP ${res.status}`}: ${message}`);
      throw new VergeError((e?.code ?? "ERR_INTERNAL") as `ERR_${string}`, message);
    }
    return { status: res.status, body: parsed as never, headers: res.headers };
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
