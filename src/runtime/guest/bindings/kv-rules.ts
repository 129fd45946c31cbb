/**
 * The Workers KV rules live in src/shared/kv-rules.ts, so the registry (which
 * imports src/shared only) checks writes against the same limits as the
 * runtime. Re-exported here for the guest and the host handler; the module is
 * pure (no globals beyond the language), so the prelude may bundle it.
 */
export * from "../../../shared/kv-rules.ts";
