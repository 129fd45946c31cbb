/**
 * The change feed under load (issue 3): 20 concurrent publishes give one
 * version per distinct bundle and gap-free, strictly increasing sequence
 * numbers; a follower disconnected for 1000 changes resumes and ends with the
 * state of a cold snapshot.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { applyChange, type Change, type FeedPage, type Snapshot, type VersionInfo } from "../src/shared/protocol.ts";
import { digestOf } from "../src/shared/signing.ts";
import { bundle, startTestOrigin, type TestOrigin } from "./testing/harness.ts";

let origin: TestOrigin;
let acme: string;
let node: string;
before(async () => {
  origin = await startTestOrigin();
  acme = await origin.tenant("acme");
  node = await origin.token(null, ["node"]);
});
after(() => origin.close());

/** The complete `change` events at the start of an SSE text buffer, and the unfinished rest. */
function changeEvents(buffer: string): { changes: Change[]; rest: string } {
  const events = buffer.split("\n\n");
  const rest = events.pop()!;
  const changes: Change[] = [];
  for (const e of events) {
    const data = /^data: (.*)$/m.exec(e)?.[1];
    if (/^event: change$/m.test(e) && data) changes.push(JSON.parse(data) as Change);
  }
  return { changes, rest };
}

async function feed(since: number, token = node): Promise<Change[]> {
  const out: Change[] = [];
  for (;;) {
    const page: FeedPage = (await origin.call("GET", `/v1/feed?since=${since}`, { token })).body;
    out.push(...page.changes);
    if (page.last === page.head) return out;
    since = page.last;
  }
}

test("20 concurrent publishes, same and different bundles: one version per bundle, gap-free sequence", async () => {
  const start = (await origin.call("GET", "/v1/health")).body.seq as number;
  const same = bundle("same");
  const codes = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? same : bundle(`different-${i}`)));
  const replies = await Promise.all(codes.map((code, i) => origin.call("POST", `/v1/tenants/acme/functions/${i % 4 < 2 ? "one" : "two"}/versions`, { token: acme, body: code })));
  assert.ok(replies.every((r) => r.status === 201 || r.status === 200), JSON.stringify(replies.map((r) => r.status)));
  // `same` went to both functions: one version in each; each different bundle once.
  const created = replies.filter((r) => r.status === 201).map((r) => `${r.body.function}/${r.body.digest}`);
  assert.equal(created.length, new Set(created).size, "no version created twice");
  const expected = new Set(codes.map((code, i) => `${i % 4 < 2 ? "one" : "two"}/${digestOf(code)}`));
  assert.deepEqual(new Set(created), expected);
  for (const r of replies.filter((r) => r.body.digest === digestOf(same))) {
    const first = replies.find((x) => x.status === 201 && x.body.digest === r.body.digest && x.body.function === r.body.function)!;
    assert.deepEqual(r.body, first.body, "a repeated publish returns the same version");
  }
  const changes = await feed(start);
  assert.deepEqual(changes.map((c) => c.seq), Array.from({ length: changes.length }, (_, i) => start + i + 1), "strictly increasing, no gaps");
  const versionKeys = changes.filter((c) => c.kind === "version").map((c) => c.key);
  assert.deepEqual(new Set(versionKeys), expected);
  assert.equal(versionKeys.length, expected.size, "one change per version");
  const list = await origin.call("GET", "/v1/tenants/acme/functions/one/versions", { token: acme });
  assert.equal(list.body.versions.length, [...expected].filter((k) => k.startsWith("one/")).length);
});

test("a follower disconnected for 1000 changes resumes to the state of a cold snapshot", async () => {
  const versions: string[] = [];
  for (let i = 0; i < 3; i++) versions.push(((await origin.call("POST", "/v1/tenants/acme/functions/flip/versions", { token: acme, body: bundle(`flip${i}`) })).body as VersionInfo).digest);
  await origin.call("PUT", "/v1/tenants/acme/functions/flip/aliases/live", { token: acme, json: { version: versions[0] } });

  // The follower: a cold snapshot, then the SSE stream until it has caught up, then it drops.
  const follower: Snapshot = (await origin.call("GET", "/v1/snapshot", { token: node })).body;
  const abort = new AbortController();
  const res = await fetch(`${origin.url}/v1/feed/stream?since=${follower.seq}`, { headers: { authorization: `Bearer ${node}` }, signal: abort.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  await origin.call("PUT", "/v1/tenants/acme/functions/flip/aliases/live", { token: acme, json: { version: versions[1] } });
  let buffer = "";
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    const parsed = changeEvents(buffer);
    buffer = parsed.rest;
    for (const change of parsed.changes) applyChange(follower, change);
    if (follower.tenants.acme!.aliases["flip/live"]?.routes[0]!.version === versions[1]) break;
  }
  abort.abort();
  const resumeFrom = follower.seq;

  // 1000 changes while it is away: alias flips, config edits, a distribution, new versions.
  const writes: Array<() => Promise<unknown>> = [];
  for (let i = 0; i < 1000; i++) {
    if (i % 10 === 0) writes.push(() => origin.call("PUT", "/v1/tenants/acme/functions/flip", { token: acme, json: { config: { cpuMs: 10 + i } } }));
    else if (i % 97 === 0) writes.push(() => origin.call("POST", "/v1/tenants/acme/functions/flip/versions", { token: acme, body: bundle(`away${i}`) }));
    else writes.push(() => origin.call("PUT", "/v1/tenants/acme/functions/flip/aliases/live", { token: acme, json: { routes: [{ version: versions[i % 3]!, weight: 0.5 }, { version: versions[(i + 1) % 3]!, weight: 0.5 }] } }));
  }
  for (let i = 0; i < writes.length; i += 50) {
    const replies = (await Promise.all(writes.slice(i, i + 50).map((w) => w()))) as Array<{ status: number }>;
    assert.ok(replies.every((r) => r.status < 300), "every write accepted");
  }
  const changes = await feed(resumeFrom);
  assert.ok(changes.length >= 1000, `${changes.length} changes while away`);

  // Resume over SSE with Last-Event-ID, as a reconnecting EventSource does.
  const cold: Snapshot = (await origin.call("GET", "/v1/snapshot", { token: node })).body;
  const again = await fetch(`${origin.url}/v1/feed/stream`, { headers: { authorization: `Bearer ${node}`, "last-event-id": String(resumeFrom) }, signal: AbortSignal.timeout(20_000) });
  const r2 = again.body!.pipeThrough(new TextDecoderStream()).getReader();
  buffer = "";
  const seqs: number[] = [];
  while (follower.seq < cold.seq) {
    const { value, done } = await r2.read();
    if (done) break;
    buffer += value;
    const parsed = changeEvents(buffer);
    buffer = parsed.rest;
    for (const change of parsed.changes) {
      seqs.push(change.seq);
      applyChange(follower, change);
    }
  }
  await r2.cancel();
  assert.deepEqual(seqs, Array.from({ length: cold.seq - resumeFrom }, (_, i) => resumeFrom + i + 1), "every change once, in order");
  assert.deepEqual(follower, cold);
});
