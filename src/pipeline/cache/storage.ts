/**
 * The cache's records in the node's LMDB environment (layout in records.ts).
 *
 * Every change is one LMDB write transaction, so worker processes sharing the
 * environment never see half an entry, and the `s/bytes` / `s/entries`
 * counters (read and written inside the same transactions) stay equal to the
 * records they count. What is approximate: the LRU order (see lru.ts) and
 * request collapsing, which is per process.
 */
import type { CacheStore } from "./store.ts";
import { createLruOrder } from "./lru.ts";
import { BYTES_KEY, ENTRIES_KEY, ENTRY_PREFIX, GENERATION_KEY, distributionPrefix, keyPrefix, type CacheEntry } from "./records.ts";
import { varyMatches, type HeaderSource } from "./vary.ts";

/** A stored variant that matches a request. */
export interface Found {
  entryKey: string;
  entry: CacheEntry;
}

export interface CacheStorage {
  /** Variants of `key` whose Vary values match `headers`, newest first. */
  find(distribution: string, key: string, headers: HeaderSource): Found[];
  /**
   * The entry's body, or undefined if another process replaced or evicted it
   * meanwhile. Shared with other hits of the entry: read it, never change it.
   * `fresh`: `entry` was returned by `find` in this same synchronous run (so
   * it is stored now, and a kept body needs no check).
   */
  body(entry: CacheEntry, fresh?: boolean): Uint8Array | undefined;
  /** Stores `entry` (replacing `replace`), then evicts LRU entries down to maxBytes. */
  put(entry: CacheEntry, entryKey: string, body: Uint8Array, replace: readonly string[]): Promise<void>;
  /** Rewrites an entry after a 304, if it still holds the same body; returns the new record. */
  refresh(found: Found, patch: Partial<CacheEntry>): Promise<CacheEntry | undefined>;
  remove(found: Found): Promise<void>;
  /** Removes every variant of `key`; returns how many there were. */
  removeKey(distribution: string, key: string): Promise<number>;
  purge(distribution: string, match: (entry: CacheEntry) => boolean): Promise<number>;
  hit(entryKey: string, at: number): void;
  counts(): { entries: number; bytes: number };
  readonly evictions: number;
  /** Writes pending hit times, then resolves once every write started so far has committed (or failed). */
  drain(): Promise<void>;
}

interface Counts {
  bytes: number;
  entries: number;
}

/** Hits buffered before their `lastAccess` is written back (one transaction per batch). */
const ACCESS_BATCH = 64;
/** Keys whose variant lists this process keeps between writes (see `find`). */
const KNOWN_KEYS = 4096;
/** Bodies this process keeps in memory for hits (each at most BODY_MEMO_OBJECT bytes). */
const BODY_MEMO_BYTES = 16 * 1024 * 1024;
const BODY_MEMO_OBJECT = 256 * 1024;

export function createCacheStorage(store: CacheStore, maxBytes: number): CacheStorage {
  const meta = store.table<CacheEntry>("cache-meta");
  const counters = store.table<number>("cache-meta");
  const bodies = store.bytes("cache-body");
  const lru = createLruOrder();
  let evictions = 0;
  const writing = new Set<Promise<unknown>>();

  /**
   * Every write transaction goes through here, so {@link CacheStorage.drain} can wait for it.
   * Each one that adds, changes or removes an entry also bumps the generation
   * counter in the same transaction (`touchesEntries`; only the `lastAccess`
   * write-back does not), which is what lets `find` reuse what it read.
   */
  function write<T>(fn: () => T, touchesEntries = true): Promise<T> {
    const p = store.transaction(
      touchesEntries
        ? () => {
            const out = fn();
            counters.putSync(GENERATION_KEY, (counters.get(GENERATION_KEY) ?? 0) + 1);
            return out;
          }
        : fn,
    );
    const tracked: Promise<void> = p.then(
      () => void writing.delete(tracked),
      () => void writing.delete(tracked),
    );
    writing.add(tracked);
    return p;
  }

  /** The counters, read and written inside one transaction. */
  const openCounts = (): Counts => ({ bytes: counters.get(BYTES_KEY) ?? 0, entries: counters.get(ENTRIES_KEY) ?? 0 });
  const saveCounts = (c: Counts): void => {
    counters.putSync(BYTES_KEY, Math.max(0, c.bytes));
    counters.putSync(ENTRIES_KEY, Math.max(0, c.entries));
  };

  /** Inside a transaction: drops one record and its body; false when already gone. */
  function removeIn(entryKey: string, c: Counts, bodyId?: string): boolean {
    const rec = meta.get(entryKey);
    lru.forget(entryKey);
    if (rec === undefined || (bodyId !== undefined && rec.bodyId !== bodyId)) return false;
    meta.removeSync(entryKey);
    bodies.removeSync(rec.bodyId);
    c.bytes -= rec.size;
    c.entries -= 1;
    return true;
  }

  /** Inside a transaction: evicts oldest-first until under the cap; true when it got there. */
  function evictIn(c: Counts, keep: string | null): boolean {
    if (c.bytes <= maxBytes) return true;
    for (const victim of lru.oldest()) {
      if (victim === keep) continue;
      if (removeIn(victim, c)) evictions++;
      if (c.bytes <= maxBytes) return true;
    }
    return false;
  }

  /** Reads every entry's lastAccess back from LMDB (entries other processes stored included). */
  function rebuild(): void {
    const records: Array<{ entryKey: string; lastAccess: number }> = [];
    for (const { key, value } of meta.range({ prefix: ENTRY_PREFIX })) records.push({ entryKey: key, lastAccess: value.lastAccess });
    lru.rebuild(records);
  }

  async function evictAfterRebuild(keep: string): Promise<void> {
    rebuild();
    await write(() => {
      const c = openCounts();
      evictIn(c, keep);
      saveCounts(c);
    });
  }

  function flushAccess(): void {
    const dirty = lru.takeDirty();
    write(() => {
      for (const [entryKey, at] of dirty) {
        const rec = meta.get(entryKey);
        if (rec !== undefined && rec.lastAccess < at) meta.putSync(entryKey, { ...rec, lastAccess: at });
      }
    }, false)
      .catch(() => {
        // Access times are an optimisation for eviction order; losing a batch is harmless.
      });
  }

  /**
   * Every variant of each recently looked-up key, newest first, as read at a
   * generation. While the generation in the store is still that one, no
   * process of the node has stored, refreshed, removed, purged or evicted
   * anything since, so the list is still exactly what a range read would
   * return (apart from `lastAccess`, which serving does not use): a hit then
   * costs one small read instead of a range scan. Any write, by any process,
   * makes every list be read again.
   */
  const known = new Map<string, { generation: number; variants: Found[] }>();

  /**
   * Small bodies by body id. A body id is never reused and its bytes never
   * change, and a body exists exactly as long as the entry naming it (they are
   * written and removed in one transaction): so a kept body is served while
   * its entry is still stored, which the generation tells (`isCurrent`).
   */
  const bodyMemo = new Map<string, Uint8Array>();
  let bodyMemoBytes = 0;

  /** The entry is stored now: it is in its key's variant list read at the current generation. */
  function isCurrent(entry: CacheEntry): boolean {
    const seen = known.get(keyPrefix(entry.distribution, entry.key));
    return seen !== undefined && seen.generation === (counters.get(GENERATION_KEY) ?? 0) && seen.variants.some((f) => f.entry.bodyId === entry.bodyId);
  }

  function variantsOf(prefix: string): Found[] {
    // Read in the same synchronous stretch, so both come from one read snapshot.
    const generation = counters.get(GENERATION_KEY) ?? 0;
    const seen = known.get(prefix);
    if (seen !== undefined && seen.generation === generation) return seen.variants;
    const variants: Found[] = [];
    for (const { key: entryKey, value } of meta.range({ prefix })) variants.push({ entryKey, entry: value });
    variants.sort((a, b) => b.entry.storedAt - a.entry.storedAt);
    if (seen === undefined && known.size >= KNOWN_KEYS) known.delete(known.keys().next().value!);
    known.set(prefix, { generation, variants });
    return variants;
  }

  return {
    find(distribution, key, headers) {
      const out: Found[] = [];
      for (const found of variantsOf(keyPrefix(distribution, key))) {
        if (varyMatches(headers, found.entry.vary, found.entry.varyValues)) out.push(found);
      }
      return out;
    },
    body(entry, fresh = false) {
      const kept = bodyMemo.get(entry.bodyId);
      if (kept !== undefined && (fresh || isCurrent(entry))) return kept;
      const body = bodies.get(entry.bodyId);
      if (body !== undefined && body.byteLength <= BODY_MEMO_OBJECT) {
        bodyMemo.set(entry.bodyId, body);
        bodyMemoBytes += body.byteLength;
        for (const [id, b] of bodyMemo) {
          if (bodyMemoBytes <= BODY_MEMO_BYTES) break;
          bodyMemo.delete(id);
          bodyMemoBytes -= b.byteLength;
        }
      }
      return body;
    },
    async put(entry, entryKey, body, replace) {
      // Evicting needs an order that knows (nearly) every entry: read it from LMDB
      // when this process has not yet, or when other processes stored more than
      // it knows of (the doubling keeps rebuilds amortised O(1) per entry).
      const known = openCounts();
      if (known.bytes + entry.size > maxBytes && (!lru.complete || lru.size * 2 < known.entries)) rebuild();
      let underCap = true;
      await write(() => {
        const c = openCounts();
        for (const k of replace) removeIn(k, c);
        removeIn(entryKey, c);
        meta.putSync(entryKey, entry);
        bodies.putSync(entry.bodyId, body);
        c.bytes += entry.size;
        c.entries += 1;
        lru.touch(entryKey, entry.lastAccess);
        underCap = evictIn(c, entryKey);
        saveCounts(c);
      });
      // Entries this process's order did not know of still hold the bytes: read them all, evict again.
      if (!underCap) await evictAfterRebuild(entryKey);
    },
    async refresh(found, patch) {
      return write(() => {
        const rec = meta.get(found.entryKey);
        if (rec === undefined || rec.bodyId !== found.entry.bodyId) return undefined;
        const next: CacheEntry = { ...rec, ...patch };
        const c = openCounts();
        c.bytes += next.size - rec.size;
        meta.putSync(found.entryKey, next);
        saveCounts(c);
        return next;
      });
    },
    async remove(found) {
      await write(() => {
        const c = openCounts();
        removeIn(found.entryKey, c, found.entry.bodyId);
        saveCounts(c);
      });
    },
    async removeKey(distribution, key) {
      // Nothing stored: no write (a write makes every process read its variant lists again).
      if (variantsOf(keyPrefix(distribution, key)).length === 0) return 0;
      return write(() => {
        const doomed: string[] = [];
        for (const { key: entryKey } of meta.range({ prefix: keyPrefix(distribution, key) })) doomed.push(entryKey);
        const c = openCounts();
        let n = 0;
        for (const k of doomed) if (removeIn(k, c)) n++;
        saveCounts(c);
        return n;
      });
    },
    async purge(distribution, match) {
      return write(() => {
        const doomed: string[] = [];
        for (const { key, value } of meta.range({ prefix: distributionPrefix(distribution) })) if (match(value)) doomed.push(key);
        const c = openCounts();
        let n = 0;
        for (const k of doomed) if (removeIn(k, c)) n++;
        saveCounts(c);
        return n;
      });
    },
    hit(entryKey, at) {
      lru.hit(entryKey, at);
      if (lru.dirtyCount >= ACCESS_BATCH) flushAccess();
    },
    counts: openCounts,
    async drain() {
      if (lru.dirtyCount > 0) flushAccess();
      while (writing.size > 0) await Promise.allSettled([...writing]);
    },
    get evictions() {
      return evictions;
    },
  };
}
