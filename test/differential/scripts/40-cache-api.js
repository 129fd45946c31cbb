// Exercises: the Workers Cache API (caches.default, caches.open): put and match
// with the headers a hit carries, the method rules and ignoreMethod, argument
// errors and unimplemented methods, Cache-Control / Expires / Set-Cookie rules,
// conditionals, byte ranges, delete, named caches, streamed bodies. Where verge
// follows Cloudflare's documented rules and Miniflare's local cache does not
// (a lifetime from the Edge TTL table, Vary, quoted private=, conditionals on a
// 404, non-byte Range units), the request is its own and the difference is an
// intentional entry in DIVERGENCES.md.
export const requests = [
  { name: "put and match", path: "/basic" },
  { name: "errors", path: "/errors" },
  { name: "cache-control", path: "/cache-control" },
  { name: "edge ttl", path: "/edge-ttl" },
  { name: "private qualified", path: "/private" },
  { name: "conditionals", path: "/conditionals" },
  { name: "conditional on a 404", path: "/conditional-404" },
  { name: "ranges", path: "/ranges" },
  { name: "range unit", path: "/range-unit" },
  { name: "delete", path: "/delete" },
  { name: "named caches", path: "/named" },
  { name: "vary", path: "/vary" },
  { name: "streams", path: "/streams" },
];

const BASE = "http://cache.test";
const cc = (v) => ({ "cache-control": v });

async function attempt(f) {
  try {
    const v = await f();
    return { ok: v === undefined ? "undefined" : v };
  } catch (e) {
    return { name: e.name, message: e.message };
  }
}

/** A response as JSON; `date` is Miniflare's cache service's own header (not the Worker's). */
async function show(r) {
  if (r === undefined) return "undefined";
  const headers = Object.fromEntries([...r.headers].filter(([k]) => k !== "date"));
  return { status: r.status, statusText: r.statusText, headers, body: await r.text() };
}

const hitOrMiss = async (cache, url) => ((await cache.match(url)) === undefined ? "miss" : "hit");

async function basic(c) {
  const put = await c.put(`${BASE}/a`, new Response("hello", { headers: { ...cc("max-age=600"), "x-a": "1", etag: '"v1"' } }));
  const m1 = await c.match(`${BASE}/a`);
  const m2 = await c.match(new Request(`${BASE}/a`));
  let immutable;
  try {
    m1.headers.set("x", "y");
  } catch (e) {
    immutable = e.name;
  }
  await c.put(`${BASE}/frag#one`, new Response("f", { headers: cc("max-age=600") }));
  return {
    put: put === undefined,
    hit: await show(m1),
    again: [m1 !== m2, await m2.text(), m1.url, m1.type, m1.redirected],
    immutable,
    miss: await show(await c.match(`${BASE}/none`)),
    post: await show(await c.match(new Request(`${BASE}/a`, { method: "POST" }))),
    head: await show(await c.match(new Request(`${BASE}/a`, { method: "HEAD" }))),
    postIgnore: (await c.match(new Request(`${BASE}/a`, { method: "POST" }), { ignoreMethod: true })).status,
    fragment: [await hitOrMiss(c, `${BASE}/frag#two`), await hitOrMiss(c, `${BASE}/frag`)],
    urlObject: await hitOrMiss(c, new URL(`${BASE}/a`)),
    query: await (async () => {
      await c.put(`${BASE}/q?a=1&b=2`, new Response("q", { headers: cc("max-age=600") }));
      return [await hitOrMiss(c, `${BASE}/q?a=1&b=2`), await hitOrMiss(c, `${BASE}/q?b=2&a=1`), await hitOrMiss(c, "https://cache.test/q?a=1&b=2")];
    })(),
  };
}

async function errors(c) {
  const used = new Response("u", { headers: cc("max-age=600") });
  await used.text();
  const sync = (f) => {
    try {
      const v = f();
      if (v instanceof Promise) v.catch(() => {});
      return v instanceof Promise ? "promise" : typeof v;
    } catch (e) {
      return `${e.name}: ${e.message}`;
    }
  };
  return {
    noArgs: await attempt(() => c.put()),
    notResponse: await attempt(() => c.put(`${BASE}/e`, "a string")),
    error: await attempt(() => c.put(`${BASE}/e`, Response.error())),
    post: await attempt(() => c.put(new Request(`${BASE}/e`, { method: "POST", body: "b" }), new Response("x"))),
    partial: await attempt(() => c.put(`${BASE}/e`, new Response("x", { status: 206 }))),
    vary: await attempt(() => c.put(`${BASE}/e`, new Response("x", { headers: { vary: "*" } }))),
    varyList: await attempt(() => c.put(`${BASE}/e`, new Response("x", { headers: { vary: "Accept, *" } }))),
    relative: await attempt(() => c.put("/relative", new Response("x"))),
    bodyUsed: await attempt(() => c.put(`${BASE}/e`, used)),
    matchNoArgs: await attempt(() => c.match()),
    deleteNoArgs: await attempt(() => c.delete()),
    openNoArgs: await attempt(() => caches.open()),
    openLong: await attempt(() => caches.open("x".repeat(1024))),
    openLongest: await attempt(async () => Object.prototype.toString.call(await caches.open("x".repeat(1023)))),
    unimplemented: [sync(() => c.add(`${BASE}/`)), sync(() => c.addAll([])), sync(() => c.matchAll()), sync(() => c.keys()), sync(() => caches.match(`${BASE}/`)), sync(() => caches.has("x")), sync(() => caches.delete("x")), sync(() => caches.keys())],
    newCache: sync(() => new Cache()),
    tags: [Object.prototype.toString.call(caches), Object.prototype.toString.call(c), c === caches.default],
    stored: await hitOrMiss(c, `${BASE}/e`),
  };
}

async function cacheControl(c) {
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
    hopByHop: { ...cc("max-age=600"), "keep-alive": "timeout=5", "x-kept": "1" },
  };
  const out = {};
  for (const [name, headers] of Object.entries(cases)) {
    const put = await c.put(`${BASE}/cc/${name}`, new Response("x", { headers }));
    const m = await c.match(`${BASE}/cc/${name}`);
    out[name] = [put === undefined, m === undefined ? "miss" : Object.keys(Object.fromEntries(m.headers)).filter((k) => k !== "date").join(","), m?.headers.get("age") ?? null];
  }
  const statuses = {};
  for (const [status, body, headers] of [[301, null, { ...cc("max-age=600"), location: "/x" }], [302, null, { ...cc("max-age=600"), location: "/y" }], [404, "nf", cc("max-age=600")], [410, "gone", cc("max-age=600")], [201, "made", cc("max-age=600")], [500, "err", cc("max-age=600")]]) {
    await c.put(`${BASE}/status/${status}`, new Response(body, { status, headers }));
    const m = await c.match(`${BASE}/status/${status}`);
    statuses[status] = m === undefined ? "miss" : [m.status, m.statusText, await m.text()];
  }
  await c.put(`${BASE}/cc/304`, new Response(null, { status: 304, headers: cc("max-age=600") }));
  out.notModified = await hitOrMiss(c, `${BASE}/cc/304`);
  return { out, statuses };
}

async function edgeTtl(c) {
  const out = {};
  for (const [status, body, headers] of [[200, "ok", {}], [404, "nf", {}], [201, "made", {}]]) {
    await c.put(`${BASE}/ttl/${status}`, new Response(body, { status, headers }));
    out[status] = await hitOrMiss(c, `${BASE}/ttl/${status}`);
  }
  return out;
}

async function privateQualified(c) {
  await c.put(`${BASE}/priv/plain`, new Response("x", { headers: { ...cc("private=Set-Cookie, max-age=600"), "set-cookie": "a=1", "x-kept": "1" } }));
  await c.put(`${BASE}/priv/quoted`, new Response("x", { headers: { ...cc('private="Set-Cookie", max-age=600'), "set-cookie": "a=1" } }));
  const plain = await c.match(`${BASE}/priv/plain`);
  return {
    plain: plain === undefined ? "miss" : [plain.headers.get("set-cookie"), plain.headers.get("x-kept"), plain.headers.get("cache-control")],
    quoted: await hitOrMiss(c, `${BASE}/priv/quoted`),
  };
}

async function conditionals(c) {
  await c.put(`${BASE}/cond`, new Response("body", { headers: { ...cc("max-age=600"), etag: '"v1"', "last-modified": "Wed, 21 Oct 2015 07:28:00 GMT" } }));
  const ask = async (headers) => {
    const m = await c.match(new Request(`${BASE}/cond`, { headers }));
    return [m.status, await m.text(), m.headers.get("etag"), m.headers.get("cf-cache-status")];
  };
  return {
    strong: await ask({ "if-none-match": '"v1"' }),
    weak: await ask({ "if-none-match": 'W/"v1"' }),
    list: await ask({ "if-none-match": '"a", "v1"' }),
    star: await ask({ "if-none-match": "*" }),
    other: await ask({ "if-none-match": '"v2"' }),
    since: await ask({ "if-modified-since": "Wed, 21 Oct 2015 07:28:00 GMT" }),
    later: await ask({ "if-modified-since": "Thu, 22 Oct 2015 07:28:00 GMT" }),
    earlier: await ask({ "if-modified-since": "Tue, 20 Oct 2015 07:28:00 GMT" }),
  };
}

async function conditional404(c) {
  await c.put(`${BASE}/cond404`, new Response("nf", { status: 404, headers: { ...cc("max-age=600"), "last-modified": "Wed, 21 Oct 2015 07:28:00 GMT" } }));
  const m = await c.match(new Request(`${BASE}/cond404`, { headers: { "if-modified-since": "Wed, 21 Oct 2015 07:28:00 GMT" } }));
  return [m.status, await m.text()];
}

async function ranges(c) {
  await c.put(`${BASE}/range`, new Response("0123456789", { headers: { ...cc("max-age=600"), "content-type": "text/plain", etag: '"r"' } }));
  const ask = async (range, more = {}) => {
    const m = await c.match(new Request(`${BASE}/range`, { headers: { range, ...more } }));
    return [m.status, m.headers.get("content-range"), m.headers.get("content-length"), await m.text()];
  };
  const multi = await c.match(new Request(`${BASE}/range`, { headers: { range: "bytes=0-1, 8-" } }));
  const type = multi.headers.get("content-type");
  const boundary = type.slice(type.indexOf("boundary=") + 9);
  const text = (await multi.text()).split(boundary).join("BOUNDARY");
  return {
    one: await ask("bytes=1-3"),
    open: await ask("bytes=7-"),
    suffix: await ask("bytes=-2"),
    clamped: await ask("bytes=5-100"),
    beyond: await ask("bytes=10-20"),
    backwards: await ask("bytes=5-2"),
    notModifiedFirst: (await ask("bytes=1-2", { "if-none-match": '"r"' }))[0],
    multi: [multi.status, type.split(";")[0], text],
    beyondHeaders: [...(await c.match(new Request(`${BASE}/range`, { headers: { range: "bytes=10-" } }))).headers],
  };
}

async function rangeUnit(c) {
  await c.put(`${BASE}/range-unit`, new Response("0123456789", { headers: cc("max-age=600") }));
  const m = await c.match(new Request(`${BASE}/range-unit`, { headers: { range: "items=1-2" } }));
  return [m.status, await m.text()];
}

async function remove(c) {
  await c.put(`${BASE}/del`, new Response("x", { headers: cc("max-age=600") }));
  await c.put(`${BASE}/del-b`, new Response("x", { headers: cc("max-age=600") }));
  return {
    post: await c.delete(new Request(`${BASE}/del`, { method: "POST" })),
    first: await c.delete(`${BASE}/del`),
    again: await c.delete(`${BASE}/del`),
    gone: await hitOrMiss(c, `${BASE}/del`),
    postIgnore: await c.delete(new Request(`${BASE}/del-b`, { method: "POST" }), { ignoreMethod: true }),
    never: await c.delete(`${BASE}/never`),
  };
}

async function named(c) {
  const a = await caches.open("alpha");
  const a2 = await caches.open("alpha");
  const b = await caches.open("beta");
  const fake = await caches.open("default");
  await a.put(`${BASE}/named`, new Response("in alpha", { headers: cc("max-age=600") }));
  await c.put(`${BASE}/named`, new Response("in default", { headers: cc("max-age=600") }));
  return {
    objects: [a === a2, a === c, Object.prototype.toString.call(a)],
    alpha: await (await a2.match(`${BASE}/named`)).text(),
    default: await (await c.match(`${BASE}/named`)).text(),
    beta: await hitOrMiss(b, `${BASE}/named`),
    namedDefault: await hitOrMiss(fake, `${BASE}/named`),
    deleteInBeta: await b.delete(`${BASE}/named`),
    stillInAlpha: await hitOrMiss(a, `${BASE}/named`),
  };
}

async function vary(c) {
  await c.put(new Request(`${BASE}/vary`, { headers: { accept: "text/html" } }), new Response("html", { headers: { ...cc("max-age=600"), vary: "Accept" } }));
  const get = async (accept) => {
    const m = await c.match(new Request(`${BASE}/vary`, { headers: { accept } }));
    return m === undefined ? "miss" : await m.text();
  };
  return [await get("text/html"), await get("application/json")];
}

async function streams(c) {
  const enc = new TextEncoder();
  const stream = new Response(new ReadableStream({ start(ctl) { ctl.enqueue(enc.encode("ab")); ctl.enqueue(enc.encode("cd")); ctl.close(); } }), { headers: cc("max-age=600") });
  const p = c.put(`${BASE}/stream`, stream);
  const usedAtOnce = [stream.bodyUsed, stream.body.locked];
  await p;
  const bytes = new Response("bytes", { headers: cc("max-age=600") });
  const p2 = c.put(`${BASE}/bytes`, bytes);
  const bytesUsed = bytes.bodyUsed;
  await p2;
  const original = new Response("payload", { headers: cc("max-age=600") });
  await c.put(`${BASE}/clone`, original.clone());
  const m = await c.match(`${BASE}/stream`);
  return { usedAtOnce, bytesUsed, stream: [await m.text(), m.headers.get("cf-cache-status")], clone: [await original.text(), await (await c.match(`${BASE}/clone`)).text()] };
}

const routes = {
  "/basic": basic,
  "/errors": errors,
  "/cache-control": cacheControl,
  "/edge-ttl": edgeTtl,
  "/private": privateQualified,
  "/conditionals": conditionals,
  "/conditional-404": conditional404,
  "/ranges": ranges,
  "/range-unit": rangeUnit,
  "/delete": remove,
  "/named": named,
  "/vary": vary,
  "/streams": streams,
};

export default {
  async fetch(request) {
    const route = routes[new URL(request.url).pathname];
    if (route === undefined) return new Response("no such route", { status: 404 });
    return Response.json(await route(caches.default));
  },
};
