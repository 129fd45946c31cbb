/**
 * Deterministic test Workers for the benchmarks.
 *
 * `routerBundle(bytes, salt)` is a ~`bytes`-byte ES module Worker shaped like a
 * real bundled app: a small path router (a Hono-like trie of string segments),
 * many routes each with its own handler closure, a table of message strings and
 * a few helpers. Every route's handler is a distinct function, so V8 has real
 * code to parse and lazily compile; the first request goes through the router
 * (not a shortcut), as a real app's would. The same `salt` gives the same bytes;
 * a different salt gives a different module of the same size (a new version:
 * no compile cache can be shared between salts).
 */

/** A tiny deterministic PRNG (mulberry32), so bundles are byte-identical across runs. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  "users", "orders", "items", "cart", "checkout", "search", "profile", "settings", "billing", "invoices",
  "products", "catalog", "reviews", "ratings", "images", "assets", "static", "auth", "login", "logout",
  "session", "tokens", "health", "status", "metrics", "admin", "reports", "export", "import", "webhooks",
];

function hashSalt(salt: string): number {
  let h = 2166136261;
  for (let i = 0; i < salt.length; i++) h = Math.imul(h ^ salt.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The path the benchmarks request from a router bundle (a parameterized route near the end). */
export const ROUTER_PROBE_PATH = "/api/items/42";

/** A module Worker of exactly `bytes` bytes. */
export function routerBundle(bytes = 50 * 1024, salt = "v1"): string {
  const rand = rng(hashSalt(salt));
  const pick = () => WORDS[Math.floor(rand() * WORDS.length)]!;
  const head = `// verge bench: generated router Worker (salt ${JSON.stringify(salt)}); deterministic, do not edit
const VERSION = ${JSON.stringify(salt)};
class Router {
  constructor() { this.root = { children: new Map(), param: null, handler: null }; }
  add(method, path, handler) {
    let node = this.root;
    for (const seg of path.split("/").filter(Boolean)) {
      if (seg.startsWith(":")) { node.param ??= { name: seg.slice(1), node: { children: new Map(), param: null, handler: null } }; node = node.param.node; }
      else { let next = node.children.get(seg); if (!next) node.children.set(seg, (next = { children: new Map(), param: null, handler: null })); node = next; }
    }
    (node.handler ??= {})[method] = handler;
  }
  match(method, path) {
    let node = this.root; const params = {};
    for (const seg of path.split("/").filter(Boolean)) {
      const next = node.children.get(seg);
      if (next) node = next;
      else if (node.param) { params[node.param.name] = decodeURIComponent(seg); node = node.param.node; }
      else return null;
    }
    const h = node.handler && (node.handler[method] || node.handler.ALL);
    return h ? { h, params } : null;
  }
}
const json = (data, status = 200) => new Response(JSON.stringify(data), { status, headers: { "content-type": "application/json; charset=utf-8" } });
const text = (body, status = 200) => new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
const router = new Router();
const MESSAGES = {};
`;
  const tail = `
router.add("GET", "/", () => text("hello from route /, version " + VERSION));
router.add("GET", "/api/items/:id", (req, p) => json({ id: p.id, version: VERSION, ua: req.headers.get("user-agent") }));
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const m = router.match(request.method, url.pathname);
    if (m === null) return json({ error: "not found", path: url.pathname }, 404);
    return m.h(request, m.params, env, ctx);
  },
};
`;
  const parts: string[] = [head];
  let size = head.length + tail.length;
  for (let i = 0; size < bytes - 200; i++) {
    const a = pick();
    const b = pick();
    const c = pick();
    const key = `${a}_${b}_${i}`;
    const msg = `${a} ${b} ${c}: ${Array.from({ length: 4 + Math.floor(rand() * 6) }, pick).join(" ")} #${i}`;
    const route =
      `MESSAGES[${JSON.stringify(key)}] = ${JSON.stringify(msg)};\n` +
      `router.add(${JSON.stringify(i % 3 === 0 ? "POST" : "GET")}, "/${a}/${b}/${i}/:id", (req, p) => {\n` +
      `  const id = p.id; if (id.length > ${8 + (i % 50)}) return json({ error: "id too long", limit: ${8 + (i % 50)} }, 400);\n` +
      `  return json({ route: ${i}, id, message: MESSAGES[${JSON.stringify(key)}], tags: [${JSON.stringify(a)}, ${JSON.stringify(b)}, ${JSON.stringify(c)}] });\n` +
      `});\n`;
    if (size + route.length > bytes) break;
    parts.push(route);
    size += route.length;
  }
  parts.push(tail);
  let out = parts.join("");
  // Pad with a comment to the exact size, so the size does not depend on the salt.
  if (out.length < bytes) out += "/*" + "x".repeat(Math.max(0, bytes - out.length - 5)) + "*/\n";
  return out;
}

/** The smallest useful Worker: what "hello world" means in every benchmark. */
export function helloBundle(salt = "v1"): string {
  return `// ${salt}\nexport default { fetch() { return new Response("hello world"); } };\n`;
}

/** The same hello handler as a plain Node function: the native baseline. */
export const helloNative = { fetch: (_request: Request) => new Response("hello world") };
