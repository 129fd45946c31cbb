/**
 * The edge pipeline inside the harness's child process (see child.ts beside
 * this file): a fetch call of a function registered with a route runs as a
 * viewer request through an edge node, over this process's runtime. One
 * pipeline per registered function: the distribution of `RouteData`, a
 * response cache in memory, no quarantine (src/pipeline/local.ts).
 *
 * Per request it tells the parent (`meta`) which events the function ran at,
 * and its `finished` report is theirs merged (see mergeReports). The
 * pipeline's own log lines (an error answered with `x-verge-error`, with the
 * real message) go to the parent as log entries of {@link PIPELINE_LOG}.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { headersToList } from "../pipeline/headers.ts";
import { partsOf, type RequestData } from "../shared/http.ts";
import type { HostServices, InvocationReport } from "../runtime/index.ts";
import type { HostExtension, RoutedFetch } from "../runtime/child-host/child.ts";
import { createPipeline, type EdgePipeline, type InvocationNote } from "../pipeline/index.ts";
import { createMemoryCacheStore, createResponseCache } from "../pipeline/cache/index.ts";
import { createLocalState, NO_QUARANTINE } from "../pipeline/local.ts";
import type { ViewerRequest } from "../pipeline/types.ts";
import { directoryReader } from "../runtime/assets/serve.ts";
import { LOCAL_NODE, PIPELINE_LOG, type PipelineLogEntry, type RouteData, type RouteMeta } from "./route.ts";

interface Invocation {
  event: string;
  finished: Promise<InvocationReport>;
  /** Thrown before the function answered. */
  error?: unknown;
}

interface RequestContext {
  invocations: Invocation[];
  cold: boolean;
}

interface Host {
  pipeline: EdgePipeline;
  inFlight: number;
  retired: boolean;
}

const requests = new AsyncLocalStorage<RequestContext>();

export function createPipelineHost(): HostExtension {
  const hosts = new Map<number, Host>();

  const settle = (fn: number, host: Host): void => {
    if (host.retired && host.inFlight === 0) {
      hosts.delete(fn);
      void host.pipeline.close();
    }
  };

  return {
    async fetch(call: RoutedFetch) {
      let host = hosts.get(call.fn);
      if (host === undefined) {
        host = { pipeline: pipelineFor(call), inFlight: 0, retired: false };
        hosts.set(call.fn, host);
      }
      const ctx: RequestContext = { invocations: [], cold: false };
      host.inFlight++;
      let response: Response;
      try {
        const url = new URL(call.request.url);
        response = await requests.run(ctx, () => host.pipeline.handle(viewerRequest(call.request, url), { clientIp: call.opts.clientIp ?? "127.0.0.1", scheme: url.protocol === "https:" ? "https" : "http" }));
      } catch (err) {
        host.inFlight--;
        throw err;
      }
      let bodyOver!: () => void;
      const over = new Promise<void>((resolve) => (bodyOver = resolve));
      const done = (): void => {
        host.inFlight--;
        settle(call.fn, host);
        bodyOver();
      };
      const parts = partsOf(response);
      let body: Uint8Array | AsyncIterable<Uint8Array> | null;
      if (parts !== undefined) {
        body = parts.body;
        done();
      } else if (response.body === null) {
        body = null;
        done();
      } else body = tracked(response.body, done);
      const meta: RouteMeta = { events: ctx.invocations.map((i) => i.event) };
      return {
        type: "response" as const,
        response: { status: response.status, statusText: response.statusText, headers: parts?.headers ?? headersToList(response.headers), body },
        cold: ctx.cold,
        // The call is over when its body is, as a runtime call is (the host ends the call at its report).
        finished: Promise.all([mergeReports(ctx.invocations), over]).then(([report]) => report),
        meta,
      };
    },
    unregister(fn) {
      const host = hosts.get(fn);
      if (host === undefined) return;
      host.retired = true;
      settle(fn, host);
    },
  };
}

function pipelineFor(call: RoutedFetch): EdgePipeline {
  const route = call.data as RouteData;
  const spec = route.assets === undefined ? call.spec : { ...call.spec, assets: { manifest: route.assets.manifest, config: route.assets.config, read: directoryReader(route.assets.directory) } };
  const state = createLocalState({ distribution: route.distribution, versions: [{ function: route.function, digest: route.digest, spec }], anyHost: route.anyHost });
  const services = call.services;
  return createPipeline({
    runtime: call.runtime,
    onInvocation: noteInvocation,
    state,
    cache: createResponseCache({ store: createMemoryCacheStore() }),
    quarantine: NO_QUARANTINE,
    nodeId: LOCAL_NODE,
    allowPrivateOrigins: route.allowPrivateOrigins,
    allowOriginHosts: route.allowOriginHosts,
    // The test (or the developer) is the viewer and stands in for CloudFront's geolocation and device detection.
    keepViewerCloudFrontHeaders: true,
    // A Workers handler's fetch() to another host: the same guarded fetch as the function's own.
    outbound: (request, init) => services.fetch(request, init),
    log: (line) => forward(services, line as Record<string, unknown>),
  });
}

/** Notes each invocation of the function (event, report) in the context of the request it runs for. */
function noteInvocation(invocation: InvocationNote): void {
  const ctx = requests.getStore();
  if (ctx === undefined) return;
  ctx.invocations.push({ event: invocation.event, finished: invocation.finished, ...(invocation.error !== undefined ? { error: invocation.error } : {}) });
  if (invocation.error === undefined) ctx.cold ||= invocation.cold;
}

/**
 * One report for a request's invocations of the function: each budget's use
 * is the highest any invocation reached (budgets are per invocation), console
 * lines in order, `error` the first failure (thrown before answering, or
 * after). With no invocation, a report of nothing used (the parent ignores it:
 * `meta.events` is empty).
 */
async function mergeReports(invocations: Invocation[]): Promise<InvocationReport> {
  const reports = await Promise.all(invocations.map(async (i) => ({ report: await i.finished, error: i.error })));
  const zero = { used: 0, limit: null };
  const merged: InvocationReport = { limits: { cpuMs: zero, wallMs: zero, heapMb: zero, subrequests: zero, responseBytes: zero }, logs: [], waitUntilErrors: [] };
  for (const { report, error } of reports) {
    for (const key of Object.keys(merged.limits) as Array<keyof InvocationReport["limits"]>) {
      const mine = report.limits[key];
      if (merged.limits[key] === zero || mine.used > merged.limits[key].used) merged.limits[key] = mine;
    }
    merged.logs.push(...report.logs);
    merged.waitUntilErrors.push(...report.waitUntilErrors);
    merged.error ??= (error as InvocationReport["error"]) ?? report.error;
  }
  merged.logs.sort((a, b) => a.timestamp - b.timestamp);
  if (merged.error === undefined) delete merged.error;
  return merged;
}

function forward(services: HostServices, line: Record<string, unknown>): void {
  const level = line.level === "error" ? "error" : "warn";
  const where = [line.event, line.function].filter((x) => typeof x === "string").join(" ");
  const message = `${line.status ?? ""} ${line.code ?? ""}${where ? ` (${where})` : ""}: ${line.message ?? line.msg ?? ""}`.trim();
  const entry: PipelineLogEntry = { level, message, timestamp: Date.now() };
  if (typeof line.requestId === "string") entry.requestId = line.requestId;
  if (typeof line.code === "string") entry.code = line.code;
  services.onLog?.(entry, PIPELINE_LOG);
}

/** The request as the node's HTTP server would hand it over: lowercase names, a Host header, framing. */
function viewerRequest(request: RequestData, url: URL): ViewerRequest {
  const headers = request.headers.map(([name, value]): [string, string] => [name.toLowerCase(), value]);
  if (!headers.some(([name]) => name === "host")) headers.push(["host", url.host]);
  const body = request.body;
  // Bytes known in advance go with their length, as an HTTP client frames them.
  if (body instanceof Uint8Array && !headers.some(([name]) => name === "content-length" || name === "transfer-encoding")) headers.push(["content-length", String(body.byteLength)]);
  return {
    method: request.method,
    url: request.url,
    headers,
    body: () => (body === null ? null : body instanceof Uint8Array ? new Response(body as Uint8Array<ArrayBuffer>).body : ReadableStream.from(body)),
  };
}

/** The body, calling `done` once when it ended, failed or was cancelled (even before the first read). */
function tracked(stream: ReadableStream<Uint8Array>, done: () => void): AsyncIterable<Uint8Array> {
  let over = false;
  const finish = (): void => {
    if (over) return;
    over = true;
    done();
  };
  const reader = stream.getReader();
  const iterator: AsyncIterator<Uint8Array> = {
    async next() {
      try {
        const r = await reader.read();
        if (!r.done) return { done: false, value: r.value };
      } catch (err) {
        finish();
        throw err;
      }
      finish();
      return { done: true, value: undefined };
    },
    async return() {
      finish();
      await reader.cancel().catch(() => {});
      return { done: true, value: undefined };
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}
