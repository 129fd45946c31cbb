/** `verge deploy <distribution.json|.toml>`: write a distribution, optionally wait until every live node applied it. */
import { parseArgs } from "node:util";
import type { ChangeStatus, Distribution } from "../../shared/protocol.ts";
import { distributionInput, readDistributionFile } from "../distribution-file.ts";
import { UsageError } from "../output.ts";
import { apiPath, CONNECTION_HELP, CONNECTION_OPTIONS, connect, print } from "./registry-client.ts";

export const help = `verge deploy <distribution.json | distribution.toml> [--name <distribution>] [--wait] [--timeout <seconds>]

Writes the distribution (hostnames, origins, cache behaviors, function
associations); the registry validates it and names each field in error.
--name defaults to the document's "name", else the file name without its
extension; a distribution saved from the API (GET) deploys as it is. With --wait, waits
until every live edge node has applied the change (default timeout 60 s).
${CONNECTION_HELP}
`;

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...CONNECTION_OPTIONS, name: { type: "string" }, wait: { type: "boolean" }, timeout: { type: "string" } } });
  const file = positionals[0];
  if (file === undefined) throw new UsageError("verge deploy: missing <distribution file>");
  const timeoutS = Number(values.timeout ?? 60);
  if (values.timeout !== undefined && !(values.timeout.trim() !== "" && Number.isFinite(timeoutS) && timeoutS >= 0)) throw new UsageError(`--timeout: expected a number of seconds, found ${JSON.stringify(values.timeout)}`);
  const { name: fileName, document } = readDistributionFile(file);
  const client = connect(values);
  const tenant = await client.tenant();
  const input = distributionInput(file, document, tenant, values.name);
  const name = input.name ?? fileName;
  const doc = input.body;
  const { body, headers } = await client.call<Distribution>("PUT", apiPath`/v1/tenants/${tenant}/distributions/${name}`, doc);
  const seq = Number(headers.get("x-verge-seq"));
  if (!values.wait) return print(values.json, { distribution: body, seq }, `deployed ${tenant}/${name} (change ${seq}, hostnames ${body.hostnames.join(", ")})`);
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const { body: status } = await client.call<ChangeStatus>("GET", apiPath`/v1/changes/${seq}`);
    if (status.complete) return print(values.json, { distribution: body, seq, status }, `deployed ${tenant}/${name} (change ${seq}); applied by ${status.applied.length} live node(s)`);
    if (Date.now() > deadline) throw new Error(`ERR_DEPLOY_TIMEOUT: distribution ${tenant}/${name} is written (change ${seq}), but after ${timeoutS} s it is still pending on ${status.pending.join(", ")}`);
    await new Promise((r) => setTimeout(r, 500)); // polling the registry, not waiting for own work
  }
}
