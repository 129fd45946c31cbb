/**
 * `verge publish --config wrangler.toml [--env <name>]` (issue 5, issue 3's last
 * point). Steps, each before anything is written where it can be:
 * 1. read and validate the config (all errors at once), refuse what verge
 *    cannot do, print the warnings;
 * 2. connect; read the distribution named by --distribution and map the
 *    routes onto it (fails before publishing when it does not exist);
 * 3. run build.command, bundle main, and check the bundle as the registry
 *    will (parses, exports a handler), so a bundle it would refuse writes nothing;
 * 4. upload the `[assets]` files the registry does not have, set the function's
 *    config (vars as env, limits.cpu_ms as cpuMs, triggers.crons as crons,
 *    kv_namespaces as kvNamespaces, d1_databases as d1Databases, r2_buckets as
 *    r2Buckets, [assets] as assets) so the version
 *    snapshots it, upload the version (refused: the config is put back, since
 *    the live version would otherwise run with the new vars and crons), move the alias;
 * 5. write the distribution.
 */
import { spawnSync } from "node:child_process";
import { basename } from "node:path";
import { describeCompatibilityFlags, wantsNodeCompat } from "../../build/bundle.ts";
import { VergeError } from "../../shared/errors.ts";
import type { Alias, Distribution, FunctionConfig, FunctionInfo, VersionInfo } from "../../shared/protocol.ts";
import { NAME_PATTERN } from "../../shared/protocol.ts";
import { databaseOf, formatDiagnostic, readWranglerConfig, WranglerConfigError, type WranglerConfig, type WranglerDiagnostic } from "../../../wrangler-compat/index.ts";
import { checkBundle } from "../../../origin/validate/bundle.ts";
import { MAX_D1_BINDINGS, MAX_KV_BINDINGS, MAX_VALUE_BYTES, VAR_NAME } from "../../../origin/validate/config.ts";
import { UsageError } from "../output.ts";
import { attachRoutes, canonicalJson, type DistributionBody } from "../wrangler-routes.ts";
import { buildTo, describeVersion, loadSigner, NAME_HELP, uploadVersion } from "./publish-upload.ts";
import { apiPath, connect, print, type RegistryClient } from "./registry-client.ts";
import { prepareAssets, uploadAssets, type PreparedAssets } from "./publish-assets.ts";
import { assetsDigest, assetsMarker } from "../../shared/assets/index.ts";

export interface PublishConfigValues {
  config: string;
  env?: string | undefined;
  distribution?: string | undefined;
  alias?: string | undefined;
  name?: string | undefined;
  key?: string | undefined;
  outdir?: string | undefined;
  origin?: string | undefined;
  token?: string | undefined;
  tenant?: string | undefined;
  json?: boolean | undefined;
}

/** What a version keeps from the function's config when it is published (edge nodes read these from the version). */
const VERSION_SETTINGS = ["cpuMs", "memoryMb", "wallMs", "subrequests", "kvNamespaces", "d1Databases", "services", "r2Buckets", "reservedConcurrency", "provisionedConcurrency"] as const;

function warn(message: string): void {
  process.stderr.write(`verge: warning: ${message}\n`);
}

/** Vars as the registry's string env: JSON values are sent as their JSON text, with a warning. */
function envOf(config: WranglerConfig, warnings: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  const json: string[] = [];
  for (const [k, v] of Object.entries(config.vars)) {
    env[k] = typeof v === "string" ? v : JSON.stringify(v);
    if (typeof v !== "string") json.push(k);
  }
  if (json.length > 0) warnings.push(`vars ${json.join(", ")}: JSON values are published as their JSON text; the Worker reads a string (JSON.parse(env.${json[0]}))`);
  return env;
}

/** The registry's limit on env vars per function (origin/validate/config.ts, `config.env`). */
const MAX_VARS = 128;
const VAR_EXPECTED = "a letter or _ then letters, digits or _ (at most 128)";

/** A key in a path, as wrangler-compat writes paths: quoted unless plain. */
const keyOf = (k: string): string => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k));

/**
 * What the registry would refuse in the function's config (`config.env`,
 * `config.kvNamespaces`), found before anything is built or sent and named
 * by the path in the wrangler file. Values never appear, only their size.
 */
function registryProblems(config: WranglerConfig): WranglerDiagnostic[] {
  const problems: WranglerDiagnostic[] = [];
  const error = (path: string, message: string): void => void problems.push({ severity: "error", path, message });
  // Bindings come from the environment only (never inherited), so their paths do too.
  const at = (key: string): string => (config.env === null ? key : `env.${keyOf(config.env)}.${key}`);
  const vars = Object.entries(config.vars);
  if (vars.length > MAX_VARS) error(at("vars"), `verge publishes at most ${MAX_VARS} vars per function, found ${vars.length}`);
  for (const [name, value] of vars) {
    const bytes = Buffer.byteLength(typeof value === "string" ? value : JSON.stringify(value));
    if (!VAR_NAME.test(name)) error(`${at("vars")}.${keyOf(name)}`, `verge cannot publish this name: expected ${VAR_EXPECTED}`);
    else if (bytes > MAX_VALUE_BYTES) error(`${at("vars")}.${keyOf(name)}`, `expected at most ${MAX_VALUE_BYTES} bytes${typeof value === "string" ? "" : " of JSON text"}, found ${bytes}`);
  }
  if (config.kvNamespaces.length > MAX_KV_BINDINGS) error(at("kv_namespaces"), `verge publishes at most ${MAX_KV_BINDINGS} KV bindings per function, found ${config.kvNamespaces.length}`);
  config.kvNamespaces.forEach((n, i) => {
    const ns = namespaceOf(n);
    if (!VAR_NAME.test(n.binding)) error(at(`kv_namespaces[${i}].binding`), `verge cannot publish this binding name: expected ${VAR_EXPECTED}`);
    else if (!NAME_PATTERN.test(ns)) error(at(`kv_namespaces[${i}].${n.id === undefined ? "binding" : "id"}`), `${JSON.stringify(ns)} cannot name a verge KV namespace: expected lowercase letters, digits, "-" or "_" (at most 63), such as a Cloudflare namespace id`);
  });
  const d1 = config.d1Databases ?? [];
  if (d1.length > MAX_D1_BINDINGS) error(at("d1_databases"), `verge publishes at most ${MAX_D1_BINDINGS} D1 bindings per function, found ${d1.length}`);
  d1.forEach((x, i) => {
    const db = databaseOf(x);
    if (!VAR_NAME.test(x.binding)) error(at(`d1_databases[${i}].binding`), `verge cannot publish this binding name: expected ${VAR_EXPECTED}`);
    else if (!NAME_PATTERN.test(db)) error(at(`d1_databases[${i}].${x.databaseName !== undefined ? "database_name" : x.databaseId !== undefined ? "database_id" : "binding"}`), `${JSON.stringify(db)} cannot name a verge D1 database: expected lowercase letters, digits, "-" or "_" (at most 63)`);
  });
  return problems;
}

/** Step 1: what the config asks for that publishing cannot honour, as errors or warnings. */
function check(config: WranglerConfig, values: PublishConfigValues, warnings: string[]): string {
  const shown = basename(config.configPath);
  const problems: WranglerDiagnostic[] = [];
  const name = values.name ?? config.name;
  if (name === undefined) problems.push({ severity: "error", path: "name", message: "missing: the Worker's name is the function's name (or pass --name)" });
  if (config.main === undefined) problems.push({ severity: "error", path: "main", message: "missing: expected the path of the Worker's entry module, such as \"src/index.ts\"" });
  if (problems.length > 0) throw new WranglerConfigError(shown, problems);
  if (!NAME_PATTERN.test(name!)) throw new UsageError(`verge publish: --name: ${NAME_HELP}`);
  problems.push(...registryProblems(config));
  if (problems.length > 0) throw new WranglerConfigError(shown, problems);
  const flags = describeCompatibilityFlags(config.compatibilityFlags);
  if (flags !== undefined) warnings.push(flags);
  if (config.secretsFiles.length > 0) warnings.push(`${config.secretsFiles.map((f) => basename(f)).join(", ")}: local development secrets, not uploaded; set the function's secrets on the registry (PUT /v1/tenants/<tenant>/functions/${name}/secrets/<name>)`);
  if (config.routes.length > 0 && values.distribution === undefined) {
    warnings.push(`routes (${config.routes.map((r) => r.pattern).join(", ")}) not attached: pass --distribution <name> to add their hostnames and paths to an existing distribution (create one with \`verge deploy\`)`);
  }
  if (config.routes.length === 0 && values.distribution !== undefined) warnings.push(`--distribution ${values.distribution}: the config has no routes; the distribution is left as it is`);
  return name!;
}

/**
 * The registry namespace a `[[kv_namespaces]]` entry binds: its `id` (a
 * Cloudflare id, 32 hex digits, is a valid name), else the binding name in
 * lowercase (`MY_KV` -> `my_kv`). `preview_id` is for `wrangler dev` only.
 */
function namespaceOf(n: { binding: string; id?: string }): string {
  return n.id ?? n.binding.toLowerCase();
}

/** Runs build.command in build.cwd; its output goes to stderr so --json stays clean. */
function runBuildCommand(config: WranglerConfig): void {
  const command = config.build.command;
  if (command === undefined) return;
  process.stderr.write(`verge: running build.command: ${command}\n`);
  const result = spawnSync(command, { shell: true, cwd: config.build.cwd, stdio: ["ignore", 2, 2] });
  if (result.error !== undefined || result.status !== 0) {
    const how = result.error !== undefined ? result.error.message : result.signal !== null ? `was killed by ${result.signal}` : `exited with code ${result.status}`;
    throw new VergeError("ERR_BUILD_FAILED", `build.command "${command}" (in ${config.build.cwd}) ${how}; fix the build, then publish again`);
  }
}

async function getOrNull<T>(client: RegistryClient, path: string): Promise<T | null> {
  try {
    return (await client.call<T>("GET", path)).body;
  } catch (err) {
    if ((err as Error).message.startsWith("ERR_NOT_FOUND")) return null;
    throw err;
  }
}

/**
 * Step 4a: vars, cpu_ms, crons, KV and D1 bindings onto the function's config; other settings
 * kept. The config's triggers.crons replaces the function's crons (none: the
 * function's crons are removed), as `wrangler deploy` replaces a Worker's
 * schedules. Skipped when nothing changes. Returns how to undo the write
 * (null when nothing was written).
 */
async function putConfig(client: RegistryClient, fnPath: string, config: WranglerConfig, env: Record<string, string>, assets: PreparedAssets | undefined): Promise<(() => Promise<string>) | null> {
  const existing = await getOrNull<FunctionInfo>(client, fnPath);
  const { secrets: _secrets, ...kept } = existing?.config ?? ({} as Partial<FunctionConfig>);
  const { crons: _crons, kvNamespaces: _kv, d1Databases: _d1, services: _services, assets: _assets, r2Buckets: _r2, ...rest } = kept;
  // Like crons, the config's KV and service bindings replace the function's.
  const kv = Object.fromEntries(config.kvNamespaces.map((n) => [n.binding, namespaceOf(n)]));
  const services = Object.fromEntries(config.services.map((b) => [b.binding, b.service]));
  const d1 = Object.fromEntries((config.d1Databases ?? []).map((x) => [x.binding, databaseOf(x)]));
  const r2 = config.r2Buckets ?? [];
  const next = {
    ...rest,
    env,
    ...(config.limits.cpuMs === undefined ? {} : { cpuMs: config.limits.cpuMs }),
    ...(config.crons.length === 0 ? {} : { crons: config.crons }),
    ...(config.kvNamespaces.length === 0 ? {} : { kvNamespaces: kv }),
    ...(Object.keys(d1).length === 0 ? {} : { d1Databases: d1 }),
    ...(config.services.length === 0 ? {} : { services }),
    // Like the bindings, [assets] replaces the function's (none: the function serves none).
    ...(assets === undefined ? {} : { assets: assets.assets }),
    ...(r2.length === 0 ? {} : { r2Buckets: Object.fromEntries(r2.map((b) => [b.binding, b.bucketName])) }),
  };
  if (existing !== null && canonicalJson(next) === canonicalJson(kept)) return null; // a re-publish adds no config change to the feed
  await client.call<FunctionInfo>("PUT", fnPath, { config: next });
  // A function this publish created goes back to the defaults: no vars, no crons, nothing runs.
  return async () => {
    await client.call<FunctionInfo>("PUT", fnPath, { config: existing === null ? {} : kept });
    return existing === null ? "the function's config was restored to the defaults (it has no version)" : "the function's config was restored";
  };
}

export async function publishFromConfig(values: PublishConfigValues): Promise<void> {
  const { config, warnings: diagnostics } = readWranglerConfig(values.config, { env: values.env });
  const warnings = diagnostics.map((d) => `${basename(config.configPath)}: ${formatDiagnostic(d)}`);
  const name = check(config, values, warnings);
  const env = envOf(config, warnings);
  for (const w of warnings) warn(w);
  const alias = values.alias ?? "live";
  if (!NAME_PATTERN.test(alias)) throw new UsageError(`verge publish: --alias: ${NAME_HELP}`);
  if (values.distribution !== undefined && !NAME_PATTERN.test(values.distribution)) throw new UsageError(`verge publish: --distribution: ${NAME_HELP}`);

  const signer = values.key === undefined ? undefined : loadSigner(values.key);

  const client = connect(values);
  const tenant = await client.tenant();
  const distPath = apiPath`/v1/tenants/${tenant}/distributions/${values.distribution ?? "-"}`;
  let attach: { body: DistributionBody; notes: string[]; before: string } | null = null;
  if (values.distribution !== undefined && config.routes.length > 0) {
    const current = await getOrNull<Distribution>(client, distPath);
    if (current === null) throw new VergeError("ERR_NOT_FOUND", `distribution "${values.distribution}" not found in tenant "${tenant}": create it with \`verge deploy <file>\` first (hostnames, origins, default behavior), then publish with --distribution ${values.distribution}`);
    const { hostnames, origins, behaviors, defaultBehavior } = current;
    const before = canonicalJson({ hostnames, origins, behaviors, defaultBehavior });
    attach = { ...attachRoutes({ hostnames, origins, behaviors, defaultBehavior }, config.routes, { function: name, alias, includeBody: false }), before };
  }

  runBuildCommand(config);
  const built = await buildTo(config.main!, values.outdir ?? "dist", { rules: config.rules, nodeCompat: wantsNodeCompat(config.compatibilityFlags) });
  checkBundle(new TextEncoder().encode(built));
  const fnPath = apiPath`/v1/tenants/${tenant}/functions/${name}`;
  const assets = prepareAssets(config);
  let code = built;
  if (assets !== undefined) {
    for (const w of assets.warnings) warn(w);
    const sent = await uploadAssets(client, tenant, assets);
    process.stderr.write(`verge: assets: ${sent.files} files, ${sent.uploaded} uploaded (${sent.bytes} bytes), the rest already on the registry\n`);
    // A version is its bundle: the bundle names its assets, so new assets make a new version.
    code += assetsMarker(assetsDigest(assets.assets));
  }
  const undoConfig = await putConfig(client, fnPath, config, env, assets);
  let uploaded: Awaited<ReturnType<typeof uploadVersion>>;
  try {
    uploaded = await uploadVersion(client, tenant, { code, name, signer });
  } catch (err) {
    if (undoConfig === null) throw err;
    const restored = await undoConfig().then(
      (done) => done,
      (e: unknown) => `the function's config could NOT be restored (${(e as Error).message}); publish again or fix it with PUT ${fnPath}`,
    );
    (err as Error).message += `\n${restored}`;
    throw err;
  }
  const { created, version } = uploaded;
  if (!created) {
    // A version is its bundle: one published before keeps the settings it was published with.
    const now = (await client.call<FunctionInfo>("GET", fnPath)).body.config;
    const stale = VERSION_SETTINGS.filter((k) => canonicalJson(version.config[k] ?? null) !== canonicalJson(now[k] ?? null));
    if (stale.length > 0) {
      const shown = (v: unknown) => (v === undefined ? "unset" : JSON.stringify(v));
      const diffs = stale.map((k) => `${k} ${shown(version.config[k])} (now ${shown(now[k])})`).join(", ");
      const note = `version ${version.digest.slice(0, 12)}… was published before with ${diffs}; a version keeps the settings it was published with, so the new ones apply to the next version of ${name} (change the code to publish one). Env vars and crons are the function's and apply now`;
      warnings.push(note);
      warn(note);
    }
  }

  const current = await getOrNull<Alias>(client, `${fnPath}${apiPath`/aliases/${alias}`}`);
  const moved = current?.routes.length === 1 && current.routes[0]!.version === version.digest ? current : (await client.call<Alias>("PUT", `${fnPath}${apiPath`/aliases/${alias}`}`, { version: version.digest })).body;

  let distribution: { name: string; seq: number | null; hostnames: string[] } | null = null;
  if (attach !== null) {
    for (const note of attach.notes) warn(note);
    let seq: number | null = null;
    if (canonicalJson(attach.body) !== attach.before) {
      const put = await client.call<Distribution>("PUT", distPath, attach.body);
      seq = Number(put.headers.get("x-verge-seq"));
    }
    distribution = { name: values.distribution!, seq, hostnames: attach.body.hostnames };
  }
  const result: { version: VersionInfo; alias: Alias; distribution: typeof distribution; warnings: string[] } = { version, alias: moved, distribution, warnings };
  const lines = [
    describeVersion(created, version, signer !== undefined),
    `alias ${name}/${alias} -> ${version.digest.slice(0, 12)}… (revision ${moved.revision})`,
    ...(distribution === null ? [] : [`distribution ${tenant}/${distribution.name}: ${distribution.seq === null ? "unchanged" : `change ${distribution.seq}`}, hostnames ${distribution.hostnames.join(", ")}`]),
  ];
  print(values.json, result, lines.join("\n"));
}
