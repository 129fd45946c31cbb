import { test } from "node:test";
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { createSubtleHost, SubtleError } from "./subtle.ts";
import type { KeyHandle } from "./protocol.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

async function rejects(p: Promise<unknown>, name: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SubtleError, `expected a SubtleError, got ${String(e)}`);
    assert.equal(e.name, name, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** True when `v` is made only of plain data, ArrayBuffers and typed arrays (what crosses into the isolate). */
function isPlainData(v: unknown): boolean {
  if (v === null || ["string", "number", "boolean", "undefined"].includes(typeof v)) return true;
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return true;
  if (Array.isArray(v)) return v.every(isPlainData);
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) return Object.values(v).every(isPlainData);
  return false;
}

test("digest returns an ArrayBuffer; MD5 is supported as in Workers", async () => {
  const s = createSubtleHost();
  const out = await s.call("digest", [{ name: "sha-256" }, bytes("abc")]);
  assert.ok(out instanceof ArrayBuffer);
  assert.equal(Buffer.from(out).toString("hex"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const md5 = await s.call("digest", [{ name: "MD5" }, bytes("abc")]);
  assert.equal(Buffer.from(md5 as ArrayBuffer).toString("hex"), "900150983cd24fb0d6963f7d28e17f72");
});

test("keys cross only as KeyHandle data and are found again by id", async () => {
  const s = createSubtleHost();
  const pair = (await s.call("generateKey", [{ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]])) as { publicKey: KeyHandle; privateKey: KeyHandle };
  assert.ok(isPlainData(pair));
  assert.deepEqual(Object.keys(pair.privateKey).sort(), ["__key", "algorithm", "extractable", "type", "usages"]);
  assert.deepEqual([pair.privateKey.type, pair.publicKey.type, pair.privateKey.usages, pair.publicKey.algorithm], ["private", "public", ["sign"], { name: "ECDSA", namedCurve: "P-256" }]);
  const sig = await s.call("sign", [{ name: "ECDSA", hash: { name: "SHA-256" } }, pair.privateKey, bytes("m")]);
  // The guest sends back only what it holds: a copy of the handle, with no key material.
  assert.equal(await s.call("verify", [{ name: "ECDSA", hash: { name: "SHA-256" } }, { ...pair.publicKey }, sig, bytes("m")]), true);
  const jwk = await s.call("exportKey", ["jwk", pair.publicKey]);
  assert.ok(isPlainData(jwk));
  assert.equal((jwk as { crv: string }).crv, "P-256");
  const rsa = (await s.call("importKey", [
    "jwk",
    await webcrypto.subtle.exportKey("jwk", ((await webcrypto.subtle.generateKey({ name: "RSA-PSS", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair).publicKey),
    { name: "RSA-PSS", hash: { name: "SHA-256" } },
    true,
    ["verify"],
  ])) as KeyHandle;
  assert.ok(isPlainData(rsa));
  assert.ok(rsa.algorithm.publicExponent instanceof Uint8Array);
});

test("rejects unknown methods, wrong arity and malformed shapes with the right names", async () => {
  const s = createSubtleHost();
  const hmac = (await s.call("importKey", ["raw", bytes("k"), { name: "HMAC", hash: { name: "SHA-256" } }, false, ["sign"]])) as KeyHandle;
  await rejects(s.call("constructor", []), "NotSupportedError");
  await rejects(s.call("__proto__", []), "NotSupportedError");
  await rejects(s.call("timingSafeEqual", [bytes("a"), bytes("a")]), "NotSupportedError");
  await rejects(s.call("digest", [{ name: "SHA-256" }]), "TypeError", /expected 2 arguments/);
  await rejects(s.call("digest", "nope" as unknown as unknown[]), "TypeError");
  await rejects(s.call("digest", ["SHA-256", bytes("x")]), "TypeError", /algorithm object/);
  await rejects(s.call("digest", [{ name: 5 }, bytes("x")]), "TypeError");
  await rejects(s.call("digest", [{ name: "SHA-3" }, bytes("x")]), "NotSupportedError");
  await rejects(s.call("digest", [{ name: "SHA-256" }, "text"]), "TypeError", /BufferSource/);
  await rejects(s.call("digest", [{ name: "SHA-256" }, [1, 2]]), "TypeError");
  await rejects(s.call("sign", [{ name: "HMAC" }, { __key: "1" }, bytes("x")]), "TypeError", /not a CryptoKey/);
  await rejects(s.call("sign", [{ name: "HMAC" }, { __key: 999 }, bytes("x")]), "InvalidAccessError", /no longer available/);
  await rejects(s.call("sign", [{ name: "HMAC" }, null, bytes("x")]), "TypeError");
  await rejects(s.call("importKey", ["pem", bytes("x"), { name: "HMAC", hash: { name: "SHA-256" } }, false, ["sign"]]), "TypeError", /KeyFormat/);
  await rejects(s.call("importKey", ["raw", bytes("x"), { name: "HMAC", hash: { name: "SHA-256" } }, "yes", ["sign"]]), "TypeError", /extractable/);
  await rejects(s.call("importKey", ["raw", bytes("x"), { name: "HMAC", hash: { name: "SHA-256" } }, false, ["fly"]]), "TypeError", /KeyUsage/);
  await rejects(s.call("importKey", ["raw", bytes("x"), { name: "HMAC", hash: { name: "SHA-256" } }, false, "sign"]), "TypeError");
  await rejects(s.call("importKey", ["jwk", bytes("x"), { name: "HMAC", hash: { name: "SHA-256" } }, false, ["sign"]]), "TypeError", /JsonWebKey/);
  await rejects(s.call("importKey", ["jwk", { kty: "oct", k: 5 }, { name: "HMAC", hash: { name: "SHA-256" } }, false, ["sign"]]), "TypeError", /jwk\.k/);
  await rejects(s.call("importKey", ["raw", bytes("x"), { name: "HMAC", hash: { name: "MD5" } }, false, ["sign"]]), "NotSupportedError", /hash/);
  await rejects(s.call("importKey", ["raw", bytes("x"), { name: "HMAC", hash: { name: "SHA-256" }, length: -1 }, false, ["sign"]]), "TypeError");
  await rejects(s.call("deriveBits", [{ name: "ECDH", public: { __key: hmac.__key + 100 } }, hmac, 256]), "InvalidAccessError");
});

test("WebCrypto failures keep their DOMException names", async () => {
  const s = createSubtleHost();
  const aes = (await s.call("generateKey", [{ name: "AES-GCM", length: 128 }, false, ["encrypt", "decrypt"]])) as KeyHandle;
  await rejects(s.call("exportKey", ["raw", aes]), "InvalidAccessError");
  await rejects(s.call("decrypt", [{ name: "AES-GCM", iv: new Uint8Array(12) }, aes, new Uint8Array(32)]), "OperationError");
  await rejects(s.call("importKey", ["raw", new Uint8Array(16), { name: "AES-GCM" }, false, ["sign"]]), "SyntaxError");
  await rejects(s.call("importKey", ["spki", new Uint8Array(9), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]]), "DataError");
  await rejects(s.call("sign", [{ name: "HMAC" }, aes, bytes("x")]), "InvalidAccessError");
});

test("host-side limits: PBKDF2 iterations, RSA size, deriveBits length", async () => {
  const s = createSubtleHost();
  const pw = (await s.call("importKey", ["raw", bytes("pw"), { name: "PBKDF2" }, false, ["deriveBits"]])) as KeyHandle;
  const alg = { name: "PBKDF2", hash: { name: "SHA-256" }, salt: bytes("salt") };
  assert.equal(((await s.call("deriveBits", [{ ...alg, iterations: 100_000 }, pw, 256])) as ArrayBuffer).byteLength, 32);
  await rejects(s.call("deriveBits", [{ ...alg, iterations: 100_001 }, pw, 256]), "NotSupportedError", /100000/);
  await rejects(s.call("deriveBits", [{ ...alg, iterations: 1 }, pw, 8 * 65536 + 8]), "OperationError");
  await rejects(s.call("generateKey", [{ name: "RSA-OAEP", modulusLength: 8192, publicExponent: new Uint8Array([1, 0, 1]), hash: { name: "SHA-256" } }, false, ["encrypt"]]), "NotSupportedError");
});

test("identical imports share one key-table entry", async () => {
  const s = createSubtleHost({ maxKeys: 2 });
  const args = () => ["raw", bytes("secret"), { name: "HMAC", hash: { name: "SHA-256" } }, false, ["sign"]];
  const a = (await s.call("importKey", args())) as KeyHandle;
  const b = (await s.call("importKey", args())) as KeyHandle;
  assert.equal(a.__key, b.__key);
  const other = (await s.call("importKey", ["raw", bytes("secret"), { name: "HMAC", hash: { name: "SHA-256" } }, false, ["sign", "verify"]])) as KeyHandle;
  assert.notEqual(other.__key, a.__key);
});

test("the key table evicts the least recently used key past maxKeys", async () => {
  const s = createSubtleHost({ maxKeys: 3 });
  const gen = () => s.call("generateKey", [{ name: "HMAC", hash: { name: "SHA-256" } }, false, ["sign"]]) as Promise<KeyHandle>;
  const k1 = await gen();
  const k2 = await gen();
  const k3 = await gen();
  await s.call("sign", [{ name: "HMAC" }, k1, bytes("x")]); // k1 is now the most recently used
  const k4 = await gen(); // evicts k2
  await s.call("sign", [{ name: "HMAC" }, k1, bytes("x")]);
  await s.call("sign", [{ name: "HMAC" }, k3, bytes("x")]);
  await s.call("sign", [{ name: "HMAC" }, k4, bytes("x")]);
  await rejects(s.call("sign", [{ name: "HMAC" }, k2, bytes("x")]), "InvalidAccessError", /more than 3 keys/);
});

test("dispose drops every key and refuses further calls", async () => {
  const s = createSubtleHost();
  await s.call("generateKey", [{ name: "AES-GCM", length: 128 }, true, ["encrypt"]]);
  s.dispose();
  await rejects(s.call("digest", [{ name: "SHA-256" }, bytes("x")]), "InvalidStateError");
});
