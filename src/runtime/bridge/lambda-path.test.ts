/**
 * The Lambda@Edge path of the bridge: the event and context cross into the
 * isolate as JSON text, the handler's value crosses back as JSON text
 * (GuestApi.dispatchCloudFront; posted in the shared mailbox when it fits,
 * else HostBridge.result). Each must give what the
 * object-copying path gave, and a value JSON cannot hold is an invalid result.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRuntime } from "../runtime.ts";
import { createHostServices } from "../services.ts";
import { resolveLimits } from "../../shared/limits.ts";
import { buildCloudFrontEvent, type CloudFrontEvent } from "../../shared/cloudfront/index.ts";

const services = createHostServices();
const runtime = createRuntime({ services });
test.after(async () => {
  runtime.dispose();
  await services.close();
});

const spec = (id: string, code: string, wallMs = 5_000) => ({ source: { id, code, format: "esm" as const }, limits: resolveLimits({ cpuMs: 2_000, wallMs }), env: {}, bindings: {} });

function viewerRequest(headers: Array<[string, string]> = [["host", "site.test"]], url = "https://site.test/a%20b?x=1&y=%C3%A9"): CloudFrontEvent {
  return buildCloudFrontEvent({ eventType: "viewer-request", request: { method: "GET", url, headers, body: null }, clientIp: "203.0.113.9", distribution: { domainName: "site.test", id: "D1" } }) as CloudFrontEvent;
}

test("the event arrives whole (unicode, quotes, empty values) and the returned request comes back as the function made it", async () => {
  const headers: Array<[string, string]> = [
    ["host", "site.test"],
    ["x-quoted", 'a "b" \\ c'],
    ["x-unicode", "é ✓ \u2028"],
    ["x-empty", ""],
  ];
  const echo = spec(
    "lambda-echo",
    `export const handler = async (event, context) => {
      const r = event.Records[0].cf.request;
      r.headers["x-seen"] = [{ key: "X-Seen", value: JSON.stringify({ event, fn: context.functionName, rid: context.awsRequestId }) }];
      r.uri = "/ünï";
      return r;
    };`,
  );
  const event = viewerRequest(headers);
  const r = await runtime.event(echo, event);
  assert.equal(r.kind, "request");
  const result = r.result as { uri: string; headers: Record<string, Array<{ key: string; value: string }>> };
  assert.equal(result.uri, "/ünï");
  const seen = JSON.parse(result.headers["x-seen"]![0]!.value) as { event: unknown; fn: string; rid: string };
  assert.deepEqual(seen.event, event);
  assert.equal(seen.fn, "lambda-echo");
  assert.equal(seen.rid, event.Records[0]!.cf.config.requestId);
  assert.deepEqual(result.headers["x-unicode"], [{ key: "X-Unicode", value: "é ✓ \u2028" }]);
  assert.deepEqual(result.headers["x-quoted"], [{ key: "X-Quoted", value: 'a "b" \\ c' }]);
  await r.finished;
});

test("what JSON drops is dropped: toJSON is honoured, undefined fields disappear, undefined itself is an invalid result", async () => {
  const shaped = spec(
    "lambda-json",
    `export const handler = async (event) => {
      const r = event.Records[0].cf.request;
      return { ...r, extra: undefined, headers: { ...r.headers, "x-date": [{ key: "X-Date", value: { toJSON: () => "from toJSON" } }] } };
    };`,
  );
  const r = await runtime.event(shaped, viewerRequest());
  const result = r.result as unknown as Record<string, unknown> & { headers: Record<string, Array<{ value: string }>> };
  assert.equal("extra" in result, false);
  assert.equal(result.headers["x-date"]![0]!.value, "from toJSON");

  const nothing = spec("lambda-undefined", `export const handler = async () => undefined;`);
  await assert.rejects(runtime.event(nothing, viewerRequest()), (err: { code?: string }) => err.code === "ERR_INVALID_RESULT");
});

test("a value JSON cannot hold (a cycle, a BigInt) is an invalid result at once, not a wait for the wall deadline", async () => {
  for (const [id, body] of [
    ["lambda-cycle", `const r = event.Records[0].cf.request; r.self = r; return r;`],
    ["lambda-bigint", `return { status: "200", headers: {}, body: 1n };`],
  ] as const) {
    const started = performance.now();
    await assert.rejects(runtime.event(spec(id, `export const handler = async (event) => { ${body} };`, 30_000), viewerRequest()), (err: { code?: string; message?: string }) => {
      assert.equal(err.code, "ERR_INVALID_RESULT", id);
      assert.match(err.message!, /not JSON/);
      return true;
    });
    assert.ok(performance.now() - started < 5_000, `${id} answered in ${performance.now() - started} ms`);
  }
});

test("getRemainingTimeInMillis counts down from the wall budget; the callback form answers from a timer", async () => {
  const timed = spec(
    "lambda-timer",
    `export const handler = (event, context, callback) => {
      const first = context.getRemainingTimeInMillis();
      setTimeout(() => {
        const later = context.getRemainingTimeInMillis();
        callback(null, { status: "200", headers: { "x-left": [{ key: "X-Left", value: first + "," + later }] } });
      }, 20);
    };`,
    4_000,
  );
  const r = await runtime.event(timed, viewerRequest());
  assert.equal(r.kind, "response");
  const [first, later] = (r.result as { headers: Record<string, Array<{ value: string }>> }).headers["x-left"]![0]!.value.split(",").map(Number);
  assert.ok(first! <= 4_000 && first! > 3_000, `first ${first}`);
  assert.ok(later! <= first! - 15, `later ${later} after first ${first}`);
  await r.finished;
});

test("a result too large for the mailbox crosses as a call, whole, and one that fits comes before what follows it", async () => {
  // 12,000 characters of UTF-16 text: over the mailbox's 8,192 code units.
  const big = spec(
    "lambda-big",
    `export const handler = async () => ({ status: "200", headers: { "x-big": [{ key: "X-Big", value: "é".repeat(12000) }] } });`,
  );
  const r = await runtime.event(big, viewerRequest());
  assert.equal(r.kind, "response");
  assert.equal((r.result as { headers: Record<string, Array<{ value: string }>> }).headers["x-big"]![0]!.value, "é".repeat(12000));
  await r.finished;

  // Answered, then an unhandled rejection and a log line in the same entry: the answer stands, the logs are kept.
  const after = spec(
    "lambda-after",
    `export const handler = async (event) => {
      Promise.resolve().then(() => { console.log("after the answer"); Promise.reject(new Error("late")); });
      return event.Records[0].cf.request;
    };`,
  );
  const a = await runtime.event(after, viewerRequest());
  assert.equal(a.kind, "request");
  const report = await a.finished;
  assert.ok(report.logs.some((l) => l.message === "after the answer"));
});

test("a handler that answered and then spins in the same entry past its CPU budget loses its answer: the invocation fails with ERR_CPU_LIMIT", async () => {
  const spins = { ...spec("lambda-spin", `export const handler = async (event) => {
    // Spins in a microtask some turns after the answer (which takes a few turns to be made).
    let later = Promise.resolve();
    for (let i = 0; i < 20; i++) later = later.then(() => {});
    later.then(() => { for (;;) {} });
    return event.Records[0].cf.request;
  };`), limits: resolveLimits({ cpuMs: 50, wallMs: 5_000 }) };
  // The answer is delivered when the entry that made it ends within the budget; this one never does.
  await assert.rejects(runtime.event(spins, viewerRequest()), { code: "ERR_CPU_LIMIT" });
});

test("each invocation of an isolate gets its own context: its own awsRequestId, and what a handler changes in it does not carry over", async () => {
  const ctx = spec(
    "lambda-context",
    `export const handler = async (event, context) => {
      const seen = JSON.stringify({ keys: Object.keys(context), id: context.awsRequestId, fn: context.functionName, version: context.functionVersion, arn: context.invokedFunctionArn, mem: context.memoryLimitInMB, mark: context.mark ?? null });
      context.mark = "changed"; context.functionName = "changed";
      return { status: "200", headers: { "x-seen": [{ key: "X-Seen", value: seen }] } };
    };`,
  );
  const seen: Array<{ keys: string[]; id: string; fn: string; version: string; arn: string; mem: string; mark: string | null }> = [];
  for (const requestId of ["req-1", "req-2", "req-3"]) {
    const event = buildCloudFrontEvent({ eventType: "viewer-request", request: { method: "GET", url: "https://site.test/", headers: [["host", "site.test"]], body: null }, clientIp: "203.0.113.9", distribution: { domainName: "site.test", id: "D1" }, requestId }) as CloudFrontEvent;
    const r = await runtime.event(ctx, event);
    seen.push(JSON.parse((r.result as { headers: Record<string, Array<{ value: string }>> }).headers["x-seen"]![0]!.value));
    await r.finished;
  }
  assert.deepEqual(seen.map((s) => s.id), ["req-1", "req-2", "req-3"]);
  for (const s of seen) {
    assert.deepEqual(s.keys, ["functionName", "functionVersion", "invokedFunctionArn", "logGroupName", "logStreamName", "awsRequestId", "memoryLimitInMB", "callbackWaitsForEmptyEventLoop", "getRemainingTimeInMillis"]);
    // No identity given: the source's id names it and its version.
    assert.equal(s.fn, "lambda-context");
    assert.equal(s.version, "lambda-context");
    assert.equal(s.arn, "arn:verge:lambda:local:local:function:lambda-context:lambda-context");
    assert.equal(s.mark, null);
  }
});

test("context names the function as its loader identified it, and the edge node it runs on", async () => {
  const named = createRuntime({ services: createHostServices(), node: { id: "edge-7", region: "eu-west" } });
  try {
    const fn = spec("acme/auth/abc123", `export const handler = async (event, context) => ({ status: "200", body: JSON.stringify({ ...context }) });`);
    fn.source = { ...fn.source, identity: { function: "auth", version: "abc123", tenant: "acme" } } as typeof fn.source;
    const r = await named.event(fn, viewerRequest());
    const got = JSON.parse((r.result as { body: string }).body) as Record<string, unknown>;
    await r.finished;
    assert.equal(got.functionName, "auth");
    assert.equal(got.functionVersion, "abc123");
    assert.equal(got.invokedFunctionArn, "arn:verge:lambda:eu-west:acme:function:auth:abc123");
    assert.deepEqual(String(got.invokedFunctionArn).split(":").length, 8, "AWS's eight fields");
    assert.equal(got.logGroupName, "/verge/lambda/acme/auth");
    assert.match(String(got.logStreamName), /^\d{4}\/\d{2}\/\d{2}\/\[abc123\]edge-7$/);
    assert.equal(got.memoryLimitInMB, "128");
    assert.equal("timeoutMs" in got, false, "the guest's deadline is not shown");
  } finally {
    named.dispose();
  }
});
