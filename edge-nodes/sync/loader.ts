/**
 * `load(state, ref)`: the runnable FunctionSpec of a version (src/pipeline/types.ts).
 *
 * 1. Find the version, its function and the tenant's signing policy in the state.
 * 2. Bundle bytes from the `bundles` table, else from the registry by digest.
 * 3. Verify (verify.ts): digest always, signature per policy; only then store.
 * 4. Secret values from the `secrets` table when stored for the function's
 *    `updatedAt`, else from the registry (then stored); a registry that cannot
 *    be reached leaves the values last stored in use.
 * 5. Build the spec: limits from the version's config (what it was published
 *    with), env vars from the function's config plus the secrets, and a KV
 *    binding per `kvNamespaces` entry of the version's config (bindings belong
 *    to a version, as in Workers): local reads, writes through the registry (kv.ts);
 *    an R2 binding per `r2Buckets` entry, every operation at the registry (r2.ts);
 *    a D1 binding per `d1Databases` entry, whose queries run at the registry (d1.ts).
 *    the version's static assets (`config.assets`), read through assets.ts, for
 *    the pipeline to serve and as `env.<binding>`.
 *
 * Specs are cached per version and reused while the function's `updatedAt` and
 * the signing policy stay, and kept as the same object when a rebuild comes out
 * equal, so the runtime's warm pool keys stay stable. Concurrent loads of one
 * version share one build; failures are remembered briefly so a refused or
 * missing bundle is not fetched again for every request.
 */
import { parse } from "acorn";
import { VergeError } from "../../src/shared/errors.ts";
import { resolveLimits } from "../../src/shared/limits.ts";
import type { Dialect, FunctionInfo, SigningPolicy, VersionInfo } from "../../src/shared/protocol.ts";
import type { FunctionSpec } from "../../src/runtime/index.ts";
import { createKvHandler } from "../../src/runtime/bindings/kv/index.ts";
import { createR2Handler } from "../../src/runtime/bindings/r2/index.ts";
import { createD1Handler } from "../../src/runtime/bindings/d1/index.ts";
import { createEdgeD1Backend } from "./d1.ts";
import { createBindings } from "../../src/runtime/bindings/index.ts";
import { assetsHandler } from "../../src/runtime/bindings/assets/index.ts";
import { createAssetReader } from "./assets.ts";
import { createEdgeKvStorage } from "./kv.ts";
import { createEdgeR2Storage } from "./r2.ts";
import type { EdgeStore } from "../store/index.ts";
import type { AppliedState, VersionRef } from "../types.ts";
import { addRefused, readSecrets, writeSecrets } from "./persist.ts";
import { isUnavailable, type RegistryClient } from "./registry-client.ts";
import { checkDigest, checkSignature } from "./verify.ts";

export interface LoaderOptions {
  store: EdgeStore;
  client: RegistryClient;
  log: (line: Record<string, unknown>) => void;
  now: () => number;
  /** How long a refusal is remembered before the bundle is fetched again. Default 10 s. */
  refusedRetryMs?: number;
  /** How long an unreachable registry is remembered per version. Default 1 s. */
  unavailableRetryMs?: number;
}

export interface Loader {
  load(state: AppliedState, ref: VersionRef): Promise<FunctionSpec>;
  /** Drops cached specs of versions no longer in `state`. */
  prune(state: AppliedState): void;
}

interface Entry {
  stamp: string;
  spec?: FunctionSpec;
  pending?: Promise<FunctionSpec>;
  failed?: { error: unknown; until: number };
}

const REFUSALS = new Set(["ERR_DIGEST_MISMATCH", "ERR_SIGNATURE_INVALID"]);

/** "esm" for bundles with import/export syntax, else a classic script (service worker, CommonJS `exports.handler`). */
export function formatOf(code: string, dialect: Dialect): "esm" | "script" {
  if (dialect === "workers-module") return "esm";
  try {
    const program = parse(code, { ecmaVersion: "latest", sourceType: "module", allowHashBang: true });
    return program.body.some((s) => s.type.startsWith("Export") || s.type === "ImportDeclaration") ? "esm" : "script";
  } catch {
    return "esm"; // the runtime reports the syntax error with its position
  }
}

function sameSpec(a: FunctionSpec, b: FunctionSpec): boolean {
  return a.source.id === b.source.id && a.source.format === b.source.format && JSON.stringify(a.limits) === JSON.stringify(b.limits) && JSON.stringify(a.env) === JSON.stringify(b.env);
}

export function createLoader(options: LoaderOptions): Loader {
  const { store, client, log, now } = options;
  const refusedRetryMs = options.refusedRetryMs ?? 10_000;
  const unavailableRetryMs = options.unavailableRetryMs ?? 1_000;
  const entries = new Map<string, Entry>();
  const bundles = store.bytes("bundles");
  const readAsset = createAssetReader({ store, client, log });

  async function refuse(err: VergeError, version: VersionInfo): Promise<never> {
    log({ msg: "sync: bundle refused", code: err.code, tenant: version.tenant, function: version.function, digest: version.digest, reason: err.message });
    try {
      await addRefused(store, { digest: version.digest, code: err.code, message: err.message, at: new Date(now()).toISOString() });
    } catch (e) {
      log({ msg: "sync: could not record a refusal", error: (e as Error).message });
    }
    throw err;
  }

  async function bundleBytes(version: VersionInfo, signing: SigningPolicy): Promise<Uint8Array> {
    const cached = bundles.get(version.digest);
    let bytes: Uint8Array | undefined;
    if (cached !== undefined) {
      try {
        checkDigest(cached, version, "this node's store");
        bytes = cached;
      } catch (err) {
        // Damaged on disk: drop it and fetch it again.
        log({ msg: "sync: stored bundle damaged, fetching again", digest: version.digest, reason: (err as Error).message });
        await bundles.remove(version.digest);
      }
    }
    const fetched = bytes === undefined;
    if (bytes === undefined) {
      try {
        bytes = await client.bundle(version.digest, AbortSignal.timeout(30_000));
      } catch (err) {
        const why = isUnavailable(err) ? "the registry cannot be reached" : `the registry refused (${(err as VergeError).code})`;
        throw new VergeError("ERR_BUNDLE_UNAVAILABLE", `bundle ${version.digest.slice(0, 12)}… of ${version.tenant}/${version.function} is not on this node and ${why}: ${(err as Error).message}`, { cause: err });
      }
      try {
        checkDigest(bytes, version, client.url);
      } catch (err) {
        return refuse(err as VergeError, version);
      }
    }
    try {
      const warning = checkSignature(version, signing);
      if (warning !== null) log({ msg: "sync: signature not verified, running under policy warn", tenant: version.tenant, function: version.function, digest: version.digest, reason: warning });
    } catch (err) {
      return refuse(err as VergeError, version);
    }
    if (fetched) await bundles.put(version.digest, bytes);
    return bytes;
  }

  async function secretValues(fn: FunctionInfo): Promise<Record<string, string>> {
    if (fn.config.secrets.length === 0) return {};
    const stored = readSecrets(store, fn.tenant, fn.name);
    if (stored !== undefined && stored.updatedAt === fn.updatedAt) return stored.secrets;
    try {
      const values = await client.secrets(fn.tenant, fn.name, AbortSignal.timeout(10_000));
      await writeSecrets(store, fn.tenant, fn.name, { updatedAt: fn.updatedAt, secrets: values.secrets });
      return values.secrets;
    } catch (err) {
      if (stored !== undefined) {
        log({ msg: "sync: secrets not refreshed, using the values stored before", tenant: fn.tenant, function: fn.name, storedFor: stored.updatedAt, wanted: fn.updatedAt, reason: (err as Error).message });
        return stored.secrets;
      }
      throw new VergeError("ERR_SECRETS_UNAVAILABLE", `secrets [${fn.config.secrets.join(", ")}] of ${fn.tenant}/${fn.name} are not on this node and could not be fetched: ${(err as Error).message}`, { cause: err });
    }
  }

  async function build(ref: VersionRef, version: VersionInfo, fn: FunctionInfo, signing: SigningPolicy): Promise<FunctionSpec> {
    const bytes = await bundleBytes(version, signing);
    const secrets = await secretValues(fn);
    const code = new TextDecoder().decode(bytes);
    const c = version.config;
    const limits = resolveLimits({ memoryMb: c.memoryMb, cpuMs: c.cpuMs, wallMs: c.wallMs });
    // resolveLimits wants positive numbers; 0 subrequests is a valid config (no fetch at all).
    limits.subrequests = c.subrequests;
    return {
      source: { id: `${ref.tenant}/${ref.function}/${ref.digest}`, code, format: formatOf(code, version.dialect), filename: `${ref.function}.js`, identity: { function: ref.function, version: ref.digest, tenant: ref.tenant } },
      limits,
      env: { ...fn.config.env, ...secrets },
      // The tenant's isolates share the process's (the pool's maxIsolatesPerTenant).
      tenant: ref.tenant,
      bindings: {
        ...Object.fromEntries(
          Object.entries(c.kvNamespaces ?? {}).map(([binding, namespace]) => [binding, createKvHandler(createEdgeKvStorage({ store, client, tenant: ref.tenant, namespace, now }), { now })]),
        ),
        // An R2 binding calls the registry for every operation (sync/r2.ts): buckets are central, as in Workers.
        ...Object.fromEntries(Object.entries(c.r2Buckets ?? {}).map(([binding, bucket]) => [binding, createR2Handler(createEdgeR2Storage({ client, tenant: ref.tenant, bucket }))])),
        ...Object.fromEntries(Object.entries(c.d1Databases ?? {}).map(([binding, database]) => [binding, createD1Handler(createEdgeD1Backend({ client, tenant: ref.tenant, database }))])),
        // A service binding names a function of the same tenant; the pipeline runs it (src/pipeline/services.ts).
        ...createBindings(Object.fromEntries(Object.entries(c.services ?? {}).map(([binding, service]) => [binding, { type: "service", value: { service } }]))).bindings,
        ...(c.assets?.binding === undefined ? {} : { [c.assets.binding]: assetsHandler(c.assets.binding, { manifest: c.assets.manifest, config: c.assets.config, read: readAsset }) }),
      },
      ...(c.assets === undefined ? {} : { assets: { manifest: c.assets.manifest, config: c.assets.config, read: readAsset } }),
    };
  }

  return {
    load(state, ref) {
      const t = state.snapshot.tenants[ref.tenant];
      const fn = t?.functions[ref.function];
      const version = t?.versions[`${ref.function}/${ref.digest}`];
      if (t === undefined || fn === undefined || version === undefined) {
        return Promise.reject(new VergeError("ERR_FUNCTION_NOT_FOUND", `version ${ref.digest.slice(0, 12)}… of ${ref.tenant}/${ref.function} is not in the applied state at seq ${state.seq}`));
      }
      const key = `${ref.tenant}/${ref.function}/${ref.digest}`;
      const stamp = `${fn.updatedAt}|${t.signing.policy}|${t.signing.keys.map((k) => k.keyId).join(",")}`;
      let entry = entries.get(key);
      if (entry !== undefined && entry.stamp === stamp) {
        if (entry.pending !== undefined) return entry.pending;
        if (entry.failed !== undefined && now() < entry.failed.until) return Promise.reject(entry.failed.error);
        if (entry.spec !== undefined && entry.failed === undefined) return Promise.resolve(entry.spec);
      }
      const previous = entry?.spec;
      entry = { stamp, ...(previous === undefined ? {} : { spec: previous }) };
      const current = entry;
      entries.set(key, current);
      current.pending = build(ref, version, fn, t.signing).then(
        (spec) => {
          delete current.pending;
          current.spec = previous !== undefined && sameSpec(previous, spec) ? previous : spec;
          return current.spec;
        },
        (err: unknown) => {
          delete current.pending;
          const code = (err as { code?: string }).code ?? "";
          current.failed = { error: err, until: now() + (REFUSALS.has(code) ? refusedRetryMs : unavailableRetryMs) };
          throw err;
        },
      );
      return current.pending;
    },
    prune(state) {
      for (const key of entries.keys()) {
        const [tenant, fn, digest] = key.split("/") as [string, string, string];
        if (state.snapshot.tenants[tenant]?.versions[`${fn}/${digest}`] === undefined) entries.delete(key);
      }
    },
  };
}
