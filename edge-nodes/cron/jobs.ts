/**
 * What an edge node schedules, read from the applied state: one job per cron
 * of every function whose current config has `crons` (a Worker's crons belong
 * to the Worker, not to a route: no distribution is needed). The version a
 * fire runs is resolved at the fire, from the alias `cronAliasOf` picks.
 */
import { parseCron, type CronSchedule } from "../../src/shared/cron.ts";
import { cronAliasOf } from "../../src/shared/protocol.ts";
import type { AppliedState, VersionRef } from "../types.ts";

export interface CronJob {
  tenant: string;
  function: string;
  cron: string;
  schedule: CronSchedule;
}

const cache = new WeakMap<AppliedState, CronJob[]>();
const schedules = new Map<string, CronSchedule>();

/** Every (tenant, function, cron) of the state; the same array while the state is the same object. */
export function jobsOf(state: AppliedState): CronJob[] {
  const known = cache.get(state);
  if (known !== undefined) return known;
  const jobs: CronJob[] = [];
  for (const [tenant, t] of Object.entries(state.snapshot.tenants)) {
    for (const [name, fn] of Object.entries(t.functions)) {
      for (const cron of fn.config.crons ?? []) {
        let schedule = schedules.get(cron);
        if (schedule === undefined) {
          try {
            schedule = parseCron(cron);
          } catch {
            continue; // the registry validates crons; a bad one here is skipped, never fatal
          }
          schedules.set(cron, schedule);
        }
        jobs.push({ tenant, function: name, cron, schedule });
      }
    }
  }
  cache.set(state, jobs);
  return jobs;
}

/** The version a fire runs: the first route of the function's cron alias, or a reason there is none. */
export function versionFor(state: AppliedState, job: Pick<CronJob, "tenant" | "function">): VersionRef | { missing: string } {
  const t = state.snapshot.tenants[job.tenant];
  if (t === undefined || t.functions[job.function] === undefined) return { missing: "the function is gone" };
  const prefix = `${job.function}/`;
  const names = Object.keys(t.aliases).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  const alias = cronAliasOf(names);
  if (alias === undefined) return { missing: names.length === 0 ? "the function has no alias" : `no alias "live" among ${names.length} aliases (${names.join(", ")})` };
  const digest = t.aliases[`${job.function}/${alias}`]?.routes[0]?.version;
  if (digest === undefined) return { missing: `alias "${alias}" routes to no version` };
  return { tenant: job.tenant, function: job.function, digest };
}
