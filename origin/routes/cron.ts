/**
 * Cron arbitration (issue 5): every edge node that schedules a function's
 * cron asks here before running a fire; the first claim of a (tenant,
 * function, cron, scheduledTime) wins and only its node runs `scheduled()`.
 *
 * 1. Validate: node scope, names, the cron is a fire time's cron
 *    (`firesAt`), the time is inside the claim window (not older than
 *    CLAIM_WINDOW_MS, not more than CLOCK_SKEW_MS ahead of the registry).
 * 2. In one write transaction (serialized: exactly one winner even for
 *    concurrent claims): prune expired claims, check the cron is still in the
 *    function's config, read the claim, write it if absent.
 *
 * Claims are not desired state: they never enter the feed. They are kept
 * CLAIM_RETENTION_MS, longer than the window, so an expired claim can never be
 * claimed a second time.
 */
import { Hono } from "hono";
import { firesAt } from "../../src/shared/cron.ts";
import { NAME_PATTERN, type CronClaimResult, type FunctionInfo } from "../../src/shared/protocol.ts";
import { need } from "../auth.ts";
import { readJson } from "../body.ts";
import type { OriginContext, OriginEnv } from "../context.ts";
import { invalid } from "../errors.ts";
import type { WriteTx } from "../store/store.ts";
import { MAX_CRON_LENGTH } from "../validate/config.ts";
import { Diagnostics } from "../validate/fields.ts";

/** A fire older than this (by the registry's clock) is refused: nobody runs it. */
export const CLAIM_WINDOW_MS = 60 * 60_000;
/** How far a node's clock may run ahead of the registry's. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** Claims are deleted this long after their scheduled time (more than the window). */
export const CLAIM_RETENTION_MS = 2 * CLAIM_WINDOW_MS;
/** Expired claims deleted per claim at most (keeps each transaction short). */
const PRUNE_BATCH = 256;

interface StoredClaim {
  node: string;
  claimedAt: string;
}

/** Time first, zero-padded: the table's order is the claims' age, so pruning reads only expired keys. */
function claimKey(scheduledTime: number, tenant: string, fn: string, cron: string): string {
  return `${String(scheduledTime).padStart(15, "0")}/${tenant}/${fn}/${encodeURIComponent(cron)}`;
}

function prune(tx: WriteTx, now: number): void {
  const horizon = now - CLAIM_RETENTION_MS;
  for (const { key } of tx.range<StoredClaim>("cron-claims", { prefix: "", limit: PRUNE_BATCH })) {
    if (Number(String(key).slice(0, 15)) >= horizon) break;
    tx.delete("cron-claims", key);
  }
}

export function cronRoutes(ctx: OriginContext): Hono<OriginEnv> {
  const app = new Hono<OriginEnv>();

  /** `{ tenant, function, cron, scheduledTime, node }` → {@link CronClaimResult}. */
  app.post("/cron/claim", async (c) => {
    need(c.get("principal"), "node");
    const body = await readJson(c);
    const d = new Diagnostics();
    const obj = d.object("body", body) ?? {};
    d.known("", obj, ["tenant", "function", "cron", "scheduledTime", "node"]);
    const nameExpected = "a name: 1–63 characters, lowercase letters, digits, \"-\" or \"_\"";
    const tenant = d.string("tenant", obj.tenant, NAME_PATTERN, nameExpected);
    const fn = d.string("function", obj.function, NAME_PATTERN, nameExpected);
    const node = d.string("node", obj.node, NAME_PATTERN, nameExpected);
    const cron = d.string("cron", obj.cron, null, "a cron expression");
    if (cron !== undefined && cron.length > MAX_CRON_LENGTH) d.add("cron", `expected at most ${MAX_CRON_LENGTH} characters, found ${cron.length}`);
    const time = d.integer("scheduledTime", obj.scheduledTime, 0, Number.MAX_SAFE_INTEGER, -1);
    if (d.ok && cron !== undefined) {
      let fires = false;
      try {
        fires = firesAt(cron, time);
      } catch (err) {
        d.add("cron", (err as Error).message);
      }
      if (d.ok && !fires) d.add("scheduledTime", `${new Date(time).toISOString()} is not a time at which "${cron}" fires`);
      const now = ctx.now();
      if (time < now - CLAIM_WINDOW_MS) d.add("scheduledTime", `${new Date(time).toISOString()} is more than ${CLAIM_WINDOW_MS / 60_000} minutes in the past (registry time ${new Date(now).toISOString()}); the fire is not run`);
      if (time > now + CLOCK_SKEW_MS) d.add("scheduledTime", `${new Date(time).toISOString()} is in the future (registry time ${new Date(now).toISOString()}); check the node's clock`);
    }
    if (!d.ok) throw invalid("ERR_INVALID_REQUEST", "cron claim", d.list);
    const result = await ctx.write((tx): CronClaimResult => {
      prune(tx, ctx.now());
      const info = tx.get<FunctionInfo>("functions", `${tenant}/${fn}`);
      if (info === undefined || !(info.config.crons ?? []).includes(cron!)) return { run: false, reason: "not-configured" };
      const key = claimKey(time, tenant!, fn!, cron!);
      const held = tx.get<StoredClaim>("cron-claims", key);
      // The same node asking again (its first answer was lost) gets the same answer.
      if (held !== undefined) return held.node === node ? { run: true, node } : { run: false, node: held.node, reason: "claimed" };
      tx.put("cron-claims", key, { node: node!, claimedAt: ctx.iso() } satisfies StoredClaim);
      return { run: true, node: node! };
    });
    return c.json(result);
  });

  return app;
}
