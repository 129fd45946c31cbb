/**
 * Bundle verification before a bundle is stored or run (DESIGN.md §6), in this
 * order: 1. the bytes' sha256 is the digest the version is named by (always);
 * 2. the version's signed statement verifies with one of the tenant's trusted
 * keys and names this tenant, function and digest — required under `enforce`,
 * logged and accepted under `warn`, skipped under `off`. The statement's age
 * is not checked here: the registry checked it at publish, and a version stays
 * runnable for as long as it is deployed.
 */
import { VergeError } from "../../src/shared/errors.ts";
import type { SigningPolicy, VersionInfo } from "../../src/shared/protocol.ts";
import { digestOf, verifyStatement } from "../../src/shared/signing.ts";

export function checkDigest(bytes: Uint8Array, version: VersionInfo, source: string): void {
  const actual = digestOf(bytes);
  if (actual !== version.digest) {
    throw new VergeError(
      "ERR_DIGEST_MISMATCH",
      `bundle of ${version.tenant}/${version.function} from ${source}: expected sha256 ${version.digest}, found ${actual} (${bytes.byteLength} bytes): refused, not stored`,
    );
  }
}

/** Why the version's signature does not pass, or null when it does. */
export function signatureProblem(version: VersionInfo, signing: SigningPolicy): string | null {
  const signed = version.signature;
  if (signed === null) return "the version is unsigned";
  const keyId = typeof signed.statement?.keyId === "string" ? signed.statement.keyId : "";
  const key = signing.keys.find((k) => k.keyId === keyId);
  if (key === undefined) return `key ${keyId.slice(0, 32)} is not a trusted key of tenant "${version.tenant}" (trusted: [${signing.keys.map((k) => k.keyId).join(", ")}])`;
  const check = verifyStatement(signed, key.publicKey, { tenant: version.tenant, function: version.function, digest: version.digest }, { maxFutureMs: Number.POSITIVE_INFINITY });
  return check.ok ? null : check.reason;
}

/**
 * Applies the tenant's policy: throws `ERR_SIGNATURE_INVALID` under `enforce`,
 * returns the problem (to log) under `warn`, null when verified or off.
 */
export function checkSignature(version: VersionInfo, signing: SigningPolicy): string | null {
  if (signing.policy === "off") return null;
  const problem = signatureProblem(version, signing);
  if (problem === null || signing.policy === "warn") return problem;
  throw new VergeError(
    "ERR_SIGNATURE_INVALID",
    `version ${version.digest.slice(0, 12)}… of ${version.tenant}/${version.function}: tenant "${version.tenant}" enforces code signing and ${problem}: refused`,
  );
}
