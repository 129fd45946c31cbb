/**
 * A viewer that closes its connection while its request waits on a service binding call:
 * the target (which would otherwise wait out its wall budget) is ended with ERR_CANCELLED and
 * its isolate freed, through the node's own listener (a GET) and through the Hono app (a POST).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHostServices, createRuntime, type Runtime } from "../src/runtime/index.ts";
import { testDistribution } from "../src/pipeline/testing.ts";
import { createTestEdge, until, type TestEdge } from "../src/pipeline/testing-edge.ts";
import { createEdgeApp } from "./app.ts";
import { createEdgeListener } from "./listener.ts";

let runtime: Runtime;
let edge: TestEdge;
let server: Server;
let base: string;

const FRONT = `export default { async fetch(request, env) { const r = await env.SLOW.fetch("http://slow.internal" + new URL(request.url).pathname); return new Response(await r.text()); } };`;
const SLOW = `export default { async fetch(request) { console.log("waiting " + new URL(request.url).pathname); await new Promise((r) => setTimeout(r, 600000)); return new Response("late"); } };`;

before(async () => {
  runtime = createRuntime({ services: createHostServices({ fetch: { allowPrivateAddresses: true } }) });
  edge = createTestEdge(runtime, { serviceBindings: true });
  edge.state.setAlias("slow", "live", edge.state.addVersion("slow", SLOW));
  const front = edge.state.addVersion("front", FRONT, { config: { services: { SLOW: "slow" } } });
  edge.state.putDistribution(testDistribution({ originUrl: "http://127.0.0.1:9", functions: { "viewer-request": { function: "front", version: front, includeBody: true } } }));
  const app = createEdgeApp({ pipeline: edge.pipeline, health: () => ({ ok: true }) as never, metrics: async () => "" });
  server = createServer(createEdgeListener(edge.pipeline, app.fetch).listener);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await edge.close();
  runtime.dispose();
});

/** Sends a request and closes the connection once the target has started (its console line arrived in no record yet: the pool shows two busy isolates). */
async function leaveEarly(method: string, path: string): Promise<void> {
  const { hostname, port } = new URL(base);
  const req = httpRequest({ hostname, port, path, method, setHost: false, headers: { host: "site.test" } });
  req.on("error", () => {});
  if (method === "POST") req.write("body");
  req.end();
  await until(() => runtime.stats().isolates - runtime.stats().idle === 2);
  req.destroy();
}

for (const [method, path, via] of [
  ["GET", "/fast-path", "the node's listener"],
  ["POST", "/app-path", "the Hono app"],
] as const) {
  test(`a viewer gone during a service call ends the target (${method}, through ${via})`, async () => {
    await leaveEarly(method, path);
    await until(() => edge.records.some((r) => r.service !== undefined && r.path === path));
    const rec = edge.records.find((r) => r.service !== undefined && r.path === path)!;
    assert.equal(rec.error?.code, "ERR_CANCELLED");
    assert.deepEqual(rec.invocations[0]!.logs?.map((l) => l.message), [`waiting ${path}`]);
    await until(() => runtime.stats().isolates === runtime.stats().idle);
  });
}
