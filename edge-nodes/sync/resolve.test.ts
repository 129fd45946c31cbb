/** Version resolution: pinned versions, weighted aliases, sticky keys, unknown names. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Alias, FunctionAssociation, Snapshot, StickyKey, WeightedRoute } from "../../src/shared/protocol.ts";
import { createAppliedState } from "./applied-state.ts";
import { cookieValue, pickRoute, resolveVersion, stickyPoint } from "./resolve.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);

function stateWith(routes: WeightedRoute[], stickyKey: StickyKey | null = null) {
  const alias: Alias = { tenant: "acme", function: "fn", name: "live", routes, stickyKey, revision: 1, updatedAt: "", updatedBy: "t" };
  const version = (digest: string) => ({ tenant: "acme", function: "fn", digest }) as never;
  const snapshot: Snapshot = {
    seq: 7,
    tenants: {
      acme: {
        tenant: { name: "acme", createdAt: "" },
        functions: { fn: { tenant: "acme", name: "fn", config: {} as never, createdAt: "", updatedAt: "" } },
        versions: { [`fn/${A}`]: version(A), [`fn/${B}`]: version(B), [`fn/${C}`]: version(C) },
        aliases: { "fn/live": alias },
        distributions: {},
        signing: { tenant: "acme", policy: "off", keys: [] },
      },
    },
  };
  return createAppliedState(snapshot);
}

const live: FunctionAssociation = { function: "fn", alias: "live", includeBody: false };
const req = (headers: Record<string, string> = {}, url = "https://x.test/") => ({ headers: new Headers(headers), url: new URL(url) });

test("a pinned version and a one-route alias", () => {
  const s = stateWith([{ version: A, weight: 1 }]);
  assert.deepEqual(resolveVersion(s, "acme", { function: "fn", version: B, includeBody: false }, req()), { tenant: "acme", function: "fn", digest: B });
  assert.deepEqual(resolveVersion(s, "acme", live, req()), { tenant: "acme", function: "fn", digest: A });
});

test("sticky by cookie: one user stays on one version; weights are roughly honoured", () => {
  const s = stateWith([{ version: B, weight: 0.1 }, { version: A, weight: 0.9 }], { source: "cookie", name: "uid" });
  const counts = new Map<string, number>();
  for (let i = 0; i < 10_000; i++) {
    const r = req({ cookie: `theme=dark; uid=user-${i}; x=1` });
    const first = resolveVersion(s, "acme", live, r, () => 0).digest;
    for (let j = 0; j < 3; j++) assert.equal(resolveVersion(s, "acme", live, r, () => 0.99).digest, first, "same user, same version");
    counts.set(first, (counts.get(first) ?? 0) + 1);
  }
  const canary = (counts.get(B) ?? 0) / 10_000;
  assert.ok(canary > 0.085 && canary < 0.115, `canary share ${canary}`);
});

test("raising a canary's weight keeps everyone already on it there", () => {
  const before = stateWith([{ version: B, weight: 0.1 }, { version: A, weight: 0.9 }], { source: "header", name: "x-user" });
  const after = stateWith([{ version: B, weight: 0.3 }, { version: A, weight: 0.7 }], { source: "header", name: "x-user" });
  let moved = 0;
  for (let i = 0; i < 2_000; i++) {
    const r = req({ "x-user": `u${i}` });
    const was = resolveVersion(before, "acme", live, r).digest;
    const now = resolveVersion(after, "acme", live, r).digest;
    if (was === B) assert.equal(now, B);
    if (was !== now) moved++;
  }
  assert.ok(moved > 250 && moved < 550, `about 20% moved to the canary: ${moved}`);
});

test("the association's sticky key overrides the alias's; query keys; no value is random", () => {
  const s = stateWith([{ version: A, weight: 0.5 }, { version: B, weight: 0.3 }, { version: C, weight: 0.2 }], { source: "cookie", name: "uid" });
  const byQuery: FunctionAssociation = { ...live, stickyKey: { source: "query", name: "u" } };
  const r = req({ cookie: "uid=1" }, "https://x.test/?u=abc");
  const expected = pickRoute([{ version: A, weight: 0.5 }, { version: B, weight: 0.3 }, { version: C, weight: 0.2 }], stickyPoint("acme/fn/live", "abc")).version;
  assert.equal(resolveVersion(s, "acme", byQuery, r, () => 0).digest, expected);
  assert.equal(resolveVersion(s, "acme", byQuery, r, () => 0.99).digest, expected);
  // No value under the key: the random draw decides.
  assert.equal(resolveVersion(s, "acme", live, req(), () => 0.1).digest, A);
  assert.equal(resolveVersion(s, "acme", live, req(), () => 0.6).digest, B);
  assert.equal(resolveVersion(s, "acme", live, req(), () => 0.95).digest, C);
  assert.equal(resolveVersion(s, "acme", live, req({ cookie: "uid=" }), () => 0.95).digest, C, "an empty value is no value");
});

test("unknown tenant, function, alias or pinned version: ERR_FUNCTION_NOT_FOUND", () => {
  const s = stateWith([{ version: A, weight: 1 }]);
  const cases: Array<[string, FunctionAssociation]> = [
    ["ghost", live],
    ["acme", { ...live, function: "nope" }],
    ["acme", { ...live, alias: "staging" }],
    ["acme", { function: "fn", version: "d".repeat(64), includeBody: false }],
  ];
  for (const [tenant, assoc] of cases) {
    assert.throws(() => resolveVersion(s, tenant, assoc, req()), (err: { code: string; message: string }) => err.code === "ERR_FUNCTION_NOT_FOUND" && /seq 7/.test(err.message));
  }
});

test("cookies and points", () => {
  assert.equal(cookieValue("a=1; uid=\"q\"; b=2", "uid"), "q");
  assert.equal(cookieValue("auid=1", "uid"), undefined);
  assert.equal(cookieValue(null, "uid"), undefined);
  const p = stickyPoint("s", "v");
  assert.ok(p >= 0 && p < 1);
  assert.equal(stickyPoint("s", "v"), p);
  assert.notEqual(stickyPoint("other", "v"), p, "salted per alias");
  assert.equal(pickRoute([{ version: A, weight: 0.3 }, { version: B, weight: 0.7 }], 0.9999999).version, B);
});
