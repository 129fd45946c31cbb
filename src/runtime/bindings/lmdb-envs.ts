/**
 * LMDB environments shared by the bindings' local stores (KV namespaces, R2 buckets): one
 * open environment per directory in this process, however many namespaces or buckets use it,
 * closed when the last user lets go. Opening one directory twice in a process is what LMDB
 * warns against.
 */
import { open, type RootDatabase } from "lmdb";

const envs = new Map<string, { env: RootDatabase; users: number }>();

/** The environment at `dir` (an absolute path), opened on first use; pair with {@link releaseEnv}. */
export function acquireEnv(dir: string): RootDatabase {
  const known = envs.get(dir);
  if (known !== undefined) {
    known.users++;
    return known.env;
  }
  const env = open({ path: dir, maxDbs: 1024 });
  envs.set(dir, { env, users: 1 });
  return env;
}

/** One user of `dir` is done; the last one closes it. */
export async function releaseEnv(dir: string): Promise<void> {
  const known = envs.get(dir);
  if (known === undefined || --known.users > 0) return;
  envs.delete(dir);
  await known.env.close();
}
