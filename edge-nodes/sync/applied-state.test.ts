/** Applied states: frozen, copy-on-write batches, hostname index, purges. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Change, Distribution } from "../../src/shared/protocol.ts";
import { applyBatch, createAppliedState, emptySnapshot, normalizeHost } from "./applied-state.ts";

const at = "2026-01-01T00:00:00.000Z";
const dist = (tenant: string, name: string, hostnames: string[]) => ({ tenant, name, hostnames, origins: [], behaviors: [], defaultBehavior: {} as never, updatedAt: at }) as Distribution;

test("a batch makes a new frozen state and leaves the previous one as it was", () => {
  const s0 = createAppliedState(emptySnapshot());
  const changes: Change[] = [
    { seq: 1, tenant: "acme", kind: "tenant", key: "acme", op: "put", value: { name: "acme", createdAt: at }, at },
    { seq: 2, tenant: "acme", kind: "distribution", key: "site", op: "put", value: dist("acme", "site", ["WWW.Example.com"]), at },
    { seq: 3, tenant: "other", kind: "tenant", key: "other", op: "put", value: { name: "other", createdAt: at }, at },
  ];
  const { state: s1, purges, skipped } = applyBatch(s0, changes);
  assert.equal(s1.seq, 3);
  assert.deepEqual([purges, skipped], [[], 0]);
  assert.equal(s0.seq, 0);
  assert.deepEqual(s0.snapshot.tenants, {});
  assert.ok(Object.isFrozen(s1) && Object.isFrozen(s1.snapshot.tenants.acme!.distributions.site!.hostnames));
  assert.equal(s1.distributionFor("www.example.com:8443")?.name, "site");
  assert.equal(s1.distributionFor("WWW.EXAMPLE.COM.")?.name, "site");
  assert.equal(s1.distributionFor("example.com"), undefined);

  const { state: s2, purges: p2, skipped: k2 } = applyBatch(s1, [
    changes[2]!,
    { seq: 4, tenant: "acme", kind: "purge", key: "site/1", op: "put", value: { id: "1", distribution: "site", prefix: "/a", at, by: "t" }, at },
    { seq: 5, tenant: "acme", kind: "distribution", key: "site", op: "delete", at },
  ]);
  assert.equal(k2, 1, "a change already applied is skipped");
  assert.deepEqual(p2.map((p) => [p.tenant, p.purge.prefix]), [["acme", "/a"]]);
  assert.equal(s2.distributionFor("www.example.com"), undefined);
  assert.equal(s1.distributionFor("www.example.com")?.name, "site", "the old state still serves requests that hold it");
  assert.equal(s2.snapshot.tenants.other, s1.snapshot.tenants.other, "untouched tenants are shared");
});

test("host names", () => {
  assert.equal(normalizeHost("Example.COM:80"), "example.com");
  assert.equal(normalizeHost("[::1]:8080"), "[::1]");
  assert.equal(normalizeHost("a.test."), "a.test");
});
