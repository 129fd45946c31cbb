// Exercises: node:async_hooks under nodejs_compat: AsyncLocalStorage's store
// through await, timers, scheduler.wait, queueMicrotask, then/catch/finally,
// crypto.subtle, body reads, async generators and for await; two runs
// interleaved in one request; nested storages; exit; bind and snapshot;
// AsyncResource; argument errors. workerd carries the context natively; verge
// carries it in JavaScript and lowers the bundle's awaits.
import * as asyncHooks from "node:async_hooks";
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";

export const compatibilityFlags = ["nodejs_compat"];
export const requests = [
  { name: "waits", path: "/waits" },
  { name: "interleaved", path: "/interleaved" },
  { name: "api", path: "/api" },
  { name: "enterWith", path: "/enterWith" },
  { name: "exports", path: "/exports" },
];

const als = new AsyncLocalStorage();
const other = new AsyncLocalStorage();

async function* gen() {
  yield als.getStore();
  await new Promise((r) => setTimeout(r, 1));
  yield als.getStore();
}

async function waits() {
  const seen = [];
  const note = (where) => seen.push([where, als.getStore() ?? null]);
  note("start");
  await null;
  note("await null");
  await new Promise((r) => setTimeout(r, 2));
  note("setTimeout");
  await scheduler.wait(1);
  note("scheduler.wait");
  await new Promise((r) => queueMicrotask(r));
  note("queueMicrotask");
  await Promise.resolve().then(() => note("then"));
  await Promise.reject(new Error("x")).catch(() => note("catch"));
  await Promise.resolve().finally(() => note("finally"));
  await crypto.subtle.digest("SHA-256", new Uint8Array(4));
  note("crypto.subtle");
  await new Response("body").text();
  note("body read");
  for await (const v of gen()) seen.push(["async generator", v]);
  for await (const chunk of new Response("x").body) note("for await body");
  const all = await Promise.all([3, 1].map(async (ms) => { await new Promise((r) => setTimeout(r, ms)); return als.getStore(); }));
  seen.push(["Promise.all", all]);
  await new Promise((r) => setTimeout(() => { note("inside setTimeout callback"); r(); }, 1));
  return seen;
}

async function tagged(tag, ms) {
  const out = [];
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, ms));
    out.push(als.getStore());
  }
  return out;
}

const routes = {
  async waits() {
    return { inside: await als.run("request", waits), after: als.getStore() ?? null };
  },
  enterWith() {
    try {
      new AsyncLocalStorage().enterWith("top");
      return "no error";
    } catch (e) {
      return [e.name, e.message];
    }
  },
  async interleaved() {
    const [a, b] = await Promise.all([als.run("a", () => tagged("a", 5)), als.run("b", () => tagged("b", 2))]);
    return { a, b, outside: als.getStore() ?? null };
  },
  api() {
    const out = {};
    out.runReturns = als.run(1, (x, y) => x + y + als.getStore(), 10, 20);
    out.nested = als.run("outer", () => other.run("inner", () => [als.getStore(), other.getStore()]));
    out.exit = als.run("outer", () => als.exit(() => als.getStore() ?? null));
    out.exitKeepsOther = other.run("o", () => als.run("a", () => als.exit(() => other.getStore())));
    out.bind = als.run("bound", () => AsyncLocalStorage.bind(() => als.getStore()))();
    out.snapshot = als.run("snap", () => AsyncLocalStorage.snapshot())(() => als.getStore());
    const resource = als.run("res", () => new AsyncResource("TEST"));
    out.resource = [resource.runInAsyncScope(function (x) { return [als.getStore(), this, x]; }, "self", 7), resource.bind(() => als.getStore())()];
    out.staticBind = als.run("sb", () => AsyncResource.bind(() => als.getStore()))();
    out.throwRestores = (() => { try { als.run("t", () => { throw new Error("boom"); }); } catch (e) { return [e.message, als.getStore() ?? null]; } })();
    const named = new AsyncLocalStorage({ name: "named" });
    out.name = [named.name, als.name];
    out.defaultValue = new AsyncLocalStorage({ defaultValue: "d" }).getStore() ?? null;
    out.disable = (() => { try { new AsyncLocalStorage().disable(); return "no error"; } catch (e) { return [e.name, e.message]; } })();
    out.runNotFunction = (() => { try { als.run(1, 5); return "no error"; } catch (e) { return e.name; } })();
    return out;
  },
  exports() {
    return { AsyncLocalStorage: typeof asyncHooks.AsyncLocalStorage, AsyncResource: typeof asyncHooks.AsyncResource, proto: Object.getOwnPropertyNames(AsyncLocalStorage.prototype).sort(), statics: ["bind", "snapshot"].map((k) => typeof AsyncLocalStorage[k]) };
  },
};

export default {
  async fetch(request) {
    const name = new URL(request.url).pathname.slice(1);
    return Response.json(await routes[name]());
  },
};
