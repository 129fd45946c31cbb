/**
 * registry: the origin registry's publish latency for a 100 KB bundle, and how
 * fast an alias change fans out to 50 edge-node followers over server-sent events.
 *
 * The registry is the real one (`verge origin --port 0` over a fresh temp LMDB
 * directory), in its own child process, so its CPU is not mixed with the
 * client's; all traffic is HTTP on 127.0.0.1. The client is the variant process.
 *
 * - publish: `POST /v1/tenants/:t/functions/:f/versions` of a ~100 KiB ES-module
 *   Worker (the router bundle of lib/worker-bundle.ts, a new salt each time, so
 *   every publish makes a new version: read, sha256, acorn parse, one fsynced LMDB
 *   write transaction with the bundle, the version and the change) → 201 and the
 *   JSON body read. Baselines in the same process, interleaved with the publishes
 *   (each iteration runs the three in rotating order): `GET /v1/health` (an
 *   HTTP round trip through the app, no write) and `PUT` of a function's tiny JSON
 *   config (a write transaction with its change, the fsync floor of any write).
 * - fanout: 50 followers (`GET /v1/feed/stream?since=<head>` with a tenant read
 *   token, one keep-alive connection each, all in the client process) wait until
 *   each has seen its first "caught up" event; then, one at a time, the alias
 *   `live` is switched between two versions (`PUT …/aliases/live`). For each
 *   change, each follower's latency is from just before the PUT is sent to the
 *   arrival of the chunk carrying the change's SSE event (`id: <seq>`; the
 *   payload is checked afterwards to be that alias revision). Per change: p50,
 *   p99 and max over the 50 followers; per round: the p99 over all change ×
 *   follower samples. The PUT's own round trip (acknowledged, fsynced) is
 *   reported beside it. A short pause separates changes, so each one is measured
 *   on its own, not queued behind the previous.
 *
 * How: each variant runs in a fresh process per round (rounds alternate the
 * order), and each starts its own registry over its own temp directory, removed
 * at the end. Warm-up requests are made and dropped first. Summary = median over
 * rounds; ratios are taken within each round.
 *
 * Run: `npm run bench -- registry` or
 *      `node --no-node-snapshot bench/registry.ts [--rounds 5] [--quick] [--followers 50] [--changes 30]`
 */
import { request as httpRequest, Agent, type IncomingMessage, type ClientRequest } from "node:http";
import { fileURLToPath } from "node:url";
import { emitResult, envLine, mdTable, parseArgs, roundsOrPrevious, series, writeResults } from "./lib/rounds.ts";
import { median, quantile, round, fmt, summary } from "./lib/stats.ts";
import { barChart } from "./lib/svg-chart.ts";
import { treeCpuMs } from "./lib/proc.ts";
import { routerBundle } from "./lib/worker-bundle.ts";
import { TENANT, call, must, publishPath, setup, startRegistry } from "./lib/registry-server.ts";

const SCRIPT = fileURLToPath(import.meta.url);
const BUNDLE_BYTES = 100 * 1024;
const TARGET_MS = 50;

type Stats = ReturnType<typeof summary>;

interface PublishResult {
  variant: "publish";
  n: number;
  bundleBytes: number;
  publish: Stats;
  health: Stats;
  configPut: Stats;
  /** Registry process CPU (user + sys) over the timed loop, per iteration (one of each request), ms; 10 ms resolution overall. */
  serverCpuMsPerIteration: number | null;
  samples: { publish: number[]; health: number[]; configPut: number[] };
}

interface FanoutResult {
  variant: "fanout";
  followers: number;
  changes: number;
  /** p99 over every change × follower latency of the round. */
  allP99Ms: number;
  allP50Ms: number;
  maxMs: number;
  /** Medians over the changes of each change's p50 / p99 / max over followers. */
  perChangeP50Ms: number;
  perChangeP99Ms: number;
  perChangeMaxMs: number;
  /** Round trip of the alias PUT itself (acknowledged after the fsynced commit). */
  put: Stats;
  /** Follower arrivals that never came within the timeout. */
  missed: number;
  /** Per change: [p50, p99, max] over the followers, and the PUT round trip, ms. */
  perChange: Array<{ p50: number; p99: number; max: number; putMs: number }>;
}

type VariantResult = PublishResult | FanoutResult;

const VARIANTS: Record<string, { label: string }> = {
  publish: { label: "publish a 100 KiB bundle (new version each)" },
  fanout: { label: "alias change → 50 SSE followers" },
};

// ---------------------------------------------------------------- publish (variant)

async function publishVariant(n: number, warmup: number): Promise<PublishResult> {
  const reg = await startRegistry();
  try {
    const token = await setup(reg.url);
    // Bundles made before timing: generating one is not the registry's work.
    const bundles = Array.from({ length: n + warmup }, (_, i) => Buffer.from(routerBundle(BUNDLE_BYTES, `registry-${process.pid}-${i}`)));
    const bundleBytes = bundles[0]!.byteLength;
    let cfg = 0;
    const ops = {
      publish: async (i: number) => {
        const r = await call(reg.url, "POST", publishPath("site"), token, bundles[i]!, "application/javascript");
        if (r.status !== 201) throw new Error(`publish: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
      },
      health: async () => {
        const r = await call(reg.url, "GET", "/v1/health", null);
        if (r.status !== 200) throw new Error(`health: ${r.status}`);
      },
      configPut: async () => {
        const r = await call(reg.url, "PUT", `/v1/tenants/${TENANT}/functions/config-only`, token, JSON.stringify({ config: { memoryMb: 128 + (cfg++ % 64) } }));
        if (r.status !== 200 && r.status !== 201) throw new Error(`config put: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
      },
    };
    const names = ["publish", "health", "configPut"] as const;
    for (let i = 0; i < warmup; i++) for (const k of names) await ops[k](i);
    const samples = { publish: [] as number[], health: [] as number[], configPut: [] as number[] };
    const cpu0 = treeCpuMs(reg.pid);
    for (let i = 0; i < n; i++) {
      // Rotate the order, so none of the three always follows the same request.
      for (let j = 0; j < names.length; j++) {
        const k = names[(i + j) % names.length]!;
        const t0 = performance.now();
        await ops[k](warmup + i);
        samples[k].push(performance.now() - t0);
      }
    }
    const cpu1 = treeCpuMs(reg.pid);
    const r = (xs: number[]) => xs.map((x) => round(x));
    return {
      variant: "publish",
      n,
      bundleBytes,
      publish: summary(samples.publish),
      health: summary(samples.health),
      configPut: summary(samples.configPut),
      serverCpuMsPerIteration: cpu0 === null || cpu1 === null ? null : round((cpu1 - cpu0) / n),
      samples: { publish: r(samples.publish), health: r(samples.health), configPut: r(samples.configPut) },
    };
  } finally {
    await reg.stop();
  }
}

// ---------------------------------------------------------------- fanout (variant)

/** One SSE follower on its own connection: records when the chunk holding each event id arrived. */
class Follower {
  readonly arrivals = new Map<number, number>();
  readonly data = new Map<number, string>();
  caughtUp = false;
  #buf = "";
  #req: ClientRequest | null = null;
  #res: IncomingMessage | null = null;
  #waiters = new Set<() => void>();
  error: Error | null = null;

  open(url: string, token: string, since: number, agent: Agent): void {
    const req = httpRequest(`${url}/v1/feed/stream?since=${since}`, { agent, headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } }, (res) => {
      this.#res = res;
      if (res.statusCode !== 200) {
        this.error = new Error(`feed stream: status ${res.statusCode}`);
        this.#wake();
        res.resume();
        return;
      }
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => this.#onChunk(chunk, performance.now()));
      res.on("error", (err) => ((this.error = err), this.#wake()));
      res.on("end", () => ((this.error ??= new Error("feed stream ended")), this.#wake()));
    });
    req.on("error", (err) => ((this.error = err), this.#wake()));
    req.end();
    this.#req = req;
  }

  #onChunk(chunk: string, at: number): void {
    this.#buf += chunk;
    let cut: number;
    while ((cut = this.#buf.indexOf("\n\n")) >= 0) {
      const block = this.#buf.slice(0, cut);
      this.#buf = this.#buf.slice(cut + 2);
      let event = "message";
      let id: number | null = null;
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("id:")) id = Number(line.slice(3).trim());
        else if (line.startsWith("data:")) data += line.slice(5).trimStart();
      }
      if (event === "head") this.caughtUp = true;
      else if (event === "change" && id !== null) {
        this.arrivals.set(id, at);
        this.data.set(id, data);
      }
    }
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters) w();
  }

  /** Resolves when `cond()` holds, an error happened, or after `timeoutMs`. */
  until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    if (cond()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        if (!cond() && this.error === null) return;
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve(cond());
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(done);
        resolve(cond());
      }, timeoutMs);
      this.#waiters.add(done);
    });
  }

  close(): void {
    this.#res?.destroy();
    this.#req?.destroy();
  }
}

async function fanoutVariant(nFollowers: number, nChanges: number, warmup: number, gapMs: number): Promise<FanoutResult> {
  const reg = await startRegistry();
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const followers: Follower[] = [];
  try {
    const token = await setup(reg.url);
    const digests: string[] = [];
    for (const salt of ["a", "b"]) {
      const v = await must(call(reg.url, "POST", publishPath("site"), token, Buffer.from(routerBundle(BUNDLE_BYTES, `fanout-${salt}`)), "application/javascript"), [201], "publish");
      digests.push(v.digest as string);
    }
    const aliasPath = `/v1/tenants/${TENANT}/functions/site/aliases/live`;
    await must(call(reg.url, "PUT", aliasPath, token, JSON.stringify({ version: digests[0] })), [201], "create alias");
    let head = (await must(call(reg.url, "GET", "/v1/health", null), [200], "health")).seq as number;

    for (let i = 0; i < nFollowers; i++) {
      const f = new Follower();
      f.open(reg.url, token, head, agent);
      followers.push(f);
    }
    const ready = await Promise.all(followers.map((f) => f.until(() => f.caughtUp, 10_000)));
    const bad = followers.find((f) => f.error !== null);
    if (bad) throw bad.error;
    if (!ready.every(Boolean)) throw new Error(`only ${ready.filter(Boolean).length} of ${nFollowers} followers caught up within 10 s`);

    const perChange: FanoutResult["perChange"] = [];
    const all: number[] = [];
    const putMs: number[] = [];
    let missed = 0;
    for (let i = 0; i < warmup + nChanges; i++) {
      await new Promise((r) => setTimeout(r, gapMs));
      const seq = head + 1;
      const t0 = performance.now();
      const put = await call(reg.url, "PUT", aliasPath, token, JSON.stringify({ version: digests[(i + 1) % 2] }));
      const tAck = performance.now();
      if (put.status !== 200) throw new Error(`alias put: ${put.status} ${JSON.stringify(put.json).slice(0, 300)}`);
      head = seq;
      const arrived = await Promise.all(followers.map((f) => f.until(() => f.arrivals.has(seq), 5_000)));
      // What arrived under that id is this alias change.
      for (const f of followers) {
        const d = f.data.get(seq);
        if (d === undefined) continue;
        const c = JSON.parse(d) as { kind: string; seq: number; value: { revision: number } };
        if (c.kind !== "alias" || c.seq !== seq || c.value.revision !== put.json.revision) throw new Error(`follower got ${d.slice(0, 200)} as change ${seq}`);
      }
      if (i < warmup) continue;
      const lat = followers.flatMap((f) => (f.arrivals.has(seq) ? [f.arrivals.get(seq)! - t0] : []));
      missed += arrived.filter((x) => !x).length;
      all.push(...lat);
      putMs.push(tAck - t0);
      perChange.push({ p50: round(quantile(lat, 0.5)), p99: round(quantile(lat, 0.99)), max: round(Math.max(...lat)), putMs: round(tAck - t0) });
      for (const f of followers) {
        f.arrivals.delete(seq);
        f.data.delete(seq);
      }
    }
    return {
      variant: "fanout",
      followers: nFollowers,
      changes: nChanges,
      allP99Ms: round(quantile(all, 0.99)),
      allP50Ms: round(quantile(all, 0.5)),
      maxMs: round(Math.max(...all)),
      perChangeP50Ms: round(median(perChange.map((c) => c.p50))),
      perChangeP99Ms: round(median(perChange.map((c) => c.p99))),
      perChangeMaxMs: round(median(perChange.map((c) => c.max))),
      put: summary(putMs),
      missed,
      perChange,
    };
  } finally {
    for (const f of followers) f.close();
    agent.destroy();
    await reg.stop();
  }
}

async function runVariantMain(name: string, quick: boolean, extra: Record<string, string>): Promise<void> {
  let r: VariantResult;
  if (name === "publish") r = await publishVariant(quick ? 40 : 100, 5);
  else if (name === "fanout") r = await fanoutVariant(Number(extra.followers ?? 50), Number(extra.changes ?? (quick ? 20 : 30)), 3, 20);
  else throw new Error(`unknown variant ${name}`);
  emitResult(r);
  process.exit(0);
}

// ---------------------------------------------------------------- orchestration (parent side)

async function main(): Promise<void> {
  const args = parseArgs();
  if (args.variant !== undefined) return runVariantMain(args.variant, args.quick, args.extra);

  const variants = Object.keys(VARIANTS);
  const extraArgs = args.quick ? ["--quick"] : [];
  for (const k of ["followers", "changes"]) if (args.extra[k] !== undefined) extraArgs.push(`--${k}`, args.extra[k]!);
  const { res, env } = await roundsOrPrevious<VariantResult>("registry", args, {
    script: SCRIPT,
    variants,
    rounds: args.quick ? 3 : 5,
    budgetS: args.quick ? 20 : 45,
    detail: `bundle ${fmt(BUNDLE_BYTES / 1024, 0)} KiB, a fresh registry (child process, temp LMDB) per variant per round`,
    timeoutMs: 60_000,
    extraArgs,
  });
  const pub = (pick: (x: PublishResult) => number) => series(res, "publish", (x) => pick(x as PublishResult));
  const fan = (pick: (x: FanoutResult) => number) => series(res, "fanout", (x) => pick(x as FanoutResult));
  const med = (xs: number[]) => round(median(xs));
  // Within-round ratios of the publish p50 to each baseline's p50.
  const within = (base: "health" | "configPut") => round(median(pub((x) => x.publish.p50 / x[base].p50)));

  const firstPub = res.rounds.map((r) => r.results.publish as PublishResult | undefined).find((x) => x !== undefined);
  const firstFan = res.rounds.map((r) => r.results.fanout as FanoutResult | undefined).find((x) => x !== undefined);
  const summaryJson = {
    publish: {
      bundleBytes: firstPub?.bundleBytes,
      perRound: firstPub?.n,
      p50Ms: med(pub((x) => x.publish.p50)),
      p99Ms: med(pub((x) => x.publish.p99)),
      maxMs: med(pub((x) => x.publish.max)),
      healthP50Ms: med(pub((x) => x.health.p50)),
      healthP99Ms: med(pub((x) => x.health.p99)),
      configPutP50Ms: med(pub((x) => x.configPut.p50)),
      configPutP99Ms: med(pub((x) => x.configPut.p99)),
      serverCpuMsPerIteration: med(pub((x) => x.serverCpuMsPerIteration ?? NaN)),
      publishOverHealth: within("health"),
      publishOverConfigPut: within("configPut"),
    },
    fanout: {
      followers: firstFan?.followers,
      changesPerRound: firstFan?.changes,
      p50Ms: med(fan((x) => x.allP50Ms)),
      p99Ms: med(fan((x) => x.allP99Ms)),
      maxMs: med(fan((x) => x.maxMs)),
      worstMaxMs: round(Math.max(...fan((x) => x.maxMs))),
      perChangeP50Ms: med(fan((x) => x.perChangeP50Ms)),
      perChangeP99Ms: med(fan((x) => x.perChangeP99Ms)),
      putP50Ms: med(fan((x) => x.put.p50)),
      putP99Ms: med(fan((x) => x.put.p99)),
      missed: fan((x) => x.missed).reduce((a, b) => a + b, 0),
      fanoutOverPut: round(median(fan((x) => x.allP50Ms / x.put.p50))),
    },
  };
  const p99 = summaryJson.fanout.p99Ms;
  const verdict = { target: `p99 fan-out ≤ ${TARGET_MS} ms on loopback (${summaryJson.fanout.followers ?? 50} SSE followers)`, met: p99 <= TARGET_MS && summaryJson.fanout.missed === 0, p99Ms: p99 };

  const json = { benchmark: "registry", environment: env, config: { rounds: res.rounds.length, variants, bundleBytes: BUNDLE_BYTES }, verdict, summary: summaryJson, raw: res.rounds, failures: res.failures, wallMs: Math.round(res.wallMs) };

  const roundCols = res.rounds.map((r) => `r${r.round}`);
  const rowsOf = (label: string, v: number, pick: (r: (typeof res.rounds)[number]) => number | undefined, extra: string) => [label, fmt(v), extra, ...res.rounds.map((r) => fmt(pick(r)))];
  const P = (r: (typeof res.rounds)[number]) => r.results.publish as PublishResult | undefined;
  const F = (r: (typeof res.rounds)[number]) => r.results.fanout as FanoutResult | undefined;
  const s = summaryJson;
  let md = `## registry — ${new Date().toISOString().slice(0, 10)}\n\n`;
  md += `${envLine(env)}\n\n`;
  md += `The origin registry (\`verge origin\`, its own process, fresh temp LMDB) over HTTP on 127.0.0.1. `;
  md += `Publish: ${s.publish.perRound ?? "–"} publishes per round of a ${fmt((s.publish.bundleBytes ?? BUNDLE_BYTES) / 1024, 0)} KiB ES-module Worker, each a new version (parse, sha256, one fsynced write), interleaved with the two baselines. `;
  md += `Fan-out: ${s.fanout.followers ?? "–"} SSE followers, ${s.fanout.changesPerRound ?? "–"} alias changes per round, one at a time; latency = just before the PUT → arrival of the change event at a follower. `;
  md += `Median over ${res.rounds.length} rounds (fresh processes each); r1…rN are the per-round values (ms).\n\n`;
  md += `**Target** ${verdict.target}: **${verdict.met ? "met" : "MISSED"}** (p99 ${fmt(p99)} ms; worst single arrival in any round ${fmt(s.fanout.worstMaxMs)} ms${s.fanout.missed > 0 ? `; ${s.fanout.missed} arrivals never came` : ""}).\n\n`;
  md += mdTable(
    ["measure", "median ms", "note", ...roundCols],
    [
      rowsOf("publish 100 KiB, p50", s.publish.p50Ms, (r) => P(r)?.publish.p50, `${fmt(s.publish.publishOverHealth, 1)}× health, ${fmt(s.publish.publishOverConfigPut, 1)}× config PUT`),
      rowsOf("publish 100 KiB, p99", s.publish.p99Ms, (r) => P(r)?.publish.p99, ""),
      rowsOf("baseline: GET /v1/health, p50", s.publish.healthP50Ms, (r) => P(r)?.health.p50, "round trip, no write"),
      rowsOf("baseline: PUT tiny config, p50", s.publish.configPutP50Ms, (r) => P(r)?.configPut.p50, "fsynced write floor"),
      rowsOf("baseline: PUT tiny config, p99", s.publish.configPutP99Ms, (r) => P(r)?.configPut.p99, ""),
      rowsOf("fan-out to 50 followers, p50", s.fanout.p50Ms, (r) => F(r)?.allP50Ms, `${fmt(s.fanout.fanoutOverPut, 2)}× the PUT's round trip`),
      rowsOf("fan-out to 50 followers, p99", s.fanout.p99Ms, (r) => F(r)?.allP99Ms, `target ≤ ${TARGET_MS}`),
      rowsOf("fan-out, slowest follower (max)", s.fanout.maxMs, (r) => F(r)?.maxMs, "per round"),
      rowsOf("fan-out per change: median of p99 over followers", s.fanout.perChangeP99Ms, (r) => F(r)?.perChangeP99Ms, ""),
      rowsOf("alias PUT acknowledged, p50", s.fanout.putP50Ms, (r) => F(r)?.put.p50, "fsynced commit + reply"),
    ],
  );
  md += `\nRegistry CPU per publish iteration (one publish + one health + one config PUT): ${fmt(s.publish.serverCpuMsPerIteration)} ms (from /proc, 10 ms resolution over the loop).\n`;
  if (res.failures.length) md += `\nFailures: ${res.failures.map((f) => `round ${f.round + 1} ${f.variant}: ${f.error.split("\n")[0]}`).join("; ")}\n`;

  const svg = barChart({
    title: "Origin registry on loopback (median over rounds, lower is better)",
    subtitle: `${res.rounds.length} rounds, fresh registry per variant per round · ${env.cpu as string} · ${new Date().toISOString().slice(0, 10)}`,
    unit: "ms",
    log: true,
    targets: [{ value: TARGET_MS, label: `fan-out p99 target ${TARGET_MS} ms` }],
    bars: [
      { label: "GET /v1/health p50 (baseline)", value: s.publish.healthP50Ms, note: `${fmt(s.publish.healthP50Ms)} ms` },
      { label: "PUT tiny config p50 (write floor)", value: s.publish.configPutP50Ms, note: `${fmt(s.publish.configPutP50Ms)} ms` },
      { label: "publish 100 KiB p50", value: s.publish.p50Ms, highlight: true, note: `${fmt(s.publish.p50Ms)} ms · ${fmt(s.publish.publishOverConfigPut, 1)}× config PUT` },
      { label: "publish 100 KiB p99", value: s.publish.p99Ms, highlight: true, note: `${fmt(s.publish.p99Ms)} ms` },
      { label: "alias PUT acknowledged p50", value: s.fanout.putP50Ms, note: `${fmt(s.fanout.putP50Ms)} ms` },
      { label: "fan-out to 50 followers p50", value: s.fanout.p50Ms, highlight: true, note: `${fmt(s.fanout.p50Ms)} ms` },
      { label: "fan-out to 50 followers p99", value: s.fanout.p99Ms, highlight: true, note: `${fmt(s.fanout.p99Ms)} ms · target ${verdict.met ? "met" : "missed"}` },
    ],
  });
  const paths = writeResults("registry", { json, md, svg });
  console.log("\n" + md);
  console.log(`wrote ${paths.join(", ")}`);
}

await main();
