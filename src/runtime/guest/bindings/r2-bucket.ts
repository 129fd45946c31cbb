/**
 * The Cloudflare R2 bucket object (`env.MY_BUCKET`), as Cloudflare documents it
 * and workerd shapes it: head, get (range, onlyIf), put (string, ArrayBuffer,
 * ArrayBufferView, Blob, ReadableStream, null; httpMetadata, customMetadata, one
 * checksum, onlyIf, storageClass), delete (one key or many), list (prefix,
 * delimiter, cursor, startAfter, limit, include); R2Object and R2ObjectBody with
 * workerd's own properties, in its order, and `writeHttpMetadata`.
 * https://developers.cloudflare.com/r2/api/workers/workers-api-reference/
 *
 * Arguments become plain data here (r2-args.ts); the host half
 * (src/runtime/bindings/r2/handler.ts) checks them again and runs the store.
 * The same code runs in the isolate (r2-binding.ts) and, with Node's classes,
 * as the harness's `getR2Bucket` (src/harness/r2.ts).
 */
import { R2_HTTP_FIELDS, R2_STORAGE_CLASSES, checkCustomMetadata, checkR2Key, type R2ListWire, type R2ObjectWire } from "../../../shared/r2-rules.ts";
import { checksumArg, conditionalArg, customMetadataArg, httpMetadataArg, rangeArg, type R2ArgsRealm } from "./r2-args.ts";

export type R2Call = (method: string, args: unknown[]) => Promise<unknown>;

/** A body as the host sends it: bytes, or a host stream's id. */
export type R2WireBody = Uint8Array | { stream: number };

export interface R2Realm extends R2ArgsRealm {
  encode(s: string): Uint8Array;
  newDate(ms: number): Date;
  isReadableStream(v: unknown): boolean;
  isBlob(v: unknown): boolean;
  blobBytes(b: unknown): Promise<Uint8Array>;
  /** A put body for the host: bytes, or `{ stream }` the host pulls (the guest), or the stream read to bytes (Node). */
  outgoing(stream: unknown): Promise<Uint8Array | { stream: number }>;
  /** A body the reader reads through a Response: `.body`, `.bodyUsed`, `text()`... (content type for `blob()`). */
  bodyResponse(body: R2WireBody, contentType: string | undefined): R2BodyReader;
}

/** What R2ObjectBody delegates to: a Response of the realm over the object's bytes. */
export interface R2BodyReader {
  readonly body: unknown;
  readonly bodyUsed: boolean;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  blob(): Promise<unknown>;
}

interface GetWire {
  object: R2ObjectWire;
  range: { offset: number; length: number };
  body: R2WireBody | null;
}

const TOKEN = Symbol("r2");
const HEX = "0123456789abcdef";

function bytesOfHex(hex: string): ArrayBuffer {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = HEX.indexOf(hex[2 * i]!) * 16 + HEX.indexOf(hex[2 * i + 1]!);
  return out.buffer;
}

/** R2Checksums: each digest as an ArrayBuffer; `toJSON` gives the present ones as hex. */
export class R2Checksums {
  readonly md5: ArrayBuffer | undefined;
  readonly sha1: ArrayBuffer | undefined;
  readonly sha256: ArrayBuffer | undefined;
  readonly sha384: ArrayBuffer | undefined;
  readonly sha512: ArrayBuffer | undefined;
  #hex: Record<string, string>;

  constructor(token: unknown, hex: Record<string, string>) {
    if (token !== TOKEN) throw new TypeError("Illegal constructor");
    this.#hex = hex;
    const get = (n: string) => (hex[n] === undefined ? undefined : bytesOfHex(hex[n]));
    this.md5 = get("md5");
    this.sha1 = get("sha1");
    this.sha256 = get("sha256");
    this.sha384 = get("sha384");
    this.sha512 = get("sha512");
  }

  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const n of ["md5", "sha1", "sha256", "sha384", "sha512"]) if (this.#hex[n] !== undefined) out[n] = this.#hex[n];
    return out;
  }
}

export class R2Object {
  declare readonly key: string;
  declare readonly version: string;
  declare readonly size: number;
  declare readonly etag: string;
  declare readonly httpEtag: string;
  declare readonly checksums: R2Checksums;
  declare readonly uploaded: Date;
  declare readonly httpMetadata: Record<string, unknown>;
  declare readonly customMetadata: Record<string, string>;
  declare readonly range: { offset: number; length: number } | undefined;
  declare readonly storageClass: string;
  declare readonly ssecKeyMd5: string | undefined;

  constructor(token: unknown, realm?: R2Realm, w?: R2ObjectWire, range?: { offset: number; length: number }) {
    if (token !== TOKEN || realm === undefined || w === undefined) throw new TypeError("Illegal constructor");
    const httpMetadata: Record<string, unknown> = {};
    for (const [field] of R2_HTTP_FIELDS) if (w.httpMetadata[field] !== undefined) httpMetadata[field] = w.httpMetadata[field];
    if (w.httpMetadata.cacheExpiry !== undefined) httpMetadata.cacheExpiry = realm.newDate(w.httpMetadata.cacheExpiry);
    // workerd's own-property order (what JSON.stringify and Object.keys show).
    const self = this as unknown as Record<string, unknown>;
    self.ssecKeyMd5 = undefined;
    self.storageClass = w.storageClass;
    self.range = range;
    self.customMetadata = { ...w.customMetadata };
    self.httpMetadata = httpMetadata;
    self.uploaded = realm.newDate(w.uploaded);
    self.checksums = new R2Checksums(TOKEN, w.checksums as Record<string, string>);
    self.httpEtag = `"${w.etag}"`;
    self.etag = w.etag;
    self.size = w.size;
    self.version = w.version;
    self.key = w.key;
  }

  /** Sets the object's HTTP metadata on `headers` (Content-Type..., Cache-Control, Expires). */
  writeHttpMetadata(headers: unknown): void {
    const h = headers as { set?: unknown };
    if (h === null || typeof h !== "object" || typeof h.set !== "function") throw new TypeError("Failed to execute 'writeHttpMetadata' on 'R2Object': parameter 1 is not of type 'Headers'.");
    const set = (name: string, value: string) => (h.set as (n: string, v: string) => void).call(headers, name, value);
    const m = this.httpMetadata;
    for (const [field, header] of R2_HTTP_FIELDS) if (typeof m[field] === "string") set(header, m[field]);
    const e = m.cacheExpiry as Date | undefined;
    if (e !== undefined) set("expires", e.toUTCString());
  }
}

const readers = new WeakMap<object, R2BodyReader>();
const reader = (o: object): R2BodyReader => {
  const r = readers.get(o);
  if (r === undefined) throw new TypeError("Illegal invocation");
  return r;
};

export class R2ObjectBody extends R2Object {
  constructor(token: unknown, realm?: R2Realm, w?: R2ObjectWire, range?: { offset: number; length: number }, body?: R2WireBody) {
    super(token, realm, w, range);
    readers.set(this, realm!.bodyResponse(body!, w!.httpMetadata.contentType));
  }
  get body(): unknown {
    return reader(this).body;
  }
  get bodyUsed(): boolean {
    return reader(this).bodyUsed;
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return reader(this).arrayBuffer();
  }
  bytes(): Promise<Uint8Array> {
    return reader(this).bytes();
  }
  text(): Promise<string> {
    return reader(this).text();
  }
  json(): Promise<unknown> {
    return reader(this).json();
  }
  blob(): Promise<unknown> {
    return reader(this).blob();
  }
}

function keyArg(method: string, key: unknown): string {
  if (key === undefined) throw new TypeError(`Failed to execute '${method}' on 'R2Bucket': parameter 1 is not of type 'string'.`);
  return String(key);
}

const optionsOf = (v: unknown): Record<string, unknown> => (v !== null && typeof v === "object" ? (v as Record<string, unknown>) : {});

export class R2Bucket {
  #call: R2Call;
  #realm: R2Realm;

  constructor(token: unknown, call?: R2Call, realm?: R2Realm) {
    if (token !== TOKEN || call === undefined || realm === undefined) throw new TypeError("Illegal constructor");
    this.#call = call;
    this.#realm = realm;
  }

  async head(key?: unknown): Promise<R2Object | null> {
    const name = keyArg("head", key);
    checkR2Key("head", name);
    const w = (await this.#call("head", [name])) as R2ObjectWire | null;
    return w === null ? null : new R2Object(TOKEN, this.#realm, w, { offset: 0, length: w.size });
  }

  async get(key?: unknown, options?: unknown): Promise<R2Object | R2ObjectBody | null> {
    const name = keyArg("get", key);
    const o = optionsOf(options);
    const range = rangeArg(this.#realm, o.range);
    const onlyIf = conditionalArg(this.#realm, o.onlyIf);
    checkR2Key("get", name);
    const r = (await this.#call("get", [name, { range, onlyIf }])) as GetWire | null;
    if (r === null) return null;
    if (r.body === null) return new R2Object(TOKEN, this.#realm, r.object, r.range);
    return new R2ObjectBody(TOKEN, this.#realm, r.object, r.range, r.body);
  }

  async put(key?: unknown, value?: unknown, options?: unknown): Promise<R2Object | null> {
    const realm = this.#realm;
    const name = keyArg("put", key);
    const o = optionsOf(options);
    let body = await bodyOf(realm, "put", "R2Bucket", value);
    const httpMetadata = httpMetadataArg(realm, o.httpMetadata);
    const customMetadata = customMetadataArg(o.customMetadata);
    const checksum = checksumArg(realm, o);
    const onlyIf = conditionalArg(realm, o.onlyIf);
    const storageClass = o.storageClass === undefined ? "Standard" : String(o.storageClass);
    if (!(R2_STORAGE_CLASSES as readonly string[]).includes(storageClass)) throw new TypeError(`Unsupported storage class: ${storageClass}. Expected one of ${R2_STORAGE_CLASSES.join(", ")}.`);
    checkR2Key("put", name);
    checkCustomMetadata("put", customMetadata);
    if (body === null && value !== null) body = await realm.outgoing(value);
    const w = (await this.#call("put", [name, body, { httpMetadata, customMetadata, checksum, onlyIf, storageClass }])) as R2ObjectWire | null;
    return w === null ? null : new R2Object(TOKEN, realm, w);
  }

  async delete(keys?: unknown): Promise<void> {
    if (keys === undefined) throw new TypeError("Failed to execute 'delete' on 'R2Bucket': parameter 1 is not of type 'Array or string'.");
    const names = (Array.isArray(keys) ? keys : [keys]).map((k) => String(k));
    for (const n of names) checkR2Key("delete", n);
    await this.#call("delete", [names]);
  }

  async list(options?: unknown): Promise<{ objects: R2Object[]; truncated: boolean; cursor?: string; delimitedPrefixes: string[] }> {
    const o = optionsOf(options);
    const include: string[] = [];
    if (o.include !== undefined) {
      for (const v of o.include as Iterable<unknown>) {
        const s = String(v);
        if (s !== "httpMetadata" && s !== "customMetadata") throw new RangeError(`Unsupported include value ${s}`);
        include.push(s);
      }
    }
    const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v));
    const limit = o.limit === undefined ? undefined : Number(o.limit);
    const r = (await this.#call("list", [{ limit, prefix: str(o.prefix), delimiter: str(o.delimiter), cursor: str(o.cursor), startAfter: str(o.startAfter), include }])) as R2ListWire;
    const objects = r.objects.map((w) => new R2Object(TOKEN, this.#realm, w));
    return r.truncated && r.cursor !== undefined
      ? { objects, truncated: true, cursor: r.cursor, delimitedPrefixes: r.delimitedPrefixes }
      : { objects, truncated: r.truncated, delimitedPrefixes: r.delimitedPrefixes };
  }

  async createMultipartUpload(key?: unknown, options?: unknown): Promise<R2MultipartUpload> {
    const name = keyArg("createMultipartUpload", key);
    const o = optionsOf(options);
    const httpMetadata = httpMetadataArg(this.#realm, o.httpMetadata);
    const customMetadata = customMetadataArg(o.customMetadata);
    const storageClass = o.storageClass === undefined ? "Standard" : String(o.storageClass);
    checkR2Key("createMultipartUpload", name);
    checkCustomMetadata("createMultipartUpload", customMetadata);
    const id = (await this.#call("createMultipartUpload", [name, { httpMetadata, customMetadata, storageClass }])) as string;
    return new R2MultipartUpload(TOKEN, this.#call, this.#realm, name, id);
  }

  resumeMultipartUpload(key?: unknown, uploadId?: unknown): R2MultipartUpload {
    const name = keyArg("resumeMultipartUpload", key);
    if (uploadId === undefined) throw new TypeError("Failed to execute 'resumeMultipartUpload' on 'R2Bucket': parameter 2 is not of type 'string'.");
    return new R2MultipartUpload(TOKEN, this.#call, this.#realm, name, String(uploadId));
  }
}

/** A value as a body for the host: bytes, null, or (a stream) `{ stream }` handed over. */
async function bodyOf(realm: R2Realm, method: string, iface: string, value: unknown, index = 2): Promise<Uint8Array | { stream: number } | null> {
  if (value === null) return null;
  if (typeof value === "string") return realm.encode(value);
  if (realm.isArrayBuffer(value)) return new Uint8Array(value.slice(0));
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
  if (realm.isBlob(value)) return realm.blobBytes(value);
  // A stream is handed over by the caller last: once the host has it, it is used.
  if (realm.isReadableStream(value)) return null;
  throw new TypeError(`Failed to execute '${method}' on '${iface}': parameter ${index} is not of type 'ReadableStream or ArrayBuffer or ArrayBufferView or string or Blob'.`);
}

/** An upload in progress: `uploadPart`, `complete`, `abort` (R2MultipartUpload). */
export class R2MultipartUpload {
  declare readonly uploadId: string;
  declare readonly key: string;
  #call: R2Call;
  #realm: R2Realm;

  constructor(token: unknown, call?: R2Call, realm?: R2Realm, key?: string, uploadId?: string) {
    if (token !== TOKEN || call === undefined || realm === undefined) throw new TypeError("Illegal constructor");
    this.#call = call;
    this.#realm = realm;
    const self = this as unknown as Record<string, unknown>;
    self.uploadId = uploadId;
    self.key = key;
  }

  async uploadPart(partNumber?: unknown, value?: unknown): Promise<{ partNumber: number; etag: string }> {
    const n = Number(partNumber);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new TypeError(`Part number must be between 1 and 10000 (inclusive). Actual value was: ${String(partNumber)}`);
    if (value === undefined) throw new TypeError("Failed to execute 'uploadPart' on 'R2MultipartUpload': parameter 2 is not of type 'ReadableStream or ArrayBuffer or ArrayBufferView or string or Blob'.");
    let body = await bodyOf(this.#realm, "uploadPart", "R2MultipartUpload", value);
    if (body === null && value !== null) body = await this.#realm.outgoing(value);
    const r = (await this.#call("uploadPart", [this.key, this.uploadId, n, body])) as { partNumber: number; etag: string };
    return { partNumber: r.partNumber, etag: r.etag };
  }

  async complete(uploadedParts?: unknown): Promise<R2Object> {
    if (uploadedParts === undefined || uploadedParts === null || typeof uploadedParts !== "object") throw new TypeError("Failed to execute 'complete' on 'R2MultipartUpload': parameter 1 is not of type 'Array'.");
    const parts = [...(uploadedParts as Iterable<{ partNumber?: unknown; etag?: unknown }>)].map((p) => ({ partNumber: Number(p?.partNumber), etag: String(p?.etag) }));
    const w = (await this.#call("completeMultipartUpload", [this.key, this.uploadId, parts])) as R2ObjectWire;
    return new R2Object(TOKEN, this.#realm, w);
  }

  async abort(): Promise<void> {
    await this.#call("abortMultipartUpload", [this.key, this.uploadId]);
  }
}

export function createR2Bucket(call: R2Call, realm: R2Realm): R2Bucket {
  return new R2Bucket(TOKEN, call, realm);
}
