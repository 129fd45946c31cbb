/**
 * A service binding's `env.NAME`: a Fetcher as workerd has it. `fetch(input,
 * init)` builds the Request exactly as the global fetch() does and sends it as
 * a "fetch" op naming the binding; the host runs the bound service and the
 * Response comes back as a subrequest's does (its body streams from the host).
 * `connect()` (TCP over the binding) and RPC methods are not supported.
 */
import { markNative } from "../core/globals.ts";
import { fetchVia } from "../fetch/fetch.ts";
import type { RequestInit } from "../fetch/request.ts";
import type { Response } from "../fetch/response.ts";

const TOKEN = Symbol("Fetcher");

export class Fetcher {
  // A private field: user code cannot read or forge it, and needs no builtin that could be replaced.
  #binding: string;

  constructor(token: unknown, binding: string) {
    if (token !== TOKEN) throw new TypeError("Illegal constructor");
    this.#binding = binding;
  }

  fetch(input: unknown, init?: RequestInit): Promise<Response> {
    if (typeof this !== "object" || this === null || !(#binding in this)) return Promise.reject(new TypeError("Illegal invocation: fetch() must be called on a Fetcher (env.NAME.fetch(...))"));
    try {
      return fetchVia(this.#binding, input, init);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  connect(_address?: unknown, _options?: unknown): never {
    const name = typeof this === "object" && this !== null && #binding in this ? this.#binding : "NAME";
    throw new Error(`env.${name}.connect(): TCP sockets over a service binding are not supported by verge; use env.${name}.fetch()`);
  }
}

Object.defineProperty(Fetcher.prototype, Symbol.toStringTag, { value: "Fetcher", configurable: true });
markNative(Fetcher);
markNative(Fetcher.prototype.fetch, "fetch");
markNative(Fetcher.prototype.connect, "connect");

/** `env.NAME` for a service binding named `name`. */
export function serviceBinding(name: string): Fetcher {
  return new Fetcher(TOKEN, name);
}
