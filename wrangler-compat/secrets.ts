/**
 * Local secrets beside the config, as `wrangler dev` reads them (dotenv
 * syntax, parsed by Node's own `util.parseEnv`):
 * 1. `.dev.vars.<env>` if it exists (with an environment), else `.dev.vars`;
 * 2. only when neither exists: `.env`, `.env.local`, `.env.<env>`,
 *    `.env.<env>.local`, later files overriding earlier ones.
 * These are for local development: `verge publish` never uploads them.
 */
import { existsSync, readFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import { parseEnv } from "node:util";

export interface LocalSecrets {
  secrets: Record<string, string>;
  files: string[];
}

/** Which files would be read, in order; the first rule that finds a file wins. */
export function secretsFilesFor(dir: string, env: string | null): string[] {
  const at = (name: string): string => joinPath(dir, name);
  if (env !== null && existsSync(at(`.dev.vars.${env}`))) return [at(`.dev.vars.${env}`)];
  if (existsSync(at(".dev.vars"))) return [at(".dev.vars")];
  const names = env === null ? [".env", ".env.local"] : [".env", ".env.local", `.env.${env}`, `.env.${env}.local`];
  return names.map(at).filter((p) => existsSync(p));
}

/**
 * Reads the secrets for `env` from the directory of the config.
 *
 * @example
 * readLocalSecrets("/work/my-worker", "staging"); // { secrets: { API_KEY: "…" }, files: ["/work/my-worker/.dev.vars.staging"] }
 */
export function readLocalSecrets(dir: string, env: string | null): LocalSecrets {
  const files = secretsFilesFor(dir, env);
  const secrets: Record<string, string> = {};
  for (const file of files) Object.assign(secrets, parseEnv(readFileSync(file, "utf8")));
  return { secrets, files };
}
