import { test } from "node:test";
import assert from "node:assert/strict";
import { describe as describeValue } from "./limits.ts";

test("describe names what was found, for the messages that say what, where, expected and found", () => {
  assert.equal(describeValue(undefined), "undefined");
  assert.equal(describeValue(null), "null");
  assert.equal(describeValue([1]), "an array");
  assert.equal(describeValue("x"), 'the string "x"');
  assert.equal(describeValue(() => 1), "a function");
  assert.equal(describeValue(new Date(0)), "a Date");
  assert.equal(describeValue({}), "an object");
  assert.equal(describeValue(new Map()), "an instance of Map");
  assert.equal(describeValue(Object.create(null)), "an object with a null prototype");
  assert.equal(describeValue(Symbol("s")), "a symbol");
  assert.equal(describeValue(1n), "a bigint");
  assert.equal(describeValue(NaN), "number NaN");
  assert.equal(describeValue(true), "boolean true");
});
