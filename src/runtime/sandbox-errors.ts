/** The errors a Sandbox makes of what its isolate threw (sandbox.ts). */
import { VergeError } from "../shared/errors.ts";
import type { Limits } from "../shared/limits.ts";
import type { StackMapper } from "./source-map.ts";

/** Anything a host call threw while running `name`'s invocation, as a VergeError. */
export function asVergeError(err: unknown, name: string): VergeError {
  if (err instanceof VergeError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new VergeError("ERR_FUNCTION_EXCEPTION", `${name}: ${msg}`, { cause: err });
}

/** What evaluating `name`'s bundle threw: the memory limit, the startup CPU budget, or a load error with its mapped stack. */
export function startupError(err: unknown, name: string, limits: Limits, stack: StackMapper): VergeError {
  const msg = err instanceof Error ? err.message : String(err);
  if (/memory limit/i.test(msg)) return new VergeError("ERR_MEMORY_LIMIT", `${name}: exceeded the memory limit of ${limits.memoryMb} MB while starting`);
  if (/timed out/i.test(msg)) return new VergeError("ERR_STARTUP_CPU_LIMIT", `${name}: evaluating the top level exceeded the startup budget of ${limits.startupCpuMs} ms`);
  const guestStack = err instanceof Error && typeof err.stack === "string" ? stack.map(err.stack) : undefined;
  return new VergeError("ERR_BUNDLE_COMPILE", `${name}: the bundle failed to load: ${msg}`, { guestStack, cause: err });
}
