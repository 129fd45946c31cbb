/**
 * `new Verge(options)`: a Miniflare-v4-shaped test and dev API over the same
 * runtime the edge nodes run, behind a child-process host so a function that
 * aborts its process never takes the caller down. With `upstream`, the same
 * child also runs the edge pipeline (pipeline-host.ts), and dispatchFetch is a
 * viewer's request through an edge node.
 *
 * @example
 * const verge = new Verge({ modules: true, script: `export default { fetch: () => new Response("hi") }` });
 * const res = await verge.dispatchFetch("http://localhost/");
 * assert.equal(await res.text(), "hi");
 * await verge.dispose();
 *
 * @example
 * // An origin-response function between the response cache and an origin.
 * const verge = new Verge({ scriptPath: "headers.js", event: "origin-response", upstream: origin.url });
 * const res = await verge.dispatchFetch("http://site.test/page");
 * res.headers.get("x-verge-cache"); // "Miss", then "Hit"
 */
import { fileURLToPath } from "node:url";
import { VergeError } from "../shared/errors.ts";
import type { CloudFrontEventType } from "../shared/limits.ts";
import type { CloudFrontEvent } from "../shared/cloudfront/index.ts";
import { createChildRuntime, type ChildRuntime } from "../runtime/child-host/client.ts";
import type { InvocationReport } from "../runtime/invocation.ts";
import type { LogEntry } from "../runtime/report.ts";
import { failureReport } from "../runtime/failure-report.ts";
import { resolveOptions, type ResolvedOptions, type VergeOptions } from "./options.ts";
import { createHostKvNamespace, type KVNamespace } from "./kv.ts";
import { createHostD1Database, type D1Database } from "./d1.ts";
import { createHostR2Bucket, type R2Bucket } from "./r2.ts";
import { ScratchKv } from "./scratch.ts";
import { dispatchThroughPipeline } from "./dispatch.ts";
import { PIPELINE_LOG, type PipelineLogEntry } from "./route.ts";
import { toResponse } from "./response.ts";
import { runServiceFunction } from "./services.ts";
import { abortable, toDispatchRequest, type DispatchInit } from "./request.ts";
import { WebSocket, WebSocketResponse } from "./websocket.ts";
import { routeAssetRequest } from "../shared/assets/index.ts";
import { fetchAsset, respondWithAsset } from "../runtime/assets/serve.ts";

/** The child program: the runtime's host, extended with the edge pipeline (child.ts). */
const PROGRAM = fileURLToPath(new URL("./child.ts", import.meta.url));

/** Where a log line comes from: the function's console, or (with `upstream`) the pipeline, as an edge node logs it. */
export type LogSource = { source: "console" } | { source: "pipeline"; requestId?: string; code?: string };

export interface DispatchInfo {
  /** The limit report and console lines of the last finished invocation. */
  report: InvocationReport;
}

export class Verge {
  #options: ResolvedOptions;
  #child: ChildRuntime;
  #fn: number;
  #ready: Promise<void>;
  #disposed = false;
  #lastReport: InvocationReport | undefined;
  #logListeners = new Set<(entry: LogEntry, from: LogSource) => void>();
  #reports = new WeakMap<Response, Promise<InvocationReport>>();
  /** Where KV namespaces that are not persisted live (scratch.ts): outside the child, which a function may crash. */
  #scratch = new ScratchKv();

  constructor(options: VergeOptions) {
    this.#options = this.#resolve(options);
    this.#child = this.#newChild();
    this.#fn = this.#child.register(this.#options.decl);
    this.#ready = this.#load();
    // Its failure reaches whoever awaits `ready` or dispatches; an instance never used must not
    // turn it into an unhandled rejection (which ends a Node process).
    this.#ready.catch(() => {});
  }

  /** Resolves when the function is loaded; rejects with its load error (ERR_BUNDLE_COMPILE, ERR_NO_HANDLER, ...). */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * Sends a request to the function the way an edge node would, and returns its real `Response`.
   * With `upstream`, the request goes through the whole pipeline (function events, response
   * cache, origin) and failures come back as the edge answers them (502/503/504 with
   * `x-verge-error`); without it, the function answers, and its failures are thrown.
   */
  async dispatchFetch(input: string | URL | Request, init?: DispatchInit): Promise<Response> {
    this.#check();
    const { request, data, cf } = toDispatchRequest(input, init, this.#options.pipeline !== undefined);
    await abortable(request.signal, () => this.#ready, () => {});
    const signal = request.signal;
    if (this.#options.pipeline !== undefined) {
      const { response, report } = await abortable(signal, () => dispatchThroughPipeline(this.#child, this.#fn, data, signal), (late) => {
        if (late.report !== undefined) void this.#track(late.report);
        void late.response.body?.cancel().catch(() => {});
      });
      if (report !== undefined) {
        void this.#track(report);
        this.#reports.set(response, report);
      }
      return response;
    }
    const assets = this.#options.assets;
    if (assets !== undefined) {
      // Cloudflare's router: a request for a file is answered here, and the Worker does not run.
      const head = { method: data.method, url: data.url, headers: data.headers };
      const route = routeAssetRequest(assets.manifest, assets.config, head);
      if (route.to === "assets") {
        const r = await respondWithAsset(assets, route.answer, head, signal);
        return toResponse(r.status, r.statusText, r.headers, r.body, undefined, signal);
      }
    }
    const event = this.#options.event;
    // A response event needs the origin's response: only the pipeline (with `upstream`) has one.
    if (event === "origin-response" || event === "viewer-response") throw noUpstream();
    const r = await this.#failed(
      abortable(signal, () => this.#child.fetch(this.#fn, data, { eventType: event, cf }), (late) => {
        void this.#track(late.finished);
        if (late.type === "response") void toResponse(late.response.status, "", [], late.response.body).body?.cancel().catch(() => {});
      }),
    );
    void this.#track(r.finished);
    if (r.type === "response" && r.response.webSocket !== undefined) {
      const response = new WebSocketResponse(r.response.statusText, r.response.headers, new WebSocket(r.response.webSocket));
      this.#reports.set(response, r.finished);
      return response;
    }
    if (r.type === "response") {
      // A response to HEAD carries no body on HTTP, whatever the function returned.
      const body = request.method === "HEAD" ? null : r.response.body;
      const response = toResponse(r.response.status, r.response.statusText, r.response.headers, body, undefined, signal);
      this.#reports.set(response, r.finished);
      return response;
    }
    // A request handler let the request through, and there is no origin to continue to.
    throw noUpstream();
  }

  /** Runs a Lambda@Edge event (the exact CloudFront shape) and returns the function's validated result. */
  async dispatchEvent(eventType: CloudFrontEventType, cloudFrontEvent: CloudFrontEvent): Promise<unknown> {
    this.#check();
    await this.#ready;
    const actual = cloudFrontEvent?.Records?.[0]?.cf?.config?.eventType;
    if (actual !== eventType) {
      throw new VergeError("ERR_INVALID_EVENT", `dispatchEvent: Records[0].cf.config.eventType is ${JSON.stringify(actual)}, expected ${JSON.stringify(eventType)}`);
    }
    const r = await this.#failed(this.#child.event(this.#fn, cloudFrontEvent));
    void this.#track(r.finished);
    return r.result;
  }

  /** Runs a cron trigger (`scheduled` handler). */
  async dispatchScheduled(cron = "* * * * *", scheduledTime = Date.now()): Promise<InvocationReport> {
    this.#check();
    await this.#ready;
    const r = await this.#failed(this.#child.scheduled(this.#fn, cron, scheduledTime));
    return this.#track(r.finished);
  }

  /** The function's `env`: plain values as copies, KV namespaces as `getKVNamespace` gives them, service bindings and static assets as `{ fetch }`. */
  async getBindings<T = Record<string, unknown>>(): Promise<T> {
    this.#check();
    const env: Record<string, unknown> = structuredClone(this.#options.env);
    for (const [name, b] of Object.entries(this.#options.decl.bindings)) {
      if (b.type === "kv") env[name] = await this.getKVNamespace(name);
      else if (b.type === "d1") env[name] = await this.getD1Database(name);
      else if (b.type === "r2") env[name] = await this.getR2Bucket(name);
      // A service binding: its fetch() calls the function here, with the Request fetch() would make.
      else if (b.type === "service") env[name] = { fetch: async (input: string | URL | Request, init?: RequestInit) => this.#options.services[name]!(new Request(input, init)) };
      // Static assets: their fetch() answers from the directory, as the Worker's env.ASSETS does.
      else if (b.type === "assets" && this.#options.assets !== undefined) {
        const assets = this.#options.assets;
        env[name] = {
          fetch: async (input: string | URL | Request, init?: RequestInit) => {
            const req = new Request(input, init);
            const r = await fetchAsset(assets, { method: req.method, url: req.url, headers: [...req.headers], body: null });
            return toResponse(r.status, r.statusText, r.headers, r.body);
          },
        };
      }
    }
    return env as T;
  }

  /**
   * The KV namespace bound as `name` (Miniflare 4's `getKVNamespace`), to seed or read what the
   * function sees. Its calls run in the runtime's process, on the same storage as the function's.
   * @example
   * const kv = await verge.getKVNamespace("CONFIG");
   * await kv.put("flag", "on");
   */
  async getKVNamespace(name: string): Promise<KVNamespace> {
    this.#check();
    const decl = this.#options.decl.bindings[name];
    if (decl === undefined || decl.type !== "kv") {
      const known = Object.entries(this.#options.decl.bindings).filter(([, b]) => b.type === "kv").map(([n]) => n);
      throw new VergeError("ERR_INVALID_OPTIONS", `getKVNamespace: no KV namespace is bound as ${JSON.stringify(name)}; kvNamespaces declares [${known.join(", ")}]`);
    }
    return createHostKvNamespace((method, args) => {
      this.#check();
      return this.#child.binding(name, decl, method, args);
    });
  }

  /**
   * The R2 bucket bound as `name` (Miniflare 4's `getR2Bucket`), to seed or read what the
   * function sees. Its calls run in the runtime's process, on the same store as the function's.
   * @example
   * const bucket = await verge.getR2Bucket("ASSETS");
   * await bucket.put("logo.svg", svg, { httpMetadata: { contentType: "image/svg+xml" } });
   */
  async getR2Bucket(name: string): Promise<R2Bucket> {
    this.#check();
    const decl = this.#options.decl.bindings[name];
    if (decl === undefined || decl.type !== "r2") {
      const known = Object.entries(this.#options.decl.bindings).filter(([, b]) => b.type === "r2").map(([n]) => n);
      throw new VergeError("ERR_INVALID_OPTIONS", `getR2Bucket: no R2 bucket is bound as ${JSON.stringify(name)}; r2Buckets declares [${known.join(", ")}]`);
    }
    const max = (decl.value as { maxObjectBytes?: number }).maxObjectBytes;
    return createHostR2Bucket((method, args) => {
      this.#check();
      return this.#child.binding(name, decl, method, args);
    }, max);
  }

  /**
   * The D1 database bound as `name` (Miniflare 4's `getD1Database`), to create tables, seed or
   * read what the function sees. Its queries run in the runtime's process, on the same database.
   * @example
   * const db = await verge.getD1Database("DB");
   * await db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
   */
  async getD1Database(name: string): Promise<D1Database> {
    this.#check();
    const decl = this.#options.decl.bindings[name];
    if (decl === undefined || decl.type !== "d1") {
      const known = Object.entries(this.#options.decl.bindings).filter(([, b]) => b.type === "d1").map(([n]) => n);
      throw new VergeError("ERR_INVALID_OPTIONS", `getD1Database: no D1 database is bound as ${JSON.stringify(name)}; d1Databases declares [${known.join(", ")}]`);
    }
    return createHostD1Database((method, args) => {
      this.#check();
      return this.#child.binding(name, decl, method, args);
    });
  }

  /**
   * Replaces the options; the next dispatch runs the new function. As in Miniflare, a new
   * function that fails to load rejects here and leaves the current one in place: dispatches
   * made meanwhile wait for the outcome, then run whichever function is in place.
   */
  async setOptions(options: VergeOptions): Promise<void> {
    this.#check();
    const next = this.#resolve(options);
    const previousReady = this.#ready;
    const swap = this.#swap(next);
    this.#ready = swap.then(() => undefined, () => previousReady);
    this.#ready.catch(() => {});
    await swap;
  }

  /** Loads `next` beside the current function, and puts it in place only once it loaded. */
  async #swap(next: ResolvedOptions): Promise<void> {
    if (JSON.stringify(next.outbound) !== JSON.stringify(this.#options.outbound)) {
      // The subrequest policy belongs to the child host: a new policy needs a new child.
      const child = this.#newChild(next.outbound);
      const fn = child.register(next.decl);
      try {
        await child.load(fn);
      } catch (err) {
        await child.dispose();
        throw err;
      }
      if (this.#disposed) return void (await child.dispose());
      const previous = this.#child;
      [this.#child, this.#fn, this.#options] = [child, fn, next];
      await previous.dispose();
      return;
    }
    const child = this.#child;
    const fn = child.register(next.decl);
    try {
      await child.load(fn);
    } catch (err) {
      child.unregister(fn);
      throw err;
    }
    const old = this.#fn;
    [this.#fn, this.#options] = [fn, next];
    child.unregister(old);
  }

  /**
   * The limit report and logs of the most recently finished invocation, failed ones included
   * (with `upstream`: of the most recent request the function ran in, see {@link reportOf}).
   */
  get lastReport(): InvocationReport | undefined {
    return this.#lastReport;
  }

  /**
   * The limit report of the invocation that answered with `response` (from dispatchFetch), settled
   * when that invocation is over (body read, waitUntil settled); undefined for a response it did not make.
   * With `upstream`: the report of the function's invocations in that request (each budget's use is
   * the highest any of its events reached; `error` is the function's failure, if any); undefined when
   * the function did not run (a cache hit with origin events, viewer-response on a 4xx).
   * For a dispatch that threw, `failureReport(error)` (package root) has the report.
   */
  reportOf(response: Response): Promise<InvocationReport> | undefined {
    return this.#reports.get(response);
  }

  /**
   * Calls `listener` with every console line of the function; with `upstream`, also with the
   * pipeline's own lines (an error response and its real message, as an edge node logs it), which
   * `from` tells apart: `{ source: "pipeline", requestId, code }`.
   */
  onLog(listener: (entry: LogEntry, from: LogSource) => void): () => void {
    this.#logListeners.add(listener);
    return () => this.#logListeners.delete(listener);
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    try {
      await this.#child.dispose();
    } finally {
      this.#scratch.remove();
    }
  }

  /** The options checked, with KV namespaces that are not persisted placed in this instance's scratch directory. */
  #resolve(options: VergeOptions): ResolvedOptions {
    const r = resolveOptions(options);
    r.decl.bindings = this.#scratch.place(r.decl.bindings);
    return r;
  }

  #newChild(outbound = this.#options.outbound): ChildRuntime {
    return createChildRuntime({
      program: PROGRAM,
      fetch: outbound,
      onLog: (entry, fn) => this.#emitLog(entry, fn),
      // Looked up per call: setOptions may have replaced the functions.
      service: (call, request, signal) => runServiceFunction(this.#options.services[call.binding], call, request, signal),
    });
  }

  async #load(): Promise<void> {
    await this.#child.load(this.#fn);
  }

  #check(): void {
    if (this.#disposed) throw new VergeError("ERR_RUNTIME_DISPOSED", "this Verge instance was disposed");
  }

  async #track(finished: Promise<InvocationReport>): Promise<InvocationReport> {
    const r = await finished;
    this.#lastReport = r;
    return r;
  }

  /** `call`, noting the report of an invocation that failed (it ran, and its use and logs count). */
  async #failed<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (err) {
      const report = failureReport(err);
      if (report !== undefined) void this.#track(report);
      throw err;
    }
  }

  #emitLog(entry: LogEntry, fn: string): void {
    let from: LogSource = { source: "console" };
    if (fn === PIPELINE_LOG) {
      const { requestId, code, ...line } = entry as PipelineLogEntry;
      entry = line;
      from = { source: "pipeline", ...(requestId !== undefined ? { requestId } : {}), ...(code !== undefined ? { code } : {}) };
    }
    for (const l of this.#logListeners) l(entry, from);
  }
}

function noUpstream(): VergeError {
  return new VergeError("ERR_NO_UPSTREAM", "the function let the request continue to the origin, but no `upstream` option is set");
}
