/**
 * Least-recently-used order of entry keys, in this process's memory. A Map
 * keeps insertion order, so a touch is delete + set and the oldest entry is
 * the first key: O(1) per hit.
 *
 * Hits are also remembered as "dirty" so their time can be written to the
 * entries' `lastAccess` lazily, in batches; a rebuild (at the first eviction,
 * or when this process's order holds too few entries, e.g. ones another
 * worker process stored) reads `lastAccess` back from LMDB. So the order is
 * exact for this process's own hits and approximate across processes.
 */

export interface LruOrder {
  /** A stored entry: newest end. */
  touch(entryKey: string, at: number): void;
  /** A hit: newest end, and remembered for the lazy `lastAccess` write. */
  hit(entryKey: string, at: number): void;
  forget(entryKey: string): void;
  /** Oldest first; safe to forget keys while iterating. */
  oldest(): IterableIterator<string>;
  /** Replaces the order with `records`, keeping this process's newer hits. */
  rebuild(records: Iterable<{ entryKey: string; lastAccess: number }>): void;
  /** Hits not yet written to LMDB; clears them. */
  takeDirty(): Map<string, number>;
  readonly dirtyCount: number;
  readonly size: number;
  /** False until the first rebuild: entries stored by earlier processes are unknown. */
  readonly complete: boolean;
}

export function createLruOrder(): LruOrder {
  let order = new Map<string, number>();
  let dirty = new Map<string, number>();
  let complete = false;
  /** The newest key of `order`, when known: hitting it again needs no move (a hot key's common case). */
  let newest: string | undefined;
  const moveToNewest = (entryKey: string, at: number): void => {
    if (entryKey !== newest) {
      order.delete(entryKey);
      newest = entryKey;
    }
    order.set(entryKey, at);
  };
  return {
    touch: moveToNewest,
    hit(entryKey, at) {
      moveToNewest(entryKey, at);
      dirty.set(entryKey, at);
    },
    forget(entryKey) {
      order.delete(entryKey);
      dirty.delete(entryKey);
      if (entryKey === newest) newest = undefined;
    },
    oldest: () => order.keys(),
    rebuild(records) {
      const all: Array<[string, number]> = [];
      for (const r of records) all.push([r.entryKey, Math.max(r.lastAccess, order.get(r.entryKey) ?? 0)]);
      all.sort((a, b) => a[1] - b[1]);
      order = new Map(all);
      newest = undefined;
      complete = true;
    },
    takeDirty() {
      const out = dirty;
      dirty = new Map();
      return out;
    },
    get dirtyCount() {
      return dirty.size;
    },
    get size() {
      return order.size;
    },
    get complete() {
      return complete;
    },
  };
}
