/** The child's half of a harness service binding call (service-calls.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServiceCaller } from "./service-calls.ts";
import type { ServiceToParent } from "./messages.ts";

test("a call whose caller gives up while its request body is read is never sent to the parent", async () => {
  const sent: ServiceToParent[] = [];
  const { host } = createServiceCaller((m) => sent.push(m));
  const controller = new AbortController();
  async function* body(): AsyncGenerator<Uint8Array> {
    yield new Uint8Array([1]);
    controller.abort(new DOMException("gave up", "AbortError"));
    yield new Uint8Array([2]);
  }
  const request = { method: "POST", url: "http://svc/x", headers: [] as Array<[string, string]>, body: { [Symbol.asyncIterator]: () => body() } };
  const call = host({ binding: "SVC" } as never, request as never, { signal: controller.signal } as never);
  // Without the check the call is sent and, its abort already past, waits for the parent forever.
  const outcome = await Promise.race([
    call.then(() => "answered", (err: Error) => err.name),
    new Promise<string>((resolve) => setTimeout(resolve, 1_000, "still waiting")).then((v) => v),
  ]);
  assert.equal(outcome, "AbortError");
  assert.deepEqual(sent, [], "nothing reached the parent");
});
