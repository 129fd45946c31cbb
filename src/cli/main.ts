/** The `verge` command: parses the verb and runs its module. Exit codes: 0 ok, 1 failure, 2 usage. */
import { fail, UsageError } from "./output.ts";

interface Command {
  help: string;
  run(argv: string[]): Promise<void>;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  dev: () => import("./commands/dev.ts"),
  build: () => import("./commands/build.ts"),
  up: () => import("./commands/up.ts"),
  origin: () => import("./commands/origin.ts"),
  edge: () => import("./commands/edge.ts"),
  publish: () => import("./commands/publish.ts"),
  alias: () => import("./commands/alias.ts"),
  keys: () => import("./commands/keys.ts"),
  deploy: () => import("./commands/deploy.ts"),
  versions: () => import("./commands/versions.ts"),
  logs: () => import("./commands/logs.ts"),
  d1: () => import("./commands/d1.ts"),
  bench: () => import("./commands/bench.ts"),
};

const HELP = `verge: a self-hosted edge runtime (Lambda@Edge and Workers on your own machines)

Usage: verge <command> [options]

Commands:
  up        run a local fleet: registry, 3 edge nodes, demo origin and functions (\`npm start\`)
  dev       serve one function locally with production limits
  build     bundle a function into one ES module with a source map
  origin    run the origin registry
  edge      run an edge node
  publish   build, sign and upload a function version
  versions  list a function's versions
  alias     point an alias at versions (weighted), roll it back
  keys      generate and trust Ed25519 publisher keys
  deploy    write a distribution, optionally wait for the edge nodes
  logs      every edge node's request logs for a tenant: recent, then live
  d1        apply a D1 database's migrations (local or at the registry)
  bench     run the benchmarks (bench/), results in bench/results/

Run \`verge <command> --help\` for a command's options.
`;

async function main(argv: string[]): Promise<void> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === "--help" || verb === "-h" || verb === "help") {
    process.stdout.write(HELP);
    return;
  }
  const load = COMMANDS[verb];
  if (load === undefined) throw new UsageError(`unknown command "${verb}"; expected one of ${Object.keys(COMMANDS).join(", ")}`);
  const command = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(command.help);
    return;
  }
  try {
    await command.run(rest);
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || (err as { code?: string }).code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      throw new UsageError((err as Error).message);
    }
    throw err;
  }
}

main(process.argv.slice(2)).catch(fail);
