/**
 * Differential suite: every Worker in scripts/*.js runs in Miniflare 4 (workerd)
 * and in verge's harness; the same requests go to both and status, a normalized
 * header set and the body bytes must match.
 *
 * Each script is an ES-module Worker that also exports `requests` (what to send)
 * and optionally `bindings` (env vars). Node imports the script only to read those
 * two exports; the handler runs in the two runtimes alone.
 *
 * Differences are never dropped silently:
 * - `intentional`: verge differs on purpose (DIVERGENCES.md); both behaviours are asserted.
 * - `knownDivergences`: verge differs and it is not settled yet (a verge bug, or verge
 *   following the spec where workerd does not); the test asserts it still differs in
 *   exactly the recorded way, so a fix shows up as a failure to update.
 *
 * Run: npm run build:prelude && node --no-node-snapshot --test test/differential/differential.test.ts
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { Miniflare } from "miniflare";
import { Verge } from "../../src/index.ts";
import type { VergeOptions } from "../../src/index.ts";
import { bundle, wantsNodeCompat } from "../../src/build/bundle.ts";
import { assertSameTranscript, runSocket, type SocketScenario } from "./sockets.ts";

interface ScriptRequest {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** The response must arrive within this many ms (waitUntil must not delay it). */
  maxMs?: number;
}

interface ScriptModule {
  requests: ScriptRequest[];
  bindings?: Record<string, unknown>;
  /** Workers KV namespaces (binding names), in memory in both runtimes. */
  kvNamespaces?: string[];
  /** D1 databases (binding names), in memory in Miniflare and in the instance's scratch directory in verge. */
  d1Databases?: string[];
  /** R2 buckets (binding names), in memory in both runtimes. */
  r2Buckets?: string[];
  /** Service bindings as functions (Miniflare 4's function form), run in this process for both runtimes. */
  serviceBindings?: Record<string, (request: Request) => Response | Promise<Response>>;
  /**
   * Compatibility flags, as a wrangler config gives them: Miniflare gets them as they are; with
   * nodejs_compat, verge runs the script bundled with nodeCompat, as `verge dev` and `verge publish` do.
   */
  compatibilityFlags?: string[];
  /** WebSocket handshakes whose 101's socket both runtimes' clients drive the same way (sockets.ts). */
  sockets?: SocketScenario[];
}

type Outcome =
  | { kind: "response"; status: number; headers: Array<[string, string]>; body: Buffer; ms: number }
  | { kind: "rejected"; name: string; code: string | undefined; message: string; ms: number };

const SCRIPTS_DIR = fileURLToPath(new URL("./scripts/", import.meta.url));
const ORIGIN = "http://differential.test";
const COMPATIBILITY_DATE = "2025-06-01";
/** A runtime that hangs fails the request by name instead of hanging the file. */
const DISPATCH_DEADLINE_MS = 15_000;

/**
 * Headers left out of the comparison, each because the Worker did not produce it:
 * - date, server: added by an HTTP server on the wire (workerd's), not by the Worker;
 *   verge's harness returns the Worker's Response without a wire hop.
 * - cf-ray and other cf-*: Cloudflare edge metadata.
 * - transfer-encoding, connection, keep-alive: HTTP/1.1 hop-by-hop framing between
 *   Miniflare's workerd and its undici client (RFC 9110 §7.6.1).
 * - mf-content-encoding: Miniflare's entry worker gzips text bodies because undici
 *   sends Accept-Encoding, undici decodes them, and dispatchFetch moves the
 *   Content-Encoding header there. A transport artifact of Miniflare.
 * content-length is framing too: workerd sets it whenever it knows the body length,
 * while verge's harness only carries what the Worker set. It is compared when both
 * sides have it and dropped otherwise; the body bytes are compared in any case.
 */
const DROPPED = new Set(["date", "server", "transfer-encoding", "connection", "keep-alive", "mf-content-encoding"]);

function normalizeHeaders(a: Array<[string, string]>, b: Array<[string, string]>): [Array<[string, string]>, Array<[string, string]>] {
  const keep = (h: Array<[string, string]>, other: Array<[string, string]>) =>
    h
      .filter(([k]) => !DROPPED.has(k) && !k.startsWith("cf-"))
      .filter(([k]) => k !== "content-length" || other.some(([o]) => o === "content-length"))
      .sort(([k1, v1], [k2, v2]) => (k1 === k2 ? (v1 < v2 ? -1 : v1 > v2 ? 1 : 0) : k1 < k2 ? -1 : 1));
  return [keep(a, b), keep(b, a)];
}

/**
 * Differences between the two outcomes as short, deterministic lines; empty when
 * they match. JSON bodies are compared value by value (one line per differing
 * path), so a known divergence can record exactly which fields differ.
 */
function compare(mf: Outcome, vg: Outcome): string[] {
  if (mf.kind === "rejected" || vg.kind === "rejected") {
    // Two rejections are not a match: Miniflare resolves even for a thrown exception.
    return [`outcome: miniflare ${describe(mf)}, verge ${describe(vg)}`];
  }
  const diffs: string[] = [];
  if (mf.status !== vg.status) diffs.push(`status: miniflare ${mf.status}, verge ${vg.status}`);
  const [mh, vh] = normalizeHeaders(mf.headers, vg.headers);
  for (const name of [...new Set([...mh, ...vh].map(([k]) => k))].sort()) {
    const a = mh.filter(([k]) => k === name).map(([, v]) => v);
    const b = vh.filter(([k]) => k === name).map(([, v]) => v);
    if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`header ${name}: miniflare ${JSON.stringify(a)}, verge ${JSON.stringify(b)}`);
  }
  if (!mf.body.equals(vg.body)) {
    const a = parseJson(mf.body);
    const b = parseJson(vg.body);
    if (a.ok && b.ok) {
      const paths: string[] = [];
      jsonDiff(a.value, b.value, "$", paths);
      diffs.push(...(paths.length > 0 ? paths : ["body: same JSON values, different bytes (key order)"]));
    } else diffs.push(`body: miniflare ${preview(mf.body)}, verge ${preview(vg.body)}`);
  }
  return diffs;
}

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body.toString("utf8")) };
  } catch {
    return { ok: false };
  }
}

function jsonDiff(a: unknown, b: unknown, path: string, out: string[]): void {
  const bothObjects = typeof a === "object" && a !== null && typeof b === "object" && b !== null && Array.isArray(a) === Array.isArray(b);
  if (bothObjects) {
    const before = out.length;
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    for (const k of [...new Set([...ka, ...kb])]) {
      const p = Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`;
      if (!(k in (a as object))) out.push(`body ${p}: miniflare (absent), verge ${short(b[k as keyof typeof b])}`);
      else if (!(k in (b as object))) out.push(`body ${p}: miniflare ${short(a[k as keyof typeof a])}, verge (absent)`);
      else jsonDiff(a[k as keyof typeof a], b[k as keyof typeof b], p, out);
    }
    if (out.length === before && !Array.isArray(a) && ka.join() !== kb.join() && ka.length === kb.length) {
      out.push(`body ${path}: key order: miniflare ${JSON.stringify(ka)}, verge ${JSON.stringify(kb)}`);
    }
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`body ${path}: miniflare ${short(a)}, verge ${short(b)}`);
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? "undefined";
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

function describe(o: Outcome): string {
  return o.kind === "rejected" ? `rejected ${o.code ?? o.name}: ${o.message.split("\n")[0]}` : `${o.status} ${preview(o.body)}`;
}

function preview(body: Buffer): string {
  const text = body.toString("utf8");
  return JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text);
}

async function run(dispatch: (url: string, init: RequestInit) => Promise<Response>, r: ScriptRequest): Promise<Outcome> {
  // redirect "manual": Miniflare dispatches through undici fetch, which would follow a 3xx.
  const init: RequestInit = { method: r.method ?? "GET", headers: r.headers ?? {}, redirect: "manual", ...(r.body !== undefined ? { body: r.body } : {}) };
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no response within ${DISPATCH_DEADLINE_MS} ms`)), DISPATCH_DEADLINE_MS);
  });
  try {
    const res = await Promise.race([dispatch(ORIGIN + r.path, init), deadline]);
    const ms = performance.now() - started;
    const body = Buffer.from(await Promise.race([res.arrayBuffer(), deadline]));
    return { kind: "response", status: res.status, headers: [...res.headers], body, ms };
  } catch (e) {
    const err = e as { name?: string; code?: string; message?: string };
    return { kind: "rejected", name: String(err?.name), code: err?.code, message: String(err?.message ?? e), ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------
// Intentional divergences (listed in DIVERGENCES.md): both behaviours asserted.

/**
 * An exception escaping the handler. Miniflare's entry worker catches the
 * rejected service call and resolves dispatchFetch with a 500 whose body is the
 * error's stack (text/plain). verge's harness rejects with a VergeError coded
 * ERR_FUNCTION_EXCEPTION carrying the message (on an edge node the same
 * exception becomes the Lambda@Edge-style 503 of DESIGN.md §3).
 */
function uncaught(mfBodyStart: string, vergeMessage: string) {
  return (mf: Outcome, vg: Outcome) => {
    assert.equal(mf.kind, "response", `miniflare should resolve: ${describe(mf)}`);
    if (mf.kind !== "response") return;
    assert.equal(mf.status, 500);
    assert.equal(new Headers(mf.headers).get("content-type"), "text/plain;charset=UTF-8");
    assert.ok(mf.body.toString().startsWith(mfBodyStart), `miniflare body ${preview(mf.body)} should start with ${JSON.stringify(mfBodyStart)}`);
    assert.equal(vg.kind, "rejected", `verge should reject: ${describe(vg)}`);
    if (vg.kind !== "rejected") return;
    assert.equal(vg.code, "ERR_FUNCTION_EXCEPTION");
    assert.ok(vg.message.includes(vergeMessage), `verge message ${JSON.stringify(vg.message)} should include ${JSON.stringify(vergeMessage)}`);
  };
}

/**
 * KV limit errors: verge's message is workerd's, word for word, followed by the key the
 * call was about (` (key "…")`), so a failing put in a loop says which key it was.
 * Every other field of the response must match.
 */
function kvErrorsNameTheKey(mf: Outcome, vg: Outcome): void {
  const diffs = compare(mf, vg);
  assert.ok(diffs.length > 0, "KV errors now match Miniflare exactly: update the intentional entry");
  for (const line of diffs) {
    const m = /^body \$\.\w+\.message: miniflare ("(?:[^"\\]|\\.)*"), verge ("(?:[^"\\]|\\.)*")$/.exec(line);
    assert.ok(m, `unexpected difference: ${line}`);
    const [theirs, ours] = [JSON.parse(m[1]!) as string, JSON.parse(m[2]!) as string];
    assert.ok(ours.startsWith(theirs) && / \(key "[^]*"\)$/.test(ours.slice(theirs.length)), `verge's message should be Miniflare's plus the key: ${line}`);
  }
}

/**
 * verge differs on purpose in exactly these lines of compare(): both behaviours are
 * asserted through them (the Cache API requests where verge follows Cloudflare's
 * documented rules or RFC 9110/9111 and Miniflare's local cache does not).
 */
function differsExactly(lines: string[]) {
  return (mf: Outcome, vg: Outcome) => assert.deepEqual(compare(mf, vg), lines);
}

const intentional: Record<string, (mf: Outcome, vg: Outcome) => void> = {
  // node:sqlite does not expose sqlite3_error_offset, so a syntax error has no " at offset N"; a refused SQL
  // function names itself (SQLite's own message) where workerd's function allowlist says "not authorized".
  "58-d1.js › errors": differsExactly([
    'body $.syntax.message: miniflare "D1_ERROR: near \\"SELEC\\": syntax error at offset 0: SQLITE_ERROR", verge "D1_ERROR: near \\"SELEC\\": syntax error: SQLITE_ERROR"',
    'body $.syntax.cause: miniflare "near \\"SELEC\\": syntax error at offset 0: SQLITE_ERROR", verge "near \\"SELEC\\": syntax error: SQLITE_ERROR"',
    'body $.exec.message: miniflare "D1_EXEC_ERROR: Error in line 1: SELEC 1;: near \\"SELEC\\": syntax error at offset 0: SQLITE_ERROR", verge "D1_EXEC_ERROR: Error in line 1: SELEC 1;: near \\"SELEC\\": syntax error: SQLITE_ERROR"',
    'body $.exec.cause: miniflare "Error in line 1: SELEC 1;: near \\"SELEC\\": syntax error at offset 0: SQLITE_ERROR", verge "Error in line 1: SELEC 1;: near \\"SELEC\\": syntax error: SQLITE_ERROR"',
    'body $.loadExtension.message: miniflare "D1_ERROR: not authorized: SQLITE_ERROR", verge "D1_ERROR: not authorized to use function: load_extension: SQLITE_ERROR"',
    'body $.loadExtension.cause: miniflare "not authorized: SQLITE_ERROR", verge "not authorized to use function: load_extension: SQLITE_ERROR"',
  ]),
  // Cloudflare keeps a response without Cache-Control or Expires for its Edge TTL (200: 2 h, 404: 3 min);
  // Miniflare's cache gives it no lifetime.
  "40-cache-api.js › edge ttl": differsExactly(['body $.200: miniflare "miss", verge "hit"', 'body $.404: miniflare "miss", verge "hit"']),
  // private=Set-Cookie stores without the cookie in both; Miniflare rewrites Cache-Control (", max-age=600") and
  // ignores the quoted form RFC 9111 §5.2.2.7 writes; verge keeps the header as given and takes both forms.
  "40-cache-api.js › private qualified": differsExactly(['body $.plain[2]: miniflare ", max-age=600", verge "private=Set-Cookie, max-age=600"', 'body $.quoted: miniflare "miss", verge "hit"']),
  // Conditionals are evaluated against a stored 200 only (RFC 9110 §13.1: a 404 has no selected representation),
  // as the node's cache does for its traffic; Miniflare answers 304 for any status.
  "40-cache-api.js › conditional on a 404": differsExactly(["body $[0]: miniflare 304, verge 404", 'body $[1]: miniflare "", verge "nf"']),
  // A Range in a unit other than bytes is ignored (RFC 9110 §14.2: MUST ignore); Miniflare answers 416.
  "40-cache-api.js › range unit": differsExactly(["body $[0]: miniflare 416, verge 200", 'body $[1]: miniflare "", verge "0123456789"']),
  // Vary is honoured (caches.default is the node's cache, which its traffic fills with Vary variants);
  // Cloudflare's and Miniflare's Cache API ignore Vary (only Vary: * is refused).
  "40-cache-api.js › vary": differsExactly(['body $[1]: miniflare "html", verge "miss"']),
  "39-kv.js › errors": kvErrorsNameTheKey,
  // node:crypto errors follow Node 24 (class, code, message), which workerd's node:crypto does not in these cases;
  // every digest, HMAC, pbkdf2 and hkdf output, and the other errors, match.
  "44-node-crypto.js › timingSafeEqual": differsExactly([
    'body $.lengths.name: miniflare "TypeError", verge "RangeError"',
    'body $.lengths.code: miniflare null, verge "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH"',
    'body $.lengths.message: miniflare "Input buffers must have the same byte length.", verge "Input buffers must have the same byte length"',
  ]),
  "44-node-crypto.js › errors": differsExactly([
    'body $.unknownHmac.name: miniflare "Error", verge "TypeError"',
    'body $.unknownHmac.code: miniflare null, verge "ERR_CRYPTO_INVALID_DIGEST"',
    'body $.unknownHmac.message: miniflare "Digest method not supported", verge "Invalid digest: nope"',
    'body $.unknownPbkdf2.code: miniflare null, verge "ERR_CRYPTO_INVALID_DIGEST"',
    'body $.unknownPbkdf2.message: miniflare "Invalid Pbkdf2 digest: nope.", verge "Invalid digest: nope"',
    `body $.oddHex: miniflare "no error", verge {"name":"TypeError","code":"ERR_INVALID_ARG_VALUE","message":"The argument 'encoding' is invalid for data of length 3. Received 'hex'"}`,
  ]),
  // node:zlib follows Node 24, which workerd's node:zlib does not in these cases (outputs, crc32 and the messages
  // of corrupt data match): workerd's Sync and callback errors carry no code or errno; its option and argument
  // errors are its own (no code, other messages, a string level taken, an ArrayBuffer taken by crc32, a
  // maxOutputLength overrun reported as "Memory limit exceeded"); verge has no Brotli.
  "48-node-zlib.js › error codes": differsExactly([
    "body $.notGzip[0]: miniflare null, verge \"Z_DATA_ERROR\"",
    "body $.notGzip[1]: miniflare null, verge -3",
    "body $.empty[0]: miniflare null, verge \"Z_BUF_ERROR\"",
    "body $.empty[1]: miniflare null, verge -5",
    "body $.truncated[0]: miniflare null, verge \"Z_BUF_ERROR\"",
    "body $.truncated[1]: miniflare null, verge -5",
    "body $.badCheck[0]: miniflare null, verge \"Z_DATA_ERROR\"",
    "body $.badCheck[1]: miniflare null, verge -3",
    "body $.badBlock[0]: miniflare null, verge \"Z_DATA_ERROR\"",
    "body $.badBlock[1]: miniflare null, verge -3",
    "body $.garbageAfter[0]: miniflare null, verge \"Z_DATA_ERROR\"",
    "body $.garbageAfter[1]: miniflare null, verge -3",
    "body $.missingDictionary[0]: miniflare null, verge \"Z_NEED_DICT\"",
    "body $.missingDictionary[1]: miniflare null, verge 2",
    "body $.badDictionary[0]: miniflare null, verge \"Z_NEED_DICT\"",
    "body $.badDictionary[1]: miniflare null, verge 2",
    "body $.windowTooSmall[0]: miniflare null, verge \"Z_DATA_ERROR\"",
    "body $.windowTooSmall[1]: miniflare null, verge -3",
    "body $.callback[0]: miniflare null, verge \"Z_DATA_ERROR\"",
    "body $.callback[1]: miniflare null, verge -3",
  ]),
  "48-node-zlib.js › argument errors": differsExactly([
    "body $.tooLarge.code: miniflare null, verge \"ERR_BUFFER_TOO_LARGE\"",
    "body $.tooLarge.message: miniflare \"Memory limit exceeded\", verge \"Cannot create a Buffer larger than 100 bytes\"",
    "body $.badInput.code: miniflare null, verge \"ERR_INVALID_ARG_TYPE\"",
    "body $.badInput.message: miniflare \"Failed to execute 'zlibSync' on 'ZlibUtil': parameter 1 is not of type 'string or ArrayBuffer or ArrayBufferView'.\", verge \"The \\\"buffer\\\" argument must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer. Received type number (42)\"",
    "body $.crcArrayBuffer.ok: miniflare 1104745215, verge (absent)",
    "body $.crcArrayBuffer.name: miniflare (absent), verge \"TypeError\"",
    "body $.crcArrayBuffer.code: miniflare (absent), verge \"ERR_INVALID_ARG_TYPE\"",
    "body $.crcArrayBuffer.errno: miniflare (absent), verge null",
    "body $.crcArrayBuffer.message: miniflare (absent), verge \"The \\\"data\\\" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received an instance of ArrayBuffer\"",
    "body $.crcValue.message: miniflare \"The value of \\\"value\\\" is out of range. It must be >= 0 && < 4294967296. Received -1\", verge \"The value of \\\"value\\\" is out of range. It must be >= 0 && <= 4294967295. Received -1\"",
  ]),
  "48-node-zlib.js › option errors": differsExactly([
    "body $.level.code: miniflare null, verge \"ERR_OUT_OF_RANGE\"",
    "body $.levelType.ok: miniflare \"eNqrAAAAeQB5\", verge (absent)",
    "body $.levelType.name: miniflare (absent), verge \"TypeError\"",
    "body $.levelType.code: miniflare (absent), verge \"ERR_INVALID_ARG_TYPE\"",
    "body $.levelType.errno: miniflare (absent), verge null",
    "body $.levelType.message: miniflare (absent), verge \"The \\\"options.level\\\" property must be of type number. Received type string ('9')\"",
    "body $.memLevel.code: miniflare null, verge \"ERR_OUT_OF_RANGE\"",
    "body $.strategy.name: miniflare \"Error\", verge \"RangeError\"",
    "body $.strategy.code: miniflare null, verge \"ERR_OUT_OF_RANGE\"",
    "body $.strategy.message: miniflare \"invalid strategy\", verge \"The value of \\\"options.strategy\\\" is out of range. It must be >= 0 and <= 4. Received 9\"",
    "body $.windowBits.name: miniflare \"Error\", verge \"RangeError\"",
    "body $.windowBits.code: miniflare null, verge \"ERR_OUT_OF_RANGE\"",
    "body $.windowBits.message: miniflare \"Zlib error\", verge \"The value of \\\"options.windowBits\\\" is out of range. It must be >= 9 and <= 15. Received 8\"",
    "body $.chunkSize.code: miniflare null, verge \"ERR_OUT_OF_RANGE\"",
    "body $.chunkSize.message: miniflare \"The value of \\\"options.chunkSize\\\" is out of range. It must be >= 64 and <= 134217728. Received 10\", verge \"The value of \\\"options.chunkSize\\\" is out of range. It must be >= 64. Received 10\"",
    "body $.dictionary.code: miniflare null, verge \"ERR_INVALID_ARG_TYPE\"",
    "body $.dictionary.message: miniflare \"Incorrect type for the 'dictionary' field on 'Options': the provided value is not of type 'ArrayBuffer or ArrayBufferView'.\", verge \"The \\\"options.dictionary\\\" property must be an instance of Buffer, TypedArray, DataView, or ArrayBuffer. Received type string ('words')\"",
  ]),
  "48-node-zlib.js › brotli": differsExactly([
    "body $.ok: miniflare \"hello\", verge (absent)",
    "body $.name: miniflare (absent), verge \"Error\"",
    "body $.code: miniflare (absent), verge \"ERR_METHOD_NOT_IMPLEMENTED\"",
    "body $.errno: miniflare (absent), verge null",
    "body $.message: miniflare (absent), verge \"zlib.brotliCompressSync is not supported: verge's nodejs_compat provides gzip, deflate and deflate-raw (and unzip) only, not Brotli or Zstandard (a Worker can answer with Content-Encoding: br only if…",
  ]),
  "20-uncaught-exception.js › sync throw": uncaught("Error: boom sync", "Error: boom sync"),
  "20-uncaught-exception.js › async throw": uncaught("TypeError: boom async", "TypeError: boom async"),
  // workerd wraps a thrown non-Error into an Error when it crosses the service binding.
  "20-uncaught-exception.js › throw string": uncaught("Error: a plain string", "a plain string"),
  "21-invalid-status.js › uncaught 600": uncaught("RangeError: ", "RangeError"),
};

// ---------------------------------------------------------------------------
// Known divergences, not settled yet (listed in DIVERGENCES.md). Each asserts the
// exact difference lines recorded here; when verge changes, the entry fails and
// must be removed or updated.

interface KnownDivergence {
  /**
   * "bug": verge should change to match Workers.
   * "spec": verge follows the WHATWG/DOM spec where workerd deviates; the lead
   * decides whether to match workerd or to move the entry to `intentional`.
   */
  kind: "bug" | "spec";
  /** What differs in verge, and where. */
  reason: string;
  /** Exactly the difference lines compare() reports today. */
  diffs: string[];
}


const knownDivergences: Record<string, KnownDivergence> = {
  "16-url-idna.js › hosts": {
    kind: "bug",
    reason: "the guest URL is parsed by the host's Node URL (ada 4.0.0 in Node 24.21), which accepts the invalid punycode label xn--a that workerd's parser refuses; the UTS #46 mappings (ﬀ -> ff, ① -> 1) now match",
    diffs: ["body $.http://xn--a.com/: miniflare \"throws TypeError\", verge {\"href\":\"http://xn--a.com/\",\"host\":\"xn--a.com\"}"],
  },
  "21-invalid-status.js › 204 with empty string body": {
    kind: "spec",
    reason: "the guest Response constructor (src/runtime/guest/fetch/response.ts) throws TypeError for a zero-length body (\"\") with a null-body status, as the Fetch spec says (the body is non-null); workerd only rejects a non-empty body",
    diffs: ["body $.s204empty: miniflare 204, verge \"TypeError\""],
  },
  "21-invalid-status.js › default statusText": {
    kind: "spec",
    reason: "the guest Response constructor (src/runtime/guest/fetch/response.ts) defaults statusText to \"\" as the Fetch spec says; workerd fills in the standard reason phrase for the status",
    diffs: [
      "body $.default200: miniflare \"OK\", verge \"\"",
      "body $.default404: miniflare \"Not Found\", verge \"\"",
    ],
  },
  "27-headers-order.js › order": {
    kind: "spec",
    reason: "the guest Headers iterator (src/runtime/guest/fetch/headers.ts) re-reads the sorted list at every step as WebIDL pair iterators do, so a header set during iteration is visited; workerd iterates a snapshot taken when the iterator was created",
    diffs: [
      "body $.mutated[1]: miniflare \"c\", verge \"b\"",
      "body $.mutated[2]: miniflare (absent), verge \"c\"",
    ],
  },
  "29-abort-controller.js › abort": {
    kind: "spec",
    reason: "the guest AbortSignal (event-target-shim via src/runtime/guest/platform/events.ts and abort.ts) runs the onabort handler in registration order as the DOM spec does (after a listener added earlier); workerd calls onabort before the addEventListener listeners",
    diffs: [
      "body $.events[0]: miniflare \"onabort\", verge \"listener:abort:true\"",
      "body $.events[1]: miniflare \"listener:abort:true\", verge \"onabort\"",
    ],
  },
  "32-urlpattern.js › book with format": {
    kind: "spec",
    reason: "the guest URLPattern (urlpattern-polyfill via src/runtime/guest/platform/url.ts) returns exec() groups in pattern order (id, format) as the spec does; workerd returns them sorted by name (format, id)",
    diffs: ["body $.match.pathname.groups: key order: miniflare [\"format\",\"id\"], verge [\"id\",\"format\"]"],
  },
};

// ---------------------------------------------------------------------------

// One Verge for the whole file: each script replaces the function with
// setOptions (a new isolate in the same child process, ~70 ms) instead of a new
// child process per script (~600 ms). Miniflare gets a fresh instance per script.
let verge: Verge | undefined;
const miniflares = new Set<Miniflare>();
after(async () => {
  await Promise.allSettled([verge?.dispose(), ...[...miniflares].map((m) => m.dispose())]);
});

function vergeOptions(file: string, script: string, bindings: Record<string, unknown>, kvNamespaces: string[] | undefined, serviceBindings: ScriptModule["serviceBindings"], d1Databases?: string[]): VergeOptions {
  // Miniflare does not enforce CPU limits locally; a generous verge budget keeps
  // this suite about semantics (budgets have their own tests).
  return { modules: true, script, bindings, compatibilityDate: COMPATIBILITY_DATE, name: file, limits: { cpuMs: 2_000 }, ...(kvNamespaces ? { kvNamespaces } : {}), ...(d1Databases ? { d1Databases } : {}), ...(serviceBindings ? { serviceBindings } : {}) };
}

const files = readdirSync(SCRIPTS_DIR).filter((f) => f.endsWith(".js")).sort();
const used = new Set<string>();

test("the suite has at least 30 scripts, each with requests", async () => {
  assert.ok(files.length >= 30, `found ${files.length} scripts`);
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(SCRIPTS_DIR, f)).href)) as ScriptModule;
    assert.ok(Array.isArray(mod.requests) && mod.requests.length > 0, `${f} exports no requests`);
  }
});

for (const file of files) {
  test(file, async (t) => {
    const path = join(SCRIPTS_DIR, file);
    const script = await readFile(path, "utf8");
    const mod = (await import(pathToFileURL(path).href)) as ScriptModule;
    const bindings = mod.bindings ?? {};
    const flags = mod.compatibilityFlags ?? [];
    const mf = new Miniflare({ modules: true, script, scriptPath: path, bindings: bindings as never, compatibilityDate: COMPATIBILITY_DATE, compatibilityFlags: flags, ...(mod.kvNamespaces ? { kvNamespaces: mod.kvNamespaces } : {}), ...(mod.d1Databases ? { d1Databases: mod.d1Databases } : {}), ...(mod.r2Buckets ? { r2Buckets: mod.r2Buckets } : {}), ...(mod.serviceBindings ? { serviceBindings: mod.serviceBindings } : {}) });
    miniflares.add(mf);
    const vergeScript = wantsNodeCompat(flags) ? (await bundle(path, { nodeCompat: true })).code : script;
    const options = { ...vergeOptions(file, vergeScript, bindings, mod.kvNamespaces, mod.serviceBindings, mod.d1Databases), ...(mod.r2Buckets ? { r2Buckets: mod.r2Buckets } : {}) };
    const vergeReady = verge === undefined ? (verge = new Verge(options)).ready : verge.setOptions(options);
    const vg = verge;
    try {
      await Promise.all([mf.ready, vergeReady]);
      for (const r of mod.requests) {
        const key = `${file} › ${r.name}`;
        await t.test(r.name, async () => {
          const mfOut = await run((u, i) => mf.dispatchFetch(u, i as never) as unknown as Promise<Response>, r);
          const vgOut = await run((u, i) => vg.dispatchFetch(u, i), r);
          if (r.maxMs !== undefined) {
            for (const [who, o] of [["miniflare", mfOut], ["verge", vgOut]] as const) {
              assert.ok(o.ms < r.maxMs, `${who} took ${Math.round(o.ms)} ms, expected the response before ${r.maxMs} ms`);
            }
          }
          const intent = intentional[key];
          if (intent) {
            used.add(key);
            intent(mfOut, vgOut);
            return;
          }
          const diffs = compare(mfOut, vgOut);
          const known = knownDivergences[key];
          if (known) {
            used.add(key);
            if (diffs.length === 0) assert.fail(`${key} now matches Miniflare: remove it from knownDivergences (and DIVERGENCES.md)`);
            if (JSON.stringify(diffs) !== JSON.stringify(known.diffs)) {
              assert.fail(`${key} differs in a new way.\nrecorded (${known.reason}):\n  ${known.diffs.join("\n  ")}\nnow:\n  ${diffs.join("\n  ")}`);
            }
            return;
          }
          if (diffs.length > 0) assert.fail(`${key} differs from Miniflare:\n  ${diffs.join("\n  ")}`);
        });
      }
      for (const s of mod.sockets ?? []) {
        await t.test(`socket: ${s.name}`, async () => {
          const mfOut = await runSocket((u, i) => mf.dispatchFetch(u, i as never) as unknown as Promise<Response>, ORIGIN, s, DISPATCH_DEADLINE_MS);
          const vgOut = await runSocket((u, i) => vg.dispatchFetch(u, i), ORIGIN, s, DISPATCH_DEADLINE_MS);
          assertSameTranscript(`${file} › ${s.name}`, mfOut, vgOut);
        });
      }
    } finally {
      await mf.dispose();
      miniflares.delete(mf);
    }
  });
}

test("every intentional and known divergence names a request that ran", () => {
  for (const key of [...Object.keys(intentional), ...Object.keys(knownDivergences)]) {
    assert.ok(used.has(key), `${key} is listed but no such request ran`);
  }
});
