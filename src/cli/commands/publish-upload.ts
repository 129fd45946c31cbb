/** What both forms of `verge publish` share: bundle to --outdir, upload (signed when given a key), describe the version. */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { bundle, type BundleOptions } from "../../build/bundle.ts";
import { VergeError } from "../../shared/errors.ts";
import type { VersionInfo } from "../../shared/protocol.ts";
import { createStatement, digestOf, keyIdOf, publicKeyOf, signStatement } from "../../shared/signing.ts";
import { apiPath, type RegistryClient } from "./registry-client.ts";

export interface UploadOptions {
  /** Bundled code. */
  code: string;
  name: string;
  signer?: Signer | undefined;
}

/** A publisher's private key, read and checked before anything is built or sent. */
export interface Signer {
  pem: string;
  keyId: string;
}

/** Reads `--key`: an Ed25519 private key in PKCS#8 PEM, as `verge keys generate` writes. */
export function loadSigner(file: string): Signer {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (cause) {
    const e = cause as NodeJS.ErrnoException;
    throw new VergeError("ERR_INVALID_OPTIONS", `--key ${file}: ${e.code === "ENOENT" ? "no such file or directory" : (e.code ?? e.message)}; expected the private key file \`verge keys generate --out <file>\` wrote`, { cause });
  }
  try {
    return { pem, keyId: keyIdOf(publicKeyOf(pem)) };
  } catch (cause) {
    throw new VergeError("ERR_INVALID_OPTIONS", `--key ${file}: expected an Ed25519 private key in PKCS#8 PEM (\`verge keys generate --out <file>\` makes one), found ${/-----BEGIN ([A-Z ]+)-----/.exec(pem)?.[1] ?? "no PEM key"}`, { cause });
  }
}

/** Uploads one bundle as a version of `name` (signed when given a key). */
export async function uploadVersion(client: RegistryClient, tenant: string, opts: UploadOptions): Promise<{ created: boolean; version: VersionInfo }> {
  const bytes = new TextEncoder().encode(opts.code);
  const digest = digestOf(bytes);
  const headers: Record<string, string> = { "content-type": "text/javascript", "x-verge-digest": digest };
  if (opts.signer !== undefined) {
    const signed = signStatement(createStatement({ tenant, function: opts.name, digest, keyId: opts.signer.keyId }), opts.signer.pem);
    headers["x-verge-signature"] = Buffer.from(JSON.stringify(signed)).toString("base64url");
  }
  const { status, body } = await client.call<VersionInfo>("POST", apiPath`/v1/tenants/${tenant}/functions/${opts.name}/versions`, bytes, headers);
  return { created: status === 201, version: body };
}

/** Bundles `entry` (with a wrangler config's module `rules` and `nodejs_compat` as `nodeCompat`) and writes the bundle and its source map to `outdir`. */
export async function buildTo(entry: string, outdir: string, options: BundleOptions = {}): Promise<string> {
  const built = await bundle(entry, options);
  mkdirSync(outdir, { recursive: true });
  writeFileSync(`${outdir}/${built.filename}`, built.code);
  writeFileSync(`${outdir}/${built.filename}.map`, built.sourceMap);
  return built.code;
}

/** @param signed the upload carried a signature (`--key`) */
export function describeVersion(created: boolean, v: VersionInfo, signed = false): string {
  const flag = v.flagged ? ` (flagged: ${v.signatureStatus} under the tenant's warn policy)` : "";
  // Versions are immutable: a signature sent with a bundle already published is not added to it.
  const unsignedNote = !created && signed && v.signatureStatus !== "verified" ? `; this bundle was published before without a verified signature, and versions do not change: --key was not applied (change the bundle to publish a signed version)` : "";
  return `${created ? "published" : "already published"} ${v.tenant}/${v.function} version ${v.digest} (${v.size} bytes, ${v.dialect}, ${v.signatureStatus})${flag}${unsignedNote}`;
}

export const NAME_HELP = "lowercase letters, digits, - or _ (at most 63)";
