/**
 * The `service` binding kind: a Workers service binding (`env.NAME.fetch()`).
 * Declared as `{ type: "service", value: { service } }`: `service` names the
 * target (an edge node: a function of the same tenant; the harness: the
 * binding's function in the test process). The binding itself holds nothing:
 * the guest's Fetcher sends "fetch" ops naming it, and whoever runs the
 * invocation gives the {@link ServiceHost} that reaches the target
 * (`FetchInvokeOptions.service`, else `HostServices.service`).
 */
import type { BindingKind } from "../index.ts";
import { describe } from "../../../shared/limits.ts";

export interface ServiceBindingValue {
  /** The target service's name. */
  service: string;
}

/** Workers' cap on nested service binding calls in one request chain (each call counts). */
export const MAX_SERVICE_DEPTH = 32;

export const serviceKind: BindingKind = {
  validate(name, value) {
    const v = value as Partial<ServiceBindingValue> | null;
    if (v === null || typeof v !== "object" || Array.isArray(v)) return [{ path: `bindings.${name}`, message: `a service binding needs { service }, found ${describe(value)}` }];
    if (typeof v.service !== "string" || v.service === "" || v.service.length > 256) return [{ path: `bindings.${name}.service`, message: `expected the name of the service (1 to 256 characters), found ${describe(v.service)}` }];
    return [];
  },
  create: (name, value) => ({
    handler: {
      kind: "service",
      methods: [],
      service: (value as ServiceBindingValue).service,
      call: () => Promise.reject(new TypeError(`env.${name} is a service binding: call env.${name}.fetch()`)),
    },
  }),
};

export { fetchService } from "./fetch.ts";
