/**
 * A directory of static assets -> its manifest, as Wrangler uploads it: every
 * file (symbolic links to files followed) except those `.assetsignore` names
 * (gitignore syntax, the `ignore` package Wrangler uses) and the metafiles
 * `.assetsignore`, `_headers` and `_redirects`; each file's sha256, size and
 * Content-Type (the `mime` package's, `; charset=utf-8` added to text/*, as
 * Wrangler does). A file over 25 MiB, too many files, or a missing directory is
 * an `ERR_ASSETS` error saying what to change.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, type Stats } from "node:fs";
import { join, relative, sep } from "node:path";
import ignore from "ignore";
import mime from "mime";
import { VergeError } from "../../shared/errors.ts";
import { MAX_ASSET_BYTES, MAX_ASSET_COUNT, MAX_ASSET_PATH, type AssetManifest } from "../../shared/assets/index.ts";

export const ASSETS_IGNORE_FILE = ".assetsignore";
/** Files Cloudflare reads as settings (custom headers, redirects) rather than serving. */
const META_FILES = ["_headers", "_redirects"];

export interface AssetDirectory {
  /** Absolute path of the directory. */
  directory: string;
  manifest: AssetManifest;
  /** Things a user should know that do not stop serving (a `_redirects` file verge does not apply). */
  warnings: string[];
}

/** The Content-Type an asset is served with, from its name; null when the extension is unknown. */
export function contentTypeOf(path: string): string | null {
  const type = mime.getType(path);
  if (type === null) return null;
  return type.startsWith("text/") && !type.includes("charset") ? `${type}; charset=utf-8` : type;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * Reads `directory` (absolute or relative to the working directory) into a manifest.
 * `where` names the setting for messages (`assets.directory`, `[assets] directory`).
 *
 * @example
 * const { manifest } = readAssetDirectory("./public");
 * manifest["/index.html"]; // { hash: "9f86d0…", size: 512, contentType: "text/html; charset=utf-8" }
 * @throws VergeError ERR_ASSETS
 */
export function readAssetDirectory(directory: string, where = "assets.directory"): AssetDirectory {
  let stat: Stats;
  try {
    stat = statSync(directory);
  } catch {
    throw new VergeError("ERR_ASSETS", `${where}: the directory ${directory} does not exist; create it, or point ${where} at the folder of your static files`);
  }
  if (!stat.isDirectory()) throw new VergeError("ERR_ASSETS", `${where}: ${directory} is a file; expected the directory of your static files`);
  const ignored = ignore().add([`/${ASSETS_IGNORE_FILE}`, ...META_FILES.map((f) => `/${f}`)]);
  let rules = "";
  try {
    rules = readFileSync(join(directory, ASSETS_IGNORE_FILE), "utf8");
  } catch {
    // No .assetsignore: every file is served.
  }
  ignored.add(rules);
  const warnings = META_FILES.filter((f) => exists(join(directory, f))).map(
    (f) => `${where}: ${f} is not applied by verge (Cloudflare reads it as ${f === "_headers" ? "custom headers" : "redirect rules"}); it is not served either`,
  );
  const manifest: AssetManifest = {};
  let count = 0;
  const names = readdirSync(directory, { recursive: true, encoding: "utf8" }).sort();
  for (const name of names) {
    const rel = name.split(sep).join("/");
    if (ignored.ignores(rel)) continue;
    const file = join(directory, name);
    let s: Stats;
    try {
      s = statSync(file);
    } catch {
      continue; // a dangling link: nothing to serve
    }
    if (!s.isFile()) continue;
    if (s.size > MAX_ASSET_BYTES) {
      throw new VergeError("ERR_ASSETS", `${where}: ${relative(process.cwd(), file) || file} is ${mib(s.size)}; an asset may be at most 25 MiB (Cloudflare's limit): remove it, or list it in ${ASSETS_IGNORE_FILE} and serve it from elsewhere`);
    }
    if (++count > MAX_ASSET_COUNT) {
      throw new VergeError("ERR_ASSETS", `${where}: ${directory} has more than ${MAX_ASSET_COUNT} files; a version may have at most ${MAX_ASSET_COUNT}: list the ones not to serve in ${ASSETS_IGNORE_FILE}`);
    }
    const path = `/${rel}`;
    if (path.length > MAX_ASSET_PATH) throw new VergeError("ERR_ASSETS", `${where}: the path of ${rel.slice(0, 80)}… is over ${MAX_ASSET_PATH} characters`);
    const bytes = readFileSync(file);
    manifest[path] = { hash: createHash("sha256").update(bytes).digest("hex"), size: bytes.byteLength, contentType: contentTypeOf(path) };
  }
  return { directory, manifest, warnings };
}

function exists(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
