/** Function config and secret validation (issue 3: memory MB, CPU ms, wall ms, subrequests, env vars, secrets). */
import type { FunctionConfig, FunctionConfigInput } from "../../src/shared/protocol.ts";
import { Diagnostics } from "./fields.ts";

/** The Workers profile of DESIGN.md §3. */
export const DEFAULT_CONFIG: Omit<FunctionConfig, "secrets"> = { memoryMb: 128, cpuMs: 50, wallMs: 30_000, subrequests: 50, env: {} };

/** Env var and secret names: what a binding name may be. */
export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const VAR_EXPECTED = "a letter or _ then letters, digits or _ (at most 128)";
export const MAX_VALUE_BYTES = 5 * 1024;

export function validateConfig(raw: unknown): { config: Omit<FunctionConfig, "secrets">; diagnostics: Diagnostics } {
  const d = new Diagnostics();
  const obj = d.object("config", raw, true) as FunctionConfigInput | undefined;
  if (obj === undefined) return { config: { ...DEFAULT_CONFIG, env: {} }, diagnostics: d };
  d.known("config", obj as Record<string, unknown>, ["memoryMb", "cpuMs", "wallMs", "subrequests", "env"]);
  const config = {
    memoryMb: d.integer("config.memoryMb", obj.memoryMb, 8, 4096, DEFAULT_CONFIG.memoryMb),
    cpuMs: d.integer("config.cpuMs", obj.cpuMs, 1, 900_000, DEFAULT_CONFIG.cpuMs),
    wallMs: d.integer("config.wallMs", obj.wallMs, 1, 900_000, DEFAULT_CONFIG.wallMs),
    subrequests: d.integer("config.subrequests", obj.subrequests, 0, 1000, DEFAULT_CONFIG.subrequests),
    env: d.stringMap("config.env", obj.env, VAR_NAME, VAR_EXPECTED, 128, MAX_VALUE_BYTES),
  };
  return { config, diagnostics: d };
}

/** A secret's name and body `{ value }`; never puts the value in a message. */
export function validateSecret(name: string, raw: unknown, env: Record<string, string>): { value: string; diagnostics: Diagnostics } {
  const d = new Diagnostics();
  if (!VAR_NAME.test(name)) d.add("name", `invalid secret name: expected ${VAR_EXPECTED}`);
  else if (name in env) d.add("name", `"${name}" is already a plain env var of this function; remove it from config.env first`);
  const obj = d.object("body", raw);
  let value = "";
  if (obj !== undefined) {
    d.known("", obj, ["value"]);
    if (typeof obj.value !== "string") d.add("value", "expected a string");
    else if (Buffer.byteLength(obj.value) > MAX_VALUE_BYTES) d.add("value", `expected at most ${MAX_VALUE_BYTES} bytes, found ${Buffer.byteLength(obj.value)}`);
    else value = obj.value;
  }
  return { value, diagnostics: d };
}
