/**
 * R2 multipart uploads over an {@link R2Backend}: each part is a blob of its own;
 * completing swaps in an object whose row lists the parts' blobs in the order the
 * caller gave (no bytes are copied). Rules as R2 (and Miniflare 4) apply them:
 * part numbers 1–10000, every part but the last at least 5 MiB, a part uploaded
 * again replaces the earlier one (whose etag then names nothing), the object's
 * etag is the md5 of the parts' md5s followed by `-<count>`, an upload completed
 * or aborted is gone for uploadPart and complete, and abort may be repeated.
 */
import { createHash, randomBytes } from "node:crypto";
import { R2_CODES, r2Error, type R2ObjectWire, type R2PutOptionsWire } from "./r2-rules.ts";
import type { R2Backend, R2Blob, R2Row, R2Storage, R2UploadRow } from "./r2-store.ts";

/** Smallest part but the last (R2: 5 MiB). */
export const R2_MIN_PART_BYTES = 5 * 1024 * 1024;
export const R2_MAX_PARTS = 10_000;

export interface MultipartDeps {
  backend: R2Backend;
  max: number;
  now: () => number;
  writeBlob(body: Uint8Array | AsyncIterable<Uint8Array> | null, wanted: undefined, op: string): Promise<R2Blob & { etag: string }>;
  /** Replaces the row of `key` (dropping the old object's blobs when no read needs them). */
  replace(key: string, row: R2Row): Promise<void>;
}

type Multipart = Pick<R2Storage, "createMultipart" | "uploadPart" | "completeMultipart" | "abortMultipart">;

export function createMultipart(d: MultipartDeps): Multipart {
  const { backend } = d;
  const dropParts = (parts: Iterable<R2Blob>) => Promise.all([...parts].map((p) => backend.dropBlob(p.blob, p.chunks).catch(() => {}))).then(() => undefined);
  const open = (op: string, key: string, u: R2UploadRow | undefined): R2UploadRow => {
    if (u === undefined || u.key !== key || u.state !== "open") throw r2Error(op, R2_CODES.noSuchUpload);
    return u;
  };

  return {
    async createMultipart(key, o: Omit<R2PutOptionsWire, "checksum" | "onlyIf">) {
      const id = randomBytes(24).toString("base64url");
      await backend.swapUpload(id, { key, state: "open", httpMetadata: o.httpMetadata, customMetadata: o.customMetadata, storageClass: o.storageClass, parts: {} }, (c) => c === undefined);
      return id;
    },
    async uploadPart(key, id, partNumber, body) {
      if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > R2_MAX_PARTS) throw new TypeError(`Part number must be between 1 and ${R2_MAX_PARTS} (inclusive). Actual value was: ${partNumber}`);
      open("uploadPart", key, await backend.getUpload(id));
      const written = await d.writeBlob(body, undefined, "uploadPart");
      const part = { ...written, etag: randomBytes(16).toString("hex"), md5: written.etag };
      const current = await backend.getUpload(id);
      if (current === undefined || current.key !== key || current.state !== "open") {
        await dropParts([written]);
        throw r2Error("uploadPart", R2_CODES.noSuchUpload);
      }
      const next: R2UploadRow = { ...current, parts: { ...current.parts, [String(partNumber)]: part } };
      const ok = await backend.swapUpload(id, next, (c) => c !== undefined && c.state === "open" && c.parts[String(partNumber)]?.blob === current.parts[String(partNumber)]?.blob);
      if (ok === false) {
        await dropParts([written]);
        throw r2Error("uploadPart", R2_CODES.internal);
      }
      const replaced = current.parts[String(partNumber)];
      if (replaced !== undefined) await dropParts([replaced]);
      return { partNumber, etag: part.etag };
    },
    async completeMultipart(key, id, given) {
      const op = "completeMultipartUpload";
      const u = open(op, key, await backend.getUpload(id));
      // Checked in this order, as Miniflare 4 does: every part known, none twice, all but the last big enough.
      const chosen = given.map((g) => {
        const p = u.parts[String(g.partNumber)];
        if (p === undefined || p.etag !== g.etag) throw r2Error(op, R2_CODES.invalidPart);
        return p;
      });
      if (new Set(given.map((g) => g.partNumber)).size !== given.length) throw r2Error(op, R2_CODES.internal);
      if (chosen.some((p, i) => i < chosen.length - 1 && p.size < R2_MIN_PART_BYTES)) throw r2Error(op, R2_CODES.entityTooSmall);
      const size = chosen.reduce((n, p) => n + p.size, 0);
      if (size > d.max) throw r2Error(op, R2_CODES.entityTooLarge);
      const md5s = Buffer.concat(chosen.map((p) => Buffer.from(p.md5, "hex")));
      const etag = `${createHash("md5").update(md5s).digest("hex")}-${chosen.length}`;
      const done = await backend.swapUpload(id, { ...u, state: "completed", parts: {} }, (c) => c !== undefined && c.state === "open");
      if (done === false) throw r2Error(op, R2_CODES.noSuchUpload);
      const row: R2Row = {
        key,
        version: randomBytes(16).toString("hex"),
        size,
        etag,
        uploaded: d.now(),
        httpMetadata: u.httpMetadata,
        customMetadata: u.customMetadata,
        checksums: {},
        storageClass: u.storageClass,
        blob: "",
        chunks: 0,
        parts: chosen.map((p) => ({ blob: p.blob, chunks: p.chunks, size: p.size })),
      };
      await d.replace(key, row);
      // Parts uploaded but not named in the list are not part of the object.
      await dropParts(Object.values(u.parts).filter((p) => !chosen.includes(p)));
      const { blob: _b, chunks: _c, parts: _p, ...object } = row;
      return object satisfies R2ObjectWire;
    },
    async abortMultipart(key, id) {
      const u = await backend.getUpload(id);
      if (u === undefined || u.key !== key) throw r2Error("abortMultipartUpload", R2_CODES.internal);
      if (u.state !== "open") return;
      const done = await backend.swapUpload(id, { ...u, state: "aborted", parts: {} }, (c) => c !== undefined && c.state === "open");
      if (done !== false) await dropParts(Object.values(u.parts));
    },
  };
}
