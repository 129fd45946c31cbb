/**
 * Warm isolates per function version. A version's idle sandbox serves the next
 * invocation without recompiling; the bundle's code cache (produced in this
 * process) makes further isolates of the same version cheaper; idle sandboxes
 * are evicted least-recently-used first when their heaps pass the memory budget.
 *
 * Caps, on isolates busy and idle: per function version (maxIsolatesPerFunction),
 * per tenant (maxIsolatesPerTenant: one tenant's functions, requests and open
 * WebSockets cannot take the whole process), per process (maxIsolates). A cold
 * start at its tenant's share disposes that tenant's least recently used idle
 * isolate; one under its share past maxIsolates disposes the least recently used
 * idle isolate of any tenant. Busy isolates are never disposed: with none idle
 * to dispose, `acquire` refuses (ERR_TENANT_THROTTLED, ERR_POOL_EXHAUSTED).
 */
import type ivm from "isolated-vm";
import { VergeError } from "../shared/errors.ts";
import type { Limits } from "../shared/limits.ts";
import type { BindingHandler, HostServices } from "./host-services.ts";
import type { Prelude } from "./prelude.ts";
import { loadPrelude } from "./prelude.ts";
import { Sandbox, type FunctionSource } from "./sandbox.ts";
import { createShell, type GuestShell } from "./shell.ts";

/** Everything that defines how one function runs. */
export interface FunctionSpec {
  source: FunctionSource;
  limits: Limits;
  env: Record<string, unknown>;
  bindings: Record<string, BindingHandler>;
  /**
   * Whose function this is (an edge node's tenant): its isolates count toward that tenant's
   * share of the process (`maxIsolatesPerTenant`). Without one (the harness, `verge dev`) only
   * the function and process caps apply.
   */
  tenant?: string;
}

export interface IsolatePoolOptions {
  services: HostServices;
  /** Heap bytes that idle isolates may hold before the least recently used are disposed. */
  idleMemoryBytes?: number;
  /** Most isolates (busy + idle) per function; beyond it `acquire` throws ERR_POOL_EXHAUSTED. */
  maxIsolatesPerFunction?: number;
  /**
   * Most isolates (busy + idle) of every function together (default 512): a new one first
   * disposes the least recently used idle isolate, and when every one is busy (requests, open
   * WebSockets) `acquire` throws ERR_POOL_EXHAUSTED, so one tenant's many functions cannot take
   * the process's memory.
   */
  maxIsolates?: number;
  /**
   * Most isolates (busy + idle) of one tenant's functions together (default half of
   * maxIsolates, rounded up), so a busy or hostile tenant leaves room for the others: at its
   * share a new isolate first disposes the tenant's own least recently used idle one, and when
   * all of its isolates are busy `acquire` throws ERR_TENANT_THROTTLED. Specs without a
   * `tenant` are not counted. A value ≥ maxIsolates turns the share off.
   */
  maxIsolatesPerTenant?: number;
  prelude?: Prelude;
  /**
   * Isolates kept ready with the prelude run, so a cold start only loads the
   * bundle (default 1; 0 turns it off). Made after the pool is created and
   * after each one is taken, outside the request that took it.
   */
  spares?: number;
  /** Heap cap of spare isolates; a function with another memory limit gets a new isolate (default 128). */
  spareMemoryMb?: number;
}

export interface PoolStats {
  functions: number;
  isolates: number;
  idle: number;
  idleHeapBytes: number;
  created: number;
  evicted: number;
  /** Ready isolates not bound to any function yet. */
  spares: number;
  /** Cold starts that took a spare isolate. */
  sparesUsed: number;
  /** The cap on one tenant's isolates (maxIsolatesPerTenant). */
  tenantShare: number;
  /** Per tenant seen: its isolates now (busy + idle), and the acquires refused because it was at its share. */
  tenants: Record<string, { isolates: number; refused: number }>;
}

/** The isolates of one pool key (function version and settings), and whose they are. */
interface KeyCount {
  n: number;
  tenant: string | undefined;
}

const keys = new WeakMap<FunctionSpec, string>();

/** A key that changes when anything but the code's identity changes the sandbox (memoized per spec object). */
function specKey(spec: FunctionSpec): string {
  let key = keys.get(spec);
  if (key === undefined) keys.set(spec, (key = computeKey(spec)));
  return key;
}

function computeKey(spec: FunctionSpec): string {
  return `${spec.source.id}\u0000${JSON.stringify(spec.limits)}\u0000${JSON.stringify(spec.env)}\u0000${Object.keys(spec.bindings).sort().join(",")}\u0000${spec.tenant ?? ""}`;
}

export class IsolatePool {
  #services: HostServices;
  #idleBudget: number;
  #maxPerFunction: number;
  #maxTotal: number;
  #maxPerTenant: number;
  #prelude: Prelude;
  #idle = new Map<string, Sandbox[]>();
  /**
   * Every idle sandbox with its key, its tenant and the heap bytes it had when it went idle, in
   * the order they went idle (a Map keeps insertion order: the first entry is the least recently
   * used), and the sum of those bytes.
   */
  #idleHeap = new Map<Sandbox, { key: string; tenant: string | undefined; bytes: number }>();
  #idleHeapTotal = 0;
  #counts = new Map<string, KeyCount>();
  /** Isolates of every key together (the sum of `#counts`). */
  #total = 0;
  /** Per tenant: its isolates, and the acquires refused at its share. */
  #tenants = new Map<string, { isolates: number; refused: number }>();
  #codeCache = new Map<string, ivm.ExternalCopy<ArrayBuffer>>();
  #created = 0;
  #evicted = 0;
  #spares: GuestShell[] = [];
  #spareTarget: number;
  #spareMemoryMb: number;
  #sparesUsed = 0;
  #refill: NodeJS.Immediate | undefined;
  #disposed = false;

  constructor(options: IsolatePoolOptions) {
    this.#services = options.services;
    this.#idleBudget = options.idleMemoryBytes ?? 512 * 1024 * 1024;
    this.#maxPerFunction = options.maxIsolatesPerFunction ?? 64;
    this.#maxTotal = options.maxIsolates ?? 512;
    this.#maxPerTenant = options.maxIsolatesPerTenant ?? Math.ceil(this.#maxTotal / 2);
    this.#prelude = options.prelude ?? loadPrelude();
    this.#spareTarget = options.spares ?? 1;
    this.#spareMemoryMb = options.spareMemoryMb ?? 128;
    this.#scheduleRefill();
  }

  /** An idle warm sandbox of `spec`, or a new one (cold start). Throws the sandbox's load error. */
  acquire(spec: FunctionSpec): { sandbox: Sandbox; cold: boolean } {
    const key = specKey(spec);
    const list = this.#idle.get(key);
    while (list !== undefined && list.length > 0) {
      const s = list.pop()!;
      this.#unidle(s);
      if (!s.disposed) return { sandbox: s, cold: false };
      this.#forget(key);
    }
    const count = this.#counts.get(key)?.n ?? 0;
    if (count >= this.#maxPerFunction) {
      throw Object.assign(new Error(`function ${spec.source.id}: all ${count} isolates are busy`), { code: "ERR_POOL_EXHAUSTED" });
    }
    const tenant = spec.tenant;
    if (tenant !== undefined && this.#tenantIsolates(tenant) >= this.#maxPerTenant && !this.#evictIdleOf(tenant)) {
      const t = this.#tenants.get(tenant)!;
      t.refused++;
      throw new VergeError(
        "ERR_TENANT_THROTTLED",
        `function ${spec.source.id}: tenant ${tenant} is at its share of this process's isolates (${t.isolates} of ${this.#maxTotal}, max ${this.#maxPerTenant} per tenant) and all of them are busy`,
        { details: { tenant, share: this.#maxPerTenant } },
      );
    }
    if (!this.#makeRoom()) {
      throw Object.assign(new Error(`function ${spec.source.id}: all ${this.#maxTotal} isolates of this process are busy`), { code: "ERR_POOL_EXHAUSTED" });
    }
    const sandbox = this.#create(spec);
    this.#count(key, tenant);
    return { sandbox, cold: true };
  }

  /** Returns a sandbox after its invocation finished; a killed one is dropped. */
  release(spec: FunctionSpec, sandbox: Sandbox): void {
    const key = specKey(spec);
    if (sandbox.disposed || sandbox.busy) {
      if (sandbox.disposed) this.#forget(key);
      return;
    }
    let list = this.#idle.get(key);
    if (list === undefined) this.#idle.set(key, (list = []));
    list.push(sandbox);
    this.#idleHeap.set(sandbox, { key, tenant: spec.tenant, bytes: sandbox.heapBytes });
    this.#idleHeapTotal += sandbox.heapBytes;
    if (this.#idleHeapTotal > this.#idleBudget) this.#evict();
  }

  /** Creates idle sandboxes until `count` are idle (provisioned concurrency). */
  warm(spec: FunctionSpec, count: number): void {
    const key = specKey(spec);
    const have = this.#idle.get(key)?.length ?? 0;
    for (let i = have; i < count; i++) {
      // Provisioned isolates fill free room only, within the tenant's share: they never push out another function's.
      if (spec.tenant !== undefined && this.#tenantIsolates(spec.tenant) >= this.#maxPerTenant) break;
      if (!this.#makeRoom(false)) break;
      const s = this.#create(spec);
      this.#count(key, spec.tenant);
      this.release(spec, s);
    }
  }

  stats(): PoolStats {
    const tenants: PoolStats["tenants"] = {};
    for (const [name, t] of this.#tenants) tenants[name] = { isolates: t.isolates, refused: t.refused };
    return {
      functions: this.#counts.size,
      isolates: this.#total,
      idle: this.#idleHeap.size,
      idleHeapBytes: this.#idleHeapTotal,
      created: this.#created,
      evicted: this.#evicted,
      spares: this.#spares.length,
      sparesUsed: this.#sparesUsed,
      tenantShare: this.#maxPerTenant,
      tenants,
    };
  }

  /** Disposes every idle sandbox of one function version (e.g. it was replaced); busy ones stay counted until released. */
  drop(sourceId: string): void {
    for (const [key, list] of this.#idle) {
      if (!key.startsWith(`${sourceId}\u0000`)) continue;
      for (const s of list) {
        this.#unidle(s);
        s.dispose();
        this.#forget(key);
      }
      this.#idle.delete(key);
    }
    this.#codeCache.delete(sourceId);
  }

  dispose(): void {
    this.#disposed = true;
    if (this.#refill !== undefined) clearImmediate(this.#refill);
    for (const shell of this.#spares.splice(0)) shell.isolate.dispose();
    for (const list of this.#idle.values()) for (const s of list) s.dispose();
    this.#idle.clear();
    this.#idleHeap.clear();
    this.#idleHeapTotal = 0;
    this.#counts.clear();
    this.#total = 0;
    this.#tenants.clear();
  }

  #create(spec: FunctionSpec): Sandbox {
    const cache = this.#codeCache.get(spec.source.id);
    const shell = spec.limits.memoryMb === this.#spareMemoryMb ? this.#spares.pop() : undefined;
    if (shell !== undefined) {
      this.#sparesUsed++;
      this.#scheduleRefill();
    }
    const sandbox = new Sandbox({
      ...(shell ? { shell } : {}),
      source: spec.source,
      limits: spec.limits,
      env: spec.env,
      bindings: spec.bindings,
      services: this.#services,
      prelude: this.#prelude,
      ...(cache ? { codeCache: cache } : { onCodeCache: (c: ivm.ExternalCopy<ArrayBuffer>) => this.#keepCodeCache(spec, c) }),
    });
    this.#created++;
    return sandbox;
  }

  /** A sandbox produced its bundle's code cache: keep it for the version's next isolates (unless it was dropped). */
  #keepCodeCache(spec: FunctionSpec, cache: ivm.ExternalCopy<ArrayBuffer>): void {
    if (this.#disposed || this.#codeCache.has(spec.source.id) || !this.#counts.has(specKey(spec))) return;
    this.#codeCache.set(spec.source.id, cache);
  }

  /** Tops the spares up on a later turn of the event loop, not inside the request that used one. */
  #scheduleRefill(): void {
    if (this.#refill !== undefined || this.#disposed || this.#spares.length >= this.#spareTarget) return;
    this.#refill = setImmediate(() => {
      this.#refill = undefined;
      if (this.#disposed || this.#spares.length >= this.#spareTarget) return;
      try {
        this.#spares.push(createShell(this.#prelude, this.#spareMemoryMb, { warm: true }));
      } catch {
        return; // out of memory or similar: cold starts make their own isolates
      }
      this.#scheduleRefill();
    });
    this.#refill.unref();
  }

  /** One more isolate of `key` (and of its tenant). */
  #count(key: string, tenant: string | undefined): void {
    const c = this.#counts.get(key);
    if (c === undefined) this.#counts.set(key, { n: 1, tenant });
    else c.n++;
    this.#total++;
    if (tenant === undefined) return;
    const t = this.#tenants.get(tenant);
    if (t === undefined) this.#tenants.set(tenant, { isolates: 1, refused: 0 });
    else t.isolates++;
  }

  /** One isolate of `key` fewer (it was disposed); a key no longer counted (the pool was disposed) is left alone. */
  #forget(key: string): void {
    const c = this.#counts.get(key);
    if (c === undefined) return;
    if (--c.n <= 0) this.#counts.delete(key);
    this.#total--;
    if (c.tenant === undefined) return;
    const t = this.#tenants.get(c.tenant);
    if (t !== undefined) t.isolates--;
  }

  #tenantIsolates(tenant: string): number {
    let t = this.#tenants.get(tenant);
    if (t === undefined) this.#tenants.set(tenant, (t = { isolates: 0, refused: 0 }));
    return t.isolates;
  }

  /** Disposes the tenant's least recently used idle isolate: false when all of its isolates are busy. */
  #evictIdleOf(tenant: string): boolean {
    for (const [s, entry] of this.#idleHeap) {
      if (entry.tenant !== tenant) continue;
      this.#evictOne(s, entry.key);
      return true;
    }
    return false;
  }

  #unidle(s: Sandbox): void {
    const entry = this.#idleHeap.get(s);
    if (entry === undefined) return;
    this.#idleHeap.delete(s);
    this.#idleHeapTotal -= entry.bytes;
  }

  /** Disposes idle sandboxes, least recently used first, until their heaps fit the budget. */
  #evict(): void {
    for (const [s, { key }] of this.#idleHeap) {
      if (this.#idleHeapTotal <= this.#idleBudget) break;
      this.#evictOne(s, key);
    }
  }

  #evictOne(s: Sandbox, key: string): void {
    this.#unidle(s);
    const list = this.#idle.get(key)!;
    list.splice(list.indexOf(s), 1);
    if (list.length === 0) this.#idle.delete(key);
    s.dispose();
    this.#forget(key);
    this.#evicted++;
  }

  /** Room for one more isolate under maxIsolates: true when there is (with `evict`, after disposing the least recently used idle one if need be). */
  #makeRoom(evict = true): boolean {
    if (this.#total < this.#maxTotal) return true;
    const lru = this.#idleHeap.entries().next();
    if (!evict || lru.done === true) return false;
    this.#evictOne(lru.value[0], lru.value[1].key);
    return true;
  }
}
