/**
 * `new Verge(options)`: a Miniflare-v4-shaped test and dev API over the same
 * runtime the edge nodes run, behind a child-process host so a function that
 * aborts its process never takes the caller down.
 *
 * @example
 * const verge = new Verge({ modules: true, script: `export default { fetch: () => new Response("hi") }` });
 * const res = await verge.dispatchFetch("http://localhost/");
 * assert.equal(await res.text(), "hi");
 * await verge.dispose();
 */
import { VergeError } from "../shared/errors.ts";
import type { RequestData } from "../shared/http.ts";
import { readBody } from "../shared/http.ts";
import type { CloudFrontEventType } from "../shared/limits.ts";
import { buildCloudFrontEvent, cfResponseToResponseData, type CloudFrontEvent } from "../shared/cloudfront/index.ts";
import { createChildRuntime, type ChildRuntime } from "../runtime/child-host/client.ts";
import type { InvocationReport } from "../runtime/invocation.ts";
import type { LogEntry } from "../runtime/report.ts";
import { resolveOptions, type ResolvedOptions, type VergeOptions } from "./options.ts";
import { createHostKvNamespace, type KVNamespace } from "./kv.ts";

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
  #logListeners = new Set<(entry: LogEntry) => void>();
  #reports = new WeakMap<Response, Promise<InvocationReport>>();

  constructor(options: VergeOptions) {
    this.#options = resolveOptions(options);
    this.#child = createChildRuntime({ fetch: this.#options.outbound, onLog: (entry) => this.#emitLog(entry) });
    this.#fn = this.#child.register(this.#options.decl);
    this.#ready = this.#load();
  }

  /** Resolves when the function is loaded; rejects with its load error (ERR_BUNDLE_COMPILE, ERR_NO_HANDLER, ...). */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Sends a request to the function the way an edge node would, and returns its real `Response`. */
  async dispatchFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    this.#check();
    await this.#ready;
    const request = new Request(input, init);
    // What a function sees is what would arrive over HTTP (as on an edge node, and in workerd
    // behind Miniflare): no #fragment in the URL, and a POST or other method with a body
    // semantics sent without one arrives as an empty body (Content-Length: 0), not as none.
    const hash = request.url.indexOf("#");
    const data: RequestData = {
      method: request.method,
      url: hash === -1 ? request.url : request.url.slice(0, hash),
      headers: [...request.headers],
      body:
        request.body !== null
          ? (request.body as unknown as AsyncIterable<Uint8Array>)
          : request.method === "GET" || request.method === "HEAD"
            ? null
            : new Uint8Array(0),
    };
    const event = this.#options.event;
    if (event === "origin-response" || event === "viewer-response") return this.#dispatchResponseEvent(event, data);
    const r = await this.#child.fetch(this.#fn, data, { eventType: event });
    this.#track(r.finished);
    if (r.type === "response") {
      // A response to HEAD carries no body on HTTP, whatever the function returned.
      const body = request.method === "HEAD" ? null : r.response.body;
      const response = toResponse(r.response.status, r.response.statusText, r.response.headers, body);
      this.#reports.set(response, r.finished);
      return response;
    }
    return this.#continue(r.request);
  }

  /** Runs a Lambda@Edge event (the exact CloudFront shape) and returns the function's validated result. */
  async dispatchEvent(eventType: CloudFrontEventType, cloudFrontEvent: CloudFrontEvent): Promise<unknown> {
    this.#check();
    await this.#ready;
    const actual = cloudFrontEvent?.Records?.[0]?.cf?.config?.eventType;
    if (actual !== eventType) {
      throw new VergeError("ERR_INVALID_EVENT", `dispatchEvent: Records[0].cf.config.eventType is ${JSON.stringify(actual)}, expected ${JSON.stringify(eventType)}`);
    }
    const r = await this.#child.event(this.#fn, cloudFrontEvent);
    this.#track(r.finished);
    return r.result;
  }

  /** Runs a cron trigger (`scheduled` handler). */
  async dispatchScheduled(cron = "* * * * *", scheduledTime = Date.now()): Promise<InvocationReport> {
    this.#check();
    await this.#ready;
    const r = await this.#child.scheduled(this.#fn, cron, scheduledTime);
    return this.#track(r.finished);
  }

  /** The function's `env`: plain values as copies, KV namespaces as `getKVNamespace` gives them. */
  async getBindings<T = Record<string, unknown>>(): Promise<T> {
    this.#check();
    const env: Record<string, unknown> = structuredClone(this.#options.env);
    for (const [name, b] of Object.entries(this.#options.decl.bindings)) if (b.type === "kv") env[name] = await this.getKVNamespace(name);
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

  /** Replaces the options; the next dispatch runs the new function. */
  async setOptions(options: VergeOptions): Promise<void> {
    this.#check();
    const next = resolveOptions(options);
    const old = this.#fn;
    this.#options = next;
    this.#fn = this.#child.register(next.decl);
    this.#child.unregister(old);
    this.#ready = this.#load();
    await this.#ready;
  }

  /** The limit report and logs of the most recently finished invocation. */
  get lastReport(): InvocationReport | undefined {
    return this.#lastReport;
  }

  /**
   * The limit report of the invocation that answered with `response` (from dispatchFetch), settled
   * when that invocation is over (body read, waitUntil settled); undefined for a response it did not make.
   */
  reportOf(response: Response): Promise<InvocationReport> | undefined {
    return this.#reports.get(response);
  }

  /** Calls `listener` with every console line of the function. */
  onLog(listener: (entry: LogEntry) => void): () => void {
    this.#logListeners.add(listener);
    return () => this.#logListeners.delete(listener);
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#child.dispose();
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

  #emitLog(entry: LogEntry): void {
    for (const l of this.#logListeners) l(entry);
  }

  /** A request handler let the request through: it goes on to the upstream (the origin). */
  async #continue(request: RequestData): Promise<Response> {
    const upstream = this.#options.upstream;
    if (upstream === undefined) {
      throw new VergeError("ERR_NO_UPSTREAM", "the function let the request continue to the origin, but no `upstream` option is set");
    }
    const url = new URL(request.url);
    const target = new URL(url.pathname + url.search, upstream);
    const body = request.body === null ? null : await readBody(request.body);
    const headers = request.headers.filter(([k]) => k !== "host" && k !== "content-length");
    return fetch(target, { method: request.method, headers, body: body && body.byteLength ? body : null, redirect: "manual" });
  }

  async #dispatchResponseEvent(eventType: "origin-response" | "viewer-response", request: RequestData): Promise<Response> {
    const originRes = await this.#continue(request);
    const url = new URL(request.url);
    const bytes = new Uint8Array(await originRes.arrayBuffer());
    const event = buildCloudFrontEvent({
      eventType,
      request: { ...request, body: null },
      response: { status: originRes.status, statusText: originRes.statusText, headers: [...originRes.headers], body: null },
      clientIp: "127.0.0.1",
      distribution: { domainName: url.host, id: "VERGELOCAL" },
      ...(eventType === "origin-response" ? { origin: { custom: { domainName: this.#options.upstream!.hostname, port: Number(this.#options.upstream!.port || 80), protocol: "http", path: "", sslProtocols: ["TLSv1.2"], readTimeout: 30, keepaliveTimeout: 5, customHeaders: {} } } } : {}),
    } as Parameters<typeof buildCloudFrontEvent>[0]) as CloudFrontEvent;
    const r = await this.#child.event(this.#fn, event);
    this.#track(r.finished);
    const res = cfResponseToResponseData(r.result as never);
    // A result without a body keeps the origin's body (Lambda@Edge response events).
    const hasBody = typeof (r.result as { body?: unknown }).body === "string";
    return toResponse(res.status, res.statusText, res.headers, hasBody ? res.body : bytes);
  }
}

type ResponseBody = NonNullable<ConstructorParameters<typeof Response>[0]>;
const NULL_BODY = new Set([101, 204, 205, 304]);

function toResponse(status: number, statusText: string, headers: Array<[string, string]>, body: Uint8Array | AsyncIterable<Uint8Array> | null): Response {
  let stream: ResponseBody | null = null;
  if (body instanceof Uint8Array) stream = body.byteLength > 0 ? (body as Uint8Array<ArrayBuffer>) : null;
  else if (body !== null) {
    const it = body[Symbol.asyncIterator]();
    stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const r = await it.next();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      async cancel() {
        await it.return?.();
      },
    }) as unknown as ResponseBody;
  }
  const h = new Headers();
  for (const [k, v] of headers) h.append(k, v);
  return new Response(NULL_BODY.has(status) ? null : stream, { status, statusText, headers: h });
}
