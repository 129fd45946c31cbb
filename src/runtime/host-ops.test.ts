/**
 * HostOps' "cancel" op (an aborted fetch in the guest): the subrequest's signal
 * aborts, a response body the guest did not finish is closed, and nothing of the
 * op is kept. Run with fakes for the sandbox and the host services.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { HostOps } from "./host-ops.ts";
import type { HostServices } from "./host-services.ts";
import type { ActiveInvocation } from "./invocation.ts";
import type { Sandbox } from "./sandbox.ts";

function setup(fetch: HostServices["fetch"]) {
  const settled: Array<[number, boolean, unknown]> = [];
  const waiters = new Map<number, () => void>();
  const invocation = { subrequests: 0, signal: new AbortController().signal, subrequest: undefined } as unknown as ActiveInvocation;
  const sandbox = {
    limits: { subrequests: 50 },
    disposed: false,
    active: invocation,
    enter(_fn: string, args: unknown[]) {
      const [id, ok, value] = args as [number, boolean, unknown];
      settled.push([id, ok, value]);
      waiters.get(id)?.();
    },
  } as unknown as Sandbox;
  const services = { fetch, createSubtle: () => ({ call: async () => null, dispose() {} }) } as HostServices;
  const ops = new HostOps(sandbox, services, {});
  /** Starts op `id` and resolves with what it settled with. */
  const run = (id: number, kind: string, payload: unknown) =>
    new Promise<[boolean, unknown]>((resolve) => {
      waiters.set(id, () => {
        const s = settled.find(([i]) => i === id)!;
        resolve([s[1], s[2]]);
      });
      ops.start(invocation, id, kind, payload);
    });
  return { ops, run };
}

const GET = { method: "GET", url: "http://example.test/", headers: [], body: null, redirect: "follow" };

test("cancel before the response: the subrequest's signal aborts with an AbortError", async () => {
  let signal: AbortSignal | undefined;
  const { run } = setup((_req, opts) => {
    signal = opts.signal;
    return new Promise((_resolve, reject) => opts.signal.addEventListener("abort", () => reject(opts.signal.reason)));
  });
  const fetching = run(1, "fetch", GET);
  assert.equal(signal?.aborted, false);
  assert.deepEqual(await run(2, "cancel", { op: 1 }), [true, null]);
  assert.equal(signal?.aborted, true);
  assert.equal((signal?.reason as Error).name, "AbortError");
  const [ok, value] = await fetching;
  assert.equal(ok, false);
  assert.equal((value as { name: string }).name, "AbortError");
});

test("cancel after the response: its body is closed and its stream id is gone", async () => {
  let returned = 0;
  let signal: AbortSignal | undefined;
  const body: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => ({ done: false, value: new Uint8Array([1]) }),
      return: async () => {
        returned++;
        return { done: true, value: undefined };
      },
    }),
  };
  const { run } = setup(async (_req, opts) => {
    signal = opts.signal;
    return { status: 200, statusText: "OK", headers: [], body };
  });
  const [ok, res] = await run(1, "fetch", GET);
  assert.equal(ok, true);
  const stream = (res as { body: { stream: number } }).body.stream;
  assert.deepEqual(await run(2, "stream.read", { stream }), [true, new Uint8Array([1])]);
  await run(3, "cancel", { op: 1 });
  assert.equal(signal?.aborted, true);
  assert.equal(returned, 1, "the body's iterator was closed");
  // The stream is forgotten: a read now is the end, and a second cancel does nothing.
  assert.deepEqual(await run(4, "stream.read", { stream }), [true, null]);
  await run(5, "cancel", { op: 1 });
  assert.equal(returned, 1);
});

test("a body read to its end leaves nothing to cancel; other fetches are untouched", async () => {
  const signals: AbortSignal[] = [];
  let returned = 0;
  const { run } = setup(async (_req, opts) => {
    signals.push(opts.signal);
    let sent = false;
    return {
      status: 200,
      statusText: "OK",
      headers: [],
      body: {
        [Symbol.asyncIterator]: () => ({
          next: async () => (sent ? { done: true, value: undefined } : ((sent = true), { done: false, value: new Uint8Array([7]) })),
          return: async () => {
            returned++;
            return { done: true, value: undefined };
          },
        }),
      },
    };
  });
  const [, a] = await run(1, "fetch", GET);
  const [, b] = await run(2, "fetch", GET);
  const stream = (a as { body: { stream: number } }).body.stream;
  await run(3, "stream.read", { stream });
  assert.deepEqual(await run(4, "stream.read", { stream }), [true, null]);
  await run(5, "cancel", { op: 1 });
  assert.equal(signals[0]!.aborted, false, "a finished fetch is not aborted after the fact");
  assert.equal(returned, 0);
  assert.equal(signals[1]!.aborted, false);
  assert.ok((b as { body: { stream: number } }).body.stream > stream);
});
