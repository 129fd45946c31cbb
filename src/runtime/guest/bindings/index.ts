/**
 * Guest halves of binding kinds: the object `env.NAME` is, built from the
 * host's `BindingSpec`. A kind without an entry gets one async function per
 * method (each a "binding" op); KV gets the Workers KV namespace API (the
 * "kv" lazy part, bindings/kv-binding.ts); a service binding gets a Fetcher
 * (bindings/fetcher.ts), and so do a Worker's static assets.
 */
import type { BindingSpec } from "../../bridge/protocol.ts";
import { callOp } from "../core/host.ts";
import { chunk } from "../core/lazy.ts";
import { serviceBinding } from "./fetcher.ts";

function opsObject(spec: BindingSpec): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const method of spec.methods) {
    obj[method] = (...args: unknown[]) => callOp("binding", { binding: spec.name, method, args });
  }
  return obj;
}

export function bindingObject(spec: BindingSpec): unknown {
  if (spec.kind === "kv") return chunk("kv").kvBinding(spec.name);
  if (spec.kind === "r2") return chunk("r2").r2Binding(spec.name);
  if (spec.kind === "d1") return chunk("d1").d1Binding(spec.name);
  // Static assets are a Fetcher too: their fetch() is answered by the host (bindings/assets).
  if (spec.kind === "service" || spec.kind === "assets") return serviceBinding(spec.name);
  return opsObject(spec);
}
