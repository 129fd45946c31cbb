/**
 * What a sandbox needs from its host, injected so the same sandbox runs in an
 * edge worker process and behind the harness's child-process host.
 */
import type { RequestData, ResponseData } from "../shared/http.ts";
import type { LogEntry } from "./report.ts";

export interface FetchOptions {
  signal: AbortSignal;
  redirect: "follow" | "manual" | "error";
}

/** A binding's host half: the guest calls `method(...args)` as an async op. */
export interface BindingHandler {
  kind: string;
  methods: string[];
  call(method: string, args: unknown[]): Promise<unknown>;
}

export interface SubtleHost {
  call(method: string, args: unknown[]): Promise<unknown>;
  dispose(): void;
}

export interface HostServices {
  /** Subrequests from functions; applies the address policy (see fetch-guard.ts). */
  fetch(request: RequestData, options: FetchOptions): Promise<ResponseData & { url?: string; redirected?: boolean }>;
  /** One per isolate: key material lives here, never in the guest. */
  createSubtle(): SubtleHost;
  /** Called for every console line as it happens (after it is added to the invocation's logs). */
  onLog?: (entry: LogEntry, functionId: string) => void;
  /**
   * Called before guest code of `functionId` runs (bundle evaluation and every
   * entry). An edge worker records the last one where it survives the process
   * (see edge-nodes/supervisor), so a crash can be blamed on the function that
   * was running. Keep it cheap: it is on the hot path.
   */
  onEnter?: (functionId: string) => void;
}
