/**
 * The wrangler config corpus, run (issue 5; fixtures in
 * wrangler-compat/fixtures/, their reading is checked by
 * wrangler-compat/corpus.test.ts). In this one process:
 * - each project goes through `verge dev`'s own path: its config loading
 *   (resolveDevSettings, checked against the project's expected.json), its
 *   dev session (build.command, esbuild, the harness) and request handler;
 *   the Worker must bundle and answer requests;
 * - each invalid variant is refused by `verge dev` and by `verge publish
 *   --config` with exactly the diagnostics of expected-diagnostics.json, and
 *   nothing is published, built or written.
 * Projects are copied to a temp dir (build.command output and KV data land
 * there), with node_modules linked so npm imports resolve.
 */
import { after, before, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { resolveDevSettings, type DevSettings } from "../../src/cli/dev/config.ts";
import { createDevHandler } from "../../src/cli/dev/handler.ts";
import { createDevSession } from "../../src/cli/dev/session.ts";
import { createTerminal } from "../../src/cli/dev/terminal.ts";
import { publishFromConfig } from "../../src/cli/commands/publish-config.ts";
import { serve } from "../../src/cli/serve.ts";
import { WranglerConfigError, type WranglerDiagnostic } from "../../wrangler-compat/index.ts";
import { startTestOrigin, type TestOrigin } from "../../origin/testing/harness.ts";
import { startWebOrigin, type TestWebOrigin } from "../helpers/fleet.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURES = join(REPO, "wrangler-compat/fixtures");
const projects = readdirSync(FIXTURES).filter((n) => statSync(join(FIXTURES, n)).isDirectory()).sort();

let root: string;
let web: TestWebOrigin;
let registry: TestOrigin;
let token: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "verge-corpus-"));
  symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"), "dir");
  for (const name of projects) cpSync(join(FIXTURES, name), join(root, name), { recursive: true });
  // The origin behind auth-proxy, and the pages cron-cache-warmer warms.
  web = await startWebOrigin((req, res) => res.writeHead(200, { "content-type": "text/plain" }).end(`origin saw ${req.url}`));
  registry = await startTestOrigin();
  token = await registry.tenant("corpus", ["read", "publish", "deploy", "admin"]);
});
after(async () => {
  await web?.close();
  await registry?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with any Host header (fetch cannot set it). */
function send(url: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), { method: init.method ?? "GET", headers: init.headers ?? {} }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

interface Dev {
  url: string;
  settings: DevSettings;
  output(): string;
}

/**
 * `verge dev <project> [--env] [--var]` without the child process: the same
 * config loading, session and handler as src/cli/commands/dev.ts, on port 0.
 */
async function dev(t: TestContext, name: string, options: { env?: string; vars?: string[] } = {}): Promise<Dev> {
  let out = "";
  const sink = new Writable({
    write(chunk, _encoding, done) {
      out += String(chunk);
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  const term = createTerminal(sink, {});
  const settings = resolveDevSettings({ target: join(root, name), env: options.env, vars: options.vars ?? [], strictLambdaEdge: false }, root);
  checkSettings(name, options.env ?? null, settings, options.vars ?? []);
  // A cold child process and isolate on a loaded 2-core machine can pass a 50 ms CPU budget;
  // the config's own budget was checked above, and limits are tested in test/process/dev-*.
  settings.limits = { ...settings.limits, cpuMs: Math.max(settings.limits.cpuMs ?? 0, 1000) };
  let handler: ReturnType<typeof createDevHandler> | undefined;
  const session = createDevSession({ settings, term, allowPrivate: true, onLog: (v, level, message, from) => handler?.log(v, level, message, from) });
  handler = createDevHandler({ session, entry: relative(root, settings.entry), term });
  await session.firstBuild;
  assert.equal(session.buildError(), undefined, `${name}: the build failed:\n${out}`);
  const server = await serve(handler, 0);
  t.after(async () => {
    await server.close();
    await session.close();
  });
  return { url: server.url, settings, output: () => out };
}

interface Expected {
  reads: Array<{ env: string | null; config: { name?: string; main?: string; vars: Record<string, unknown>; kvNamespaces: Array<{ binding: string; id?: string; previewId?: string }>; limits: { cpuMs?: number }; secrets: Record<string, string> } }>;
}

/** What verge dev loaded is what expected.json says the config reads to (vars overridden by --var). */
function checkSettings(name: string, env: string | null, s: DevSettings, vars: string[]): void {
  const read = (JSON.parse(readFileSync(join(FIXTURES, name, "expected.json"), "utf8")) as Expected).reads.find((r) => r.env === env);
  assert.ok(read, `${name}: expected.json has no reading for env ${env}`);
  const c = read.config;
  const overrides = Object.fromEntries(vars.map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)]));
  assert.equal(s.name, c.name);
  assert.equal(relative(join(root, name), s.entry), c.main);
  assert.deepEqual(s.vars, { ...c.vars, ...overrides });
  assert.deepEqual(s.secrets, c.secrets);
  assert.deepEqual(s.kv, Object.fromEntries(c.kvNamespaces.map((k) => [k.binding, k.id ?? k.previewId ?? k.binding])));
  assert.deepEqual(s.limits, c.limits.cpuMs === undefined ? {} : { cpuMs: c.limits.cpuMs });
}

const json = (r: Reply): any => JSON.parse(r.body);

/** An HS256 JWT, as auth-proxy's identity provider would issue it. */
function jwt(claims: Record<string, unknown>, secret: string): string {
  const b64 = (v: string | Buffer) => Buffer.from(v).toString("base64url");
  const head = `${b64(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64(JSON.stringify(claims))}`;
  return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
}

/** What each project's Worker must answer; every project of the corpus has an entry. */
const RUNS: Record<string, (t: TestContext) => Promise<void>> = {
  async "hono-router"(t) {
    const d = await dev(t, "hono-router");
    const health = await send(d.url, "/api/health");
    assert.equal(health.status, 200, health.body);
    assert.deepEqual(json(health), { ok: true, version: "2024-11" });
    const user = await send(d.url, "/api/users/u_2", { headers: { origin: "https://www.example.com" } });
    assert.deepEqual(json(user), { id: "u_2", name: "Grace", role: "member" });
    assert.equal(user.headers["access-control-allow-origin"], "https://www.example.com", "CORS from the JSON array var");
    const api = await send(d.url, "/users/u_1", { headers: { host: "api.example.com" } });
    assert.equal(json(api).name, "Ada", "api.example.com/* serves the API at its root");
    const status = await send(d.url, "/status");
    assert.match(status.body, /^<html><head><title>example.com status<\/title><\/head><body><h1>All systems operational<\/h1><p>API 2024-11, checked /);
  },

  async "kv-url-shortener"(t) {
    const d = await dev(t, "kv-url-shortener");
    const create = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url: "https://example.org/docs/start", slug: "docs" }) };
    assert.equal((await send(d.url, "/api/links", create)).status, 401);
    const made = await send(d.url, "/api/links", { ...create, headers: { ...create.headers, authorization: "Bearer dev-admin-token" } });
    assert.equal(made.status, 201, made.body);
    assert.deepEqual(json(made), { slug: "docs", short: "https://s.example.com/docs", url: "https://example.org/docs/start" });
    const hop = await send(d.url, "/docs");
    assert.equal(hop.status, 302);
    assert.equal(hop.headers.location, "https://example.org/docs/start");
    assert.equal((await send(d.url, "/nope")).status, 404);
    const list = json(await send(d.url, "/api/links", { headers: { authorization: "Bearer dev-admin-token" } }));
    assert.equal(list.links.length, 1);
    assert.equal(list.links[0].slug, "docs");
    const days = (list.links[0].expiration - Date.now() / 1000) / 86400;
    assert.ok(days > 364 && days <= 365, `expirationTtl from DEFAULT_TTL_DAYS: ${days} days`);
  },

  async "cron-cache-warmer"(t) {
    const urls = [`${web.url}/`, `${web.url}/pricing`];
    const d = await dev(t, "cron-cache-warmer", { vars: [`WARM_URLS=${JSON.stringify(urls)}`] });
    assert.deepEqual(json(await send(d.url, "/")), { lastRun: null });
    const fired = await send(d.url, `/__scheduled?cron=${encodeURIComponent("*/10 * * * *")}&time=${Date.UTC(2025, 0, 5, 4, 0)}`);
    assert.equal(fired.status, 200, fired.body);
    assert.equal(fired.body, "Ran scheduled event\n");
    const last = json(await send(d.url, "/"));
    assert.equal(last.lastRun, "2025-01-05T04:00:00.000Z");
    assert.equal(last.cron, "*/10 * * * *");
    assert.deepEqual(last.outcomes.map((o: { url: string; status: number }) => [o.url, o.status]), urls.map((u) => [u, 200]));
    const seen = web.seen.filter((s) => s.headers["user-agent"] === "cache-warmer/1.0 (+https://www.example.com/bot)").map((s) => s.url);
    assert.deepEqual(seen.sort(), ["/", "/pricing"]);
    assert.match(d.output(), /warmed 2\/2 for \*\/10 \* \* \* \*/);
  },

  async "auth-proxy"(t) {
    const d = await dev(t, "auth-proxy", { vars: [`UPSTREAM=${web.url}`] });
    assert.equal((await send(d.url, "/healthz")).body, "ok");
    const denied = await send(d.url, "/account");
    assert.equal(denied.status, 401);
    assert.equal(denied.headers["www-authenticate"], 'Bearer realm="app"');
    const forged = jwt({ sub: "user-42" }, "not-the-secret");
    assert.equal((await send(d.url, "/account", { headers: { authorization: `Bearer ${forged}` } })).status, 401);
    // Signed with the .dev.vars secret (which shadows the empty JWT_SECRET var).
    const good = jwt({ sub: "user-42", exp: Math.floor(Date.now() / 1000) + 600 }, "local-dev-secret-change-me");
    const res = await send(d.url, "/account?tab=billing", { headers: { cookie: `theme=dark; __Host-session=${good}` } });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.body, "origin saw /account?tab=billing");
    const upstream = web.seen.at(-1)!;
    assert.equal(upstream.headers["x-user"], "user-42");
    assert.equal(upstream.headers["x-upstream-token"], "dev-upstream-token");
    assert.equal(upstream.headers.cookie, undefined, "the session cookie is not forwarded");
  },

  async "multi-env-api"(t) {
    const d = await dev(t, "multi-env-api", { env: "staging" });
    const put = await send(d.url, "/orders/o-1", { method: "PUT", body: JSON.stringify({ items: [{ sku: "A-1", qty: 2 }] }) });
    assert.equal(put.status, 201, put.body);
    assert.equal(put.headers["x-environment"], "staging");
    const got = json(await send(d.url, "/orders/o-1"));
    assert.equal(got.environment, "staging");
    assert.deepEqual(got.order.items, [{ sku: "A-1", qty: 2 }]);
    assert.deepEqual(json(await send(d.url, "/orders")), { ids: ["o-1"], cursor: null });
    assert.equal((await send(d.url, "/orders/o-1", { method: "PUT", body: "{}" })).status, 400);
    assert.equal((await send(d.url, "/__scheduled?cron=0+*+*+*+*")).status, 200);
    assert.match(d.output(), /\[staging\] 1 open orders to reconcile/);
  },

  async "jsonc-feature-flags"(t) {
    const d = await dev(t, "jsonc-feature-flags", { env: "staging" });
    const res = await send(d.url, "/flags?user=alice");
    assert.equal(res.status, 200, res.body);
    // Staging's defaults: every flag on (search-v2 at a share of 1).
    assert.deepEqual(json(res), { user: "alice", flags: { "new-checkout": true, "dark-mode": true, "search-v2": true } });
    assert.equal(res.headers["cache-control"], "private, max-age=0");
    assert.equal((await send(d.url, "/flags")).status, 400);
  },

  async "service-worker-legacy"(t) {
    const d = await dev(t, "service-worker-legacy");
    const robots = await send(d.url, "/robots.txt");
    assert.equal(robots.status, 200);
    assert.equal(robots.body, "User-agent: *\nDisallow: /admin\n");
    assert.equal((await send(d.url, "/unknown")).status, 404);
    await t.test("bindings as globals (service-worker syntax)", async () => {
      const hop = await send(d.url, "/blog");
      assert.equal(hop.status, 301, hop.body);
      assert.equal(hop.headers.location, "https://www.example.org/articles");
    });
  },

  async "custom-domains-site"(t) {
    const d = await dev(t, "custom-domains-site");
    const apex = await send(d.url, "/pricing?ref=ad", { headers: { host: "example.net" } });
    assert.equal(apex.status, 301);
    assert.equal(apex.headers.location, "https://www.example.net/pricing?ref=ad");
    const page = await send(d.url, "/pricing", { headers: { host: "www.example.net" } });
    assert.equal(page.status, 200);
    assert.match(page.body, /<h1>Pricing<\/h1>/);
    assert.equal(page.headers["content-security-policy"], "default-src 'self'; img-src 'self' https://images.example.net");
    assert.equal(page.headers["strict-transport-security"], "max-age=63072000; includeSubDomains; preload");
    assert.equal((await send(d.url, "/missing", { headers: { host: "www.example.net" } })).status, 404);
  },

  async "ts-build-command"(t) {
    const d = await dev(t, "ts-build-command");
    assert.match(d.output(), /running build\.command: node scripts\/build-index\.mjs\n/);
    assert.ok(existsSync(join(root, "ts-build-command/src/generated/search-index.ts")), "build.command ran in the project's copy");
    assert.deepEqual(json(await send(d.url, "/search?q=cache")).results, [{ title: "Caching", url: "https://docs.example.com/caching" }]);
    assert.deepEqual(json(await send(d.url, "/search?q=edge")).results.map((r: { title: string }) => r.title), ["Caching", "Roadmap"]);
    const prod = await dev(t, "ts-build-command", { env: "production" });
    assert.match(prod.output(), /running build\.command: node scripts\/build-index\.mjs --production\n/);
    assert.deepEqual(json(await send(prod.url, "/search?q=edge")).results, [{ title: "Caching", url: "https://docs.example.com/caching" }], "drafts left out in production");
    assert.equal(existsSync(join(FIXTURES, "ts-build-command/src/generated")), false, "nothing generated in the repository");
  },

  async "limits-markdown"(t) {
    const d = await dev(t, "limits-markdown");
    const md = "# Release *notes*\n\nFaster `cold starts` and [docs](https://example.com/docs).\n\n- one\n- two\n";
    const res = await send(d.url, "/", { method: "POST", body: md });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.body, '<h1>Release <em>notes</em></h1>\n<p>Faster <code>cold starts</code> and <a href="https://example.com/docs">docs</a>.</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n');
    const again = await send(d.url, "/", { method: "POST", body: md, headers: { "if-none-match": String(res.headers.etag) } });
    assert.equal(again.status, 304);
    assert.equal((await send(d.url, "/")).status, 405);
  },

  async "unsupported-bindings"(t) {
    const d = await dev(t, "unsupported-bindings");
    for (const key of ["durable_objects", "queues", "ai"]) assert.ok(d.settings.warnings.includes(`unsupported-bindings/wrangler.toml: ${key}: not supported by verge yet; ignored`), key);
    const home = await send(d.url, "/");
    assert.equal(home.status, 200);
    assert.equal(home.body, "<!doctype html><title>Team Chat</title><h1>Team Chat</h1>");
    assert.equal((await send(d.url, "/api/session", { headers: { cookie: "sid=abc" } })).status, 401, "the KV binding works");
    const upload = await send(d.url, "/uploads/none.png");
    assert.equal(upload.status, 404, "the R2 binding works");
    assert.equal(upload.body, "Not Found");
    // A binding verge cannot provide is absent from env: using it throws.
    const room = await send(d.url, "/api/rooms/general");
    assert.equal(room.status, 503);
    assert.equal(room.headers["x-verge-error"], "ERR_FUNCTION_EXCEPTION");
    assert.match(json(room).error.message, /TypeError: Cannot read properties of undefined \(reading 'get'\)/);
  },

  async "docs-site"(t) {
    const d = await dev(t, "docs-site");
    assert.equal(d.settings.rules.length, 1, "the config's [[rules]] reach the bundler");
    assert.deepEqual(d.settings.warnings, []);
    const home = await send(d.url, "/");
    assert.equal(home.status, 200, home.body);
    assert.equal(home.headers["content-type"], "text/html; charset=utf-8");
    const html = readFileSync(join(FIXTURES, "docs-site/src/templates/layout.html"), "utf8");
    const body = "<h1>About</h1>\n<p>These docs are served by a Worker. Every page is Markdown.</p>\n<h2>Contact</h2>\n<p>Write to docs@example.com.</p>";
    assert.equal(home.body, html.replace("{{title}}", "Example Docs").replace("{{body}}", body), "the .html layout (default Text rule) and the .md page ([[rules]] Text)");
    const icon = await send(d.url, "/favicon.ico");
    assert.equal(icon.headers["content-type"], "image/x-icon");
    assert.equal(icon.body, readFileSync(join(FIXTURES, "docs-site/src/assets/favicon.bin"), "latin1"), "the .bin file's bytes (default Data rule; its bytes are below 0x80, so they read as text)");
    assert.equal((await send(d.url, "/schema.sql")).body, readFileSync(join(FIXTURES, "docs-site/src/db/schema.sql"), "utf8"));
    assert.deepEqual(json(await send(d.url, "/api/add?a=40&b=2")), { a: 40, b: 2, sum: 42 }, "the .wasm module instantiated (default CompiledWasm rule)");
    assert.equal((await send(d.url, "/api/add?a=x")).status, 400);
  },

  async "json-ab-test"(t) {
    const d = await dev(t, "json-ab-test", { env: "production" });
    const first = json(await send(d.url, "/__ab"));
    assert.equal(first.experiment, "checkout-button");
    assert.ok(["control", "variant"].includes(first.group));
    assert.equal(first.assigned, true);
    const kept = await send(d.url, "/__ab", { headers: { cookie: "ab-checkout-button=variant" } });
    assert.deepEqual(json(kept), { experiment: "checkout-button", group: "variant", assigned: false });
    assert.equal(kept.headers["set-cookie"], undefined);
  },
};

test("every project of the corpus has a run", () => {
  assert.deepEqual(Object.keys(RUNS).sort(), projects);
});

for (const name of projects) {
  test(`${name}: verge dev loads its config, bundles it and answers`, async (t) => {
    assert.ok(RUNS[name], `no run for ${name}`);
    await RUNS[name]!(t);
  });
}

interface Failure {
  file: string;
  env: string | null;
  diagnostics: WranglerDiagnostic[];
}

function errorOf(fn: () => unknown): Promise<unknown> {
  return Promise.resolve()
    .then(fn)
    .then(
      () => undefined,
      (err: unknown) => err,
    );
}

test("every invalid variant: verge dev and verge publish --config refuse it with the expected diagnostics; nothing is published, built or written", async () => {
  // The registry's applied sequence (its health also reports uptime, which moves).
  const head = async (): Promise<unknown> => ((await registry.call("GET", "/v1/health")).body as { seq: unknown }).seq;
  const before = await head();
  let cases = 0;
  for (const name of projects) {
    const dir = join(root, name);
    for (const c of JSON.parse(readFileSync(join(dir, "expected-diagnostics.json"), "utf8")) as Failure[]) {
      const where = `${name}/${c.file} (env ${c.env ?? "top level"})`;
      const files = readdirSync(dir, { recursive: true }).map(String).sort();
      const devError = await errorOf(() => resolveDevSettings({ target: join(dir, c.file), env: c.env ?? undefined, vars: [], strictLambdaEdge: false }, root));
      assert.ok(devError instanceof WranglerConfigError, `${where}: verge dev: ${String(devError)}`);
      assert.deepEqual(devError.diagnostics, c.diagnostics, `${where}: verge dev`);
      const outdir = join(dir, "dist-publish");
      const publishError = await errorOf(() => publishFromConfig({ config: join(dir, c.file), env: c.env ?? undefined, origin: registry.url, token, outdir, distribution: "site" }));
      assert.ok(publishError instanceof WranglerConfigError, `${where}: verge publish: ${String(publishError)}`);
      assert.deepEqual(publishError.diagnostics, c.diagnostics, `${where}: verge publish`);
      assert.deepEqual(readdirSync(dir, { recursive: true }).map(String).sort(), files, `${where}: no file written (no bundle, no build.command output)`);
      cases++;
    }
  }
  assert.ok(cases >= projects.length);
  assert.equal(await head(), before, "the registry's sequence is unchanged");
  assert.deepEqual((await registry.call("GET", "/v1/tenants/corpus/functions", { token })).body, { functions: [] }, "no function was created");
});
