/**
 * D1 on an edge node: the database is the registry's (its one primary, as in
 * Cloudflare), so each statement, batch or exec of a function is one HTTP
 * round trip with the node token, under a deadline. Nothing is cached or
 * replicated here: reads see every write at once, and when the registry cannot
 * be reached the call fails with a D1_ERROR that says so (D1 itself fails when
 * its primary is unreachable), never with the token or the registry's URL.
 */
import type { D1Backend } from "../../src/runtime/bindings/d1/index.ts";
import type { RegistryClient } from "./registry-client.ts";

export interface EdgeD1Options {
  client: RegistryClient;
  tenant: string;
  database: string;
  /** Milliseconds a call may take, round trip included (default 35 000: D1's 30 s query limit and the network). */
  timeoutMs?: number;
}

export const EDGE_D1_TIMEOUT_MS = 35_000;

export function createEdgeD1Backend(options: EdgeD1Options): D1Backend {
  const timeoutMs = options.timeoutMs ?? EDGE_D1_TIMEOUT_MS;
  return async (request) => {
    try {
      return await options.client.d1Query(options.tenant, options.database, request, AbortSignal.timeout(timeoutMs));
    } catch (err) {
      const e = err as { code?: string; message?: string };
      const why =
        e.code === "ERR_REGISTRY_UNAVAILABLE"
          ? /timed out|aborted/.test(e.message ?? "")
            ? `the registry did not answer within ${timeoutMs} ms`
            : "the registry that hosts it cannot be reached"
          : `the registry refused the query (${e.code ?? "error"})`;
      return { ok: false, kind: request.op === "exec" ? "D1_EXEC_ERROR" : "D1_ERROR", message: `database "${options.database}" is unavailable: ${why}` };
    }
  };
}
