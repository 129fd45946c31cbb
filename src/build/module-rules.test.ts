import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundle } from "./bundle.ts";
import { DEFAULT_MODULE_RULES, globToRegExp, parseModuleRules } from "./module-rules.ts";

test("globs match import specifiers as Wrangler's glob-to-regexp does: only * is special, / included", () => {
  const html = globToRegExp("**/*.html");
  assert.ok(html.test("./page.html"));
  assert.ok(html.test("../views/deep/page.html"));
  assert.ok(html.test("pkg/templates/page.html"));
  assert.ok(!html.test("./page.htmlx"));
  assert.ok(!html.test("./page-html"), "the dot is literal");
  const wasm = globToRegExp("**/*.wasm?module");
  assert.ok(wasm.test("./add.wasm?module"));
  assert.ok(!wasm.test("./add.wasmXmodule"), "? is a literal question mark");
  assert.ok(globToRegExp("src/[x]/*.md").test("src/[x]/a.md"), "brackets are literal");
  assert.ok(!globToRegExp("src/[x]/*.md").test("src/x/a.md"));
});

test("the config's rules come first; a rule without fallthrough = true drops the later rules of its type, the defaults included", () => {
  assert.deepEqual(parseModuleRules().rules, [...DEFAULT_MODULE_RULES]);
  const md = { type: "Text" as const, globs: ["**/*.md"] };
  const parsed = parseModuleRules([md]);
  assert.deepEqual(parsed.rules.map((r) => r.type), ["Text", "Data", "CompiledWasm"]);
  assert.equal(parsed.rules[0], md);
  assert.deepEqual(parsed.removed, [DEFAULT_MODULE_RULES[0]]);

  const through = parseModuleRules([{ ...md, fallthrough: true }]);
  assert.deepEqual(through.rules.map((r) => r.globs[0]), ["**/*.md", "**/*.txt", "**/*.bin", "**/*.wasm"]);
  assert.deepEqual(through.removed, []);

  // fallthrough = false behaves as no fallthrough (Wrangler only uses it to silence its warning).
  const two = parseModuleRules([{ type: "Data", globs: ["**/*.dat"], fallthrough: false }, { type: "Data", globs: ["**/*.raw"] }]);
  assert.deepEqual(two.removed.map((r) => r.globs[0]), ["**/*.raw", "**/*.bin"]);
  // JavaScript rules take part too: they complete their own type only.
  assert.deepEqual(parseModuleRules([{ type: "ESModule", globs: ["**/*.js"] }]).removed, []);
});

function project(t: { after(fn: () => void): void }, files: Record<string, string | Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), "verge-rules-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

test("the files the rules load are in the bundle's inputs, so verge dev watches them; .json and .txt import as before", async (t) => {
  const dir = project(t, {
    "index.js": `import page from "./page.html"; import conf from "./conf.json"; import note from "./note.txt";\nexport default { fetch: () => new Response(page + conf.a + note) };\n`,
    "page.html": "<p>hi</p>",
    "conf.json": `{ "a": 1 }`,
    "note.txt": "note",
  });
  const built = await bundle(join(dir, "index.js"));
  assert.deepEqual(new Set(built.inputs), new Set(["index.js", "page.html", "conf.json", "note.txt"].map((f) => join(dir, f))));
  assert.match(built.code, /"<p>hi<\/p>"/);
  assert.match(built.code, /"note"/);
  assert.match(built.code, /a: 1/);
});

test("an import only a dropped rule matches is a build error naming the rule and fallthrough", async (t) => {
  const dir = project(t, {
    "index.js": `import page from "./page.html";\nexport default { fetch: () => new Response(page) };\n`,
    "page.html": "<p>hi</p>",
  });
  await assert.rejects(bundle(join(dir, "index.js"), { rules: [{ type: "Text", globs: ["**/*.md"] }] }), (err: Error & { code?: string; details?: { problems: { text: string; file?: string; line?: number }[] } }) => {
    assert.equal(err.code, "ERR_BUILD_FAILED");
    const problem = err.details!.problems[0]!;
    assert.match(problem.text, /^\.\/page\.html matches the module rule \{"type":"Text","globs":\["\*\*\/\*\.txt","\*\*\/\*\.html","\*\*\/\*\.sql"\]\}/);
    assert.match(problem.text, /fallthrough = true/);
    assert.equal(problem.file, join(dir, "index.js"));
    assert.equal(problem.line, 1);
    return true;
  });
});

test("an import a rule matches but that does not exist is esbuild's resolve error, at the import", async (t) => {
  const dir = project(t, { "index.js": `import page from "./missing.html";\nexport default { fetch: () => new Response(page) };\n` });
  await assert.rejects(bundle(join(dir, "index.js")), (err: Error & { details?: { problems: { text: string; line?: number }[] } }) => {
    assert.match(err.details!.problems[0]!.text, /Could not resolve "\.\/missing\.html"/);
    assert.equal(err.details!.problems[0]!.line, 1);
    return true;
  });
});
