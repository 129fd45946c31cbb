/**
 * The host half of a KV binding: the calls the guest's namespace object
 * (guest/bindings/kv-namespace.ts) makes, checked again here against the same
 * rules (the caller may be the harness, and storage must never hold what
 * Workers would refuse), then run on a {@link KvStorage}. Values come in and go
 * out as fresh Uint8Arrays; the bridge copies them again into the isolate.
 */
import type { BindingHandler } from "../../host-services.ts";
import { KV_WIRE_METHODS, type KvWireList, type KvWireValue } from "../../guest/bindings/kv-namespace.ts";
import { checkBulkCount, checkCacheTtl, checkExpiration, checkKey, checkKeyLength, checkListLimit, checkMetadata, KV_LIMITS, valueTooLarge } from "../../guest/bindings/kv-rules.ts";
import type { KvEntry, KvStorage } from "./storage.ts";

const opt = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

function str(v: unknown, what: string): string {
  if (typeof v !== "string") throw new TypeError(`KV: ${what} must be a string`);
  return v;
}

function wire(e: KvEntry | null): KvWireValue | null {
  return e === null ? null : { value: e.value, metadata: e.metadata ?? null };
}

export interface KvHandlerOptions {
  /** Milliseconds since the epoch, for expiration checks (default Date.now). */
  now?: () => number;
}

export function createKvHandler(storage: KvStorage, options: KvHandlerOptions = {}): BindingHandler {
  const now = options.now ?? Date.now;
  const methods: Record<string, (args: unknown[]) => Promise<unknown>> = {
    async get([key, cacheTtl]) {
      const k = str(key, "key");
      checkKey("GET", k);
      checkCacheTtl("GET", k, opt(cacheTtl));
      return wire(await storage.get(k));
    },
    async getBulk([keys, cacheTtl]) {
      if (!Array.isArray(keys)) throw new TypeError("KV: keys must be an array");
      checkBulkCount(keys.length);
      const names = keys.map((k) => str(k, "key"));
      for (const k of names) {
        checkKey("GET_BULK", k);
        checkCacheTtl("GET_BULK", k, opt(cacheTtl));
      }
      const found = await Promise.all(names.map((k) => storage.get(k)));
      let total = 0;
      for (const e of found) total += e?.value.byteLength ?? 0;
      if (total > KV_LIMITS.maxValueBytes) throw new Error(`KV GET_BULK failed: 413 Total size of request exceeds the limit of ${KV_LIMITS.maxValueBytes / 1024 / 1024}MB`);
      return found.map(wire);
    },
    async put([key, value, o]) {
      const k = str(key, "key");
      checkKey("PUT", k);
      if (!(value instanceof Uint8Array)) throw new TypeError("KV: a value crosses as bytes");
      const { expiration, expirationTtl, metadata } = (o ?? {}) as { expiration?: unknown; expirationTtl?: unknown; metadata?: unknown };
      const exp = checkExpiration(k, Math.floor(now() / 1000), opt(expiration), opt(expirationTtl));
      let meta: string | undefined;
      if (metadata !== undefined && metadata !== null) {
        meta = str(metadata, "metadata");
        checkMetadata(k, meta);
        try {
          JSON.parse(meta);
        } catch {
          throw new TypeError(`KV put(): the metadata of key ${JSON.stringify(k)} is not JSON`);
        }
      }
      if (value.byteLength > KV_LIMITS.maxValueBytes) throw valueTooLarge(k, value.byteLength);
      await storage.put(k, { value, ...(exp !== undefined ? { expiration: exp } : {}), ...(meta !== undefined ? { metadata: meta } : {}) });
      return null;
    },
    async delete([key]) {
      const k = str(key, "key");
      checkKey("DELETE", k);
      await storage.delete(k);
      return null;
    },
    async list([o]) {
      const { limit, prefix, cursor } = (o ?? {}) as { limit?: unknown; prefix?: unknown; cursor?: unknown };
      const n = opt(limit) ?? KV_LIMITS.maxListKeys;
      checkListLimit(n);
      const p = prefix === undefined || prefix === null ? undefined : str(prefix, "prefix");
      if (p !== undefined) checkKeyLength("GET", p, "prefix");
      const c = cursor === undefined || cursor === null ? undefined : str(cursor, "cursor");
      const r = await storage.list({ limit: n, ...(p !== undefined ? { prefix: p } : {}), ...(c !== undefined ? { cursor: c } : {}) });
      const out: KvWireList = { keys: r.keys };
      if (r.cursor !== undefined) out.cursor = r.cursor;
      return out;
    },
  };
  return {
    kind: "kv",
    methods: KV_WIRE_METHODS,
    call(method, args) {
      const m = methods[method];
      if (m === undefined) return Promise.reject(new TypeError(`KV: no method ${method}`));
      return m(args);
    },
  };
}
