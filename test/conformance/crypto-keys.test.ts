/**
 * crypto.subtle key derivation, wrapping, RSA, cloning of CryptoKeys, and the
 * Workers extras (DigestStream, timingSafeEqual) inside the isolate.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, webcrypto } from "node:crypto";
import { evalGuest } from "../helpers/guest.ts";

const subtle = webcrypto.subtle;
const hex = (b: ArrayBuffer) => Buffer.from(b).toString("hex");
const H = `
  const enc = (s) => new TextEncoder().encode(s);
  const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
  const unhex = (s) => new Uint8Array(s.match(/../g).map((x) => parseInt(x, 16)));
`;

test("deriveBits and deriveKey: PBKDF2 (RFC 6070) and HKDF (RFC 5869) vectors", async () => {
  const r = await evalGuest(`${H}
    const pw = await crypto.subtle.importKey("raw", enc("password"), "PBKDF2", false, ["deriveBits", "deriveKey"]);
    const pbkdf2 = hex(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-1", salt: enc("salt"), iterations: 4096 }, pw, 160));
    const ikm = await crypto.subtle.importKey("raw", new Uint8Array(22).fill(0x0b), "HKDF", false, ["deriveBits"]);
    const hkdf = hex(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: unhex("000102030405060708090a0b0c"), info: unhex("f0f1f2f3f4f5f6f7f8f9") }, ikm, 336));
    const aes = await crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt: enc("salt"), iterations: 1000 }, pw, { name: "AES-GCM", length: 256 }, true, ["encrypt"]);
    return { pbkdf2, hkdf, aes: [aes.algorithm, aes.usages, hex(await crypto.subtle.exportKey("raw", aes))] };
  `);
  const pw = await subtle.importKey("raw", Buffer.from("password"), "PBKDF2", false, ["deriveBits"]);
  const expectedAes = hex(await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: Buffer.from("salt"), iterations: 1000 }, pw, 256));
  assert.deepEqual(r, {
    pbkdf2: "4b007901b765489abead49d926f721d065a429c1",
    hkdf: "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    aes: [{ name: "AES-GCM", length: 256 }, ["encrypt"], expectedAes],
  });
});

test("ECDH and X25519: the guest and the host derive the same secret", async () => {
  const hostEc = (await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as webcrypto.CryptoKeyPair;
  const hostX = (await subtle.generateKey({ name: "X25519" }, true, ["deriveBits"])) as unknown as webcrypto.CryptoKeyPair;
  const hostEcPub = await subtle.exportKey("jwk", hostEc.publicKey);
  const hostXPub = hex(await subtle.exportKey("raw", hostX.publicKey));
  const r = (await evalGuest(`${H}
    const ec = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits", "deriveKey"]);
    const peer = await crypto.subtle.importKey("jwk", ${JSON.stringify(hostEcPub)}, { name: "ECDH", namedCurve: "P-256" }, true, []);
    const x = await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
    const xPeer = await crypto.subtle.importKey("raw", unhex("${hostXPub}"), { name: "X25519" }, true, []);
    const hmac = await crypto.subtle.deriveKey({ name: "ECDH", public: peer }, ec.privateKey, { name: "HMAC", hash: "SHA-256", length: 256 }, true, ["sign"]);
    return {
      ecPub: hex(await crypto.subtle.exportKey("raw", ec.publicKey)), ecSecret: hex(await crypto.subtle.deriveBits({ name: "ECDH", public: peer }, ec.privateKey, 256)),
      ecNullLength: hex(await crypto.subtle.deriveBits({ name: "ECDH", public: peer }, ec.privateKey, null)),
      xPub: hex(await crypto.subtle.exportKey("raw", x.publicKey)), xSecret: hex(await crypto.subtle.deriveBits({ name: "X25519", public: xPeer }, x.privateKey, 256)),
      hmacKey: hex(await crypto.subtle.exportKey("raw", hmac)),
      publicNotKey: await crypto.subtle.deriveBits({ name: "ECDH", public: {} }, ec.privateKey, 256).then(() => "ok", (e) => e.name),
    };
  `)) as Record<string, string>;
  const ecPub = await subtle.importKey("raw", Buffer.from(r.ecPub!, "hex"), { name: "ECDH", namedCurve: "P-256" }, false, []);
  const ecSecret = hex(await subtle.deriveBits({ name: "ECDH", public: ecPub }, hostEc.privateKey, 256));
  assert.equal(r.ecSecret, ecSecret);
  assert.equal(r.ecNullLength, ecSecret);
  assert.equal(r.hmacKey, ecSecret);
  const xPub = await subtle.importKey("raw", Buffer.from(r.xPub!, "hex"), { name: "X25519" }, false, []);
  assert.equal(r.xSecret, hex(await subtle.deriveBits({ name: "X25519", public: xPub }, hostX.privateKey, 256)));
  assert.equal(r.publicNotKey, "TypeError");
});

test("RSA: host keys verify and decrypt guest output; wrapKey/unwrapKey with AES-KW", async () => {
  const pss = (await subtle.generateKey({ name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const oaep = (await subtle.generateKey({ name: "RSA-OAEP", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["encrypt", "decrypt"])) as webcrypto.CryptoKeyPair;
  const pssPriv = await subtle.exportKey("jwk", pss.privateKey);
  const oaepPub = hex(await subtle.exportKey("spki", oaep.publicKey));
  const r = (await evalGuest(`${H}
    const priv = await crypto.subtle.importKey("jwk", ${JSON.stringify(pssPriv)}, { name: "RSA-PSS", hash: "SHA-256" }, false, ["sign"]);
    const pub = await crypto.subtle.importKey("spki", unhex("${oaepPub}"), { name: "RSA-OAEP", hash: "SHA-256" }, false, ["encrypt"]);
    const kek = await crypto.subtle.generateKey({ name: "AES-KW", length: 128 }, false, ["wrapKey", "unwrapKey"]);
    const inner = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
    const wrapped = await crypto.subtle.wrapKey("raw", inner, kek, "AES-KW");
    const unwrapped = await crypto.subtle.unwrapKey("raw", wrapped, kek, "AES-KW", "AES-GCM", true, ["decrypt"]);
    return {
      sig: hex(await crypto.subtle.sign({ name: "RSA-PSS", saltLength: 32 }, priv, enc("pss"))),
      ct: hex(await crypto.subtle.encrypt({ name: "RSA-OAEP", label: enc("L") }, pub, enc("secret"))),
      alg: [priv.algorithm.name, priv.algorithm.modulusLength, Array.from(priv.algorithm.publicExponent), priv.algorithm.hash],
      wrapped: [wrapped.byteLength, hex(await crypto.subtle.exportKey("raw", inner)) === hex(await crypto.subtle.exportKey("raw", unwrapped)), unwrapped.usages],
      tooBig: await crypto.subtle.generateKey({ name: "RSA-PSS", modulusLength: 8192, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign"]).then(() => "ok", (e) => e.name),
    };
  `)) as Record<string, unknown>;
  assert.equal(await subtle.verify({ name: "RSA-PSS", saltLength: 32 }, pss.publicKey, Buffer.from(r.sig as string, "hex"), Buffer.from("pss")), true);
  const pt = await subtle.decrypt({ name: "RSA-OAEP", label: Buffer.from("L") }, oaep.privateKey, Buffer.from(r.ct as string, "hex"));
  assert.equal(Buffer.from(pt).toString(), "secret");
  assert.deepEqual(r.alg, ["RSA-PSS", 2048, [1, 0, 1], { name: "SHA-256" }]);
  assert.deepEqual(r.wrapped, [40, true, ["decrypt"]]);
  assert.equal(r.tooBig, "NotSupportedError");
});

test("CryptoKeys survive structuredClone and repeated imports of one key", async () => {
  const r = await evalGuest(`${H}
    const key = await crypto.subtle.importKey("raw", enc("k"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const copy = structuredClone({ key }).key;
    const macs = new Set();
    // A key imported per request (a common pattern) many times over.
    for (let i = 0; i < 300; i++) {
      const k = await crypto.subtle.importKey("raw", enc("k"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      macs.add(hex(await crypto.subtle.sign("HMAC", k, enc("x"))));
    }
    return {
      copy: [copy !== key, copy instanceof CryptoKey, copy.algorithm, copy.usages],
      same: hex(await crypto.subtle.sign("HMAC", copy, enc("x"))) === hex(await crypto.subtle.sign("HMAC", key, enc("x"))),
      macs: macs.size,
    };
  `);
  assert.deepEqual(r, { copy: [true, true, { name: "HMAC", length: 8, hash: { name: "SHA-256" } }, ["sign"]], same: true, macs: 1 });
});

test("crypto.DigestStream hashes what is written; subtle.timingSafeEqual compares", async () => {
  const r = await evalGuest(`${H}
    const out = {};
    for (const alg of ["SHA-256", "SHA-1", "MD5", { name: "SHA-512" }]) {
      const ds = new crypto.DigestStream(alg);
      const w = ds.getWriter();
      await w.write(enc("hello "));
      await w.write(new Uint8Array([0x77, 0x6f]).buffer);
      await w.write(new DataView(enc("xrldx").buffer, 1, 3));
      await w.close();
      out[typeof alg === "string" ? alg : alg.name] = [hex(await ds.digest), ds.bytesWritten];
    }
    const piped = new crypto.DigestStream("SHA-256");
    await new Response("piped body").body.pipeTo(piped);
    let bad; try { new crypto.DigestStream("SHA-3"); } catch (e) { bad = e.name; }
    const t = crypto.subtle.timingSafeEqual;
    let lengths; try { t.call(crypto.subtle, new Uint8Array(1), new Uint8Array(2)); } catch (e) { lengths = e.name; }
    return {
      out, piped: hex(await piped.digest), bad, isWritable: piped instanceof WritableStream,
      equal: [crypto.subtle.timingSafeEqual(enc("abc"), enc("abc")), crypto.subtle.timingSafeEqual(enc("abc"), enc("abd")), crypto.subtle.timingSafeEqual(new ArrayBuffer(0), new Uint8Array(0))],
      lengths,
    };
  `);
  const h = (a: string, s: string) => createHash(a).update(s).digest("hex");
  assert.deepEqual(r, {
    out: {
      "SHA-256": [h("sha256", "hello world"), 11],
      "SHA-1": [h("sha1", "hello world"), 11],
      MD5: [h("md5", "hello world"), 11],
      "SHA-512": [h("sha512", "hello world"), 11],
    },
    piped: h("sha256", "piped body"),
    bad: "NotSupportedError",
    isWritable: true,
    equal: [true, false, true],
    lengths: "TypeError",
  });
});
