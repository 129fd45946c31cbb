/**
 * `verge dev`'s terminal: a progress line while building, the banner, request
 * and console lines tagged with the request id. Colour only on a TTY and
 * never with NO_COLOR set.
 */
import type { LimitReport } from "../../runtime/index.ts";
import type { Limits } from "../../shared/limits.ts";

export interface Terminal {
  color: boolean;
  line(text: string): void;
  /** A transient status line (overwritten in place on a TTY). */
  progress(text: string): void;
  paint(style: Style, text: string): string;
}

export type Style = "red" | "green" | "yellow" | "cyan" | "dim" | "bold";
const CODES: Record<Style, [number, number]> = { red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39], dim: [2, 22], bold: [1, 22] };

export function createTerminal(out: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): Terminal {
  const tty = out.isTTY === true;
  const color = tty && (env.NO_COLOR === undefined || env.NO_COLOR === "");
  let pending = false;
  const clear = (): void => {
    if (pending && tty) out.write("\r\x1b[2K");
    pending = false;
  };
  return {
    color,
    line(text) {
      clear();
      out.write(text + "\n");
    },
    progress(text) {
      if (tty) {
        clear();
        out.write(text);
        pending = true;
      } else out.write(text + "\n");
    },
    paint: (style, text) => (color ? `\x1b[${CODES[style][0]}m${text}\x1b[${CODES[style][1]}m` : text),
  };
}

const fmt = (n: number): string => String(Math.round(n * 10) / 10);
const of = (used: number | undefined, limit: number | null, unit: string): string => `${used === undefined ? "?" : fmt(used)}/${limit === null ? "none" : limit}${unit}`;

/** `cpu=0.4/50ms; wall=2/30000ms; heap=3.1/128MB; subrequests=0/50` (`?` where the use is unknown). */
export function limitsHeader(report: LimitReport | undefined, limits: Limits): string {
  return [
    `cpu=${of(report?.cpuMs.used, limits.cpuMs, "ms")}`,
    `wall=${of(report?.wallMs.used, limits.wallMs, "ms")}`,
    `heap=${of(report?.heapMb.used, limits.memoryMb, "MB")}`,
    `subrequests=${of(report?.subrequests.used, limits.subrequests, "")}`,
  ].join("; ");
}

export interface BannerInfo {
  url: string;
  entry: string;
  config?: string | undefined;
  name?: string | undefined;
  vars: string[];
  secrets: string[];
  kv: string[];
  kvPersist?: string | undefined;
  r2?: string[] | undefined;
  limits: Limits;
  upstream?: string | undefined;
  /** The events the function runs at (shown with an upstream). */
  events?: string[] | undefined;
}

export function banner(t: Terminal, b: BannerInfo): string {
  const rows: Array<[string, string]> = [["url", t.paint("cyan", b.url)], ["entry", b.entry]];
  if (b.config) rows.push(["config", b.config]);
  if (b.name) rows.push(["name", b.name]);
  const bindings = [...b.vars.map((v) => `${v} (var)`), ...b.secrets.map((s) => `${s} (secret: ****)`), ...b.kv.map((k) => `${k} (KV namespace)`), ...(b.r2 ?? []).map((r) => `${r} (R2 bucket)`)];
  rows.push(["bindings", bindings.length ? bindings.join(", ") : "none"]);
  if (b.kvPersist && b.kv.length) rows.push(["kv data", b.kvPersist]);
  const l = b.limits;
  rows.push(["limits", `${l.profile}: cpu ${l.cpuMs ?? "none"} ms, wall ${l.wallMs} ms, memory ${l.memoryMb} MB, subrequests ${l.subrequests}`]);
  if (b.upstream) {
    rows.push(["upstream", `${b.upstream} (edge pipeline: function at ${(b.events ?? ["viewer-request"]).join(", ")}, response cache in memory)`]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return [t.paint("bold", "verge dev"), ...rows.map(([k, v]) => `  ${t.paint("dim", k.padEnd(width))}  ${v}`), `  ${t.paint("dim", "/__scheduled?cron=... runs the scheduled handler; Ctrl-C stops")}`].join("\n");
}

export function statusStyle(status: number): Style {
  return status >= 500 ? "red" : status >= 400 ? "yellow" : "green";
}
