/**
 * An aborted fetch() reaches the host: the subrequest is cancelled where it is
 * (waiting for the response head, or with its body still arriving) and its
 * connection closed, while the function keeps running. The server below tells
 * the function what it saw: `/arrived?id=` answers once request `id` reached it,
 * `/closed?id=` once the client went away from it. A host that did not cancel
 * would leave the connection open until the invocation ended, so `/closed`
 * answers "still-open" after its own deadline and the test fails by name.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import { evalGuest } from "../helpers/guest.ts";
import { listenDuringTests } from "../helpers/local-server.ts";

/** How long `/arrived` and `/closed` wait before they answer that nothing happened. */
const SERVER_DEADLINE_MS = 8_000;

interface Seen {
  arrived: boolean;
  closed: boolean;
  waiters: Array<() => void>;
}
const seen = new Map<string, Seen>();
function entry(id: string): Seen {
  let e = seen.get(id);
  if (e === undefined) seen.set(id, (e = { arrived: false, closed: false, waiters: [] }));
  return e;
}
function note(id: string, what: "arrived" | "closed"): void {
  const e = entry(id);
  e[what] = true;
  for (const w of e.waiters.splice(0)) w();
}
/** Answers `yes` once `what` is true of `id`, else `no` at the deadline. */
function answerWhen(id: string, what: "arrived" | "closed", res: ServerResponse, yes: string, no: string): void {
  const e = entry(id);
  const reply = () => {
    clearTimeout(timer);
    if (!res.writableEnded) res.end(e[what] ? yes : no);
  };
  const timer = setTimeout(reply, SERVER_DEADLINE_MS);
  if (e[what]) return reply();
  e.waiters.push(() => {
    if (e[what]) reply();
  });
}

let base = "";
const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  const id = url.searchParams.get("id") ?? "";
  switch (url.pathname) {
    case "/hang":
    case "/head-then-hang":
      note(id, "arrived");
      // `close` before the response ended: the client went away.
      res.on("close", () => {
        if (!res.writableEnded) note(id, "closed");
      });
      if (url.pathname === "/head-then-hang") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("first;");
      }
      return;
    case "/arrived":
      return answerWhen(id, "arrived", res, "arrived", "never-arrived");
    case "/closed":
      return answerWhen(id, "closed", res, "closed", "still-open");
    case "/state":
      res.end(entry(id).closed ? "closed" : "open");
      return;
    default:
      res.statusCode = 404;
      res.end();
  }
});

listenDuringTests(server, (url) => (base = url));

let n = 0;
/** A request id unique to this process's run (the edge and harness targets share one server per file). */
const uid = (name: string) => `${name}-${process.pid}-${++n}`;

test("fetch aborted while waiting for the response head: rejects with the reason, and the host drops the request", async () => {
  const id = uid("head");
  const r = await evalGuest(`
    const c = new AbortController();
    const pending = fetch("${base}/hang?id=${id}", { signal: c.signal });
    const arrived = await (await fetch("${base}/arrived?id=${id}")).text();
    c.abort();
    let error;
    try { await pending; } catch (e) { error = [e.name, e instanceof DOMException]; }
    const closed = await (await fetch("${base}/closed?id=${id}")).text();
    return { arrived, error, closed, aborted: c.signal.aborted };
  `);
  assert.deepEqual(r, { arrived: "arrived", error: ["AbortError", true], closed: "closed", aborted: true });
});

test("fetch aborted after the response head, its body unread: the host closes the connection; reading then fails", async () => {
  const id = uid("body");
  const r = await evalGuest(`
    const c = new AbortController();
    const res = await fetch("${base}/head-then-hang?id=${id}", { signal: c.signal });
    c.abort(new Error("enough"));
    const closed = await (await fetch("${base}/closed?id=${id}")).text();
    let read;
    try { await res.text(); read = "read"; } catch (e) { read = [e.name, e.message]; }
    return { status: res.status, closed, read };
  `);
  assert.deepEqual(r, { status: 200, closed: "closed", read: ["Error", "enough"] });
});

test("fetch aborted while its body streams: the reader errors and the connection closes", async () => {
  const id = uid("stream");
  const r = await evalGuest(`
    const c = new AbortController();
    const res = await fetch("${base}/head-then-hang?id=${id}", { signal: c.signal });
    const reader = res.body.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    c.abort();
    let next;
    try { await reader.read(); next = "read"; } catch (e) { next = e.name; }
    const closed = await (await fetch("${base}/closed?id=${id}")).text();
    return { first, next, closed };
  `);
  assert.deepEqual(r, { first: "first;", next: "AbortError", closed: "closed" });
});

test("AbortSignal.timeout on a fetch: TimeoutError in the function, and the request is cancelled on the host", async () => {
  const id = uid("timeout");
  const r = await evalGuest(`
    const pending = fetch("${base}/hang?id=${id}", { signal: AbortSignal.timeout(1500) });
    const arrived = await (await fetch("${base}/arrived?id=${id}")).text();
    let error;
    try { await pending; } catch (e) { error = e.name; }
    const closed = await (await fetch("${base}/closed?id=${id}")).text();
    return { arrived, error, closed };
  `);
  assert.deepEqual(r, { arrived: "arrived", error: "TimeoutError", closed: "closed" });
});

test("a fetch that is not aborted is not cancelled by another's abort", async () => {
  const a = uid("other-a");
  const b = uid("other-b");
  const r = await evalGuest(`
    const c = new AbortController();
    const kept = fetch("${base}/head-then-hang?id=${a}");
    const dropped = fetch("${base}/hang?id=${b}", { signal: c.signal });
    await (await fetch("${base}/arrived?id=${b}")).text();
    c.abort();
    await dropped.catch(() => {});
    const closedB = await (await fetch("${base}/closed?id=${b}")).text();
    const res = await kept;
    const first = new TextDecoder().decode((await res.body.getReader().read()).value);
    const stateA = await (await fetch("${base}/state?id=${a}")).text();
    return { closedB, first, status: res.status, stateA };
  `);
  assert.deepEqual(r, { closedB: "closed", first: "first;", status: 200, stateA: "open" });
});
