/** `verge alias set|rollback|show`: point an alias at versions, roll it back. */
import { parseArgs } from "node:util";
import type { Alias, WeightedRoute } from "../../shared/protocol.ts";
import { UsageError } from "../output.ts";
import { apiPath, CONNECTION_HELP, CONNECTION_OPTIONS, connect, print } from "./registry-client.ts";

export const help = `verge alias set <function> <alias> <version>[=<weight>] [<version>=<weight> ...] [--sticky cookie:<name>|header:<name>|query:<name>]
verge alias rollback <function> <alias> [--revision <n>]
verge alias show <function> <alias>

set       points <alias> at one version, or splits traffic by weights summing to 1
rollback  restores the previous revision (or --revision <n>) as a new revision
${CONNECTION_HELP}
`;

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
