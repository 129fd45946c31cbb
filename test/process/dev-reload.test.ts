/**
 * `verge dev` hot reload: a change to any file of the import graph rebuilds
 * and swaps the version while requests are in flight, and every response
 * comes entirely from one version; a build error keeps the old version
 * serving, shows browsers an error page with the file, line and code frame,
 * and the next good build recovers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDev } from "../helpers/dev.ts";
import { until } from "../helpers/until.ts";

// The entry streams two chunks around an await: a version disposed too early would cut the body.
const ENTRY = `import { VERSION } from "./version.ts";
export default {
  async fetch(request: Request): Promise<Response> {
    const delay = Number(new URL(request.url).searchParams.get("delay") ?? "0");
    const enc = new TextEncoder();
    const body = new ReadableStream({
      async start(c) {
        c.enqueue(enc.encode("first=" + VERSION + ";"));
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        c.enqueue(enc.encode("second=" + VERSION));
        c.close();
      },
    });
    return new Response(body, { headers: { "x-version": VERSION } });
  },
};
`;
const version = (v: string): string => `export const VERSION: string = "${v}";\n`;

function project(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "verge-dev-reload-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "index.ts"), ENTRY);
  writeFileSync(join(dir, "version.ts"), version("v1"));
  return dir;
}

interface Seen {
  status: number;
  header: string | null;
  body: string;
  end: number;
}

test("hot reload under load: every request completes with 200 and from one version only", { timeout: 40_000 }, async (t) => {
  const dir = project(t);
  const dev = await startDev(t, ["index.ts"], dir);
  const seen: Seen[] = [];
  let running = true;
  // Six clients, each keeping one request in flight; half of them slow (a timer in the handler).
  const clients = Array.from({ length: 6 }, async (_, i) => {
    let n = 0;
    while (running) {
      const delay = i % 2 === 0 ? 300 : (n++ % 3) * 20;
      const res = await fetch(`${dev.url}?delay=${delay}`);
      const body = await res.text();
      seen.push({ status: res.status, header: res.headers.get("x-version"), body, end: performance.now() });
    }
  });
  // Load between swaps: a number of completed requests, however long a loaded machine takes.
  const more = (n: number, version: string) => {
    const from = seen.length;
    return until(`${n} more requests on ${version}`, async () => (seen.slice(from).filter((s) => s.header === version).length >= n ? true : undefined));
  };
  const swappedBy = new Map<string, number>();
  await more(8, "v1");
  for (const [v, serving] of [["v2", 2], ["v3", 3]] as const) {
    writeFileSync(join(dir, "version.ts"), version(v));
    await dev.waitFor(`version ${serving} serving`);
    swappedBy.set(`v${serving - 1}`, performance.now());
    await more(8, v);
  }
  running = false;
  await Promise.all(clients);

  assert.ok(seen.length > 20, `only ${seen.length} requests were made`);
  for (const s of seen) {
    assert.equal(s.status, 200, JSON.stringify(s));
    const v = s.header;
    assert.equal(s.body, `first=${v};second=${v}`, `a response mixed versions: ${JSON.stringify(s)}`);
  }
  const versions = new Set(seen.map((s) => s.header));
  assert.ok(versions.has("v1") && versions.has("v3"), `versions seen: ${[...versions].join(", ")}`);
  // Some requests of an old version were still in flight after the swap, and finished on it.
  const straddlers = seen.filter((s) => swappedBy.has(s.header!) && s.end > swappedBy.get(s.header!)!);
  assert.ok(straddlers.length > 0, "no request was in flight across a swap");
  const last = await fetch(dev.url);
  assert.equal(last.headers.get("x-version"), "v3");
  assert.equal(last.headers.get("x-verge-dev-version"), "3");
  await last.text();
  // Each old version was disposed once its requests were over.
  await dev.waitFor("version 2 retired");
  assert.match(dev.output(), /version 1 retired/);
});

test("a build error keeps the old version serving, shows browsers the error page, and recovers", { timeout: 30_000 }, async (t) => {
  const dir = project(t);
  const dev = await startDev(t, ["index.ts"], dir);
  writeFileSync(join(dir, "version.ts"), `export const VERSION: string = "v2" +;\n`);
  await dev.waitFor("build failed; version 1 keeps serving");
  assert.match(dev.output(), /version\.ts:1:\d+: Unexpected ";"/);
  assert.match(dev.output(), /> 1 \| export const VERSION: string = "v2" \+;\n\s+\|\s+\^/);

  const api = await fetch(dev.url);
  assert.equal(api.status, 200);
  assert.equal(await api.text(), "first=v1;second=v1");
  assert.ok(api.headers.get("x-verge-build-error"));

  const page = await fetch(dev.url, { headers: { accept: "text/html" } });
  assert.equal(page.status, 500);
  assert.equal(page.headers.get("x-verge-error"), "ERR_BUILD_FAILED");
  const html = await page.text();
  assert.match(html, /version\.ts:1:\d+/);
  assert.match(html, /Unexpected &quot;;&quot;/);
  assert.match(html, /export const VERSION: string = &quot;v2&quot; \+;/);
  assert.ok(!html.includes(`"v2" +;`), "the source in the page is escaped");

  writeFileSync(join(dir, "version.ts"), version("v2"));
  await dev.waitFor("version 2 serving");
  const fixed = await fetch(dev.url, { headers: { accept: "text/html" } });
  assert.equal(fixed.status, 200);
  assert.equal(await fixed.text(), "first=v2;second=v2");
  assert.equal(fixed.headers.get("x-verge-build-error"), null);
});
