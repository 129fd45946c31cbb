/**
 * verge's node:crypto (src/build/node-polyfills/crypto.js), bundled with
 * nodeCompat and run in the isolate, against Node's own node:crypto on the
 * host: the same cases (test/helpers/node-crypto-cases.ts) on both sides, every
 * result (bytes, strings, error class, code and message) compared.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as nodeCrypto from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundle } from "../../src/build/bundle.ts";
import { Verge } from "../../src/index.ts";
import { runCases, type Case } from "../helpers/node-crypto-cases.ts";
import { errorCases, hashCases, hmacCases, kdfCases } from "../helpers/node-crypto-inputs.ts";

const CASES = fileURLToPath(new URL("../helpers/node-crypto-cases.ts", import.meta.url));

const WORKER = `import * as crypto from "node:crypto";
import { Buffer } from "node:buffer";
import { runCases } from ${JSON.stringify(CASES)};
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/cases") return Response.json(await runCases(crypto, Buffer, await request.json()));
    if (url.pathname === "/pbkdf2") return new Response(crypto.pbkdf2Sync("p", "s", Number(url.searchParams.get("c")), 32, "sha512").toString("hex"));
    return new Response("not found", { status: 404 });
  },
};
`;

async function start(t: { after(fn: () => unknown): void }, limits?: { cpuMs: number }): Promise<Verge> {
  const dir = mkdtempSync(join(tmpdir(), "verge-node-crypto-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "index.js"), WORKER);
  const built = await bundle(join(dir, "index.js"), { nodeCompat: true });
  // A generous CPU budget by default: the comparisons run thousands of hashes in one request.
  const verge = new Verge({ modules: true, script: built.code, sourceMap: built.sourceMap, limits: limits ?? { cpuMs: 20_000 } });
  t.after(() => verge.dispose());
  return verge;
}

/** The same cases in the isolate and on the host; every result must be equal, each reported with its case. */
async function sameAsNode(verge: Verge, cases: Case[]): Promise<void> {
  const res = await verge.dispatchFetch("http://localhost/cases", { method: "POST", body: JSON.stringify(cases) });
  assert.equal(res.status, 200);
  const ours = (await res.json()) as unknown[];
  const theirs = JSON.parse(JSON.stringify(await runCases(nodeCrypto as never, Buffer as never, cases))) as unknown[];
  assert.equal(ours.length, cases.length);
  const differences: string[] = [];
  for (let i = 0; i < cases.length; i++) {
    try {
      assert.deepStrictEqual(ours[i], theirs[i]);
    } catch {
      differences.push(`case ${JSON.stringify(cases[i])}\n  verge ${JSON.stringify(ours[i])}\n  node  ${JSON.stringify(theirs[i])}`);
    }
  }
  assert.deepEqual(differences.slice(0, 10), [], `${differences.length} of ${cases.length} cases differ from Node`);
}

test("createHash: every algorithm name, input type and encoding, copy(), and the finalized errors give what Node gives", { timeout: 120_000 }, async (t) => {
  const verge = await start(t);
  const cases = hashCases();
  assert.ok(cases.length > 300, `${cases.length} cases`);
  await sameAsNode(verge, cases);
});

test("createHmac and hash(): keys of every type, every digest, the one-shot form, as Node", { timeout: 120_000 }, async (t) => {
  const verge = await start(t);
  const cases = hmacCases();
  assert.ok(cases.length > 150, `${cases.length} cases`);
  await sameAsNode(verge, cases);
});

test("pbkdf2Sync, pbkdf2, hkdfSync, hkdf: derived bytes and argument errors as Node", { timeout: 120_000 }, async (t) => {
  const verge = await start(t);
  await sameAsNode(verge, kdfCases());
});

test("argument errors, timingSafeEqual, random-function checks and getHashes names: class, code and message as Node", { timeout: 120_000 }, async (t) => {
  const verge = await start(t);
  await sameAsNode(verge, errorCases());
});

/** Random output cannot be compared with Node's: these check lengths, ranges and what was left untouched. */
const RANDOM_WORKER = `import crypto, { randomBytes, randomFillSync, randomFill, randomInt, randomUUID, getRandomValues, getHashes, createCipheriv, KeyObject, scryptSync, webcrypto, subtle } from "node:crypto";
export default {
  async fetch() {
    const lengths = [0, 1, 16, 65536, 65537, 200000].map((n) => randomBytes(n).length);
    const big = randomBytes(200000);
    let zeros = 0;
    for (const b of big) if (b === 0) zeros++;
    const filled = randomFillSync(new Uint8Array(300000), 10, 299980);
    const untouched = [filled[0], filled[9], filled[299990], filled[299999]];
    const wide = randomFillSync(new Uint32Array(8), 2, 4);
    const ints = Array.from({ length: 2000 }, () => randomInt(-3, 4));
    const seen = [...new Set(ints)].sort((a, b) => a - b);
    const big48 = randomInt(2 ** 48 - 1);
    const viaCallback = await new Promise((resolve) => randomBytes(8, (err, buf) => resolve([err, buf.length])));
    const fillCallback = await new Promise((resolve) => randomFill(new Uint8Array(4), 2, (err, buf) => resolve([err, buf.length, buf[0], buf[1]])));
    const intCallback = await new Promise((resolve) => randomInt(5, 6, (err, n) => resolve([err, n])));
    const uuid = randomUUID();
    let quota = "";
    try { getRandomValues(new Uint8Array(65537)); } catch (err) { quota = err.name; }
    const unsupported = {};
    for (const [name, fn] of [["createCipheriv", () => createCipheriv("aes-256-gcm", "k", "iv")], ["scryptSync", () => scryptSync("p", "s", 16)], ["new KeyObject", () => new KeyObject()]]) {
      try { fn(); unsupported[name] = "no error"; } catch (err) { unsupported[name] = [err.name, err.code, err.message]; }
    }
    return Response.json({
      lengths, zeros, untouched, wideUntouched: [wide[0], wide[1], wide[6], wide[7]], wideFilled: wide.slice(2, 6).some((x) => x !== 0),
      seen, big48: Number.isSafeInteger(big48) && big48 >= 0, viaCallback, fillCallback: [fillCallback[0], fillCallback[1], fillCallback[2] === 0 && fillCallback[3] === 0],
      intCallback, uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuid),
      quota, getRandomValues: getRandomValues(new Uint8Array(4)).length, unsupported, notKeyObject: ({}) instanceof KeyObject,
      webcrypto: webcrypto === globalThis.crypto, subtle: subtle === globalThis.crypto.subtle, defaultExport: typeof crypto.createHash,
      hashes: getHashes(),
    });
  },
};
`;

test("random functions: lengths past the 64 KiB per-call limit, offsets, ranges, callbacks; unsupported functions throw a clear error when called", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-node-crypto-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "index.js"), RANDOM_WORKER);
  const built = await bundle(join(dir, "index.js"), { nodeCompat: true });
  const verge = new Verge({ modules: true, script: built.code, limits: { cpuMs: 20_000 } });
  t.after(() => verge.dispose());
  const got = (await (await verge.dispatchFetch("http://localhost/")).json()) as Record<string, unknown>;
  assert.deepEqual(got.lengths, [0, 1, 16, 65536, 65537, 200000]);
  // 200000 uniform bytes hold about 781 zeros; 0 or a large share would mean unfilled chunks.
  assert.ok((got.zeros as number) > 400 && (got.zeros as number) < 1200, `zeros: ${String(got.zeros)}`);
  assert.deepEqual(got.untouched, [0, 0, 0, 0], "randomFillSync leaves bytes outside offset..offset+size alone");
  assert.deepEqual(got.wideUntouched, [0, 0, 0, 0], "offset and size count elements of a Uint32Array");
  assert.equal(got.wideFilled, true);
  assert.deepEqual(got.seen, [-3, -2, -1, 0, 1, 2, 3], "randomInt(-3, 4) gives each of -3..3 and nothing else");
  assert.equal(got.big48, true);
  assert.deepEqual(got.viaCallback, [null, 8]);
  assert.deepEqual(got.fillCallback, [null, 4, true]);
  assert.deepEqual(got.intCallback, [null, 5]);
  assert.equal(got.uuid, true);
  assert.equal(got.quota, "QuotaExceededError", "getRandomValues keeps WebCrypto's 65536-byte limit, as Node's does");
  assert.equal(got.getRandomValues, 4);
  const unsupported = got.unsupported as Record<string, [string, string, string]>;
  for (const [name, fn] of [["createCipheriv", "createCipheriv"], ["scryptSync", "scryptSync"], ["new KeyObject", "KeyObject"]] as const) {
    const [errName, code, message] = unsupported[name]!;
    assert.equal(errName, "Error");
    assert.equal(code, "ERR_METHOD_NOT_IMPLEMENTED");
    assert.match(message, new RegExp(`^crypto\\.${fn} is not supported: verge's nodejs_compat provides createHash, createHmac, hash, pbkdf2, hkdf`));
  }
  assert.equal(got.notKeyObject, false);
  assert.equal(got.webcrypto, true);
  assert.equal(got.subtle, true);
  assert.equal(got.defaultExport, "function", "import crypto from \"node:crypto\" works too");
  const nodeHashes = new Set(nodeCrypto.getHashes());
  const hashes = got.hashes as string[];
  assert.ok(hashes.length >= 20);
  assert.deepEqual(hashes.filter((h) => !nodeHashes.has(h)), [], "every name getHashes() lists is one of Node's");
  assert.deepEqual([...hashes].sort(), hashes, "sorted as Node's list is");
});

test("hashing is the function's own CPU: pbkdf2Sync with a huge iteration count ends in ERR_CPU_LIMIT, and the next request is served", { timeout: 60_000 }, async (t) => {
  const verge = await start(t, { cpuMs: 50 });
  const small = await verge.dispatchFetch("http://localhost/pbkdf2?c=10");
  assert.equal(await small.text(), nodeCrypto.pbkdf2Sync("p", "s", 10, 32, "sha512").toString("hex"));
  const started = performance.now();
  await assert.rejects(verge.dispatchFetch("http://localhost/pbkdf2?c=1000000000"), (err: { code?: string }) => {
    assert.equal(err.code, "ERR_CPU_LIMIT");
    return true;
  });
  assert.ok(performance.now() - started < 10_000, "killed near its budget, not after a billion iterations");
  const after = await verge.dispatchFetch("http://localhost/pbkdf2?c=1");
  assert.equal(await after.text(), nodeCrypto.pbkdf2Sync("p", "s", 1, 32, "sha512").toString("hex"));
});
