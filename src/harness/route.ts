/**
 * What the harness (parent) and its child program (pipeline-host.ts) tell each
 * other about a function routed through the edge pipeline: plain data only, so
 * the parent never loads the pipeline's modules.
 */
import type { Distribution } from "../shared/protocol.ts";
import type { LogEntry } from "../runtime/report.ts";
import type { AssetConfig, AssetManifest } from "../shared/assets/index.ts";

/** Registered with the function (FunctionDecl.route.data). */
export interface RouteData {
  distribution: Distribution;
  /** The function's name and version in the distribution's associations. */
  function: string;
  digest: string;
  /** Serve every host name (no `hostnames` given). */
  anyHost: boolean;
  /** Origins chosen by a function may resolve to private addresses (the harness's `outbound` policy). */
  allowPrivateOrigins: boolean;
  /** Host names such origins may use even at refused addresses (the `outbound` policy's allowHosts). */
  allowOriginHosts: string[];
  /** The function's static assets (the `assets` option), read from `directory` by the child. */
  assets?: { manifest: AssetManifest; config: AssetConfig; directory: string };
}

/** What the parent gets beside a routed response. */
export interface RouteMeta {
  /** The events the function ran at for this request, in order (none: e.g. a cache hit with origin events). */
  events: string[];
}

/** The function id of the pipeline's log entries forwarded to the parent. */
export const PIPELINE_LOG = "verge:pipeline";

/** A pipeline log line as the parent gets it: a log entry with the request and error code. */
export interface PipelineLogEntry extends LogEntry {
  requestId?: string;
  code?: string;
}

/** `Via` and `request.cf.colo` name the node this way. */
export const LOCAL_NODE = "local";
