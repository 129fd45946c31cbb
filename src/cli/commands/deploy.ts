/** `verge deploy <distribution.json>`: write a distribution, optionally wait until every live node applied it. */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import type { ChangeStatus, Distribution } from "../../shared/protocol.ts";
import { UsageError } from "../output.ts";
import { CONNECTION_HELP, CONNECTION_OPTIONS, connect, print } from "./registry-client.ts";

export const help = `verge deploy <distribution.json> [--name <distribution>] [--wait] [--timeout <seconds>]

Writes the distribution (hostnames, origins, cache behaviors, function
associations); the registry validates it and names each field in error.
--name defaults to the file name without its extension. With --wait, waits
until every live edge node has applied the change (default timeout 60 s).
${CONNECTION_HELP}
`;

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...CONNECTION_OPTIONS, name: { type: "string" }, wait: { type: "boolean" }, timeout: { type: "string" } } });
  const file = positionals[0];
  if (file === undefined) throw new UsageError("verge deploy: missing <distribution file>");
  if (!file.endsWith(".json")) throw new UsageError("verge deploy: expected a .json distribution file (TOML is not supported yet)");
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`ERR_INVALID_JSON: ${file}: ${(err as Error).message}`);
  }
  const name = values.name ?? basename(file).replace(/\.json$/, "");
  const client = connect(values);
  const tenant = await client.tenant();
  const { body, headers } = await client.call<Distribution>("PUT", `/v1/tenants/${tenant}/distributions/${name}`, doc);
  const seq = Number(headers.get("x-verge-seq"));
  if (!values.wait) return print(values.json, { distribution: body, seq }, `deployed ${tenant}/${name} (change ${seq}, hostnames ${body.hostnames.join(", ")})`);
  const deadline = Date.now() + Number(values.timeout ?? 60) * 1000;
  for (;;) {
    const { body: status } = await client.call<ChangeStatus>("GET", `/v1/changes/${seq}`);
    if (status.complete) return print(values.json, { distribution: body, seq, status }, `deployed ${tenant}/${name} (change ${seq}); applied by ${status.applied.length} live node(s)`);
    if (Date.now() > deadline) throw new Error(`ERR_DEPLOY_TIMEOUT: change ${seq} is still pending on ${status.pending.join(", ")}`);
    await new Promise((r) => setTimeout(r, 500)); // polling the registry, not waiting for own work
  }
}
