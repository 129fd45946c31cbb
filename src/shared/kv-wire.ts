/**
 * Workers KV on the registry's HTTP API and in its change feed: how values
 * travel (inline or by digest), the headers of a value, the list and export
 * shapes. Part of the registry's public wire types (re-exported by protocol.ts).
 */

/**
 * Values up to this size travel inside the feed (`kv-put` `value.base64`);
 * larger ones travel as their digest and edge nodes fetch them with
 * `GET /v1/tenants/:t/kv/:ns/values/:key`, keeping the feed small.
 */
export const KV_INLINE_MAX_BYTES = 64 * 1024;

/** Response headers of `GET /v1/tenants/:t/kv/:ns/values/:key` (metadata is also a request header of PUT). */
export const KV_HEADERS = { metadata: "x-verge-kv-metadata", expiration: "x-verge-kv-expiration", digest: "x-verge-kv-digest", seq: "x-verge-seq" } as const;

/** One KV entry as the feed and the export carry it. Exactly one of `base64`, `digest`-only (size > inline max). */
export interface KvEntryWire {
  namespace: string;
  key: string;
  /** The value's bytes, base64, when `size` <= {@link KV_INLINE_MAX_BYTES}. */
  base64?: string;
  /** Hex sha256 of the value (always present). */
  digest: string;
  size: number;
  /** Seconds since the epoch. */
  expiration?: number;
  /** JSON text, at most 1024 bytes. */
  metadata?: string;
}

/** `GET /v1/tenants/:t/kv/:ns/keys`: Workers' list shape. */
export interface KvKeyList {
  keys: Array<{ name: string; expiration?: number; metadata?: unknown }>;
  list_complete: boolean;
  cursor?: string;
}

/** `GET /v1/kv/export?after=&limit=` (node scope): every tenant's live KV entries, by (tenant, namespace, key). */
export interface KvExportPage {
  entries: Array<KvEntryWire & { tenant: string; seq: number }>;
  /** Pass as `after` for the next page; absent on the last page. */
  cursor?: string;
  /** The registry's head seq when the page was read. */
  head: number;
}

/** A namespace as listed by `GET /v1/tenants/:t/kv`. */
export interface KvNamespaceInfo {
  name: string;
  createdAt: string;
}
