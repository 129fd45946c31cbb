/** `verge versions list <function>`: a function's versions, newest first. */
import { parseArgs } from "node:util";
import type { VersionInfo } from "../../shared/protocol.ts";
import { UsageError } from "../output.ts";
import { apiPath, CONNECTION_HELP, CONNECTION_OPTIONS, connect, print } from "./registry-client.ts";

export const help = `verge versions list <function>

Lists a function's versions, newest first: digest, time, size, dialect, signature.
${CONNECTION_HELP}
`;

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: CONNECTION_OPTIONS });
  const [sub, fn] = positionals;
  if (sub !== "list" || fn === undefined) throw new UsageError("verge versions: expected `list <function>`");
  const client = connect(values);
  const tenant = await client.tenant();
  const { body } = await client.call<{ versions: VersionInfo[] }>("GET", apiPath`/v1/tenants/${tenant}/functions/${fn}/versions`);
  const lines = body.versions.map((v) => `${v.digest}  ${v.createdAt}  ${v.size} B  ${v.dialect}  ${v.signatureStatus}${v.flagged ? " (flagged)" : ""}`);
  print(values.json, body.versions, lines.join("\n") || `no versions of ${fn}`);
}
