/** The edge node's R2 storage: a registry that does not answer in time, or at all, fails the call with an error saying so. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createEdgeR2Storage } from "./r2.ts";
import { createRegistryClient } from "./registry-client.ts";

const plain = { httpMetadata: {}, customMetadata: {}, storageClass: "Standard" };

test("a call the registry does not answer within timeoutMs fails; the request is aborted", async () => {
  let aborted = false;
  const fetch = ((_url: string, init: RequestInit) =>
    new Promise<Response>((_resolve, reject) => {
      init.signal!.addEventListener("abort", () => {
        aborted = true;
        reject(init.signal!.reason);
      });
    })) as unknown as typeof globalThis.fetch;
  const storage = createEdgeR2Storage({ client: createRegistryClient({ url: "http://registry.test", token: "t", fetch }), tenant: "acme", bucket: "files", timeoutMs: 50 });
  await assert.rejects(storage.head("k"), /^Error: R2 head: the registry could not be reached \(R2 head in bucket files from the registry at http:\/\/registry\.test timed out or was aborted\)/);
  assert.ok(aborted);
});

test("a registry that refuses the connection, and one that answers 5xx, fail the call naming the operation", async () => {
  const refused = createEdgeR2Storage({ client: createRegistryClient({ url: "http://127.0.0.1:9", token: "t", fetch: globalThis.fetch }), tenant: "acme", bucket: "files" });
  await assert.rejects(refused.put("k", new Uint8Array([1]), plain), /^Error: R2 put: the registry could not be reached \(.*failed: fetch failed\)/);
  const broken = createEdgeR2Storage({ client: createRegistryClient({ url: "http://registry.test", token: "t", fetch: (async () => Response.json({ error: { code: "ERR_INTERNAL", message: "disk full" } }, { status: 500 })) as typeof globalThis.fetch }), tenant: "acme", bucket: "files" });
  await assert.rejects(broken.list({ limit: 10, include: [] }), /^Error: R2 list: the registry answered HTTP 500: disk full$/);
  const r2error = createEdgeR2Storage({ client: createRegistryClient({ url: "http://registry.test", token: "t", fetch: (async () => Response.json({ error: { code: "ERR_INVALID_REQUEST", message: "list: MaxKeys params must be positive integer <= 1000. (10022)" } }, { status: 400 })) as typeof globalThis.fetch }), tenant: "acme", bucket: "files" });
  await assert.rejects(r2error.list({ limit: 10, include: [] }), (e: Error) => e.constructor === Error && e.message === "list: MaxKeys params must be positive integer <= 1000. (10022)");
});
