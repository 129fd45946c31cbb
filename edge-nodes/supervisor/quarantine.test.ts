import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCrashLedger } from "./quarantine.ts";

const dir = mkdtempSync(join(tmpdir(), "verge-quarantine-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const MIN = 60_000;
function clock(start = Date.parse("2026-01-01T00:00:00Z")) {
  const c = { t: start, now: () => c.t };
  return c;
}

test("3 crashes of one digest within 10 minutes quarantine it; other digests and versions are untouched", () => {
  const c = clock();
  const ledger = createCrashLedger({ now: c.now });
  assert.equal(ledger.recordCrash("acme/fn/d1"), null);
  c.t += 4 * MIN;
  assert.equal(ledger.recordCrash("acme/fn/d1"), null);
  assert.equal(ledger.recordCrash("acme/other/d2"), null);
  c.t += 5 * MIN;
  const entry = ledger.recordCrash("acme/fn/d1");
  assert.deepEqual(entry, { digest: "d1", functionId: "acme/fn/d1", crashes: 3, since: new Date(c.t).toISOString() });
  assert.equal(ledger.has("d1"), true);
  assert.equal(ledger.has("d2"), false);
  assert.equal(ledger.has("d3"), false, "a new version of the same function is not quarantined");
  assert.deepEqual(ledger.list().map((e) => e.digest), ["d1"]);
  // Quarantine lasts past the window: until a new version, or a release.
  c.t += 60 * MIN;
  assert.equal(ledger.has("d1"), true);
  assert.equal(ledger.release("d1"), true);
  assert.equal(ledger.release("d1"), false);
  assert.equal(ledger.has("d1"), false);
});

test("crashes spread wider than the window do not quarantine", () => {
  const c = clock();
  const ledger = createCrashLedger({ now: c.now });
  for (let i = 0; i < 6; i++) {
    assert.equal(ledger.recordCrash("acme/fn/slow"), null, `crash ${i + 1}`);
    c.t += 5 * MIN + 1;
  }
  assert.equal(ledger.has("slow"), false);
});

test("the rule is configurable", () => {
  const ledger = createCrashLedger({ rule: { crashes: 1, windowMs: 1_000 } });
  assert.notEqual(ledger.recordCrash("t/f/x"), null);
  assert.equal(ledger.has("x"), true);
});

test("the file keeps quarantines and the crashes still inside the window across restarts", () => {
  const file = join(dir, "q.json");
  const c = clock();
  const first = createCrashLedger({ file, now: c.now });
  for (let i = 0; i < 3; i++) first.recordCrash("acme/fn/bad");
  first.recordCrash("acme/fn/twice");
  c.t += MIN;
  first.recordCrash("acme/fn/twice");
  first.recordCrash("acme/fn/old");
  const saved = JSON.parse(readFileSync(file, "utf8"));
  assert.equal(saved.version, 1);
  assert.deepEqual(saved.quarantined.map((e: { digest: string }) => e.digest), ["bad"]);

  c.t += 9 * MIN + 30_000; // the first "twice" crash is now 10.5 minutes old, the second 9.5
  const second = createCrashLedger({ file, now: c.now });
  assert.equal(second.has("bad"), true);
  assert.equal(second.recordCrash("acme/fn/twice"), null, "only one earlier crash is still inside the window");
  assert.notEqual(second.recordCrash("acme/fn/twice"), null);
  assert.equal(second.recordCrash("acme/fn/old"), null);
  assert.equal(second.has("old"), false);
});

test("an unreadable file is refused with what was expected", () => {
  const file = join(dir, "bad.json");
  writeFileSync(file, "{ not json");
  assert.throws(() => createCrashLedger({ file }), (err: { code: string; message: string }) => err.code === "ERR_INVALID_QUARANTINE_FILE" && err.message.includes(file));
  writeFileSync(file, JSON.stringify({ version: 2 }));
  assert.throws(() => createCrashLedger({ file }), { code: "ERR_INVALID_QUARANTINE_FILE" });
});
