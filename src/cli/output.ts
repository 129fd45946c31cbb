/** Terminal output of the CLI: errors say what to fix; exit 1 for failures, 2 for usage. */
import { isUserError } from "../shared/errors.ts";

export class UsageError extends Error {}

export function fail(err: unknown): never {
  if (err instanceof UsageError) {
    process.stderr.write(`verge: ${err.message}\nRun \`verge --help\` for usage.\n`);
    process.exit(2);
  }
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  const fsError = fileProblem(err);
  if (fsError !== null) {
    process.stderr.write(`verge: ${fsError.path}: ${fsError.what}\n`);
    if (!PATH_CODES.has(fsError.code)) process.stderr.write("This looks like a bug or an outage, not a problem with your input.\n");
  } else if (typeof code === "string") {
    process.stderr.write(`verge: ${code}: ${message}\n`);
    if (!isUserError(code)) process.stderr.write("This looks like a bug or an outage, not a problem with your input.\n");
  } else process.stderr.write(`verge: ${message}\n`);
  process.exit(1);
}

/** File-system codes that mean a path given on the command line is wrong, not a bug or an outage. */
const PATH_CODES = new Set(["ENOENT", "EACCES", "EPERM", "EISDIR", "ENOTDIR", "EEXIST", "ENAMETOOLONG", "ELOOP"]);

/** A Node file-system error (`ENOENT: no such file or directory, open 'x'`) as path, code and what went wrong. */
function fileProblem(err: unknown): { path: string; code: string; what: string } | null {
  const e = err as NodeJS.ErrnoException | undefined;
  if (typeof e?.path !== "string" || typeof e.code !== "string" || typeof e.syscall !== "string") return null;
  const what = /^[A-Z]+: ([^,]+),/.exec(e.message)?.[1] ?? e.message;
  return { path: e.path, code: e.code, what: `${what} (${e.syscall}: ${e.code})` };
}
