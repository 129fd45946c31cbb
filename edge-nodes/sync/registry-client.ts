/**
 * The edge node's calls to the registry (src/shared/protocol.ts wire types),
 * with a node token. A registry that cannot be reached, or answers 5xx, is
 * `ERR_REGISTRY_UNAVAILABLE`; a 4xx keeps the registry's own code, with the
 * HTTP status in `details.status`. The token never appears in a message.
 */
import type { D1Request, D1Response } from "../../src/shared/d1/index.ts";
import { VergeError } from "../../src/shared/errors.ts";
import { KV_HEADERS, type ApiErrorBody, type FeedPage, type KvExportPage, type NodeReport, type SecretValues, type Snapshot } from "../../src/shared/protocol.ts";

export interface RegistryClientOptions {
  url: string;
  token: string;
  fetch: typeof fetch;
}

export interface RegistryClient {
  readonly url: string;
  snapshot(signal?: AbortSignal): Promise<Snapshot>;
  /** One long poll. */
  feed(since: number, waitSeconds: number, signal?: AbortSignal): Promise<FeedPage>;
  /** Opens the SSE stream; resolves with the response once its headers arrived. */
  stream(since: number, signal: AbortSignal): Promise<Response>;
  bundle(digest: string, signal?: AbortSignal): Promise<Uint8Array>;
  /** A static asset's bytes by sha256 (not yet verified). */
  asset(hash: string, signal?: AbortSignal): Promise<Uint8Array>;
  secrets(tenant: string, fn: string, signal?: AbortSignal): Promise<SecretValues>;
  report(nodeId: string, report: NodeReport, signal?: AbortSignal): Promise<void>;
  /** A KV value as the registry has it now, or null when absent (or expired). */
  kvValue(tenant: string, ns: string, key: string, signal?: AbortSignal): Promise<{ value: Uint8Array; digest: string; seq: number } | null>;
  /** One page of `GET /v1/kv/export`. */
  kvExport(after: string | undefined, signal?: AbortSignal): Promise<KvExportPage>;
  /** Writes a KV value on behalf of a function; resolves with the change's seq. */
  kvPut(tenant: string, ns: string, key: string, entry: { value: Uint8Array; expiration?: number | undefined; metadata?: string | undefined }, signal?: AbortSignal): Promise<number>;
  /** Deletes a KV value; resolves with the change's seq, or null when there was nothing to delete. */
  kvDelete(tenant: string, ns: string, key: string, signal?: AbortSignal): Promise<number | null>;
  /** A request with the node token whose response is the caller's to read, whatever its status (R2, sync/r2.ts); unreachable: ERR_REGISTRY_UNAVAILABLE. */
  send(path: string, init: RequestInit & { what: string }): Promise<Response>;
  /** Runs a D1 request on the tenant's database at the registry (its one primary). */
  d1Query(tenant: string, database: string, request: D1Request, signal?: AbortSignal): Promise<D1Response>;
}

/** True when the error says the registry could not be reached (not that it refused). */
export function isUnavailable(err: unknown): boolean {
  return (err as { code?: unknown })?.code === "ERR_REGISTRY_UNAVAILABLE";
}

export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const base = options.url.replace(/\/+$/, "");
  const headers = { authorization: `Bearer ${options.token}` };

  async function send(path: string, init: RequestInit & { what: string }): Promise<Response> {
    try {
      return await options.fetch(base + path, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
    } catch (err) {
      const reason = (err as Error)?.name === "AbortError" || (err as Error)?.name === "TimeoutError" ? "timed out or was aborted" : `failed: ${(err as Error)?.message ?? String(err)}`;
      throw new VergeError("ERR_REGISTRY_UNAVAILABLE", `${init.what} from the registry at ${base} ${reason}`, { cause: err });
    }
  }

  async function call(path: string, init: RequestInit & { what: string }): Promise<Response> {
    const res = await send(path, init);
    if (res.ok) return res;
    let body: Partial<ApiErrorBody> | undefined;
    try {
      body = (await res.json()) as Partial<ApiErrorBody>;
    } catch {
      body = undefined;
    }
    const said = body?.error?.code;
    const code = res.status >= 500 || typeof said !== "string" || !said.startsWith("ERR_") ? "ERR_REGISTRY_UNAVAILABLE" : (said as `ERR_${string}`);
    const message = typeof body?.error?.message === "string" ? `: ${body.error.message.slice(0, 500)}` : "";
    throw new VergeError(code, `${init.what} from the registry at ${base}: HTTP ${res.status}${message}`, { details: { status: res.status } });
  }

  const json = async <T>(path: string, what: string, signal?: AbortSignal): Promise<T> => {
    const res = await call(path, { what, ...(signal === undefined ? {} : { signal }) });
    try {
      return (await res.json()) as T;
    } catch (err) {
      throw new VergeError("ERR_REGISTRY_UNAVAILABLE", `${what} from the registry at ${base}: the answer was cut or is not JSON`, { cause: err });
    }
  };

  return {
    url: base,
    snapshot: (signal) => json<Snapshot>("/v1/snapshot", "snapshot", signal),
    feed: (since, wait, signal) => json<FeedPage>(`/v1/feed?since=${since}&wait=${wait}`, `feed since ${since}`, signal),
    stream: (since, signal) => call(`/v1/feed/stream?since=${since}`, { what: `feed stream since ${since}`, signal, headers: { accept: "text/event-stream" } }),
    async bundle(digest, signal) {
      const res = await call(`/v1/bundles/${digest}`, { what: `bundle ${digest.slice(0, 12)}…`, ...(signal === undefined ? {} : { signal }) });
      try {
        return new Uint8Array(await res.arrayBuffer());
      } catch (err) {
        throw new VergeError("ERR_REGISTRY_UNAVAILABLE", `bundle ${digest.slice(0, 12)}… from the registry at ${base}: the download was cut`, { cause: err });
      }
    },
    async asset(hash, signal) {
      const res = await call(`/v1/assets/${hash}`, { what: `asset ${hash.slice(0, 12)}…`, ...(signal === undefined ? {} : { signal }) });
      try {
        return new Uint8Array(await res.arrayBuffer());
      } catch (err) {
        throw new VergeError("ERR_REGISTRY_UNAVAILABLE", `asset ${hash.slice(0, 12)}… from the registry at ${base}: the download was cut`, { cause: err });
      }
    },
    secrets: (tenant, fn, signal) => json<SecretValues>(`/v1/tenants/${tenant}/functions/${fn}/secrets/values`, `secret values of ${tenant}/${fn}`, signal),
    async kvValue(tenant, ns, key, signal) {
      const path = `/v1/tenants/${tenant}/kv/${ns}/values/${encodeURIComponent(key)}`;
      let res: Response;
      try {
        res = await call(path, { what: `KV value of ${tenant}/${ns}`, ...(signal === undefined ? {} : { signal }) });
      } catch (err) {
        if ((err as VergeError).code === "ERR_NOT_FOUND") return null;
        throw err;
      }
      return { value: new Uint8Array(await res.arrayBuffer()), digest: res.headers.get(KV_HEADERS.digest) ?? "", seq: Number(res.headers.get(KV_HEADERS.seq)) };
    },
    send,
    kvExport: (after, signal) => json<KvExportPage>(`/v1/kv/export${after === undefined ? "" : `?after=${encodeURIComponent(after)}`}`, "KV export", signal),
    async kvPut(tenant, ns, key, entry, signal) {
      const query = entry.expiration === undefined ? "" : `?expiration=${entry.expiration}`;
      const res = await call(`/v1/tenants/${tenant}/kv/${ns}/values/${encodeURIComponent(key)}${query}`, {
        what: `KV put in ${tenant}/${ns}`,
        method: "PUT",
        body: entry.value as Uint8Array<ArrayBuffer>,
        headers: { "content-type": "application/octet-stream", ...(entry.metadata === undefined ? {} : { [KV_HEADERS.metadata]: encodeURIComponent(entry.metadata) }) },
        ...(signal === undefined ? {} : { signal }),
      });
      return ((await res.json()) as { seq: number }).seq;
    },
    async kvDelete(tenant, ns, key, signal) {
      const res = await call(`/v1/tenants/${tenant}/kv/${ns}/values/${encodeURIComponent(key)}`, { what: `KV delete in ${tenant}/${ns}`, method: "DELETE", ...(signal === undefined ? {} : { signal }) });
      return ((await res.json()) as { seq: number | null }).seq;
    },
    async d1Query(tenant, database, request, signal) {
      const what = `D1 query on ${tenant}/${database}`;
      const res = await call(`/v1/tenants/${tenant}/d1/${database}/query`, { what, method: "POST", body: JSON.stringify(request), headers: { "content-type": "application/json" }, ...(signal === undefined ? {} : { signal }) });
      try {
        return (await res.json()) as D1Response;
      } catch (err) {
        throw new VergeError("ERR_REGISTRY_UNAVAILABLE", `${what} from the registry at ${base}: the answer was cut or is not JSON`, { cause: err });
      }
    },
    async report(nodeId, report, signal) {
      const res = await call(`/v1/nodes/${nodeId}/report`, {
        what: `report of node "${nodeId}"`,
        method: "POST",
        body: JSON.stringify(report),
        headers: { "content-type": "application/json" },
        ...(signal === undefined ? {} : { signal }),
      });
      await res.body?.cancel();
    },
  };
}
