/** The `workerd` binary from Miniflare's package, and a config serving one ES-module Worker. */

/** Path of the binary, or null when the `workerd` package is missing. */
export async function workerdBinary(): Promise<string | null> {
  try {
    // CommonJS package: the binary path is `module.exports.default`. No type
    // declarations ship with it: import by a variable name so tsc does not look.
    const name = "workerd";
    const mod = (await import(name)) as { default?: string | { default?: string } };
    const path = typeof mod.default === "string" ? mod.default : mod.default?.default;
    return typeof path === "string" ? path : null;
  } catch {
    return null;
  }
}

/** A capnp config serving `worker.js` (beside the config) on 127.0.0.1:`port`. */
export function workerdConfig(port: number): string {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const w :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "2024-09-23",
);
`;
}

/**
 * A capnp config serving several ES-module Workers, each `<name>.js` beside the
 * config, each on its own port of 127.0.0.1, with the given compatibility flags.
 */
export function workerdServicesConfig(workers: Array<{ name: string; port: number }>, flags: string[] = []): string {
  for (const w of workers) {
    if (!/^[a-z][a-z0-9]*$/.test(w.name)) throw new Error(`workerdServicesConfig: worker name ${JSON.stringify(w.name)} must be lowercase letters and digits (it names a capnp constant)`);
  }
  const flagList = flags.map((f) => JSON.stringify(f)).join(", ");
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ ${workers.map((w) => `(name = "${w.name}", worker = .${w.name})`).join(", ")} ],
  sockets = [ ${workers.map((w) => `(name = "${w.name}", address = "127.0.0.1:${w.port}", http = (), service = "${w.name}")`).join(", ")} ],
);
${workers
  .map(
    (w) => `const ${w.name} :Workerd.Worker = (
  modules = [ (name = "${w.name}.js", esModule = embed "${w.name}.js") ],
  compatibilityDate = "2024-09-23",
  compatibilityFlags = [ ${flagList} ],
);`,
  )
  .join("\n")}
`;
}
