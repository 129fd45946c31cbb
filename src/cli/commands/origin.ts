/** `verge origin`: run the origin registry. */
import { parseArgs } from "node:util";
import { optionsFromEnv, startOriginServer } from "../../../origin/server.ts";
import { UsageError } from "../output.ts";

export const help = `verge origin [--port <n>] [--host <addr>] [--data <dir>]

Runs the origin registry (HTTP API under /v1) over an LMDB directory.
  --port <n>      port (default VERGE_PORT or 8788; 0 picks a free one)
  --host <addr>   address (default VERGE_HOST or 127.0.0.1)
  --data <dir>    data directory (default VERGE_DATA_DIR or .verge/origin)
Secrets at rest are sealed with VERGE_SECRET_KEY. The operator token is
VERGE_ADMIN_TOKEN, or generated on first start and printed once.
`;

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { port: { type: "string" }, host: { type: "string" }, data: { type: "string" } } });
  if (values.port !== undefined && !(/^\d+$/.test(values.port) && Number(values.port) <= 65535)) throw new UsageError(`--port: expected a port from 0 to 65535, found "${values.port}"`);
  const overrides: Record<string, unknown> = {};
  if (values.port !== undefined) overrides.port = Number(values.port);
  if (values.host !== undefined) overrides.host = values.host;
  if (values.data !== undefined) overrides.dataDir = values.data;
  const origin = await startOriginServer(optionsFromEnv(process.env, overrides));
  process.stdout.write(`verge origin listening on ${origin.url}\n`);
  if (origin.generatedAdminToken !== null) process.stdout.write(`admin token (shown once, store it now): ${origin.generatedAdminToken}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => void origin.close().then(resolve);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
