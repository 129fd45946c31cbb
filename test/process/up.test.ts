/**
 * `npm start` (verge up): the local fleet starts, every printed edge URL serves
 * the demo distribution through its functions, the printed `verge logs` line
 * shows every node's requests, and Ctrl-C (SIGINT) stops every process it started.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

test("verge up runs a registry, 3 edge nodes and the demo, and stops them all on SIGINT", { timeout: 120_000 }, async (t) => {
  const data = mkdtempSync(join(tmpdir(), "verge-up-"));
  t.after(() => rmSync(data, { recursive: true, force: true }));
  // A base port unlikely to be taken; verge up uses base-1 .. base+2 and base+10. Below Linux's
  // ephemeral range (32768 up), where the other tests' port-0 servers and client sockets land.
  const base = 20_000 + Math.floor(Math.random() * 12_000);
  const child = spawn(process.execPath, ["--no-node-snapshot", MAIN, "up", "--port", String(base), "--data", data], { stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 90_000;
  while (!out.includes("Ctrl-C stops everything")) {
    if (child.exitCode !== null || Date.now() > deadline) assert.fail(`verge up did not come up:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const edges = [...out.matchAll(/edge-\d\s+(http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => m[1]!);
  assert.equal(edges.length, 3, out);
  for (const url of edges) {
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("x-rewritten-by"), "verge origin-response");
    const seen = (await page.json()) as { seenHeaders: Record<string, string> };
    assert.equal(seen.seenHeaders["x-verge-demo"], "tagged at viewer-request");
    const redirect = await fetch(`${url}/old/page`, { redirect: "manual" });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get("location"), "/new/page");
    const api = (await (await fetch(`${url}/api/json`)).json()) as { greeting: string };
    assert.equal(api.greeting, "Hello from verge");
    const health = (await (await fetch(`${url}/_verge/health`)).json()) as { ok: boolean; connected: boolean };
    assert.equal(health.ok, true);
  }
  // One place for every node's logs: the printed `verge logs` line sees the three nodes' requests.
  const logs = /VERGE_ORIGIN=(\S+) VERGE_TOKEN=(\S+) npx verge logs/.exec(out);
  assert.ok(logs, out);
  const nodes = new Set<string>();
  for (let i = 0; i < 50 && nodes.size < 3; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const listed = await new Promise<string>((resolve) => {
      const cli = spawn(process.execPath, ["--no-node-snapshot", MAIN, "logs", "--no-follow", "--format", "json", "--function", "auth"], {
        env: { ...process.env, VERGE_ORIGIN: logs[1], VERGE_TOKEN: logs[2] },
        stdio: ["ignore", "pipe", "ignore"],
      });
      let text = "";
      cli.stdout.on("data", (d: Buffer) => (text += d.toString()));
      cli.on("close", () => resolve(text));
    });
    for (const line of listed.split("\n").filter(Boolean)) {
      const e = JSON.parse(line) as { node: string; path: string; status: number };
      if (e.path === "/old/page" && e.status === 301) nodes.add(e.node);
    }
  }
  assert.deepEqual([...nodes].sort(), ["edge-1", "edge-2", "edge-3"], "verge logs shows every node's /old/page");
  child.kill("SIGINT");
  assert.equal(await exited, 0, out);
  // Every port is free again: nothing it started is left behind.
  for (const url of edges) await assert.rejects(fetch(`${url}/_verge/health`));
});
