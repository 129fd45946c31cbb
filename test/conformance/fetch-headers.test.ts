/** Headers inside the isolate (https://fetch.spec.whatwg.org/#headers-class). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { evalGuest } from "../helpers/guest.ts";

test("Headers: lowercase names, combined values, sorted iteration", async () => {
  const r = await evalGuest(`
    const h = new Headers({ "X-B": "2", "x-a": "1" });
    h.append("X-B", "3");
    h.append("Accept", "  text/html\\t");
    return {
      get: h.get("x-b"),
      getUpper: h.get("X-B"),
      accept: h.get("accept"),
      missing: h.get("nope"),
      has: [h.has("X-A"), h.has("nope")],
      entries: [...h],
      keys: [...h.keys()],
      values: [...h.values()],
      tag: Object.prototype.toString.call(h),
      iterTag: Object.prototype.toString.call(h.entries()),
    };
  `);
  assert.deepEqual(r, {
    get: "2, 3",
    getUpper: "2, 3",
    accept: "text/html",
    missing: null,
    has: [true, false],
    entries: [["accept", "text/html"], ["x-a", "1"], ["x-b", "2, 3"]],
    keys: ["accept", "x-a", "x-b"],
    values: ["text/html", "1", "2, 3"],
    tag: "[object Headers]",
    iterTag: "[object Headers Iterator]",
  });
});

test("Headers: set-cookie is never combined; getSetCookie()", async () => {
  const r = await evalGuest(`
    const h = new Headers();
    h.append("Set-Cookie", "a=1");
    h.append("set-cookie", "b=2");
    h.append("x", "y");
    return { all: h.getSetCookie(), get: h.get("set-cookie"), entries: [...h], getAll: h.getAll("Set-Cookie"),
      empty: new Headers().getSetCookie() };
  `);
  assert.deepEqual(r, {
    all: ["a=1", "b=2"],
    get: "a=1, b=2",
    entries: [["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x", "y"]],
    getAll: ["a=1", "b=2"],
    empty: [],
  });
});

test("Headers: init from pairs, records and Headers; set/delete; forEach", async () => {
  const r = await evalGuest(`
    const a = new Headers([["a", "1"], ["b", "2"], ["a", "3"]]);
    const b = new Headers(a);
    b.set("a", "x");
    b.delete("B");
    const seen = [];
    a.forEach(function (v, k, self) { seen.push([k, v, self === a, this.tag]); }, { tag: "t" });
    const rec = new Headers(Object.assign(Object.create({ inherited: "no" }), { own: "yes" }));
    return { a: [...a], b: [...b], seen, rec: [...rec] };
  `);
  assert.deepEqual(r, {
    a: [["a", "1, 3"], ["b", "2"]],
    b: [["a", "x"]],
    seen: [["a", "1, 3", true, "t"], ["b", "2", true, "t"]],
    rec: [["own", "yes"]],
  });
});

test("Headers: iteration sees changes made while iterating", async () => {
  const r = await evalGuest(`
    const h = new Headers({ a: "1", c: "3" });
    const out = [];
    for (const [k] of h) { out.push(k); if (k === "a") h.append("b", "2"); }
    return out;
  `);
  assert.deepEqual(r, ["a", "b", "c"]);
});

for (const [label, code] of [
  ["an empty name", `new Headers().append("", "v")`],
  ["a name with a space", `new Headers().set("a b", "v")`],
  ["a name with a colon", `new Headers({ "a:b": "v" })`],
  ["a non-ByteString name", `new Headers().get("é€")`],
  ["a value with CR LF", `new Headers().append("a", "x\\r\\ny: z")`],
  ["a value with NUL", `new Headers().set("a", "x\\0y")`],
  ["a value outside latin1", `new Headers().set("a", "€")`],
  ["a pair with 3 items", `new Headers([["a", "b", "c"]])`],
  ["a pair that is not iterable", `new Headers([1])`],
  ["a primitive init", `new Headers("a")`],
] as const) {
  test(`Headers: ${label} is a TypeError`, async () => {
    await assert.rejects(evalGuest(code), { name: "TypeError" });
  });
}

// evalGuest runs the snippet inside a fetch handler: \`request\` is the incoming request.
test("Headers: immutable guards (Response.error, Response.redirect, incoming request) throw TypeError on change", async () => {
  const r = await evalGuest(`
    const tries = (h) => ["append", "set", "delete"].map((m) => {
      try { h[m]("x", "y"); return "ok"; } catch (e) { return e.constructor.name; }
    });
    return {
      error: tries(Response.error().headers),
      redirect: tries(Response.redirect("https://example.com/", 301).headers),
      incoming: tries(request.headers),
      normal: tries(new Response("x").headers),
    };
  `);
  assert.deepEqual(r, {
    error: ["TypeError", "TypeError", "TypeError"],
    redirect: ["TypeError", "TypeError", "TypeError"],
    incoming: ["TypeError", "TypeError", "TypeError"],
    normal: ["ok", "ok", "ok"],
  });
});

test("Headers: methods on a non-Headers receiver are TypeErrors", async () => {
  await assert.rejects(evalGuest(`Headers.prototype.get.call({}, "a")`), { name: "TypeError" });
});
