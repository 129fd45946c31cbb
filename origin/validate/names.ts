/**
 * Names of tenants, functions, aliases and distributions. The pattern keeps
 * names well under LMDB's 1978-byte key limit even when several are joined in
 * one key, and leaves no room for path traversal or separators.
 */
import { DIGEST_PATTERN, NAME_PATTERN } from "../../src/shared/protocol.ts";
import { originError } from "../errors.ts";

export type NameKind = "tenant" | "function" | "alias" | "distribution" | "node" | "namespace" | "database";

/** Describes a value for a message without echoing much of it (it may be huge or hostile). */
export function preview(value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return `${JSON.stringify(shown)} (${value.length} chars)`;
}

export function checkName(kind: NameKind, value: string): string {
  if (!NAME_PATTERN.test(value)) {
    throw originError(
      "ERR_INVALID_NAME",
      `${kind} name ${preview(value)} is invalid: expected 1–63 characters, lowercase letters, digits, "-" or "_", starting with a letter or digit`,
    );
  }
  return value;
}

export function checkDigest(value: string): string {
  if (!DIGEST_PATTERN.test(value)) throw originError("ERR_INVALID_NAME", `version ${preview(value)} is invalid: expected a lowercase hex sha256 (64 characters)`);
  return value;
}
