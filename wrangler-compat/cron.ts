/**
 * Cron expression syntax as Cloudflare's Cron Triggers accept it. The parser
 * and the schedule live in src/shared/cron.ts, shared with the registry (which
 * validates `config.crons`) and edge nodes (which run them).
 */
export { cronNeverFires, cronProblem } from "../src/shared/cron.ts";
