/**
 * Code signing (DESIGN.md §6, issue 3): a publisher signs a *statement* — tenant,
 * function, bundle sha256, time and key id — with Ed25519, not the bundle alone,
 * so a signature cannot be replayed for another tenant or function. The registry
 * checks it at publish; edge nodes check the same statement before running a
 * bundle. node:crypto only.
 *
 * Wire forms: public keys are the raw 32 bytes as base64url (a JWK's `x`);
 * private keys are PKCS#8 PEM; signatures are base64url.
 *
 * @example
 * const keys = generateSigningKeyPair();
 * const signed = signStatement(createStatement({ tenant: "acme", function: "auth", digest, keyId: keys.keyId }), keys.privateKey);
 * verifyStatement(signed, keys.publicKey, { tenant: "acme", function: "auth", digest }); // { ok: true }
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";

export interface Statement {
  /** Format version of the statement. */
  v: 1;
  tenant: string;
  function: string;
  /** Hex sha256 of the bundle bytes. */
  digest: string;
  /** ISO 8601 time of signing. */
  time: string;
  keyId: string;
}

export interface SignedStatement {
  statement: Statement;
  /** Ed25519 signature of {@link encodeStatement}(statement), base64url. */
  signature: string;
}

export interface SigningKeyPair {
  keyId: string;
  /** Raw 32-byte Ed25519 public key, base64url. */
  publicKey: string;
  /** PKCS#8 PEM. */
  privateKey: string;
}

/** Why a statement was refused; the registry maps each to an error code. */
export type StatementProblem = "malformed" | "mismatch" | "expired" | "future" | "bad-signature";

export type StatementCheck = { ok: true } | { ok: false; problem: StatementProblem; reason: string };

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Key ids are the first 16 hex chars of sha256 over the raw public key. */
export function keyIdOf(publicKey: string): string {
  return createHash("sha256").update(Buffer.from(publicKey, "base64url")).digest("hex").slice(0, 16);
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = publicKeyToRaw(publicKey);
  return { keyId: keyIdOf(raw), publicKey: raw, privateKey: privateKey.export({ format: "pem", type: "pkcs8" }).toString() };
}

function publicKeyToRaw(key: KeyObject): string {
  const jwk = key.export({ format: "jwk" });
  if (jwk.crv !== "Ed25519" || typeof jwk.x !== "string") throw new TypeError("expected an Ed25519 public key");
  return jwk.x;
}

/**
 * Normalizes a public key given as raw base64url/base64 (32 bytes) or SPKI PEM
 * to raw base64url; returns null when it is not an Ed25519 public key.
 */
export function parsePublicKey(input: string): string | null {
  const text = input.trim();
  try {
    if (text.startsWith("-----BEGIN")) return publicKeyToRaw(createPublicKey(text));
    const bytes = Buffer.from(text, text.includes("+") || text.includes("/") || text.endsWith("=") ? "base64" : "base64url");
    if (bytes.length !== 32) return null;
    const raw = bytes.toString("base64url");
    createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw }, format: "jwk" });
    return raw;
  } catch {
    return null;
  }
}

/** The public half of a PKCS#8 PEM private key, raw base64url. */
export function publicKeyOf(privateKeyPem: string): string {
  return publicKeyToRaw(createPublicKey(createPrivateKey(privateKeyPem)));
}

export function createStatement(fields: Omit<Statement, "v" | "time"> & { time?: Date | string }): Statement {
  const time = fields.time === undefined ? new Date().toISOString() : typeof fields.time === "string" ? fields.time : fields.time.toISOString();
  return { v: 1, tenant: fields.tenant, function: fields.function, digest: fields.digest, time, keyId: fields.keyId };
}

/**
 * The signed bytes: a JSON array in fixed order, so the encoding is canonical
 * whatever order an object's keys arrive in.
 */
export function encodeStatement(s: Statement): Buffer {
  return Buffer.from(JSON.stringify(["verge-statement", s.v, s.tenant, s.function, s.digest, s.time, s.keyId]), "utf8");
}

export function signStatement(statement: Statement, privateKeyPem: string): SignedStatement {
  const signature = sign(null, encodeStatement(statement), createPrivateKey(privateKeyPem)).toString("base64url");
  return { statement, signature };
}

/** Checks that a value has the shape of a SignedStatement; returns a reason when it does not. */
export function statementShapeProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return "expected an object { statement, signature }";
  const { statement: s, signature } = value as { statement?: Record<string, unknown>; signature?: unknown };
  if (typeof signature !== "string" || !B64URL.test(signature)) return "signature: expected a base64url string";
  if (typeof s !== "object" || s === null) return "statement: expected an object";
  if (s.v !== 1) return `statement.v: expected 1, found ${JSON.stringify(s.v)}`;
  for (const field of ["tenant", "function", "digest", "time", "keyId"] as const) {
    if (typeof s[field] !== "string") return `statement.${field}: expected a string`;
  }
  if (Number.isNaN(Date.parse(s.time as string))) return "statement.time: expected an ISO 8601 time";
  return null;
}

export interface VerifyOptions {
  /** Refuse statements signed longer ago than this (the registry checks at publish). */
  maxAgeMs?: number;
  /** Tolerated clock skew for statements dated in the future. Default 5 minutes. */
  maxFutureMs?: number;
  now?: number;
}

/**
 * Verifies a signed statement against a trusted public key and what it must
 * say. Integrity first (tenant, function, digest, key id must match), then the
 * time window, then the signature.
 */
export function verifyStatement(
  signed: SignedStatement,
  publicKey: string,
  expected: { tenant: string; function: string; digest: string },
  options: VerifyOptions = {},
): StatementCheck {
  const shape = statementShapeProblem(signed);
  if (shape !== null) return { ok: false, problem: "malformed", reason: shape };
  const s = signed.statement;
  for (const field of ["tenant", "function", "digest"] as const) {
    if (s[field] !== expected[field]) {
      return { ok: false, problem: "mismatch", reason: `statement.${field} is "${s[field]}" but the bundle is for ${field} "${expected[field]}"` };
    }
  }
  if (s.keyId !== keyIdOf(publicKey)) return { ok: false, problem: "mismatch", reason: `statement.keyId "${s.keyId}" does not name the key it was checked with` };
  const now = options.now ?? Date.now();
  const time = Date.parse(s.time);
  if (options.maxAgeMs !== undefined && now - time > options.maxAgeMs) {
    return { ok: false, problem: "expired", reason: `statement.time ${s.time} is older than ${Math.round(options.maxAgeMs / 1000)} s` };
  }
  if (time - now > (options.maxFutureMs ?? 5 * 60_000)) return { ok: false, problem: "future", reason: `statement.time ${s.time} is in the future` };
  let good = false;
  try {
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: publicKey }, format: "jwk" });
    good = verify(null, encodeStatement(s), key, Buffer.from(signed.signature, "base64url"));
  } catch {
    good = false;
  }
  return good ? { ok: true } : { ok: false, problem: "bad-signature", reason: `the signature does not verify with key ${s.keyId}` };
}

/** Hex sha256 of a bundle: its version name. */
export function digestOf(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}
