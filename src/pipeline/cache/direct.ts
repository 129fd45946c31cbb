/**
 * The cache's direct API (ResponseCache `get` / `put` / `delete`, src/pipeline/types.ts):
 * one stored response by scope and key, without a viewer request around it. The
 * Workers Cache API (cache-api.ts) is built on it. The records are the ones
 * `serve` reads and writes (same keys, Vary variants, TTLs, size cap and LRU,
 * purges), so a distribution's traffic and its functions see each other's entries.
 */
import type { CacheSlot, StoredResponse, StoreRequest } from "../types.ts";
import { currentAge, isFresh } from "./freshness.ts";
import { entryKey, newEntry } from "./records.ts";
import type { CacheStorage } from "./storage.ts";
import { variantId, varyNames, varyValues } from "./vary.ts";

export interface DirectContext {
  storage: CacheStorage;
  now: () => number;
  counters: { hits: number; misses: number };
  /** Largest body stored, in bytes. */
  objectLimit: number;
  maxBytes: number;
}

export interface DirectFunctions {
  get(slot: CacheSlot): StoredResponse | undefined;
  put(request: StoreRequest): Promise<boolean>;
  delete(slot: Omit<CacheSlot, "request">): Promise<boolean>;
}

export function createDirect(ctx: DirectContext): DirectFunctions {
  return {
    get(slot) {
      const at = ctx.now();
      // Newest first: the first fresh variant whose body is still there.
      for (const found of ctx.storage.find(slot.distribution, slot.key, slot.request)) {
        if (!isFresh(found.entry, at)) continue;
        const body = ctx.storage.body(found.entry, true);
        if (body === undefined) continue;
        ctx.storage.hit(found.entryKey, at);
        ctx.counters.hits++;
        const e = found.entry;
        return { status: e.status, statusText: e.statusText, headers: e.headers, body, age: currentAge(e, at), etag: e.etag, lastModified: e.lastModified };
      }
      ctx.counters.misses++;
      return undefined;
    },

    async put(o) {
      if (o.body.byteLength > ctx.objectLimit) return false;
      const at = ctx.now();
      const vary = varyNames(o.headers.get("vary"));
      if (vary.includes("*")) return false;
      const values = varyValues(o.request, vary);
      const key = entryKey(o.distribution, o.key, variantId(vary, values));
      const age = o.headers.get("age");
      const entry = newEntry({
        distribution: o.distribution,
        path: o.path,
        key: o.key,
        entryKey: key,
        status: o.status,
        statusText: o.statusText,
        headers: o.headers,
        vary,
        varyValues: values,
        bodyBytes: o.body.byteLength,
        at,
        timing: {
          ttl: Math.max(0, Math.floor(o.ttl)),
          noCache: false,
          staleIfError: Math.max(0, Math.floor(o.staleIfError)),
          initialAge: age !== null && /^\d+$/.test(age.trim()) ? Number(age.trim()) : 0,
        },
      });
      if (entry.size > ctx.maxBytes) return false;
      // As a fill does: the new response replaces the variants this request matched.
      const replace = ctx.storage
        .find(o.distribution, o.key, o.request)
        .map((f) => f.entryKey)
        .filter((k) => k !== key);
      await ctx.storage.put(entry, key, o.body, replace);
      return true;
    },

    async delete(slot) {
      return (await ctx.storage.removeKey(slot.distribution, slot.key)) > 0;
    },
  };
}
