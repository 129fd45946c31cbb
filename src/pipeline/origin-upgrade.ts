/**
 * A WebSocket handshake (RFC 6455 §4) sent on to an origin, over a connection of
 * its own (an upgraded connection is never pooled). node:http's client parses
 * the answer: a 101 hands over the origin's socket for the node to join to the
 * viewer's; any other answer comes back as a Response, as the origin gave it.
 *
 * Timeouts as the origin's settings mean them for requests (origin.ts): the
 * connection within `connectTimeoutMs`, the answer's head within
 * `readTimeoutMs`. Once upgraded, the tunnel has no timeout of its own: either
 * side closing it closes both. An origin a function chose is held to the same
 * address rules as a request to it.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { VergeError } from "../shared/errors.ts";
import { headerLines, type HeaderList } from "../shared/http.ts";
import { listToHeaders } from "./headers.ts";
import { guardedLookup, originError, originGuard, refuseLiteral, toWeb } from "./origin.ts";

export interface OriginUpgradeInit {
  /** Final headers, `host`, `connection: upgrade` and `upgrade` included. */
  headers: HeaderList;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /** A function chose this origin: apply the private-address policy. */
  chosenByFunction: boolean;
}

export type OriginUpgrade =
  /** The origin switched protocols: its 101's header lines, its socket, and bytes it sent after the head. */
  | { upgraded: true; headers: HeaderList; socket: Duplex; head: Buffer }
  /** The origin answered otherwise (its body streams from the connection, closed after it). */
  | { upgraded: false; response: Response };

/** Sends one handshake to an origin; rejects as origin requests do (mapped by `originError`). */
export type UpgradeOrigin = (url: string, init: OriginUpgradeInit) => Promise<OriginUpgrade>;

export function createOriginUpgrader(options: { allowPrivateAddresses?: boolean; allowHosts?: readonly string[] } = {}): UpgradeOrigin {
  const guardedFor = originGuard(options);
  return (url, init) =>
    new Promise<OriginUpgrade>((resolve, reject) => {
      const target = new URL(url);
      const guarded = guardedFor(init.chosenByFunction, target.origin);
      try {
        if (guarded) refuseLiteral(target);
      } catch (err) {
        return reject(err);
      }
      const flat: string[] = [];
      for (const [name, value] of init.headers) flat.push(name, value);
      const send = target.protocol === "https:" ? httpsRequest : httpRequest;
      let settled = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const fail = (err: unknown): void => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        req.destroy();
        reject(originError(err, url));
      };
      const req: ClientRequest = send({
        protocol: target.protocol,
        hostname: target.hostname.replace(/^\[|\]$/g, ""),
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: "GET",
        headers: flat,
        setHost: false,
        agent: false,
        ...(guarded ? { lookup: guardedLookup } : {}),
      });
      const within = (ms: number, err: () => Error): void => {
        clearTimeout(timer);
        timer = setTimeout(() => fail(err()), ms);
      };
      within(init.connectTimeoutMs, () => Object.assign(new Error(`no connection within ${init.connectTimeoutMs} ms`), { code: "UND_ERR_CONNECT_TIMEOUT" }));
      req.on("socket", (socket: Socket) => {
        const connected = () => within(init.readTimeoutMs, () => new VergeError("ERR_ORIGIN_TIMEOUT", `origin ${target.origin} did not answer the WebSocket handshake within its read timeout`));
        if (socket.connecting) socket.once("connect", connected);
        else connected();
      });
      req.on("error", fail);
      req.on("upgrade", (res: IncomingMessage, socket: Duplex, head: Buffer) => {
        clearTimeout(timer);
        if (settled) return void socket.destroy();
        settled = true;
        resolve({ upgraded: true, headers: headerLines(res.rawHeaders), socket, head });
      });
      req.on("response", (res: IncomingMessage) => {
        clearTimeout(timer);
        if (settled) return void res.destroy();
        settled = true;
        const bodiless = res.statusCode === 204 || res.statusCode === 304;
        try {
          const headers = listToHeaders(headerLines(res.rawHeaders));
          resolve({ upgraded: false, response: new Response(bodiless ? null : toWeb(res), { status: res.statusCode ?? 502, statusText: res.statusMessage ?? "", headers }) });
          if (bodiless) res.resume();
        } catch (err) {
          res.destroy();
          reject(new VergeError("ERR_ORIGIN_RESPONSE_INVALID", `the origin answered the WebSocket handshake with status ${res.statusCode}, which cannot be forwarded`, { cause: err }));
        }
      });
      req.end();
    });
}
