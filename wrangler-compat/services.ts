/**
 * `[[services]]` (wrangler.toml) / `services: [...]` (wrangler.jsonc): service
 * bindings, `{ binding, service }`. verge publishes them as the function's
 * `config.services` (a function of the same tenant, named by `service`).
 * `entrypoint` (a named WorkerEntrypoint, for RPC) is refused: verge runs the
 * target's default fetch handler only, so the binding would call other code.
 * `environment` (Wrangler's legacy service environments) is warned and ignored.
 */
import { NAME_PATTERN } from "../src/shared/protocol.ts";
import { describe, isTable, join, type Diagnostics } from "./diagnostics.ts";

export interface WranglerService {
  binding: string;
  /** The target Worker's name: on verge, a function of the same tenant. */
  service: string;
}

const BINDING = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const FUNCTION_NAME = NAME_PATTERN;

/** `taken`: names already bound (vars, KV) in the same table. */
export function services(d: Diagnostics, path: string, value: unknown, taken: readonly string[]): WranglerService[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    d.error(path, `expected an array of { binding, service } tables, found ${describe(value)}`);
    return [];
  }
  const out: WranglerService[] = [];
  value.forEach((raw, i) => {
    const p = join(path, i);
    if (!isTable(raw)) return d.error(p, `expected a table { binding, service }, found ${describe(raw)}`);
    for (const key of Object.keys(raw)) {
      if (key === "entrypoint") d.error(join(p, key), "not supported by verge: a service binding runs the target's default fetch handler (no named WorkerEntrypoint, no RPC); remove entrypoint");
      else if (key === "environment") d.warn(join(p, key), "Wrangler's legacy service environments are not supported by verge; ignored (the binding runs the function named by service)");
      else if (!["binding", "service", "remote"].includes(key)) d.warn(join(p, key), "unknown service binding key; ignored (expected binding, service)");
    }
    const binding = d.string(join(p, "binding"), raw.binding, "a binding name (a JavaScript identifier)");
    const service = d.string(join(p, "service"), raw.service, "the name of the Worker to call");
    if (raw.binding === undefined) d.error(join(p, "binding"), 'missing: expected the name the Worker reads it by, such as "AUTH"');
    else if (binding !== undefined && !BINDING.test(binding)) d.error(join(p, "binding"), `expected a JavaScript identifier, found ${describe(binding)}`);
    else if (binding !== undefined && out.some((s) => s.binding === binding)) d.error(join(p, "binding"), `"${binding}" is bound twice`);
    else if (binding !== undefined && taken.includes(binding)) d.error(join(p, "binding"), `"${binding}" is also bound in vars or kv_namespaces; a name is bound once`);
    if (raw.service === undefined) d.error(join(p, "service"), 'missing: expected the name of the Worker to call, such as "auth-worker"');
    else if (service !== undefined && !FUNCTION_NAME.test(service)) d.error(join(p, "service"), `expected a Worker name verge can publish (lowercase letters, digits, - or _, 1 to 63, starting with a letter or digit), found ${describe(service)}`);
    if (binding === undefined || service === undefined || !BINDING.test(binding) || !FUNCTION_NAME.test(service)) return;
    out.push({ binding, service });
  });
  return out;
}
