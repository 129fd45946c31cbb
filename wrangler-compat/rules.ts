/**
 * `rules`: Wrangler's module rules, `[[rules]]` tables of `{ type, globs,
 * fallthrough }` saying which imports are text, bytes or WebAssembly
 * (https://developers.cloudflare.com/workers/wrangler/configuration/#bundling).
 * verge's bundler applies them (src/build/module-rules.ts); here they are
 * validated, and the shadowing Wrangler warns about is warned about.
 */
import { describe, isTable, join, type Diagnostics } from "./diagnostics.ts";

export type WranglerModuleRuleType = "Text" | "Data" | "CompiledWasm" | "ESModule" | "CommonJS";

export interface WranglerModuleRule {
  type: WranglerModuleRuleType;
  globs: string[];
  fallthrough?: boolean;
}

const TYPES: readonly string[] = ["Text", "Data", "CompiledWasm", "ESModule", "CommonJS"];
/** Wrangler's Python rule types: a Python Worker does not run on verge. */
const PYTHON_TYPES = ["PythonModule", "PythonRequirement"];

/**
 * Wrangler's default rules, which a config rule of the same type without
 * `fallthrough = true` replaces. The bundler's list (src/build/module-rules.ts
 * `DEFAULT_MODULE_RULES`) is the one applied; test/integration/module-rules.test.ts
 * checks the two agree.
 */
export const DEFAULT_RULE_GLOBS: Readonly<Record<string, readonly string[]>> = {
  Text: ["**/*.txt", "**/*.html", "**/*.sql"],
  Data: ["**/*.bin"],
  CompiledWasm: ["**/*.wasm", "**/*.wasm?module"],
};

/**
 * Validates `rules` at `path`: every problem is reported; the valid rules are
 * returned in order (Python rules are warned about and left out).
 *
 * @example
 * readRules(d, "rules", [{ type: "Text", globs: ["**\/*.md"], fallthrough: true }]); // [{ type: "Text", globs: ["**\/*.md"], fallthrough: true }]
 */
export function readRules(d: Diagnostics, path: string, value: unknown): WranglerModuleRule[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    d.error(path, `expected an array of { type, globs, fallthrough } tables ([[rules]] in TOML), found ${describe(value)}`);
    return [];
  }
  const out: WranglerModuleRule[] = [];
  /** Where each rule that took effect is, by index in `value`. */
  const at = new Map<WranglerModuleRule, number>();
  value.forEach((raw: unknown, i) => {
    const p = join(path, i);
    if (!isTable(raw)) return d.error(p, `expected a table { type, globs, fallthrough }, found ${describe(raw)}`);
    for (const key of Object.keys(raw)) if (!["type", "globs", "fallthrough"].includes(key)) d.warn(join(p, key), "unknown module rule key; ignored (expected type, globs, fallthrough)");
    const type = raw.type;
    const typeOk = typeof type === "string" && TYPES.includes(type);
    if (type === undefined) d.error(join(p, "type"), `missing: expected one of ${TYPES.join(", ")}`);
    else if (typeof type === "string" && PYTHON_TYPES.includes(type)) d.warn(join(p, "type"), `${type}: verge does not run Python Workers; this rule is ignored`);
    else if (!typeOk) d.error(join(p, "type"), `expected one of ${TYPES.join(", ")}, found ${describe(type)}`);
    const gp = join(p, "globs");
    const errors = d.errors.length;
    if (raw.globs === undefined) d.error(gp, 'missing: expected an array of globs such as ["**/*.md"]');
    const globs = d.stringArray(gp, raw.globs, 'an array of globs such as ["**/*.md"]');
    globs?.forEach((g, j) => {
      if (g === "") d.error(join(gp, j), 'expected a glob such as "**/*.md", found ""');
    });
    const fallthrough = raw.fallthrough;
    if (fallthrough !== undefined && typeof fallthrough !== "boolean") d.error(join(p, "fallthrough"), `expected true or false, found ${describe(fallthrough)}`);
    if (!typeOk || globs === undefined || d.errors.length > errors) return;
    const rule: WranglerModuleRule = { type: type as WranglerModuleRuleType, globs, ...(typeof fallthrough === "boolean" ? { fallthrough } : {}) };
    out.push(rule);
    at.set(rule, i);
  });
  warnShadowed(d, path, out, at);
  return out;
}

/**
 * Wrangler's warning (workers-sdk `deployment-bundle/rules.ts`): a rule
 * without `fallthrough` ends its type, so a later rule of that type, or the
 * default one, is never used. `fallthrough = false` says so on purpose and
 * silences it; `fallthrough = true` lets the later rules apply too.
 */
function warnShadowed(d: Diagnostics, path: string, rules: WranglerModuleRule[], at: Map<WranglerModuleRule, number>): void {
  const ends = new Map<string, WranglerModuleRule>();
  for (const rule of rules) {
    const first = ends.get(rule.type);
    if (first !== undefined) {
      if (first.fallthrough === undefined) d.warn(join(path, at.get(rule)!), `never used: ${join(path, at.get(first)!)} is a ${rule.type} rule before it without fallthrough = true; add fallthrough = true there to use both (or fallthrough = false to silence this)`);
      continue;
    }
    if (rule.fallthrough === true) continue;
    ends.set(rule.type, rule);
    const defaults = DEFAULT_RULE_GLOBS[rule.type];
    if (defaults !== undefined && rule.fallthrough === undefined) {
      d.warn(join(path, at.get(rule)!), `replaces Wrangler's default ${rule.type} rule (${defaults.join(", ")}): importing such a file is then a build error, as in Wrangler; add fallthrough = true to keep the default (or fallthrough = false to silence this)`);
    }
  }
}
