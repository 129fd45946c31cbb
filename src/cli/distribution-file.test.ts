import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { distributionInput, readDistributionFile } from "./distribution-file.ts";

const dir = mkdtempSync(join(tmpdir(), "verge-dist-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const EXPECTED = {
  hostnames: ["shop.example"],
  origins: [{ id: "web", url: "http://127.0.0.1:9000" }],
  defaultBehavior: { origin: "web", functions: { "viewer-request": { function: "auth", alias: "live" } } },
};

test("a TOML distribution reads as the same document as its JSON twin; the file name is the default name", () => {
  const json = readDistributionFile(file("shop.json", JSON.stringify(EXPECTED)));
  const toml = readDistributionFile(
    file(
      "shop.toml",
      `hostnames = ["shop.example"]

[[origins]]
id = "web"
url = "http://127.0.0.1:9000"

[defaultBehavior]
origin = "web"
functions."viewer-request" = { function = "auth", alias = "live" }
`,
    ),
  );
  assert.equal(toml.name, "shop");
  assert.equal(json.name, "shop");
  // smol-toml's tables are plain data; compare as JSON, which is what is sent to the registry.
  assert.deepEqual(JSON.parse(JSON.stringify(toml.document)), EXPECTED);
  assert.deepEqual(json.document, EXPECTED);
});

test("syntax errors name the file and, for TOML, the line and column; other extensions are refused", () => {
  assert.throws(() => readDistributionFile(file("bad.toml", `hostnames = ["a"\n[x]\n`)), (e: { code?: string; message: string }) => {
    assert.equal(e.code, "ERR_INVALID_TOML");
    assert.match(e.message, /bad\.toml: not valid TOML: line \d+, column \d+/);
    return true;
  });
  assert.throws(() => readDistributionFile(file("bad.json", `{"hostnames": [}`)), (e: { code?: string; message: string }) => e.code === "ERR_INVALID_JSON" && e.message.includes("bad.json"));
  assert.throws(() => readDistributionFile(file("site.yaml", "a: 1")), (e: { code?: string; message: string }) => e.code === "ERR_INVALID_OPTIONS" && e.message.includes(".json or .toml"));
  assert.throws(() => readDistributionFile(join(dir, "missing.json")), (e: { code?: string; message: string }) => e.code === "ERR_INVALID_OPTIONS" && e.message.includes("ENOENT"));
});

test("a distribution saved from the API deploys as it is: updatedAt dropped, its name used, another tenant's refused", () => {
  const saved = { tenant: "acme", name: "shop", hostnames: ["shop.test"], updatedAt: "2026-12-07T00:00:00Z", origins: [] };
  assert.deepEqual(distributionInput("d.json", saved, "acme", undefined), { name: "shop", body: { hostnames: ["shop.test"], origins: [] } });
  assert.equal(distributionInput("d.json", saved, "acme", "other").name, "other", "--name wins");
  assert.throws(() => distributionInput("d.json", saved, "globex", undefined), /d\.json: tenant: this is tenant "acme"'s distribution, and the token is tenant "globex"'s/);
  assert.throws(() => distributionInput("d.json", { name: 3 }, "acme", undefined), /d\.json: name: expected the distribution's name, a string, found 3/);
  // A hand-written document is passed on untouched (the registry validates it).
  assert.deepEqual(distributionInput("d.json", { hostnames: [] }, "acme", undefined), { name: undefined, body: { hostnames: [] } });
  assert.deepEqual(distributionInput("d.json", [1], "acme", "x"), { name: "x", body: [1] });
});
