/**
 * Closes connections the primary handed to a worker that died before taking
 * them (node:cluster round-robin scheduling).
 *
 * Why: in round-robin mode the primary accepts every connection and sends its
 * handle to a worker (`{ cmd: "NODE_CLUSTER", act: "newconn", seq }` with the
 * handle), keeping its own copy of the socket until the worker acks
 * (`{ ack: seq, accepted }`); only then does it close that copy. A worker that
 * dies first (SIGKILL, a V8 abort, killed as hung) never acks, and node never
 * closes the copy: the client's connection stays open with no answer, for ever
 * (nodejs/node-v0.x-archive#7006, still true in Node 24's
 * lib/internal/cluster/round_robin_handle.js). The idle worker is first in the
 * round-robin line, so a worker blocked in a builtin is handed the next
 * connection at once.
 *
 * What: wrap the worker's `ChildProcess.send` to note the handles of `newconn`
 * messages, forget them at their ack, and close the ones still unacked once the
 * process is gone and its channel drained (the ChildProcess `close` event: exit
 * and IPC EOF both seen, so no ack can still arrive). Closing the primary's copy
 * never cuts a connection the worker did take: the worker holds its own
 * descriptor. The client sees its connection closed (and may retry) instead of
 * a hang. Never re-sent to another worker: a worker may have read the request
 * and acted on it before dying, and a proxy must not send a request twice.
 *
 * Residual: node's `sendHelper` drops a handle without sending it when the
 * channel is already marked disconnected; cluster removes a disconnected worker
 * from the line in the same tick, unless a partial message was buffered at EOF.
 */
import type { Worker } from "node:cluster";

interface Closable {
  close(): void;
}

interface ClusterMessage {
  cmd?: unknown;
  act?: unknown;
  seq?: unknown;
  ack?: unknown;
}

export interface HandoffGuard {
  /** Handles sent and not acked yet. */
  pending(): number;
}

/**
 * Installs the guard on a freshly forked worker. `onClosed(n)` is called once,
 * after the process is gone, when it closed `n > 0` connections.
 */
export function guardHandoffs(worker: Worker, onClosed: (count: number) => void): HandoffGuard {
  const proc = worker.process as unknown as { send: (...args: unknown[]) => unknown } & NodeJS.EventEmitter;
  const pending = new Map<unknown, Closable>();
  const send = proc.send;
  if (typeof send === "function") {
    proc.send = function guardedSend(this: unknown, message: unknown, handle?: unknown, ...rest: unknown[]) {
      const m = message as ClusterMessage | null;
      if (m !== null && typeof m === "object" && m.cmd === "NODE_CLUSTER" && m.act === "newconn" && isClosable(handle)) pending.set(m.seq, handle);
      return send.call(this, message, handle, ...rest);
    };
  }
  proc.on("internalMessage", (message: ClusterMessage | null) => {
    if (message !== null && typeof message === "object" && message.cmd === "NODE_CLUSTER" && message.ack !== undefined) pending.delete(message.ack);
  });
  proc.once("close", () => {
    const count = pending.size;
    for (const handle of pending.values()) {
      try {
        handle.close();
      } catch {
        // already closed
      }
    }
    pending.clear();
    if (count > 0) onClosed(count);
  });
  return { pending: () => pending.size };
}

function isClosable(value: unknown): value is Closable {
  return typeof value === "object" && value !== null && typeof (value as Closable).close === "function";
}
