/**
 * Issue 4 end to end over real HTTP: a registry, 2 edge nodes and a real origin
 * web server, all on port 0. Every row of the Lambda@Edge event semantics, the
 * response cache (hit, miss, revalidation, Vary, purge), header rules, body
 * exposure, error mapping and propagation of a new version.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startFleet, startWebOrigin, lambda, type Fleet, type TestWebOrigin } from "../helpers/fleet.ts";

let fleet: Fleet;
let origin: TestWebOrigin;
let whoamiDigest: string;
const HOST = "shop.test";

/** Counts origin requests whose path starts with `prefix`. */
const originHits = (prefix: string) => origin.seen.filter((s) => s.url.startsWith(prefix)).length;

const add = (name: string, value: string, target: "request" | "response") =>
  lambda(`const r = cf.${target}; r.headers[${JSON.stringify(name)}] = [{ key: ${JSON.stringify(name)}, value: ${JSON.stringify(value)} }]; return r;`);

before(async () => {
  origin = await startWebOrigin((req, res, body) => {
    const url = new URL(req.url ?? "/", "http://o");
    if (url.pathname.startsWith("/missing")) {
      res.writeHead(404, { "cache-control": "max-age=60" }).end("not here");
      return;
    }
    if (url.pathname.startsWith("/vary")) {
      res.writeHead(200, { "cache-control": "max-age=60", vary: "accept-language" }).end(`lang=${req.headers["accept-language"] ?? "none"}`);
      return;
    }
    if (url.pathname.startsWith("/etag")) {
      if (req.headers["if-none-match"] === '"v1"') {
        res.writeHead(304, { etag: '"v1"', "cache-control": "max-age=0" }).end();
        return;
      }
      res.writeHead(200, { etag: '"v1"', "cache-control": "max-age=0" }).end("etag body");
      return;
    }
    if (url.pathname.startsWith("/worker/longer")) {
      const text = `origin ${url.pathname} ${body.length}`;
      res.writeHead(200, { "content-length": String(Buffer.byteLength(text)) }).end(text);
      return;
    }
    if (url.pathname.startsWith("/slow")) {
      setTimeout(() => res.writeHead(200).end("late"), 1500);
      return;
    }
    res.writeHead(200, { "content-type": "text/plain", "cache-control": "max-age=60", "x-origin-saw-vreq": String(req.headers["x-vreq"] ?? ""), "x-origin-saw-oreq": String(req.headers["x-oreq"] ?? ""), "x-origin-saw-tag": String(req.headers["x-tag-viewer-request"] ?? "") });
    res.end(`origin ${url.pathname} ${body.length}`);
  });
  fleet = await startFleet({ nodes: 2 });
  await fleet.publish("vreq", add("x-vreq", "1", "request"));
  await fleet.publish("oreq", add("x-oreq", "1", "request"));
  await fleet.publish("ores", add("x-ores", "1", "response"));
  await fleet.publish("vres", add("x-vres", "1", "response"));
  await fleet.publish("vgen", lambda(`return { status: "200", headers: { "cache-control": [{ key: "Cache-Control", value: "max-age=60" }] }, body: "generated at viewer-request" };`));
  await fleet.publish("ogen", lambda(`return { status: "200", headers: { "cache-control": [{ key: "Cache-Control", value: "max-age=60" }] }, body: "generated at origin-request " + Date.now() };`));
  await fleet.publish("status", lambda(`const r = cf.response; r.status = "201"; return r;`));
  await fleet.publish("readonly", lambda(`const r = cf.request; r.headers["via"] = [{ key: "Via", value: "evil" }]; return r;`));
  await fleet.publish("throws", lambda(`throw new Error("boom at the edge");`));
  await fleet.publish("spin", lambda(`for (;;) {}`), { cpuMs: 20 });
  await fleet.publish("badresult", lambda(`return { status: "999" };`));
  whoamiDigest = await fleet.publish("whoami", lambda(`return { status: "200", body: JSON.stringify({ ...context }) };`));
  await fleet.publish("echo", lambda(`const b = cf.request.body; return { status: "200", body: JSON.stringify({ truncated: b.inputTruncated, encoding: b.encoding, length: Buffer_length(b.data) }) }; function Buffer_length(d) { return d.length / 4 * 3 - (d.endsWith("==") ? 2 : d.endsWith("=") ? 1 : 0); }`));
  await fleet.publish(
    "worker",
    `export default { async fetch(request) {
      const url = new URL(request.url);
      if (url.pathname === "/worker/self") return new Response("answered by the worker", { headers: { "x-worker": "self" } });
      if (url.pathname.startsWith("/worker/longer")) {
        // A longer body under the origin's headers (its Content-Length among them), in memory or streamed.
        const origin = await fetch(request);
        const text = (await origin.text()) + " and more";
        if (url.pathname.endsWith("/bytes")) return new Response(text, origin);
        return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(text)); c.close(); } }), origin);
      }
      const res = await fetch(request);
      const copy = new Response(res.body, res);
      copy.headers.set("x-worker", "passed");
      return copy;
    } };`,
  );
  // Workers handlers at the response events: a module at origin-response, a service worker at viewer-response.
  await fleet.publish(
    "wores",
    `export default { async fetch(request) {
      const res = await fetch(request);
      const out = new Response(res.body, res);
      out.headers.set("x-wores", res.status + " " + new URL(request.url).pathname);
      return out;
    } };`,
  );
  await fleet.publish(
    "wvres",
    `addEventListener("fetch", (event) => event.respondWith((async () => {
      const path = new URL(event.request.url).pathname;
      if (path.endsWith("/own")) return new Response("made at viewer-response", { headers: { "x-wvres": "own" } });
      const res = await fetch(event.request);
      if (path.endsWith("/status")) return new Response(res.body, { status: 201, headers: res.headers });
      const out = new Response((await res.text()).toUpperCase(), res);
      out.headers.set("x-wvres", event.request.url + " " + res.headers.get("x-wores"));
      return out;
    })()));`,
  );
  const fn = (name: string, includeBody = false) => ({ function: name, alias: "live", includeBody });
  const b = (pathPattern: string, functions: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ pathPattern, originId: "web", functions, ...extra });
  const seq = await fleet.distribution("shop", {
    hostnames: [HOST],
    origins: [{ id: "web", url: origin.url, connectTimeoutMs: 1000, readTimeoutMs: 500, customHeaders: { "x-custom": "from-distribution" } }],
    behaviors: [
      b("/vgen/*", { "viewer-request": fn("vgen"), "viewer-response": fn("vres") }),
      b("/ogen/*", { "origin-request": fn("ogen"), "origin-response": fn("ores"), "viewer-response": fn("vres") }),
      b("/full/*", { "viewer-request": fn("vreq"), "origin-request": fn("oreq"), "origin-response": fn("ores"), "viewer-response": fn("vres") }),
      b("/missing*", { "viewer-response": fn("vres") }),
      b("/status/*", { "viewer-response": fn("status") }),
      b("/readonly/*", { "viewer-request": fn("readonly") }),
      b("/throws/*", { "viewer-request": fn("throws") }),
      b("/spin/*", { "viewer-request": fn("spin") }),
      b("/badresult/*", { "viewer-request": fn("badresult") }),
      b("/whoami/*", { "viewer-request": fn("whoami") }),
      b("/echo/*", { "viewer-request": fn("echo", true) }),
      b("/worker/*", { "viewer-request": fn("worker") }),
      b("/wres/*", { "origin-response": fn("wores"), "viewer-response": fn("wvres") }),
      b("/vary*", {}, { cacheKey: { queryStrings: { behavior: "none", items: [] }, headers: { behavior: "none", items: [] }, cookies: { behavior: "none", items: [] } } }),
    ],
    defaultBehavior: { originId: "web", functions: {} },
  });
  await fleet.waitApplied(seq);
});

after(async () => {
  await fleet?.close();
  await origin?.close();
});

test("a Lambda@Edge handler's context names the function, its version, the tenant and the node it runs on", async () => {
  for (const node of [0, 1]) {
    const r = await fleet.get(node, HOST, "/whoami/x");
    assert.equal(r.status, 200, r.body);
    const context = JSON.parse(r.body) as Record<string, string>;
    assert.equal(context.functionName, "whoami");
    assert.equal(context.functionVersion, whoamiDigest);
    assert.equal(context.invokedFunctionArn, `arn:verge:lambda:region-${node}:${fleet.tenant}:function:whoami:${whoamiDigest}`);
    assert.equal(context.logGroupName, `/verge/lambda/${fleet.tenant}/whoami`);
    assert.match(context.logStreamName!, new RegExp(`^\\d{4}/\\d{2}/\\d{2}/\\[${whoamiDigest}\\]node-${node}$`));
    assert.equal(context.awsRequestId, r.headers["x-verge-request-id"]);
  }
});

test("an unknown Host gets 404 ERR_NO_DISTRIBUTION with a request id", async () => {
  const r = await fleet.get(0, "nobody.test", "/");
  assert.equal(r.status, 404);
  assert.equal(r.headers["x-verge-error"], "ERR_NO_DISTRIBUTION");
  assert.ok(r.headers["x-verge-request-id"]);
});

test("all four events run on a miss; a hit runs only the viewer events", async () => {
  const first = await fleet.get(0, HOST, "/full/a");
  assert.equal(first.status, 200);
  assert.equal(first.headers["x-verge-cache"], "Miss");
  assert.equal(first.headers["x-origin-saw-vreq"], "1");
  assert.equal(first.headers["x-origin-saw-oreq"], "1");
  assert.equal(first.headers["x-ores"], "1");
  assert.equal(first.headers["x-vres"], "1");
  const seen = originHits("/full/a");
  const second = await fleet.get(0, HOST, "/full/a");
  assert.equal(second.headers["x-verge-cache"], "Hit");
  assert.equal(originHits("/full/a"), seen, "a hit does not reach the origin");
  assert.equal(second.headers["x-vres"], "1", "viewer-response runs on a hit");
  assert.equal(second.body, first.body);
});

test("the origin request carries x-forwarded-for, via, the origin's host and the custom headers", async () => {
  await fleet.get(0, HOST, "/plain/headers", { headers: { "x-forwarded-for": "203.0.113.9", connection: "keep-alive, x-hop", "x-hop": "drop me" } });
  const seen = origin.seen.findLast((s) => s.url === "/plain/headers")!;
  assert.match(String(seen.headers["x-forwarded-for"]), /^203\.0\.113\.9, 127\.0\.0\.1$/);
  assert.match(String(seen.headers.via), /node-0/);
  assert.equal(seen.headers.host, `127.0.0.1:${origin.port}`);
  assert.equal(seen.headers["x-custom"], "from-distribution");
  assert.equal(seen.headers["x-hop"], undefined, "headers named in Connection are hop-by-hop");
});

test("a response generated at viewer-request is not cached and skips viewer-response", async () => {
  const a = await fleet.get(0, HOST, "/vgen/x");
  const b = await fleet.get(0, HOST, "/vgen/x");
  for (const r of [a, b]) {
    assert.equal(r.status, 200);
    assert.equal(r.body, "generated at viewer-request");
    assert.equal(r.headers["x-vres"], undefined);
    assert.notEqual(r.headers["x-verge-cache"], "Hit");
  }
  assert.equal(originHits("/vgen"), 0);
});

test("a response generated at origin-request is cached and skips origin-response", async () => {
  const a = await fleet.get(1, HOST, "/ogen/x");
  assert.equal(a.headers["x-verge-cache"], "Miss");
  assert.match(a.body, /^generated at origin-request/);
  assert.equal(a.headers["x-ores"], undefined, "origin-response is skipped");
  assert.equal(a.headers["x-vres"], "1", "viewer-response runs");
  const b = await fleet.get(1, HOST, "/ogen/x");
  assert.equal(b.headers["x-verge-cache"], "Hit");
  assert.equal(b.body, a.body);
  assert.equal(originHits("/ogen"), 0);
});

test("viewer-response is skipped when the origin answered ≥ 400", async () => {
  const r = await fleet.get(0, HOST, "/missing");
  assert.equal(r.status, 404);
  assert.equal(r.headers["x-vres"], undefined);
});

test("viewer-response may not change the status: 502 ERR_INVALID_RESULT", async () => {
  const r = await fleet.get(0, HOST, "/status/x");
  assert.equal(r.status, 502);
  assert.equal(r.headers["x-verge-error"], "ERR_INVALID_RESULT");
});

test("Workers handlers at origin-response and viewer-response: fetch(request) is the response at hand, their answers replace it", async () => {
  const first = await fleet.get(0, HOST, "/wres/a");
  assert.equal(first.status, 200);
  assert.equal(first.headers["x-verge-cache"], "Miss");
  assert.equal(first.body, "ORIGIN /WRES/A 0");
  assert.equal(first.headers["x-wores"], "200 /wres/a");
  assert.equal(first.headers["x-wvres"], `http://${HOST}/wres/a 200 /wres/a`, "viewer-response saw the viewer's URL and origin-response's answer");
  const second = await fleet.get(0, HOST, "/wres/a");
  assert.equal(second.headers["x-verge-cache"], "Hit");
  assert.equal(second.headers["x-wores"], "200 /wres/a", "origin-response's answer was cached");
  assert.equal(second.body, "ORIGIN /WRES/A 0", "viewer-response runs on a hit");
  assert.equal(originHits("/wres/a"), 1, "fetch(request) at the response events went nowhere");

  const own = await fleet.get(1, HOST, "/wres/own");
  assert.equal(own.status, 200);
  assert.equal(own.body, "made at viewer-response");
  assert.equal(own.headers["x-wvres"], "own");
  assert.equal(own.headers["x-wores"], undefined, "the response at hand was replaced");

  const status = await fleet.get(1, HOST, "/wres/status");
  assert.equal(status.status, 502, "viewer-response may not change the status");
  assert.equal(status.headers["x-verge-error"], "ERR_INVALID_RESULT");
});

test("changing a read-only header is an invalid result (502)", async () => {
  const r = await fleet.get(0, HOST, "/readonly/x");
  assert.equal(r.status, 502);
  assert.equal(r.headers["x-verge-error"], "ERR_INVALID_RESULT");
});

test("errors map as Lambda@Edge maps them, each with a request id", async () => {
  const cases: Array<[string, number, string]> = [
    ["/throws/x", 503, "ERR_FUNCTION_EXCEPTION"],
    ["/spin/x", 503, "ERR_CPU_LIMIT"],
    ["/badresult/x", 502, "ERR_INVALID_RESULT"],
  ];
  for (const [path, status, code] of cases) {
    const r = await fleet.get(0, HOST, path);
    assert.equal(r.status, status, path);
    assert.equal(r.headers["x-verge-error"], code, path);
    assert.ok(r.headers["x-verge-request-id"], path);
  }
  const ok = await fleet.get(0, HOST, "/full/after-errors");
  assert.equal(ok.status, 200, "the node still serves after a CPU kill");
});

test("/_verge/metrics counts the CPU and wall time of failed invocations (a CPU kill used its whole budget)", async () => {
  const r = await fleet.get(1, HOST, "/spin/metrics");
  assert.equal(r.headers["x-verge-error"], "ERR_CPU_LIMIT");
  const sample = (text: string, metric: string) => Number(new RegExp(`^${metric}\\{[^}]*function="spin@[0-9a-f]{12}"[^}]*\\} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
  // The record (and so the metrics) comes once the error response went out and the invocation's report settled.
  const deadline = Date.now() + 10_000;
  let text = "";
  while (!(sample(text, "verge_function_cpu_ms_count") >= 1)) {
    if (Date.now() > deadline) assert.fail(`no spin invocation in the metrics:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    text = await (await fetch(`${fleet.nodes[1]!.url}/_verge/metrics`)).text();
  }
  assert.ok(sample(text, "verge_function_cpu_ms_sum") >= 20, `CPU of a kill past its 20 ms budget: ${sample(text, "verge_function_cpu_ms_sum")}`);
  assert.ok(sample(text, "verge_function_wall_ms_sum") >= 20);
});

test("an include-body association exposes the body base64, truncated at the profile's limit (1 MiB under the Workers profile)", async () => {
  const small = JSON.parse((await fleet.get(0, HOST, "/echo/x", { method: "POST", body: "hello" })).body);
  assert.deepEqual(small, { truncated: false, encoding: "base64", length: 5 });
  const bigReply = await fleet.get(0, HOST, "/echo/x", { method: "POST", body: "x".repeat(1536 * 1024) });
  const big = JSON.parse(bigReply.body);
  assert.equal(bigReply.status, 200, bigReply.body);
  assert.equal(big.truncated, true);
  assert.equal(big.length, 1024 * 1024);
});

test("a Workers fetch handler answers itself or continues through cache and origin with fetch(request)", async () => {
  const self = await fleet.get(0, HOST, "/worker/self");
  assert.equal(self.body, "answered by the worker");
  const a = await fleet.get(0, HOST, "/worker/pass");
  assert.equal(a.headers["x-worker"], "passed");
  assert.equal(a.body, "origin /worker/pass 0");
  const hits = originHits("/worker/pass");
  const b = await fleet.get(0, HOST, "/worker/pass");
  assert.equal(b.body, a.body);
  assert.equal(originHits("/worker/pass"), hits, "the second fetch(request) is a cache hit");
});

test("a Workers answer is framed by its own body, not by a Content-Length it copied from a fetched response", async () => {
  for (const kind of ["bytes", "stream"]) {
    const r = await fleet.get(0, HOST, `/worker/longer/${kind}`);
    assert.equal(r.status, 200);
    assert.equal(r.body, `origin /worker/longer/${kind} 0 and more`, kind);
    if (r.headers["content-length"] !== undefined) assert.equal(Number(r.headers["content-length"]), Buffer.byteLength(r.body), kind);
  }
  // The connection is still in step: another request on it is answered.
  assert.equal((await fleet.get(0, HOST, "/worker/self")).body, "answered by the worker");
});

test("Vary: one entry per accept-language", async () => {
  const en = await fleet.get(1, HOST, "/vary", { headers: { "accept-language": "en" } });
  const fr = await fleet.get(1, HOST, "/vary", { headers: { "accept-language": "fr" } });
  assert.equal(en.body, "lang=en");
  assert.equal(fr.body, "lang=fr");
  const en2 = await fleet.get(1, HOST, "/vary", { headers: { "accept-language": "en" } });
  assert.equal(en2.body, "lang=en");
  assert.equal(en2.headers["x-verge-cache"], "Hit");
});

test("a stale entry with an ETag is revalidated: 304 from the origin gives RefreshHit", async () => {
  const a = await fleet.get(0, HOST, "/etag");
  assert.equal(a.body, "etag body");
  const b = await fleet.get(0, HOST, "/etag");
  assert.equal(b.headers["x-verge-cache"], "RefreshHit");
  assert.equal(b.body, "etag body");
  assert.equal(origin.seen.findLast((s) => s.url === "/etag")!.headers["if-none-match"], '"v1"');
});

test("a purge through the registry's feed drops cached entries by prefix on every node", async () => {
  await fleet.get(0, HOST, "/full/purge-me");
  await fleet.get(1, HOST, "/full/purge-me");
  assert.equal((await fleet.get(0, HOST, "/full/purge-me")).headers["x-verge-cache"], "Hit");
  const r = await fleet.registry.call("POST", `/v1/tenants/${fleet.tenant}/distributions/shop/purge`, { token: fleet.tenantToken, json: { prefix: "/full/purge" } });
  assert.ok(r.status < 300, JSON.stringify(r.body));
  await fleet.waitApplied();
  for (const i of [0, 1]) assert.equal((await fleet.get(i, HOST, "/full/purge-me")).headers["x-verge-cache"], "Miss", `node ${i}`);
});

test("origin timeouts are 504 ERR_ORIGIN_TIMEOUT; an unreachable origin is 502 ERR_ORIGIN_UNREACHABLE", async () => {
  const slow = await fleet.get(0, HOST, "/slow");
  assert.equal(slow.status, 504);
  assert.equal(slow.headers["x-verge-error"], "ERR_ORIGIN_TIMEOUT");
  const dead = await startWebOrigin(() => {});
  const port = dead.port;
  await dead.close();
  const seq = await fleet.distribution("down", { hostnames: ["down.test"], origins: [{ id: "gone", url: `http://127.0.0.1:${port}` }], behaviors: [], defaultBehavior: { originId: "gone", functions: {} } });
  await fleet.waitApplied(seq);
  const r = await fleet.get(0, "down.test", "/");
  assert.equal(r.status, 502);
  assert.equal(r.headers["x-verge-error"], "ERR_ORIGIN_UNREACHABLE");
});

test("a new version reaches every node, and no request mixes versions across its events", async () => {
  const tag = (v: string) => lambda(`const r = cf.response ?? cf.request; r.headers["x-tag-" + cf.config.eventType] = [{ key: "x-tag-" + cf.config.eventType, value: ${JSON.stringify(v)} }]; return r;`);
  await fleet.publish("tagger", tag("one"));
  const seq = await fleet.distribution("tags", {
    hostnames: ["tags.test"],
    origins: [{ id: "web", url: origin.url }],
    behaviors: [],
    defaultBehavior: { originId: "web", ttl: { min: 0, default: 0, max: 0 }, functions: { "viewer-request": { function: "tagger", alias: "live", includeBody: false }, "viewer-response": { function: "tagger", alias: "live", includeBody: false } } },
  });
  await fleet.waitApplied(seq);
  // A path per request: concurrent misses of one key are collapsed into one origin fetch (as
  // CloudFront does), and a request answered from another's fetch carries that request's tag.
  let n = 0;
  const path = () => `/t/${n++}`;
  const check = (r: { headers: Record<string, unknown> }) => {
    // The viewer-request tag went to the origin, which echoes it; the viewer-response tag is added on the way out.
    assert.equal(r.headers["x-origin-saw-tag"], r.headers["x-tag-viewer-response"], "one request, one version");
    return r.headers["x-tag-viewer-response"] as string;
  };
  assert.equal(check(await fleet.get(0, "tags.test", path())), "one");
  const inFlight: Array<Promise<{ status: number; headers: Record<string, unknown> }>> = [];
  const load = setInterval(() => {
    for (const i of [0, 1]) inFlight.push(fleet.get(i, "tags.test", path()));
  }, 2);
  await fleet.publish("tagger", tag("two"));
  await fleet.waitApplied();
  clearInterval(load);
  const results = await Promise.all(inFlight);
  for (const r of results) {
    assert.equal(r.status, 200);
    check(r);
  }
  for (const i of [0, 1]) assert.equal(check(await fleet.get(i, "tags.test", path())), "two", `node ${i} serves the new version`);
  const seenByOrigin = origin.seen.filter((s) => s.url.startsWith("/t/")).map((s) => s.headers["x-tag-viewer-request"]);
  assert.ok(seenByOrigin.includes("one") && seenByOrigin.includes("two"));
});
