/**
 * `verge publish <entry> --name <function>`: build, sign (optionally), upload, print the version.
 * `verge publish --config wrangler.toml [--env <name>]`: the same from a Worker's wrangler config
 * (publish-config.ts), plus its vars, CPU limit, alias and routes.
 */
import { parseArgs } from "node:util";
import { NAME_PATTERN } from "../../shared/protocol.ts";
import { UsageError } from "../output.ts";
import { publishFromConfig } from "./publish-config.ts";
import { buildTo, describeVersion, loadSigner, NAME_HELP, uploadVersion } from "./publish-upload.ts";
import { CONNECTION_HELP, CONNECTION_OPTIONS, connect, print } from "./registry-client.ts";

export const help = `verge publish <entry> --name <function> [--key <private key.pem>] [--outdir <dir>] [--node-compat]
verge publish --config <wrangler.toml|wrangler.jsonc> [--env <name>] [--distribution <name>] [--alias <name>] [--name <function>] [--key <pem>] [--outdir <dir>]

Bundles <entry> with esbuild (the source map is kept beside the bundle in
--outdir, default dist/), signs it when given an Ed25519 private key, and
uploads it. Prints the version (the bundle's sha256). Publishing the same
bundle again returns the same version. --node-compat bundles Node built-ins
(node:buffer, node:crypto, querystring, ...) as Workers' nodejs_compat does, for
a Lambda@Edge handler written for Node (with --config, compatibility_flags
says it instead).

With --config (or an entry named wrangler.toml, wrangler.json or
wrangler.jsonc), reads a Worker's wrangler config instead:
runs build.command, bundles main, names the function from name (<name>-<env>
with --env, unless the environment sets its own name), sets the function's
env vars from vars and its CPU limit from limits.cpu_ms, publishes, and
points --alias (default "live") at the new version. With --distribution, each
route's hostname is added to that existing distribution and its path runs
the Worker at viewer-request (host/* and custom domains: the default
behavior). triggers.crons become the function's cron triggers (run on one
edge node per fire); kv_namespaces its KV bindings (the id names the
namespace, else the binding in lowercase). .dev.vars / .env secrets are
never uploaded.
  --config <file>        wrangler.toml, wrangler.json or wrangler.jsonc
  --env <name>           the [env.<name>] section to publish
  --distribution <name>  attach the config's routes to this distribution
  --alias <name>         alias to move to the new version (default live)
  --name <function>      override the config's name
${CONNECTION_HELP}
`;

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...CONNECTION_OPTIONS, name: { type: "string" }, key: { type: "string" }, outdir: { type: "string" }, config: { type: "string" }, env: { type: "string" }, distribution: { type: "string" }, alias: { type: "string" }, "node-compat": { type: "boolean" } },
  });
  // `verge publish wrangler.toml` is `verge publish --config wrangler.toml` (issue 3: <entry|wrangler config>).
  const config = values.config ?? (positionals.length === 1 && /(^|[\\/])wrangler\.(toml|jsonc?)$/i.test(positionals[0]!) ? positionals[0] : undefined);
  if (config !== undefined) {
    if (values.config !== undefined && positionals.length > 0) throw new UsageError("verge publish: give either <entry> or --config <wrangler config>, not both");
    if (values["node-compat"] === true) throw new UsageError('verge publish: --node-compat is for an <entry>; with a wrangler config, set compatibility_flags = ["nodejs_compat"] in it');
    return publishFromConfig({ ...values, config });
  }
  for (const flag of ["env", "distribution", "alias"] as const) if (values[flag] !== undefined) throw new UsageError(`verge publish: --${flag} needs --config <wrangler config>`);
  const entry = positionals[0];
  if (entry === undefined) throw new UsageError("verge publish: missing <entry> (or --config <wrangler.toml>)");
  if (values.name === undefined) throw new UsageError(`verge publish: --name <function> is required: ${NAME_HELP}`);
  if (!NAME_PATTERN.test(values.name)) throw new UsageError(`verge publish: --name: expected ${NAME_HELP}, found ${JSON.stringify(values.name)}`);
  const signer = values.key === undefined ? undefined : loadSigner(values.key);
  const client = connect(values);
  const code = await buildTo(entry, values.outdir ?? "dist", { nodeCompat: values["node-compat"] === true });
  const tenant = await client.tenant();
  const { created, version } = await uploadVersion(client, tenant, { code, name: values.name, signer });
  print(values.json, version, describeVersion(created, version, signer !== undefined));
}
