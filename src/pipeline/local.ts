/**
 * The pipeline's state on one machine, without a registry: what the harness
 * (`new Verge({ upstream })`) and `verge dev --upstream` run the pipeline with.
 *
 * `createLocalState` is a {@link StateSource} over one distribution and the
 * function versions it names, fixed for its life (a new distribution or a new
 * build makes a new source, and a new pipeline). It honours the contract as an
 * edge node's sync does: one deep-frozen applied state, `resolve` reads only
 * the state it is given, `load` returns the same spec object for a version, so
 * the runtime's warm isolates stay keyed alike. Associations must pin a
 * `version` (there are no aliases locally). Nothing is quarantined locally
 * ({@link NO_QUARANTINE}): a function that crashes its process takes down only
 * the child process the harness runs it in, and the next request starts anew.
 *
 * @example
 * const state = createLocalState({ distribution, versions: [{ function: "auth", digest, spec }], anyHost: true });
 * const pipeline = createPipeline({ runtime, state, cache, quarantine: NO_QUARANTINE, nodeId: "local" });
 */
import { VergeError } from "../shared/errors.ts";
import type { Distribution, FunctionConfig, Snapshot, TenantState } from "../shared/protocol.ts";
import type { FunctionSpec } from "../runtime/index.ts";
import type { AppliedState, Quarantine, StateSource, VersionRef } from "./types.ts";

export interface LocalVersion {
  /** The function's name, as the distribution's associations name it. */
  function: string;
  /** The version's name: hex sha256 of its bundle. */
  digest: string;
  /** What the runtime runs: returned by `load` as it is. */
  spec: FunctionSpec;
}

export interface LocalStateOptions {
  /** Its `tenant` is the tenant of the state. */
  distribution: Distribution;
  versions: LocalVersion[];
  /**
   * Serve every host name with the distribution, as a local server answers
   * whatever `Host` it is sent: a request's host is added to the hostnames the
   * request sees (so a Workers handler's `fetch()` to its own host goes through
   * the cache, as on an edge node). Default false: its `hostnames` only.
   */
  anyHost?: boolean;
}

/** Nothing is quarantined locally. */
export const NO_QUARANTINE: Quarantine = Object.freeze({ has: () => false, list: () => [] });

/** Per-host copies kept for `anyHost` (beyond it, a copy is made per request). */
const MAX_HOST_COPIES = 256;

export function createLocalState(options: LocalStateOptions): StateSource {
  const { distribution, versions } = options;
  const tenant = distribution.tenant;
  const specs = new Map<string, FunctionSpec>();
  for (const v of versions) specs.set(`${v.function}/${v.digest}`, v.spec);
  const state = appliedState(snapshotOf(distribution, versions), distribution, options.anyHost === true);

  return {
    current: () => state,

    resolve(applied, tenantName, association): VersionRef {
      const t = applied.snapshot.tenants[tenantName];
      const fn = association.function;
      if (t?.functions[fn] === undefined) throw new VergeError("ERR_FUNCTION_NOT_FOUND", `function ${tenantName}/${fn} does not exist here`);
      if (association.version === undefined) {
        throw new VergeError("ERR_FUNCTION_NOT_FOUND", `the association of ${tenantName}/${fn} names alias ${JSON.stringify(association.alias)}; locally an association pins a version`);
      }
      if (t.versions[`${fn}/${association.version}`] === undefined) throw new VergeError("ERR_FUNCTION_NOT_FOUND", `version ${association.version} of ${tenantName}/${fn} does not exist here`);
      return { tenant: tenantName, function: fn, digest: association.version };
    },

    async load(_applied, ref): Promise<FunctionSpec> {
      const spec = ref.tenant === tenant ? specs.get(`${ref.function}/${ref.digest}`) : undefined;
      if (spec === undefined) throw new VergeError("ERR_BUNDLE_UNAVAILABLE", `no bundle for version ${ref.digest} of ${ref.tenant}/${ref.function}`);
      return spec;
    },

    status: () => ({ appliedSeq: state.seq, staleSeconds: 0, connected: true, refused: [] }),
    // The state never changes: there is nothing to tell.
    subscribe: () => () => {},
  };
}

function snapshotOf(distribution: Distribution, versions: LocalVersion[]): Snapshot {
  const at = new Date().toISOString();
  const t: TenantState = {
    tenant: { name: distribution.tenant, createdAt: at },
    functions: {},
    versions: {},
    aliases: {},
    distributions: { [distribution.name]: distribution },
    signing: { tenant: distribution.tenant, policy: "off", keys: [] },
  };
  for (const v of versions) {
    const l = v.spec.limits;
    const config: FunctionConfig = { memoryMb: l.memoryMb, cpuMs: l.cpuMs, wallMs: l.wallMs, subrequests: l.subrequests, env: {}, secrets: [] };
    t.functions[v.function] = { tenant: distribution.tenant, name: v.function, config, createdAt: at, updatedAt: at };
    t.versions[`${v.function}/${v.digest}`] = {
      tenant: distribution.tenant,
      function: v.function,
      digest: v.digest,
      size: v.spec.source.code.length,
      dialect: "workers-module",
      config,
      publisher: { tokenId: "local", name: "local" },
      createdAt: at,
      signature: null,
      signatureStatus: "unsigned",
      flagged: false,
    };
  }
  return { seq: 1, tenants: { [distribution.tenant]: t } };
}

function appliedState(snapshot: Snapshot, distribution: Distribution, anyHost: boolean): AppliedState {
  deepFreeze(snapshot);
  const frozen = snapshot.tenants[distribution.tenant]!.distributions[distribution.name]!;
  const hosts = new Set(frozen.hostnames.map((h) => h.toLowerCase()));
  const copies = new Map<string, Distribution>();
  const forHost = (host: string): Distribution => {
    let d = copies.get(host);
    if (d === undefined) {
      d = deepFreeze({ ...frozen, hostnames: [...frozen.hostnames, host] });
      if (copies.size < MAX_HOST_COPIES) copies.set(host, d);
    }
    return d;
  };
  return Object.freeze({
    seq: snapshot.seq,
    snapshot,
    distributionFor: (host: string) => (hosts.has(host) ? frozen : anyHost ? forHost(host) : undefined),
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
