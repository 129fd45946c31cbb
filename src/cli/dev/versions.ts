/**
 * The versions `verge dev` serves: one harness instance per good build. A
 * request leases the current version for its whole life (response body and
 * waitUntil included); a swap makes new requests go to the new version, and
 * the old instance is disposed only when its last lease is released.
 */
import type { Verge } from "../../harness/index.ts";
import type { Limits } from "../../shared/limits.ts";

export interface Version {
  /** 1 for the first good build, then 2, 3, ... */
  number: number;
  verge: Verge;
  /** The budgets this version runs with (for the limit header). */
  limits: Limits;
}

export interface Lease {
  version: Version;
  release(): void;
}

interface Slot {
  version: Version;
  inFlight: number;
  retired: boolean;
  disposed: Promise<void> | undefined;
}

export interface VersionsHandle {
  /** The version new requests go to, leased; undefined before the first good build. */
  acquire(): Lease | undefined;
  current(): Version | undefined;
  /** New requests go to `verge` from now on; the previous version is disposed once idle. */
  swap(verge: Verge, limits: Limits): Version;
  /** How many requests the given version is serving. */
  inFlight(version: Version): number;
  /** Disposes every version (waits for none of their requests). */
  close(): Promise<void>;
}

export function createVersions(onRetired: (version: Version) => void = () => {}): VersionsHandle {
  let current: Slot | undefined;
  let count = 0;
  const slots = new Set<Slot>();

  const disposeIfIdle = (slot: Slot): void => {
    if (!slot.retired || slot.inFlight > 0 || slot.disposed !== undefined) return;
    slots.delete(slot);
    slot.disposed = slot.version.verge.dispose().catch(() => {});
    onRetired(slot.version);
  };

  return {
    acquire() {
      const slot = current;
      if (slot === undefined) return undefined;
      slot.inFlight++;
      let released = false;
      return {
        version: slot.version,
        release() {
          if (released) return;
          released = true;
          slot.inFlight--;
          disposeIfIdle(slot);
        },
      };
    },
    current: () => current?.version,
    swap(verge, limits) {
      const slot: Slot = { version: { number: ++count, verge, limits }, inFlight: 0, retired: false, disposed: undefined };
      const old = current;
      current = slot;
      slots.add(slot);
      if (old !== undefined) {
        old.retired = true;
        disposeIfIdle(old);
      }
      return slot.version;
    },
    inFlight(version) {
      for (const s of slots) if (s.version === version) return s.inFlight;
      return 0;
    },
    async close() {
      const all = [...slots];
      slots.clear();
      current = undefined;
      await Promise.all(all.map((s) => s.disposed ?? s.version.verge.dispose().catch(() => {})));
    },
  };
}
