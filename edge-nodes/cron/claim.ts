/**
 * `POST /v1/cron/claim` from an edge node (origin/routes/cron.ts). A claim that
 * cannot reach the registry is retried a few times within a short deadline,
 * since the registry answers the same node `run: true` again; then the fire is
 * given up (`ERR_REGISTRY_UNAVAILABLE`): without arbitration nobody runs it.
 */
import { VergeError } from "../../src/shared/errors.ts";
import type { CronClaimRequest, CronClaimResult } from "../../src/shared/protocol.ts";

export type ClaimFn = (request: CronClaimRequest) => Promise<CronClaimResult>;

export interface ClaimClientOptions {
  url: string;
  token: string;
  fetch?: typeof fetch;
  /** Waits between attempts (ms); its length + 1 is the number of attempts. Default [250, 1000]. */
  backoffMs?: readonly number[];
  /** Per attempt. Default 5 s. */
  timeoutMs?: number;
}

export function createClaimClient(options: ClaimClientOptions): ClaimFn {
  const base = options.url.replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;
  const backoff = options.backoffMs ?? [250, 1000];
  const timeoutMs = options.timeoutMs ?? 5_000;
  const what = (r: CronClaimRequest) => `cron claim of ${r.tenant}/${r.function} "${r.cron}" at ${new Date(r.scheduledTime).toISOString()}`;

  async function attempt(request: CronClaimRequest): Promise<CronClaimResult> {
    let res: Response;
    try {
      res = await doFetch(`${base}/v1/cron/claim`, {
        method: "POST",
        headers: { authorization: `Bearer ${options.token}`, "content-type": "application/json" },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new VergeError("ERR_REGISTRY_UNAVAILABLE", `${what(request)}: the registry at ${base} could not be reached: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
    const body = (await res.json().catch(() => undefined)) as (CronClaimResult & { error?: { code?: string; message?: string } }) | undefined;
    if (res.ok && typeof body?.run === "boolean") return body;
    const code = res.status < 500 && typeof body?.error?.code === "string" && body.error.code.startsWith("ERR_") ? (body.error.code as `ERR_${string}`) : "ERR_REGISTRY_UNAVAILABLE";
    throw new VergeError(code, `${what(request)}: HTTP ${res.status}${body?.error?.message === undefined ? "" : `: ${String(body.error.message).slice(0, 300)}`}`, { details: { status: res.status } });
  }

  return async (request) => {
    for (let i = 0; ; i++) {
      try {
        return await attempt(request);
      } catch (err) {
        if ((err as VergeError).code !== "ERR_REGISTRY_UNAVAILABLE" || i >= backoff.length) throw err;
        await new Promise((r) => setTimeout(r, backoff[i]));
      }
    }
  };
}
