/**
 * Per-invocation budgets and the two profiles of DESIGN.md §3.
 * `LimitsOptions` is what a caller passes; `Limits` is normalized with defaults filled.
 */
import { VergeError } from "./errors.ts";

export type LimitsProfile = "workers" | "lambda-edge";
export type CloudFrontEventType = "viewer-request" | "origin-request" | "origin-response" | "viewer-response";

export interface Limits {
  profile: LimitsProfile;
  /** CPU time the function may use per invocation, across all its async continuations. */
  cpuMs: number;
  /** Wall time from dispatch until the response (and every waitUntil) settles. */
  wallMs: number;
  /** Isolate heap cap. */
  memoryMb: number;
  /** CPU time for evaluating the bundle's top level (startup). */
  startupCpuMs: number;
  /** fetch() calls per invocation. */
  subrequests: number;
  /** Largest response body the function may generate; null means streaming, unlimited. */
  responseBytes: number | null;
  /** Largest request body exposed to a Lambda@Edge include-body association. */
  exposedBodyBytes: number;
}

export type LimitsOptions = Partial<Omit<Limits, "profile">> & { profile?: LimitsProfile };

/**
 * The largest memory budget a function may have (the registry refuses more). It also caps each
 * WebAssembly linear memory in a process that runs functions (src/runtime/wasm-cap.ts), so no one
 * memory can reserve more than any function may use.
 */
export const MAX_MEMORY_MB = 4096;

const WORKERS: Limits = {
  profile: "workers",
  cpuMs: 50,
  wallMs: 30_000,
  memoryMb: 128,
  startupCpuMs: 400,
  subrequests: 50,
  responseBytes: null,
  exposedBodyBytes: 1024 * 1024,
};

/** Lambda@Edge quotas: viewer events 128 MB / 5 s / 40 KB, origin events 30 s / 1 MB. */
function lambdaEdge(event: CloudFrontEventType | undefined): Limits {
  const viewer = event === undefined || event.startsWith("viewer");
  return {
    profile: "lambda-edge",
    // Lambda@Edge bills wall time, not CPU: CPU may use all of the timeout.
    cpuMs: viewer ? 5_000 : 30_000,
    wallMs: viewer ? 5_000 : 30_000,
    memoryMb: 128,
    startupCpuMs: 1_000,
    subrequests: 50,
    responseBytes: viewer ? 40 * 1024 : 1024 * 1024,
    exposedBodyBytes: viewer ? 40 * 1024 : 1024 * 1024,
  };
}

export function defaultLimits(profile: LimitsProfile = "workers", event?: CloudFrontEventType): Limits {
  return profile === "lambda-edge" ? lambdaEdge(event) : { ...WORKERS };
}

const NUMERIC: Array<keyof Omit<Limits, "profile" | "responseBytes">> = [
  "cpuMs",
  "wallMs",
  "memoryMb",
  "startupCpuMs",
  "subrequests",
  "exposedBodyBytes",
];

export interface Diagnostic {
  path: string;
  message: string;
}

/** Pure validation: reports every problem at once. */
export function validateLimits(raw: unknown, event?: CloudFrontEventType): { config: Limits; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  if (raw === undefined || raw === null) return { config: defaultLimits("workers", event), diagnostics };
  if (typeof raw !== "object" || Array.isArray(raw)) {
    return { config: defaultLimits("workers", event), diagnostics: [{ path: "limits", message: `expected an object, found ${describe(raw)}` }] };
  }
  const input = raw as Record<string, unknown>;
  let profile: LimitsProfile = "workers";
  if (input.profile !== undefined) {
    if (input.profile === "workers" || input.profile === "lambda-edge") profile = input.profile;
    else diagnostics.push({ path: "limits.profile", message: `expected "workers" or "lambda-edge", found ${describe(input.profile)}` });
  }
  const config = defaultLimits(profile, event);
  for (const key of Object.keys(input)) {
    if (key === "profile") continue;
    if (key === "responseBytes") {
      const v = input[key];
      if (v === null) config.responseBytes = null;
      else if (isPositive(v)) config.responseBytes = v;
      else diagnostics.push({ path: "limits.responseBytes", message: `expected a positive number or null, found ${describe(v)}` });
      continue;
    }
    if (!(NUMERIC as string[]).includes(key)) {
      diagnostics.push({ path: `limits.${key}`, message: `unknown limit; expected one of profile, responseBytes, ${NUMERIC.join(", ")}` });
      continue;
    }
    const v = input[key];
    if (key === "memoryMb" && isPositive(v) && v > MAX_MEMORY_MB) diagnostics.push({ path: "limits.memoryMb", message: `expected at most ${MAX_MEMORY_MB} (MB), found ${v}` });
    else if (isPositive(v)) config[key as (typeof NUMERIC)[number]] = v;
    else diagnostics.push({ path: `limits.${key}`, message: `expected a positive number, found ${describe(v)}` });
  }
  return { config, diagnostics };
}

/** Validates at a boundary and throws once with every problem listed. */
export function resolveLimits(raw: unknown, event?: CloudFrontEventType): Limits {
  const { config, diagnostics } = validateLimits(raw, event);
  if (diagnostics.length > 0) {
    throw new VergeError("ERR_INVALID_LIMITS", `invalid limits:\n${diagnostics.map((d) => `  - ${d.path}: ${d.message}`).join("\n")}`, {
      details: { diagnostics },
    });
  }
  return config;
}

function isPositive(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v > 0;
}

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  if (typeof v === "function") return "a function";
  if (v instanceof Date) return "a Date";
  if (typeof v === "symbol" || typeof v === "bigint") return `a ${typeof v}`;
  if (typeof v === "object") {
    const proto = Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null;
    if (proto === null) return "an object with a null prototype";
    const name = proto.constructor?.name;
    return proto !== Object.prototype && typeof name === "string" && name !== "" ? `an instance of ${name}` : "an object";
  }
  return `${typeof v} ${String(v)}`;
}
