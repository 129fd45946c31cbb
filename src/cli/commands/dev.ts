/** `verge dev [entry | wrangler config]`: build, serve, rebuild and swap on change, with production limits. */
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { VergeError } from "../../shared/errors.ts";
import { validateLimits } from "../../shared/limits.ts";
import { resolveDevSettings } from "../dev/config.ts";
import { createDevUpgrade } from "../dev/websocket.ts";
import { createDevHandler } from "../dev/handler.ts";
import { createDevSession } from "../dev/session.ts";
import { createLocalWorkers } from "../dev/workers.ts";
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

An entry given with a wrangler config in the current directory (or --config)
replaces its main, as with wrangler dev <script>; the config still gives the
bindings, name and limits.

Several --config (verge dev -c front.toml -c auth.toml, as wrangler dev takes
them) run several Workers: the first is served on the port, and each one's
[[services]] bindings to another by its name run that Worker (each is built,
watched and rebuilt on its own).

Options:
  --port <n>              port to listen on (default 8787; 0 picks a free one)
  -c, --config <file>     the wrangler.toml / wrangler.json(c) to use; repeat it to run
                          other Workers the first one reaches by its service bindings
  --env <name>            wrangler [env.<name>] section to use
  --var KEY:VALUE         a plain env binding, as wrangler takes it (KEY=VALUE too;
                          repeatable; overrides the config's vars)
  --test-scheduled        accepted for wrangler's sake: /__scheduled is always on
  --strict-lambda-edge    apply the Lambda@Edge limits profile (sizes, headers, timeouts)
  --profile <name>        limits profile: workers (default) or lambda-edge
  --event <type>          the CloudFront event the function runs at (default viewer-request);
                          with --upstream, repeat it (or use commas) to attach it to several
  --upstream <url>        the origin: run the full edge pipeline in front of it
  --allow-private         let the function fetch (and choose origins at) private and loopback addresses
  --assets <dir>          serve this directory's files before the Worker, as Cloudflare's static
                          assets (replaces the config's [assets] directory)
  --node-compat           bundle Node built-ins (node:buffer, node:crypto, ...) as with
                          compatibility_flags = ["nodejs_compat"]: for an entry without a wrangler
                          config, such as a Lambda@Edge handler

Every response carries x-verge-request-id and x-verge-limits (CPU, wall time,
heap and subrequests used vs budget; a trailer when a streamed response was
still running as its head went out). GET /__scheduled?cron=<expr> (or
/cdn-cgi/handler/scheduled?cron=<expr>, as in Miniflare 4) runs the
Worker's scheduled handler. NO_COLOR turns colour off.
`;

/** wrangler dev options verge dev does not take, and why (instead of "unknown option"). */
const WRANGLER_ONLY: Record<string, string> = {
  remote: "verge dev always runs the Worker locally",
  r: "verge dev always runs the Worker locally",
  ip: "verge dev listens on 127.0.0.1 only",
  host: "verge dev has no remote preview host",
  "persist-to": "KV data is kept in .verge/kv beside the config",
  "inspector-port": "verge dev has no inspector (exceptions show source-mapped stacks)",
  "live-reload": "verge dev reloads the Worker on save, not the browser",
  "local-protocol": "verge dev serves http only",
  "upstream-protocol": "use --upstream http(s)://host",
  "https-key-path": "verge dev serves http only",
  "https-cert-path": "verge dev serves http only",
  routes: "routes do not apply in verge dev (every request goes to the Worker)",
  site: "Workers Sites are not supported by verge",
  "compatibility-date": "set compatibility_date in the config",
  "compatibility-flags": "set compatibility_flags in the wrangler config (verge applies nodejs_compat in part, as polyfills bundled into the function; other flags are not applied)",
};

/** The name of an option in `argv` that wrangler dev takes and verge dev does not, with why. */
function wranglerOnly(argv: string[]): string | undefined {
  for (const a of argv) {
    if (a === "--") break;
    const name = /^--?([a-z][a-z-]*)(?:=|$)/.exec(a)?.[1];
    if (name !== undefined && Object.hasOwn(WRANGLER_ONLY, name)) return `${a.split("=")[0]} is a wrangler dev option verge dev does not take: ${WRANGLER_ONLY[name]}`;
  }
  return undefined;
}

export async function run(argv: string[]): Promise<void> {
  const unsupported = wranglerOnly(argv);
  if (unsupported !== undefined) throw new UsageError(unsupported);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: "string", default: "8787" },
      config: { type: "string", short: "c", multiple: true },
      env: { type: "string" },
      "test-scheduled": { type: "boolean" },
      local: { type: "boolean" },
      event: { type: "string", multiple: true },
      upstream: { type: "string" },
      profile: { type: "string" },
      "strict-lambda-edge": { type: "boolean" },
      var: { type: "string", multiple: true },
      "allow-private": { type: "boolean" },
      "node-compat": { type: "boolean" },
      assets: { type: "string" },
    },
  });
  if (positionals.length > 1) throw new UsageError(`verge dev: expected one entry or config, found ${positionals.length}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${values.port}: expected a port number (0 picks a free one)`);
  if (values.upstream !== undefined && !/^https?:\/\/[^/?#]+/.test(values.upstream)) throw new UsageError(`--upstream ${values.upstream}: expected an http(s) URL such as http://127.0.0.1:3000`);
  const configs = values.config ?? [];
  const others = configs.slice(1).map((config) => resolveDevSettings({ target: undefined, config, env: values.env, vars: [], strictLambdaEdge: false }));
  const localWorkers = others.map((o, i) => {
    if (o.name === undefined) throw new UsageError(`--config ${configs[i + 1]}: a Worker run beside the first needs a name (name = "..."), which the others' service bindings use`);
    return o.name;
  });
  const args = {
    target: positionals[0],
    config: configs[0],
    env: values.env,
    vars: values.var ?? [],
    events: values.event,
    profile: values.profile,
    strictLambdaEdge: values["strict-lambda-edge"] === true,
    nodeCompat: values["node-compat"] === true,
    assets: values.assets,
    localWorkers,
  };
  const settings = resolveDevSettings(args);
  const names = settings.name === undefined ? localWorkers : [settings.name, ...localWorkers];
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new UsageError(`verge dev: two configs name their Worker "${twice}"; each Worker needs its own name`);
  if (settings.events.length > 1 && values.upstream === undefined) throw new UsageError(`--event ${settings.events.join(",")}: several events need --upstream (the function then runs at each in its distribution)`);
  const term = createTerminal();
  for (const w of settings.warnings) term.line(term.paint("yellow", `warning: ${w}`));
  const limits = validateLimits(settings.limits, settings.events[0] ?? "viewer-request").config;

  let handler: ReturnType<typeof createDevHandler> | undefined;
  // The Workers beside the first (several --config), each with its own session; calls between them by name.
  const workers = createLocalWorkers();
  const callWorker = (name: string, request: Request) => workers.call(name, request);
  const sideSessions = configs.slice(1).map((config, i) => {
    const name = localWorkers[i]!;
    // Read again knowing every Worker's name: its bindings to them are kept, the rest noted.
    const sideArgs = { target: undefined, config, env: values.env, vars: [], strictLambdaEdge: false, localWorkers: names };
    const sideSettings = resolveDevSettings(sideArgs);
    for (const w of sideSettings.warnings) term.line(term.paint("yellow", `warning: ${w}`));
    const side = createDevSession({
      settings: sideSettings,
      reload: () => resolveDevSettings(sideArgs),
      term,
      allowPrivate: values["allow-private"] === true,
      onLog: (_version, level, message) => term.line(term.paint("dim", `[${name}] ${level}: ${message}`)),
      callWorker,
    });
    workers.add(name, side);
    return side;
  });
  const session = createDevSession({
    settings,
    // The same arguments: an entry given on the command line keeps replacing the config's main.
    reload: () => resolveDevSettings(args),
    term,
    upstream: values.upstream,
    allowPrivate: values["allow-private"] === true,
    onLog: (version, level, message, from) => handler?.log(version, level, message, from),
    callWorker,
  });
  if (settings.name !== undefined) workers.add(settings.name, session);
  const kv = Object.keys(settings.kv);
  if (kv.length > 0 && !session.kvSupported) {
    term.line(term.paint("yellow", `warning: KV namespace binding${kv.length > 1 ? "s" : ""} ${kv.join(", ")} not available: this verge harness has no KV support yet; env.${kv[0]} is undefined`));
  }
  const entry = relative(process.cwd(), settings.entry) || settings.entry;
  handler = createDevHandler({ session, entry, term });
  await Promise.all([session.firstBuild, ...sideSessions.map((side) => side.firstBuild)]);
  // Without --upstream a Worker's WebSocketPair answers handshakes; the pipeline's request path takes none.
  const upgrade = session.pipeline ? undefined : createDevUpgrade(session, term);
  const closeAll = () => Promise.all([session.close(), ...sideSessions.map((side) => side.close())]);
  const server = await serve(handler, port, upgrade).catch(async (err: NodeJS.ErrnoException) => {
    await closeAll();
    if (err.code !== "EADDRINUSE") throw err;
    throw new VergeError("ERR_PORT_IN_USE", `verge dev: port ${port} on 127.0.0.1 is already in use (another verge dev or wrangler dev?): stop what holds it, or pass --port <n> (--port 0 picks a free one)`);
  });
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
      r2: Object.keys(settings.r2 ?? {}),
      kvPersist: session.kvSupported ? relative(process.cwd(), settings.kvPersist) || settings.kvPersist : undefined,
      limits,
      upstream: values.upstream,
      events: settings.events.length > 0 ? settings.events : ["viewer-request"],
    }),
  );
  if (others.length > 0) term.line(term.paint("dim", `also running, for service bindings: ${others.map((o, i) => `${localWorkers[i]} (${relative(process.cwd(), o.configPath!) || o.configPath})`).join(", ")}`));
  const stop = async (): Promise<void> => {
    await server.close();
    await closeAll();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
}
