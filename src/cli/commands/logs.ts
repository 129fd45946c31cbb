/**
 * `verge logs`: one place for every node's logs. Prints the tenant's recent
 * request events from the registry, then follows its live tail (server-sent
 * events) until Ctrl-C. Filters run here, on the client; drops reported by the
 * nodes (or by the registry, for a tail that reads too slowly) are said on stderr.
 */
import { parseArgs } from "node:util";
import { VergeError } from "../../shared/errors.ts";
import { NAME_PATTERN, type ApiErrorBody, type LogEvent, type LogList } from "../../shared/protocol.ts";
import { createSseParser } from "../../../edge-nodes/sync/sse.ts";
import { REGISTRY_HEADER, REQUEST_ID_HEADER } from "../../../origin/headers.ts";
import { UsageError } from "../output.ts";
import { formatJson, formatPretty, hasFilter, matches, parseStatus, STATUS_EXPECTED, type LogFilter } from "./logs-format.ts";
import { apiPath, CONNECTION_HELP, CONNECTION_OPTIONS, connect, type RegistryClient } from "./registry-client.ts";

/** Events the registry keeps per tenant (origin/logs.ts): the most `--limit` can ask for. */
const RING = 1000;

export const help = `verge logs [options]

Prints the tenant's recent requests from every edge node (with each function
invocation and its console lines), then follows new ones until Ctrl-C.

  --limit <n>          recent requests to print first (default 100, at most ${RING})
  --no-follow          print the recent requests and exit
  --function <name>    only requests that ran this function
  --status <s>         only requests with this outcome: ${STATUS_EXPECTED}
  --node <id>          only requests served by this edge node
  --search <text>      only requests whose path or console lines contain the text (any case)
  --format <f>         pretty (default on a terminal) or json (one event per line; default otherwise)
${CONNECTION_HELP} (same as --format json)

Nodes send requests that ran a function or ended in an error; while a tail is
open they send every request. A node that had to drop events says so, and so
does this command: "(node edge-1 dropped 12 events ...)" on stderr.
`;

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  limit: { type: "string" },
  follow: { type: "boolean", default: true },
  function: { type: "string" },
  status: { type: "string" },
  node: { type: "string" },
  search: { type: "string" },
  format: { type: "string" },
} as const;

interface Printer {
  /** Prints the event if it is new and passes the filters; remembers it either way. */
  offer(e: LogEvent): void;
  /** Remembers an event as handled without printing it. */
  remember(e: LogEvent): void;
  /** Says on stderr which nodes dropped events since the last totals (all of them, the first time). */
  drops(totals: Record<string, number>): void;
  skipped(count: number): void;
}

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, allowNegative: true, options: OPTIONS });
  if (positionals.length > 0) throw new UsageError(`verge logs: expected no arguments, found ${JSON.stringify(positionals[0]!.slice(0, 40))}; filters are options, such as --function <name>`);
  const limit = parseLimit(values.limit);
  const format = formatOf(values.format, values.json);
  const filter: LogFilter = {};
  if (values.function !== undefined) filter.function = nameOf("--function", "function", values.function);
  if (values.node !== undefined) filter.node = nameOf("--node", "node id", values.node);
  if (values.status !== undefined) filter.status = parseStatus(values.status);
  if (values.search !== undefined) {
    if (values.search === "") throw new UsageError("--search: expected some text, found an empty string");
    filter.search = values.search;
  }
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    // The reader went away (`verge logs | head`): nothing left to do.
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });

  const client = connect(values);
  const tenant = await client.tenant();
  const recentPath = (n: number) => `${apiPath`/v1/tenants/${tenant}/logs`}?limit=${n}`;
  const printer = createPrinter(format, filter);
  // With filters, look through the whole ring and show the last `limit` that pass.
  const first = (await client.call<LogList>("GET", recentPath(hasFilter(filter) ? RING : limit))).body;
  const shown = first.events.filter((e) => matches(e, filter)).slice(-limit);
  for (const e of first.events) if (!shown.includes(e)) printer.remember(e);
  for (const e of shown) printer.offer(e);
  printer.drops(first.dropped);
  if (!values.follow) return;
  await follow(client, values.token ?? process.env.VERGE_TOKEN ?? "", tenant, printer, first.events.at(-1) ?? null, recentPath(RING));
}

/**
 * Follows the tail until Ctrl-C. Each (re)connection opens the tail first,
 * then reads the ring again and prints what came after the last event seen:
 * nothing that arrived in between is missed, and nothing is printed twice.
 */
async function follow(client: RegistryClient, token: string, tenant: string, printer: Printer, last: LogEvent | null, ringPath: string): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let announced = false;
  let retryMs = 500;
  try {
    while (!stop.signal.aborted) {
      try {
        const body = await openTail(client.origin, token, apiPath`/v1/tenants/${tenant}/logs/tail`, stop.signal);
        const ring = (await client.call<LogList>("GET", ringPath)).body;
        const at = last === null ? -1 : ring.events.findIndex((e) => key(e) === key(last!));
        for (const e of ring.events.slice(at + 1)) {
          printer.offer(e);
          last = e;
        }
        printer.drops(ring.dropped);
        if (!announced) process.stderr.write(`verge logs: following tenant ${tenant} (Ctrl-C to stop)\n`);
        announced = true;
        retryMs = 500;
        const parser = createSseParser();
        for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
          for (const ev of parser.push(chunk)) {
            if (ev.event === "log") {
              const e = JSON.parse(ev.data) as LogEvent;
              printer.offer(e);
              last = e;
            } else if (ev.event === "dropped") {
              const d = JSON.parse(ev.data) as { dropped: Record<string, number>; skipped: number };
              printer.drops(d.dropped);
              printer.skipped(d.skipped);
            }
          }
        }
        throw new VergeError("ERR_ORIGIN_UNREACHABLE", "the registry closed the tail");
      } catch (err) {
        if (stop.signal.aborted) return;
        // Only a lost connection is retried; an answer such as 401 or 404 ends the command.
        if ((err as { code?: string }).code !== "ERR_ORIGIN_UNREACHABLE" && !isStreamError(err)) throw err;
        process.stderr.write(`(lost the tail: ${(err as Error).message}; reconnecting in ${retryMs / 1000}s)\n`);
        await sleep(retryMs, stop.signal);
        retryMs = Math.min(retryMs * 2, 10_000);
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Opens `…/logs/tail`; its errors read like every other registry call's (registry-client.ts). */
async function openTail(origin: string, token: string, path: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  let res: Response;
  try {
    res = await fetch(origin + path, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" }, signal });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new VergeError("ERR_ORIGIN_UNREACHABLE", `cannot reach the registry at ${origin}: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}`);
  }
  if (res.headers.get(REGISTRY_HEADER) === null) {
    await res.body?.cancel();
    throw new VergeError(res.status >= 500 ? "ERR_ORIGIN_UNREACHABLE" : "ERR_INVALID_OPTIONS", `${origin} answered GET ${path} with ${res.status} and no ${REGISTRY_HEADER} header: not a verge registry, or a failing proxy in front of it`);
  }
  if (!res.ok) {
    const e = ((await res.json().catch(() => undefined)) as ApiErrorBody | undefined)?.error;
    const message = `${e?.message ?? `HTTP ${res.status}`} (request ${e?.requestId ?? res.headers.get(REQUEST_ID_HEADER)})`;
    if (res.status < 500) throw new Error(`${e?.code ?? `HTTP ${res.status}`}: ${message}`);
    throw new VergeError((e?.code ?? "ERR_INTERNAL") as `ERR_${string}`, message);
  }
  if (res.body === null || !(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    throw new VergeError("ERR_INTERNAL", `the registry answered GET ${path} with ${res.headers.get("content-type") ?? "no content type"}, not text/event-stream`);
  }
  return res.body;
}

function createPrinter(format: "pretty" | "json", filter: LogFilter): Printer {
  // Keys of events already handled, bounded: a tail can run for days.
  const keys = new Set<string>();
  const fresh = (e: LogEvent): boolean => {
    const k = key(e);
    if (keys.has(k)) return false;
    keys.add(k);
    if (keys.size > 4 * RING) keys.delete(keys.values().next().value!);
    return true;
  };
  let totals: Record<string, number> | null = null;
  let skipped = 0;
  return {
    offer(e) {
      if (fresh(e) && matches(e, filter)) process.stdout.write(`${format === "json" ? formatJson(e) : formatPretty(e)}\n`);
    },
    remember: (e) => void fresh(e),
    drops(next) {
      for (const [node, count] of Object.entries(next)) {
        const before = totals?.[node] ?? 0;
        if (count <= before) continue;
        const more = totals === null ? "" : " more";
        const since = totals === null ? " since the registry started" : "";
        process.stderr.write(`(node ${node} dropped ${count - before}${more} event${count - before === 1 ? "" : "s"}${since})\n`);
      }
      totals = { ...totals, ...next };
    },
    skipped(count) {
      if (count > skipped) process.stderr.write(`(the registry skipped ${count - skipped} events of this tail: it was reading too slowly)\n`);
      skipped = Math.max(skipped, count);
    },
  };
}

function key(e: LogEvent): string {
  return `${e.node}\u0000${e.requestId}`;
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return 100;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > RING) throw new UsageError(`--limit: expected an integer from 1 to ${RING}, found ${JSON.stringify(raw.slice(0, 20))}`);
  return Number(raw);
}

function formatOf(raw: string | undefined, json: boolean | undefined): "pretty" | "json" {
  if (raw !== undefined && raw !== "pretty" && raw !== "json") throw new UsageError(`--format: expected pretty or json, found ${JSON.stringify(raw.slice(0, 20))}`);
  if (json && raw === "pretty") throw new UsageError("--json and --format pretty: expected one output format, found both");
  return json ? "json" : (raw ?? (process.stdout.isTTY ? "pretty" : "json"));
}

function nameOf(flag: string, what: string, value: string): string {
  if (!NAME_PATTERN.test(value)) throw new UsageError(`${flag}: expected a ${what} (lowercase letters, digits, - or _, at most 63), found ${JSON.stringify(value.slice(0, 40))}`);
  return value;
}

/** The tail's connection broke mid-stream (the registry restarted, the network dropped). */
function isStreamError(err: unknown): boolean {
  return err instanceof TypeError || (err as { name?: string }).name === "SocketError" || (err as { code?: string }).code === "UND_ERR_SOCKET";
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
