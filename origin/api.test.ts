/** The registry's HTTP API end to end: a real server on port 0 over a real LMDB directory. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { applyChange, type Snapshot } from "../src/shared/protocol.ts";
import { createStatement, digestOf, generateSigningKeyPair, signStatement } from "../src/shared/signing.ts";
import { ADMIN, bundle, startTestOrigin, type TestOrigin } from "./testing/harness.ts";

let origin: TestOrigin;
let acme: string;
before(async () => {
  origin = await startTestOrigin();
  acme = await origin.tenant("acme");
});
after(() => origin.close());

const publish = (token: string, fn: string, code: string, headers: Record<string, string> = {}) =>
  origin.call("POST", `/v1/tenants/acme/functions/${fn}/versions`, { token, body: code, headers: { "content-type": "text/javascript", ...headers } });

test("health and metrics answer without a token", async () => {
  const h = await origin.call("GET", "/v1/health", { token: null });
  assert.equal(h.status, 200);
  assert.equal(h.body.ok, true);
  assert.ok(h.headers.get("x-verge-request-id"));
  const m = await fetch(`${origin.url}/metrics`);
  assert.match(await m.text(), /verge_origin_feed_head_seq \d+/);
});

test("whoami, tenants and tokens", async () => {
  const me = await origin.call("GET", "/v1/whoami", { token: acme });
  assert.deepEqual({ tenant: me.body.tenant, scopes: me.body.scopes }, { tenant: "acme", scopes: ["admin"] });
  assert.equal((await origin.call("POST", "/v1/tenants", { json: { name: "acme" } })).body.error.code, "ERR_ALREADY_EXISTS");
  const reader = await origin.token("acme", ["read"]);
  const list = await origin.call("GET", "/v1/tokens", { token: acme });
  assert.ok(list.body.tokens.every((t: Record<string, unknown>) => t.tenant === "acme" && !("hash" in t) && !("token" in t)));
  assert.equal((await origin.call("GET", "/v1/tenants", { token: reader })).body.tenants.length, 1);
});

test("function config with secrets sealed at rest and never returned", async () => {
  const put = await origin.call("PUT", "/v1/tenants/acme/functions/auth", { token: acme, json: { config: { cpuMs: 20, env: { MODE: "prod" } } } });
  assert.equal(put.status, 201);
  assert.deepEqual(put.body.config, { memoryMb: 128, cpuMs: 20, wallMs: 30000, subrequests: 50, env: { MODE: "prod" }, reservedConcurrency: null, provisionedConcurrency: 0, secrets: [] });
  const secret = "hunter2-very-secret-value";
  const s = await origin.call("PUT", "/v1/tenants/acme/functions/auth/secrets/API_KEY", { token: acme, json: { value: secret } });
  assert.equal(s.status, 200);
  assert.deepEqual(s.body.config.secrets, ["API_KEY"]);
  const all = JSON.stringify([(await origin.call("GET", "/v1/tenants/acme/functions/auth", { token: acme })).body, (await origin.call("GET", "/v1/snapshot", { token: acme })).body, (await origin.call("GET", "/v1/feed", { token: acme })).body]);
  assert.ok(!all.includes(secret), "secret value not in any answer");
  const clash = await origin.call("PUT", "/v1/tenants/acme/functions/auth", { token: acme, json: { config: { env: { API_KEY: "x" } } } });
  assert.equal(clash.status, 400);
  assert.match(clash.body.error.message, /config\.env\.API_KEY/);
  const bad = await origin.call("PUT", "/v1/tenants/acme/functions/auth", { token: acme, json: { config: { cpuMs: -1, memoryMb: "big", extra: 1 } } });
  assert.equal(bad.body.error.code, "ERR_INVALID_REQUEST");
  assert.deepEqual(bad.body.error.details.diagnostics.map((d: { path: string }) => d.path).sort(), ["config.cpuMs", "config.extra", "config.memoryMb"]);
  const del = await origin.call("DELETE", "/v1/tenants/acme/functions/auth/secrets/API_KEY", { token: acme });
  assert.deepEqual(del.body.config.secrets, []);
});

test("publish is content-addressed and idempotent; bundles are served immutable", async () => {
  const code = bundle("publish");
  const first = await publish(acme, "site", code);
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(first.body.digest, digestOf(code));
  assert.equal(first.body.dialect, "workers-module");
  assert.equal(first.body.signatureStatus, "unsigned");
  const again = await publish(acme, "site", code);
  assert.equal(again.status, 200);
  assert.deepEqual(again.body, first.body);
  const list = await origin.call("GET", "/v1/tenants/acme/functions/site/versions", { token: acme });
  assert.equal(list.body.versions.length, 1);
  const b = await fetch(`${origin.url}/v1/tenants/acme/functions/site/versions/${first.body.digest}/bundle`, { headers: { authorization: `Bearer ${acme}` } });
  assert.equal(await b.text(), code);
  assert.match(b.headers.get("cache-control")!, /immutable/);
  assert.equal(b.headers.get("etag"), `"${first.body.digest}"`);
  const node = await origin.token(null, ["node"]);
  const byDigest = await fetch(`${origin.url}/v1/bundles/${first.body.digest}`, { headers: { authorization: `Bearer ${node}`, "if-none-match": `"${first.body.digest}"` } });
  assert.equal(byDigest.status, 304);
  assert.equal((await origin.call("GET", `/v1/bundles/${first.body.digest}`, { token: acme })).body.error.code, "ERR_MISSING_SCOPE");
});

test("aliases: weighted routes, history and rollback", async () => {
  const v1 = (await publish(acme, "api", bundle("a1"))).body.digest;
  const v2 = (await publish(acme, "api", bundle("a2"))).body.digest;
  const set1 = await origin.call("PUT", "/v1/tenants/acme/functions/api/aliases/live", { token: acme, json: { version: v1 } });
  assert.equal(set1.status, 201);
  assert.deepEqual(set1.body.routes, [{ version: v1, weight: 1 }]);
  const split = await origin.call("PUT", "/v1/tenants/acme/functions/api/aliases/live", {
    token: acme,
    json: { routes: [{ version: v2, weight: 0.1 }, { version: v1, weight: 0.9 }], stickyKey: { source: "cookie", name: "uid" } },
  });
  assert.equal(split.status, 200);
  assert.equal(split.body.revision, 2);
  const badSum = await origin.call("PUT", "/v1/tenants/acme/functions/api/aliases/live", { token: acme, json: { routes: [{ version: v2, weight: 0.5 }, { version: v1, weight: 0.4 }] } });
  assert.match(badSum.body.error.message, /sum to 1/);
  const unknown = await origin.call("PUT", "/v1/tenants/acme/functions/api/aliases/live", { token: acme, json: { version: "0".repeat(64) } });
  assert.equal(unknown.body.error.details.diagnostics[0].path, "version");
  const rb = await origin.call("POST", "/v1/tenants/acme/functions/api/aliases/live/rollback", { token: acme });
  assert.equal(rb.status, 200);
  assert.deepEqual(rb.body.routes, [{ version: v1, weight: 1 }]);
  assert.equal(rb.body.revision, 3);
  const hist = await origin.call("GET", "/v1/tenants/acme/functions/api/aliases/live/history", { token: acme });
  assert.deepEqual(hist.body.revisions.map((r: { revision: number; rollbackOf: number | null }) => [r.revision, r.rollbackOf]), [[1, null], [2, null], [3, 1]]);
  const toTwo = await origin.call("POST", "/v1/tenants/acme/functions/api/aliases/live/rollback", { token: acme, json: { revision: 2 } });
  assert.equal(toTwo.body.routes.length, 2);
});

test("signing: warn flags, enforce refuses unsigned and untrusted, verified passes", async () => {
  const keys = generateSigningKeyPair();
  const add = await origin.call("POST", "/v1/tenants/acme/signing/keys", { token: acme, json: { publicKey: keys.publicKey, name: "ci" } });
  assert.equal(add.status, 201);
  assert.equal(add.body.keyId, keys.keyId);
  await origin.call("PUT", "/v1/tenants/acme/signing/policy", { token: acme, json: { policy: "warn" } });
  const flagged = await publish(acme, "signed", bundle("warn-unsigned"));
  assert.equal(flagged.status, 201);
  assert.equal(flagged.body.flagged, true);
  assert.ok(origin.logs.some((l) => l.includes("flagged")));
  await origin.call("PUT", "/v1/tenants/acme/signing/policy", { token: acme, json: { policy: "enforce" } });
  const code = bundle("signed");
  const signed = signStatement(createStatement({ tenant: "acme", function: "signed", digest: digestOf(code), keyId: keys.keyId }), keys.privateKey);
  const ok = await publish(acme, "signed", code, { "x-verge-signature": Buffer.from(JSON.stringify(signed)).toString("base64url") });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  assert.equal(ok.body.signatureStatus, "verified");
  assert.deepEqual(ok.body.signature, signed);
  await origin.call("PUT", "/v1/tenants/acme/signing/policy", { token: acme, json: { policy: "off" } });
});

test("distributions are validated on write with diagnostics that name the field", async () => {
  const v = (await publish(acme, "edge", bundle("edge"))).body.digest;
  await origin.call("PUT", "/v1/tenants/acme/functions/edge/aliases/prod", { token: acme, json: { version: v } });
  const good = {
    hostnames: ["www.example.com"],
    origins: [{ id: "web", url: "http://127.0.0.1:3000", customHeaders: { "x-from": "verge" } }],
    defaultBehavior: { originId: "web", functions: { "viewer-request": { function: "edge", alias: "prod" } } },
    behaviors: [
      { pathPattern: "/images/*", originId: "web", ttl: { min: 0, default: 3600, max: 86400 }, cacheKey: { queryStrings: { behavior: "allowList", items: ["w"] } } },
      { pathPattern: "/api/*", originId: "web", ttl: { min: 0, default: 0, max: 0 }, functions: { "origin-request": { function: "edge", version: v, includeBody: true } } },
    ],
  };
  const put = await origin.call("PUT", "/v1/tenants/acme/distributions/site", { token: acme, json: good });
  assert.equal(put.status, 201, JSON.stringify(put.body));
  assert.ok(Number(put.headers.get("x-verge-seq")) > 0);
  assert.equal(put.body.behaviors[0].cacheKey.headers.behavior, "none");
  const bad = await origin.call("PUT", "/v1/tenants/acme/distributions/site", {
    token: acme,
    json: {
      ...good,
      behaviors: [
        { pathPattern: "/images/*", originId: "web" },
        { pathPattern: "/images/*.jpg", originId: "web", ttl: { min: 100, default: 10, max: 5 } },
        { pathPattern: "/x", originId: "nope", functions: { "viewer-response": { function: "ghost", alias: "prod", includeBody: true } } },
      ],
    },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, "ERR_INVALID_DISTRIBUTION");
  const paths = bad.body.error.details.diagnostics.map((d: { path: string }) => d.path);
  for (const p of ["behaviors[1].pathPattern", "behaviors[1].ttl.default", "behaviors[1].ttl.max", "behaviors[2].originId", "behaviors[2].functions.viewer-response.function", "behaviors[2].functions.viewer-response.includeBody"]) {
    assert.ok(paths.includes(p), `${p} in ${paths.join(", ")}`);
  }
  assert.match(bad.body.error.message, /behaviors\[1\]\.pathPattern: "\/images\/\*\.jpg" can never match/);
  const still = await origin.call("GET", "/v1/tenants/acme/distributions/site", { token: acme });
  assert.equal(still.body.behaviors.length, 2, "a refused write stores nothing");
  const other = await origin.tenant("other");
  await publish(other, "x", bundle("x"));
  const taken = await origin.call("PUT", "/v1/tenants/other/distributions/steal", { token: other, json: { ...good, defaultBehavior: { originId: "web" }, behaviors: [] } });
  assert.equal(taken.body.error.code, "ERR_HOSTNAME_TAKEN");
});

test("feed: long poll wakes on a change; snapshot plus feed equals a later snapshot; nodes report", async () => {
  const op = await origin.token(null, ["node"]);
  const start: Snapshot = (await origin.call("GET", "/v1/snapshot", { token: op })).body;
  const poll = origin.call("GET", `/v1/feed?since=${start.seq}&wait=10`, { token: op });
  const v = (await publish(acme, "feedfn", bundle("feed"))).body.digest;
  const page = (await poll).body;
  assert.ok(page.changes.length >= 1);
  assert.equal(page.changes[0].seq, start.seq + 1);
  const rest = (await origin.call("GET", `/v1/feed?since=${page.last}`, { token: op })).body;
  const state = structuredClone(start);
  for (const c of [...page.changes, ...rest.changes]) applyChange(state, c);
  const now: Snapshot = (await origin.call("GET", "/v1/snapshot", { token: op })).body;
  assert.deepEqual(state, now);
  assert.ok(now.tenants.acme!.versions[`feedfn/${v}`]);

  const r = await origin.call("POST", "/v1/nodes/edge-1/report", { token: op, json: { appliedSeq: now.seq - 1 } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await origin.call("POST", "/v1/nodes/edge-2/report", { token: op, json: { appliedSeq: now.seq } });
  const status = await origin.call("GET", `/v1/changes/${now.seq}`, { token: acme });
  assert.deepEqual([status.body.applied, status.body.pending, status.body.complete], [["edge-2"], ["edge-1"], false]);
  const ahead = await origin.call("POST", "/v1/nodes/edge-1/report", { token: op, json: { appliedSeq: now.seq + 100 } });
  assert.equal(ahead.status, 400);
  assert.equal((await origin.call("GET", "/v1/nodes", { token: acme })).status, 403);
  assert.equal((await origin.call("GET", "/v1/nodes", { token: op })).body.nodes.length, 2);
});

test("SSE: resume from Last-Event-ID and receive new changes in order", async () => {
  const op = await origin.token(null, ["node"]);
  const head = (await origin.call("GET", "/v1/health")).body.seq as number;
  const abort = new AbortController();
  const res = await fetch(`${origin.url}/v1/feed/stream`, { headers: { authorization: `Bearer ${op}`, "last-event-id": String(head - 2) }, signal: abort.signal });
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const seen: number[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const target = head + 2;
  void publish(acme, "sse", bundle("sse1")).then(() => publish(acme, "sse", bundle("sse2")));
  const deadline = Date.now() + 10_000;
  while (seen.at(-1) !== target + 1 && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let i: number;
    while ((i = buffer.indexOf("\n\n")) !== -1) {
      const event = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      const id = /^id: (\d+)$/m.exec(event);
      if (id) seen.push(Number(id[1]));
    }
  }
  abort.abort();
  // head-1, head, then: function "sse" created, version 1, version 2.
  assert.deepEqual(seen, [head - 1, head, head + 1, head + 2, head + 3]);
});

test("bootstrap token is the one from VERGE_ADMIN_TOKEN", async () => {
  assert.equal((await origin.call("GET", "/v1/whoami", { token: ADMIN })).body.tenant, null);
});
