/** `verge edge`: run an edge node (supervisor + worker processes) in front of a team's origins. */
import { parseArgs } from "node:util";
import { optionsFromEnv, startEdgeNode, type EdgeNodeOptions } from "../../../edge-nodes/server.ts";
import { UsageError } from "../output.ts";

export const help = `verge edge [--port <n>] [--host <addr>] [--origin <url>] [--token <token>]
           [--data <dir>] [--node-id <id>] [--region <name>] [--workers <n>]
           [--max-isolates-per-function <n>] [--max-isolates <n>] [--max-isolates-per-tenant <n>]
           [--allow-private-subrequests]

Runs an edge node: follows the registry's change feed, keeps bundles and a
response cache in LMDB under --data, and serves viewer traffic through the
four CloudFront events. Operator routes: /_verge/health, /_verge/metrics.
Log lines (the node's and every worker's, with "worker" and "pid") are JSON,
one per line, on stdout.
  --port <n>        port (default VERGE_PORT or 8787; 0 picks a free one)
  --host <addr>     address (default VERGE_HOST or 127.0.0.1)
  --origin <url>    registry URL (or VERGE_ORIGIN)
  --token <token>   a registry token with the \`node\` scope (or VERGE_NODE_TOKEN)
  --data <dir>      data directory (default VERGE_DATA_DIR or .verge/edge)
  --node-id <id>    this node's name in the registry (default VERGE_NODE_ID or the hostname)
  --region <name>   region label for health and metrics (default VERGE_REGION or "local")
  --workers <n>     worker processes (default VERGE_WORKERS or one per core; 0 = one process)
  --max-isolates-per-function <n>
                    most isolates one function version may use in each worker process,
                    busy and idle (default VERGE_MAX_ISOLATES_PER_FUNCTION or 64);
                    beyond it a request gets 503 ERR_THROTTLED
  --max-isolates <n>
                    most isolates of all functions together in each worker process
                    (default VERGE_MAX_ISOLATES or 512): past it the least recently used
                    idle one goes; when all are busy a request gets 503 ERR_THROTTLED
  --max-isolates-per-tenant <n>
                    most isolates of one tenant's functions together in each worker process
                    (default VERGE_MAX_ISOLATES_PER_TENANT or half of --max-isolates): at it
                    the tenant's own least recently used idle one goes; when all of its are
                    busy its request gets 503 ERR_TENANT_THROTTLED (≥ --max-isolates: off)
  --allow-private-subrequests   let functions fetch loopback/private addresses (local demos)
`;

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      origin: { type: "string" },
      token: { type: "string" },
      data: { type: "string" },
      "node-id": { type: "string" },
      region: { type: "string" },
      workers: { type: "string" },
      "max-isolates-per-function": { type: "string" },
      "max-isolates": { type: "string" },
      "max-isolates-per-tenant": { type: "string" },
      "allow-private-subrequests": { type: "boolean" },
    },
  });
  for (const name of ["port", "workers", "max-isolates-per-function", "max-isolates", "max-isolates-per-tenant"] as const) {
    const v = values[name];
    if (v !== undefined && !/^\d+$/.test(v)) throw new UsageError(`--${name}: expected a number, found "${v}"`);
  }
  if (values.port !== undefined && Number(values.port) > 65535) throw new UsageError(`--port: expected a port from 0 to 65535, found "${values.port}"`);
  const maxIsolates = values["max-isolates-per-function"];
  if (maxIsolates !== undefined && Number(maxIsolates) < 1) throw new UsageError(`--max-isolates-per-function: expected a number ≥ 1, found "${maxIsolates}"`);
  const maxTotal = values["max-isolates"];
  if (maxTotal !== undefined && Number(maxTotal) < 1) throw new UsageError(`--max-isolates: expected a number ≥ 1, found "${maxTotal}"`);
  const perTenant = values["max-isolates-per-tenant"];
  if (perTenant !== undefined && Number(perTenant) < 1) throw new UsageError(`--max-isolates-per-tenant: expected a number ≥ 1, found "${perTenant}"`);
  const overrides: Partial<EdgeNodeOptions> = {};
  if (values.port !== undefined) overrides.port = Number(values.port);
  if (values.host !== undefined) overrides.host = values.host;
  if (values.data !== undefined) overrides.dataDir = values.data;
  if (values["node-id"] !== undefined) overrides.nodeId = values["node-id"];
  if (values.region !== undefined) overrides.region = values.region;
  if (values.workers !== undefined) overrides.workers = Number(values.workers);
  if (maxIsolates !== undefined) overrides.maxIsolatesPerFunction = Number(maxIsolates);
  if (maxTotal !== undefined) overrides.maxIsolates = Number(maxTotal);
  if (perTenant !== undefined) overrides.maxIsolatesPerTenant = Number(perTenant);
  // One JSON line per event on stdout, from this process and (through the primary) every worker.
  overrides.log = (line) => void process.stdout.write(`${JSON.stringify(line)}\n`);
  if (values["allow-private-subrequests"]) overrides.allowPrivateSubrequests = true;
  if (values.origin !== undefined || values.token !== undefined) {
    overrides.registry = { url: values.origin ?? process.env.VERGE_ORIGIN ?? "", token: values.token ?? process.env.VERGE_NODE_TOKEN ?? process.env.VERGE_TOKEN ?? "" };
  }
  const options = optionsFromEnv(process.env, overrides);
  const node = await startEdgeNode(options);
  process.stdout.write(`verge edge ${options.nodeId} (${options.region}) listening on ${node.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => void node.close().then(resolve);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
