/** The runtime's public face for edge nodes, the CLI and benchmarks. */
export { createRuntime } from "./runtime.ts";
export type { Runtime, RuntimeOptions, FetchInvokeOptions, FetchInvokeResult, EventInvokeResult } from "./runtime.ts";
export { IsolatePool } from "./pool.ts";
export type { FunctionSpec, PoolStats } from "./pool.ts";
export { Sandbox } from "./sandbox.ts";
export type { FunctionSource, SandboxOptions } from "./sandbox.ts";
export { createHostServices } from "./services.ts";
export type { HostServicesOptions } from "./services.ts";
export { createGuardedFetch, refusedReason } from "./fetch-guard.ts";
export type { FetchPolicy } from "./fetch-guard.ts";
export { createBindings, BINDING_KINDS, registerBindingKind } from "./bindings/index.ts";
export type { BindingDecl, BindingKind } from "./bindings/index.ts";
export { createChildRuntime } from "./child-host/client.ts";
export type { ChildRuntime, ChildRuntimeOptions } from "./child-host/client.ts";
export type { FunctionDecl } from "./child-host/messages.ts";
export type { InvocationReport, InvocationOutcome } from "./invocation.ts";
export type { LimitReport, LogEntry } from "./report.ts";
export type { HostServices, BindingHandler } from "./host-services.ts";
