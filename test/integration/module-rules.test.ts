/**
 * Wrangler's module rules, bundled by src/build and run by the runtime: what
 * a Worker importing .html, .sql, .bin, .wasm (and files a `[[rules]]` entry
 * names) sees inside the isolate.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundle, type BundleOptions } from "../../src/build/bundle.ts";
import { DEFAULT_MODULE_RULES } from "../../src/build/module-rules.ts";
import { DEFAULT_RULE_GLOBS } from "../../wrangler-compat/rules.ts";
import { Verge } from "../../src/index.ts";

/**
 * A WebAssembly module exporting `add(a: i32, b: i32): i32`, written out by
 * hand: header, type, function, export and code sections.
 */
const ADD_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, // type 0: (i32, i32) -> i32
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, // export "add" = function 0
  0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, // local.get 0, local.get 1, i32.add
]);

async function run(t: { after(fn: () => unknown): void }, files: Record<string, string | Uint8Array>, options: BundleOptions = {}): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), "verge-module-rules-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const built = await bundle(join(dir, "index.ts"), options);
  const verge = new Verge({ modules: true, script: built.code, sourceMap: built.sourceMap });
  t.after(() => verge.dispose());
  const res = await verge.dispatchFetch("http://localhost/");
  assert.equal(res.status, 200);
  return res.json();
}

test("default rules: .html, .sql and .txt are strings, .bin an ArrayBuffer, .wasm and .wasm?module a WebAssembly.Module; .json stays JSON", { timeout: 60_000 }, async (t) => {
  const seen = await run(t, {
    "index.ts": `import page from "./page.html";
import query from "./schema.sql";
import note from "./note.txt";
import conf from "./conf.json";
import data from "./blob.bin";
import add from "./add.wasm";
import addModule from "./add.wasm?module";
// At the top level, as Workers recommends: the module is compiled when the bundle loads.
const instance = new WebAssembly.Instance(add, {});
export default {
  async fetch(): Promise<Response> {
    const other = await WebAssembly.instantiate(addModule, {});
    return Response.json({
      page, query, note, conf,
      dataKind: Object.prototype.toString.call(data), dataBytes: [...new Uint8Array(data)],
      wasmIsModule: add instanceof WebAssembly.Module,
      exports: WebAssembly.Module.exports(add),
      sum: (instance.exports.add as (a: number, b: number) => number)(2, 40),
      sum2: (other.exports.add as (a: number, b: number) => number)(-7, 3),
    });
  },
};
`,
    "page.html": "<!doctype html><h1>héllo</h1>\n",
    "schema.sql": "CREATE TABLE t (id INTEGER);\n",
    "note.txt": "plain text",
    "conf.json": `{ "flag": true }`,
    "blob.bin": new Uint8Array([0, 1, 2, 253, 254, 255]),
    "add.wasm": ADD_WASM,
  });
  assert.deepEqual(seen, {
    page: "<!doctype html><h1>héllo</h1>\n",
    query: "CREATE TABLE t (id INTEGER);\n",
    note: "plain text",
    conf: { flag: true },
    dataKind: "[object ArrayBuffer]",
    dataBytes: [0, 1, 2, 253, 254, 255],
    wasmIsModule: true,
    exports: [{ name: "add", kind: "function" }],
    sum: 42,
    sum2: -4,
  });
});

test("a [[rules]] entry adds a type for its globs; with fallthrough = true the default rule of that type still applies", { timeout: 60_000 }, async (t) => {
  const seen = await run(
    t,
    {
      "index.ts": `import readme from "./README.md";
import page from "./page.html";
import raw from "./frame.dat";
export default { fetch: () => Response.json({ readme, page, raw: raw.byteLength, kind: Object.prototype.toString.call(raw) }) };
`,
      "README.md": "# Title\n",
      "page.html": "<p>kept</p>",
      "frame.dat": new Uint8Array(300),
    },
    { rules: [{ type: "Text", globs: ["**/*.md"], fallthrough: true }, { type: "Data", globs: ["**/*.dat"], fallthrough: true }] },
  );
  assert.deepEqual(seen, { readme: "# Title\n", page: "<p>kept</p>", raw: 300, kind: "[object ArrayBuffer]" });
});

test("a rule without fallthrough replaces the default of its type: .md is text, importing .html is then a build error", { timeout: 60_000 }, async (t) => {
  const rules = [{ type: "Text" as const, globs: ["**/*.md"] }];
  const seen = await run(t, { "index.ts": `import readme from "./doc.md";\nexport default { fetch: () => Response.json({ readme }) };\n`, "doc.md": "*docs*" }, { rules });
  assert.deepEqual(seen, { readme: "*docs*" });
  await assert.rejects(
    run(t, { "index.ts": `import page from "./page.html";\nexport default { fetch: () => Response.json({ page }) };\n`, "page.html": "<p/>" }, { rules }),
    (err: Error & { code?: string }) => err.code === "ERR_BUILD_FAILED" && /\.\/page\.html matches the module rule .*fallthrough = true/s.test(err.message),
  );
});

test("a rule can route an extension esbuild knows: **/*.json as Text gives the file's text, not the parsed value", { timeout: 60_000 }, async (t) => {
  const seen = await run(t, { "index.ts": `import conf from "./conf.json";\nexport default { fetch: () => Response.json({ conf }) };\n`, "conf.json": `{"a": 1}` }, { rules: [{ type: "Text", globs: ["**/*.json"] }] });
  assert.deepEqual(seen, { conf: `{"a": 1}` });
});

test("wrangler-compat warns about replacing the defaults the bundler applies: the two lists agree", () => {
  const bundler = Object.fromEntries(DEFAULT_MODULE_RULES.map((r) => [r.type, r.globs]));
  assert.deepEqual(DEFAULT_RULE_GLOBS, bundler);
});
