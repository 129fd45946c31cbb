/**
 * Static asset bytes on an edge node: from the node's LMDB (`assets` table),
 * else fetched from the registry by content hash on first need, verified
 * (sha256 and size against the manifest) and stored, so they are served from
 * LMDB when the registry is down. Concurrent requests for one file share one
 * fetch. A stored copy is checked once per process (a damaged one is dropped
 * and fetched again); a file on neither the node nor a reachable registry is
 * `ERR_ASSET_UNAVAILABLE` (503), one whose bytes do not match `ERR_DIGEST_MISMATCH`.
 */
import { createHash } from "node:crypto";
import { VergeError } from "../../src/shared/errors.ts";
import type { AssetEntry } from "../../src/shared/assets/index.ts";
import type { AssetReader } from "../../src/runtime/assets/serve.ts";
import type { EdgeStore } from "../store/index.ts";
import { isUnavailable, type RegistryClient } from "./registry-client.ts";

export interface AssetReaderOptions {
  store: EdgeStore;
  client: RegistryClient;
  log: (line: Record<string, unknown>) => void;
  /** How long one fetch may take. Default 30 s. */
  fetchTimeoutMs?: number;
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

export function createAssetReader(options: AssetReaderOptions): AssetReader {
  const { client, log } = options;
  const blobs = options.store.bytes("assets");
  const verified = new Set<string>();
  const pending = new Map<string, Promise<Uint8Array>>();

  async function fetchVerified(entry: AssetEntry, path: string): Promise<Uint8Array> {
    let bytes: Uint8Array;
    try {
      bytes = await client.asset(entry.hash, AbortSignal.timeout(options.fetchTimeoutMs ?? 30_000));
    } catch (err) {
      const why = isUnavailable(err) ? "the registry cannot be reached" : `the registry refused (${(err as VergeError).code})`;
      throw new VergeError("ERR_ASSET_UNAVAILABLE", `asset ${path} (${entry.hash.slice(0, 12)}…) is not on this node and ${why}: ${(err as Error).message}`, { cause: err });
    }
    const actual = sha256(bytes);
    if (actual !== entry.hash || bytes.byteLength !== entry.size) {
      log({ msg: "sync: asset refused", path, hash: entry.hash, got: actual, size: bytes.byteLength });
      throw new VergeError("ERR_DIGEST_MISMATCH", `asset ${path}: the registry sent ${bytes.byteLength} bytes with sha256 ${actual}, the manifest names ${entry.size} bytes with ${entry.hash}; not stored`);
    }
    await blobs.put(entry.hash, bytes);
    verified.add(entry.hash);
    return bytes;
  }

  return async (path, entry) => {
    const stored = blobs.get(entry.hash);
    if (stored !== undefined) {
      if (verified.has(entry.hash)) return { body: stored, fromCache: true };
      if (sha256(stored) === entry.hash) {
        verified.add(entry.hash);
        return { body: stored, fromCache: true };
      }
      log({ msg: "sync: stored asset damaged, fetching again", path, hash: entry.hash });
      await blobs.remove(entry.hash);
    }
    let fetching = pending.get(entry.hash);
    if (fetching === undefined) {
      fetching = fetchVerified(entry, path).finally(() => pending.delete(entry.hash));
      pending.set(entry.hash, fetching);
    }
    return { body: await fetching, fromCache: false };
  };
}
