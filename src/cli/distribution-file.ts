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
