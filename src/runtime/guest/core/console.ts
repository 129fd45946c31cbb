/** `console` inside the isolate: formats like Node's util.format, sends lines to the host log. */
import type { LogLevel } from "../../bridge/protocol.ts";
import { host } from "./host.ts";
import { defineGlobal } from "./globals.ts";

const MAX_LINE = 16 * 1024;

function inspect(v: unknown, depth: number, seen: Set<unknown>): string {
  switch (typeof v) {
    case "string":
      return depth === 0 ? v : JSON.stringify(v);
    case "number":
    case "boolean":
    case "undefined":
      return String(v);
    case "bigint":
      return `${v}n`;
    case "symbol":
      return v.toString();
    case "function":
      return `[Function: ${v.name || "(anonymous)"}]`;
  }
  if (v === null) return "null";
  if (seen.has(v)) return "[Circular]";
  if (v instanceof Error) return v.stack ?? `${v.name}: ${v.message}`;
  if (depth > 2) return Array.isArray(v) ? "[Array]" : "[Object]";
  seen.add(v);
  try {
    if (Array.isArray(v)) return `[ ${v.slice(0, 100).map((x) => inspect(x, depth + 1, seen)).join(", ")}${v.length > 100 ? ", ..." : ""} ]`;
    if (v instanceof Map) return `Map(${v.size}) { ${[...v].slice(0, 50).map(([k, x]) => `${inspect(k, depth + 1, seen)} => ${inspect(x, depth + 1, seen)}`).join(", ")} }`;
    if (v instanceof Set) return `Set(${v.size}) { ${[...v].slice(0, 50).map((x) => inspect(x, depth + 1, seen)).join(", ")} }`;
    if (v instanceof Date) return v.toISOString();
    if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as Uint8Array).length ?? v.byteLength})`;
    const ctor = (v as object).constructor;
    const prefix = ctor && ctor !== Object && typeof ctor.name === "string" && ctor.name ? `${ctor.name} ` : "";
    const keys = Object.keys(v as object);
    if (keys.length === 0) return `${prefix}{}`;
    return `${prefix}{ ${keys.slice(0, 50).map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${inspect((v as Record<string, unknown>)[k], depth + 1, seen)}`).join(", ")} }`;
  } catch {
    return "[object]";
  } finally {
    seen.delete(v);
  }
}

/** util.format subset: %s %d %i %f %j %o %O %c %%. */
export function format(args: unknown[]): string {
  let out = "";
  let i = 0;
  if (typeof args[0] === "string" && args.length > 1) {
    const fmt = args[0];
    i = 1;
    out = fmt.replace(/%[sdifjoOc%]/g, (m) => {
      if (m === "%%") return "%";
      if (i >= args.length) return m;
      const a = args[i++];
      switch (m) {
        case "%s": return typeof a === "string" ? a : inspect(a, 1, new Set());
        case "%d": case "%i": return typeof a === "bigint" ? `${a}n` : String(m === "%i" ? parseInt(String(a)) : Number(a));
        case "%f": return String(parseFloat(String(a)));
        case "%j": try { return JSON.stringify(a); } catch { return "[Circular]"; }
        case "%c": return "";
        default: return inspect(a, 1, new Set());
      }
    });
  } else if (args.length > 0) {
    out = inspect(args[0], 0, new Set());
    i = 1;
  }
  for (; i < args.length; i++) out += " " + inspect(args[i], 0, new Set());
  return out.length > MAX_LINE ? out.slice(0, MAX_LINE) + "…" : out;
}

export function installConsole(): void {
  const counts = new Map<string, number>();
  const timers = new Map<string, number>();
  const emit = (level: LogLevel) => (...args: unknown[]) => {
    let text: string;
    try {
      text = format(args);
    } catch {
      text = "[unformattable]";
    }
    host.log(level, text);
  };
  const c = {
    log: emit("log"),
    info: emit("info"),
    debug: emit("debug"),
    warn: emit("warn"),
    error: emit("error"),
    trace: emit("debug"),
    dir: (v: unknown) => host.log("log", inspect(v, 1, new Set())),
    assert: (cond: unknown, ...args: unknown[]) => {
      if (!cond) host.log("error", "Assertion failed" + (args.length ? ": " + format(args) : ""));
    },
    count: (label = "default") => {
      const n = (counts.get(label) ?? 0) + 1;
      counts.set(label, n);
      host.log("info", `${label}: ${n}`);
    },
    countReset: (label = "default") => void counts.delete(label),
    time: (label = "default") => void timers.set(label, host.now()),
    timeEnd: (label = "default") => {
      const t = timers.get(label);
      timers.delete(label);
      if (t !== undefined) host.log("info", `${label}: ${(host.now() - t).toFixed(3)}ms`);
    },
    timeLog: (label = "default", ...args: unknown[]) => {
      const t = timers.get(label);
      if (t !== undefined) host.log("info", `${label}: ${(host.now() - t).toFixed(3)}ms${args.length ? " " + format(args) : ""}`);
    },
    table: (v: unknown) => host.log("log", inspect(v, 1, new Set())),
    group: emit("log"),
    groupCollapsed: emit("log"),
    groupEnd: () => {},
  };
  defineGlobal("console", c);
}
