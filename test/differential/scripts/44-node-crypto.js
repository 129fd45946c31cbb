// Exercises: node:crypto under nodejs_compat: createHash in every algorithm and
// output encoding, update() with strings in several encodings and with typed
// arrays, copy(), createHmac with string and byte keys, pbkdf2Sync, hkdfSync,
// timingSafeEqual, and the errors of a finalized hash, an unknown algorithm and
// buffers of different lengths. workerd's node:crypto is native (BoringSSL);
// verge bundles its own over @noble/hashes.
import { createHash, createHmac, pbkdf2Sync, hkdfSync, timingSafeEqual, randomBytes } from "node:crypto";
import { Buffer } from "node:buffer";

export const compatibilityFlags = ["nodejs_compat"];
export const requests = [
  { name: "hash", path: "/hash" },
  { name: "hmac", path: "/hmac" },
  { name: "kdf", path: "/kdf" },
  { name: "timingSafeEqual", path: "/timing" },
  { name: "errors", path: "/errors" },
];

const ALGORITHMS = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512", "SHA256", "RSA-SHA256", "sha512-256"];
const OUTPUTS = ["hex", "base64", "base64url", "latin1"];

function failure(fn) {
  try {
    fn();
    return "no error";
  } catch (err) {
    return { name: err.name, code: err.code ?? null, message: err.message };
  }
}

const routes = {
  hash() {
    const out = {};
    for (const alg of ALGORITHMS) {
      for (const enc of OUTPUTS) out[`${alg} ${enc}`] = createHash(alg).update("The quick brown fox").update(" jumps", "utf8").digest(enc);
      out[`${alg} buffer`] = Buffer.isBuffer(createHash(alg).update("x").digest());
    }
    out.hexInput = createHash("sha256").update("deadbeef", "hex").digest("hex");
    out.base64Input = createHash("sha256").update("aGVsbG8=", "base64").digest("hex");
    out.latin1Input = createHash("sha256").update("caf\u00e9", "latin1").digest("hex");
    out.unicode = createHash("sha256").update("h\u00e9llo \u20ac \ud83d\ude00").digest("hex");
    out.uint8 = createHash("sha1").update(new Uint8Array([1, 2, 3, 4])).digest("hex");
    out.dataView = createHash("sha1").update(new DataView(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2)).digest("hex");
    out.long = createHash("sha512").update("a".repeat(100000)).digest("base64");
    const base = createHash("sha256").update("ab");
    const copy = base.copy();
    out.copy = [base.update("c").digest("hex"), copy.update("d").digest("hex")];
    return out;
  },
  hmac() {
    const out = {};
    for (const alg of ALGORITHMS) out[alg] = createHmac(alg, "key").update("The quick brown fox jumps over the lazy dog").digest("hex");
    out.bufferKey = createHmac("sha256", Buffer.from("0b".repeat(20), "hex")).update("Hi There").digest("hex");
    out.longKey = createHmac("sha512", "k".repeat(300)).update("data").digest("base64");
    out.emptyKey = createHmac("sha1", "").update("").digest("hex");
    out.uint8Key = createHmac("md5", new Uint8Array([1, 2, 3])).update(new Uint8Array([4, 5])).digest("base64url");
    return out;
  },
  kdf() {
    return {
      pbkdf2: pbkdf2Sync("password", "salt", 1000, 32, "sha256").toString("hex"),
      pbkdf2Sha1: pbkdf2Sync("password", "salt", 2, 20, "sha1").toString("hex"),
      pbkdf2Sha512: pbkdf2Sync(Buffer.from("p\u00e4ss"), new Uint8Array([1, 2, 3]), 10, 100, "sha512").toString("base64"),
      hkdf: Buffer.from(hkdfSync("sha256", "ikm", "salt", "info", 42)).toString("hex"),
      hkdfIsArrayBuffer: hkdfSync("sha256", "ikm", "salt", "info", 16) instanceof ArrayBuffer,
    };
  },
  timing() {
    return {
      equal: timingSafeEqual(Buffer.from("secret"), Buffer.from("secret")),
      different: timingSafeEqual(Buffer.from("secret"), Buffer.from("secreT")),
      typed: timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])),
      lengths: failure(() => timingSafeEqual(Buffer.from("a"), Buffer.from("ab"))),
      randomLength: randomBytes(40).length,
    };
  },
  errors() {
    const done = createHash("sha256");
    done.digest();
    return {
      digestTwice: failure(() => done.digest()),
      updateAfterDigest: failure(() => done.update("x")),
      unknownHash: failure(() => createHash("sha3-999")),
      unknownHmac: failure(() => createHmac("nope", "key")),
      unknownPbkdf2: failure(() => pbkdf2Sync("p", "s", 1, 10, "nope")),
      badData: failure(() => createHash("sha256").update(5)),
      oddHex: failure(() => createHash("sha256").update("abc", "hex")),
      badIterations: failure(() => pbkdf2Sync("p", "s", 0, 10, "sha256")),
    };
  },
};

export default {
  async fetch(request) {
    const route = routes[new URL(request.url).pathname.slice(1)];
    if (route === undefined) return new Response("not found", { status: 404 });
    return Response.json(route());
  },
};
