/**
 * Runs a snippet inside a fresh isolate with the full prelude, the way a function would
 * run it, and returns its JSON-copied result. For conformance tests of the guest Web APIs.
 *
 * @example
 * assert.equal(await evalGuest(`return new URL("http://a/b/../c").href`), "http://a/c");
 */
import { Sandbox } from "../../src/runtime/sandbox.ts";
import { resolveLimits } from "../../src/shared/limits.ts";
import { createHostServices } from "../../src/runtime/services.ts";
import type { FetchPolicy } from "../../src/runtime/fetch-guard.ts";
import type { LimitsOptions } from "../../src/shared/limits.ts";

let counter = 0;

export interface EvalGuestOptions {
  limits?: LimitsOptions;
  fetch?: FetchPolicy;
}

export async function evalGuest(code: string, options: EvalGuestOptions = {}): Promise<unknown> {
  const services = createHostServices({ fetch: options.fetch ?? { allowPrivateAddresses: true } });
  const source = `
export default {
  async fetch(request, env, ctx) {
    let value, error;
    try {
      value = await (async () => { ${code}\n })();
    } catch (e) {
      error = { name: e && e.name, message: e && e.message };
    }
    return new Response(JSON.stringify(error ? { error } : { value: value === undefined ? null : value }));
  }
};`;
  const sandbox = new Sandbox({
    source: { id: `eval-${++counter}`, code: source, format: "esm" },
    limits: resolveLimits({ cpuMs: 5_000, wallMs: 20_000, ...options.limits }),
    env: {},
    bindings: {},
    services,
  });
  try {
    const outcome = await sandbox.invoke({
      kind: "fetch",
      request: { method: "GET", url: "http://guest.test/", headers: [], body: null },
    });
    if (outcome.kind === "error") throw outcome.error;
    if (outcome.kind !== "response") throw new Error(`unexpected outcome ${outcome.kind}`);
    const chunks: Uint8Array[] = [];
    const body = outcome.response.body;
    if (body instanceof Uint8Array) chunks.push(body);
    else if (body !== null) for await (const c of body) chunks.push(c);
    await outcome.finished;
    const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { value?: unknown; error?: { name: string; message: string } };
    if (parsed.error) {
      const e = new Error(parsed.error.message);
      e.name = parsed.error.name;
      throw e;
    }
    return parsed.value;
  } finally {
    sandbox.dispose();
    await services.close();
  }
}
