/** `verge dev [entry | wrangler config]`: build, serve, rebuild and swap on change, with production limits. */
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { validateLimits } from "../../shared/limits.ts";
import { resolveDevSettings } from "../dev/config.ts";
import { createDevHandler } from "../dev/handler.ts";
import { createDevSession } from "../dev/session.ts";
import { banner, createTerminal } from "../dev/terminal.ts";
import { serve } from "../serve.ts";
import { UsageError } from "../output.ts";

export const help = `verge dev [entry | wrangler.toml | wrangler.jsonc] [options]

Bundles the function (JS or TS and its imports) and serves it on 127.0.0.1
with the same runtime and limits as an edge node. Every file of the import
graph is watched: a change rebuilds, and new requests go to the new version
while requests in flight finish on the old one. A build error is printed with
a code frame and shown to browsers as a page; the last good version keeps
serving other clients. Without an argument, the wrangler config of the
current directory is used.

With --upstream, every request goes through the edge pipeline as on an edge
node: a distribution with the function on its event(s), a response cache in
memory (x-verge-cache; empty again with each new version), the origin at the
URL, and errors answered as 502/503/504 with x-verge-error.

Options:
  --port <n>              port to listen on (default 8787; 0 picks a free one)
  --env <name>            wrangler [env.<name>] section to use
  --var KEY=VALUE         a plain env binding (repeatable; overrides the config's vars)
  --strict-lambda-edge    apply the Lambda@Edge limits profile (sizes, headers, timeouts)
  --profile <name>        limits profile: workers (default) or lambda-edge
  --event <type>          the CloudFront event the function runs at (default viewer-request);
                          with --upstream, repeat it (or use commas) to attach it to several
  --upstream <url>        the origin: run the full edge pipeline in front of it
  --allow-private         let the function fetch (and choose origins at) private and loopback addresses

Every response carries x-verge-request-id and x-verge-limits (CPU, wall time,
heap and subrequests used vs budget; a trailer when a streamed response was
still running as its head went out). GET /__scheduled?cron=<expr> runs the
Worker's scheduled handler. NO_COLOR turns colour off.
`;

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: "string", default: "8787" },
      env: { type: "string" },
      event: { type: "string", multiple: true },
      upstream: { type: "string" },
      profile: { type: "string" },
      "strict-lambda-edge": { type: "boolean" },
      var: { type: "string", multiple: true },
      "allow-private": { type: "boolean" },
    },
  });
  if (positionals.length > 1) throw new UsageError(`verge dev: expected one entry or config, found ${positionals.length}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${values.port}: expected a port number (0 picks a free one)`);
  if (values.upstream !== undefined && !/^https?:\/\/[^/?#]+/.test(values.upstream)) throw new UsageError(`--upstream ${values.upstream}: expected an http(s) URL such as http://127.0.0.1:3000`);
  const args = {
    target: positionals[0],
    env: values.env,
    vars: values.var ?? [],
    events: values.event,
    profile: values.profile,
    strictLambdaEdge: values["strict-lambda-edge"] === true,
  };
  const settings = resolveDevSettings(args);
  if (settings.events.length > 1 && values.upstream === undefined) throw new UsageError(`--event ${settings.events.join(",")}: several events need --upstream (the function then runs at each in its distribution)`);
  const term = createTerminal();
  for (const w of settings.warnings) term.line(term.paint("yellow", `warning: ${w}`));
  const limits = validateLimits(settings.limits, settings.events[0] ?? "viewer-request").config;

  let handler: ReturnType<typeof createDevHandler> | undefined;
  const session = createDevSession({
    settings,
    reload: () => resolveDevSettings({ ...args, target: settings.configPath }),
    term,
    upstream: values.upstream,
    allowPrivate: values["allow-private"] === true,
    onLog: (version, level, message, from) => handler?.log(version, level, message, from),
  });
  const kv = Object.keys(settings.kv);
  if (kv.length > 0 && !session.kvSupported) {
    term.line(term.paint("yellow", `warning: KV namespace binding${kv.length > 1 ? "s" : ""} ${kv.join(", ")} not available: this verge harness has no KV support yet; env.${kv[0]} is undefined`));
  }
  const entry = relative(process.cwd(), settings.entry) || settings.entry;
  handler = createDevHandler({ session, entry, term });
  await session.firstBuild;
  const server = await serve(handler, port);
  const secretNames = Object.keys(settings.secrets);
  term.line(
    banner(term, {
      url: server.url,
      entry,
      config: settings.configPath ? relative(process.cwd(), settings.configPath) || settings.configPath : undefined,
      name: settings.name,
      vars: Object.keys(settings.vars).filter((k) => !secretNames.includes(k)),
      secrets: secretNames,
      kv: session.kvSupported ? kv : [],
      kvPersist: session.kvSupported ? relative(process.cwd(), settings.kvPersist) || settings.kvPersist : undefined,
      limits,
      upstream: values.upstream,
      events: settings.events.length > 0 ? settings.events : ["viewer-request"],
    }),
  );
  const stop = async (): Promise<void> => {
    await server.close();
    await session.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
}
