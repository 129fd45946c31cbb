/**
 * The Workers Cache API inside the isolate (`caches.default`, `caches.open`,
 * Cache match / put / delete), with Cloudflare's rules and workerd's errors.
 * Every snippet uses URLs of its own: on the harness and edge targets one cache
 * lives for the whole file (on the edge target it is the distribution's own).
 * What differs from Workers on purpose (Vary honoured, Miniflare's local
 * quirks) is in test/differential/DIVERGENCES.md.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { evalGuest } from "../helpers/guest.ts";
import { listenDuringTests } from "../helpers/local-server.ts";

/** An origin for fetched responses that a function then puts: /stream sends its body in three writes. */
let base = "";
const server = createServer((req, res) => {
  res.setHeader("cache-control", "max-age=600");
  res.setHeader("content-type", "text/plain");
  res.setHeader("cf-cache-status", "DYNAMIC");
  if (req.url === "/stream") {
    res.write("one;");
    res.write("two;");
    res.end("three");
  } else res.end(`fetched ${req.url}`);
});
listenDuringTests(server, (url) => (base = url));

let n = 0;
/** A URL no other snippet of this run uses. */
const url = (name: string) => `http://cache.test/${name}-${process.pid}-${++n}`;

/** Guest helpers: a response's parts as JSON, and a call's outcome. */
const HELPERS = `
  const show = async (r) => r === undefined ? "undefined" : { status: r.status, statusText: r.statusText, headers: Object.fromEntries([...r.headers].filter(([k]) => k !== "date")), body: await r.text() };
  const attempt = async (f) => { try { const v = await f(); return { ok: v === undefined ? "undefined" : v }; } catch (e) { return { name: e.name, message: e.message }; } };
  const cc = (v) => ({ "cache-control": v });
`;

test("caches: globals, one CacheStorage, Cache objects only from it, not cloneable", async () => {
  const r = await evalGuest(`
    const before = Object.getOwnPropertyDescriptor(globalThis, "caches");
    const c = caches.default;
    const errs = [];
    for (const f of [() => new Cache(), () => new CacheStorage(), () => structuredClone(c), () => structuredClone(caches)]) {
      try { f(); errs.push("no error"); } catch (e) { errs.push(e.name); }
    }
    return {
      lazy: typeof before.get, enumerable: before.enumerable,
      tags: [Object.prototype.toString.call(caches), Object.prototype.toString.call(c)],
      names: [Cache.name, CacheStorage.name, String(Cache)],
      same: c === caches.default && caches instanceof CacheStorage && c instanceof Cache,
      methods: Object.getOwnPropertyNames(Cache.prototype).sort(),
      storage: Object.getOwnPropertyNames(CacheStorage.prototype).sort(),
      errs,
    };
  `);
  assert.deepEqual(r, {
    lazy: "function",
    enumerable: false,
    tags: ["[object CacheStorage]", "[object Cache]"],
    names: ["Cache", "CacheStorage", "function Cache() { [native code] }"],
    same: true,
    methods: ["add", "addAll", "constructor", "delete", "keys", "match", "matchAll", "put"],
    storage: ["constructor", "default", "delete", "has", "keys", "match", "open"],
    errs: ["TypeError", "TypeError", "DataCloneError", "DataCloneError"],
  });
});

test("caches: what Workers leaves unimplemented throws at once, with workerd's messages", async () => {
  const r = await evalGuest(`
    const out = [];
    for (const [o, m] of [[caches.default, "add"], [caches.default, "addAll"], [caches.default, "matchAll"], [caches.default, "keys"], [caches, "match"], [caches, "has"], [caches, "delete"], [caches, "keys"]]) {
      try { const v = o[m]("http://x.test/"); out.push(typeof v); } catch (e) { out.push(e.name + ": " + e.message); }
    }
    return out;
  `);
  assert.deepEqual(r, [
    "Error: Failed to execute 'add' on 'Cache': the method is not implemented.",
    "Error: Failed to execute 'addAll' on 'Cache': the method is not implemented.",
    "Error: Failed to execute 'matchAll' on 'Cache': the method is not implemented.",
    "Error: Failed to execute 'keys' on 'Cache': the method is not implemented.",
    "Error: Failed to execute 'match' on 'CacheStorage': the method is not implemented.",
    "Error: Failed to execute 'has' on 'CacheStorage': the method is not implemented.",
    "Error: Failed to execute 'delete' on 'CacheStorage': the method is not implemented.",
    "Error: Failed to execute 'keys' on 'CacheStorage': the method is not implemented.",
  ]);
});

test("put then match: the stored response with cf-cache-status HIT, Age and Content-Length; each match a new immutable Response", async () => {
  const u = url("basic");
  const r = await evalGuest(`${HELPERS}
    const c = caches.default;
    const put = await c.put("${u}", new Response("hello", { headers: { ...cc("max-age=600"), "x-a": "1", etag: '"v1"' } }));
    const m1 = await c.match("${u}");
    const m2 = await c.match(new Request("${u}"));
    let immutable;
    try { m1.headers.set("x", "y"); } catch (e) { immutable = e.name; }
    return { put: put === undefined ? "undefined" : put, m1: await show(m1), different: m1 !== m2, immutable, m2: await m2.text(), type: [m1.type, m1.url, m1.redirected, m1.ok] };
  `);
  assert.deepEqual(r, {
    put: "undefined",
    m1: {
      status: 200,
      statusText: "OK",
      headers: { age: "0", "cache-control": "max-age=600", "cf-cache-status": "HIT", "content-length": "5", "content-type": "text/plain;charset=UTF-8", etag: '"v1"', "x-a": "1" },
      body: "hello",
    },
    different: true,
    immutable: "TypeError",
    m2: "hello",
    type: ["default", "", false, true],
  });
});

test("match: a miss, a non-GET request (unless ignoreMethod), and the fragment left out of the key", async () => {
  const u = url("misses");
  const r = await evalGuest(`${HELPERS}
    const c = caches.default;
    await c.put("${u}#one", new Response("x", { headers: cc("max-age=600") }));
    return {
      miss: await show(await c.match("${u}-nothing")),
      post: await show(await c.match(new Request("${u}", { method: "POST" }))),
      head: await show(await c.match(new Request("${u}", { method: "HEAD" }))),
      postIgnore: (await c.match(new Request("${u}", { method: "POST" }), { ignoreMethod: true })).status,
      fragment: [(await c.match("${u}#two")).status, (await c.match("${u}")).status],
      url: (await c.match(new URL("${u}"))).status,
    };
  `);
  assert.deepEqual(r, { miss: "undefined", post: "undefined", head: "undefined", postIgnore: 200, fragment: [200, 200], url: 200 });
});

test("put refuses what Workers refuses, as rejected promises with workerd's TypeErrors", async () => {
  const u = url("refused");
  const r = await evalGuest(`${HELPERS}
    const c = caches.default;
    const used = new Response("u", { headers: cc("max-age=600") }); await used.text();
    const sync = [];
    for (const f of [() => c.put(), () => c.match(), () => c.delete(), () => caches.open()]) { try { const p = f(); sync.push(p instanceof Promise); p.catch(() => {}); } catch { sync.push("threw"); } }
    return {
      sync,
      noArgs: await attempt(() => c.put()),
      notResponse: await attempt(() => c.put("${u}", "a string")),
      error: await attempt(() => c.put("${u}", Response.error())),
      post: await attempt(() => c.put(new Request("${u}", { method: "POST", body: "b" }), new Response("x"))),
      partial: await attempt(() => c.put("${u}", new Response("x", { status: 206 }))),
      vary: await attempt(() => c.put("${u}", new Response("x", { headers: { vary: "*" } }))),
      varyList: await attempt(() => c.put("${u}", new Response("x", { headers: { vary: "Accept, *" } }))),
      relative: await attempt(() => c.put("/relative", new Response("x"))),
      bodyUsed: await attempt(() => c.put("${u}", used)),
      matchNoArgs: await attempt(() => c.match()),
      deleteNoArgs: await attempt(() => c.delete()),
      stored: await show(await c.match("${u}")),
    };
  `);
  const typeError = (message: string) => ({ name: "TypeError", message });
  assert.deepEqual(r, {
    sync: [true, true, true, true],
    noArgs: typeError("Failed to execute 'put' on 'Cache': parameter 1 is not of type 'Request or string'."),
    notResponse: typeError("Failed to execute 'put' on 'Cache': parameter 2 is not of type 'Response'."),
    error: typeError("Cache is unable to store an error response"),
    post: typeError("Cannot cache response to non-GET request."),
    partial: typeError("Cannot cache response to a range request (206 Partial Content)."),
    vary: typeError("Cannot cache response with 'Vary: *' header."),
    varyList: typeError("Cannot cache response with 'Vary: *' header."),
    relative: typeError("Invalid URL: /relative"),
    bodyUsed: typeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice."),
    matchNoArgs: typeError("Failed to execute 'match' on 'Cache': parameter 1 is not of type 'Request or string'."),
    deleteNoArgs: typeError("Failed to execute 'delete' on 'Cache': parameter 1 is not of type 'Request or string'."),
    stored: "undefined",
  });
});

test("put: the body is used at once; a 304 is dropped without touching it; a later put replaces the entry", async () => {
  const u = url("used");
  const r = await evalGuest(`${HELPERS}
    const c = caches.default;
    const bytes = new Response("first", { headers: cc("max-age=600") });
    const p1 = c.put("${u}", bytes);
    const usedAtOnce = bytes.bodyUsed;
    await p1;
    const stream = new Response(new ReadableStream({ start(ctl) { ctl.enqueue(new TextEncoder().encode("sec")); ctl.enqueue(new TextEncoder().encode("ond")); ctl.close(); } }), { headers: cc("max-age=600") });
    const p2 = c.put("${u}", stream);
    const streamUsed = [stream.bodyUsed, stream.body.locked];
    await p2;
    const notModified = new Response(null, { status: 304, headers: cc("max-age=600") });
    const p3 = await c.put("${u}-304", notModified);
    return { usedAtOnce, streamUsed, second: await (await c.match("${u}")).text(), p3: p3 === undefined, nm: await show(await c.match("${u}-304")) };
  `);
  assert.deepEqual(r, { usedAtOnce: true, streamUsed: [true, true], second: "second", p3: true, nm: "undefined" });
});

test("put: Cache-Control and Expires decide what is kept and for how long (put always resolves)", async () => {
  const u = url("rules");
  const r = await evalGuest(`${HELPERS}
    const c = caches.default;
    const cases = {
      maxAge: cc("max-age=600"),
      sMaxAgeWins: cc("s-maxage=0, max-age=600"),
      sMaxAge: cc("s-maxage=600, max-age=0"),
      noStore: cc("no-store, max-age=600"),
      private: cc("private, max-age=600"),
      noCache: cc("no-cache, max-age=600"),
      maxAge0: cc("max-age=0"),
      expiresPast: { expires: "Wed, 21 Oct 2015 07:28:00 GMT" },
      expiresFuture: { expires: new Date(Date.now() + 3600e3).toUTCString() },
      maxAgeOverExpires: { ...cc("max-age=600"), expires: "Wed, 21 Oct 2015 07:28:00 GMT" },
      ageOver: { ...cc("max-age=60"), age: "90" },
      ageUnder: { ...cc("max-age=600"), age: "30" },
      cookie: { ...cc("max-age=600"), "set-cookie": "a=1" },
      cookiePublic: { ...cc("public, max-age=600"), "set-cookie": "a=1" },
      privateCookie: { ...cc("private=Set-Cookie, max-age=600"), "set-cookie": "a=1", "x-kept": "1" },
      privateQuoted: { ...cc('private="Set-Cookie", max-age=600'), "set-cookie": "a=1" },
    };
    const out = {};
    for (const [name, headers] of Object.entries(cases)) {
      const put = await c.put("${u}/" + name, new Response("x", { headers }));
      const m = await c.match("${u}/" + name);
      out[name] = [put === undefined, m === undefined ? "miss" : m.headers.get("set-cookie") === null ? "hit" : "hit with cookie", m?.headers.get("age") ?? null];
    }
    out.privateCookieHeaders = [...(await c.match("${u}/privateCookie")).headers].map(([k]) => k).filter((k) => k !== "date");
    return out;
  `);
  assert.deepEqual(r, {
    maxAge: [true, "hit", "0"],
    sMaxAgeWins: [true, "miss", null],
    sMaxAge: [true, "hit", "0"],
    noStore: [true, "miss", null],
    private: [true, "miss", null],
    noCache: [true, "miss", null],
    maxAge0: [true, "miss", null],
    expiresPast: [true, "miss", null],
    expiresFuture: [true, "hit", "0"],
    maxAgeOverExpires: [true, "hit", "0"],
    ageOver: [true, "miss", null],
    ageUnder: [true, "hit", "30"],
    cookie: [true, "miss", null],
    cookiePublic: [true, "miss", null],
    privateCookie: [true, "hit", "0"],
    privateQuoted: [true, "hit", "0"],
    privateCookieHeaders: ["age", "cache-control", "cf-cache-status", "content-length", "content-type", "x-kept"],
  });
});

test("put without Cache-Control or Expires: Cloudflare's Edge TTL by status (200, 301, 302, 404 kept; 201, 500 not)", async () => {
  const u = url("edge-ttl");
  const r = await evalGuest(`${HELPERS}
    const c = caches.default;
    const out = {};
    for (const [status, body, headers] of [[200, "ok", {}], [301, null, { location: "/x" }], [302, null, { location: "/y" }], [404, "nf", {}], [410, "gone", {}], [201, "made", {}], [500, "err", {}], [500, "err", cc("max-age=600")], [204, null, cc("max-age=600")], [202, "acc", cc("max-age=600")]]) {
      const key = "${u}/" + status + "-" + Object.keys(headers).join("");
      await c.put(key, new Response(body, { status, headers }));
      const m = await c.match(key);
      out[status + (headers["cache-control"] ? "+max-age" : "")] = m === undefined ? "miss" : [m.status, m.statusText, await m.text()];
    }
    return out;
  `);
  assert.deepEqual(r, {
    200: [200, "OK", "ok"],
    301: [301, "Moved Permanently", ""],
    302: [302, "Found", ""],
    404: [404, "Not Found", "nf"],
    410: [410, "Gone", "gone"],
    201: "miss",
    500: "miss",
    "500+max-age": "miss",
    "204+max-age": [204, "No Content", ""],
    "202+max-age": "miss",
  });
});

test("match: If-None-Match and If-Modified-Since answer 304 when the copy is current", async () => {
  const u = url("conditional");
  const r = await evalGuest(`${HELPERS}
    const c = caches.default;
    await c.put("${u}", new Response("body", { headers: { ...cc("max-age=600"), etag: '"v1"', "last-modified": "Wed, 21 Oct 2015 07:28:00 GMT" } }));
    const ask = async (headers) => { const m = await c.match(new Request("${u}", { headers })); return [m.status, await m.text(), m.headers.get("etag"), m.headers.get("cf-cache-status")]; };
    return {
      strong: await ask({ "if-none-match": '"v1"' }),
      weak: await ask({ "if-none-match": 'W/"v1"' }),
      list: await ask({ "if-none-match": '"a", "v1"' }),
      star: await ask({ "if-none-match": "*" }),
      other: await ask({ "if-none-match": '"v2"' }),
      since: await ask({ "if-modified-since": "Wed, 21 Oct 2015 07:28:00 GMT" }),
      later: await ask({ "if-modified-since": "Thu, 22 Oct 2015 07:28:00 GMT" }),
      earlier: await ask({ "if-modified-since": "Tue, 20 Oct 2015 07:28:00 GMT" }),
      etagWins: await ask({ "if-none-match": '"v2"', "if-modified-since": "Thu, 22 Oct 2015 07:28:00 GMT" }),
    };
  `);
  assert.deepEqual(r, {
    strong: [304, "", '"v1"', "HIT"],
    weak: [304, "", '"v1"', "HIT"],
    list: [304, "", '"v1"', "HIT"],
    star: [304, "", '"v1"', "HIT"],
    other: [200, "body", '"v1"', "HIT"],
    since: [304, "", '"v1"', "HIT"],
    later: [304, "", '"v1"', "HIT"],
    earlier: [200, "body", '"v1"', "HIT"],
    etagWins: [200, "body", '"v1"', "HIT"],
  });
});

test("match: a byte Range gives 206 (several: multipart/byteranges), an unsatisfiable one 416; other units are ignored", async () => {
  const u = url("range");
  const r = await evalGuest(`${HELPERS}
    const c = caches.default;
    await c.put("${u}", new Response("0123456789", { headers: { ...cc("max-age=600"), "content-type": "text/plain", etag: '"r"' } }));
    const ask = async (range, more = {}) => { const m = await c.match(new Request("${u}", { headers: { range, ...more } })); return [m.status, m.headers.get("content-range"), m.headers.get("content-length"), await m.text()]; };
    const multi = await c.match(new Request("${u}", { headers: { range: "bytes=0-1, 8-" } }));
    const type = multi.headers.get("content-type");
    const boundary = type.slice(type.indexOf("boundary=") + 9);
    const text = await multi.text();
    return {
      one: await ask("bytes=1-3"),
      open: await ask("bytes=7-"),
      suffix: await ask("bytes=-2"),
      clamped: await ask("bytes=5-100"),
      beyond: await ask("bytes=10-20"),
      backwards: await ask("bytes=5-2"),
      unit: await ask("items=1-2"),
      notModifiedFirst: await ask("bytes=1-2", { "if-none-match": '"r"' }),
      multi: [multi.status, type.startsWith("multipart/byteranges; boundary="), multi.headers.get("content-length") === String(text.length),
        text === "--" + boundary + "\\r\\nContent-Type: text/plain\\r\\nContent-Range: bytes 0-1/10\\r\\n\\r\\n01\\r\\n--" + boundary + "\\r\\nContent-Type: text/plain\\r\\nContent-Range: bytes 8-9/10\\r\\n\\r\\n89\\r\\n--" + boundary + "--"],
      beyondHeaders: [...(await c.match(new Request("${u}", { headers: { range: "bytes=10-" } }))).headers],
    };
  `);
  assert.deepEqual(r, {
    one: [206, "bytes 1-3/10", "3", "123"],
    open: [206, "bytes 7-9/10", "3", "789"],
    suffix: [206, "bytes 8-9/10", "2", "89"],
    clamped: [206, "bytes 5-9/10", "5", "56789"],
    beyond: [416, "bytes */10", null, ""],
    backwards: [416, "bytes */10", null, ""],
    unit: [200, null, "10", "0123456789"],
    notModifiedFirst: [304, null, null, ""],
    multi: [206, true, true, true],
    beyondHeaders: [["cf-cache-status", "HIT"], ["content-range", "bytes */10"]],
  });
});

test("delete: true when an entry went, false otherwise; non-GET only with ignoreMethod", async () => {
  const u = url("delete");
  const r = await evalGuest(`${HELPERS}
    const c = caches.default;
    await c.put("${u}", new Response("x", { headers: cc("max-age=600") }));
    await c.put("${u}-b", new Response("x", { headers: cc("max-age=600") }));
    return {
      post: await c.delete(new Request("${u}", { method: "POST" })),
      first: await c.delete("${u}"),
      again: await c.delete("${u}"),
      gone: await show(await c.match("${u}")),
      postIgnore: await c.delete(new Request("${u}-b", { method: "POST" }), { ignoreMethod: true }),
      never: await c.delete("${u}-never"),
    };
  `);
  assert.deepEqual(r, { post: false, first: true, again: false, gone: "undefined", postIgnore: true, never: false });
});

test("caches.open: a cache of its own per name, separate from caches.default; name checks", async () => {
  const u = url("named");
  const r = await evalGuest(`${HELPERS}
    const a = await caches.open("alpha");
    const a2 = await caches.open("alpha");
    const b = await caches.open("beta");
    const fake = await caches.open("default");
    await a.put("${u}", new Response("in alpha", { headers: cc("max-age=600") }));
    await caches.default.put("${u}", new Response("in default", { headers: cc("max-age=600") }));
    return {
      objects: [a === a2, a === caches.default, Object.prototype.toString.call(a)],
      alpha: await (await a2.match("${u}")).text(),
      default: await (await caches.default.match("${u}")).text(),
      beta: await show(await b.match("${u}")),
      namedDefault: await show(await fake.match("${u}")),
      deleteInBeta: await b.delete("${u}"),
      stillInAlpha: (await a.match("${u}")).status,
      odd: (await caches.open(42)) instanceof Cache && (await caches.open("")) instanceof Cache && (await caches.open("a/b?c#d")) instanceof Cache,
      noName: await attempt(() => caches.open()),
      tooLong: await attempt(() => caches.open("x".repeat(1024))),
      longest: await attempt(async () => { await caches.open("x".repeat(1023)); return "ok"; }),
      tooLongUtf8: await attempt(() => caches.open("é".repeat(512))),
    };
  `);
  assert.deepEqual(r, {
    objects: [false, false, "[object Cache]"],
    alpha: "in alpha",
    default: "in default",
    beta: "undefined",
    namedDefault: "undefined",
    deleteInBeta: false,
    stillInAlpha: 200,
    odd: true,
    noName: { name: "TypeError", message: "Failed to execute 'open' on 'CacheStorage': parameter 1 is not of type 'string'." },
    tooLong: { name: "TypeError", message: "Cache name is too long." },
    longest: { ok: "ok" },
    tooLongUtf8: { name: "TypeError", message: "Cache name is too long." },
  });
});

test("Vary: a variant answers only requests with the values it was stored for; delete removes every variant", async () => {
  const u = url("vary");
  const r = await evalGuest(`${HELPERS}
    const c = caches.default;
    const put = (accept, body) => c.put(new Request("${u}", { headers: { accept } }), new Response(body, { headers: { ...cc("max-age=600"), vary: "Accept" } }));
    await put("text/html", "html");
    await put("application/json", "json");
    const get = async (accept) => { const m = await c.match(new Request("${u}", { headers: accept ? { accept } : {} })); return m === undefined ? "miss" : await m.text(); };
    const before = [await get("text/html"), await get("application/json"), await get("text/plain"), await get(null)];
    const deleted = await c.delete("${u}");
    return { before, deleted, after: [await get("text/html"), await get("application/json")] };
  `);
  assert.deepEqual(r, { before: ["html", "json", "miss", "miss"], deleted: true, after: ["miss", "miss"] });
});

test("put: a body stream the function fails is not stored and the put rejects with its error", async () => {
  const u = url("stream-error");
  const r = await evalGuest(`${HELPERS}
    const c = caches.default;
    const body = new ReadableStream({ start(ctl) { ctl.enqueue(new TextEncoder().encode("part")); }, pull(ctl) { ctl.error(new Error("boom")); } });
    const put = await attempt(() => c.put("${u}", new Response(body, { headers: cc("max-age=600") })));
    return { failed: put.name !== undefined && put.message.includes("boom"), stored: await show(await c.match("${u}")) };
  `);
  assert.deepEqual(r, { failed: true, stored: "undefined" });
});

test("put of a clone: the original stays readable, the cache gets the same bytes", async () => {
  const u = url("wait");
  const r = await evalGuest(`${HELPERS}
    const c = caches.default;
    const original = new Response("payload", { headers: { ...cc("max-age=600"), "content-type": "application/json" } });
    await c.put("${u}", original.clone());
    return [await original.text(), await (await c.match("${u}")).text()];
  `);
  assert.deepEqual(r, ["payload", "payload"]);
});

test("put of a fetched response (its body streamed from the host through the guest and back), and of its clone", async () => {
  const u = url("fetched");
  const r = await evalGuest(`${HELPERS}
    const c = caches.default;
    const res = await fetch("${base}/stream");
    await c.put("${u}", res);
    const again = await fetch("${base}/page");
    await c.put("${u}-clone", again.clone());
    const m = await c.match("${u}");
    return {
      used: res.bodyUsed,
      stored: [m.status, await m.text(), m.headers.get("content-length"), m.headers.get("cf-cache-status"), m.headers.get("content-type")],
      original: await again.text(),
      clone: await (await c.match("${u}-clone")).text(),
    };
  `);
  assert.deepEqual(r, { used: true, stored: [200, "one;two;three", "13", "HIT", "text/plain"], original: "fetched /page", clone: "fetched /page" });
});
