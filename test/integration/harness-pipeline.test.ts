/**
 * `new Verge({ upstream, distribution })`: dispatchFetch is a viewer's request
 * through the edge pipeline, over a real origin on port 0: the function on its
 * event(s) of a one-origin distribution, the response cache (Miss, then Hit),
 * origin-request and origin-response Lambda@Edge handlers, a Workers handler
 * whose fetch(request) goes through cache and origin, Workers handlers at the
 * response events, and errors mapped as an
 * edge node maps them (x-verge-error, 502/503/504).
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { harnessChildren } from "../helpers/children.ts";
import { Verge, failureReport, type VergeOptions, type LogEntry, type LogSource } from "../../src/index.ts";
import { startOrigin, type TestOrigin } from "../../src/pipeline/testing-edge.ts";

async function origin(t: TestContext, handler?: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<TestOrigin> {
  const o = await startOrigin(
    handler ??
      ((req, res) => {
        res.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=60", "x-origin-saw": String(req.headers["x-from-edge"] ?? "") }).end(`origin ${req.url}`);
      }),
  );
  t.after(() => o.close());
  return o;
}

function verge(t: TestContext, options: VergeOptions): Verge {
  const v = new Verge(options);
  t.after(() => v.dispose());
  return v;
}

const lambda = (body: string): string => `export const handler = async (event) => { const cf = event.Records[0].cf; ${body} };`;

test("a Workers handler's fetch(request) goes through the response cache and the origin: Miss, then Hit", async (t) => {
  const o = await origin(t);
  const v = verge(t, {
    modules: true,
    script: `export default { async fetch(request) {
      const r = await fetch(request);
      return new Response("worker saw " + (await r.text()), { headers: { "x-sub-cache": r.headers.get("x-verge-cache") } });
    } }`,
    upstream: o.url,
    // A cold child and isolate on a loaded machine: this test is about the pipeline, not the CPU budget.
    limits: { cpuMs: 2_000 },
  });
  const first = await v.dispatchFetch("http://shop.example/item?id=1");
  assert.equal(first.status, 200, `${first.headers.get("x-verge-error")}: ${first.status === 200 ? "" : await first.clone().text()} ${JSON.stringify(v.lastReport?.error ?? null)}`);
  assert.equal(await first.text(), "worker saw origin /item?id=1");
  assert.equal(first.headers.get("x-sub-cache"), "Miss");
  assert.match(first.headers.get("via")!, /^1\.1 local \(verge\)$/);
  assert.ok(first.headers.get("x-verge-request-id"));
  const report = await v.reportOf(first);
  assert.equal(report?.limits.subrequests.used, 1);

  const second = await v.dispatchFetch("http://shop.example/item?id=1");
  assert.equal(await second.text(), "worker saw origin /item?id=1");
  assert.equal(second.headers.get("x-sub-cache"), "Hit");
  assert.equal(o.seen.length, 1, "the origin was asked once");
  // As an edge node sends it: Host of the origin, X-Forwarded-For and Via added.
  const seen = o.seen[0]!;
  assert.equal(seen.headers.host, new URL(o.url).host);
  assert.equal(seen.headers["x-forwarded-for"], "127.0.0.1");
  assert.match(String(seen.headers.via), /1\.1 local \(verge\)/);
});

test("origin-request: changes the request to the origin, runs on a miss only", async (t) => {
  const o = await origin(t);
  const v = verge(t, {
    script: lambda(`cf.request.headers["x-from-edge"] = [{ key: "X-From-Edge", value: cf.request.origin.custom.domainName }]; cf.request.uri = "/v2" + cf.request.uri; return cf.request;`),
    event: "origin-request",
    upstream: o.url,
  });
  const miss = await v.dispatchFetch("http://site.test/page");
  assert.equal(miss.headers.get("x-verge-cache"), "Miss");
  assert.equal(await miss.text(), "origin /v2/page");
  assert.equal(miss.headers.get("x-origin-saw"), "localhost", "the function saw the configured origin");
  assert.ok(v.reportOf(miss), "the function ran");

  const hit = await v.dispatchFetch("http://site.test/page");
  assert.equal(hit.headers.get("x-verge-cache"), "Hit");
  assert.equal(await hit.text(), "origin /v2/page");
  assert.equal(v.reportOf(hit), undefined, "no origin-request on a hit");
  assert.equal(o.seen.length, 1);
});

test("origin-request: a generated response is cached and the origin never asked", async (t) => {
  const o = await origin(t);
  const v = verge(t, {
    script: lambda(`return { status: "200", headers: { "cache-control": [{ key: "Cache-Control", value: "max-age=30" }] }, body: "made at the edge" };`),
    event: "origin-request",
    upstream: o.url,
  });
  const a = await v.dispatchFetch("http://site.test/x");
  assert.equal(await a.text(), "made at the edge");
  assert.equal(a.headers.get("x-verge-cache"), "Miss");
  const b = await v.dispatchFetch("http://site.test/x");
  assert.equal(await b.text(), "made at the edge");
  assert.equal(b.headers.get("x-verge-cache"), "Hit");
  assert.equal(o.seen.length, 0);
});

test("origin-response: what it returns is what is cached, and it does not run on hits", async (t) => {
  const o = await origin(t, (req, res) => {
    res.writeHead(req.url === "/missing" ? 404 : 200, { "content-type": "text/plain", "cache-control": "max-age=60" }).end(`origin ${req.url}`);
  });
  const v = verge(t, {
    script: lambda(`const r = cf.response;
      console.log("origin-response " + r.status);
      r.headers["x-rewritten"] = [{ key: "X-Rewritten", value: "status " + r.status }];
      if (r.status === "404") { r.status = "200"; r.statusDescription = "OK"; r.body = "soft 404"; }
      return r;`),
    event: "origin-response",
    upstream: o.url,
  });
  const a = await v.dispatchFetch("http://site.test/ok");
  assert.equal(a.headers.get("x-rewritten"), "status 200");
  assert.equal(await a.text(), "origin /ok", "no body in the result: the origin's body goes on");
  assert.deepEqual((await v.reportOf(a))!.logs.map((l) => l.message), ["origin-response 200"]);

  const missing = await v.dispatchFetch("http://site.test/missing");
  assert.equal(missing.status, 200);
  assert.equal(await missing.text(), "soft 404");
  const again = await v.dispatchFetch("http://site.test/missing");
  assert.equal(again.headers.get("x-verge-cache"), "Hit");
  assert.equal(await again.text(), "soft 404");
  assert.equal(again.headers.get("x-rewritten"), "status 404");
  assert.equal(v.reportOf(again), undefined);
  assert.equal(o.seen.length, 2);
});

test("one function on two events: a request runs it at both, with one merged report", async (t) => {
  const o = await origin(t, (req, res) => res.writeHead(200, { "x-origin-saw": String(req.headers["x-step"] ?? "") }).end("ok"));
  const v = verge(t, {
    script: lambda(`console.log(cf.config.eventType);
      if (cf.config.eventType === "viewer-request") { cf.request.headers["x-step"] = [{ key: "X-Step", value: "vr" }]; return cf.request; }
      cf.response.headers["x-step"] = [{ key: "X-Step", value: "vresp" }]; return cf.response;`),
    event: ["viewer-request", "viewer-response"],
    upstream: o.url,
  });
  const res = await v.dispatchFetch("http://site.test/");
  assert.equal(res.headers.get("x-origin-saw"), "vr");
  assert.equal(res.headers.get("x-step"), "vresp");
  const report = await v.reportOf(res);
  assert.deepEqual(report!.logs.map((l) => l.message), ["viewer-request", "viewer-response"]);
  // viewer-response runs on hits too.
  const hit = await v.dispatchFetch("http://site.test/");
  assert.equal(hit.headers.get("x-verge-cache"), "Hit");
  assert.equal(hit.headers.get("x-step"), "vresp");
});

test("errors map as on an edge node: x-verge-error, the status, the real message in the pipeline's log line", async (t) => {
  const o = await origin(t);
  const lines: Array<{ entry: LogEntry; from: LogSource }> = [];
  const v = verge(t, {
    modules: true,
    script: `export default { async fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/throw") { console.log("about to throw"); throw new Error("boom at the edge"); }
      if (path === "/spin") { while (true) {} }
      return fetch(request);
    } }`,
    upstream: o.url,
    // /spin must overrun it; /fine, after the kill, runs in a fresh isolate whose first fetch()
    // loads the prelude's stream part (20–50 ms of CPU on a loaded 2-core machine): not near it.
    limits: { cpuMs: 250 },
  });
  v.onLog((entry, from) => lines.push({ entry, from }));

  const thrown = await v.dispatchFetch("http://site.test/throw");
  assert.equal(thrown.status, 503);
  assert.equal(thrown.headers.get("x-verge-error"), "ERR_FUNCTION_EXCEPTION");
  const id = thrown.headers.get("x-verge-request-id")!;
  const body = (await thrown.json()) as { error: { code: string; requestId: string; message: string } };
  assert.equal(body.error.code, "ERR_FUNCTION_EXCEPTION");
  assert.equal(body.error.requestId, id);
  assert.ok(!body.error.message.includes("boom"), "the viewer never sees the function's own message");
  const report = await v.reportOf(thrown);
  assert.match(report!.error!.message, /Error: boom at the edge/);
  assert.ok(report!.limits.cpuMs.used > 0);
  assert.deepEqual(report!.logs.map((l) => l.message), ["about to throw"]);
  const line = lines.find((l) => l.from.source === "pipeline" && l.from.requestId === id);
  assert.ok(line, `a pipeline line for ${id}: ${JSON.stringify(lines)}`);
  assert.equal(line.from.source === "pipeline" && line.from.code, "ERR_FUNCTION_EXCEPTION");
  assert.match(line.entry.message, /503 ERR_FUNCTION_EXCEPTION .*boom at the edge/);
  assert.ok(lines.some((l) => l.from.source === "console" && l.entry.message === "about to throw"));

  const spun = await v.dispatchFetch("http://site.test/spin");
  assert.equal(spun.status, 503);
  assert.equal(spun.headers.get("x-verge-error"), "ERR_CPU_LIMIT");
  await spun.arrayBuffer();
  // The isolate was disposed, and the next request is served.
  const ok = await v.dispatchFetch("http://site.test/fine");
  assert.equal(await ok.text(), "origin /fine");
});

test("errors: an invalid Lambda@Edge result is a 502", async (t) => {
  const o = await origin(t);
  const invalid = verge(t, { script: lambda(`return { status: "99" };`), upstream: o.url });
  const res = await invalid.dispatchFetch("http://site.test/");
  assert.equal(res.status, 502);
  assert.equal(res.headers.get("x-verge-error"), "ERR_INVALID_RESULT");
  assert.match((await invalid.reportOf(res))!.error!.message, /status/);
});

test("a Workers handler at origin-response and viewer-response: fetch(request) is the response at hand, its answer replaces it", async (t) => {
  const o = await origin(t);
  const ores = verge(t, {
    modules: true,
    script: `export default { async fetch(request) {
      const r = await fetch(request);
      const out = new Response("[" + (await r.text()) + "]", r);
      out.headers.set("x-worker-saw", request.url);
      return out;
    } }`,
    event: "origin-response",
    upstream: o.url,
  });
  const miss = await ores.dispatchFetch("http://site.test/w");
  assert.equal(miss.status, 200);
  assert.equal(await miss.text(), "[origin /w]");
  assert.equal(miss.headers.get("x-worker-saw"), `${o.url}/w`);
  assert.ok(await ores.reportOf(miss), "the function ran");
  const hit = await ores.dispatchFetch("http://site.test/w");
  assert.equal(hit.headers.get("x-verge-cache"), "Hit");
  assert.equal(await hit.text(), "[origin /w]", "its answer was cached");
  assert.equal(o.seen.length, 1, "fetch(request) did not reach the origin");

  const vres = verge(t, {
    script: `addEventListener("fetch", (e) => e.respondWith((async () => {
      const r = await fetch(e.request.url);
      if (new URL(e.request.url).pathname === "/status") return new Response("x", { status: 201 });
      const out = new Response(r.body, r);
      out.headers.set("x-cache-seen", r.headers.get("x-verge-cache") ?? "none");
      return out;
    })()));`,
    event: "viewer-response",
    upstream: o.url,
  });
  const v1 = await vres.dispatchFetch("http://site.test/v");
  assert.equal(await v1.text(), "origin /v");
  assert.equal(v1.headers.get("x-cache-seen"), "none", "the response before the node's own headers");
  const changed = await vres.dispatchFetch("http://site.test/status");
  assert.equal(changed.status, 502, "viewer-response may not change the status");
  assert.equal(changed.headers.get("x-verge-error"), "ERR_INVALID_RESULT");
  assert.match((await vres.reportOf(changed))!.error!.message, /cannot change the status/);
});

test("errors: an unreachable origin is a 502, one too slow to answer a 504", async (t) => {
  const closed = await origin(t);
  await closed.close();
  const down = verge(t, { script: lambda(`return cf.request;`), upstream: closed.url });
  const res = await down.dispatchFetch("http://site.test/");
  assert.equal(res.status, 502);
  assert.equal(res.headers.get("x-verge-error"), "ERR_ORIGIN_UNREACHABLE");

  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const slow = await origin(t, (_req, res2) => void held.then(() => res2.end("late")));
  t.after(() => release());
  const v = verge(t, { script: lambda(`return cf.request;`), upstream: slow.url, distribution: { origin: { readTimeoutMs: 300 } } });
  const timedOut = await v.dispatchFetch("http://site.test/");
  assert.equal(timedOut.status, 504);
  assert.equal(timedOut.headers.get("x-verge-error"), "ERR_ORIGIN_TIMEOUT");
});

test("distribution: hostnames, cache key policy, TTLs, behaviors without the function, include-body", async (t) => {
  const o = await origin(t, (req, res, body) => res.writeHead(200, { "cache-control": "max-age=60" }).end(`${req.method} ${req.url} ${body}`));
  const v = verge(t, {
    script: lambda(`cf.request.headers["x-body"] = [{ key: "X-Body", value: cf.request.body && cf.request.body.data ? "seen" : "none" }]; return cf.request;`),
    event: "viewer-request",
    upstream: o.url,
    distribution: {
      hostnames: ["shop.example"],
      includeBody: true,
      cacheKey: { queryStrings: { behavior: "allowList", items: ["page"] } },
      behaviors: [{ pathPattern: "/live/*", ttl: { max: 0 }, function: false }],
    },
  });
  const other = await v.dispatchFetch("http://elsewhere.example/");
  assert.equal(other.status, 404);
  assert.equal(other.headers.get("x-verge-error"), "ERR_NO_DISTRIBUTION");

  // The query strings in the key: page only.
  assert.equal((await v.dispatchFetch("http://shop.example/list?page=1&utm=a")).headers.get("x-verge-cache"), "Miss");
  assert.equal((await v.dispatchFetch("http://shop.example/list?page=1&utm=b")).headers.get("x-verge-cache"), "Hit");
  assert.equal((await v.dispatchFetch("http://shop.example/list?page=2")).headers.get("x-verge-cache"), "Miss");

  // /live/*: TTL 0 (never fresh), and the function does not run there.
  const live1 = await v.dispatchFetch("http://shop.example/live/score");
  const live2 = await v.dispatchFetch("http://shop.example/live/score");
  assert.equal(live2.headers.get("x-verge-cache"), "Miss");
  assert.equal(v.reportOf(live1), undefined);
  await live1.arrayBuffer();
  await live2.arrayBuffer();

  // POST bypasses the cache; include-body shows the body to the function, and it reaches the origin.
  const post = await v.dispatchFetch("http://shop.example/form", { method: "POST", body: "a=1" });
  assert.equal(post.headers.get("x-verge-cache"), "Bypass");
  assert.equal(await post.text(), "POST /form a=1");
  assert.equal(o.seen.at(-1)!.headers["x-body"], "seen");
});

test("options: every problem at once, each named by its path", () => {
  assert.throws(
    () =>
      new Verge({
        script: "export default {}",
        event: ["viewer-request", "viewer-request"],
        upstream: "ftp://x",
        distribution: { ttl: { min: 10, max: 5 }, includeBody: "yes" as unknown as boolean, behaviors: [{ pathPattern: "/*" }] },
      }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, "ERR_INVALID_OPTIONS");
      for (const path of ["event[1]", "upstream"]) assert.ok(err.message.includes(`- ${path}:`), `${path} in ${err.message}`);
      return true;
    },
  );
  assert.throws(() => new Verge({ script: "export default {}", distribution: {} }), /distribution: a distribution needs an origin/);
  assert.throws(() => new Verge({ script: "export default {}", event: ["origin-request"] }), /event: several events need `upstream`/);
  assert.throws(
    () => new Verge({ script: "export default {}", upstream: "http://127.0.0.1:9", distribution: { ttl: { min: 10, max: 5 }, behaviors: [{ pathPattern: "/*" }], origin: { readTimeoutMs: 0 } } }),
    (err: Error) => {
      for (const path of ["distribution.ttl.max", "distribution.behaviors[0].pathPattern", "distribution.origin.readTimeoutMs"]) assert.ok(err.message.includes(`- ${path}:`), `${path} in ${err.message}`);
      return true;
    },
  );
});

test("setOptions swaps the function; the new one starts with an empty cache", async (t) => {
  const o = await origin(t);
  const stamp = (v: string): string => lambda(`cf.response.headers["x-version"] = [{ key: "X-Version", value: "${v}" }]; return cf.response;`);
  const v = verge(t, { script: stamp("1"), event: "origin-response", upstream: o.url });
  assert.equal((await v.dispatchFetch("http://site.test/a")).headers.get("x-version"), "1");
  await v.setOptions({ script: stamp("2"), event: "origin-response", upstream: o.url });
  const after = await v.dispatchFetch("http://site.test/a");
  assert.equal(after.headers.get("x-version"), "2");
  assert.equal(after.headers.get("x-verge-cache"), "Miss");
});

test("without upstream nothing changes, and a failed call's report is there", async (t) => {
  const v = verge(t, { modules: true, script: `export default { fetch() { console.log("before"); throw new Error("nope"); } }` });
  let caught: unknown;
  await v.dispatchFetch("http://localhost/").catch((err) => (caught = err));
  assert.equal((caught as { code: string }).code, "ERR_FUNCTION_EXCEPTION");
  const report = await failureReport(caught);
  assert.ok(report, "the error carries its invocation's report");
  assert.deepEqual(report.logs.map((l) => l.message), ["before"]);
  assert.equal(report.limits.cpuMs.limit, 50);
  assert.equal(v.lastReport, report);

  const through = verge(t, { script: lambda(`return cf.request;`) });
  await assert.rejects(through.dispatchFetch("http://localhost/"), { code: "ERR_NO_UPSTREAM" });
});

test("the process running the pipeline dies mid-request (as on a V8 abort): a 503 for that request, the next one is served", async (t) => {
  let arrived!: () => void;
  const inFlight = new Promise<void>((r) => (arrived = r));
  const o = await origin(t, (req, res) => {
    if (req.url === "/hang") return arrived(); // never answered: the child dies first
    res.end(`origin ${req.url}`);
  });
  const v = verge(t, { script: lambda(`return cf.request;`), upstream: o.url });
  assert.equal(await (await v.dispatchFetch("http://site.test/warm")).text(), "origin /warm");
  const pending = v.dispatchFetch("http://site.test/hang");
  await inFlight;
  const children = harnessChildren();
  assert.equal(children.length, 1, `one child: ${children.join(", ")}`);
  process.kill(children[0]!, "SIGKILL");
  const res = await pending;
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("x-verge-error"), "ERR_RUNTIME_CRASHED");
  assert.ok(res.headers.get("x-verge-request-id"));
  const next = await v.dispatchFetch("http://site.test/after");
  assert.equal(await next.text(), "origin /after");
  assert.equal(next.headers.get("x-verge-cache"), "Miss");
  assert.notDeepEqual(harnessChildren(), children, "a new process serves");
});
