/**
 * The events a WebSocket dispatches (HTML §9.3, WebSockets §4): MessageEvent,
 * CloseEvent and ErrorEvent, on the "events" part's Event. Their fields are
 * read-only accessors; defaults as workerd gives them (a CloseEvent made by
 * hand: code 0, reason "", wasClean false).
 */
import { chunk } from "../core/lazy.ts";

// The "events" part, loaded (inside this part's load) for the base class.
const { Event } = chunk("events");

type EventInitLike = { bubbles?: boolean; cancelable?: boolean; composed?: boolean };

function initOf<T extends object>(what: string, init: unknown): Partial<T> & EventInitLike {
  if (init === undefined || init === null) return {};
  if (typeof init !== "object" && typeof init !== "function") throw new TypeError(`Failed to construct '${what}': The provided value is not of type '${what}Init'.`);
  return init as Partial<T>;
}

function required(what: string, n: number): void {
  if (n === 0) throw new TypeError(`Failed to construct '${what}': 1 argument required, but only 0 present.`);
}

export interface MessageEventInit {
  data?: unknown;
  origin?: string;
  lastEventId?: string;
  source?: unknown;
  ports?: unknown[];
}

export class MessageEvent extends Event {
  #data: unknown;
  #origin: string;
  #lastEventId: string;
  #source: unknown;
  #ports: unknown[];

  constructor(type: string, init?: MessageEventInit) {
    required("MessageEvent", arguments.length);
    const o = initOf<MessageEventInit>("MessageEvent", init);
    super(type, o);
    this.#data = o.data === undefined ? null : o.data;
    this.#origin = o.origin === undefined ? "" : String(o.origin);
    this.#lastEventId = o.lastEventId === undefined ? "" : String(o.lastEventId);
    this.#source = o.source ?? null;
    this.#ports = o.ports === undefined ? [] : [...o.ports];
  }
  get data(): unknown {
    return this.#data;
  }
  get origin(): string {
    return this.#origin;
  }
  get lastEventId(): string {
    return this.#lastEventId;
  }
  get source(): unknown {
    return this.#source;
  }
  get ports(): unknown[] {
    return this.#ports;
  }
}

export interface CloseEventInit {
  code?: number;
  reason?: string;
  wasClean?: boolean;
}

export class CloseEvent extends Event {
  #code: number;
  #reason: string;
  #wasClean: boolean;

  constructor(type: string, init?: CloseEventInit) {
    required("CloseEvent", arguments.length);
    const o = initOf<CloseEventInit>("CloseEvent", init);
    super(type, o);
    // WebIDL unsigned short.
    this.#code = o.code === undefined ? 0 : Number(o.code) & 0xffff;
    this.#reason = o.reason === undefined ? "" : String(o.reason);
    this.#wasClean = o.wasClean === true;
  }
  get code(): number {
    return this.#code;
  }
  get reason(): string {
    return this.#reason;
  }
  get wasClean(): boolean {
    return this.#wasClean;
  }
}

export interface ErrorEventInit {
  message?: string;
  filename?: string;
  lineno?: number;
  colno?: number;
  error?: unknown;
}

export class ErrorEvent extends Event {
  #message: string;
  #filename: string;
  #lineno: number;
  #colno: number;
  #error: unknown;

  constructor(type: string, init?: ErrorEventInit) {
    required("ErrorEvent", arguments.length);
    const o = initOf<ErrorEventInit>("ErrorEvent", init);
    super(type, o);
    this.#message = o.message === undefined ? "" : String(o.message);
    this.#filename = o.filename === undefined ? "" : String(o.filename);
    this.#lineno = o.lineno === undefined ? 0 : Number(o.lineno) >>> 0;
    this.#colno = o.colno === undefined ? 0 : Number(o.colno) >>> 0;
    this.#error = o.error;
  }
  get message(): string {
    return this.#message;
  }
  get filename(): string {
    return this.#filename;
  }
  get lineno(): number {
    return this.#lineno;
  }
  get colno(): number {
    return this.#colno;
  }
  get error(): unknown {
    return this.#error;
  }
}
