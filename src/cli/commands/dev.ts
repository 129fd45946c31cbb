/** `verge dev <entry>`: bundle the entry and serve it locally with production limits. */
import { parseArgs } from "node:util";
import { bundle } from "../../build/bundle.ts";
import { Verge } from "../../harness/index.ts";
import type { CloudFrontEventType, LimitsProfile } from "../../shared/limits.ts";
import { serve } from "../serve.ts";
import { UsageError } from "../output.ts";

export const help = `verge dev <entry> [options]

Bundles <entry> (JS or TS) and serves it on 127.0.0.1 with the same runtime and
limits as an edge node.

Options:
  --port <n>          port to listen on (default 8787; 0 picks a free one)
  --event <type>      CloudFront event a Lambda@Edge handler runs as (default viewer-request)
  --upstream <url>    origin a request continues to after a request handler
  --profile <name>    limits profile: workers (default) or lambda-edge
  --var KEY=VALUE     a plain env binding (repeatable)
  --allow-private     let the function fetch private and loopback addresses
`;

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: "string", default: "8787" },
      event: { type: "string" },
      upstream: { type: "string" },
      profile: { type: "string" },
      var: { type: "string", multiple: true },
      "allow-private": { type: "boolean" },
    },
  });
  const entry = positionals[0];
  if (entry === undefined) throw new UsageError("verge dev: missing <entry>, the function's source file");
  const bindings: Record<string, string> = {};
  for (const kv of values.var ?? []) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new UsageError(`--var ${kv}: expected KEY=VALUE`);
    bindings[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const built = await bundle(entry);
  const verge = new Verge({
    modules: true,
    script: built.code,
    sourceMap: built.sourceMap,
    bindings,
    ...(values.event ? { event: values.event as CloudFrontEventType } : {}),
    ...(values.upstream ? { upstream: values.upstream } : {}),
    ...(values.profile ? { limits: { profile: values.profile as LimitsProfile } } : {}),
    outbound: { allowPrivateAddresses: values["allow-private"] === true },
  });
  verge.onLog((e) => process.stdout.write(`[${e.level}] ${e.message}\n`));
  await verge.ready;
  const server = await serve(verge, Number(values.port), (line) => process.stdout.write(line + "\n"));
  process.stdout.write(`verge dev: ${entry} (${built.bytes} bytes) on ${server.url}\n`);
  const stop = async () => {
    await server.close();
    await verge.dispose();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
