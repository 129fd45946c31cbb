/**
 * `verge dev --upstream`: the full edge pipeline locally, end to end, over a
 * real origin on port 0: a Lambda@Edge handler on origin-request and
 * origin-response, the response cache (Miss, then Hit without running the
 * function), errors as the edge maps them with the developer's details, and
 * a rebuild under load in which every request sees one version at both of
 * its events. Then a Workers handler whose fetch() goes through cache and
 * origin, and the limit header's real values after an exception and (as a
 * trailer) for a long stream.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDev } from "../helpers/dev.ts";
import { until } from "../helpers/until.ts";
import { startOrigin, type TestOrigin } from "../../src/pipeline/testing-edge.ts";

const LIMITS = /^cpu=[\d.]+\/\d+ms; wall=[\d.]+\/\d+ms; heap=[\d.]+\/\d+MB; subrequests=\d+\/\d+$/;

// One Lambda@Edge handler for both origin events: the version it runs as goes to the origin
// (origin-request) and onto the response (origin-response).
const HANDLER = `import { VERSION } from "./version.ts";
export const handler = async (event: any) => {
  const cf = event.Records[0].cf;
  if (cf.config.eventType === "origin-request") {
    if (cf.request.uri === "/throw") throw new Error("boom in origin-request");
    cf.request.headers["x-req-version"] = [{ key: "X-Req-Version", value: VERSION }];
    return cf.request;
  }
  cf.response.headers["x-resp-version"] = [{ key: "X-Resp-Version", value: VERSION }];
  return cf.response;
};
`;
const version = (v: string): string => `export const VERSION: string = "${v}";\n`;

function project(t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "verge-dev-upstream-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function origin(t: TestContext): Promise<TestOrigin> {
  const o = await startOrigin((req, res) => {
    const url = new URL(req.url ?? "/", "http://o");
    const delay = Number(url.searchParams.get("delay") ?? "0");
    const headers = {
      "content-type": "text/plain",
      "cache-control": url.pathname === "/cached" ? "max-age=300" : "no-store",
      "x-origin-saw-version": String(req.headers["x-req-version"] ?? ""),
    };
    setTimeout(() => res.writeHead(200, headers).end(`origin ${url.pathname}`), delay);
  });
  t.after(() => o.close());
  return o;
}

test("verge dev --upstream: origin events, the response cache, edge errors, a rebuild under load with one version per request", { timeout: 90_000 }, async (t) => {
  const o = await origin(t);
  const dir = project(t, { "edge.ts": HANDLER, "version.ts": version("v1") });
  const dev = await startDev(t, ["edge.ts", "--event", "origin-request,origin-response", "--upstream", o.url], dir);
  assert.match(dev.output(), /upstream\s+http:\/\/localhost:\d+ \(edge pipeline: function at origin-request, origin-response, response cache in memory\)/);

  const miss = await fetch(`${dev.url}cached`);
  assert.equal(miss.status, 200);
  assert.equal(await miss.text(), "origin /cached");
  assert.equal(miss.headers.get("x-verge-cache"), "Miss");
  assert.equal(miss.headers.get("x-origin-saw-version"), "v1");
  assert.equal(miss.headers.get("x-resp-version"), "v1");
  assert.match(miss.headers.get("x-verge-limits")!, LIMITS);
  const hit = await fetch(`${dev.url}cached`);
  assert.equal(await hit.text(), "origin /cached");
  assert.equal(hit.headers.get("x-verge-cache"), "Hit");
  assert.equal(hit.headers.get("x-verge-limits"), "none (the function did not run for this request)");
  assert.equal(o.seen.filter((s) => s.url === "/cached").length, 1);

  // An exception at origin-request: the edge's status and code, the developer's message and stack.
  const failed = await fetch(`${dev.url}throw`);
  assert.equal(failed.status, 503);
  assert.equal(failed.headers.get("x-verge-error"), "ERR_FUNCTION_EXCEPTION");
  assert.match(failed.headers.get("x-verge-limits")!, LIMITS, "real values after an exception");
  const body = (await failed.json()) as { error: { code: string; message: string; requestId: string; stack?: string } };
  assert.match(body.error.message, /boom in origin-request/);
  assert.equal(body.error.requestId, failed.headers.get("x-verge-request-id"));
  assert.match(body.error.stack ?? "", /edge\.ts:\d+/, "source-mapped to the user's file");
  const page = await fetch(`${dev.url}throw`, { headers: { accept: "text/html" } });
  assert.equal(page.status, 503);
  assert.match(await page.text(), /boom in origin-request/);
  // The terminal: the pipeline's line with the real message, the request line, the mapped stack.
  await dev.waitFor(/edge error 503 ERR_FUNCTION_EXCEPTION \(origin-request [^)]+\): .*boom in origin-request/);
  await dev.waitFor(/GET \/throw 503 \d+ ms v1 ERR_FUNCTION_EXCEPTION cpu=/);
  await dev.waitFor(/at handler \(edge\.ts:\d+:\d+\)/);

  // Rebuild under load: no-store, so every request runs origin-request and origin-response,
  // with the origin slow enough that requests are in flight across each swap.
  const seen: Array<{ status: number; req: string | null; resp: string | null; end: number }> = [];
  let running = true;
  const clients = Array.from({ length: 4 }, async (_, i) => {
    while (running) {
      const res = await fetch(`${dev.url}page?delay=${i % 2 === 0 ? 250 : 30}`);
      await res.arrayBuffer();
      seen.push({ status: res.status, req: res.headers.get("x-origin-saw-version"), resp: res.headers.get("x-resp-version"), end: performance.now() });
    }
  });
  // Load between swaps: a number of completed requests, however long a loaded machine takes.
  const more = (count: number, version: string) => {
    const from = seen.length;
    return until(`${count} more requests on ${version}`, async () => (seen.slice(from).filter((s) => s.resp === version).length >= count ? true : undefined));
  };
  const swappedAt = new Map<string, number>();
  await more(6, "v1");
  for (const [v, n] of [["v2", 2], ["v3", 3]] as const) {
    writeFileSync(join(dir, "version.ts"), version(v));
    await dev.waitFor(`version ${n} serving`);
    swappedAt.set(`v${n - 1}`, performance.now());
    await more(6, v);
  }
  running = false;
  await Promise.all(clients);

  assert.ok(seen.length > 10, `only ${seen.length} requests`);
  for (const s of seen) {
    assert.equal(s.status, 200, JSON.stringify(s));
    assert.equal(s.req, s.resp, `one request saw two versions across its events: ${JSON.stringify(s)}`);
  }
  const versions = new Set(seen.map((s) => s.resp));
  assert.ok(versions.has("v1") && versions.has("v3"), `versions seen: ${[...versions].join(", ")}`);
  assert.ok(seen.some((s) => swappedAt.has(s.resp!) && s.end > swappedAt.get(s.resp!)!), "no request was in flight across a swap");
  // Each version has its own cache: what v3 serves was made by v3.
  const fresh = await fetch(`${dev.url}cached`);
  assert.equal(fresh.headers.get("x-verge-cache"), "Miss");
  assert.equal(fresh.headers.get("x-resp-version"), "v3");
  await fresh.arrayBuffer();
});

const WORKER = `export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/throw") { console.log("about to throw"); throw new Error("worker boom"); }
    if (url.pathname === "/stream") {
      const enc = new TextEncoder();
      const body = new ReadableStream({
        async start(c) {
          for (let i = 0; i < 4; i++) { c.enqueue(enc.encode("chunk" + i + ";")); await new Promise((r) => setTimeout(r, 150)); }
          c.close();
        },
      });
      return new Response(body);
    }
    const res = await fetch(request);
    return new Response("worker: " + (await res.text()), { headers: { "x-sub-cache": res.headers.get("x-verge-cache") ?? "" } });
  },
};
`;

/** GET with Node's client, which exposes trailers. */
function getWithTrailers(url: string): Promise<{ headers: Record<string, string | string[] | undefined>; body: string; trailers: Record<string, string | undefined> }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ headers: res.headers, body, trailers: res.trailers }));
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

test("verge dev --upstream with a Workers handler: fetch(request) through cache and origin; real limits after an exception and, as a trailer, for a long stream", { timeout: 60_000 }, async (t) => {
  const o = await origin(t);
  const dir = project(t, { "worker.ts": WORKER });
  const dev = await startDev(t, ["worker.ts", "--upstream", o.url], dir);

  const first = await fetch(`${dev.url}cached`);
  assert.equal(await first.text(), "worker: origin /cached");
  assert.equal(first.headers.get("x-sub-cache"), "Miss");
  assert.match(first.headers.get("x-verge-limits")!, /subrequests=1\/50$/);
  const second = await fetch(`${dev.url}cached`);
  assert.equal(await second.text(), "worker: origin /cached");
  assert.equal(second.headers.get("x-sub-cache"), "Hit");

  const thrown = await fetch(`${dev.url}throw`);
  assert.equal(thrown.status, 503);
  assert.match(thrown.headers.get("x-verge-limits")!, LIMITS);
  assert.match(((await thrown.json()) as { error: { message: string } }).error.message, /worker boom/);

  const streamed = await getWithTrailers(`${dev.url}stream`);
  assert.equal(streamed.body, "chunk0;chunk1;chunk2;chunk3;");
  assert.equal(streamed.headers["x-verge-limits"], "cpu=?/50ms; wall=?/30000ms; heap=?/128MB; subrequests=?/50", "the head went before the stream ended");
  assert.equal(streamed.headers["trailer"], "x-verge-limits");
  assert.match(streamed.trailers["x-verge-limits"] ?? "", LIMITS);
  assert.ok(Number(/wall=([\d.]+)/.exec(streamed.trailers["x-verge-limits"]!)![1]) >= 450, `the trailer has the whole stream's wall time: ${streamed.trailers["x-verge-limits"]}`);
});

test("verge dev without --upstream: the limit header has real values after an exception", { timeout: 60_000 }, async (t) => {
  const dir = project(t, { "worker.ts": WORKER });
  const dev = await startDev(t, ["worker.ts"], dir);
  const thrown = await fetch(`${dev.url}throw`);
  assert.equal(thrown.status, 503);
  assert.equal(thrown.headers.get("x-verge-error"), "ERR_FUNCTION_EXCEPTION");
  assert.match(thrown.headers.get("x-verge-limits")!, LIMITS);
  assert.match(((await thrown.json()) as { error: { message: string } }).error.message, /worker boom/);
  const id = thrown.headers.get("x-verge-request-id")!;
  await dev.waitFor(`[${id}] GET /throw 503`);
  assert.match(dev.output(), new RegExp(`\\[${id}\\] GET /throw 503 \\d+ ms v1 ERR_FUNCTION_EXCEPTION cpu=[\\d.]+/50ms`));
});
