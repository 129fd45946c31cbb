/**
 * The wrangler config corpus (issue 5): realistic Worker projects in
 * fixtures/ (see fixtures/README.md). For each project, every environment its
 * expected.json lists is read and must equal the verge config written there
 * by hand, warnings included; every `invalid-*` variant must fail with exactly
 * the diagnostics of expected-diagnostics.json (errors and warnings, in
 * order) and leave the project's files as they were.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { hasCode } from "../src/shared/errors.ts";
import { CONFIG_FILE_NAMES, readWranglerConfig, WranglerConfigError, type WranglerConfig, type WranglerDiagnostic } from "./index.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

interface ExpectedReads {
  file: string;
  reads: Array<{ env: string | null; config: Record<string, unknown>; warnings: WranglerDiagnostic[] }>;
}

interface ExpectedFailure {
  file: string;
  env: string | null;
  diagnostics: WranglerDiagnostic[];
}

const projects = readdirSync(FIXTURES).filter((name) => statSync(join(FIXTURES, name)).isDirectory()).sort();

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, "utf8")) as T;

/** The config with its absolute paths made relative to the project (as expected.json writes them), unset fields dropped. */
function portable(config: WranglerConfig, dir: string): Record<string, unknown> {
  const rel = (p: string): string => relative(dir, p) || ".";
  const out: Record<string, unknown> = {
    ...config,
    configPath: rel(config.configPath),
    main: config.main === undefined ? undefined : rel(config.main),
    build: { ...config.build, cwd: rel(config.build.cwd), watchDir: config.build.watchDir.map(rel) },
    secretsFiles: config.secretsFiles.map(rel),
  };
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return out;
}

/** Every file under `dir` with its size and modification time: what "left as it was" compares. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else out[relative(dir, p)] = `${s.size} ${s.mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}

test("the corpus has at least 10 projects, each with its config, an expected reading and invalid variants", () => {
  assert.ok(projects.length >= 10, `${projects.length} projects: ${projects.join(", ")}`);
  for (const name of projects) {
    const dir = join(FIXTURES, name);
    const files = readdirSync(dir);
    const configs = files.filter((f) => (CONFIG_FILE_NAMES as readonly string[]).includes(f));
    assert.equal(configs.length, 1, `${name}: one wrangler config, found ${configs.join(", ") || "none"}`);
    assert.equal(readJson<ExpectedReads>(join(dir, "expected.json")).file, configs[0], `${name}: expected.json names the config`);
    const invalid = files.filter((f) => f.startsWith("invalid-")).sort();
    assert.ok(invalid.length > 0, `${name}: at least one invalid variant`);
    const covered = [...new Set(readJson<ExpectedFailure[]>(join(dir, "expected-diagnostics.json")).map((c) => c.file))].sort();
    assert.deepEqual(covered, invalid, `${name}: expected-diagnostics.json covers exactly the invalid-* files`);
  }
});

for (const name of projects) {
  const dir = join(FIXTURES, name);

  test(`${name}: reads to the expected verge config, per environment`, () => {
    const expected = readJson<ExpectedReads>(join(dir, "expected.json"));
    assert.ok(expected.reads.length > 0);
    for (const read of expected.reads) {
      const { config, warnings } = readWranglerConfig(join(dir, expected.file), { env: read.env ?? undefined });
      const where = `${name}/${expected.file} (env ${read.env ?? "top level"})`;
      assert.deepEqual(portable(config, dir), read.config, `${where}: config`);
      assert.deepEqual(warnings, read.warnings, `${where}: warnings`);
    }
  });

  test(`${name}: each invalid variant gives exactly the expected diagnostics and changes nothing`, () => {
    for (const c of readJson<ExpectedFailure[]>(join(dir, "expected-diagnostics.json"))) {
      const where = `${name}/${c.file} (env ${c.env ?? "top level"})`;
      const before = snapshot(dir);
      let thrown: unknown;
      try {
        readWranglerConfig(join(dir, c.file), { env: c.env ?? undefined });
      } catch (err) {
        thrown = err;
      }
      assert.ok(thrown instanceof WranglerConfigError, `${where}: expected a WranglerConfigError, got ${String(thrown)}`);
      assert.ok(hasCode(thrown, "ERR_WRANGLER_CONFIG"));
      assert.deepEqual(thrown.diagnostics, c.diagnostics, `${where}: diagnostics`);
      const errors = c.diagnostics.filter((d) => d.severity === "error");
      assert.ok(errors.length > 0, `${where}: an invalid variant has at least one error`);
      assert.equal(thrown.message.split("\n")[0], `${c.file} has ${errors.length} error${errors.length === 1 ? "" : "s"}:`);
      assert.deepEqual(snapshot(dir), before, `${where}: the project's files are unchanged`);
    }
  });
}
