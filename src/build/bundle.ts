/**
 * Bundles a function's entry (JS or TS, with its imports) into one ES module
 * with a source map, the unit verge runs and publishes.
 */
import * as esbuild from "esbuild";
import { basename } from "node:path";
import { VergeError } from "../shared/errors.ts";

export interface BundleResult {
  code: string;
  sourceMap: string;
  filename: string;
  bytes: number;
}

export async function bundle(entry: string): Promise<BundleResult> {
  const filename = basename(entry).replace(/\.(ts|mts|tsx|jsx|cjs|mjs)$/, ".js");
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      mainFields: ["worker", "browser", "module", "main"],
      conditions: ["workerd", "worker", "browser", "import", "default"],
      sourcemap: "external",
      write: false,
      outfile: filename,
      logLevel: "silent",
    });
    const js = result.outputFiles.find((f) => f.path.endsWith(".js"));
    const map = result.outputFiles.find((f) => f.path.endsWith(".map"));
    if (js === undefined) throw new Error("esbuild produced no JavaScript");
    return { code: js.text, sourceMap: map?.text ?? "", filename, bytes: js.contents.byteLength };
  } catch (err) {
    const errors = (err as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } }> }).errors;
    const detail = errors?.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text)).join("\n  ") ?? String(err);
    throw new VergeError("ERR_BUILD_FAILED", `building ${entry} failed:\n  ${detail}`);
  }
}
