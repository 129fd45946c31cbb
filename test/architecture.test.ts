/**
 * Enforces the dependency direction of CONVENTIONS.md by reading import
 * specifiers (type imports included) and who names isolated-vm, esbuild, lmdb.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, dirname, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Which area a file belongs to; null for files outside the layered code (test/, bench/). */
function areaOf(file: string): string | null {
  const rel = relative(ROOT, file).split(sep).join("/");
  for (const a of ["src/shared", "src/runtime", "src/pipeline", "src/build", "src/harness", "src/cli", "edge-nodes", "origin", "wrangler-compat"]) {
    if (rel === a || rel.startsWith(a + "/")) return a;
  }
  if (rel === "src/index.ts") return "src/index";
  return null;
}

/** Areas each area may import from (besides itself and Node built-ins). */
const ALLOWED: Record<string, string[]> = {
  "src/shared": [],
  "src/runtime": ["src/shared"],
  "src/build": ["src/shared"],
  origin: ["src/shared"],
  // The request pipeline and response cache, shared by edge nodes, the harness and `verge dev`.
  "src/pipeline": ["src/shared", "src/runtime"],
  "edge-nodes": ["src/shared", "src/runtime", "src/pipeline"],
  "src/harness": ["src/shared", "src/runtime", "src/pipeline"],
  "wrangler-compat": ["src/shared", "src/runtime"],
  "src/cli": ["src/shared", "src/runtime", "src/pipeline", "src/build", "src/harness", "edge-nodes", "origin", "wrangler-compat"],
  "src/index": ["src/shared", "src/runtime", "src/pipeline", "src/harness", "wrangler-compat"],
};

/** Native dependencies and the only areas (or single files) allowed to name each. */
const OWNERS: Record<string, string[]> = {
  "isolated-vm": ["src/runtime"],
  esbuild: ["src/build"],
  // One lmdb-owning store module per server; in src/ those are the KV and R2 bindings' LMDB stores and the environments they share.
  lmdb: ["edge-nodes", "origin", "src/runtime/bindings/lmdb-envs.ts", "src/runtime/bindings/kv/lmdb-storage.ts", "src/runtime/bindings/r2/lmdb-backend.ts"],
};

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith(".generated.js")) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|[^\w$.])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?["']([^"']+)["']|(?:^|[^\w$.])import\s*\(\s*["']([^"']+)["']\s*\)/gm;

export function importsOf(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(IMPORT)) out.push((m[1] ?? m[2])!);
  return out;
}

const files = ["src", "edge-nodes", "origin", "wrangler-compat"].flatMap((d) => {
  try {
    return walk(join(ROOT, d));
  } catch {
    return [];
  }
});

test("the import scanner sees value, type, re-export and dynamic imports", () => {
  const code = `import a from "./a.ts";\nimport type { B } from "../b.ts";\nexport { c } from "./c.ts";\nconst d = await import("./d.ts");\nimport "./e.ts";`;
  assert.deepEqual(importsOf(code), ["./a.ts", "../b.ts", "./c.ts", "./d.ts", "./e.ts"]);
});

test("imports only go down the layers (CONVENTIONS.md), type imports included", () => {
  assert.ok(files.length > 10, "found the source files");
  const problems: string[] = [];
  for (const file of files) {
    const from = areaOf(file);
    if (from === null) continue;
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      if (!spec.startsWith(".")) continue;
      const target = areaOf(resolve(dirname(file), spec));
      if (target === null) {
        problems.push(`${relative(ROOT, file)} imports ${spec}, outside the layered code`);
      } else if (target !== from && !(ALLOWED[from] ?? []).includes(target)) {
        problems.push(`${relative(ROOT, file)} (${from}) imports ${spec} (${target})`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test("each native dependency is named by its owner only", () => {
  const problems: string[] = [];
  for (const file of files) {
    const from = areaOf(file);
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
      const owners = OWNERS[pkg];
      const rel = relative(ROOT, file).split(sep).join("/");
      if (owners !== undefined && !owners.includes(rel) && (from === null || !owners.includes(from))) problems.push(`${relative(ROOT, file)} names ${pkg} (owned by ${owners.join(", ")})`);
    }
  }
  assert.deepEqual(problems, []);
});

/** Pure modules of src/shared (no imports, no globals) the prelude may bundle. */
const GUEST_SHARED = ["src/shared/kv-rules.ts", "src/shared/r2-rules.ts"];

test("the guest prelude imports nothing from the host side but the bridge protocol types", () => {
  const guest = files.filter((f) => relative(ROOT, f).split(sep).join("/").startsWith("src/runtime/guest/"));
  const problems: string[] = [];
  for (const file of guest) {
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      if (!spec.startsWith(".")) continue;
      const target = relative(ROOT, resolve(dirname(file), spec)).split(sep).join("/");
      if (!target.startsWith("src/runtime/guest/") && target !== "src/runtime/bridge/protocol.ts" && !GUEST_SHARED.includes(target)) problems.push(`${relative(ROOT, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(problems, []);
});
