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
  if (typeof code === "string") {
    process.stderr.write(`verge: ${code}: ${message}\n`);
    if (!isUserError(code)) process.stderr.write("This looks like a bug or an outage, not a problem with your input.\n");
  } else process.stderr.write(`verge: ${message}\n`);
  process.exit(1);
}
