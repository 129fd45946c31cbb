/**
 * Cron triggers at the registry (issue 5): `config.crons` validation with
 * field paths, and `POST /v1/cron/claim` arbitration — exactly one winner of
 * 20 concurrent claims, the same answer to the winner's retry, refusals
 * outside the claim window, claims pruned after their retention.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CronClaimRequest, CronClaimResult } from "../src/shared/protocol.ts";
import { createOriginApp } from "./app.ts";
import { bootstrap } from "./bootstrap.ts";
import { CLAIM_RETENTION_MS, CLAIM_WINDOW_MS } from "./routes/cron.ts";
import { createSecretBox } from "./secrets.ts";
import { openLmdbStore } from "./store/lmdb.ts";
import type { Store } from "./store/store.ts";

const ADMIN = "test-admin-token-0123456789abcdef";
const T0 = Date.parse("2030-01-01T12:00:00Z");
let now = T0;
let dir: string;
let store: Store;
let app: ReturnType<typeof createOriginApp>;
let acme: string;
let nodeToken: string;

async function call(method: string, path: string, token: string, json?: unknown): Promise<{ status: number; body: any }> {
  const res = await app.request(path, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, ...(json === undefined ? {} : { body: JSON.stringify(json) }) });
  return { status: res.status, body: await res.json() };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "verge-cron-"));
  store = openLmdbStore({ path: dir });
  await bootstrap(store, { adminToken: ADMIN });
  app = createOriginApp({ store, secrets: createSecretBox("test-secret-key"), now: () => now });
  assert.equal((await call("POST", "/v1/tenants", ADMIN, { name: "acme" })).status, 201);
  acme = (await call("POST", "/v1/tokens", ADMIN, { tenant: "acme", scopes: ["admin"], name: "acme" })).body.token;
  nodeToken = (await call("POST", "/v1/tokens", ADMIN, { tenant: null, scopes: ["node"], name: "nodes" })).body.token;
  const put = await call("PUT", "/v1/tenants/acme/functions/tick", acme, { config: { crons: ["*/5 * * * *", "0  3 * * MON"] } });
  assert.equal(put.status, 201, JSON.stringify(put.body));
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const claim = (body: Partial<CronClaimRequest>, token = nodeToken) => call("POST", "/v1/cron/claim", token, { tenant: "acme", function: "tick", cron: "*/5 * * * *", scheduledTime: T0, node: "n1", ...body });

test("config.crons: stored normalized; every problem reported with its field path", async () => {
  const fn = await call("GET", "/v1/tenants/acme/functions/tick", acme);
  assert.deepEqual(fn.body.config.crons, ["*/5 * * * *", "0 3 * * MON"]);
  const plain = await call("PUT", "/v1/tenants/acme/functions/plain", acme, { config: {} });
  assert.equal(plain.body.config.crons, undefined, "no crons: the field is absent, as before the feature");
  const bad = await call("PUT", "/v1/tenants/acme/functions/bad", acme, { config: { crons: ["0 24 * * *", 5, "0 0 30 2 *", "* * * * *", "* *  * * *", "0 0 * * 1#6"] } });
  assert.equal(bad.status, 400);
  const d = bad.body.error.details.diagnostics.map((x: { path: string; message: string }) => `${x.path}: ${x.message}`);
  assert.equal(d.length, 5, d.join("\n")); // entries past the limit are not examined
  assert.match(d[0], /^config\.crons: expected at most 5 entries, found 6/);
  assert.match(d[1], /^config\.crons\[0\]: invalid cron expression "0 24 \* \* \*": hour: 24 is out of range, expected 0–23/);
  assert.match(d[2], /^config\.crons\[1\]: expected a cron expression .* found number 5/);
  assert.match(d[3], /^config\.crons\[2\]: .*never fire/);
  assert.match(d[4], /^config\.crons\[4\]: duplicate of an earlier entry "\* \* \* \* \*"/);
  const notArray = await call("PUT", "/v1/tenants/acme/functions/bad", acme, { config: { crons: "* * * * *" } });
  assert.match(notArray.body.error.details.diagnostics[0].path, /^config\.crons$/);
});

test("20 concurrent claims of one fire: exactly one run: true, the others name the winner", async () => {
  const time = T0 - 5 * 60_000;
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => claim({ scheduledTime: time, node: `node-${i}` })));
  for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
  const winners = answers.filter((a) => (a.body as CronClaimResult).run);
  assert.equal(winners.length, 1);
  const winner = winners[0]!.body.node;
  for (const a of answers) if (!a.body.run) assert.deepEqual(a.body, { run: false, node: winner, reason: "claimed" });
  // The winner asking again (its answer was lost) is told to run; another node still is not.
  assert.deepEqual((await claim({ scheduledTime: time, node: winner })).body, { run: true, node: winner });
  assert.equal((await claim({ scheduledTime: time, node: "late" })).body.run, false);
  // Another cron, another time: separate claims.
  assert.equal((await claim({ scheduledTime: time + 5 * 60_000, node: "late" })).body.run, true);
  assert.equal((await claim({ cron: "0 3 * * MON", scheduledTime: Date.parse("2029-12-31T03:00:00Z") - 0, node: "late" })).status, 400, "outside the window");
});

test("refused: not a fire time, outside the window, a cron not in the config, tokens without the node scope", async () => {
  const off = await claim({ scheduledTime: T0 + 60_000 });
  assert.equal(off.status, 400);
  assert.match(off.body.error.message, /scheduledTime: 2030-01-01T12:01:00.000Z is not a time at which "\*\/5 \* \* \* \*" fires/);
  const old = await claim({ scheduledTime: T0 - CLAIM_WINDOW_MS - 5 * 60_000 });
  assert.match(old.body.error.message, /more than 60 minutes in the past/);
  const future = await claim({ scheduledTime: T0 + 60 * 60_000 });
  assert.match(future.body.error.message, /in the future .* check the node's clock/);
  assert.deepEqual((await claim({ cron: "*/10 * * * *" })).body, { run: false, reason: "not-configured" });
  assert.deepEqual((await claim({ function: "nope" })).body, { run: false, reason: "not-configured" });
  assert.equal((await claim({}, acme)).status, 403);
  const junk = await call("POST", "/v1/cron/claim", nodeToken, { tenant: "A", cron: 1, scheduledTime: "x", extra: 1 });
  assert.deepEqual(junk.body.error.details.diagnostics.map((x: { path: string }) => x.path).sort(), ["cron", "extra", "function", "node", "scheduledTime", "tenant"]);
});

test("claims are pruned after their retention, and a pruned fire cannot be claimed again", async () => {
  const time = T0 + 10 * 60_000;
  now = time;
  assert.equal((await claim({ scheduledTime: time, node: "a" })).body.run, true);
  const count = () => store.read((tx) => tx.range("cron-claims", { prefix: "" }).length);
  const before = count();
  assert.ok(before >= 3);
  now = time + CLAIM_RETENTION_MS + 60_000;
  // The next claim prunes every claim older than the retention; the old fire is refused by the window.
  assert.equal((await claim({ scheduledTime: now - (now % (5 * 60_000)), node: "b" })).body.run, true);
  assert.equal(count(), 1);
  assert.equal((await claim({ scheduledTime: time, node: "c" })).status, 400);
  now = T0;
});
