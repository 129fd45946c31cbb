/**
 * R2 on an edge node: the runtime's R2Storage for one binding, each operation a
 * call to the registry's R2 API (origin/routes/r2.ts) with the node token. R2
 * is central, as in Cloudflare: nothing is kept on the node. Bodies stream both
 * ways (a put's body is sent as it is produced, a get's is handed to the
 * function as it arrives). Each call waits at most `timeoutMs` for the
 * registry's answer (for a put, that includes sending the body); a registry
 * that cannot be reached fails the call with an Error saying so, and R2's own
 * errors keep R2's message.
 */
import { VergeError } from "../../src/shared/errors.ts";
import type { ApiErrorBody } from "../../src/shared/protocol.ts";
import type { R2ListOptionsWire, R2ObjectWire } from "../../src/shared/r2-rules.ts";
import type { R2GetResult, R2Storage } from "../../src/shared/r2-store.ts";
import { R2_HEADERS, decodeHeaderJson, encodeHeaderJson, isRecord, parseObjectWire } from "../../src/shared/r2-wire.ts";
import type { RegistryClient } from "./registry-client.ts";

/** How long one R2 call waits for the registry's answer, by default. */
export const R2_REQUEST_TIMEOUT_MS = 60_000;

export interface EdgeR2Options {
  client: RegistryClient;
  tenant: string;
  bucket: string;
  timeoutMs?: number;
}

export function createEdgeR2Storage(options: EdgeR2Options): R2Storage {
  const { client, tenant, bucket } = options;
  const timeoutMs = options.timeoutMs ?? R2_REQUEST_TIMEOUT_MS;
  const base = `/v1/tenants/${encodeURIComponent(tenant)}/r2/${encodeURIComponent(bucket)}`;
  const objectPath = (key: string, extra = "") => `${base}/object?key=${encodeURIComponent(key)}${extra}`;

  /** One call; the timer stops once the answer's head is here (a body then streams at its own pace). */
  async function send(op: string, path: string, init: RequestInit): Promise<Response> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new DOMException(`R2 ${op} timed out`, "TimeoutError")), timeoutMs);
    try {
      return await client.send(path, { ...init, signal: abort.signal, what: `R2 ${op} in bucket ${bucket}` });
    } catch (err) {
      const e = err as VergeError;
      // What the function sees: the registry is down, or too slow.
      throw new Error(`R2 ${op}: the registry could not be reached (${e.message}); the bucket "${bucket}" is kept there, so R2 is unavailable until it is back`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /** A non-2xx answer as the error the function sees: R2's message for a 4xx, the registry's trouble otherwise. */
  async function failure(op: string, res: Response): Promise<Error> {
    let body: Partial<ApiErrorBody> | undefined;
    try {
      body = (await res.json()) as Partial<ApiErrorBody>;
    } catch {
      body = undefined;
    }
    const message = typeof body?.error?.message === "string" ? body.error.message : `HTTP ${res.status}`;
    if (res.status >= 400 && res.status < 500 && /\(\d+\)$/.test(message)) return new Error(message);
    if (res.status === 400) return new TypeError(message);
    return new Error(`R2 ${op}: the registry answered HTTP ${res.status}: ${message.slice(0, 300)}`);
  }

  async function json<T>(op: string, res: Response): Promise<T> {
    if (!res.ok) throw await failure(op, res);
    return (await res.json()) as T;
  }

  return {
    async head(key) {
      const res = await send("head", objectPath(key, "&metadata"), {});
      if (res.status === 404) {
        await res.body?.cancel();
        return null;
      }
      const r = await json<{ object: unknown }>("head", res);
      return parseObjectWire(r.object);
    },
    async get(key, { range, onlyIf }): Promise<R2GetResult | null> {
      const res = await send("get", objectPath(key), { headers: { [R2_HEADERS.get]: encodeHeaderJson({ range, onlyIf }) } });
      if (res.status === 404) {
        await res.body?.cancel();
        return null;
      }
      if (res.status !== 200 && res.status !== 206 && res.status !== 412) throw await failure("get", res);
      const object = parseObjectWire(decodeHeaderJson(R2_HEADERS.object, res.headers.get(R2_HEADERS.object)));
      const [offset, length] = (res.headers.get(R2_HEADERS.range) ?? "").split(",").map(Number);
      const r = { offset: offset ?? 0, length: length ?? object.size };
      if (res.status === 412) {
        await res.body?.cancel();
        return { object, range: r, body: null };
      }
      const body = res.body === null ? (async function* () {})() : (res.body as unknown as AsyncIterable<Uint8Array>);
      return { object, range: r, body };
    },
    async put(key, body, o) {
      const init = bodyInit("PUT", body, { [R2_HEADERS.put]: encodeHeaderJson(o) });
      const r = await json<{ object: unknown }>("put", await send("put", objectPath(key), init));
      return r.object === null ? null : parseObjectWire(r.object);
    },
    async delete(keys) {
      await json("delete", await send("delete", `${base}/delete`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ keys }) }));
    },
    async list(o: R2ListOptionsWire) {
      const q = new URLSearchParams({ limit: String(o.limit) });
      for (const k of ["prefix", "delimiter", "cursor", "startAfter"] as const) if (o[k] !== undefined) q.set(k, o[k]!);
      if (o.include.length > 0) q.set("include", o.include.join(","));
      const r = await json<unknown>("list", await send("list", `${base}/objects?${q}`, {}));
      if (!isRecord(r) || !Array.isArray(r.objects) || !Array.isArray(r.delimitedPrefixes)) throw new Error("R2 list: the registry's answer is malformed");
      const objects: R2ObjectWire[] = r.objects.map(parseObjectWire);
      return { objects, truncated: r.truncated === true, delimitedPrefixes: r.delimitedPrefixes as string[], ...(typeof r.cursor === "string" ? { cursor: r.cursor } : {}) };
    },
    async createMultipart(key, o) {
      const r = await json<{ uploadId: unknown }>("createMultipartUpload", await send("createMultipartUpload", `${base}/uploads?key=${encodeURIComponent(key)}`, { method: "POST", headers: { [R2_HEADERS.put]: encodeHeaderJson(o) } }));
      if (typeof r.uploadId !== "string") throw new Error("R2 createMultipartUpload: the registry's answer is malformed");
      return r.uploadId;
    },
    async uploadPart(key, id, n, body) {
      const init = bodyInit("PUT", body);
      const r = await json<{ partNumber: number; etag: string }>("uploadPart", await send("uploadPart", `${base}/uploads/${encodeURIComponent(id)}/parts/${n}?key=${encodeURIComponent(key)}`, init));
      return { partNumber: r.partNumber, etag: r.etag };
    },
    async completeMultipart(key, id, parts) {
      const path = `${base}/uploads/${encodeURIComponent(id)}/complete?key=${encodeURIComponent(key)}`;
      const r = await json<{ object: unknown }>("completeMultipartUpload", await send("completeMultipartUpload", path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ parts }) }));
      return parseObjectWire(r.object);
    },
    async abortMultipart(key, id) {
      await json("abortMultipartUpload", await send("abortMultipartUpload", `${base}/uploads/${encodeURIComponent(id)}?key=${encodeURIComponent(key)}`, { method: "DELETE" }));
    },
    close: async () => {},
  };
}

/** A request whose body is bytes, nothing, or a stream sent as it is produced. */
function bodyInit(method: string, body: Uint8Array | AsyncIterable<Uint8Array> | null, headers: Record<string, string> = {}): RequestInit & { duplex?: "half" } {
  const init: RequestInit & { duplex?: "half" } = { method, headers };
  if (body instanceof Uint8Array) init.body = body as Uint8Array<ArrayBuffer>;
  else if (body !== null) {
    init.body = ReadableStream.from(body) as ReadableStream<Uint8Array>;
    init.duplex = "half";
  }
  return init;
}
