/** The registry's cron surface (re-exported by protocol.ts): per-function limits and the claim a node makes for one fire. */

/** Cron triggers per function: Workers Paid's limit (Workers Free allows 3). */
export const MAX_CRONS_PER_FUNCTION = 5;

/**
 * The alias whose first route a cron fire runs: `live` (what `verge publish`
 * moves by default), else the function's only alias, else none (no fire).
 */
export function cronAliasOf(aliases: readonly string[]): string | undefined {
  if (aliases.includes("live")) return "live";
  return aliases.length === 1 ? aliases[0] : undefined;
}

/** `POST /v1/cron/claim` (node token): one edge node asks to run one fire. */
export interface CronClaimRequest {
  tenant: string;
  function: string;
  cron: string;
  /** The fire's time, ms since the epoch: a whole minute at which `cron` fires. */
  scheduledTime: number;
  /** The asking node's id (unique in the fleet, as in node reports). */
  node: string;
}

/**
 * The registry's answer: `run: true` to the first node that claimed this
 * (tenant, function, cron, scheduledTime), and again to that same node if it
 * asks again (a retry after a lost answer); `run: false` to every other node
 * (`reason: "claimed"`, `node` the holder), or when the cron is no longer in
 * the function's config (`reason: "not-configured"`).
 */
export interface CronClaimResult {
  run: boolean;
  node?: string;
  reason?: "claimed" | "not-configured";
}
