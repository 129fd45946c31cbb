/** How the platform globals are exposed (names, descriptors, brand checks), performance and navigator. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { evalGuest } from "../helpers/guest.ts";

const INTERFACES = [
  "DOMException", "Event", "EventTarget", "CustomEvent", "AbortController", "AbortSignal", "URL", "URLSearchParams", "URLPattern",
  "TextEncoder", "TextDecoder", "Crypto", "SubtleCrypto", "CryptoKey", "Performance", "Navigator",
];
const FUNCTIONS = ["atob", "btoa", "structuredClone", "reportError"];
const OBJECTS = ["crypto", "performance", "navigator"];

test("platform globals are non-enumerable, writable, configurable and carry their WebIDL names", async () => {
  const r = (await evalGuest(`
    const names = ${JSON.stringify([...INTERFACES, ...FUNCTIONS, ...OBJECTS])};
    // Read first: a lazily installed global (see the next test) becomes a data property on first read.
    const d = (n) => { void globalThis[n]; const x = Object.getOwnPropertyDescriptor(globalThis, n); return x ? [typeof x.value, x.enumerable, x.writable, x.configurable] : null; };
    return {
      descriptors: Object.fromEntries(names.map((n) => [n, d(n)])),
      fnNames: ${JSON.stringify([...INTERFACES, ...FUNCTIONS])}.map((n) => globalThis[n].name),
      toStrings: ${JSON.stringify(INTERFACES)}.map((n) => String(globalThis[n]) === "function " + n + "() { [native code] }"),
      tags: [crypto, crypto.subtle, performance, navigator, new TextEncoder(), new TextDecoder(), new AbortController(), new EventTarget(), new URL("http://x"), new Event("e")].map((o) => Object.prototype.toString.call(o)),
      enumerable: Object.keys(globalThis).filter((k) => names.includes(k)),
    };
  `)) as Record<string, unknown>;
  for (const n of INTERFACES) assert.deepEqual((r.descriptors as Record<string, unknown>)[n], ["function", false, true, true], n);
  for (const n of FUNCTIONS) assert.deepEqual((r.descriptors as Record<string, unknown>)[n], ["function", false, true, true], n);
  for (const n of OBJECTS) assert.deepEqual((r.descriptors as Record<string, unknown>)[n], ["object", false, true, true], n);
  assert.deepEqual(r.fnNames, [...INTERFACES, ...FUNCTIONS]);
  assert.deepEqual(r.toStrings, INTERFACES.map(() => true));
  assert.deepEqual(r.tags, [
    "[object Crypto]", "[object SubtleCrypto]", "[object Performance]", "[object Navigator]", "[object TextEncoder]", "[object TextDecoder]",
    "[object AbortController]", "[object EventTarget]", "[object URL]", "[object Event]",
  ]);
  assert.deepEqual(r.enumerable, []);
});

test("a lazily installed global (URLPattern) is an accessor until first read, then a plain data property; assigning it replaces it", async () => {
  const r = (await evalGuest(`
    const shape = (n) => { const x = Object.getOwnPropertyDescriptor(globalThis, n); return { get: typeof x.get, value: typeof x.value, enumerable: x.enumerable, configurable: x.configurable }; };
    const before = shape("URLPattern");
    const first = globalThis.URLPattern;
    const after = shape("URLPattern");
    const same = first === globalThis.URLPattern;
    const inKeys = Object.keys(globalThis).includes("URLPattern");
    const works = new URLPattern({ pathname: "/a/:id" }).exec("https://x/a/7").pathname.groups.id;
    globalThis.URLPattern = 42;
    return { before, after, same, inKeys, works, replaced: globalThis.URLPattern };
  `)) as Record<string, unknown>;
  assert.deepEqual(r.before, { get: "function", value: "undefined", enumerable: false, configurable: true });
  assert.deepEqual(r.after, { get: "undefined", value: "function", enumerable: false, configurable: true });
  assert.equal(r.same, true);
  assert.equal(r.inKeys, false);
  assert.equal(r.works, "7");
  assert.equal(r.replaced, 42);
});

test("interfaces that user code may not construct throw TypeError, and methods check their receiver", async () => {
  const r = await evalGuest(`
    const err = (f) => { try { f(); return "ok"; } catch (e) { return e.name; } };
    return {
      illegal: ["AbortSignal", "Crypto", "SubtleCrypto", "CryptoKey", "Performance", "Navigator"].map((n) => err(() => new globalThis[n]())),
      receivers: [
        err(() => crypto.getRandomValues.call({}, new Uint8Array(1))),
        err(() => TextDecoder.prototype.decode.call({})),
        err(() => Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted").get.call({})),
        err(() => performance.now.call({})),
      ],
      subtleReceiver: await crypto.subtle.digest.call({}, "SHA-256", new Uint8Array(1)).then(() => "ok", (e) => e.name),
    };
  `);
  assert.deepEqual(r, { illegal: Array(6).fill("TypeError"), receivers: Array(4).fill("TypeError"), subtleReceiver: "TypeError" });
});

test("performance.now is monotonic milliseconds from timeOrigin; navigator.userAgent is verge", async () => {
  const before = Date.now();
  const r = (await evalGuest(`
    const a = performance.now();
    let x = 0; for (let i = 0; i < 1e6; i++) x += i;
    const b = performance.now();
    await new Promise((res) => setTimeout(res, 20));
    const c = performance.now();
    return { a, b, c, origin: performance.timeOrigin, json: performance.toJSON(), ua: navigator.userAgent, now: Date.now() };
  `)) as { a: number; b: number; c: number; origin: number; json: { timeOrigin: number }; ua: string; now: number };
  assert.ok(r.a >= 0 && r.b >= r.a && r.c - r.b >= 15, `monotonic: ${r.a} ${r.b} ${r.c}`);
  assert.ok(Math.abs(r.origin + r.c - r.now) < 50, "timeOrigin + now() is the wall clock");
  assert.ok(r.origin <= before + 1000 && r.origin > before - 60_000);
  assert.deepEqual(r.json, { timeOrigin: r.origin });
  assert.equal(r.ua, "verge");
});

test("scheduler.wait(ms) resolves after ms, as Workers' does; an aborted signal rejects it with workerd's copy of its reason", async () => {
  const r = (await evalGuest(`
    const a = performance.now();
    const resolved = await scheduler.wait(25);
    const waited = performance.now() - a;
    const c = new AbortController();
    const pending = scheduler.wait(10_000, { signal: c.signal }).then(() => "resolved", (e) => "rejected: " + e);
    c.abort("stop");
    const before = new AbortController(); before.abort(new Error("already"));
    const reason = before.signal.reason;
    const early = await scheduler.wait(5, { signal: before.signal }).then(() => "resolved", (e) => "rejected: " + e.message + (e === reason ? " (the same object)" : " (a copy)"));
    const bad = await scheduler.wait(5, { signal: 1 }).then(() => "resolved", (e) => e.name);
    return { resolved: resolved === undefined, waited, aborted: await pending, early, bad, own: Object.keys(Object.getOwnPropertyDescriptor(globalThis, "scheduler")).length > 0 };
  `)) as { resolved: boolean; waited: number; aborted: string; early: string; bad: string };
  assert.equal(r.resolved, true);
  assert.ok(r.waited >= 20, `waited ${r.waited} ms`);
  // workerd tunnels the reason: a string becomes an Error, an Error a new one of its kind with its message.
  assert.equal(r.aborted, "rejected: Error: stop");
  assert.equal(r.early, "rejected: already (a copy)");
  assert.equal(r.bad, "TypeError");
});

test("self is the global scope, navigator.hardwareConcurrency is 1 and reportError reports without throwing, as in workerd", async () => {
  const r = await evalGuest(`
    let threw = false;
    try { reportError(new Error("reported")); } catch { threw = true; }
    let noArg = "";
    try { reportError(); } catch (e) { noArg = e.name; }
    return { self: self === globalThis, cores: navigator.hardwareConcurrency, threw, noArg };
  `);
  assert.deepEqual(r, { self: true, cores: 1, threw: false, noArg: "TypeError" });
});
