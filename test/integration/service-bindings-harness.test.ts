/**
 * The harness's `serviceBindings` (Miniflare 4's function form): the function
 * runs in this process and gets the Request the Worker's `env.NAME.fetch()`
 * built; its Response (streamed) is what the Worker gets; errors and bad
 * options are reported as Miniflare reports them, with the option's path.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Verge } from "../../src/index.ts";

const instances: Verge[] = [];
after(() => Promise.all(instances.map((v) => v.dispose())));

function verge(script: string, serviceBindings: Record<string, (r: Request) => Response | Promise<Response>>, extra: Record<string, unknown> = {}): Verge {
  const v = new Verge({ modules: true, script, serviceBindings, ...extra });
  instances.push(v);
  return v;
}

const CALLER = `export default { async fetch(req, env) {
  const u = new URL(req.url);
  try {
    const r = await env.AUTH.fetch("https://auth.test" + u.pathname + u.search, { method: req.method, headers: req.headers, body: req.body });
    return new Response(r.body, { status: r.status, headers: { "x-status-text": r.statusText, "x-auth": r.headers.get("x-auth") ?? "" } });
  } catch (e) { return new Response(e.name + ": " + e.message, { status: 599 }); }
} }`;

test("env.NAME.fetch() calls the function in the test process with the Request the Worker built", async () => {
  const got: Array<{ method: string; url: string; headers: Array<[string, string]>; body: string }> = [];
  const v = verge(CALLER, {
    AUTH: async (request) => {
      got.push({ method: request.method, url: request.url, headers: [...request.headers], body: await request.text() });
      return new Response(`hello ${request.headers.get("x-user")}`, { status: 201, statusText: "Made", headers: { "x-auth": "ok" } });
    },
  });
  const res = await v.dispatchFetch("http://site.test/check?id=7", { method: "POST", headers: { "x-user": "ada" }, body: "payload" });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("x-status-text"), "Made");
  assert.equal(res.headers.get("x-auth"), "ok");
  assert.equal(await res.text(), "hello ada");
  assert.equal(got.length, 1);
  assert.equal(got[0]!.method, "POST");
  assert.equal(got[0]!.url, "https://auth.test/check?id=7");
  assert.equal(got[0]!.body, "payload");
  assert.ok(got[0]!.headers.some(([k, val]) => k === "x-user" && val === "ada"));
  const report = await v.reportOf(res);
  assert.equal(report?.limits.subrequests.used, 1, "the call counts as a subrequest");
});

test("a streamed Response body reaches the Worker chunk by chunk, and the Worker can stop reading", async () => {
  let pulled = 0;
  let cancelled = false;
  const v = verge(
    `export default { async fetch(req, env) {
      const r = await env.S.fetch("http://s.test/");
      const reader = r.body.getReader();
      const first = await reader.read();
      if (new URL(req.url).pathname === "/all") {
        let text = new TextDecoder().decode(first.value);
        for (;;) { const c = await reader.read(); if (c.done) break; text += new TextDecoder().decode(c.value); }
        return new Response(text);
      }
      await reader.cancel();
      return new Response("first: " + new TextDecoder().decode(first.value));
    } }`,
    {
      S: () =>
        new Response(
          new ReadableStream({
            pull(c) {
              pulled++;
              if (pulled > 3) return c.close();
              c.enqueue(new TextEncoder().encode(`c${pulled};`));
            },
            cancel() {
              cancelled = true;
            },
          }),
        ),
    },
  );
  assert.equal(await (await v.dispatchFetch("http://x/all")).text(), "c1;c2;c3;");
  pulled = 0;
  assert.equal(await (await v.dispatchFetch("http://x/first")).text(), "first: c1;");
  const deadline = Date.now() + 5_000;
  while (!cancelled && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  assert.ok(cancelled, "the function's stream is cancelled when the Worker cancels its body");
});

test("a function that throws, or returns no Response, answers 500 with the error's text, as Miniflare does", async () => {
  const v = verge(CALLER, {
    AUTH: (request) => {
      if (request.url.endsWith("/throw")) throw new RangeError("bad range");
      return "not a response" as unknown as Response;
    },
  });
  const thrown = await v.dispatchFetch("http://x/throw");
  assert.equal(thrown.status, 500);
  assert.match(await thrown.text(), /^RangeError: bad range\n\s+at /);
  const wrong = await v.dispatchFetch("http://x/other");
  assert.equal(wrong.status, 500);
  assert.match(await wrong.text(), /^TypeError: serviceBindings\.AUTH returned the string "not a response"; expected a Response/);
});

test("a function that throws another Worker's exception (remote: true) rejects the Worker's fetch with it: class, message, remote", async () => {
  const script = `export default { async fetch(req, env) {
    try { await env.AUTH.fetch("https://auth.test" + new URL(req.url).pathname); return new Response("answered"); }
    catch (e) { return Response.json({ ctor: e.constructor.name, name: e.name, message: e.message, remote: e.remote }); }
  } }`;
  const v = verge(script, {
    AUTH: (request) => {
      const e = request.url.endsWith("/syntax") ? new SyntaxError("odd") : new Error("MyErr: custom");
      throw Object.assign(e, { remote: true });
    },
  });
  assert.deepEqual(await (await v.dispatchFetch("http://x/syntax")).json(), { ctor: "SyntaxError", name: "SyntaxError", message: "odd", remote: true });
  assert.deepEqual(await (await v.dispatchFetch("http://x/custom")).json(), { ctor: "Error", name: "Error", message: "MyErr: custom", remote: true });
});

test("setOptions replaces the functions; getBindings gives a fetch that calls them", async () => {
  const v = verge(CALLER, { AUTH: () => new Response("one") });
  assert.equal(await (await v.dispatchFetch("http://x/")).text(), "one");
  await v.setOptions({ modules: true, script: CALLER, serviceBindings: { AUTH: () => new Response("two") } });
  assert.equal(await (await v.dispatchFetch("http://x/")).text(), "two");
  const env = await v.getBindings<{ AUTH: { fetch(u: string): Promise<Response> } }>();
  assert.equal(await (await env.AUTH.fetch("http://y/")).text(), "two");
});

test("service bindings work with upstream (the edge pipeline in the child) too", async () => {
  const v = verge(CALLER, { AUTH: (r) => new Response(`via ${new URL(r.url).pathname}`) }, { upstream: "http://127.0.0.1:9" });
  const res = await v.dispatchFetch("http://site.test/p");
  assert.equal(await res.text(), "via /p");
});

test("bad serviceBindings are reported with the option's path", () => {
  assert.throws(() => new Verge({ modules: true, script: CALLER, serviceBindings: "AUTH" as never }), { code: "ERR_INVALID_OPTIONS", message: /serviceBindings: expected \{ BINDING: \(request\) => Response \}, found the string "AUTH"/ });
  assert.throws(() => new Verge({ modules: true, script: CALLER, serviceBindings: { AUTH: "auth-worker" as never } }), {
    message: /serviceBindings\.AUTH: expected a function \(request: Request\) => Response \| Promise<Response>, found the string "auth-worker" \(Miniflare's other forms/,
  });
  assert.throws(() => new Verge({ modules: true, script: CALLER, bindings: { AUTH: "x" }, serviceBindings: { AUTH: () => new Response() } }), { message: /serviceBindings\.AUTH: the binding AUTH is also declared in bindings/ });
  assert.throws(() => new Verge({ modules: true, script: CALLER, serviceBindings: { "not-a-name": () => new Response() } }), { message: /serviceBindings\.not-a-name: expected a JavaScript identifier/ });
});
