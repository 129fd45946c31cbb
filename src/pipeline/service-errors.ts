/**
 * What the caller of a service binding sees when the target fails, as workerd
 * shows it (Miniflare 4 with two Workers, test/differential/service-workers.test.ts):
 * - the target threw (or its promise rejected): the caller's `fetch()` rejects with the same
 *   exception, rebuilt: its built-in class (Error, TypeError, RangeError, SyntaxError,
 *   ReferenceError, EvalError, URIError) and message, `remote: true`; an instance of another
 *   class arrives as an Error whose message is `<name>: <message>`, a thrown non-Error value
 *   as an Error whose message is the value's text;
 * - the target answered with something other than a Response: a TypeError with workerd's text;
 * - its response body failed while streaming: the caller's read rejects the same way.
 * Failures that are verge's own (a limit, a missing target, a cancelled call) stay Errors
 * naming the binding and the service. An answer without a status text gets workerd's
 * reason phrase ({@link reasonPhrase}).
 */
import { STATUS_CODES } from "node:http";
import { hasCode } from "../shared/errors.ts";

/** workerd's words for a target whose fetch handler did not resolve to a Response. */
export const NOT_A_RESPONSE = "Incorrect type for Promise: the Promise did not resolve to 'Response'.";

const BUILT_IN = new Set(["Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError"]);

/** An Error the host's op bridge sends into the caller's isolate as a remote exception (host-ops.ts plainError). */
function remote(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  (e as Error & { remote: boolean }).remote = true;
  return e;
}

/** The caller's view of the target's failure when workerd would pass it through, else undefined. */
export function remoteError(err: unknown): Error | undefined {
  if (!hasCode(err)) return undefined;
  const details = (err as { details?: Record<string, unknown> }).details ?? {};
  const name = typeof details.errorName === "string" ? details.errorName : undefined;
  if (err.code === "ERR_INVALID_RESULT" && name === "VergeInvalidResult" && err.message.includes("must return a Response")) return remote("TypeError", NOT_A_RESPONSE);
  if (err.code !== "ERR_FUNCTION_EXCEPTION" || name === undefined) return undefined;
  let message = typeof details.errorMessage === "string" ? details.errorMessage : err.message;
  // A thrown primitive reaches verge as "Uncaught <value>" with no stack frames; workerd passes the value's text.
  const stack = (err as { guestStack?: string }).guestStack ?? "";
  if (name === "Error" && message.startsWith("Uncaught ") && !stack.includes("\n")) message = message.slice("Uncaught ".length);
  return BUILT_IN.has(name) ? remote(name, message) : remote("Error", `${name}: ${message}`);
}

/** The target's response body, whose failure mid-stream reaches the caller as the target's exception. */
export function remoteBody(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      const it = body[Symbol.asyncIterator]();
      return {
        next: () =>
          it.next().catch((err: unknown) => {
            throw remoteError(err) ?? err;
          }),
        return: (value?: unknown) => it.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined }),
      };
    },
  };
}

/** workerd's reason phrase for a status (Miniflare 4 shows it, test/differential/service-workers.test.ts): Node's table where they agree, else the status class's. */
export function reasonPhrase(status: number): string {
  const known = status === 418 ? "I'm a teapot" : status === 425 || status === 509 ? undefined : STATUS_CODES[status];
  return known ?? ["Informational", "Successful", "Redirection", "Client Error", "Server Error"][Math.floor(status / 100) - 1] ?? "";
}
