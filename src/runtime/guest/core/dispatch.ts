/**
 * Finds the function's dialect and runs one invocation (DESIGN.md §3).
 * Results go to the host through `host.emit`; nothing user-made crosses as is.
 */
import type { BindingSpec, DialectInfo, Dialect, Invocation } from "../../bridge/protocol.ts";
import { host, primordials } from "./host.ts";
import { toGuestError } from "./errors.ts";
import { registerOutgoing } from "./streams-out.ts";
import { errorsJson, headersJson, postBody, postIdle, postResult } from "./wire.ts";
import { defineGlobal } from "./globals.ts";
import { installCloudflareWorkers } from "./cloudflare-workers.ts";
import { bindingObject } from "../bindings/index.ts";
import { requestFromData, isResponse, responseToData } from "../fetch/index.ts";
import { Response, responseState } from "../fetch/response.ts";
import { chunk } from "./lazy.ts";
import { URL } from "../platform/url.ts";

type Fn = (...args: unknown[]) => unknown;
type Listener = (event: unknown) => void;

const listeners = { fetch: [] as Listener[], scheduled: [] as Listener[] };
let dialect: Dialect | null = null;
let moduleExports: Record<string, unknown> = {};
let lambdaHandler: Fn | null = null;
let env: Record<string, unknown> = {};

/** Service-worker syntax: `addEventListener("fetch", ...)` at the top level. */
export function installServiceWorkerGlobals(): void {
  const et = globalThis as unknown as { addEventListener?: Fn; removeEventListener?: Fn };
  const baseAdd = et.addEventListener;
  const baseRemove = et.removeEventListener;
  defineGlobal("addEventListener", function addEventListener(type: unknown, fn: unknown, options?: unknown) {
    if (type === "fetch" || type === "scheduled") {
      if (typeof fn !== "function") throw new TypeError(`addEventListener("${type}"): the listener must be a function`);
      listeners[type].push(fn as Listener);
      return;
    }
    if (baseAdd) baseAdd.call(globalThis, type, fn, options);
  });
  defineGlobal("removeEventListener", function removeEventListener(type: unknown, fn: unknown, options?: unknown) {
    if (type === "fetch" || type === "scheduled") {
      const list = listeners[type];
      const i = list.indexOf(fn as Listener);
      if (i >= 0) list.splice(i, 1);
      return;
    }
    if (baseRemove) baseRemove.call(globalThis, type, fn, options);
  });
}

let envReady = false;

function makeEnv(envData: Record<string, unknown>, specs: BindingSpec[]): Record<string, unknown> {
  if (envReady) return env;
  env = { ...envData };
  for (const spec of specs) env[spec.name] = bindingObject(spec);
  envReady = true;
  return env;
}

/**
 * `env` made before the bundle runs, for what reads it from the top level on.
 * `asGlobals`: service-worker syntax reads its bindings as globals (`MY_KV.get(...)`,
 * a var by its name): before a classic script runs, each binding becomes a
 * writable global, unless a global of that name exists already (the platform's
 * own, which a binding never replaces). Without it: a module importing
 * `cloudflare:workers`, whose `env` is this object.
 */
export function prepareEnv(envData: Record<string, unknown>, specs: BindingSpec[], asGlobals: boolean): void {
  const values = makeEnv(envData, specs);
  if (!asGlobals) return;
  for (const name of Object.keys(values)) {
    if (Object.prototype.hasOwnProperty.call(globalThis, name)) continue;
    Object.defineProperty(globalThis, name, { value: values[name], writable: true, configurable: true, enumerable: false });
  }
}

/** `import { env, waitUntil } from "cloudflare:workers"`: the function's env, the running invocation's waitUntil. */
export function installWorkersModule(): void {
  installCloudflareWorkers({
    env: () => env,
    waitUntil(p: unknown) {
      if (running === null) throw new Error('waitUntil from "cloudflare:workers" was called outside of a request');
      waitUntilFor(running)(p);
    },
  });
}

/**
 * A class default export (`export default class extends WorkerEntrypoint`): each
 * invocation constructs it with (ctx, env) and calls the method on the instance
 * with the event's argument (and two undefined ones: workerd passes three).
 */
function entrypointAdapter(cls: new (ctx: unknown, env: unknown) => Record<string, unknown>): Record<string, unknown> {
  const adapter: Record<string, unknown> = {};
  for (const name of ["fetch", "scheduled"]) {
    if (typeof (cls.prototype as Record<string, unknown>)[name] !== "function") continue;
    adapter[name] = (arg: unknown, envArg: unknown, ctx: unknown) => {
      const instance = new cls(ctx, envArg);
      return (instance[name] as Fn).call(instance, arg, undefined, undefined);
    };
  }
  return adapter;
}

function isEntrypointClass(def: unknown): def is new (ctx: unknown, env: unknown) => Record<string, unknown> {
  if (typeof def !== "function" || def.prototype === undefined || def.prototype === null) return false;
  const proto = def.prototype as Record<string, unknown>;
  return typeof proto.fetch === "function" || typeof proto.scheduled === "function";
}

export function init(namespace: unknown, envData: Record<string, unknown>, specs: BindingSpec[]): DialectInfo {
  makeEnv(envData, specs);
  const found: string[] = [];
  const ns = (namespace ?? {}) as Record<string, unknown>;
  const cjs = (globalThis as { module?: { exports?: Record<string, unknown> } }).module?.exports ?? {};
  const def = ns.default as Record<string, unknown> | undefined;
  for (const k of Object.keys(ns)) found.push(k);
  if (def !== null && typeof def === "object") for (const k of Object.keys(def)) found.push(`default.${k}`);

  if (isEntrypointClass(def)) {
    dialect = "module";
    moduleExports = entrypointAdapter(def);
    for (const name of Object.keys(moduleExports)) found.push(`default.prototype.${name}`);
  } else if (def !== null && (typeof def === "object" || typeof def === "function") && (typeof def.fetch === "function" || typeof def.scheduled === "function")) {
    dialect = "module";
    moduleExports = def;
  } else if (typeof ns.handler === "function") {
    dialect = "lambda";
    lambdaHandler = ns.handler as Fn;
  } else if (def !== null && typeof def === "object" && typeof def.handler === "function") {
    dialect = "lambda";
    lambdaHandler = def.handler as Fn;
  } else if (typeof cjs.handler === "function") {
    dialect = "lambda";
    lambdaHandler = cjs.handler as Fn;
    found.push("module.exports.handler");
  } else if (listeners.fetch.length > 0 || listeners.scheduled.length > 0) {
    dialect = "service-worker";
    if (listeners.fetch.length) found.push('addEventListener("fetch")');
    if (listeners.scheduled.length) found.push('addEventListener("scheduled")');
  }
  return { dialect, exports: found };
}

interface Running {
  waitUntil: Promise<unknown>[];
  passThrough: boolean;
  answered: boolean;
}

let running: Running | null = null;

function waitUntilFor(r: Running) {
  return (p: unknown) => {
    r.waitUntil.push(primordials.PromiseResolve(p));
  };
}

function emitError(invocation: number, r: Running, e: unknown): void {
  if (r.answered) return;
  r.answered = true;
  host.emit({ type: "error", invocation, error: toGuestError(e), passThrough: r.passThrough });
}

async function drainWaitUntil(invocation: number, r: Running): Promise<void> {
  const errors = [];
  // waitUntil may be called again while earlier promises run: loop until quiet.
  for (let i = 0; i < r.waitUntil.length; i++) {
    try {
      await r.waitUntil[i];
    } catch (e) {
      errors.push(toGuestError(e));
    }
  }
  if (errors.length === 0) postIdle(invocation);
  else host.idle(invocation, errorsJson(errors));
}

function invalidResult(message: string): Error {
  const e = new TypeError(message);
  e.name = "VergeInvalidResult";
  return e;
}

/**
 * Answers a fetch invocation with `value`, which must be a Response. With `asResult`, a head whose
 * body is none or fits the mailbox is returned as a string instead of crossing through
 * `host.respond` (see GuestApi.dispatchFetch); otherwise undefined is returned.
 */
function answerFetch(invocation: number, r: Running, value: unknown, asResult = false): string | undefined {
  if (r.answered) return undefined;
  if (!isResponse(value)) {
    throw invalidResult(`the fetch handler must return a Response (or a Promise of one), found ${value === null ? "null" : typeof value}`);
  }
  const socket = responseState(value as Response).webSocket;
  if (socket !== null) return answerWithSocket(invocation, r, value, socket);
  const { head, body } = responseToData(value);
  r.answered = true;
  const headers = headersJson(head.headers);
  if (body === null || body instanceof Uint8Array) {
    const inline = body === null ? -1 : postBody(body);
    // status, inline length, headers (JSON: no raw newline), then the status text (the rest).
    if (asResult && (body === null || inline >= 0)) return `${head.status}\n${inline}\n${headers}\n${head.statusText}`;
    host.respond(invocation, head.status, head.statusText, headers, inline < 0 ? body : null, inline);
  } else host.respond(invocation, head.status, head.statusText, headers, registerOutgoing(body), -1);
  return undefined;
}

/**
 * A 101 whose `webSocket` the client gets: the socket is coupled to the host (the lazy part is
 * loaded: the Response constructor checked the socket with it) and the head crosses as an emit
 * naming the connection (rare: no fast path).
 */
function answerWithSocket(invocation: number, r: Running, value: unknown, socket: unknown): undefined {
  const ws = chunk("websocket");
  const { head } = responseToData(value);
  const tunnel = ws.tunnelOf(socket as InstanceType<typeof ws.WebSocket>);
  if (tunnel !== 0) {
    // A connection the host opened for a fetch(): handed back by its token, as it is.
    r.answered = true;
    host.emit({ type: "response", invocation, head, body: null, tunnel });
    return undefined;
  }
  ws.coupleToHost(socket as InstanceType<typeof ws.WebSocket>, invocation, (id) => {
    r.answered = true;
    host.emit({ type: "response", invocation, head, body: null, webSocket: id });
  });
  return undefined;
}

/** Workers' `ctx` (ExecutionContext) of an invocation. */
function contextFor(r: Running) {
  return {
    waitUntil: waitUntilFor(r),
    passThroughOnException: () => {
      r.passThrough = true;
    },
    props: {},
  };
}

async function runFetch(invocation: number, r: Running, job: Extract<Invocation, { kind: "fetch" }>): Promise<void> {
  const request = requestFromData(job.request, job.cf);
  const ctx = contextFor(r);
  if (dialect === "module") {
    const fetch = moduleExports.fetch as Fn | undefined;
    if (typeof fetch !== "function") throw invalidResult("the module has no fetch handler (export default { fetch })");
    answerFetch(invocation, r, await fetch.call(moduleExports, request, env, ctx));
    return;
  }
  if (dialect === "service-worker") {
    let responded: unknown = undefined;
    let called = false;
    const event = {
      type: "fetch",
      request,
      respondWith(p: unknown) {
        if (called) throw new DOMExceptionLike("respondWith() was already called", "InvalidStateError");
        called = true;
        responded = p;
      },
      waitUntil: ctx.waitUntil,
      passThroughOnException: ctx.passThroughOnException,
    };
    for (const l of listeners.fetch) l.call(globalThis, event);
    if (!called) {
      // Workers forwards the request to the origin when no listener responds.
      r.passThrough = true;
      throw invalidResult("no fetch listener called respondWith()");
    }
    answerFetch(invocation, r, await responded);
    return;
  }
  throw invalidResult(`a ${dialect ?? "bundle without a handler"} cannot receive a fetch invocation`);
}

class DOMExceptionLike extends Error {
  constructor(message: string, name: string) {
    super(message);
    this.name = name;
  }
}

/** `startedAt`: the host's clock (`host.now()`) when the invocation began, for `getRemainingTimeInMillis`. */
function runLambda(job: Extract<Invocation, { kind: "cloudfront" }>, startedAt: number): Promise<unknown> {
  const handler = lambdaHandler;
  if (handler === null) throw invalidResult("the bundle exports no Lambda@Edge handler");
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err: unknown, value?: unknown) => {
      if (settled) return;
      settled = true;
      if (err !== null && err !== undefined) reject(err);
      else resolve(value);
    };
    const { timeoutMs, ...fields } = job.context;
    const deadline = startedAt + Number(timeoutMs ?? 0);
    const context = {
      ...fields,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, Math.round(deadline - host.now())),
    };
    const ret = handler(job.event, context, callback);
    if (ret !== null && typeof ret === "object" && typeof (ret as Promise<unknown>).then === "function") {
      (ret as Promise<unknown>).then(
        (v) => {
          if (!settled) {
            settled = true;
            resolve(v);
          }
        },
        (e) => {
          if (!settled) {
            settled = true;
            reject(e);
          }
        },
      );
    } else if (handler.length < 3 && !settled) {
      // A non-async handler that takes no callback answers with its return value.
      settled = true;
      resolve(ret);
    }
  });
}

async function runScheduled(r: Running, job: Extract<Invocation, { kind: "scheduled" }>): Promise<void> {
  let retry = true;
  const controller = { cron: job.cron, scheduledTime: job.scheduledTime, type: "scheduled", noRetry: () => void (retry = false) };
  if (dialect === "module") {
    const scheduled = moduleExports.scheduled as Fn | undefined;
    if (typeof scheduled !== "function") throw invalidResult("the module has no scheduled handler");
    await scheduled.call(moduleExports, controller, env, { waitUntil: waitUntilFor(r), passThroughOnException() {} });
  } else if (dialect === "service-worker" && listeners.scheduled.length > 0) {
    const event = { ...controller, waitUntil: waitUntilFor(r) };
    for (const l of listeners.scheduled) l.call(globalThis, event);
  } else {
    throw invalidResult("the bundle has no scheduled handler");
  }
  void retry;
}

export function dispatch(invocation: number, job: Invocation): void {
  const r: Running = { waitUntil: [], passThrough: false, answered: false };
  running = r;
  let main: Promise<void>;
  try {
    if (job.kind === "fetch") main = runFetch(invocation, r, job);
    else if (job.kind === "cloudfront") {
      main = runLambda(job, host.now()).then((value) => answerLambda(invocation, r, value));
    } else {
      main = runScheduled(r, job).then(() => {
        r.answered = true;
        host.emit({ type: "result", invocation, value: { outcome: "ok" } });
      });
    }
  } catch (e) {
    main = Promise.reject(e);
  }
  main.catch((e) => emitError(invocation, r, e)).then(() => drainWaitUntil(invocation, r));
}

/**
 * Answers a Lambda@Edge invocation with the handler's value. Lambda@Edge results are JSON: it is
 * serialized with the captured builtin, so only plain data crosses, and crosses as that text
 * (posted in the mailbox when it fits, else `host.result`; the host parses it). A value JSON cannot hold (a cycle, a BigInt) is an invalid
 * result; `undefined` (or a function) is `null`.
 */
function answerLambda(invocation: number, r: Running, value: unknown): void {
  if (r.answered) return;
  let text: string | undefined;
  try {
    text = value === undefined ? undefined : primordials.JSONStringify(value);
  } catch (e) {
    throw invalidResult(`the handler's result is not JSON: ${e instanceof Error ? e.message : primordials.String(e)}`);
  }
  r.answered = true;
  const json = text === undefined ? "null" : text;
  if (!postResult(invocation, json)) host.result(invocation, json);
}

/**
 * `dispatch` of a "cloudfront" job whose event and context crossed as JSON text (GuestApi.dispatchCloudFront):
 * an object argument is structure-cloned by ivm, and JSON text crosses as one string. `startedAt` is the
 * host's clock when the invocation began (no `host.now()` call back to the host). A Lambda@Edge handler has
 * no waitUntil, so the invocation is idle as soon as it answered or failed.
 */
export function dispatchCloudFront(invocation: number, eventJson: string, contextJson: string, startedAt: number): void {
  const r: Running = { waitUntil: [], passThrough: false, answered: false };
  running = r;
  const job = { kind: "cloudfront", event: primordials.JSONParse(eventJson), context: primordials.JSONParse(contextJson) } as Extract<Invocation, { kind: "cloudfront" }>;
  let main: Promise<void>;
  try {
    main = runLambda(job, startedAt).then((value) => answerLambda(invocation, r, value));
  } catch (e) {
    main = Promise.reject(e);
  }
  main.then(
    () => idleAfterLambda(invocation, r),
    (e) => {
      emitError(invocation, r, e);
      idleAfterLambda(invocation, r);
    },
  );
}

function idleAfterLambda(invocation: number, r: Running): void {
  if (r.waitUntil.length === 0) postIdle(invocation);
  else void drainWaitUntil(invocation, r);
}

/**
 * `dispatch` of a "fetch" job whose parts crossed as primitives (see GuestApi.dispatchFetch).
 * Fast path for a module Worker whose `fetch` returns a Response itself (not a promise): it is
 * answered, and the invocation goes idle when no waitUntil is pending, before this call returns,
 * without a promise turn (the host sees the whole invocation in this one entry either way); a
 * head whose body is none or fits the mailbox is the call's result, not a `respond` callback.
 */
export function dispatchFetch(invocation: number, method: string, url: string, headers: string, body: Uint8Array | number | null, cf: string | undefined): string | undefined {
  const data = {
    method,
    url,
    headers: (headers === "[]" ? [] : primordials.JSONParse(headers)) as Array<[string, string]>,
    body: typeof body === "number" ? { stream: body } : body,
  };
  const cfData = cf === undefined ? undefined : (primordials.JSONParse(cf) as Record<string, unknown>);
  const handler = dialect === "module" ? moduleExports.fetch : undefined;
  if (typeof handler !== "function") {
    dispatch(invocation, { kind: "fetch", request: data, cf: cfData });
    return undefined;
  }
  const r: Running = { waitUntil: [], passThrough: false, answered: false };
  running = r;
  let value: unknown;
  try {
    value = (handler as Fn).call(moduleExports, requestFromData(data, cfData), env, contextFor(r));
    if (isResponse(value)) {
      const head = answerFetch(invocation, r, value, true);
      if (r.waitUntil.length === 0) postIdle(invocation);
      else void drainWaitUntil(invocation, r);
      return head;
    }
  } catch (e) {
    emitError(invocation, r, e);
    void drainWaitUntil(invocation, r);
    return undefined;
  }
  // A promise (or anything else): answered when it settles.
  void answerLater(invocation, r, value);
  return undefined;
}

async function answerLater(invocation: number, r: Running, value: unknown): Promise<void> {
  try {
    answerFetch(invocation, r, await value);
  } catch (e) {
    emitError(invocation, r, e);
  }
  await drainWaitUntil(invocation, r);
}

/**
 * Runs the fetch request path once on synthetic data (a Request from bridge data, its headers
 * and URL read, a Response with headers and a string body turned into a head), so a spare
 * isolate's first real call does not pay for warming it up (~0.5 ms: feedback vectors, inline
 * caches). Called by the host on a shell made ahead of need, before any user code is in the
 * isolate; nothing of it is kept and no host function but `urlParse` is called.
 */
export function warm(): void {
  const r: Running = { waitUntil: [], passThrough: false, answered: false };
  const headers = primordials.JSONParse('[["accept","*/*"],["user-agent","verge"]]') as Array<[string, string]>;
  const request = requestFromData({ method: "GET", url: "http://warm.invalid/path?q=1", headers, body: null }, undefined) as {
    url: string;
    method: string;
    headers: { get(name: string): string | null };
  };
  void request.method;
  void request.headers.get("accept");
  void new URL(request.url).pathname;
  const res = new Response(primordials.JSONStringify({ warm: true }), { status: 200, headers: { "content-type": "application/json" } });
  answerFetch(0, r, res, true);
}

export function currentInvocation(): Running | null {
  return running;
}
