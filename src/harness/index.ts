export { Verge } from "./verge.ts";
export type { LogSource } from "./verge.ts";
export type { VergeOptions, ModuleDefinition } from "./options.ts";
export type { DistributionOptions } from "./distribution.ts";
export { failureReport } from "../runtime/failure-report.ts";
export type { KVNamespace } from "./kv.ts";
export { cloudFrontEvent, originRequestEvent, originResponseEvent, viewerRequestEvent, viewerResponseEvent } from "./fixtures.ts";
export type { EventFixtureOptions } from "./fixtures.ts";
export { WebSocket as VergeWebSocket, WebSocketResponse, asWebSocketEnd } from "./websocket.ts";
