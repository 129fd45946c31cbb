import { test } from "node:test";
import assert from "node:assert/strict";
import type { CacheBehavior, FunctionAssociation } from "../shared/protocol.ts";
import { attachRoutes, type DistributionBody } from "./wrangler-routes.ts";
import type { WranglerRoute } from "../../wrangler-compat/index.ts";

const NONE = { behavior: "none" as const, items: [] };
const base = (): DistributionBody => ({
  hostnames: ["www.example.com"],
  origins: [{ id: "web", url: "http://127.0.0.1:9", connectTimeoutMs: 1000, readTimeoutMs: 1000, customHeaders: {} }],
  behaviors: [],
  defaultBehavior: { originId: "web", cacheKey: { queryStrings: NONE, headers: NONE, cookies: NONE }, ttl: { min: 0, default: 60, max: 300 }, functions: {} },
});
const route = (pattern: string, hostname: string, path: string | null, customDomain = false): WranglerRoute => ({ pattern, hostname, path, customDomain });
const api: FunctionAssociation = { function: "api", alias: "live", includeBody: false };

test("a path becomes a behavior at viewer-request with the default's origin, cache key and TTLs; hostnames are added once", () => {
  const { body, notes } = attachRoutes(base(), [route("shop.example.com/api/*", "shop.example.com", "/api/*"), route("www.example.com/v2/*", "www.example.com", "/v2/*")], api);
  assert.deepEqual(body.hostnames, ["www.example.com", "shop.example.com"]);
  assert.deepEqual(body.behaviors.map((b) => b.pathPattern), ["/api/*", "/v2/*"]);
  assert.deepEqual(body.behaviors[0], { pathPattern: "/api/*", originId: "web", cacheKey: base().defaultBehavior.cacheKey, ttl: { min: 0, default: 60, max: 300 }, functions: { "viewer-request": api } });
  assert.equal(notes.length, 1);
  assert.match(notes[0]!, /behaviors apply to all of its hostnames/);
});

test("/* and a custom domain go to the default behavior; *example.com adds the apex and its subdomains", () => {
  const { body, notes } = attachRoutes(base(), [route("*example.net/*", "*example.net", "/*"), route("api.example.org", "api.example.org", null, true)], api);
  assert.deepEqual(body.hostnames, ["www.example.com", "example.net", "*.example.net", "api.example.org"]);
  assert.deepEqual(body.behaviors, []);
  assert.deepEqual(body.defaultBehavior.functions, { "viewer-request": api });
  assert.deepEqual(notes, []);
});

test("an existing behavior with the same pattern keeps its settings and gets the Worker (noting what it replaced); a new one goes before a behavior that would shadow it", () => {
  const current = base();
  const other: FunctionAssociation = { function: "old", alias: "live", includeBody: true };
  const images: CacheBehavior = { pathPattern: "/img/*", originId: "web", cacheKey: current.defaultBehavior.cacheKey, ttl: { min: 5, default: 5, max: 5 }, functions: { "viewer-request": other, "origin-response": other } };
  const broad: CacheBehavior = { ...images, pathPattern: "/a*", functions: {} };
  current.behaviors = [images, broad];
  const { body, notes } = attachRoutes(current, [route("www.example.com/img/*", "www.example.com", "/img/*"), route("www.example.com/api/*", "www.example.com", "/api/*")], api);
  assert.deepEqual(body.behaviors.map((b) => b.pathPattern), ["/img/*", "/api/*", "/a*"]);
  assert.deepEqual(body.behaviors[0]!.functions, { "viewer-request": api, "origin-response": other });
  assert.deepEqual(body.behaviors[0]!.ttl, { min: 5, default: 5, max: 5 });
  assert.deepEqual(notes, ['behavior "/img/*": viewer-request ran old@live; now api@live']);
  assert.deepEqual(current.behaviors[0]!.functions["viewer-request"], other, "the input is not changed");
});
