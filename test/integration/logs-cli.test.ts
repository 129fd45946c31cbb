/**
 * `verge logs` end to end: a real registry on port 0, request events posted as
 * an edge node would (`node` token), and the `verge` command run as a child
 * process reading them as a tenant — recent events, the filters, both formats,
 * tenant isolation, usage errors, and a follow session that receives an event
 * posted after it started and ends cleanly on Ctrl-C (SIGINT).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { LogEvent } from "../../src/shared/protocol.ts";
import { startTestOrigin, type TestOrigin } from "../../origin/testing/harness.ts";
import { invocation, logBatch, logEvent } from "../../origin/testing/log-events.ts";
import { until } from "../helpers/until.ts";

const MAIN = resolve(fileURLToPath(import.meta.url), "../../../src/cli/main.ts");
let origin: TestOrigin;
let acme: string;
let beta: string;
let node: string;

const home = logEvent("acme", { path: "/home", at: "2026-12-07T01:02:03.000Z", invocations: [invocation("auth", { logs: [{ at: "2026-12-07T01:02:03.001Z", level: "log", message: "Session OK" }] })] });
const cart = logEvent("acme", {
  method: "POST",
  path: "/api/cart",
  status: 503,
  cache: null,
  node: "edge-2",
  region: "us-east",
  error: { code: "ERR_CPU_LIMIT", message: "cart used more than 50 ms of CPU" },
  invocations: [invocation("cart", { event: "origin-request", cold: true, error: "ERR_CPU_LIMIT", logs: [{ at: "2026-12-07T01:02:04.000Z", level: "warn", message: "slow\ncart" }] })],
});
const logo = logEvent("acme", { path: "/img/logo.png", status: 404, cache: "Miss" });
const other = logEvent("beta", { path: "/beta-only" });

async function post(events: LogEvent[], extra: { dropped?: number; node?: string } = {}): Promise<boolean> {
  const r = await origin.call("POST", "/v1/nodes/logs", { token: node, json: logBatch(events, extra) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.tail as boolean;
}

before(async () => {
  origin = await startTestOrigin();
  acme = await origin.tenant("acme", ["read"]);
  beta = await origin.tenant("beta", ["read"]);
  node = await origin.token(null, ["node"]);
  await post([home, cart, other]);
  await post([logo], { dropped: 12 });
});
after(() => origin.close());

function verge(token: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ["--no-node-snapshot", MAIN, "logs", ...args], { env: { ...process.env, VERGE_ORIGIN: origin.url, VERGE_TOKEN: token } }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 1, stdout, stderr });
    });
  });
}

async function paths(token: string, ...args: string[]): Promise<string[]> {
  const r = await verge(token, "--no-follow", "--format", "json", ...args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split("\n").filter(Boolean).map((line) => (JSON.parse(line) as LogEvent).path);
}

test("--no-follow --format json: the tenant's recent events as sent, oldest first, one per line, and the drops", async () => {
  const r = await verge(acme, "--no-follow", "--format", "json");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l)), [home, cart, logo]);
  assert.match(r.stderr, /^\(node edge-1 dropped 12 events since the registry started\)$/m);
  const piped = await verge(acme, "--no-follow");
  assert.equal(piped.stdout, r.stdout, "json is the default when stdout is not a terminal");
});

test("filters: --function, --status, --node, --search, with --limit counting what passes", async () => {
  assert.deepEqual(await paths(acme, "--function", "cart"), ["/api/cart"]);
  assert.deepEqual(await paths(acme, "--status", "error"), ["/api/cart"]);
  assert.deepEqual(await paths(acme, "--status", "ok"), ["/home", "/img/logo.png"]);
  assert.deepEqual(await paths(acme, "--status", "4xx"), ["/img/logo.png"]);
  assert.deepEqual(await paths(acme, "--status", "503"), ["/api/cart"]);
  assert.deepEqual(await paths(acme, "--node", "edge-1"), ["/home", "/img/logo.png"]);
  assert.deepEqual(await paths(acme, "--search", "session ok"), ["/home"], "console lines, any case");
  assert.deepEqual(await paths(acme, "--search", "logo"), ["/img/logo.png"], "the path");
  assert.deepEqual(await paths(acme, "--limit", "1"), ["/img/logo.png"]);
  assert.deepEqual(await paths(acme, "--limit", "1", "--status", "ok"), ["/img/logo.png"]);
  assert.deepEqual(await paths(acme, "--limit", "2", "--node", "edge-1"), ["/home", "/img/logo.png"]);
  assert.deepEqual(await paths(acme, "--function", "nothing-ran-this"), []);
});

test("--format pretty: a line per request, indented invocations and console lines with their level", async () => {
  const r = await verge(acme, "--no-follow", "--format", "pretty", "--status", "error");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      `${cart.at.replace(/\.\d+Z$/, "Z")} POST shop.test/api/cart 503 - 3.1ms edge-2/us-east ERR_CPU_LIMIT: cart used more than 50 ms of CPU`,
      "  origin-request cart@aaaaaaaa cpu 1.2ms wall 2.5ms cold ERR_CPU_LIMIT",
      "    [warn] slow",
      "      cart",
      "",
    ].join("\n"),
  );
  const h = await verge(acme, "--no-follow", "--format", "pretty", "--function", "auth");
  assert.equal(h.stdout.split("\n")[0], "2026-12-07T01:02:03Z GET shop.test/home 200 Hit 3.1ms edge-1/eu-west");
});

test("tenant isolation: another tenant sees only its own events and cannot name acme", async () => {
  assert.deepEqual(await paths(beta), ["/beta-only"]);
  const r = await verge(beta, "--no-follow", "--tenant", "acme");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERR_NOT_FOUND: tenant "acme" not found/);
  assert.equal(r.stdout, "");
});

test("bad flags are usage errors (exit 2) saying what was expected and found", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["--limit", "0"], /--limit: expected an integer from 1 to 1000, found "0"/],
    [["--limit", "5000"], /--limit: expected an integer from 1 to 1000, found "5000"/],
    [["--status", "7xx"], /--status: expected ok, error, a status such as 404, or a class such as 5xx, found "7xx"/],
    [["--format", "xml"], /--format: expected pretty or json, found "xml"/],
    [["--function", "Bad Name"], /--function: expected a function .*found "Bad Name"/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["acme"], /expected no arguments, found "acme"/],
  ];
  for (const [args, message] of cases) {
    const r = await verge(acme, "--no-follow", ...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const help = await verge(acme, "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^verge logs \[options\]/);
  assert.match(help.stdout, /--no-follow/);
});

test("follow: prints the recent events, then an event posted after it started; Ctrl-C ends it and the tail", async () => {
  const child = spawn(process.execPath, ["--no-node-snapshot", MAIN, "logs", "--format", "json", "--function", "auth"], {
    env: { ...process.env, VERGE_ORIGIN: origin.url, VERGE_TOKEN: acme },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const exited = new Promise<{ code: number | null; signal: string | null }>((done) => child.on("exit", (code, signal) => done({ code, signal })));
  try {
    await until("the follow session to start", async () => (stderr.includes("following tenant acme") ? true : undefined));
    assert.deepEqual(stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)), [home], "the recent events first");
    assert.equal(await post([]), true, "the registry counts the open tail");

    const late = logEvent("acme", { path: "/late", invocations: [invocation("auth")] });
    await post([logEvent("acme", { path: "/no-function" }), logEvent("beta", { path: "/beta-late", invocations: [invocation("auth")] }), late], { dropped: 5 });
    await until("the late event", async () => (stdout.includes('"/late"') ? true : undefined));
    await until("the drop notice", async () => (stderr.includes("(node edge-1 dropped 5 more events)") ? true : undefined));
    assert.deepEqual(stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)), [home, late], "filtered, own tenant only, nothing twice");

    child.kill("SIGINT");
    assert.deepEqual(await exited, { code: 0, signal: null }, stderr);
  } finally {
    child.kill("SIGKILL");
  }
  await until("the tail to end at the registry", async () => ((await post([])) === false ? true : undefined));
});

test("follow survives a registry restart: it says the tail was lost, reconnects and prints what comes next, once; the events before it are still listed", async () => {
  const first = await startTestOrigin({ keepDir: true });
  const { port } = new URL(first.url);
  await first.call("POST", "/v1/tenants", { json: { name: "acme" } });
  const reader = await first.token("acme", ["read"]);
  const nodeToken = await first.token(null, ["node"]);
  let current: TestOrigin = first;
  const send = async (events: LogEvent[]) => (await current.call("POST", "/v1/nodes/logs", { token: nodeToken, json: logBatch(events) })).body.tail as boolean;
  const child = spawn(process.execPath, ["--no-node-snapshot", MAIN, "logs", "--format", "json"], { env: { ...process.env, VERGE_ORIGIN: first.url, VERGE_TOKEN: reader }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  try {
    await until("the follow session to start", async () => (stderr.includes("following tenant acme") ? true : undefined));
    const before = logEvent("acme", { path: "/before-restart" });
    await send([before]);
    await until("the first event", async () => (stdout.includes('"/before-restart"') ? true : undefined));

    await first.close();
    await until("the lost tail to be reported", async () => (/\(lost the tail: .*; reconnecting in/.test(stderr) ? true : undefined));
    current = await startTestOrigin({ dataDir: first.dataDir, port: Number(port) });
    // Most likely before the CLI is back (it waits at least 500 ms): it finds it in the ring, after `before`.
    const between = logEvent("acme", { path: "/between" });
    await send([between]);
    await until("the CLI to reconnect", async () => ((await send([])) ? true : undefined));
    const afterRestart = logEvent("acme", { path: "/after-restart" });
    await send([afterRestart]);
    await until("the event after the restart", async () => (stdout.includes('"/after-restart"') ? true : undefined));
    assert.deepEqual(stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)), [before, between, afterRestart], "each once, in order");
    const listed = await new Promise<string>((done, fail) =>
      execFile(process.execPath, ["--no-node-snapshot", MAIN, "logs", "--no-follow", "--format", "json"], { env: { ...process.env, VERGE_ORIGIN: current.url, VERGE_TOKEN: reader } }, (err, out) => (err === null ? done(out) : fail(err))),
    );
    assert.deepEqual(listed.split("\n").filter(Boolean).map((l) => JSON.parse(l)), [before, between, afterRestart], "the registry kept the event from before its restart");
    child.kill("SIGINT");
    assert.equal(await exited, 0, stderr);
  } finally {
    child.kill("SIGKILL");
    await current.close();
  }
});

test("an edge node's log shipper and the registry agree: its batches are taken and the CLI shows them", async () => {
  const { createLogShipper } = await import("../../edge-nodes/log-shipper.ts");
  const shipper = createLogShipper({ registry: { url: origin.url, token: node }, nodeId: "edge-ship", region: "ap-south", intervalMs: 60_000 });
  try {
    const lines = Array.from({ length: 1001 }, (_, i) => ({ at: "2026-12-07T01:02:03.000Z", level: "log", message: `shipped ${i}` }));
    shipper.record({
      requestId: "ship-1",
      at: "2026-12-07T01:05:00.000Z",
      method: "GET",
      host: "shop.test",
      path: "/shipped?q=1",
      status: 503,
      error: { code: "ERR_FUNCTION_NOT_FOUND", message: "the association's function is gone" },
      cache: null,
      distribution: "acme/shop",
      invocations: [
        { event: "viewer-request", function: "auth", digest: "b".repeat(64), cold: true, cpuMs: 0.4, wallMs: 0.9, logs: lines },
        { event: "origin-request", function: "gone", digest: "", cold: false, cpuMs: 0, wallMs: 0, error: "ERR_FUNCTION_NOT_FOUND" },
      ],
      bytesOut: 0,
      durationMs: 1.5,
    });
    await shipper.flush();
    assert.deepEqual(shipper.stats(), { queued: 0, sent: 1, dropped: 0, droppedTotal: 0 }, "the registry took the batch");
  } finally {
    await shipper.close();
  }
  const r = await verge(acme, "--no-follow", "--format", "json", "--node", "edge-ship");
  assert.equal(r.code, 0, r.stderr);
  const [e] = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as LogEvent);
  assert.equal(e!.path, "/shipped?q=1");
  assert.equal(e!.region, "ap-south");
  assert.equal(e!.invocations[0]!.logs.length, 1001);
  assert.equal(e!.invocations[1]!.digest, "");
});
