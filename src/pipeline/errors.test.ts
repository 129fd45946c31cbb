/** Error mapping (DESIGN.md §3): 502 for invalid results and origin failures, 503 for runs that fail, 504 for a slow origin; logs and records. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createHostServices, createRuntime, type Runtime } from "../runtime/index.ts";
import { testDistribution } from "./testing.ts";
import { createTestEdge, lambda, startOrigin, until, type TestEdge, type TestOrigin } from "./testing-edge.ts";

let runtime: Runtime;
let origin: TestOrigin;
const held: http.ServerResponse[] = [];

before(async () => {
  runtime = createRuntime({ services: createHostServices({ fetch: { allowPrivateAddresses: true } }) });
  origin = await startOrigin((req, res) => {
    if (req.url === "/hold") held.push(res);
    else if (req.url === "/never") return; // never answers
    else res.end("fine");
  });
});
after(async () => {
  for (const r of held) r.end();
  await origin.close();
  runtime.dispose();
});

function viewerRequestEdge(code: string, options: Parameters<TestEdge["state"]["addVersion"]>[2] = {}, originUrl = origin.url) {
  const edge = createTestEdge(runtime);
  const digest = edge.state.addVersion("fn", code, options);
  edge.state.putDistribution(testDistribution({ originUrl, functions: { "viewer-request": { function: "fn", version: digest, includeBody: false } } }));
  return { edge, digest };
}

async function expectError(res: Response, status: number, code: string): Promise<void> {
  assert.equal(res.status, status);
  assert.equal(res.headers.get("x-verge-error"), code);
  assert.ok(res.headers.get("x-verge-request-id"));
  const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
  assert.equal(body.error.code, code);
  assert.equal(body.error.requestId, res.headers.get("x-verge-request-id"));
}

test("an exception is a 503 ERR_FUNCTION_EXCEPTION; the viewer never sees the message, the log does", async () => {
  const { edge, digest } = viewerRequestEdge(lambda(`throw new Error("secret-token-123 leaked");`));
  const res = await edge.request("/");
  const text = await res.clone().text();
  assert.ok(!text.includes("secret-token-123"));
  await expectError(res, 503, "ERR_FUNCTION_EXCEPTION");
  const line = await edge.logLine((l) => l["code"] === "ERR_FUNCTION_EXCEPTION");
  assert.match(String(line["message"]), /secret-token-123/);
  assert.equal(line["digest"], digest);
  assert.equal(line["event"], "viewer-request");
  const record = await edge.record();
  assert.equal(record.status, 503);
  assert.equal(record.error?.code, "ERR_FUNCTION_EXCEPTION");
  assert.equal(record.invocations[0]!.error, "ERR_FUNCTION_EXCEPTION");
  await edge.close();
});

test("a CPU loop is killed: 503 ERR_CPU_LIMIT", async () => {
  const { edge } = viewerRequestEdge(lambda(`while (true) {}`), { config: { cpuMs: 20 } });
  await expectError(await edge.request("/"), 503, "ERR_CPU_LIMIT");
  await edge.close();
});

test("a failed invocation's CPU and wall time are in its record and its log line, not 0", async () => {
  const spin = "const t = Date.now(); while (Date.now() - t < 5) {}";
  const cases: Array<[string, string, Parameters<TestEdge["state"]["addVersion"]>[2]]> = [
    ["ERR_FUNCTION_EXCEPTION", lambda(`${spin} throw new Error("after some work");`), {}],
    ["ERR_CPU_LIMIT", lambda(`while (true) {}`), { config: { cpuMs: 20 } }],
    ["ERR_INVALID_RESULT", lambda(`${spin} return 42;`), {}],
  ];
  for (const [code, source, options] of cases) {
    const { edge } = viewerRequestEdge(source, options);
    const res = await edge.request("/");
    assert.equal(res.headers.get("x-verge-error"), code);
    await res.arrayBuffer();
    const inv = (await edge.record()).invocations[0]!;
    assert.equal(inv.error, code);
    assert.ok(inv.cpuMs > 0 && inv.wallMs > 0, `${code}: the record has what the invocation used (${inv.cpuMs} ms CPU, ${inv.wallMs} ms wall)`);
    if (code === "ERR_CPU_LIMIT") assert.ok(inv.cpuMs >= 20, `killed past its 20 ms CPU budget, recorded ${inv.cpuMs}`);
    const line = await edge.logLine((l) => l["code"] === code);
    assert.equal(line["cpuMs"], inv.cpuMs);
    assert.equal(line["wallMs"], inv.wallMs);
    await edge.close();
  }
  // A version that never ran has nothing to report.
  const { edge, digest } = viewerRequestEdge(lambda(`return cf.request;`));
  edge.quarantine.add(digest);
  await (await edge.request("/")).arrayBuffer();
  const inv = (await edge.record()).invocations[0]!;
  assert.deepEqual([inv.error, inv.cpuMs, inv.wallMs], ["ERR_FUNCTION_QUARANTINED", 0, 0]);
  assert.equal((await edge.logLine((l) => l["code"] === "ERR_FUNCTION_QUARANTINED"))["cpuMs"], undefined);
  await edge.close();
});

test("a result that is neither a request nor a response is a 502 ERR_INVALID_RESULT", async () => {
  const { edge } = viewerRequestEdge(lambda(`return 42;`));
  await expectError(await edge.request("/"), 502, "ERR_INVALID_RESULT");
  await edge.close();
});

test("an origin that refuses connections is a 502 ERR_ORIGIN_UNREACHABLE; one that does not answer in its read timeout a 504", async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const edge = createTestEdge(runtime);
  edge.state.putDistribution(testDistribution({ originUrl: `http://127.0.0.1:${port}` }));
  await expectError(await edge.request("/"), 502, "ERR_ORIGIN_UNREACHABLE");
  assert.equal((await edge.record()).error?.code, "ERR_ORIGIN_UNREACHABLE");

  edge.state.putDistribution(testDistribution({ originUrl: origin.url, origin: { readTimeoutMs: 200 } }));
  const started = Date.now();
  await expectError(await edge.request("/never"), 504, "ERR_ORIGIN_TIMEOUT");
  assert.ok(Date.now() - started < 5_000);

  edge.state.putDistribution(testDistribution({ originUrl: "http://no-such-host.invalid" }));
  await expectError(await edge.request("/"), 502, "ERR_ORIGIN_UNREACHABLE");
  await edge.close();
});

test("a quarantined version answers 503 ERR_FUNCTION_QUARANTINED without running", async () => {
  const { edge, digest } = viewerRequestEdge(lambda(`return cf.request;`));
  edge.quarantine.add(digest);
  const seen = origin.seen.length;
  await expectError(await edge.request("/"), 503, "ERR_FUNCTION_QUARANTINED");
  const record = await edge.record();
  assert.deepEqual(record.invocations.map((i) => [i.digest, i.error, i.cpuMs]), [[digest, "ERR_FUNCTION_QUARANTINED", 0]]);
  assert.equal(origin.seen.length, seen);
  await edge.close();
});

test("beyond a function's reserved concurrency: 503 ERR_THROTTLED; the slot frees when the invocation ends", async () => {
  const { edge } = viewerRequestEdge(lambda(`await fetch("${origin.url}/hold"); return cf.request;`), { config: { reservedConcurrency: 1 } });
  const first = edge.request("/a");
  await until(() => held.length === 1);
  assert.deepEqual(edge.pipeline.inFlight(), { "acme/fn": 1 });
  await expectError(await edge.request("/b"), 503, "ERR_THROTTLED");
  held.shift()!.end("released");
  const res = await first;
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  await until(() => Object.keys(edge.pipeline.inFlight()).length === 0);
  const third = edge.request("/c");
  await until(() => held.length === 1);
  held.shift()!.end();
  assert.equal((await third).status, 200);
  await edge.close();

  const { edge: none } = viewerRequestEdge(lambda(`return cf.request;`), { config: { reservedConcurrency: 0 } });
  await expectError(await none.request("/"), 503, "ERR_THROTTLED");
  await none.close();
});

test("a version whose bundle is unavailable or whose signature is refused answers 503", async () => {
  const { edge, digest } = viewerRequestEdge(lambda(`return cf.request;`));
  edge.state.failLoad(digest, "ERR_BUNDLE_UNAVAILABLE");
  await expectError(await edge.request("/"), 503, "ERR_BUNDLE_UNAVAILABLE");
  edge.state.failLoad(digest, "ERR_SIGNATURE_INVALID");
  await expectError(await edge.request("/"), 503, "ERR_SIGNATURE_INVALID");
  edge.state.failLoad(digest, null);
  assert.equal((await edge.request("/")).status, 200);
  await edge.close();
});

test("an alias that is gone answers 503 ERR_FUNCTION_NOT_FOUND; an unknown host 404 ERR_NO_DISTRIBUTION", async () => {
  const edge = createTestEdge(runtime);
  edge.state.addVersion("fn", lambda(`return cf.request;`));
  edge.state.putDistribution(testDistribution({ originUrl: origin.url, functions: { "viewer-request": { function: "fn", alias: "live", includeBody: false } } }));
  await expectError(await edge.request("/"), 503, "ERR_FUNCTION_NOT_FOUND");
  await expectError(await edge.request("/", { host: "other.test" }), 404, "ERR_NO_DISTRIBUTION");
  const head = await edge.request("/", { host: "other.test", method: "HEAD" });
  assert.equal(head.status, 404);
  assert.equal(await head.text(), "");
  await edge.close();
});

test("each request is recorded once, with its invocations' times once they settle", async () => {
  const { edge, digest } = viewerRequestEdge(lambda(`return cf.request;`));
  const res = await edge.request("/recorded?x=1");
  assert.equal(await res.text(), "fine");
  const record = await edge.record();
  assert.equal(record.requestId, res.headers.get("x-verge-request-id"));
  assert.equal(record.method, "GET");
  assert.equal(record.host, "site.test");
  assert.equal(record.path, "/recorded");
  assert.equal(record.status, 200);
  assert.equal(record.cache, "Miss");
  assert.equal(record.distribution, "acme/site");
  assert.equal(record.bytesOut, 4);
  assert.equal(record.error, undefined);
  assert.equal(record.invocations.length, 1);
  const inv = record.invocations[0]!;
  assert.equal(inv.digest, digest);
  assert.equal(inv.function, "fn");
  assert.equal(inv.cold, true);
  assert.ok(inv.wallMs > 0, "the invocation's report had settled by the end of the body");
  const again = await edge.request("/recorded?x=1");
  await again.arrayBuffer();
  assert.equal((await edge.record()).invocations[0]!.cold, false);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(edge.records.length, 2);
  await edge.close();
});
