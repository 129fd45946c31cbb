// Exercises: Workers KV (kvNamespaces: ["KV"]): put of each value type with
// metadata and expirations, get in each type, getWithMetadata, bulk get, list
// with prefix / limit / cursor, delete, and the limit errors. Expirations are
// reported relative to the time of the request, so both runtimes agree.
export const kvNamespaces = ["KV"];
export const requests = [
  { name: "write", path: "/write" },
  { name: "read", path: "/read" },
  { name: "list", path: "/list" },
  { name: "delete", path: "/delete" },
  { name: "errors", path: "/errors" },
];

async function attempt(f) {
  try {
    const v = await f();
    return { ok: v === undefined ? "undefined" : v };
  } catch (e) {
    return { name: e.name, message: e.message };
  }
}

export default {
  async fetch(request, env) {
    const kv = env.KV;
    const now = Math.floor(Date.now() / 1000);
    switch (new URL(request.url).pathname) {
      case "/write":
        return Response.json([
          await attempt(() => kv.put("text", "hello")),
          await attempt(() => kv.put("json", JSON.stringify({ a: [1, 2] }), { metadata: { kind: "json" } })),
          await attempt(() => kv.put("bytes", new Uint8Array([0, 1, 255]))),
          await attempt(() => kv.put("buffer", new Uint8Array([104, 105]).buffer)),
          await attempt(() => kv.put("stream", new Response("from a stream").body)),
          await attempt(() => kv.put("ttl", "x", { expirationTtl: 300 })),
          await attempt(() => kv.put("abs", "x", { expiration: now + 600, metadata: [1, "two"] })),
          await attempt(() => kv.put("list/a", "1")),
          await attempt(() => kv.put("list/b", "2", { metadata: { b: true } })),
          await attempt(() => kv.put("list/c", "3")),
          await attempt(() => kv.put("number", 42)),
        ]);
      case "/read": {
        const gwm = await kv.getWithMetadata("json", "json");
        return Response.json({
          text: await kv.get("text"),
          json: await kv.get("json", "json"),
          jsonObj: await kv.get("json", { type: "json", cacheTtl: 60 }),
          bytes: [...new Uint8Array(await kv.get("bytes", "arrayBuffer"))],
          buffer: await kv.get("buffer"),
          stream: await new Response(await kv.get("stream", "stream")).text(),
          number: await kv.get("number"),
          missing: await kv.get("missing"),
          gwm,
          gwmPlain: await kv.getWithMetadata("text"),
          gwmMissing: await kv.getWithMetadata("missing"),
          bulk: Object.fromEntries(await kv.get(["text", "json", "missing"])),
          bulkJson: Object.fromEntries(await kv.get(["json"], "json")),
          bulkMeta: Object.fromEntries(await kv.getWithMetadata(["json", "text", "missing"])),
          badJson: await attempt(() => kv.get("text", "json")).then((r) => r.name),
        });
      }
      case "/list": {
        // Seconds left, to the nearest 10: a second boundary may pass between /write and /list.
        const rel = (r) => ({ ...r, keys: r.keys.map((k) => (k.expiration === undefined ? k : { ...k, expiration: Math.round((k.expiration - now) / 10) * 10 })) });
        const page1 = await kv.list({ prefix: "list/", limit: 2 });
        const page2 = await kv.list({ prefix: "list/", limit: 2, cursor: page1.cursor });
        return Response.json({ all: rel(await kv.list()), page1: rel(page1), page2: rel(page2), none: await kv.list({ prefix: "nothing/" }) });
      }
      case "/delete":
        return Response.json([await attempt(() => kv.delete("text")), await attempt(() => kv.delete("never")), await kv.get("text"), (await kv.list({ prefix: "te" })).keys]);
      case "/errors":
        return Response.json({
          empty: await attempt(() => kv.put("", "x")),
          dot: await attempt(() => kv.get(".")),
          dotdot: await attempt(() => kv.delete("..")),
          longKey: await attempt(() => kv.put("k".repeat(513), "x")),
          longGet: await attempt(() => kv.get("k".repeat(513))),
          bigValue: await attempt(() => kv.put("big", new Uint8Array(25 * 1024 * 1024 + 1))),
          bigMeta: await attempt(() => kv.put("meta", "x", { metadata: "m".repeat(1100) })),
          ttlLow: await attempt(() => kv.put("ttl", "x", { expirationTtl: 30 })),
          ttlZero: await attempt(() => kv.put("ttl", "x", { expirationTtl: 0 })),
          expPast: await attempt(() => kv.put("exp", "x", { expiration: 1000 })),
          cacheTtl: await attempt(() => kv.get("json", { cacheTtl: 5 })),
          badType: await attempt(() => kv.get("json", "blob")),
          badValue: await attempt(() => kv.put("obj", { a: 1 })),
          listLimit: await attempt(() => kv.list({ limit: 1001 })),
          bulkType: await attempt(() => kv.get(["json"], "arrayBuffer")),
          bulkMany: await attempt(() => kv.get(Array.from({ length: 101 }, (_, i) => `k${i}`))),
        });
    }
    return new Response("not found", { status: 404 });
  },
};
