export { startCronScheduler, systemClock } from "./scheduler.ts";
export type { CronClock, CronScheduler, CronSchedulerOptions, FireOutcome, FireRecord } from "./scheduler.ts";
export { createClaimClient } from "./claim.ts";
export type { ClaimClientOptions, ClaimFn } from "./claim.ts";
export { jobsOf, versionFor } from "./jobs.ts";
export type { CronJob } from "./jobs.ts";
export { createManualClock } from "./manual-clock.ts";
export type { ManualClock } from "./manual-clock.ts";
