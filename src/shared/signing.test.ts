import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import {
  createStatement,
  digestOf,
  encodeStatement,
  generateSigningKeyPair,
  keyIdOf,
  parsePublicKey,
  publicKeyOf,
  signStatement,
  verifyStatement,
} from "./signing.ts";

const digest = digestOf("export default { fetch() {} }");
const expected = { tenant: "acme", function: "auth", digest };

test("a signed statement verifies with its key and says what it covers", () => {
  const keys = generateSigningKeyPair();
  assert.equal(keys.keyId, keyIdOf(keys.publicKey));
  assert.equal(publicKeyOf(keys.privateKey), keys.publicKey);
  const signed = signStatement(createStatement({ ...expected, keyId: keys.keyId }), keys.privateKey);
  assert.deepEqual(verifyStatement(signed, keys.publicKey, expected), { ok: true });
  // Survives a JSON round trip with the keys in another order.
  const reordered = JSON.parse(JSON.stringify({ signature: signed.signature, statement: Object.fromEntries(Object.entries(signed.statement).reverse()) }));
  assert.deepEqual(verifyStatement(reordered, keys.publicKey, expected), { ok: true });
});

test("the signature covers tenant, function, digest, time and key id", () => {
  const keys = generateSigningKeyPair();
  const signed = signStatement(createStatement({ ...expected, keyId: keys.keyId }), keys.privateKey);
  for (const [field, value] of [["tenant", "other"], ["function", "other"], ["digest", digestOf("x")]] as const) {
    const check = verifyStatement({ ...signed, statement: { ...signed.statement, [field]: value } }, keys.publicKey, expected);
    assert.equal(check.ok, false);
    assert.equal(!check.ok && check.problem, "mismatch", field);
  }
  const shifted = verifyStatement({ ...signed, statement: { ...signed.statement, time: new Date(Date.now() - 1000).toISOString() } }, keys.publicKey, expected);
  assert.equal(!shifted.ok && shifted.problem, "bad-signature");
  const other = generateSigningKeyPair();
  const wrongKey = verifyStatement(signed, other.publicKey, expected);
  assert.equal(!wrongKey.ok && wrongKey.problem, "mismatch");
  // A statement claiming another key's id, signed with the wrong private key.
  const forged = signStatement(createStatement({ ...expected, keyId: other.keyId }), keys.privateKey);
  const bad = verifyStatement(forged, other.publicKey, expected);
  assert.equal(!bad.ok && bad.problem, "bad-signature");
  assert.notDeepEqual(encodeStatement(signed.statement), encodeStatement({ ...signed.statement, tenant: "acme2" }));
});

test("statements outside the time window are refused", () => {
  const keys = generateSigningKeyPair();
  const old = signStatement(createStatement({ ...expected, keyId: keys.keyId, time: new Date(Date.now() - 3_600_000) }), keys.privateKey);
  const check = verifyStatement(old, keys.publicKey, expected, { maxAgeMs: 600_000 });
  assert.equal(!check.ok && check.problem, "expired");
  assert.deepEqual(verifyStatement(old, keys.publicKey, expected), { ok: true }, "no age limit: edge nodes verify old statements");
  const future = signStatement(createStatement({ ...expected, keyId: keys.keyId, time: new Date(Date.now() + 3_600_000) }), keys.privateKey);
  assert.equal((verifyStatement(future, keys.publicKey, expected) as { problem?: string }).problem, "future");
});

test("malformed statements are refused, not thrown", () => {
  const keys = generateSigningKeyPair();
  for (const bad of [null, {}, { statement: {}, signature: "x" }, { statement: { ...createStatement({ ...expected, keyId: keys.keyId }), v: 2 }, signature: "abc" }]) {
    const check = verifyStatement(bad as never, keys.publicKey, expected);
    assert.equal(!check.ok && check.problem, "malformed");
  }
});

test("public keys parse from raw base64url, base64 and SPKI PEM; other keys do not", () => {
  const { publicKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "jwk" }).x!;
  assert.equal(parsePublicKey(raw), raw);
  assert.equal(parsePublicKey(Buffer.from(raw, "base64url").toString("base64")), raw);
  assert.equal(parsePublicKey(publicKey.export({ format: "pem", type: "spki" }).toString()), raw);
  assert.equal(parsePublicKey("too-short"), null);
  const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "pem", type: "spki" }).toString();
  assert.equal(parsePublicKey(rsa), null);
});
