/**
 * An R2 bucket's object store: the R2 semantics (checksums, conditionals,
 * ranges, list with delimiter and cursor, atomic replace) over a {@link R2Backend}
 * that only keeps rows and chunks: in memory or LMDB for a local binding
 * (src/runtime/bindings/r2/), the registry's store for a fleet (origin/r2.ts).
 *
 * An object's bytes live in fixed-size chunks (R2_LIMITS.chunkBytes) under a blob
 * id of its own; its row (metadata, blob id, chunk count) points at them. A put
 * writes every chunk first and then swaps the row in one transaction, so a reader
 * sees the old object or the new one, never half. Bodies stream both ways a chunk
 * at a time: neither side holds more than one chunk (plus what the caller buffers).
 * A blob that a row no longer names is dropped once no read of it is running here.
 */
import { createHash, randomBytes, type Hash } from "node:crypto";
import {
  R2_CHECKSUMS,
  R2_CODES,
  R2_LIMITS,
  conditionHolds,
  delimitedPrefixOf,
  r2Error,
  resolveRange,
  type R2ConditionalWire,
  type R2ListOptionsWire,
  type R2ListWire,
  type R2ObjectWire,
  type R2PutOptionsWire,
  type R2RangeWire,
} from "./r2-rules.ts";
import { createMultipart } from "./r2-multipart.ts";

/** Where bytes are: a blob id and how many chunks it has (each full but the last). */
export interface R2Blob {
  blob: string;
  chunks: number;
  size: number;
}

/** What a backend keeps per key: the object's metadata and where its bytes are. */
export interface R2Row extends R2ObjectWire {
  blob: string;
  chunks: number;
  /** A multipart object: its parts' blobs in order (then `blob` is "" and `chunks` 0). */
  parts?: R2Blob[];
}

/** A multipart upload in progress (or finished: kept so a second complete or abort answers as R2 does). */
export interface R2UploadRow {
  key: string;
  state: "open" | "completed" | "aborted";
  httpMetadata: R2ObjectWire["httpMetadata"];
  customMetadata: Record<string, string>;
  storageClass: string;
  /** By part number: its blob, and its etag and md5 (hex). */
  parts: Record<string, R2Blob & { etag: string; md5: string }>;
}

export interface R2Backend {
  getRow(key: string): Promise<R2Row | undefined>;
  /**
   * In one transaction: when `check(current)` holds, sets the row of `key` to `row`
   * (null removes it) and resolves with the row replaced (undefined when none);
   * resolves false when the check failed and nothing changed.
   */
  swap(key: string, row: R2Row | null, check: (current: R2Row | undefined) => boolean): Promise<R2Row | undefined | false>;
  /** Rows in UTF-8 byte order of their keys, from the first key >= `start`. */
  rowsFrom(start: string): AsyncIterable<R2Row>;
  getChunk(blob: string, index: number): Promise<Uint8Array | undefined>;
  putChunk(blob: string, index: number, bytes: Uint8Array): Promise<void>;
  dropBlob(blob: string, chunks: number): Promise<void>;
  getUpload(id: string): Promise<R2UploadRow | undefined>;
  /** Replaces an upload's row in one transaction when `check(current)` holds; false when it did not. */
  swapUpload(id: string, row: R2UploadRow, check: (current: R2UploadRow | undefined) => boolean): Promise<R2UploadRow | undefined | false>;
  close(): Promise<void>;
}

export interface R2GetResult {
  object: R2ObjectWire;
  range: { offset: number; length: number };
  /** null: the conditional failed (R2 answers the object without a body). */
  body: AsyncIterable<Uint8Array> | null;
}

/** The operations an R2 binding runs: on a local store, or (an edge node) on the registry's. */
export interface R2Storage {
  head(key: string): Promise<R2ObjectWire | null>;
  get(key: string, options: { range?: R2RangeWire; onlyIf?: R2ConditionalWire }): Promise<R2GetResult | null>;
  /** The stored object, or null when `onlyIf` failed. */
  put(key: string, body: Uint8Array | AsyncIterable<Uint8Array> | null, options: R2PutOptionsWire): Promise<R2ObjectWire | null>;
  delete(keys: string[]): Promise<void>;
  list(options: R2ListOptionsWire): Promise<R2ListWire>;
  /** A new multipart upload of `key`; resolves with its id. */
  createMultipart(key: string, options: Omit<R2PutOptionsWire, "checksum" | "onlyIf">): Promise<string>;
  uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array | AsyncIterable<Uint8Array> | null): Promise<{ partNumber: number; etag: string }>;
  completeMultipart(key: string, uploadId: string, parts: Array<{ partNumber: number; etag: string }>): Promise<R2ObjectWire>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
  close(): Promise<void>;
}

export interface R2StoreOptions {
  /** Largest object a put may store (default R2_LIMITS.defaultMaxObjectBytes). */
  maxObjectBytes?: number;
  /** Milliseconds since the epoch (default Date.now). */
  now?: () => number;
}

/** The blobs an object's bytes are in, in order. */
export function blobsOf(row: R2Row): R2Blob[] {
  return row.parts ?? [{ blob: row.blob, chunks: row.chunks, size: row.size }];
}

export function wireOf(row: R2Row): R2ObjectWire {
  const { key, version, size, etag, uploaded, httpMetadata, customMetadata, checksums, storageClass } = row;
  return { key, version, size, etag, uploaded, httpMetadata, customMetadata, checksums, storageClass };
}

function cursorKey(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  return Buffer.from(cursor, "base64").toString("utf8");
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

export function createR2Store(backend: R2Backend, options: R2StoreOptions = {}): R2Storage {
  const max = options.maxObjectBytes ?? R2_LIMITS.defaultMaxObjectBytes;
  const now = options.now ?? Date.now;
  const CH = R2_LIMITS.chunkBytes;
  /** Reads running per object version; the blobs to drop once the last ends. */
  const reading = new Map<string, number>();
  const dropLater = new Map<string, R2Blob[]>();
  const dropAll = (blobs: R2Blob[]) => Promise.all(blobs.map((b) => backend.dropBlob(b.blob, b.chunks))).then(() => undefined);

  const drop = (row: R2Row | undefined): Promise<void> => {
    if (row === undefined) return Promise.resolve();
    if ((reading.get(row.version) ?? 0) > 0) {
      dropLater.set(row.version, blobsOf(row));
      return Promise.resolve();
    }
    return dropAll(blobsOf(row));
  };

  /** `length` bytes of one blob from `offset`, a chunk at a time. */
  async function* blobChunks(b: R2Blob, offset: number, length: number): AsyncGenerator<Uint8Array> {
    let at = offset;
    const end = offset + length;
    while (at < end) {
      const index = Math.floor(at / CH);
      const chunk = await backend.getChunk(b.blob, index);
      if (chunk === undefined) throw r2Error("get", R2_CODES.internal);
      const from = at - index * CH;
      const to = Math.min(chunk.byteLength, end - index * CH);
      yield chunk.subarray(from, to);
      at = index * CH + to;
    }
  }

  async function* chunksOf(row: R2Row, offset: number, length: number): AsyncGenerator<Uint8Array> {
    reading.set(row.version, (reading.get(row.version) ?? 0) + 1);
    try {
      let start = 0;
      for (const b of blobsOf(row)) {
        const from = Math.max(offset, start);
        const to = Math.min(offset + length, start + b.size);
        if (from < to) yield* blobChunks(b, from - start, to - from);
        start += b.size;
      }
    } finally {
      const n = (reading.get(row.version) ?? 1) - 1;
      if (n > 0) reading.set(row.version, n);
      else {
        reading.delete(row.version);
        const later = dropLater.get(row.version);
        if (later !== undefined) {
          dropLater.delete(row.version);
          await dropAll(later).catch(() => {});
        }
      }
    }
  }

  /** Writes `body` as the chunks of a new blob; hashes and counts it; drops what it wrote on failure. */
  async function writeBlob(body: Uint8Array | AsyncIterable<Uint8Array> | null, wanted: R2PutOptionsWire["checksum"], op = "put") {
    const blob = randomBytes(16).toString("hex");
    const md5 = createHash("md5");
    const extra: Hash | undefined = wanted !== undefined && wanted.name !== "md5" ? createHash(wanted.name) : undefined;
    let size = 0;
    let chunks = 0;
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const flush = async (all: boolean) => {
      while (pendingBytes >= CH || (all && pendingBytes > 0)) {
        const n = Math.min(CH, pendingBytes);
        const out = new Uint8Array(n);
        let at = 0;
        while (at < n) {
          const head = pending[0]!;
          const take = Math.min(head.byteLength, n - at);
          out.set(head.subarray(0, take), at);
          at += take;
          if (take === head.byteLength) pending.shift();
          else pending[0] = head.subarray(take);
        }
        pendingBytes -= n;
        await backend.putChunk(blob, chunks++, out);
      }
    };
    try {
      const source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> = body === null ? [] : body instanceof Uint8Array ? [body] : body;
      for await (const part of source) {
        if (!(part instanceof Uint8Array)) throw new TypeError(`${op}: a body chunk is not bytes`);
        size += part.byteLength;
        if (size > max) throw r2Error(op, R2_CODES.entityTooLarge);
        md5.update(part);
        extra?.update(part);
        // Copied: the producer may reuse its buffer.
        pending.push(part.slice());
        pendingBytes += part.byteLength;
        await flush(false);
      }
      await flush(true);
    } catch (e) {
      pending = [];
      await backend.dropBlob(blob, chunks).catch(() => {});
      throw e;
    }
    const md5Hex = md5.digest("hex");
    const checksums: R2ObjectWire["checksums"] = { md5: md5Hex };
    if (wanted !== undefined) {
      const actual = wanted.name === "md5" ? md5Hex : extra!.digest("hex");
      if (actual !== wanted.hex) {
        await backend.dropBlob(blob, chunks).catch(() => {});
        const label = R2_CHECKSUMS[wanted.name].label;
        throw r2Error("put", R2_CODES.badDigest, `The ${label} checksum you specified did not match what we received.\nYou provided a ${label} checksum with value: ${wanted.hex}\nActual ${label} was: ${actual}`);
      }
      checksums[wanted.name] = actual;
    }
    return { blob, chunks, size, etag: md5Hex, checksums };
  }

  return {
    async head(key) {
      const row = await backend.getRow(key);
      return row === undefined ? null : wireOf(row);
    },
    async get(key, { range, onlyIf }) {
      const row = await backend.getRow(key);
      if (row === undefined) return null;
      const object = wireOf(row);
      if (!conditionHolds(object, onlyIf)) return { object, range: { offset: 0, length: row.size }, body: null };
      const r = resolveRange("get", range, row.size);
      return { object, range: r, body: chunksOf(row, r.offset, r.length) };
    },
    async put(key, body, o) {
      // A condition on an absent object holds unless it asks for an etag (R2, as Miniflare 4 runs it).
      const holds = (current: R2Row | undefined) => (current === undefined ? !(o.onlyIf?.etagMatches !== undefined && o.onlyIf.etagMatches.length > 0) : conditionHolds(wireOf(current), o.onlyIf));
      if (o.onlyIf !== undefined && !holds(await backend.getRow(key))) return null;
      const written = await writeBlob(body, o.checksum);
      const row: R2Row = {
        key,
        version: randomBytes(16).toString("hex"),
        size: written.size,
        etag: written.etag,
        uploaded: now(),
        httpMetadata: o.httpMetadata,
        customMetadata: o.customMetadata,
        checksums: written.checksums,
        storageClass: o.storageClass,
        blob: written.blob,
        chunks: written.chunks,
      };
      const old = await backend.swap(key, row, holds);
      if (old === false) {
        await backend.dropBlob(row.blob, row.chunks).catch(() => {});
        return null;
      }
      await drop(old);
      return wireOf(row);
    },
    async delete(keys) {
      for (const key of keys) {
        const old = await backend.swap(key, null, () => true);
        if (old !== false) await drop(old);
      }
    },
    async list(o) {
      const prefix = o.prefix ?? "";
      const after = [cursorKey(o.cursor), o.startAfter].filter((k): k is string => k !== undefined).sort(byteOrder).pop();
      const start = after !== undefined && byteOrder(after, prefix) > 0 ? after : prefix;
      const objects: R2ObjectWire[] = [];
      const delimitedPrefixes: string[] = [];
      let last: string | undefined;
      let truncated = false;
      for await (const row of backend.rowsFrom(start)) {
        if (!row.key.startsWith(prefix)) break;
        if (after !== undefined && byteOrder(row.key, after) <= 0) continue;
        const rolled = delimitedPrefixOf(row.key, prefix, o.delimiter);
        if (rolled !== undefined && delimitedPrefixes[delimitedPrefixes.length - 1] === rolled) {
          last = row.key;
          continue;
        }
        if (objects.length + delimitedPrefixes.length === o.limit) {
          truncated = true;
          break;
        }
        if (rolled !== undefined) delimitedPrefixes.push(rolled);
        else {
          const w = wireOf(row);
          objects.push({ ...w, httpMetadata: o.include.includes("httpMetadata") ? w.httpMetadata : {}, customMetadata: o.include.includes("customMetadata") ? w.customMetadata : {} });
        }
        last = row.key;
      }
      const out: R2ListWire = { objects, truncated, delimitedPrefixes };
      if (truncated && last !== undefined) out.cursor = Buffer.from(last, "utf8").toString("base64");
      return out;
    },
    ...createMultipart({
      backend,
      max,
      now,
      writeBlob: (body, _wanted, op) => writeBlob(body, undefined, op),
      async replace(key, row) {
        const old = await backend.swap(key, row, () => true);
        if (old !== false) await drop(old);
      },
    }),
    close: () => backend.close(),
  };
}
