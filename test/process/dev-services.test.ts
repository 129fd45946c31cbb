/**
 * `verge dev -c front.toml -c auth.toml`: two Workers in one verge dev, as wrangler dev runs
 * several configs. The first is served; its [[services]] binding to the second (by name) runs
 * it, with the request, the answer and its streamed body; the second's own binding back to the
 * first works too; the target's exception rejects the caller's fetch as workerd passes it; a
 * binding to a Worker that is not run is noted and undefined; an edit to the target is what the
 * next call runs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDev } from "../helpers/dev.ts";

const FRONT = `export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/missing") return new Response(typeof env.PAY);
    if (path === "/whoami") return new Response("front");
    try {
      const r = await env.AUTH.fetch("http://auth.internal" + path, { method: "POST", body: "token-1", headers: { "x-user": "ada" } });
      return new Response("front got " + r.status + " " + r.statusText + " [" + await r.text() + "]");
    } catch (e) {
      return new Response("front caught " + e.constructor.name + " " + e.message + " remote=" + e.remote, { status: 502 });
    }
  },
};
`;

const auth = (tag: string) => `export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    console.log("auth ${tag} saw " + path);
    if (path === "/throw") throw new TypeError("auth is down");
    if (path === "/back") return new Response("back: " + await (await env.FRONT.fetch("http://front.internal/whoami")).text());
    return new Response("${tag} " + request.method + " " + request.headers.get("x-user") + " " + await request.text());
  },
};
`;

test("verge dev with two configs runs the second Worker behind the first one's service binding", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-dev-services-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "front.js"), FRONT);
  writeFileSync(join(dir, "auth.js"), auth("v1"));
  writeFileSync(join(dir, "front.toml"), `name = "front"\nmain = "front.js"\n[[services]]\nbinding = "AUTH"\nservice = "auth"\n[[services]]\nbinding = "PAY"\nservice = "payments"\n`);
  writeFileSync(join(dir, "auth.toml"), `name = "auth"\nmain = "auth.js"\n[[services]]\nbinding = "FRONT"\nservice = "front"\n`);

  // Two Workers build and start their harness processes before the banner: more time on a loaded machine.
  const dev = await startDev(t, ["-c", "front.toml", "-c", "auth.toml"], dir, {}, 40_000);
  assert.match(dev.output(), /also running, for service bindings: auth \(auth\.toml\)/);
  assert.match(dev.output(), /service binding PAY -> payments not run/);
  const get = async (path: string) => {
    const r = await fetch(new URL(path, dev.url));
    return { status: r.status, text: await r.text() };
  };
  assert.deepEqual(await get("/check"), { status: 200, text: "front got 200 OK [v1 POST ada token-1]" });
  await dev.waitFor("[auth] log: auth v1 saw /check");
  assert.deepEqual(await get("/back"), { status: 200, text: "front got 200 OK [back: front]" });
  assert.deepEqual(await get("/throw"), { status: 502, text: "front caught TypeError auth is down remote=true" });
  assert.deepEqual(await get("/missing"), { status: 200, text: "undefined" });

  writeFileSync(join(dir, "auth.js"), auth("v2"));
  await dev.waitFor(/built auth\.js .*version 2 serving/, 40_000);
  assert.deepEqual(await get("/check"), { status: 200, text: "front got 200 OK [v2 POST ada token-1]" });
});
