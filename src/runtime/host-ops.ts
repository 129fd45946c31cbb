/**
 * The host half of async guest work: ops (fetch, body reads, crypto.subtle,
 * bindings), timers and host streams. Results re-enter the guest through
 * `sandbox.enter("settle" | "fireTimer")`, so they are budgeted like any entry.
 */
import type { CacheOpMatch, CacheOpPayload, FetchOpPayload } from "./bridge/protocol.ts";
import type { BindingHandler, CacheApiHost, FetchOptions, HostServices } from "./host-services.ts";
import type { RequestData } from "../shared/http.ts";
import { fetchService } from "./bindings/service/fetch.ts";
import type { ActiveInvocation } from "./invocation.ts";
import type { Sandbox } from "./sandbox.ts";

const MAX_TIMERS = 10_000;
/** Binding calls (KV, R2 operations) per invocation: Workers KV allows 1,000 operations per invocation, and verge applies the same cap to R2. */
export const MAX_BINDING_OPS = 1_000;

export class HostOps {
  #sandbox: Sandbox;
  #services: HostServices;
  #bindings: Record<string, BindingHandler>;
  #timers = new Map<number, NodeJS.Timeout>();
  /** Host streams the guest reads; `op`: the fetch op whose response body it is. */
  #streams = new Map<number, { it: AsyncIterator<Uint8Array>; op?: number }>();
  #nextStream = 1;
  /**
   * Fetch ops the guest may still cancel (op "cancel", an aborted fetch): the controller that
   * aborts the subrequest, and its response body's stream once there is one. An entry goes when
   * the fetch fails, its body ends or is cancelled, or the invocation ends.
   */
  #fetches = new Map<number, { abort: AbortController; stream?: number }>();

  constructor(sandbox: Sandbox, services: HostServices, bindings: Record<string, BindingHandler>) {
    this.#sandbox = sandbox;
    this.#services = services;
    this.#bindings = bindings;
  }

  registerStream(body: AsyncIterable<Uint8Array>, op?: number): number {
    const id = this.#nextStream++;
    this.#streams.set(id, op === undefined ? { it: body[Symbol.asyncIterator]() } : { it: body[Symbol.asyncIterator](), op });
    return id;
  }

  /** Forgets host stream `id` (ended or cancelled), and the fetch op it belonged to. */
  #dropStream(id: number): AsyncIterator<Uint8Array> | undefined {
    const s = this.#streams.get(id);
    if (s === undefined) return undefined;
    this.#streams.delete(id);
    if (s.op !== undefined) this.#fetches.delete(s.op);
    return s.it;
  }

  start(a: ActiveInvocation, opId: number, kind: string, payload: unknown): void {
    let work: Promise<unknown>;
    try {
      work = this.#run(a, opId, kind, payload);
    } catch (e) {
      work = Promise.reject(e);
    }
    work.then(
      (value) => this.#settle(a, opId, true, value),
      (err) => this.#settle(a, opId, false, plainError(err)),
    );
  }

  async #run(a: ActiveInvocation, opId: number, kind: string, payload: unknown): Promise<unknown> {
    const p = (payload ?? {}) as Record<string, unknown>;
    switch (kind) {
      case "fetch":
        return this.#fetch(a, opId, p as unknown as FetchOpPayload);
      case "stream.read": {
        const it = this.#streams.get(Number(p.stream))?.it;
        if (it === undefined) return null;
        let r: IteratorResult<Uint8Array>;
        try {
          r = await it.next();
        } catch (err) {
          this.#dropStream(Number(p.stream));
          throw err;
        }
        if (r.done) {
          this.#dropStream(Number(p.stream));
          return null;
        }
        const v = r.value;
        return v instanceof Uint8Array ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(0);
      }
      case "stream.cancel": {
        await this.#dropStream(Number(p.stream))?.return?.();
        return null;
      }
      case "cancel":
        this.#cancelFetch(Number(p.op));
        return null;
      case "cache":
        return this.#cache(a, p as unknown as CacheOpPayload);
      case "subtle": {
        if (typeof p.method !== "string" || !Array.isArray(p.args)) throw new TypeError("crypto.subtle: malformed call");
        return this.#sandbox.subtle.call(p.method, p.args);
      }
      case "binding": {
        const b = typeof p.binding === "string" ? this.#bindings[p.binding] : undefined;
        if (b === undefined || typeof p.method !== "string" || !b.methods.includes(p.method)) {
          throw new TypeError(`binding ${String(p.binding)}: no method ${String(p.method)}`);
        }
        if ((a.bindingOps += b.cost?.(p.method, Array.isArray(p.args) ? p.args : []) ?? 1) > MAX_BINDING_OPS) {
          throw Object.assign(new Error(`${p.binding}.${p.method}(): too many binding operations in one invocation; the limit is ${MAX_BINDING_OPS}, as for Workers KV and D1 (a D1 batch counts each statement)`), { name: "Error" });
        }
        return b.call(p.method, Array.isArray(p.args) ? p.args : [], { guestStream: (id) => a.guestStream(id), hostStream: (body) => this.registerStream(body) });
      }
      default:
        throw new TypeError(`unknown host operation ${kind}`);
    }
  }

  async #fetch(a: ActiveInvocation, opId: number, req: FetchOpPayload): Promise<unknown> {
    a.subrequests++;
    const limit = this.#sandbox.limits.subrequests;
    if (a.subrequests > limit) {
      throw Object.assign(new Error(`Too many subrequests: the limit is ${limit} per invocation`), { name: "Error" });
    }
    const body = req.body instanceof Uint8Array ? req.body : null;
    const request = { method: req.method, url: req.url, headers: req.headers, body };
    // Aborted when the invocation ends, or when the guest aborts this fetch (op "cancel").
    const abort = new AbortController();
    const entry: { abort: AbortController; stream?: number } = { abort };
    this.#fetches.set(opId, entry);
    const options = { signal: AbortSignal.any([a.signal, abort.signal]), redirect: req.redirect };
    let res: Awaited<ReturnType<HostServices["fetch"]>>;
    try {
      if (req.service !== undefined) res = await this.#serviceFetch(a, String(req.service), request, options);
      else res = await (a.subrequest !== undefined ? a.subrequest(request, options) : this.#services.fetch(request, options));
    } catch (err) {
      this.#fetches.delete(opId);
      throw err;
    }
    if (res.webSocket !== undefined) {
      this.#fetches.delete(opId);
      // Joined to the guest's socket for it; nobody asked for one (a service binding's call), or the fetch was aborted: dropped.
      if (typeof req.webSocket !== "number" || abort.signal.aborted || this.#sandbox.active !== a) res.webSocket.drop();
      else a.openOutbound(req.webSocket, res.webSocket);
      return { status: res.status, statusText: res.statusText, headers: res.headers, body: null, url: res.url ?? req.url, redirected: false, webSocket: true };
    }
    let out: unknown = null;
    if (res.body instanceof Uint8Array) out = res.body;
    else if (res.body !== null) {
      if (abort.signal.aborted) {
        // Cancelled while the response head was on its way: nobody will read this body.
        void (res.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]().return?.()?.catch(() => {});
      } else {
        entry.stream = this.registerStream(res.body, opId);
        out = { stream: entry.stream };
      }
    }
    if (entry.stream === undefined) this.#fetches.delete(opId);
    const tunnel = typeof res.tunnel === "number" ? { tunnel: res.tunnel } : {};
    return { status: res.status, statusText: res.statusText, headers: res.headers, body: out, url: res.url ?? req.url, redirected: res.redirected ?? false, ...tunnel };
  }

  /**
   * `env.NAME.fetch()` of a service binding: counted as a subrequest (above) as Workers counts
   * it, run by the invocation's service host (an edge node's, bound to the request's versions),
   * else the host's default (the harness's).
   */
  #serviceFetch(a: ActiveInvocation, binding: string, request: RequestData, options: FetchOptions): ReturnType<typeof fetchService> {
    const b = this.#bindings[binding];
    const call = { binding, service: b?.service ?? binding, functionId: this.#sandbox.source.id };
    // Static assets answer in this process; their redirects are followed through them as a service's are.
    if (b?.serve !== undefined) return fetchService((_c, req, o) => b.serve!(req, this.#services, o.signal), call, request, options);
    if (b === undefined || b.kind !== "service" || b.service === undefined) throw new TypeError(`env.${binding} is not a service binding`);
    const host = a.service ?? this.#services.service;
    if (host === undefined) throw new Error(`env.${binding}.fetch(): this host runs no service bindings, so service ${JSON.stringify(b.service)} cannot be reached`);
    return fetchService(host, call, request, options);
  }

  /**
   * A Workers Cache API call (guest/fetch/cache.ts): on the invocation's cache (an edge
   * pipeline's, keyed by its distribution), else the host's default for this function.
   */
  async #cache(a: ActiveInvocation, p: CacheOpPayload): Promise<unknown> {
    const stream = p.response?.body !== null && p.response?.body !== undefined && !(p.response.body instanceof Uint8Array) ? Number(p.response.body.stream) : undefined;
    try {
      const host: CacheApiHost | undefined = a.caches ?? this.#services.caches?.(this.#sandbox.source.id);
      if (host === undefined) throw new Error("caches: this host keeps no cache for functions, so the Cache API cannot store or find anything here");
      const cache = p.cache === null ? null : String(p.cache);
      if (typeof p.url !== "string" || !Array.isArray(p.headers)) throw new TypeError("caches: malformed call");
      const request = { url: p.url, headers: p.headers };
      switch (p.method) {
        case "match": {
          const r = await host.match(cache, request);
          if (r === undefined) return null;
          const out: CacheOpMatch = { status: r.status, statusText: r.statusText, headers: r.headers, body: r.body };
          return out;
        }
        case "put": {
          const res = p.response;
          if (res === undefined || typeof res.status !== "number" || !Array.isArray(res.headers)) throw new TypeError("caches: malformed put");
          const body = stream !== undefined ? a.guestStream(stream) : res.body instanceof Uint8Array ? res.body : null;
          await host.put(cache, request, { status: res.status, statusText: String(res.statusText), headers: res.headers, body });
          return null;
        }
        case "delete":
          return await host.delete(cache, request);
        default:
          throw new TypeError(`caches: no method ${String(p.method)}`);
      }
    } finally {
      // A put body the cache did not read to its end (not stored, over the limit, refused):
      // the guest stops producing it now rather than at the end of the invocation.
      if (stream !== undefined && this.#sandbox.active === a && !this.#sandbox.disposed) {
        try {
          this.#sandbox.enter("cancelStream", [stream, "the cache did not read the body"], false);
        } catch {
          // enter() has killed the sandbox and failed the invocation already.
        }
      }
    }
  }

  /**
   * The guest aborted fetch op `opId` (Fetch "abort fetch"): abort the subrequest (undici
   * drops the request, or the connection its body is still arriving on) and close the
   * response body the guest did not read to its end.
   */
  #cancelFetch(opId: number): void {
    const f = this.#fetches.get(opId);
    if (f === undefined) return;
    this.#fetches.delete(opId);
    f.abort.abort(new DOMException("The operation was aborted.", "AbortError"));
    if (f.stream !== undefined) void this.#dropStream(f.stream)?.return?.()?.catch(() => {});
  }

  #settle(a: ActiveInvocation, opId: number, ok: boolean, value: unknown): void {
    if (this.#sandbox.active !== a || this.#sandbox.disposed) return;
    try {
      this.#sandbox.enter("settle", [opId, ok, value]);
    } catch {
      // enter() has killed the sandbox and failed the invocation already.
    }
  }

  setTimer(a: ActiveInvocation, id: number, delay: number): void {
    if (this.#timers.size >= MAX_TIMERS) throw new RangeError(`too many timers (limit ${MAX_TIMERS})`);
    a.leftGuestState = true;
    const old = this.#timers.get(id);
    if (old !== undefined) clearTimeout(old);
    // Node starts a timer at the event loop's cached time, which is stale by however long the
    // current turn has run (a guest entry that loaded a prelude part, say): it can fire that much
    // early. The guest's clock must see at least `delay` pass, so an early wake-up waits the rest.
    const due = performance.now() + delay;
    const arm = (ms: number): NodeJS.Timeout =>
      setTimeout(() => {
        const left = due - performance.now();
        if (left > 0) {
          this.#timers.set(id, arm(Math.ceil(left)));
          return;
        }
        this.#timers.delete(id);
        if (this.#sandbox.active !== a || this.#sandbox.disposed) return;
        try {
          this.#sandbox.enter("fireTimer", [id], false);
        } catch {
          // killed: the invocation already failed
        }
      }, ms);
    this.#timers.set(id, arm(delay));
  }

  clearTimer(id: number): void {
    const t = this.#timers.get(id);
    if (t !== undefined) clearTimeout(t);
    this.#timers.delete(id);
  }

  /** Ends everything an invocation left behind. */
  closeAll(): void {
    // Most invocations leave nothing: an empty Map's clear() still allocates a new table.
    if (this.#timers.size > 0) {
      for (const t of this.#timers.values()) clearTimeout(t);
      this.#timers.clear();
    }
    if (this.#streams.size > 0) {
      for (const s of this.#streams.values()) s.it.return?.()?.catch(() => {});
      this.#streams.clear();
    }
    if (this.#fetches.size > 0) this.#fetches.clear();
  }
}

/**
 * Host errors cross into the guest as `{ name, message }` only, and `remote` when the error is
 * another Worker's exception passed through a service binding (the guest rebuilds it as workerd
 * does: its built-in class, `remote: true`).
 */
function plainError(err: unknown): { name: string; message: string; remote?: true } {
  if (err instanceof Error) {
    const name = typeof (err as { name?: unknown }).name === "string" ? err.name : "Error";
    if ((err as { remote?: unknown }).remote === true) return { name, message: err.message, remote: true };
    return { name: name === "AbortError" ? "AbortError" : name, message: err.message };
  }
  if (typeof err === "object" && err !== null && typeof (err as { message?: unknown }).message === "string") {
    const e = err as { name?: unknown; message: string };
    return { name: typeof e.name === "string" ? e.name : "Error", message: e.message };
  }
  return { name: "Error", message: String(err) };
}
