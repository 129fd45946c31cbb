import { test } from "node:test";
import assert from "node:assert/strict";
import { covers, matchPathPattern, pathPatternProblem } from "./path-pattern.ts";

test("path patterns match with CloudFront semantics", () => {
  assert.ok(matchPathPattern("/images/*.jpg", "/images/a/b.jpg"));
  assert.ok(matchPathPattern("images/*", "/images/"));
  assert.ok(matchPathPattern("/a?c", "/abc"));
  assert.ok(!matchPathPattern("/a?c", "/ac"));
  assert.ok(!matchPathPattern("/Images/*", "/images/x"), "case-sensitive");
  assert.ok(matchPathPattern("/api/*/v?/*", "/api/x/v1/y"));
  assert.ok(!matchPathPattern("/api", "/api/"));
});

test("a pattern covers another when it matches every path the other does", () => {
  assert.ok(covers("/images/*", "/images/*.jpg"));
  assert.ok(covers("/images/*", "images/a?c"));
  assert.ok(covers("/*.jpg", "/images/*.jpg"));
  assert.ok(covers("/a*", "/a*b*"));
  assert.ok(!covers("/images/*.jpg", "/images/*"));
  assert.ok(!covers("/api/v1/*", "/api/*"));
  assert.ok(!covers("/a?", "/a*"));
  assert.ok(covers("/a?", "/ab"));
});

test("bad patterns are named", () => {
  assert.match(pathPatternProblem("*")!, /defaultBehavior/);
  assert.match(pathPatternProblem("/a b")!, /expected only/);
  assert.match(pathPatternProblem("x".repeat(256))!, /255/);
  assert.equal(pathPatternProblem("/ok/*.png"), null);
});
