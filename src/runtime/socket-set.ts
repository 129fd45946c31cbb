/**
 * The WebSocket connections of one invocation, by the guest's id for each: the
 * one its 101 returned (the caller's peer) and the outbound ones its fetch()
 * opened (the server is the peer). Each is a HostSocket (websocket.ts). A
 * connection *holds* the invocation open (no wall deadline once it answered,
 * see invocation.ts) while it lasts: the returned one from the start, an
 * outbound one once the function accepted it, as in workerd, where an accepted
 * socket keeps the request's context alive. One the function never accepted
 * is dropped (1006 for the server) when the invocation ends.
 */
import type { Emit } from "./bridge/protocol.ts";
import type { OutboundWebSocket } from "./outbound-websocket.ts";
import { HostSocket } from "./websocket.ts";

/** The "socket" emit's code for "the function accepted this outbound socket" (guest/websocket/websocket.ts). */
export const SOCKET_ACCEPTED = -3;

export interface SocketSetHooks {
  /** Enters the guest with a peer event on socket `id` (a new CPU window first). */
  deliver(id: number, data: string | Uint8Array | null, code: number, reason: string): void;
  /** The last connection holding the invocation is over. */
  released(): void;
}

export class SocketSet {
  #hooks: SocketSetHooks;
  #sockets = new Map<number, HostSocket>();
  #holding = new Set<number>();

  constructor(hooks: SocketSetHooks) {
    this.#hooks = hooks;
  }

  /** Some connection holds the invocation open. */
  get holding(): boolean {
    return this.#holding.size > 0;
  }

  /** The connection of the function's 101 (socket `id` of the guest): holds the invocation until it is over. */
  returned(id: number): HostSocket {
    const socket = this.#add(id);
    this.#holding.add(id);
    return socket;
  }

  /** An outbound connection for the guest's socket `id`: joined now, holding once the function accepts it. */
  outbound(id: number, connection: OutboundWebSocket): void {
    if (this.#sockets.has(id)) {
      connection.drop();
      return;
    }
    connection.join(this.#add(id));
  }

  /** A "socket" emit of the function. */
  fromGuest(m: Extract<Emit, { type: "socket" }>): void {
    const socket = this.#sockets.get(m.socket);
    if (socket === undefined) return;
    if (m.data === null && m.code === SOCKET_ACCEPTED) {
      if (!socket.over) this.#holding.add(m.socket);
      return;
    }
    socket.fromGuest(m.data, m.code, m.reason);
  }

  /** The invocation is over or failed: every connection still open fails (1006 for its peer). */
  killAll(): void {
    for (const socket of [...this.#sockets.values()]) socket.kill();
  }

  #add(id: number): HostSocket {
    const socket = new HostSocket({
      deliver: (data, code, reason) => this.#hooks.deliver(id, data, code, reason),
      onOver: () => {
        this.#sockets.delete(id);
        if (this.#holding.delete(id) && this.#holding.size === 0) this.#hooks.released();
      },
    });
    this.#sockets.set(id, socket);
    return socket;
  }
}
