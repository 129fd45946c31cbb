/** `verge alias set|rollback|show`: point an alias at versions, roll it back. */
import { parseArgs } from "node:util";
import type { Alias, VersionInfo, WeightedRoute } from "../../shared/protocol.ts";
import { UsageError } from "../output.ts";
import { apiPath, CONNECTION_HELP, CONNECTION_OPTIONS, connect, print } from "./registry-client.ts";

export const help = `verge alias set <function> <alias> <version>[=<weight>] [<version>=<weight> ...] [--sticky cookie:<name>|header:<name>|query:<name>]
verge alias rollback <function> <alias> [--revision <n>]
verge alias show <function> <alias>

set       points <alias> at one version, or splits traffic by weights summing to 1;
          a version is its digest, or its first characters (6 or more) when
          they name one version of the function
rollback  restores the previous revision (or --revision <n>) as a new revision
${CONNECTION_HELP}
`;

/** The start of a version's digest (at least 6 hex characters, fewer than all 64). */
const SHORT_DIGEST = /^[0-9a-f]{6,63}$/;

function expand(fn: string, prefix: string, versions: VersionInfo[]): string {
  const matches = versions.filter((v) => v.digest.startsWith(prefix));
  if (matches.length === 1) return matches[0]!.digest;
  if (matches.length === 0) throw new UsageError(`verge alias set: no version of ${fn} has a digest starting with ${prefix} (\`verge versions list ${fn}\` lists them)`);
  throw new UsageError(`verge alias set: ${prefix} starts ${matches.length} versions of ${fn} (${matches.map((v) => v.digest.slice(0, 16)).join(", ")}); give more of the digest`);
}

function describe(a: Alias): string {
  return `${a.function}/${a.name} revision ${a.revision}: ${a.routes.map((r) => `${r.version.slice(0, 12)}…${a.routes.length > 1 ? ` ${r.weight}` : ""}`).join(", ")}`;
}

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...CONNECTION_OPTIONS, sticky: { type: "string" }, revision: { type: "string" } } });
  const [sub, fn, alias, ...rest] = positionals;
  if (sub === undefined || fn === undefined || alias === undefined) throw new UsageError("verge alias: expected <set|rollback|show> <function> <alias>");
  const revision = values.revision === undefined ? undefined : Number(values.revision);
  if (revision !== undefined && !(/^\d+$/.test(values.revision!) && revision >= 1)) throw new UsageError(`--revision: expected a positive integer, found ${JSON.stringify(values.revision)}`);
  const client = connect(values);
  const tenant = await client.tenant();
  const path = apiPath`/v1/tenants/${tenant}/functions/${fn}/aliases/${alias}`;
  if (sub === "set") {
    if (rest.length === 0) throw new UsageError("verge alias set: missing <version>");
    const routes: WeightedRoute[] = rest.map((r) => {
      const [version, weight] = r.split("=");
      return { version: version!, weight: weight === undefined ? (rest.length === 1 ? 1 : NaN) : Number(weight) };
    });
    if (routes.some((r) => Number.isNaN(r.weight))) throw new UsageError("verge alias set: with several versions give each a weight: <version>=<weight>");
    // A digest's first characters, as `alias show` and `versions list` print them, name the version they start.
    if (routes.some((r) => SHORT_DIGEST.test(r.version))) {
      const { body: listed } = await client.call<{ versions: VersionInfo[] }>("GET", apiPath`/v1/tenants/${tenant}/functions/${fn}/versions`);
      for (const r of routes) if (SHORT_DIGEST.test(r.version)) r.version = expand(fn, r.version, listed.versions);
    }
    const body: Record<string, unknown> = { routes };
    if (values.sticky !== undefined) {
      const m = /^(cookie|header|query):(.+)$/.exec(values.sticky);
      if (m === null) throw new UsageError("--sticky: expected cookie:<name>, header:<name> or query:<name>");
      body.stickyKey = { source: m[1], name: m[2] };
    }
    const { body: a } = await client.call<Alias>("PUT", path, body);
    print(values.json, a, describe(a));
  } else if (sub === "rollback") {
    const body = revision === undefined ? {} : { revision };
    const { body: a } = await client.call<Alias>("POST", `${path}/rollback`, body);
    print(values.json, a, `rolled back: ${describe(a)}`);
  } else if (sub === "show") {
    const { body: a } = await client.call<Alias>("GET", path);
    print(values.json, a, describe(a));
  } else throw new UsageError(`verge alias: unknown subcommand "${sub}"`);
}
