/**
 * Reads a distribution document for `verge deploy`: JSON (`.json`) or TOML
 * (`.toml`, parsed with smol-toml). The registry validates the content; this
 * only turns the file into a value, with the file, line and column of a syntax
 * error.
 *
 * @example
 * readDistributionFile("site.toml") // { name: "site", document: { hostnames: [...], ... } }
 */
import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import { VergeError } from "../shared/errors.ts";

export interface DistributionFile {
  /** The file name without its extension: the distribution's default name. */
  name: string;
  document: unknown;
}

export function readDistributionFile(file: string): DistributionFile {
  const ext = extname(file).toLowerCase();
  if (ext !== ".json" && ext !== ".toml") {
    throw new VergeError("ERR_INVALID_OPTIONS", `${file}: expected a distribution file ending in .json or .toml, found "${ext || "no extension"}"`);
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new VergeError("ERR_INVALID_OPTIONS", `${file}: cannot read the distribution file (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, { cause });
  }
  const name = basename(file, extname(file));
  if (ext === ".json") {
    try {
      return { name, document: JSON.parse(text) };
    } catch (cause) {
      throw new VergeError("ERR_INVALID_JSON", `${file}: not valid JSON: ${(cause as Error).message}`, { cause });
    }
  }
  try {
    return { name, document: parseToml(text) };
  } catch (cause) {
    const where = cause instanceof TomlError ? `line ${cause.line}, column ${cause.column}: ` : "";
    const what = cause instanceof Error ? cause.message.split("\n")[0] : String(cause);
    throw new VergeError("ERR_INVALID_TOML", `${file}: not valid TOML: ${where}${what}`, { cause });
  }
}

/**
 * A document as `PUT …/distributions/:name` takes it. A distribution saved
 * from the API (`GET`) carries fields the registry sets itself: `updatedAt` is
 * dropped, `name` names the distribution when `--name` does not, and `tenant`
 * must be the caller's (a file of another tenant's is refused, not moved).
 */
export function distributionInput(file: string, document: unknown, tenant: string, name: string | undefined): { name: string | undefined; body: unknown } {
  if (document === null || typeof document !== "object" || Array.isArray(document)) return { name, body: document };
  const { tenant: owner, name: own, updatedAt: _updatedAt, ...body } = document as Record<string, unknown>;
  if (owner !== undefined && owner !== tenant) {
    throw new VergeError("ERR_INVALID_OPTIONS", `${file}: tenant: this is tenant ${JSON.stringify(owner)}'s distribution, and the token is tenant ${JSON.stringify(tenant)}'s; remove the field to deploy it as ${JSON.stringify(tenant)}'s`);
  }
  if (own !== undefined && typeof own !== "string") throw new VergeError("ERR_INVALID_OPTIONS", `${file}: name: expected the distribution's name, a string, found ${JSON.stringify(own)}`);
  return { name: name ?? own, body };
}
