export { createD1Engine, D1_DEFAULT_TIMEOUT_MS, type D1Engine, type D1EngineOptions } from "./engine.ts";
export { D1_DEFAULT_LIMITS, type D1DatabaseLimits } from "./database.ts";
export type { D1ExecResult, D1Failure, D1Meta, D1Query, D1Request, D1Response, D1RowsResult, D1Value } from "./wire.ts";
export { D1_MAX_BATCH } from "./wire.ts";
