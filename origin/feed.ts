/**
 * The change feed (DESIGN.md §6): every write appends its change in the same
 * transaction, taking the next sequence number from `meta/seq`, so the feed has
 * no gaps and never shows a change whose write was not committed. Followers are
 * woken by the hub after a commit and always read changes back from the store,
 * in order, from the last sequence they saw.
 */
import type { Change, FeedPage } from "../src/shared/protocol.ts";
import type { ReadTx, WriteTx } from "./store/store.ts";

type ChangeInput = Change extends infer C ? (C extends Change ? Omit<C, "seq" | "at"> : never) : never;

export function headSeq(tx: ReadTx): number {
  return tx.get<number>("meta", "seq") ?? 0;
}

/** Appends a change in the caller's transaction and returns it with its sequence number. */
export function appendChange(tx: WriteTx, change: ChangeInput, at: string): Change {
  const seq = headSeq(tx) + 1;
  const full = { ...change, seq, at } as Change;
  tx.put("meta", "seq", seq);
  tx.put("feed", seq, full);
  return full;
}

/** Max feed entries scanned per page (a tenant-filtered page may return fewer). */
export const PAGE_SCAN = 1000;

/**
 * Changes after `since`, optionally of one tenant only. `last` moves past
 * scanned changes of other tenants too, so a filtered follower never rescans them.
 */
export function readFeed(tx: ReadTx, since: number, tenant: string | null, limit = PAGE_SCAN): FeedPage {
  const head = headSeq(tx);
  const scanned = tx.range<Change>("feed", { after: since, through: head, limit });
  const changes = tenant === null ? scanned.map((e) => e.value) : scanned.map((e) => e.value).filter((c) => c.tenant === tenant);
  const last = scanned.length === 0 ? Math.min(since, head) : (scanned[scanned.length - 1]!.key as number);
  return { changes, last, head };
}

/** Wakes feed followers after commits. In-process; one registry process owns the store. */
export interface FeedHub {
  /** Called after a write that appended changes has committed. */
  notify(head: number): void;
  /** Resolves with the new head once it passes `seq`, or with null after `timeoutMs` or on close. */
  waitPast(seq: number, timeoutMs: number, signal?: AbortSignal): Promise<number | null>;
  subscribers(): number;
  readonly closed: boolean;
  close(): void;
}

export function createFeedHub(initialHead: number): FeedHub {
  let head = initialHead;
  let closed = false;
  const waiters = new Set<{ seq: number; resolve: (v: number | null) => void }>();
  return {
    notify(next) {
      if (next <= head) return;
      head = next;
      for (const w of waiters) if (head > w.seq) w.resolve(head);
    },
    waitPast(seq, timeoutMs, signal) {
      if (head > seq) return Promise.resolve(head);
      if (closed || signal?.aborted) return Promise.resolve(null);
      return new Promise((resolve) => {
        const w = {
          seq,
          resolve: (v: number | null) => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            waiters.delete(w);
            resolve(v);
          },
        };
        const onAbort = () => w.resolve(null);
        const timer = setTimeout(() => w.resolve(null), timeoutMs);
        signal?.addEventListener("abort", onAbort, { once: true });
        waiters.add(w);
      });
    },
    subscribers: () => waiters.size,
    get closed() {
      return closed;
    },
    close() {
      closed = true;
      for (const w of waiters) w.resolve(null);
    },
  };
}
