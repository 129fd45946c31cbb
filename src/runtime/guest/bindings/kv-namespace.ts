/**
 * The Workers KV namespace object (`env.MY_KV`), as Cloudflare documents it:
 * get / getWithMetadata (text, json, arrayBuffer, stream; one key or up to 100),
 * put (string, ArrayBuffer, ArrayBufferView, ReadableStream; expiration,
 * expirationTtl, metadata), delete, list (prefix, limit, cursor).
 * https://developers.cloudflare.com/kv/api/
 *
 * It turns arguments into plain data (bytes, numbers, metadata as JSON text)
 * and results back into what Workers returns; the host half
 * (src/runtime/bindings/kv/handler.ts) checks the limits again and stores.
 * The same code runs in the isolate (guest/bindings/index.ts) and, with Node's
 * classes, as the harness's `getKVNamespace` (src/harness/kv.ts).
 */
import { KV_LIMITS, KV_TYPES, checkBulkCount, checkCacheTtl, checkKey, checkKeyName, checkMetadata, kvError, toInteger, valueTooLarge, type KvType } from "./kv-rules.ts";

/** One call to the host half: method names and shapes are KvWireMethods. */
export type KvCall = (method: string, args: unknown[]) => Promise<unknown>;

/** What the host returns for one key. */
export interface KvWireValue {
  value: Uint8Array;
  metadata: string | null;
}

export interface KvWireList {
  keys: Array<{ name: string; expiration?: number; metadata?: string }>;
  cursor?: string;
}

/** The realm's own classes, passed in so the guest uses the ones it captured before user code ran. */
export interface KvRealm {
  encode(s: string): Uint8Array;
  decode(b: Uint8Array): string;
  parseJson(s: string): unknown;
  stringifyJson(v: unknown): string | undefined;
  isReadableStream(v: unknown): boolean;
  /** A ReadableStream of `bytes` (one chunk). */
  bytesStream(bytes: Uint8Array): unknown;
  /** Reads a stream to its end; past `max` bytes it keeps counting but returns only the total. */
  readStream(stream: unknown, max: number): Promise<Uint8Array | number>;
  newMap(): Map<string, unknown>;
}

export const KV_WIRE_METHODS = ["get", "getBulk", "put", "delete", "list"];

function typeOf(options: unknown): KvType {
  const t = options === undefined || options === null ? undefined : typeof options === "object" ? (options as { type?: unknown }).type : options;
  const type = t === undefined ? "text" : String(t);
  if (!(KV_TYPES as readonly string[]).includes(type)) throw new TypeError('Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".');
  return type as KvType;
}

function cacheTtlOf(options: unknown): number | undefined {
  return options !== null && typeof options === "object" ? toInteger((options as { cacheTtl?: unknown }).cacheTtl) : undefined;
}

function keyArg(method: string, key: unknown): string {
  if (key === undefined) throw new TypeError(`Failed to execute '${method}' on 'KvNamespace': parameter 1 is not of type 'string${method === "delete" ? "" : " or Array"}'.`);
  return String(key);
}

export function createKvNamespace(call: KvCall, realm: KvRealm): object {
  const convert = (bytes: Uint8Array, type: KvType): unknown => {
    switch (type) {
      case "text":
        return realm.decode(bytes);
      case "json":
        return realm.parseJson(realm.decode(bytes));
      case "arrayBuffer":
        return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
      case "stream":
        return realm.bytesStream(bytes);
    }
  };
  const parseMeta = (m: string | null | undefined): unknown => (m === null || m === undefined ? null : realm.parseJson(m));

  async function bulk(keys: unknown[], options: unknown, withMetadata: boolean): Promise<Map<string, unknown>> {
    const t = options === undefined || options === null ? undefined : typeof options === "object" ? (options as { type?: unknown }).type : options;
    const type = t === undefined ? "text" : String(t);
    if (type !== "text" && type !== "json") throw kvError("GET_BULK", 400, `"${type}" is not a valid type. Use "json" or "text"`);
    checkBulkCount(keys.length);
    const names = keys.map((k) => String(k));
    const cacheTtl = cacheTtlOf(options);
    for (const k of names) {
      checkKey("GET_BULK", k);
      checkCacheTtl("GET_BULK", k, cacheTtl);
    }
    const found = (await call("getBulk", [names, cacheTtl])) as Array<KvWireValue | null>;
    const out = realm.newMap();
    names.forEach((name, i) => {
      const hit = found[i];
      let value: unknown = null;
      if (hit !== null && hit !== undefined) {
        try {
          value = convert(hit.value, type);
        } catch {
          throw kvError("GET_BULK", 400, `At least one of the requested keys corresponds to a non-${type} value`);
        }
      }
      out.set(name, withMetadata && hit ? { value, metadata: parseMeta(hit.metadata) } : value);
    });
    return out;
  }

  async function getOne(key: unknown, options: unknown): Promise<{ value: unknown; metadata: unknown }> {
    const name = keyArg("get", key);
    const type = typeOf(options);
    checkKey("GET", name);
    const cacheTtl = cacheTtlOf(options);
    checkCacheTtl("GET", name, cacheTtl);
    const hit = (await call("get", [name, cacheTtl])) as KvWireValue | null;
    if (hit === null) return { value: null, metadata: null };
    return { value: convert(hit.value, type), metadata: parseMeta(hit.metadata) };
  }

  async function valueBytes(key: string, value: unknown): Promise<Uint8Array> {
    if (value === undefined) throw new TypeError("Failed to execute 'put' on 'KvNamespace': parameter 2 is not of type 'string or JsObject'.");
    let bytes: Uint8Array;
    if (typeof value === "string") bytes = realm.encode(value);
    else if (value instanceof ArrayBuffer) bytes = new Uint8Array(value.slice(0));
    else if (ArrayBuffer.isView(value)) bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
    else if (realm.isReadableStream(value)) {
      const read = await realm.readStream(value, KV_LIMITS.maxValueBytes);
      if (typeof read === "number") throw valueTooLarge(key, read);
      bytes = read;
    } else if (value !== null && (typeof value === "object" || typeof value === "function")) {
      throw new TypeError("KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.");
    } else bytes = realm.encode(String(value));
    if (bytes.byteLength > KV_LIMITS.maxValueBytes) throw valueTooLarge(key, bytes.byteLength);
    return bytes;
  }

  const ns = {
    async get(key: unknown, options?: unknown): Promise<unknown> {
      if (Array.isArray(key)) return bulk(key, options, false);
      return (await getOne(key, options)).value;
    },
    async getWithMetadata(key: unknown, options?: unknown): Promise<unknown> {
      if (Array.isArray(key)) return bulk(key, options, true);
      const r = await getOne(key, options);
      return { value: r.value, metadata: r.metadata, cacheStatus: null };
    },
    async put(key: unknown, value?: unknown, options?: unknown): Promise<void> {
      const name = keyArg("put", key);
      checkKey("PUT", name);
      const o = (options !== null && typeof options === "object" ? options : {}) as { expiration?: unknown; expirationTtl?: unknown; metadata?: unknown };
      let metadata: string | undefined;
      if (o.metadata !== undefined && o.metadata !== null) {
        metadata = realm.stringifyJson(o.metadata);
        if (metadata === undefined) throw new TypeError(`KV put(): the metadata of key ${JSON.stringify(name)} is not serializable as JSON.`);
        checkMetadata(name, metadata);
      }
      const bytes = await valueBytes(name, value);
      await call("put", [name, bytes, { expiration: toInteger(o.expiration), expirationTtl: toInteger(o.expirationTtl), metadata }]);
    },
    async delete(key: unknown): Promise<void> {
      const name = keyArg("delete", key);
      checkKeyName(name);
      await call("delete", [name]);
    },
    async list(options?: unknown): Promise<unknown> {
      const o = (options !== null && typeof options === "object" ? options : {}) as { prefix?: unknown; limit?: unknown; cursor?: unknown };
      const limit = toInteger(o.limit);
      const r = (await call("list", [
        {
          limit: limit === undefined || limit === 0 ? KV_LIMITS.maxListKeys : limit,
          prefix: o.prefix === undefined || o.prefix === null ? undefined : String(o.prefix),
          cursor: o.cursor === undefined || o.cursor === null ? undefined : String(o.cursor),
        },
      ])) as KvWireList;
      const keys = r.keys.map((k) => {
        const key: { name: string; expiration?: number; metadata?: unknown } = { name: k.name };
        if (k.expiration !== undefined && k.expiration !== null) key.expiration = k.expiration;
        if (k.metadata !== undefined && k.metadata !== null) key.metadata = realm.parseJson(k.metadata);
        return key;
      });
      return r.cursor === undefined || r.cursor === null ? { keys, list_complete: true, cacheStatus: null } : { keys, list_complete: false, cursor: r.cursor, cacheStatus: null };
    },
  };
  return ns;
}
