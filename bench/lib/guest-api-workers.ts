/**
 * The Workers of bench/guest-apis.ts, as source text: the same module runs in
 * verge (bundled by src/build with nodejs_compat, which brings verge's own
 * node:async_hooks and node:crypto and lowers `await` where async_hooks is
 * imported) and in `workerd serve` (the source as it is, workerd's native
 * node:* modules). Each handles `GET /?n=<ops>&mode=<name>`: it runs `n`
 * operations of its kind and answers a short text that proves the work ran
 * (a sum, a count, a digest), so a run that skipped it fails the check. `n=0`
 * is the same request doing none: the per-operation cost is
 * (cost(n) − cost(0)) ÷ n, dispatch and the response taken out.
 */

/** N awaits inside `als.run()`; the store is read back after the last one. */
export const ALS_WORKER = `import { AsyncLocalStorage } from "node:async_hooks";
const als = new AsyncLocalStorage();
async function awaits(n) {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await Promise.resolve(i);
  return sum;
}
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? "0");
    const id = url.searchParams.get("id") ?? "-";
    return als.run({ id }, async () => {
      const sum = await awaits(n);
      const store = als.getStore();
      return new Response(\`\${sum} \${store === undefined ? "lost" : store.id}\`);
    });
  },
};
`;

/** The same loop without node:async_hooks: native async functions, in verge too. */
export const PLAIN_AWAIT_WORKER = `async function awaits(n) {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await Promise.resolve(i);
  return sum;
}
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? "0");
    const id = url.searchParams.get("id") ?? "-";
    const sum = await awaits(n);
    return new Response(\`\${sum} \${id}\`);
  },
};
`;

/** What the await Workers answer for `n` awaits and request id `id`. */
export function awaitsAnswer(n: number, id: string): string {
  return `${(n * (n - 1)) / 2} ${id}`;
}

/** Links and scripts of the generated page (≈ 50 KiB). */
export const PAGE_LINKS = 192;
export const PAGE_SCRIPTS = 12;

/**
 * A ~50 KiB HTML page built at the Worker's top level (deterministic): a head
 * with a title, PAGE_SCRIPTS scripts spread through the body, PAGE_LINKS
 * `a[href]` in paragraphs of text.
 *
 * Modes: `plain` reads the page's Response without a rewriter (the baseline);
 * `parse` runs it through an HTMLRewriter whose one selector matches nothing
 * (the parse and serialize, no handler call); `rewrite` has three handlers:
 * every `a[href]` gets its href rewritten, every `script` removed, `head`
 * appended to. The answer is the pages' total length and, for rewrite, the
 * handler calls counted.
 */
export const HTML_WORKER = `const LINKS = ${PAGE_LINKS};
const SCRIPTS = ${PAGE_SCRIPTS};
const WORDS = ["edge", "runtime", "isolate", "request", "cache", "origin", "region", "bundle", "deploy", "worker", "stream", "header"];
function page() {
  const parts = ["<!doctype html><html><head><meta charset=utf-8><title>verge bench page</title><link rel=stylesheet href=/s.css></head><body><main>"];
  let w = 0;
  for (let i = 0; i < LINKS; i++) {
    let text = "";
    for (let j = 0; j < 22; j++) text += WORDS[(w++ * 7) % WORDS.length] + " ";
    parts.push(\`<p class="p\${i % 5}">\${text}<a href="http://example.com/docs/\${i}/page.html" title="doc \${i}">link \${i}</a> and more.</p>\`);
    if (i % (LINKS / SCRIPTS) === 0) parts.push(\`<script>window.__n = (window.__n || 0) + \${i};</script>\`);
  }
  parts.push("</main></body></html>");
  return parts.join("\\n");
}
const PAGE = page();
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? "0");
    const mode = url.searchParams.get("mode") ?? "plain";
    let bytes = 0;
    let calls = 0;
    for (let i = 0; i < n; i++) {
      let res = new Response(PAGE, { headers: { "content-type": "text/html" } });
      if (mode === "parse") {
        res = new HTMLRewriter().on("blink", { element() { calls++; } }).transform(res);
      } else if (mode === "rewrite") {
        res = new HTMLRewriter()
          .on("a[href]", { element(a) { calls++; a.setAttribute("href", a.getAttribute("href").replace("http://example.com", "https://cdn.example.net")); } })
          .on("script", { element(s) { calls++; s.remove(); } })
          .on("head", { element(h) { calls++; h.append('<meta name="rewritten" content="1">', { html: true }); } })
          .transform(res);
      } else if (mode !== "plain") {
        return new Response("unknown mode", { status: 400 });
      }
      bytes += (await res.text()).length;
    }
    return new Response(\`\${bytes} \${calls} \${PAGE.length}\`);
  },
};
`;

/** Handler calls per page in `rewrite` mode: every link, every script, the head. */
export const CALLS_PER_PAGE = PAGE_LINKS + PAGE_SCRIPTS + 1;

/** Bytes hashed per operation. */
export const HASH_BYTES = 1024 * 1024;

/** The bytes the hash Worker makes at its top level (the same xorshift), to check its digests against. */
export function hashData(): Uint8Array {
  const data = new Uint8Array(HASH_BYTES);
  for (let i = 0, x = 2463534242; i < data.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 255;
  }
  return data;
}

/**
 * SHA-256 of the same 1 MiB (deterministic bytes made at the top level):
 * `mode=node` by node:crypto's createHash, `mode=subtle` by crypto.subtle.digest.
 * The answer is the number of digests and the first one's hex.
 */
export const HASH_WORKER = `import { createHash } from "node:crypto";
const DATA = new Uint8Array(${HASH_BYTES});
for (let i = 0, x = 2463534242; i < DATA.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; DATA[i] = x & 255; }
const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? "0");
    const mode = url.searchParams.get("mode") ?? "node";
    let first = "-";
    for (let i = 0; i < n; i++) {
      let digest;
      if (mode === "node") digest = createHash("sha256").update(DATA).digest("hex");
      else if (mode === "subtle") digest = hex(await crypto.subtle.digest("SHA-256", DATA));
      else return new Response("unknown mode", { status: 400 });
      if (i === 0) first = digest;
    }
    return new Response(\`\${n} \${first}\`);
  },
};
`;
