/**
 * `verge logs` at the registry: the in-memory ring per tenant (oldest dropped),
 * `POST /v1/nodes/logs` (node scope, validated and bounded, unknown tenants
 * dropped, drops counted per node), `GET …/logs` (tenant isolation, limit) and
 * the SSE tail (own tenant's events only, drop notices, heartbeat, and no
 * longer live once the client disconnects).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { LogEvent, LogList } from "../src/shared/protocol.ts";
import { createLogHub } from "./logs.ts";
import { ADMIN, startTestOrigin, type TestOrigin } from "./testing/harness.ts";
import { invocation, logBatch, logEvent } from "./testing/log-events.ts";

let origin: TestOrigin;
let acme: string;
let beta: string;
let node: string;
before(async () => {
  origin = await startTestOrigin({ logRingSize: 5, heartbeatMs: 200 });
  acme = await origin.tenant("acme", ["read"]);
  beta = await origin.tenant("beta", ["read"]);
  node = await origin.token(null, ["node"]);
});
after(() => origin.close());

const post = (body: unknown, token = node) => origin.call("POST", "/v1/nodes/logs", { token, json: body });
const list = (tenant: string, token: string, query = "") => origin.call<LogList & { error: { code: string; message: string } }>("GET", `/v1/tenants/${tenant}/logs${query}`, { token });

test("the hub keeps the last ringSize events per tenant, oldest first, and tells live tails", () => {
  const hub = createLogHub({ ringSize: 3 });
  const seen: LogEvent[] = [];
  const totals: Array<Record<string, number>> = [];
  const stop = hub.subscribe("acme", { event: (e) => seen.push(e), dropped: (t) => totals.push(t) });
  assert.equal(hub.tails(), 1);
  const events = [1, 2, 3, 4, 5].map((i) => logEvent("acme", { path: `/${i}` }));
  hub.append([...events, logEvent("beta")]);
  assert.deepEqual(hub.recent("acme", 10).map((e) => e.path), ["/3", "/4", "/5"]);
  assert.deepEqual(hub.recent("acme", 2).map((e) => e.path), ["/4", "/5"]);
  assert.equal(hub.recent("beta", 10).length, 1);
  assert.deepEqual(hub.recent("nobody", 10), []);
  assert.deepEqual(seen.map((e) => e.path), ["/1", "/2", "/3", "/4", "/5"], "the tail saw every acme event, none of beta's");
  hub.addDropped("edge-1", 0);
  assert.deepEqual(totals, [], "no drops, no notice");
  hub.addDropped("edge-1", 4);
  hub.addDropped("edge-2", 1);
  hub.addDropped("edge-1", 2);
  assert.deepEqual(hub.droppedTotals(), { "edge-1": 6, "edge-2": 1 });
  assert.deepEqual(totals.at(-1), { "edge-1": 6, "edge-2": 1 });
  stop();
  stop();
  assert.equal(hub.tails(), 0, "unsubscribing twice counts once");
  hub.append([logEvent("acme")]);
  assert.equal(seen.length, 5, "an ended tail hears nothing");
});

test("the ring is bounded by console text too: a tenant that prints a lot keeps its newest events, not all 1000", () => {
  const hub = createLogHub({ ringSize: 1000, ringBytes: 100_000 });
  const loud = (i: number) => logEvent("acme", { path: `/${i}`, invocations: [invocation("talky", { logs: [{ at: "2026-12-07T00:00:00.000Z", level: "log", message: "x".repeat(30_000) }] })] });
  hub.append([1, 2, 3, 4, 5].map(loud));
  assert.deepEqual(hub.recent("acme", 10).map((e) => e.path), ["/3", "/4", "/5"], "30 KB each, 100 KB kept");
  hub.append([logEvent("acme", { path: "/quiet" })]);
  assert.deepEqual(hub.recent("acme", 10).map((e) => e.path), ["/3", "/4", "/5", "/quiet"]);
  const huge = logEvent("acme", { path: "/huge", invocations: [invocation("talky", { logs: [{ at: "2026-12-07T00:00:00.000Z", level: "log", message: "y".repeat(200_000) }] })] });
  hub.append([huge]);
  assert.deepEqual(hub.recent("acme", 10).map((e) => e.path), ["/huge"], "the newest stays, alone, even over the bound");
});

test("POST /v1/nodes/logs needs the node scope; events go to their own tenant; unknown tenants are dropped", async () => {
  const refused = await post(logBatch([logEvent("acme")]), acme);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, "ERR_MISSING_SCOPE");
  assert.equal((await post(logBatch([logEvent("acme")]), ADMIN)).status, 403, "an operator admin token is not a node");

  const a = logEvent("acme", { invocations: [invocation("auth", { logs: [{ at: "2026-12-07T01:02:03.000Z", level: "log", message: "hello" }] })] });
  const b = logEvent("beta");
  const ok = await post(logBatch([a, b, logEvent("ghost")]));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual(ok.body, { tail: false });

  const mine = await list("acme", acme);
  assert.equal(mine.status, 200);
  assert.deepEqual(mine.body.events.at(-1), a, "the event comes back as sent");
  assert.ok(mine.body.events.every((e) => e.tenant === "acme"));
  assert.ok((await list("beta", beta)).body.events.some((e) => e.requestId === b.requestId));
  const other = await list("beta", acme);
  assert.equal(other.status, 404, "another tenant's logs look like a missing tenant");
  assert.equal(other.body.error.code, "ERR_NOT_FOUND");
  assert.equal((await list("ghost", ADMIN)).status, 404);
  assert.equal((await list("acme", ADMIN)).status, 200, "an operator reads any tenant");
  assert.equal((await origin.call("GET", "/v1/tenants/acme/logs", { token: null })).status, 401);
});

test("the ring keeps the newest events; limit picks the last n; a bad limit is a 400 naming it", async () => {
  const sent = Array.from({ length: 7 }, (_, i) => logEvent("acme", { path: `/ring/${i}` }));
  assert.equal((await post(logBatch(sent))).status, 200);
  assert.deepEqual((await list("acme", acme)).body.events.map((e) => e.path), sent.slice(2).map((e) => e.path), "ring of 5, oldest first");
  assert.deepEqual((await list("acme", acme, "?limit=2")).body.events.map((e) => e.path), ["/ring/5", "/ring/6"]);
  for (const bad of ["0", "6", "abc", "-1", "1.5"]) {
    const r = await list("acme", acme, `?limit=${bad}`);
    assert.equal(r.status, 400, bad);
    assert.equal(r.body.error.code, "ERR_INVALID_REQUEST");
    assert.match(r.body.error.message, new RegExp(`^limit: expected an integer from 1 to 5, found "${bad.replace(".", "\\.")}"`));
  }
});

test("drops are counted per node across batches and shown to every reader", async () => {
  await post(logBatch([], { node: "edge-7", dropped: 12 }));
  await post(logBatch([], { node: "edge-8", dropped: 3 }));
  await post(logBatch([], { node: "edge-7", dropped: 1 }));
  const { body } = await list("beta", beta);
  assert.equal(body.dropped["edge-7"], 13);
  assert.equal(body.dropped["edge-8"], 3);
});

test("a bad batch is a 400 naming each field with what was expected and found, and stores nothing", async () => {
  const before = (await list("acme", acme)).body.events;
  const bad = await post({
    node: "Edge 1",
    region: "eu-west",
    dropped: -1,
    events: [logEvent("acme", { status: "200" as unknown as number }), logEvent("acme", { invocations: [invocation("auth", { event: "viewer" as never, cpuMs: -1 })] }), "nope"],
    extra: true,
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, "ERR_INVALID_REQUEST");
  const d = Object.fromEntries(bad.body.error.details.diagnostics.map((x: { path: string; message: string }) => [x.path, x.message]));
  assert.match(d["node"], /expected a name .*found "Edge 1"/);
  assert.match(d["dropped"], /expected an integer from 0 .*found number -1/);
  assert.match(d["extra"], /unknown field/);
  assert.match(d["events[0].status"], /expected an integer from 100 to 599, found "200"/);
  assert.match(d["events[1].invocations[0].event"], /expected one of viewer-request, .* found "viewer"/);
  assert.match(d["events[1].invocations[0].cpuMs"], /expected a number of milliseconds .* found number -1/);
  assert.match(d["events[2]"], /expected an object, found "nope"/);
  assert.match(bad.body.error.message, /events\[0\]\.status/);

  const tooMany = await post(logBatch(Array.from({ length: 1001 }, () => logEvent("acme"))));
  assert.equal(tooMany.status, 400);
  assert.ok(tooMany.body.error.details.diagnostics.some((x: { path: string; message: string }) => x.path === "events" && /at most 1000 entries, found 1001/.test(x.message)));

  const huge = await post(logBatch([logEvent("acme", { invocations: [invocation("auth", { logs: [{ at: "2026-12-07T01:02:03Z", level: "log", message: "x".repeat(60_000) }] })] })].concat(...Array.from({ length: 20 }, () => logEvent("acme", { invocations: [invocation("auth", { logs: [{ at: "2026-12-07T01:02:03Z", level: "log", message: "y".repeat(60_000) }] })] })))));
  assert.equal(huge.status, 413);
  assert.equal(huge.body.error.code, "ERR_BODY_TOO_LARGE");
  assert.deepEqual((await list("acme", acme)).body.events, before, "nothing from refused batches");
});

test("what a node can produce is taken: 1001 console lines, a 200 KiB line, an unresolved version", async () => {
  const lines = Array.from({ length: 1001 }, (_, i) => ({ at: "2026-12-07T01:02:03.000Z", level: i === 1000 ? "warn" : "log", message: `line ${i}` }));
  const e = logEvent("acme", {
    status: 503,
    error: { code: "ERR_FUNCTION_NOT_FOUND", message: "m".repeat(10_000) },
    invocations: [invocation("busy", { logs: lines }), invocation("big", { logs: [{ at: "2026-12-07T01:02:03Z", level: "debug", message: "z".repeat(200 * 1024) }] }), invocation("gone", { digest: "", error: "ERR_FUNCTION_NOT_FOUND" })],
  });
  const r = await post(logBatch([e]));
  assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
  assert.deepEqual((await list("acme", acme, "?limit=1")).body.events, [e]);
});

/** Reads an SSE response until `done(text so far)` holds, or fails after a deadline. */
async function readUntil(reader: ReadableStreamDefaultReader<string>, state: { text: string }, done: (text: string) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done(state.text)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out waiting for ${what}; got:\n${state.text}`);
    let timer: NodeJS.Timeout | undefined;
    const chunk = await Promise.race([reader.read(), new Promise<null>((r) => (timer = setTimeout(() => r(null), left)))]);
    clearTimeout(timer);
    if (chunk === null) continue;
    if (chunk.done) throw new Error(`the stream ended before ${what}; got:\n${state.text}`);
    state.text += chunk.value;
  }
}

function events(text: string, name: string): unknown[] {
  return text
    .split("\n\n")
    .filter((e) => new RegExp(`^event: ${name}$`, "m").test(e))
    .map((e) => JSON.parse(/^data: (.*)$/m.exec(e)![1]!));
}

test("a tail gets its tenant's new events, drop notices and heartbeats, and stops counting once disconnected", async () => {
  assert.equal((await origin.call("GET", "/v1/tenants/beta/logs/tail", { token: acme })).status, 404, "no tail of another tenant");
  const abort = new AbortController();
  const res = await fetch(`${origin.url}/v1/tenants/acme/logs/tail`, { headers: { authorization: `Bearer ${acme}` }, signal: abort.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const state = { text: "" };
  await readUntil(reader, state, (t) => t.startsWith(": tail of acme\n\n"), "the opening comment");

  const mine = logEvent("acme", { path: "/tailed" });
  const answer = await post(logBatch([logEvent("beta", { path: "/not-mine" }), mine], { dropped: 2, node: "edge-9" }));
  assert.deepEqual(answer.body, { tail: true }, "a live tail asks nodes for every request");
  assert.deepEqual((await post(logBatch([]))).body, { tail: true });
  await readUntil(reader, state, (t) => events(t, "log").length >= 1 && events(t, "dropped").length >= 1, "the event and the drop notice");
  assert.deepEqual(events(state.text, "log"), [mine], "only acme's event, once");
  const dropped = events(state.text, "dropped")[0] as { dropped: Record<string, number>; skipped: number };
  assert.equal(dropped.dropped["edge-9"], 2);
  assert.equal(dropped.skipped, 0);
  await readUntil(reader, state, (t) => t.includes(": heartbeat\n\n"), "a heartbeat");
  assert.match(await (await fetch(`${origin.url}/metrics`)).text(), /^verge_origin_log_tails 1$/m);

  abort.abort();
  await reader.cancel().catch(() => {});
  const deadline = Date.now() + 10_000;
  while ((await post(logBatch([]))).body.tail !== false) {
    assert.ok(Date.now() < deadline, "the tail is still counted live after the client went away");
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(await (await fetch(`${origin.url}/metrics`)).text(), /^verge_origin_log_tails 0$/m);
});

test("a cron run's event (scheduled, no host nor distribution) is taken; a request's without them, or a scheduled one with a request's event, is not", async () => {
  const cron = logEvent("acme", {
    method: "SCHEDULED",
    host: "",
    path: "*/10 * * * *",
    distribution: "",
    cache: null,
    scheduled: { cron: "*/10 * * * *", scheduledTime: "2026-12-07T01:10:00.000Z", outcome: "ok" },
    invocations: [invocation("warmer", { event: "scheduled", logs: [{ at: "2026-12-07T01:10:00.001Z", level: "log", message: "warmed" }] })],
  });
  const ok = await post(logBatch([cron]));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual((await list("acme", acme, "?limit=1")).body.events.at(-1)?.scheduled, cron.scheduled);
  const noHost = await post(logBatch([logEvent("acme", { host: "", distribution: "" })]));
  assert.equal(noHost.status, 400);
  assert.match(JSON.stringify(noHost.body), /events\[0\]\.distribution/);
  assert.match(JSON.stringify(noHost.body), /events\[0\]\.host/);
  const wrongEvent = await post(logBatch([{ ...cron, invocations: [invocation("warmer")] }]));
  assert.equal(wrongEvent.status, 400);
  assert.match(JSON.stringify(wrongEvent.body), /events\[0\]\.invocations\[0\]\.event: expected \\"scheduled\\" \(a cron run\)/);
});

test("a service binding call's event (service, the caller's request id, \"service\" invocation) is taken, under a cron run without a distribution too; a service event with a request's invocation is not", async () => {
  const call = logEvent("acme", {
    requestId: "req-caller",
    method: "POST",
    host: "auth.internal",
    path: "/check",
    cache: null,
    service: { binding: "AUTH", caller: "front" },
    invocations: [invocation("auth", { event: "service", logs: [{ at: "2026-12-07T01:10:00.001Z", level: "log", message: "checked" }] })],
  });
  const fromCron = { ...call, requestId: "scheduled:acme/warmer@2026-12-07T01:10:00.000Z", distribution: "" };
  const ok = await post(logBatch([call, fromCron]));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const stored = (await list("acme", acme, "?limit=2")).body.events;
  assert.deepEqual(stored.map((e) => [e.requestId, e.service, e.invocations[0]?.event]), [
    ["req-caller", { binding: "AUTH", caller: "front" }, "service"],
    [fromCron.requestId, { binding: "AUTH", caller: "front" }, "service"],
  ]);
  const wrongEvent = await post(logBatch([{ ...call, invocations: [invocation("auth")] }]));
  assert.equal(wrongEvent.status, 400);
  assert.match(JSON.stringify(wrongEvent.body), /events\[0\]\.invocations\[0\]\.event: expected \\"service\\" \(a service binding call\)/);
  const badBinding = await post(logBatch([{ ...call, service: { binding: "not a name", caller: "front" } }]));
  assert.equal(badBinding.status, 400);
  assert.match(JSON.stringify(badBinding.body), /events\[0\]\.service\.binding/);
});
