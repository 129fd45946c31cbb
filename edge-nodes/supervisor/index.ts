/** The edge node's supervisor: worker processes, crash attribution, quarantine (issue 4). See README.md. */
export { startSupervisor } from "./primary.ts";
export type { Supervisor } from "./primary.ts";
export type { SupervisorOptions } from "./options.ts";
export { connectWorker } from "./worker.ts";
export type { Closeable, ConnectWorkerOptions, DrainOptions, WorkerConnection } from "./worker.ts";
export { createCrashMarker, readCrashMarker, digestOf } from "./marker.ts";
export { createCrashLedger, DEFAULT_QUARANTINE_RULE } from "./quarantine.ts";
export type { CrashLedger, CrashLedgerOptions, QuarantineRule } from "./quarantine.ts";
export type { DrainMessage, HeartbeatMessage, LogMessage, QuarantineEntry, QuarantineMessage, QuarantineView, ReadyMessage, StatusMessage, SupervisorMessage, WorkerInfo } from "./messages.ts";
export type { ReplyMessage, RequestHandler, RequestMessage } from "./requests.ts";
