import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clearCrashMarker, createCrashMarker, digestOf, readCrashMarker } from "./marker.ts";

const dir = mkdtempSync(join(tmpdir(), "verge-marker-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("the marker holds the last function entered and is written only when the id changes", () => {
  const path = join(dir, "workers", "0.marker");
  const onEnter = createCrashMarker(path);
  assert.equal(readFileSync(path, "utf8"), "", "opened empty");
  assert.equal(readCrashMarker(path), null);

  onEnter("acme/resize/aaaaaaaaaaaaaaaaaaaa");
  assert.equal(readFileSync(path, "utf8"), "acme/resize/aaaaaaaaaaaaaaaaaaaa\n");
  assert.equal(readCrashMarker(path), "acme/resize/aaaaaaaaaaaaaaaaaaaa");

  // Overwrite behind its back: the same id again must not write.
  writeFileSync(path, "untouched");
  onEnter("acme/resize/aaaaaaaaaaaaaaaaaaaa");
  assert.equal(readFileSync(path, "utf8"), "untouched");

  // A shorter id leaves nothing of the longer one (padded with newlines, one pwrite).
  onEnter("acme/a/bb");
  const text = readFileSync(path, "utf8");
  assert.equal(text, "acme/a/bb\n" + "\n".repeat("acme/resize/aaaaaaaaaaaaaaaaaaaa\n".length - "acme/a/bb\n".length));
  assert.equal(readCrashMarker(path), "acme/a/bb");
  assert.equal(statSync(path).size, "acme/resize/aaaaaaaaaaaaaaaaaaaa\n".length);

  onEnter("acme/resize/aaaaaaaaaaaaaaaaaaaa");
  assert.equal(readCrashMarker(path), "acme/resize/aaaaaaaaaaaaaaaaaaaa");

  clearCrashMarker(path);
  assert.equal(readCrashMarker(path), null);
  assert.equal(readCrashMarker(join(dir, "missing.marker")), null);
});

test("ids in UTF-8 survive the round trip", () => {
  const path = join(dir, "utf8.marker");
  createCrashMarker(path)("tenant/fonction-é/1234");
  assert.equal(readCrashMarker(path), "tenant/fonction-é/1234");
});

test("digestOf takes the last segment of tenant/function/digest", () => {
  assert.equal(digestOf("acme/resize/abc123"), "abc123");
  assert.equal(digestOf("abc123"), "abc123");
});
