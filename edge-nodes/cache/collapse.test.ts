import { test } from "node:test";
import assert from "node:assert/strict";
import { ALL_QUERY, TTL, get, makeOrigin, ok, setup, type Origin } from "./test-support.ts";

/** An origin whose answers wait until the test releases them, so requests overlap for sure. */
function gatedOrigin(make: (n: number, conditional: Record<string, string>) => Response | Error): Origin & { release(): void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let n = 0;
  const origin = makeOrigin(async (conditional) => {
    const mine = ++n;
    await gate;
    const answer = make(mine, conditional);
    if (answer instanceof Error) throw answer;
    return answer;
  });
  return { ...origin, release: open };
}

test("concurrent misses of one key call fill once; the others get the stored response", async (t) => {
  const h = setup(t);
  const origin = gatedOrigin((n) => ok(`body-${n}`, { "cache-control": "max-age=60" }));
  const all = Promise.all(Array.from({ length: 5 }, () => get(h, origin)));
  origin.release();
  const results = await all;
  assert.equal(origin.calls.length, 1);
  assert.deepEqual(results.map((r) => r.body), Array(5).fill("body-1"));
  assert.deepEqual(results.map((r) => r.result).sort(), ["Hit", "Hit", "Hit", "Hit", "Miss"]);
});

test("when the response turns out uncacheable, each waiting request makes its own fill", async (t) => {
  const h = setup(t);
  const origin = gatedOrigin((n) => ok(`private-${n}`, { "cache-control": "private" }));
  const all = Promise.all(Array.from({ length: 4 }, () => get(h, origin)));
  origin.release();
  const results = await all;
  assert.equal(origin.calls.length, 4);
  assert.deepEqual(results.map((r) => r.body).sort(), ["private-1", "private-2", "private-3", "private-4"]);
  assert.ok(results.every((r) => r.result === "Miss"));
});

test("a waiter whose Vary values differ from the stored variant fills alone", async (t) => {
  const h = setup(t);
  const origin = gatedOrigin((n) => ok(`v${n}`, { "cache-control": "max-age=60", vary: "accept-language" }));
  const fr = get(h, origin, { headers: { "accept-language": "fr" } });
  const fr2 = get(h, origin, { headers: { "accept-language": "fr" } });
  const de = get(h, origin, { headers: { "accept-language": "de" } });
  origin.release();
  const [a, b, c] = await Promise.all([fr, fr2, de]);
  assert.equal(origin.calls.length, 2);
  assert.equal(a.body, "v1");
  assert.equal(b.body, "v1");
  assert.equal(b.result, "Hit");
  assert.equal(c.body, "v2");
  assert.equal(c.result, "Miss");
});

test("when the collapsed fill fails, the waiters try the origin themselves", async (t) => {
  const h = setup(t);
  const origin = gatedOrigin((n) => (n === 1 ? new Error("origin down") : ok(`late-${n}`, { "cache-control": "max-age=60" })));
  const first = get(h, origin);
  const second = get(h, origin);
  origin.release();
  await assert.rejects(first, /origin down/);
  const r = await second;
  assert.equal(r.body, "late-2");
  assert.equal(origin.calls.length, 2);
});

test("concurrent requests for a stale entry share one revalidation", async (t) => {
  const h = setup(t);
  const seed = makeOrigin(ok("cached", { "cache-control": "no-cache", etag: '"1"' }));
  await get(h, seed);
  const origin = gatedOrigin(() => new Response(null, { status: 304 }));
  const all = Promise.all(Array.from({ length: 3 }, () => get(h, origin)));
  origin.release();
  const results = await all;
  assert.equal(origin.calls.length, 1);
  assert.deepEqual(origin.calls[0], { "if-none-match": '"1"' });
  assert.ok(results.every((r) => r.result === "RefreshHit" && r.body === "cached"));
});

test("different keys do not wait on each other", async (t) => {
  const h = setup(t);
  const origin = gatedOrigin((n) => ok(`b${n}`, { "cache-control": "max-age=60" }));
  const all = Promise.all([get(h, origin, { path: "/x" }), get(h, origin, { path: "/y" })]);
  origin.release();
  const [x, y] = await all;
  assert.equal(origin.calls.length, 2);
  assert.notEqual(x.body, y.body);
});

test("a waiter stops waiting on a fill whose viewer never reads the body, and fills itself", async (t) => {
  const h = setup(t, { collapseWaitMs: 20 });
  const origin = makeOrigin((_c) => ok("slow", { "cache-control": "max-age=60" }));
  const url = new URL("https://example.com/stuck");
  const key = h.cache.key({ distribution: "acme/site", behavior: "default", host: url.hostname, url, headers: new Headers(), policy: ALL_QUERY });
  const serve = () =>
    h.cache.serve({ key, request: new Request(url), path: url.pathname, distribution: "acme/site", ttl: TTL, fill: (c) => origin.fill(c) });
  const leader = await serve();
  assert.equal(leader.result, "Miss");
  // The leader's body is left unread: nothing commits, so the waiter times out and fills.
  const waiter = await serve();
  assert.equal(waiter.result, "Miss");
  assert.equal(await waiter.response.text(), "slow");
  assert.equal(origin.calls.length, 2);
  await leader.response.body?.cancel();
});
