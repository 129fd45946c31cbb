/**
 * Service bindings in the runtime: the guest's Fetcher builds the Request as
 * fetch() does, the call reaches the invocation's (or the host's) ServiceHost
 * and counts as a subrequest, the response body streams back, redirects are
 * followed through the same binding, and what cannot work fails clearly.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createRuntime } from "../../runtime.ts";
import { createHostServices } from "../../services.ts";
import { createBindings } from "../index.ts";
import { readBody, type RequestData, type ResponseData } from "../../../shared/http.ts";
import { resolveLimits } from "../../../shared/limits.ts";
import type { ServiceCall, ServiceHost } from "../../host-services.ts";
import type { FunctionSpec } from "../../pool.ts";

const seen: Array<{ call: ServiceCall; request: RequestData & { body: Uint8Array | null } }> = [];

/** The host's default target: echoes the request, redirects /go, streams /stream. */
const echo: ServiceHost = async (call, request) => {
  const body = request.body === null ? null : await readBody(request.body);
  seen.push({ call, request: { ...request, body } });
  const path = new URL(request.url).pathname;
  if (path === "/go") return { status: 302, statusText: "Found", headers: [["location", "/landed"]], body: null };
  if (path === "/stream") {
    async function* chunks() {
      yield new TextEncoder().encode("one,");
      yield new TextEncoder().encode("two");
    }
    return { status: 200, statusText: "OK", headers: [], body: chunks() };
  }
  const text = `${call.service} ${request.method} ${request.url} ${JSON.stringify(request.headers)} ${body === null ? "-" : new TextDecoder().decode(body)}`;
  return { status: 201, statusText: "Made", headers: [["x-from", call.service]], body: new TextEncoder().encode(text) };
};

const services = createHostServices();
services.service = echo;
const runtime = createRuntime({ services });
after(() => {
  runtime.dispose();
  return services.close();
});

const WORKER = `export default { async fetch(req, env) {
  const u = new URL(req.url);
  const t = u.searchParams.get("t");
  try {
    if (t === "basic") {
      const r = await env.AUTH.fetch("https://auth.internal/check?x=1", { method: "POST", body: "secret", headers: { "x-a": "1" } });
      return new Response(r.status + " " + r.statusText + " " + r.headers.get("x-from") + " | " + await r.text());
    }
    if (t === "request") return env.AUTH.fetch(new Request("http://a.test/p", { method: "PUT", body: "b" }));
    if (t === "redirect") { const r = await env.AUTH.fetch("http://a.test/go"); return new Response(r.url + " " + r.redirected + " " + await r.text()); }
    if (t === "manual") { const r = await env.AUTH.fetch("http://a.test/go", { redirect: "manual" }); return new Response(r.status + " " + r.headers.get("location")); }
    if (t === "stream") { const r = await env.AUTH.fetch("http://a.test/stream"); return new Response(r.body); }
    if (t === "scheme") await env.AUTH.fetch("ftp://a.test/");
    if (t === "connect") env.AUTH.connect("a.test:1");
    if (t === "detached") { const f = env.AUTH.fetch; await f("http://a.test/"); }
    if (t === "shape") return new Response([Object.prototype.toString.call(env.AUTH), Object.keys(env.AUTH).length, String(env.AUTH.fetch)].join(" "));
    if (t === "many") { for (let i = 0; i < 3; i++) await env.AUTH.fetch("http://a.test/" + i); return new Response("ok"); }
  } catch (e) { return new Response(e.name + ": " + e.message, { status: 599 }); }
  return new Response("?");
} }`;

let n = 0;
function spec(limits: Record<string, unknown> = {}): FunctionSpec {
  const { env, bindings } = createBindings({ AUTH: { type: "service", value: { service: "auth-worker" } } });
  return { source: { id: `svc-${++n}`, code: WORKER, format: "esm", filename: "worker.js" }, limits: resolveLimits({ cpuMs: 5_000, wallMs: 20_000, ...limits }), env, bindings };
}

async function call(s: FunctionSpec, t: string, opts = {}): Promise<{ status: number; text: string; subrequests: number }> {
  const r = await runtime.fetch(s, { method: "GET", url: `http://caller.test/?t=${t}`, headers: [], body: null }, opts);
  assert.equal(r.type, "response");
  const res = (r as { response: ResponseData }).response;
  const text = new TextDecoder().decode(await readBody(res.body));
  const report = await r.finished;
  return { status: res.status, text, subrequests: report.limits.subrequests.used };
}

test("env.NAME.fetch() sends the Request fetch() would build to the service and returns its Response", async () => {
  seen.length = 0;
  const r = await call(spec(), "basic");
  assert.equal(r.status, 200);
  assert.equal(r.text, '201 Made auth-worker | auth-worker POST https://auth.internal/check?x=1 [["content-type","text/plain;charset=UTF-8"],["x-a","1"]] secret');
  assert.equal(seen[0]!.call.binding, "AUTH");
  assert.equal(seen[0]!.call.service, "auth-worker");
  assert.match(seen[0]!.call.functionId, /^svc-/);
  assert.equal(r.subrequests, 1, "a service binding call is a subrequest");
});

test("a Request object goes as it is, and the service's Response can be returned as the function's own", async () => {
  const r = await call(spec(), "request");
  assert.equal(r.status, 201);
  assert.match(r.text, /^auth-worker PUT http:\/\/a\.test\/p .* b$/);
});

test("redirects are followed through the same binding unless redirect is manual", async () => {
  seen.length = 0;
  assert.equal((await call(spec(), "redirect")).text, 'http://a.test/landed true auth-worker GET http://a.test/landed [] -');
  assert.deepEqual(seen.map((s) => s.request.url), ["http://a.test/go", "http://a.test/landed"]);
  assert.equal((await call(spec(), "manual")).text, "302 /landed");
});

test("the service's response body streams to the function", async () => {
  assert.equal((await call(spec(), "stream")).text, "one,two");
});

test("what a Fetcher refuses: other schemes, connect(), a detached fetch", async () => {
  assert.equal((await call(spec(), "scheme")).text, "TypeError: Fetch API cannot load: ftp://a.test/");
  assert.equal((await call(spec(), "connect")).text, "Error: env.AUTH.connect(): TCP sockets over a service binding are not supported by verge; use env.AUTH.fetch()");
  assert.match((await call(spec(), "detached")).text, /^TypeError: Illegal invocation/);
  assert.equal((await call(spec(), "shape")).text, "[object Fetcher] 0 function fetch() { [native code] }");
});

test("service calls count against the subrequest budget", async () => {
  const r = await call(spec({ subrequests: 2 }), "many");
  assert.equal(r.status, 599);
  assert.equal(r.text, "Error: Too many subrequests: the limit is 2 per invocation");
});

test("an invocation's own service host replaces the host's", async () => {
  const own: ServiceHost = async (c, req) => ({ status: 200, statusText: "OK", headers: [["x-from", "own"]], body: new TextEncoder().encode(`own ${c.binding} ${req.url}`) });
  const r = await call(spec(), "basic", { service: own });
  assert.equal(r.text, "200 OK own | own AUTH https://auth.internal/check?x=1");
});

test("a host without service bindings says so", async () => {
  const bare = createHostServices();
  const rt = createRuntime({ services: bare });
  try {
    const r = await rt.fetch(spec(), { method: "GET", url: "http://caller.test/?t=basic", headers: [], body: null });
    const text = new TextDecoder().decode(await readBody((r as { response: ResponseData }).response.body));
    assert.equal(text, 'Error: env.AUTH.fetch(): this host runs no service bindings, so service "auth-worker" cannot be reached');
  } finally {
    rt.dispose();
    await bare.close();
  }
});

test("a service binding declaration is checked", () => {
  assert.throws(() => createBindings({ S: { type: "service", value: "auth" } }), { message: /bindings\.S: a service binding needs \{ service \}, found the string "auth"/ });
  assert.throws(() => createBindings({ S: { type: "service", value: { service: "" } } }), { message: /bindings\.S\.service: expected the name of the service/ });
});
