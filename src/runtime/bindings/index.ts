/**
 * Binding kinds: a typed record of small plain objects, one per kind (habit 3 of
 * CONVENTIONS.md). A declaration `{ type, value }` becomes either a plain `env`
 * value or a host handler whose methods the guest calls as async ops. A new kind
 * (KV) adds an entry here and touches nothing else; a service binding's calls
 * ride on the "fetch" op instead (service/index.ts).
 */
import type { BindingHandler } from "../host-services.ts";
import { VergeError } from "../../shared/errors.ts";
import { describe, type Diagnostic } from "../../shared/limits.ts";
import { kvKind } from "./kv/index.ts";
import { r2Kind } from "./r2/index.ts";
import { d1Kind } from "./d1/index.ts";
import { serviceKind } from "./service/index.ts";
import { assetsKind } from "./assets/index.ts";

/** What a caller declares: serializable, so it crosses to the child-process host. */
export interface BindingDecl {
  type: string;
  value: unknown;
}

export type Made = { value: unknown } | { handler: BindingHandler };

export interface BindingKind {
  /** Problems with the declared value, each naming the binding. */
  validate(name: string, value: unknown): Diagnostic[];
  create(name: string, value: unknown): Made;
}

/** The first place in `v` that JSON cannot carry as is, with what is there; undefined when all of it can. */
export function jsonProblem(v: unknown, path: string, depth = 0): { path: string; found: string } | undefined {
  if (depth > 64) return { path, found: "a value nested deeper than 64 levels" };
  if (v === null || typeof v === "string" || typeof v === "boolean") return undefined;
  if (typeof v === "number") return Number.isFinite(v) ? undefined : { path, found: `the number ${v}` };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = jsonProblem(v[i], `${path}[${i}]`, depth + 1);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v)) {
      const bad = jsonProblem(x, `${path}.${k}`, depth + 1);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  return { path, found: describe(v) };
}

function isJson(v: unknown): boolean {
  return jsonProblem(v, "") === undefined;
}

export const BINDING_KINDS: Record<string, BindingKind> = {
  /** A plain var: a string, or any JSON value (wrangler `[vars]`). */
  var: {
    validate: (name, value) => (isJson(value) ? [] : [{ path: `bindings.${name}`, message: `expected a string or JSON value, found ${describe(value)}` }]),
    create: (_name, value) => ({ value: structuredClone(value) }),
  },
  /** A secret: a string, never logged or returned by APIs. */
  secret: {
    validate: (name, value) => (typeof value === "string" ? [] : [{ path: `bindings.${name}`, message: `a secret must be a string, found ${typeof value}` }]),
    create: (_name, value) => ({ value }),
  },
  /** A Workers KV namespace: `{ id, persist? }` (see kv/index.ts). */
  kv: kvKind,
  /** A Cloudflare R2 bucket: `{ bucket, persist?, maxObjectBytes? }` (see r2/index.ts). */
  r2: r2Kind,
  /** A Cloudflare D1 database: `{ id, persist? }` (see d1/index.ts). */
  d1: d1Kind,
  /** A Workers service binding: `{ service }` (see service/index.ts). */
  service: serviceKind,
  /** A Worker's static assets: `{ manifest, config, directory? }` (see assets/index.ts). */
  assets: assetsKind,
};

const NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function validateBindings(decls: Record<string, BindingDecl>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [name, decl] of Object.entries(decls)) {
    if (!NAME.test(name) || name.length > 128) out.push({ path: `bindings.${name}`, message: "expected a JavaScript identifier of at most 128 characters" });
    const kind = BINDING_KINDS[decl.type];
    if (kind === undefined) out.push({ path: `bindings.${name}.type`, message: `unknown binding type ${JSON.stringify(decl.type)}; expected one of ${Object.keys(BINDING_KINDS).join(", ")}` });
    else out.push(...kind.validate(name, decl.value));
  }
  return out;
}

/** Builds `env` values and host handlers from declarations; throws once with every problem. */
export function createBindings(decls: Record<string, BindingDecl>): { env: Record<string, unknown>; bindings: Record<string, BindingHandler> } {
  const problems = validateBindings(decls);
  if (problems.length > 0) {
    throw new VergeError("ERR_INVALID_OPTIONS", `invalid bindings:\n${problems.map((d) => `  - ${d.path}: ${d.message}`).join("\n")}`, { details: { diagnostics: problems } });
  }
  const env: Record<string, unknown> = {};
  const bindings: Record<string, BindingHandler> = {};
  for (const [name, decl] of Object.entries(decls)) {
    const made = BINDING_KINDS[decl.type]!.create(name, decl.value);
    if ("handler" in made) bindings[name] = made.handler;
    else env[name] = made.value;
  }
  return { env, bindings };
}

/** Registers a binding kind (e.g. KV) without touching this file's callers. */
export function registerBindingKind(type: string, kind: BindingKind): void {
  BINDING_KINDS[type] = kind;
}
