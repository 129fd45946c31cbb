/**
 * The harness's `env` options — `bindings`, `secrets`, `kvNamespaces`,
 * `kvPersist`, `serviceBindings` (Miniflare 4 shapes) — checked here and turned into the
 * runtime's binding declarations. Every problem is reported with the option
 * it came from, at construction: the child host would otherwise refuse the
 * declaration only when the function is first called, and without naming the
 * option.
 */
import { resolve } from "node:path";
import { describe, type Diagnostic } from "../shared/limits.ts";
import { jsonProblem, validateBindings, type BindingDecl } from "../runtime/bindings/index.ts";
import { validateD1Options, type D1Options } from "./d1.ts";
import { validateR2, type R2Options } from "./r2.ts";

/** The default directory of `kvPersist: true`, relative to the working directory. */
export const DEFAULT_KV_PERSIST = ".verge/kv";

export interface BindingOptions extends D1Options, R2Options {
  bindings?: Record<string, unknown>;
  secrets?: Record<string, string>;
  kvNamespaces?: string[] | Record<string, string>;
  kvPersist?: boolean | string;
  serviceBindings?: Record<string, ServiceFunction>;
}

/** A service binding's target in the test process, as Miniflare 4 accepts one: it answers `env.NAME.fetch()`. */
export type ServiceFunction = (request: Request) => Response | Promise<Response>;

/** Which option declares a binding of each runtime kind, for paths in diagnostics. */
const OPTION_OF: Record<string, string> = { var: "bindings", secret: "secrets", kv: "kvNamespaces", d1: "d1Databases", service: "serviceBindings", r2: "r2Buckets" };

/** The binding declarations; `services` gets the functions of `serviceBindings`, which stay in this process. */
export function validateBindingOptions(raw: BindingOptions, d: Diagnostic[], services: Record<string, ServiceFunction> = {}): Record<string, BindingDecl> {
  const bindings: Record<string, BindingDecl> = {};
  const problems = new Set<string>();
  if (raw.bindings !== undefined) {
    if (!isRecord(raw.bindings)) d.push({ path: "bindings", message: `expected an object, found ${describe(raw.bindings)}` });
    else
      for (const [k, v] of Object.entries(raw.bindings)) {
        const bad = jsonProblem(v, `bindings.${k}`);
        if (bad !== undefined) {
          d.push({ path: bad.path, message: `expected a string or a JSON value (null, boolean, finite number, array, plain object), found ${bad.found}` });
          problems.add(k);
        }
        bindings[k] = { type: "var", value: v };
      }
  }
  if (raw.secrets !== undefined) {
    if (!isRecord(raw.secrets)) d.push({ path: "secrets", message: `expected an object of strings, found ${describe(raw.secrets)}` });
    else
      for (const [k, v] of Object.entries(raw.secrets)) {
        // Never the value itself: it is a secret.
        if (typeof v !== "string") {
          d.push({ path: `secrets.${k}`, message: `expected a string, found ${v === null ? "null" : Array.isArray(v) ? "an array" : typeof v}` });
          problems.add(k);
        }
        if (bindings[k] !== undefined) d.push({ path: `secrets.${k}`, message: `the binding ${k} is also declared in bindings` });
        bindings[k] = { type: "secret", value: v };
      }
  }
  validateKv(raw, bindings, d);
  validateD1Options(raw, bindings, d);
  validateR2(raw, bindings, d);
  validateServices(raw, bindings, services, d);
  // The runtime's own rules (binding names, KV values), for what the checks above let through.
  const rest = Object.fromEntries(Object.entries(bindings).filter(([k]) => !problems.has(k)));
  for (const x of validateBindings(rest)) {
    const name = x.path.replace(/^bindings\./, "").split(".")[0]!;
    const option = OPTION_OF[bindings[name]?.type ?? ""] ?? "bindings";
    d.push({ path: x.path.replace(/^bindings\./, `${option}.`), message: x.message });
  }
  return bindings;
}

/** kvNamespaces and kvPersist (Miniflare 4 shapes) become `kv` binding declarations. */
function validateKv(raw: BindingOptions, bindings: Record<string, BindingDecl>, d: Diagnostic[]): void {
  let persist: string | undefined;
  if (raw.kvPersist === true) persist = resolve(DEFAULT_KV_PERSIST);
  else if (typeof raw.kvPersist === "string" && raw.kvPersist !== "") persist = resolve(raw.kvPersist);
  else if (raw.kvPersist !== undefined && raw.kvPersist !== false) d.push({ path: "kvPersist", message: `expected a boolean or a directory path, found ${describe(raw.kvPersist)}` });
  const ns = raw.kvNamespaces;
  if (ns === undefined) return;
  let pairs: Array<[string, unknown]>;
  if (Array.isArray(ns)) pairs = ns.map((name) => [String(name), name]);
  else if (typeof ns === "object" && ns !== null) pairs = Object.entries(ns);
  else {
    d.push({ path: "kvNamespaces", message: `expected an array of binding names or { BINDING: "namespace-id" }, found ${describe(ns)}` });
    return;
  }
  for (const [name, id] of pairs) {
    if (typeof id !== "string" || id === "") {
      d.push({ path: `kvNamespaces.${name}`, message: `expected a namespace id string, found ${describe(id)}` });
      continue;
    }
    if (bindings[name] !== undefined) d.push({ path: `kvNamespaces.${name}`, message: `the binding ${name} is also declared in ${bindings[name].type === "secret" ? "secrets" : "bindings"}` });
    bindings[name] = { type: "kv", value: { id, ...(persist !== undefined ? { persist } : {}) } };
  }
}

/** serviceBindings (Miniflare 4's function form) become `service` declarations naming the binding itself. */
function validateServices(raw: BindingOptions, bindings: Record<string, BindingDecl>, services: Record<string, ServiceFunction>, d: Diagnostic[]): void {
  const sb = raw.serviceBindings;
  if (sb === undefined) return;
  if (!isRecord(sb)) {
    d.push({ path: "serviceBindings", message: `expected { BINDING: (request) => Response }, found ${describe(sb)}` });
    return;
  }
  for (const [name, fn] of Object.entries(sb)) {
    if (typeof fn !== "function") {
      const other = typeof fn === "string" || isRecord(fn) ? " (Miniflare's other forms name Workers of the same instance or the network; verge's harness runs one function, so its service bindings are functions)" : "";
      d.push({ path: `serviceBindings.${name}`, message: `expected a function (request: Request) => Response | Promise<Response>, found ${describe(fn)}${other}` });
      continue;
    }
    const existing = bindings[name];
    if (existing !== undefined) d.push({ path: `serviceBindings.${name}`, message: `the binding ${name} is also declared in ${OPTION_OF[existing.type] ?? "bindings"}` });
    bindings[name] = { type: "service", value: { service: name } };
    services[name] = fn as ServiceFunction;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
