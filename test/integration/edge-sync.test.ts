/**
 * The edge node's sync (edge-nodes/sync) against a real registry: cold start,
 * following the feed, resuming after a restart, registry outages, bundle and
 * signature verification, secrets, purges, sticky routing, node reports,
 * worker processes reading the persisted state. No sleeps: poll with a deadline.
 */
import { after, before, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEdgeStore, type EdgeStore } from "../../edge-nodes/store/index.ts";
import { createSync, type Sync, type SyncOptions } from "../../edge-nodes/sync/index.ts";
import { bundle, startTestOrigin, type TestOrigin } from "../../origin/testing/harness.ts";
import type { FunctionAssociation, Purge, Snapshot } from "../../src/shared/protocol.ts";
import { createStatement, generateSigningKeyPair, signStatement } from "../../src/shared/signing.ts";

let origin: TestOrigin;
let acme: string;
let nodeToken: string;
let nodes = 0;
before(async () => {
  origin = await startTestOrigin();
  acme = await origin.tenant("acme");
  nodeToken = await origin.token(null, ["node"]);
});
after(() => origin.close());

async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function publish(fn: string, code: string, o: { tenant?: string; token?: string; headers?: Record<string, string>; on?: TestOrigin } = {}): Promise<string> {
  const r = await (o.on ?? origin).call("POST", `/v1/tenants/${o.tenant ?? "acme"}/functions/${fn}/versions`, { token: o.token ?? acme, body: code, headers: o.headers ?? {} });
  assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.body));
  return r.body.digest as string;
}

async function ok(r: Promise<{ status: number; body: any }>): Promise<any> {
  const reply = await r;
  assert.ok(reply.status < 300, JSON.stringify(reply.body));
  return reply.body;
}

const site = (hostnames: string[], assoc: FunctionAssociation) => ({ hostnames, origins: [{ id: "web", url: "http://127.0.0.1:9" }], defaultBehavior: { originId: "web", functions: { "viewer-request": assoc } }, behaviors: [] });
const request = (headers: Record<string, string> = {}) => ({ headers: new Headers(headers), url: new URL("https://x.test/") });

interface Edge {
  sync: Sync;
  store: EdgeStore;
  logs: Array<Record<string, unknown>>;
  purges: Array<{ purge: Purge; tenant: string }>;
  dir: string;
  nodeId: string;
}

/** A sync over its own LMDB directory (or `dir`), closed after the test. */
async function edge(t: TestContext, o: Partial<SyncOptions> & { dir?: string; on?: TestOrigin; start?: boolean } = {}): Promise<Edge> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "verge-edge-sync-"));
  const store = openEdgeStore({ path: dir });
  const logs: Edge["logs"] = [];
  const purges: Edge["purges"] = [];
  const nodeId = o.nodeId ?? `edge-${++nodes}`;
  const sync = createSync({ store, registry: { url: (o.on ?? origin).url, token: nodeToken }, nodeId, follow: true, log: (l) => logs.push(l), onPurge: (purge, tenant) => void purges.push({ purge, tenant }), ...o });
  t.after(async () => {
    await sync.close();
    await store.close();
    const bugs = logs.filter((l) => /bug|listener threw/.test(String(l.msg)));
    assert.deepEqual(bugs, [], "no bug in the follower");
    if (o.dir === undefined) rmSync(dir, { recursive: true, force: true });
  });
  if (o.start !== false) await sync.start();
  return { sync, store, logs, purges, dir, nodeId };
}

const head = async (on = origin) => (await on.call("GET", "/v1/health")).body.seq as number;

test("cold start from a snapshot, then the feed applies changes and the node reports them", async (t) => {
  const v1 = await publish("hello", bundle("hello-1"));
  await ok(origin.call("PUT", "/v1/tenants/acme/functions/hello/aliases/live", { token: acme, json: { version: v1 } }));
  await ok(origin.call("PUT", "/v1/tenants/acme/distributions/hello", { token: acme, json: site(["hello.example.com"], { function: "hello", alias: "live", includeBody: false }) }));
  const seq = await head();
  const { sync, store, nodeId } = await edge(t);
  const s0 = sync.current();
  assert.equal(s0.seq, seq, "cold start at the registry's head");
  assert.equal(s0.distributionFor("Hello.Example.com:8080")?.name, "hello");
  assert.ok(Object.isFrozen(s0.snapshot.tenants.acme!.aliases));
  assert.equal(sync.current(), s0, "the same object until the next state");
  assert.equal(store.table<Snapshot>("state").get("applied")?.seq, seq, "persisted");

  const seen: number[] = [];
  sync.subscribe((s) => void seen.push(s.seq));
  const v2 = await publish("hello", bundle("hello-2"));
  const set = await ok(origin.call("PUT", "/v1/tenants/acme/functions/hello/aliases/live", { token: acme, json: { version: v2 } }));
  const s1 = await waitFor("the alias change", () => sync.current().snapshot.tenants.acme!.aliases["hello/live"]!.revision === set.revision && sync.current());
  assert.equal(sync.resolve(s1, "acme", { function: "hello", alias: "live", includeBody: false }, request()).digest, v2);
  assert.equal(sync.resolve(s0, "acme", { function: "hello", alias: "live", includeBody: false }, request()).digest, v1, "a request holding the old state keeps it");
  assert.ok(seen.length >= 1 && seen.at(-1) === s1.seq);
  assert.equal(store.table<Snapshot>("state").get("applied")?.seq, s1.seq);
  const status = await waitFor("the report", async () => {
    const r = await origin.call("GET", `/v1/changes/${s1.seq}`, { token: acme });
    return r.body.applied?.includes(nodeId) && r.body;
  });
  assert.ok(status.applied.includes(nodeId));
  assert.deepEqual([sync.status().connected, sync.status().staleSeconds, sync.status().appliedSeq], [true, 0, s1.seq]);
});

test("a restarted node resumes from its persisted seq, without a snapshot", async (t) => {
  const first = await edge(t);
  const seq = first.sync.current().seq;
  await first.sync.close();
  await first.store.close();
  await publish("resume", bundle("resume-while-away"));
  const calls: string[] = [];
  const tracing: typeof fetch = (input, init) => {
    calls.push(new URL(String(input)).pathname + new URL(String(input)).search);
    return fetch(input, init);
  };
  const second = await edge(t, { dir: first.dir, nodeId: first.nodeId, fetch: tracing });
  assert.equal(second.sync.current().seq, seq, "serves the persisted state at once");
  const target = await head();
  await waitFor("catching up", () => second.sync.current().seq >= target);
  assert.ok(!calls.some((c) => c.startsWith("/v1/snapshot")), calls.join(", "));
  assert.ok(calls.includes(`/v1/feed/stream?since=${seq}`), calls.join(", "));
  rmSync(first.dir, { recursive: true, force: true });
});

test("registry down: the state is still served and staleness grows; back up: the node catches up", async (t) => {
  const own = await startTestOrigin({ keepDir: true });
  const port = Number(new URL(own.url).port);
  await own.tenant("acme");
  const token = await own.token(null, ["node"]);
  const fnToken = await own.token("acme", ["admin"]);
  const digest = await publish("down", bundle("down"), { on: own, token: fnToken });
  let skew = 0;
  const e = await edge(t, { on: own, registry: { url: own.url, token }, now: () => Date.now() + skew, tuning: { maxBackoffMs: 200 } });
  const state = e.sync.current();
  await e.sync.load(state, { tenant: "acme", function: "down", digest });
  let restarted: TestOrigin | undefined;
  let cleaned = false;
  t.after(async () => {
    cleaned = true;
    await restarted?.close();
    rmSync(own.dataDir, { recursive: true, force: true });
  });

  await own.close();
  await waitFor("the drop", () => !e.sync.status().connected);
  skew = 90_000;
  const stale = e.sync.status();
  assert.ok(stale.staleSeconds >= 90, `staleSeconds ${stale.staleSeconds}`);
  assert.equal(e.sync.current(), state, "the last applied state is still served");
  // A worker started now, with the registry down, has the bundle from LMDB.
  const worker = createSync({ store: e.store, registry: { url: own.url, token }, nodeId: "worker", follow: false });
  await worker.start();
  const spec = await worker.load(worker.current(), { tenant: "acme", function: "down", digest });
  assert.match(spec.source.code, /v"?down/);
  await worker.close();

  restarted = await startTestOrigin({ dataDir: own.dataDir, port, keepDir: true });
  // A failed test's hooks run while its body may still be going: a registry started after them
  // would keep the file's process alive until the suite's timeout.
  if (cleaned) return void (await restarted.close());
  skew = 0;
  const next = await publish("down", bundle("down-2"), { on: restarted, token: fnToken });
  await waitFor("catching up", () => e.sync.current().snapshot.tenants.acme!.versions[`down/${next}`] !== undefined, 15_000);
  assert.deepEqual([e.sync.status().connected, e.sync.status().staleSeconds], [true, 0]);
  assert.ok(e.logs.some((l) => l.msg === "sync: disconnected") && e.logs.some((l) => l.msg === "sync: connected"));
});

test("a tampered bundle is refused and not stored; the previous version keeps loading", async (t) => {
  const good = await publish("tamper", bundle("tamper-good"));
  const bad = await publish("tamper", bundle("tamper-bad"));
  const tampering: typeof fetch = async (input, init) => {
    if (String(input).endsWith(`/v1/bundles/${bad}`)) return new Response(bundle("evil"), { headers: { "content-type": "text/javascript" } });
    return fetch(input, init);
  };
  const { sync, store } = await edge(t, { fetch: tampering });
  const state = sync.current();
  const spec = await sync.load(state, { tenant: "acme", function: "tamper", digest: good });
  await assert.rejects(sync.load(state, { tenant: "acme", function: "tamper", digest: bad }), (err: { code: string; message: string }) => err.code === "ERR_DIGEST_MISMATCH" && err.message.includes(bad));
  assert.equal(store.bytes("bundles").get(bad), undefined, "never stored");
  assert.deepEqual(sync.status().refused.map((r) => [r.digest, r.code]), [[bad, "ERR_DIGEST_MISMATCH"]]);
  assert.equal(await sync.load(state, { tenant: "acme", function: "tamper", digest: good }), spec, "the previous version is kept, same spec");
  assert.ok(store.bytes("bundles").get(good) !== undefined);
});

test("signing enforce refuses unsigned versions and runs signed ones; warn runs and logs", async (t) => {
  const token = await origin.tenant("signer");
  const keys = generateSigningKeyPair();
  const unsigned = await publish("fn", bundle("signer-unsigned"), { tenant: "signer", token });
  await ok(origin.call("POST", "/v1/tenants/signer/signing/keys", { token, json: { publicKey: keys.publicKey, name: "ci" } }));
  const code = bundle("signer-signed");
  const { digestOf } = await import("../../src/shared/signing.ts");
  const statement = signStatement(createStatement({ tenant: "signer", function: "fn", digest: digestOf(code), keyId: keys.keyId }), keys.privateKey);
  const signed = await publish("fn", code, { tenant: "signer", token, headers: { "x-verge-signature": Buffer.from(JSON.stringify(statement)).toString("base64url") } });
  await ok(origin.call("PUT", "/v1/tenants/signer/signing/policy", { token, json: { policy: "enforce" } }));
  const { sync, store, logs } = await edge(t);
  const state = await waitFor("enforce", () => sync.current().snapshot.tenants.signer?.signing.policy === "enforce" && sync.current());
  assert.match((await sync.load(state, { tenant: "signer", function: "fn", digest: signed })).source.code, /signer-signed/);
  await assert.rejects(sync.load(state, { tenant: "signer", function: "fn", digest: unsigned }), (err: { code: string; message: string }) => err.code === "ERR_SIGNATURE_INVALID" && /unsigned/.test(err.message));
  assert.equal(store.bytes("bundles").get(unsigned), undefined);
  assert.equal(sync.status().refused[0]?.code, "ERR_SIGNATURE_INVALID");

  await ok(origin.call("PUT", "/v1/tenants/signer/signing/policy", { token, json: { policy: "warn" } }));
  const warn = await waitFor("warn", () => sync.current().snapshot.tenants.signer?.signing.policy === "warn" && sync.current());
  await sync.load(warn, { tenant: "signer", function: "fn", digest: unsigned });
  assert.ok(logs.some((l) => l.msg === "sync: signature not verified, running under policy warn" && l.digest === unsigned));
});

test("specs: limits from the version, env and secrets bound, one object per version, one fetch for concurrent loads", async (t) => {
  const secret = "s3cret-for-edge-sync";
  await ok(origin.call("PUT", "/v1/tenants/acme/functions/sec", { token: acme, json: { config: { cpuMs: 20, memoryMb: 64, wallMs: 1000, subrequests: 0, env: { MODE: "prod" } } } }));
  await ok(origin.call("PUT", "/v1/tenants/acme/functions/sec/secrets/API_KEY", { token: acme, json: { value: secret } }));
  const digest = await publish("sec", bundle("sec"));
  let bundleFetches = 0;
  const counting: typeof fetch = (input, init) => {
    if (String(input).includes("/v1/bundles/")) bundleFetches++;
    return fetch(input, init);
  };
  const { sync, store, logs } = await edge(t, { fetch: counting });
  const state = sync.current();
  const ref = { tenant: "acme", function: "sec", digest };
  const specs = await Promise.all(Array.from({ length: 5 }, () => sync.load(state, ref)));
  assert.equal(bundleFetches, 1);
  assert.ok(specs.every((s) => s === specs[0]));
  const spec = specs[0]!;
  assert.deepEqual(spec.source, { id: `acme/sec/${digest}`, code: bundle("sec"), format: "esm", filename: "sec.js", identity: { function: "sec", version: digest, tenant: "acme" } });
  assert.deepEqual([spec.limits.cpuMs, spec.limits.memoryMb, spec.limits.wallMs, spec.limits.subrequests], [20, 64, 1000, 0]);
  assert.deepEqual(spec.env, { MODE: "prod", API_KEY: secret });
  assert.deepEqual(spec.bindings, {});
  assert.equal(await sync.load(sync.current(), ref), spec);
  assert.deepEqual(store.table<{ secrets: Record<string, string> }>("secrets").get("acme/sec")?.secrets, { API_KEY: secret }, "persisted");
  assert.ok(!JSON.stringify(logs).includes(secret), "never logged");

  // Rotation: the function's updatedAt changes, the values are fetched again.
  const fn = await ok(origin.call("PUT", "/v1/tenants/acme/functions/sec/secrets/API_KEY", { token: acme, json: { value: "rotated" } }));
  const rotated = await waitFor("rotation", () => sync.current().snapshot.tenants.acme!.functions.sec!.updatedAt === fn.updatedAt && sync.current());
  const next = await sync.load(rotated, ref);
  assert.notEqual(next, spec);
  assert.equal(next.env.API_KEY, "rotated");

  // A worker started while the registry cannot be reached still has bundle and secrets.
  const down: typeof fetch = async () => {
    throw new TypeError("fetch failed: connection refused");
  };
  const worker = createSync({ store, registry: { url: origin.url, token: nodeToken }, nodeId: "worker", follow: false, fetch: down });
  await worker.start();
  assert.equal(worker.current().seq, sync.current().seq);
  const fromDisk = await worker.load(worker.current(), ref);
  assert.deepEqual(fromDisk.env, { MODE: "prod", API_KEY: "rotated" });
  // Not stored and the registry down: unavailable; not in the state: not found.
  const d2 = await publish("sec", bundle("sec-2"));
  await waitFor("the new version", () => sync.current().snapshot.tenants.acme!.versions[`sec/${d2}`] !== undefined);
  worker.reload();
  await assert.rejects(worker.load(worker.current(), { ...ref, digest: d2 }), { code: "ERR_BUNDLE_UNAVAILABLE" });
  await assert.rejects(worker.load(worker.current(), { ...ref, digest: "0".repeat(64) }), { code: "ERR_FUNCTION_NOT_FOUND" });
  await worker.close();
});

test("a worker process reads the persisted state and reloads when told", async (t) => {
  const e = await edge(t);
  const worker = createSync({ store: e.store, registry: { url: origin.url, token: nodeToken }, nodeId: "worker", follow: false, fetch: async () => new Response(null, { status: 599 }) });
  t.after(() => worker.close());
  await worker.start();
  assert.equal(worker.current().seq, e.sync.current().seq);
  const states: number[] = [];
  worker.subscribe((s) => void states.push(s.seq));
  const before = worker.current();
  worker.reload();
  assert.equal(worker.current(), before, "nothing new: the same object");
  await publish("reloaded", bundle("reloaded"));
  const target = await head();
  await waitFor("the follower", () => e.sync.current().seq >= target);
  worker.reload();
  assert.equal(worker.current().seq, e.sync.current().seq);
  assert.deepEqual(states, [worker.current().seq]);
  assert.deepEqual([worker.status().connected, worker.status().staleSeconds], [true, 0], "from the follower's contact record");
});

test("purges reach onPurge with their tenant", async (t) => {
  const v = await publish("purger", bundle("purger"));
  await ok(origin.call("PUT", "/v1/tenants/acme/distributions/purgeable", { token: acme, json: site(["purge.example.com"], { function: "purger", version: v, includeBody: false }) }));
  const e = await edge(t);
  const r = await ok(origin.call("POST", "/v1/tenants/acme/distributions/purgeable/purge", { token: acme, json: { prefix: "/img/" } }));
  const got = await waitFor("the purge", () => e.purges.find((p) => p.purge.id === r.purge.id));
  assert.deepEqual(got, { purge: r.purge, tenant: "acme" });
  await waitFor("seq", () => e.sync.current().seq >= r.seq);
});

test("sticky routing through a real alias: stable per user, weights roughly honoured", async (t) => {
  const a = await publish("split", bundle("split-a"));
  const b = await publish("split", bundle("split-b"));
  await ok(origin.call("PUT", "/v1/tenants/acme/functions/split/aliases/live", { token: acme, json: { routes: [{ version: b, weight: 0.2 }, { version: a, weight: 0.8 }], stickyKey: { source: "cookie", name: "uid" } } }));
  const { sync } = await edge(t);
  const state = sync.current();
  const assoc: FunctionAssociation = { function: "split", alias: "live", includeBody: false };
  let onB = 0;
  for (let i = 0; i < 2000; i++) {
    const first = sync.resolve(state, "acme", assoc, request({ cookie: `uid=${i}` })).digest;
    assert.equal(sync.resolve(state, "acme", assoc, request({ cookie: `uid=${i}` })).digest, first);
    if (first === b) onB++;
  }
  assert.ok(onB > 300 && onB < 500, `${onB} of 2000 on the 20% route`);
});

test("the stream failing falls back to long polling", async (t) => {
  const noStream: typeof fetch = async (input, init) => {
    if (String(input).includes("/v1/feed/stream")) return new Response("buffered by a proxy", { headers: { "content-type": "text/plain" } });
    return fetch(input, init);
  };
  const e = await edge(t, { fetch: noStream, tuning: { maxBackoffMs: 100 } });
  const digest = await publish("polled", bundle("polled"));
  await waitFor("the change by long polling", () => e.sync.current().snapshot.tenants.acme!.versions[`polled/${digest}`] !== undefined);
  assert.ok(e.logs.some((l) => l.msg === "sync: the feed stream failed; long polling"));
});

test("a node ahead of its registry (a registry restored or replaced) takes a snapshot and purges everything", async (t) => {
  const first = await edge(t);
  const seq = first.sync.current().seq;
  await first.sync.close();
  await first.store.close();
  const fresh = await startTestOrigin();
  t.after(() => fresh.close());
  const token = await fresh.tenant("acme");
  const v = await publish("other", bundle("fresh"), { on: fresh, token });
  await ok(fresh.call("PUT", "/v1/tenants/acme/distributions/site", { token, json: site(["fresh.example.com"], { function: "other", version: v, includeBody: false }) }));
  const freshHead = await head(fresh);
  assert.ok(freshHead < seq);
  const node = await fresh.token(null, ["node"]);
  const e = await edge(t, { on: fresh, dir: first.dir, registry: { url: fresh.url, token: node } });
  await waitFor("the snapshot", () => e.sync.current().seq === freshHead);
  assert.equal(e.sync.current().distributionFor("fresh.example.com")?.name, "site");
  assert.equal(e.sync.current().distributionFor("hello.example.com"), undefined);
  assert.deepEqual(e.purges.map((p) => [p.tenant, p.purge.distribution, p.purge.prefix]), [["acme", "site", "/"]]);
  rmSync(first.dir, { recursive: true, force: true });
});

test("a cold node whose token the registry refuses stops with the registry's code; one with state of its own keeps serving it", async (t) => {
  const refused = await edge(t, { registry: { url: origin.url, token: "not-a-token" }, start: false });
  await assert.rejects(refused.sync.start(), (err: Error & { code?: string }) => err.code === "ERR_UNAUTHORIZED" && /node scope/.test(err.message));
  const tenantOnly = await edge(t, { registry: { url: origin.url, token: acme }, start: false });
  await assert.rejects(tenantOnly.sync.start(), (err: Error & { code?: string }) => err.code === "ERR_MISSING_SCOPE");
  // With a persisted state, a refused token is logged and the state served.
  const good = await edge(t);
  const seq = good.sync.current().seq;
  await good.sync.close();
  const again = await edge(t, { dir: good.dir, registry: { url: origin.url, token: "not-a-token" } });
  assert.equal(again.sync.current().seq, seq);
});
