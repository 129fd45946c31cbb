import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { R2_LIMITS, type R2PutOptionsWire } from "../../../shared/r2-rules.ts";
import { createLmdbR2Backend } from "./lmdb-backend.ts";
import { createMemoryR2Backend } from "./memory-backend.ts";
import { createR2Store, type R2Backend, type R2Storage } from "../../../shared/r2-store.ts";

const CH = R2_LIMITS.chunkBytes;
const plain: R2PutOptionsWire = { httpMetadata: {}, customMetadata: {}, storageClass: "Standard" };

function pattern(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) % 251;
  return b;
}

async function bytesOf(body: AsyncIterable<Uint8Array> | null): Promise<Buffer> {
  assert.ok(body !== null);
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  return Buffer.concat(parts);
}

async function* pieces(b: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

const backends: Array<[string, () => { backend: R2Backend; done: () => void }]> = [
  ["memory", () => ({ backend: createMemoryR2Backend(), done: () => {} })],
  [
    "lmdb",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "verge-r2-store-"));
      return { backend: createLmdbR2Backend({ path: dir, bucket: "b" }), done: () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
];

for (const [name, make] of backends) {
  const withStore = (fn: (s: R2Storage, backend: R2Backend) => Promise<void>, max?: number) => async () => {
    const { backend, done } = make();
    const s = createR2Store(backend, max === undefined ? {} : { maxObjectBytes: max });
    try {
      await fn(s, backend);
    } finally {
      await s.close();
      done();
    }
  };

  test(`${name}: a body streamed in odd pieces is stored in chunks and read back whole and by ranges across chunk edges`, withStore(async (s) => {
    const data = pattern(3 * CH + 123);
    const put = await s.put("k", pieces(data, 10_007), plain);
    assert.ok(put !== null);
    assert.equal(put.size, data.length);
    assert.equal(put.etag, createHash("md5").update(data).digest("hex"));
    assert.deepEqual(await bytesOf((await s.get("k", {}))!.body), Buffer.from(data));
    for (const [offset, length] of [[CH - 5, 10], [0, CH], [CH, CH + 1], [2 * CH + 100, CH + 23], [3 * CH, 123]] as const) {
      const r = (await s.get("k", { range: { offset, length } }))!;
      assert.deepEqual(r.range, { offset, length });
      assert.deepEqual(await bytesOf(r.body), Buffer.from(data.subarray(offset, offset + length)), `range ${offset}+${length}`);
    }
    const suffix = (await s.get("k", { range: { suffix: CH + 1 } }))!;
    assert.deepEqual(await bytesOf(suffix.body), Buffer.from(data.subarray(data.length - CH - 1)));
    await assert.rejects(s.get("k", { range: { offset: data.length } }), /get: The requested range is not satisfiable \(10039\)/);
  }));

  test(`${name}: over the size cap the put fails with R2's 100100 and leaves neither the object nor its chunks`, withStore(async (s, backend) => {
    await assert.rejects(s.put("big", pieces(pattern(2 * CH + 1), CH), plain), /put: Your proposed upload exceeds the maximum allowed object size\. \(100100\)/);
    assert.equal(await s.head("big"), null);
    const row = await backend.getRow("big");
    assert.equal(row, undefined);
    assert.ok(await s.put("fits", pattern(2 * CH), plain));
  }, 2 * CH));

  test(`${name}: a checksum that does not match refuses the put with both digests named; one that matches is kept`, withStore(async (s) => {
    const sha = createHash("sha256").update("abc").digest("hex");
    await assert.rejects(s.put("c", new TextEncoder().encode("abd"), { ...plain, checksum: { name: "sha256", hex: sha } }), (e: Error) => e.message.includes(`You provided a SHA-256 checksum with value: ${sha}`) && e.message.endsWith("(10037)"));
    assert.equal(await s.head("c"), null);
    const ok = await s.put("c", new TextEncoder().encode("abc"), { ...plain, checksum: { name: "sha256", hex: sha } });
    assert.deepEqual(ok!.checksums, { md5: createHash("md5").update("abc").digest("hex"), sha256: sha });
  }));

  test(`${name}: replacing an object while a reader streams it leaves that reader the old bytes; afterwards the old chunks are gone`, withStore(async (s, backend) => {
    const old = pattern(2 * CH + 10, 1);
    await s.put("k", old, plain);
    const oldRow = (await backend.getRow("k"))!;
    const reading = (await s.get("k", {}))!.body![Symbol.asyncIterator]();
    const first = await reading.next();
    await s.put("k", pattern(5, 2), plain);
    const rest: Uint8Array[] = [first.value as Uint8Array];
    for (let r = await reading.next(); !r.done; r = await reading.next()) rest.push(r.value);
    assert.deepEqual(Buffer.concat(rest), Buffer.from(old));
    assert.equal(await backend.getChunk(oldRow.blob, 0), undefined);
    assert.deepEqual(await bytesOf((await s.get("k", {}))!.body), Buffer.from(pattern(5, 2)));
  }));

  test(`${name}: conditional puts and gets; an empty key; delete of present and absent keys`, withStore(async (s) => {
    const a = (await s.put("", new Uint8Array([1]), plain))!;
    assert.equal((await s.head(""))!.etag, a.etag);
    assert.equal(await s.put("", new Uint8Array([2]), { ...plain, onlyIf: { etagMatches: ["nope"] } }), null);
    assert.equal(await s.put("new", new Uint8Array([2]), { ...plain, onlyIf: { etagMatches: ["*"] } }), null, "an etag condition on an absent object fails");
    assert.ok(await s.put("new", new Uint8Array([2]), { ...plain, onlyIf: { etagDoesNotMatch: ["*"] } }));
    const failed = (await s.get("", { onlyIf: { etagDoesNotMatch: [a.etag] } }))!;
    assert.equal(failed.body, null);
    assert.deepEqual(failed.range, { offset: 0, length: 1 });
    await s.delete(["", "absent"]);
    assert.equal(await s.head(""), null);
  }));

  test(`${name}: a multipart object reads by ranges across its parts; parts left out, replaced or aborted leave no chunks`, withStore(async (s, backend) => {
    const MIB5 = 5 * 1024 * 1024;
    const a = pattern(MIB5, 1);
    const b = pattern(CH + 7, 2);
    const id = await s.createMultipart("mp", plain);
    const pa = await s.uploadPart("mp", id, 1, pieces(a, 100_000));
    const old = await s.uploadPart("mp", id, 2, new Uint8Array(3));
    const pb = await s.uploadPart("mp", id, 2, b);
    const unused = await s.uploadPart("mp", id, 3, new Uint8Array(9));
    await assert.rejects(s.completeMultipart("mp", id, [pa, old]), /\(10025\)$/);
    const object = await s.completeMultipart("mp", id, [pa, pb]);
    assert.equal(object.size, a.length + b.length);
    assert.match(object.etag, /^[0-9a-f]{32}-2$/);
    const whole = Buffer.concat([a, b]);
    for (const [offset, length] of [[0, whole.length], [MIB5 - 3, 10], [MIB5, CH + 7], [MIB5 + CH, 7]] as const) {
      assert.deepEqual(await bytesOf((await s.get("mp", { range: { offset, length } }))!.body), whole.subarray(offset, offset + length), `range ${offset}+${length}`);
    }
    await assert.rejects(s.uploadPart("mp", id, 4, new Uint8Array(1)), /uploadPart: The specified multipart upload does not exist\. \(10024\)/);
    void unused;
    const row = (await backend.getRow("mp"))!;
    assert.equal(row.parts?.length, 2);
    const aborted = await s.createMultipart("gone", plain);
    await s.uploadPart("gone", aborted, 1, new Uint8Array(CH * 2));
    await s.abortMultipart("gone", aborted);
    await s.abortMultipart("gone", aborted);
    await s.delete(["mp"]);
    for (const p of row.parts!) assert.equal(await backend.getChunk(p.blob, 0), undefined);
    assert.equal((await s.list({ limit: 1000, include: [] })).objects.length, 0);
  }));

  test(`${name}: list pages by byte order with prefix, delimiter, cursor, startAfter and include`, withStore(async (s) => {
    for (const k of ["l/a", "l/b/1", "l/b/2", "l/c/1", "l/d", "l/e/1", "m", "é"]) await s.put(k, new TextEncoder().encode(k), { ...plain, customMetadata: { k } });
    const page = (o: Partial<Parameters<R2Storage["list"]>[0]>) => s.list({ limit: 1000, include: [], ...o });
    const p1 = await page({ prefix: "l/", delimiter: "/", limit: 2 });
    assert.deepEqual([p1.objects.map((o) => o.key), p1.delimitedPrefixes, p1.truncated], [["l/a"], ["l/b/"], true]);
    assert.equal(Buffer.from(p1.cursor!, "base64").toString(), "l/b/2");
    const p2 = await page({ prefix: "l/", delimiter: "/", limit: 2, cursor: p1.cursor! });
    assert.deepEqual([p2.objects.map((o) => o.key), p2.delimitedPrefixes, p2.truncated], [["l/d"], ["l/c/"], true]);
    const p3 = await page({ prefix: "l/", delimiter: "/", limit: 2, cursor: p2.cursor! });
    assert.deepEqual([p3.objects.map((o) => o.key), p3.delimitedPrefixes, p3.truncated, p3.cursor], [[], ["l/e/"], false, undefined]);
    assert.deepEqual((await page({})).objects.map((o) => o.key), ["l/a", "l/b/1", "l/b/2", "l/c/1", "l/d", "l/e/1", "m", "é"]);
    assert.deepEqual((await page({ startAfter: "l/d" })).objects.map((o) => o.key), ["l/e/1", "m", "é"]);
    assert.deepEqual((await page({ prefix: "m" })).objects[0]!.customMetadata, {}, "without include, no custom metadata");
    assert.deepEqual((await page({ prefix: "m", include: ["customMetadata"] })).objects[0]!.customMetadata, { k: "m" });
  }));
}

test("lmdb: objects outlive the store that wrote them", async () => {
  const dir = mkdtempSync(join(tmpdir(), "verge-r2-persist-"));
  try {
    const first = createR2Store(createLmdbR2Backend({ path: dir, bucket: "p" }));
    await first.put("kept", pattern(CH + 1), { ...plain, httpMetadata: { contentType: "x/y" } });
    await first.close();
    const second = createR2Store(createLmdbR2Backend({ path: dir, bucket: "p" }));
    const got = (await second.get("kept", {}))!;
    assert.equal(got.object.httpMetadata.contentType, "x/y");
    assert.deepEqual(await bytesOf(got.body), Buffer.from(pattern(CH + 1)));
    const other = createR2Store(createLmdbR2Backend({ path: dir, bucket: "other" }));
    assert.equal(await other.head("kept"), null, "buckets in one directory are separate");
    await other.close();
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
