/**
 * Runs a snippet inside a function, the way a function would run it, and returns
 * its JSON-copied result. For conformance tests of the guest Web APIs.
 *
 * One suite, several targets (CONVENTIONS.md: the harness and a real edge node),
 * chosen by `VERGE_CONFORMANCE_TARGET`:
 * - `runtime` (default): a fresh in-process Sandbox per snippet;
 * - `harness`: the public `Verge` harness (child-process host), one instance per
 *   test file, the snippet's Worker set with `setOptions`;
 * - `edge`: a real edge node fed by a registry (test/helpers/fleet.ts): each
 *   snippet is published as a new version of a Workers function on the
 *   viewer-request event of a distribution, and requested over HTTP.
 * test/conformance/targets.test.ts runs the suite against `harness` and `edge`.
 *
 * @example
 * assert.equal(await evalGuest(`return new URL("http://a/b/../c").href`), "http://a/c");
 */
import { after } from "node:test";
import { Sandbox } from "../../src/runtime/sandbox.ts";
import { resolveLimits } from "../../src/shared/limits.ts";
import { createHostServices } from "../../src/runtime/services.ts";
import { createCacheApi, createMemoryCacheStore, createResponseCache, tenantScope } from "../../src/pipeline/cache/index.ts";
import type { FetchPolicy } from "../../src/runtime/fetch-guard.ts";
import type { LimitsOptions } from "../../src/shared/limits.ts";
import type { Verge } from "../../src/index.ts";
import type { Fleet, TestWebOrigin } from "./fleet.ts";

export type ConformanceTarget = "runtime" | "harness" | "edge";

export const TARGETS: readonly ConformanceTarget[] = ["runtime", "harness", "edge"];

function targetFromEnv(): ConformanceTarget {
  const t = process.env["VERGE_CONFORMANCE_TARGET"] ?? "runtime";
  if (!(TARGETS as readonly string[]).includes(t)) throw new Error(`VERGE_CONFORMANCE_TARGET: expected one of ${TARGETS.join(", ")}, found ${JSON.stringify(t)}`);
  return t as ConformanceTarget;
}

/** The target evalGuest runs on in this process. */
export const TARGET = targetFromEnv();

let counter = 0;

// Registered while the test file loads, so it runs once after all of the file's tests
// (an `after` called inside a test would run when that test ends).
if (TARGET !== "runtime") {
  after(async () => {
    await harness?.dispose();
    const e = await edge?.catch(() => undefined);
    await e?.fleet.close();
    await e?.origin.close();
  });
}

export interface EvalGuestOptions {
  limits?: LimitsOptions;
  fetch?: FetchPolicy;
}

const DEFAULT_LIMITS = { cpuMs: 5_000, wallMs: 20_000 };

function workerSource(code: string): string {
  // A distinct comment per snippet: every edge publish is a new version (digest).
  return `// snippet ${++counter}
export default {
  async fetch(request, env, ctx) {
    let value, error;
    try {
      value = await (async () => { ${code}\n })();
    } catch (e) {
      error = { name: e && e.name, message: e && e.message };
    }
    return new Response(JSON.stringify(error ? { error } : { value: value === undefined ? null : value }));
  }
};`;
}

/** The snippet's own result: its value, or its caught error rethrown here with the same name. */
function resultOf(text: string): unknown {
  const parsed = JSON.parse(text) as { value?: unknown; error?: { name: string; message: string } };
  if (parsed.error) {
    const e = new Error(parsed.error.message);
    e.name = parsed.error.name;
    throw e;
  }
  return parsed.value;
}

export async function evalGuest(code: string, options: EvalGuestOptions = {}): Promise<unknown> {
  if (TARGET === "harness") return viaHarness(code, options);
  if (TARGET === "edge") return viaEdge(code, options);
  return viaRuntime(code, options);
}

async function viaRuntime(code: string, options: EvalGuestOptions): Promise<unknown> {
  const services = createHostServices({ fetch: options.fetch ?? { allowPrivateAddresses: true } });
  // As the plain harness has it (src/harness/caches.ts): a Cache API over a response cache in memory, one per snippet.
  const caches = createCacheApi({ cache: createResponseCache({ store: createMemoryCacheStore() }), scope: tenantScope("local") });
  services.caches = () => caches;
  const sandbox = new Sandbox({
    source: { id: `eval-${++counter}`, code: workerSource(code), format: "esm" },
    limits: resolveLimits({ ...DEFAULT_LIMITS, ...options.limits }),
    env: {},
    bindings: {},
    services,
  });
  try {
    const outcome = await sandbox.invoke({
      kind: "fetch",
      request: { method: "GET", url: "http://guest.test/", headers: [], body: null },
    });
    if (outcome.kind === "error") throw outcome.error;
    if (outcome.kind !== "response") throw new Error(`unexpected outcome ${outcome.kind}`);
    const chunks: Uint8Array[] = [];
    const body = outcome.response.body;
    if (body instanceof Uint8Array) chunks.push(body);
    else if (body !== null) for await (const c of body) chunks.push(c);
    await outcome.finished;
    return resultOf(Buffer.concat(chunks).toString("utf8"));
  } finally {
    sandbox.dispose();
    await services.close();
  }
}

let harness: Verge | undefined;

async function viaHarness(code: string, options: EvalGuestOptions): Promise<unknown> {
  const { Verge } = await import("../../src/index.ts");
  const verge = harness ?? new Verge({ modules: true, script: `export default { fetch: () => new Response("idle") };`, outbound: { allowPrivateAddresses: true } });
  harness = verge;
  await verge.setOptions({
    modules: true,
    script: workerSource(code),
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    outbound: options.fetch ?? { allowPrivateAddresses: true },
  });
  const res = await verge.dispatchFetch("http://guest.test/");
  return resultOf(await res.text());
}

// The host the runtime target uses too, so request.url reads the same on every target.
const HOST = "guest.test";
let edge: Promise<{ fleet: Fleet; origin: TestWebOrigin }> | undefined;

function startEdge(): Promise<{ fleet: Fleet; origin: TestWebOrigin }> {
  edge ??= (async () => {
    const { startFleet, startWebOrigin } = await import("./fleet.ts");
    const origin = await startWebOrigin((_req, res) => res.end("origin"));
    const fleet = await startFleet({ nodes: 1 });
    await fleet.publish("conformance", workerSource(`return "ready"`));
    await fleet.distribution("conformance", {
      hostnames: [HOST],
      origins: [{ id: "web", url: origin.url }],
      behaviors: [],
      defaultBehavior: { originId: "web", functions: { "viewer-request": { function: "conformance", alias: "live", includeBody: false } } },
    });
    await fleet.waitApplied();
    return { fleet, origin };
  })();
  return edge;
}

async function viaEdge(code: string, options: EvalGuestOptions): Promise<unknown> {
  const { fleet } = await startEdge();
  // The node's subrequest policy is the node's (the test fleet allows private addresses);
  // a snippet's budgets are its function's config.
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const config: Record<string, unknown> = {};
  for (const k of ["cpuMs", "wallMs", "memoryMb", "subrequests"] as const) if (k in limits) config[k] = (limits as Record<string, unknown>)[k];
  await fleet.publish("conformance", workerSource(code), config);
  await fleet.waitApplied();
  const reply = await fleet.get(0, HOST, "/");
  if (reply.status !== 200) {
    const e = new Error(`edge node answered ${reply.status} ${String(reply.headers["x-verge-error"] ?? "")}: ${reply.body.slice(0, 300)}`) as Error & { code?: unknown };
    e.code = reply.headers["x-verge-error"];
    throw e;
  }
  return resultOf(reply.body);
}
