/**
 * crypto.subtle inside the isolate: known vectors, and keys that cross between
 * the guest and Node's own WebCrypto on the host (sign here, verify there).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, webcrypto } from "node:crypto";
import { evalGuest } from "../helpers/guest.ts";

const subtle = webcrypto.subtle;
const hex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString("hex");
/** Guest-side helpers prepended to snippets. */
const H = `
  const enc = (s) => new TextEncoder().encode(s);
  const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
  const unhex = (s) => new Uint8Array(s.match(/../g).map((x) => parseInt(x, 16)));
`;

test("digest: SHA-1/256/384/512 (and MD5, as Workers) match known vectors and Node", async () => {
  const inputs = ["", "abc", "a".repeat(1000), "€😀"];
  const algs = ["SHA-1", "SHA-256", "SHA-384", "SHA-512", "MD5"];
  const r = (await evalGuest(`${H}
    const out = {};
    for (const a of ${JSON.stringify(algs)}) out[a] = await Promise.all(${JSON.stringify(inputs)}.map(async (s) => hex(await crypto.subtle.digest(a, enc(s)))));
    const dict = hex(await crypto.subtle.digest({ name: "sha-256" }, new Uint8Array([0x61, 0x62, 0x63]).buffer));
    const view = hex(await crypto.subtle.digest("SHA-256", new DataView(enc("xabcx").buffer, 1, 3)));
    return { out, dict, view, type: (await crypto.subtle.digest("SHA-256", enc(""))) instanceof ArrayBuffer };
  `)) as { out: Record<string, string[]>; dict: string; view: string; type: boolean };
  const node: Record<string, string> = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512", MD5: "md5" };
  for (const a of algs) assert.deepEqual(r.out[a], inputs.map((s) => createHash(node[a]!).update(s).digest("hex")), a);
  assert.equal(r.out["SHA-256"]![1], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(r.out["SHA-1"]![1], "a9993e364706816aba3e25717850c26c9cd0d89d");
  assert.equal(r.dict, r.out["SHA-256"]![1]);
  assert.equal(r.view, r.out["SHA-256"]![1]);
  assert.equal(r.type, true);
});

test("HMAC: RFC 4231 vectors, verify, generateKey and jwk export", async () => {
  const r = (await evalGuest(`${H}
    const key = await crypto.subtle.importKey("raw", enc("Jefe"), { name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);
    const key512 = await crypto.subtle.importKey("raw", enc("Jefe"), { name: "HMAC", hash: { name: "SHA-512" } }, false, ["sign"]);
    const data = enc("what do ya want for nothing?");
    const mac = await crypto.subtle.sign("HMAC", key, data);
    const gen = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-384" }, true, ["sign", "verify"]);
    const genMac = await crypto.subtle.sign("HMAC", gen, data);
    return {
      sha256: hex(mac), sha512: hex(await crypto.subtle.sign({ name: "HMAC" }, key512, data)),
      ok: await crypto.subtle.verify("HMAC", key, mac, data),
      bad: await crypto.subtle.verify("HMAC", key, mac, enc("other")),
      key: [key.type, key.extractable, key.algorithm, key.usages, key.algorithm === key.algorithm, key.usages === key.usages],
      jwk: await crypto.subtle.exportKey("jwk", key),
      gen: [gen.algorithm, (await crypto.subtle.exportKey("raw", gen)).byteLength, await crypto.subtle.verify("HMAC", gen, genMac, data)],
      genRaw: hex(await crypto.subtle.exportKey("raw", gen)), genMac: hex(genMac),
    };
  `)) as Record<string, unknown>;
  assert.equal(r.sha256, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  assert.equal(r.sha512, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
  assert.equal(r.ok, true);
  assert.equal(r.bad, false);
  assert.deepEqual(r.key, ["secret", true, { name: "HMAC", length: 32, hash: { name: "SHA-256" } }, ["sign", "verify"], true, true]);
  assert.deepEqual(r.jwk, { kty: "oct", k: Buffer.from("Jefe").toString("base64url"), alg: "HS256", key_ops: ["sign", "verify"], ext: true });
  assert.deepEqual(r.gen, [{ name: "HMAC", length: 1024, hash: { name: "SHA-384" } }, 128, true]);
  // The generated key, exported, gives the same MAC on the host.
  const hostKey = await subtle.importKey("raw", Buffer.from(r.genRaw as string, "hex"), { name: "HMAC", hash: "SHA-384" }, false, ["sign"]);
  assert.equal(hex(await subtle.sign("HMAC", hostKey, Buffer.from("what do ya want for nothing?"))), r.genMac);
});

test("AES-GCM: host-encrypted data decrypts in the guest and the other way round", async () => {
  const key = Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex");
  const iv = Buffer.from("cafebabefacedbaddecaf888", "hex");
  const aad = Buffer.from("header");
  const hostKey = await subtle.importKey("raw", key, "AES-GCM", false, ["encrypt", "decrypt"]);
  const hostCt = hex(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad, tagLength: 96 }, hostKey, Buffer.from("from the host")));
  const r = (await evalGuest(`${H}
    const key = await crypto.subtle.importKey("raw", unhex("${key.toString("hex")}"), { name: "AES-GCM" }, true, ["encrypt", "decrypt"]);
    const alg = { name: "AES-GCM", iv: unhex("${iv.toString("hex")}"), additionalData: enc("header"), tagLength: 96 };
    const plain = new TextDecoder().decode(await crypto.subtle.decrypt(alg, key, unhex("${hostCt}")));
    const ct = hex(await crypto.subtle.encrypt(alg, key, enc("from the guest")));
    let tampered; try { await crypto.subtle.decrypt(alg, key, unhex("${hostCt}".replace(/^../, "00"))); } catch (e) { tampered = [e.name, e instanceof DOMException]; }
    const gen = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["encrypt", "decrypt"]);
    const roundtrip = new TextDecoder().decode(await crypto.subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, gen, await crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, gen, enc("rt"))));
    let notExtractable; try { await crypto.subtle.exportKey("raw", gen); } catch (e) { notExtractable = e.name; }
    return { plain, ct, tampered, roundtrip, genAlg: gen.algorithm, notExtractable, jwk: await crypto.subtle.exportKey("jwk", key) };
  `)) as Record<string, unknown>;
  assert.equal(r.plain, "from the host");
  const pt = await subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad, tagLength: 96 }, hostKey, Buffer.from(r.ct as string, "hex"));
  assert.equal(Buffer.from(pt).toString(), "from the guest");
  assert.deepEqual(r.tampered, ["OperationError", true]);
  assert.equal(r.roundtrip, "rt");
  assert.deepEqual(r.genAlg, { name: "AES-GCM", length: 128 });
  assert.equal(r.notExtractable, "InvalidAccessError");
  assert.deepEqual(r.jwk, { kty: "oct", k: key.toString("base64url"), alg: "A256GCM", key_ops: ["encrypt", "decrypt"], ext: true });
});

test("ECDSA P-256: guest signatures verify on the host, host signatures verify in the guest", async () => {
  const hostPair = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const hostJwk = await subtle.exportKey("jwk", hostPair.publicKey);
  const hostSpki = hex(await subtle.exportKey("spki", hostPair.publicKey));
  const hostPkcs8 = hex(await subtle.exportKey("pkcs8", hostPair.privateKey));
  const hostSig = hex(await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, hostPair.privateKey, Buffer.from("host message")));
  const r = (await evalGuest(`${H}
    const alg = { name: "ECDSA", hash: "SHA-256" };
    const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const sig = hex(await crypto.subtle.sign(alg, pair.privateKey, enc("guest message")));
    const fromJwk = await crypto.subtle.importKey("jwk", ${JSON.stringify(hostJwk)}, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    const fromSpki = await crypto.subtle.importKey("spki", unhex("${hostSpki}"), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    const priv = await crypto.subtle.importKey("pkcs8", unhex("${hostPkcs8}"), { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    return {
      sig, spki: hex(await crypto.subtle.exportKey("spki", pair.publicKey)), raw: hex(await crypto.subtle.exportKey("raw", pair.publicKey)),
      jwk: await crypto.subtle.exportKey("jwk", pair.publicKey),
      verified: [await crypto.subtle.verify(alg, fromJwk, unhex("${hostSig}"), enc("host message")), await crypto.subtle.verify(alg, fromSpki, unhex("${hostSig}"), enc("host message")), await crypto.subtle.verify(alg, fromSpki, unhex("${hostSig}"), enc("forged"))],
      withImported: hex(await crypto.subtle.sign(alg, priv, enc("imported"))),
      types: [pair.publicKey.type, pair.privateKey.type, pair.publicKey.extractable, pair.privateKey.usages, pair.publicKey.usages, pair.publicKey.algorithm],
    };
  `)) as Record<string, unknown>;
  const alg = { name: "ECDSA", hash: "SHA-256" };
  const spki = await subtle.importKey("spki", Buffer.from(r.spki as string, "hex"), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const raw = await subtle.importKey("raw", Buffer.from(r.raw as string, "hex"), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const jwk = await subtle.importKey("jwk", r.jwk as webcrypto.JsonWebKey, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  for (const k of [spki, raw, jwk]) assert.equal(await subtle.verify(alg, k, Buffer.from(r.sig as string, "hex"), Buffer.from("guest message")), true);
  assert.equal(await subtle.verify(alg, hostPair.publicKey, Buffer.from(r.withImported as string, "hex"), Buffer.from("imported")), true);
  assert.deepEqual(r.verified, [true, true, false]);
  assert.deepEqual(r.types, ["public", "private", true, ["sign"], ["verify"], { name: "ECDSA", namedCurve: "P-256" }]);
});

test("Ed25519: sign and verify across the bridge, raw/jwk/spki/pkcs8", async () => {
  const hostPair = (await subtle.generateKey("Ed25519", true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const hostRaw = hex(await subtle.exportKey("raw", hostPair.publicKey));
  const hostSig = hex(await subtle.sign("Ed25519", hostPair.privateKey, Buffer.from("hello")));
  const hostPkcs8 = hex(await subtle.exportKey("pkcs8", hostPair.privateKey));
  const r = (await evalGuest(`${H}
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
    const pub = await crypto.subtle.importKey("raw", unhex("${hostRaw}"), "Ed25519", true, ["verify"]);
    const priv = await crypto.subtle.importKey("pkcs8", unhex("${hostPkcs8}"), "Ed25519", true, ["sign"]);
    return {
      raw: hex(await crypto.subtle.exportKey("raw", pair.publicKey)), sig: hex(await crypto.subtle.sign("Ed25519", pair.privateKey, enc("hello"))),
      hostOk: await crypto.subtle.verify("Ed25519", pub, unhex("${hostSig}"), enc("hello")),
      sameAsHost: hex(await crypto.subtle.sign("Ed25519", priv, enc("hello"))) === "${hostSig}",
      privJwk: (await crypto.subtle.exportKey("jwk", priv)).crv, alg: pair.privateKey.algorithm,
    };
  `)) as Record<string, unknown>;
  const pub = await subtle.importKey("raw", Buffer.from(r.raw as string, "hex"), "Ed25519", false, ["verify"]);
  assert.equal(await subtle.verify("Ed25519", pub, Buffer.from(r.sig as string, "hex"), Buffer.from("hello")), true);
  assert.deepEqual([r.hostOk, r.sameAsHost, r.privJwk, r.alg], [true, true, "Ed25519", { name: "Ed25519" }]);
});

test("crypto.subtle rejects with the DOMException names WebCrypto specifies", async () => {
  const r = await evalGuest(`${H}
    const name = (p) => p.then(() => "resolved", (e) => e instanceof DOMException ? e.name : e.constructor.name + ":" + e.name);
    const hmac = await crypto.subtle.importKey("raw", enc("k"), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    const pb = await crypto.subtle.importKey("raw", enc("pw"), "PBKDF2", false, ["deriveBits"]);
    const sync = (() => { try { crypto.subtle.digest("SHA-256"); return "no throw"; } catch (e) { return "threw"; } })();
    return {
      unknownAlg: await name(crypto.subtle.digest("SHA-999", enc("x"))),
      noName: await name(crypto.subtle.digest({}, enc("x"))),
      missingArg: await name(crypto.subtle.digest("SHA-256")),
      notBuffer: await name(crypto.subtle.digest("SHA-256", "text")),
      badUsage: await name(crypto.subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["sign"])),
      unknownUsage: await name(crypto.subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["fly"])),
      wrongUsage: await name(crypto.subtle.sign("HMAC", hmac, enc("x"))),
      notKey: await name(crypto.subtle.sign("HMAC", { type: "secret" }, enc("x"))),
      notExtractable: await name(crypto.subtle.exportKey("raw", hmac)),
      badKeyData: await name(crypto.subtle.importKey("spki", new Uint8Array(10), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"])),
      badAesLength: await name(crypto.subtle.importKey("raw", new Uint8Array(7), "AES-GCM", false, ["encrypt"])),
      badFormat: await name(crypto.subtle.exportKey("pem", hmac)),
      tooManyIterations: await name(crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(8), iterations: 100001 }, pb, 256)),
      sync,
    };
  `);
  assert.deepEqual(r, {
    unknownAlg: "NotSupportedError",
    noName: "TypeError:TypeError",
    missingArg: "TypeError:TypeError",
    notBuffer: "TypeError:TypeError",
    badUsage: "SyntaxError",
    unknownUsage: "TypeError:TypeError",
    wrongUsage: "InvalidAccessError",
    notKey: "TypeError:TypeError",
    notExtractable: "InvalidAccessError",
    badKeyData: "DataError",
    badAesLength: "DataError",
    badFormat: "TypeError:TypeError",
    tooManyIterations: "NotSupportedError",
    sync: "no throw",
  });
});
