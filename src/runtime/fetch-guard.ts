/**
 * Subrequests from functions (DESIGN.md §4): resolve the address first and refuse
 * loopback, private, link-local, metadata and other special-purpose addresses
 * unless the operator allows them. The check runs at connect time (inside the
 * agent's DNS lookup, so a name cannot rebind between check and connect) and on
 * every redirect hop, which is followed here rather than inside undici.
 */
import { lookup as dnsLookup } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { Agent, fetch as undiciFetch } from "undici";
import { VergeError } from "../shared/errors.ts";
import type { HeaderList, RequestData, ResponseData } from "../shared/http.ts";
import type { FetchOptions } from "./host-services.ts";
import { redirectStep } from "./redirects.ts";

export interface FetchPolicy {
  /** Allow every private/loopback/link-local address (local development against a local origin). */
  allowPrivateAddresses?: boolean;
  /** Hostnames or IP literals allowed even though they resolve to a refused address. */
  allowHosts?: string[];
  /** Per-subrequest timeout. */
  timeoutMs?: number;
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16],
  ["172.16.0.0", 12], ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.88.99.0", 24], ["192.168.0.0", 16],
  ["198.18.0.0", 15], ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) blocked.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8], ["64:ff9b::", 96], ["100::", 64], ["2001:db8::", 32],
] as const) blocked.addSubnet(net, prefix, "ipv6");

/** Why an address is refused, or null when it is a public unicast address. */
export function refusedReason(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return "not an IP address";
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return refusedReason(mapped[1]!);
  }
  if (address === "169.254.169.254" || address.toLowerCase() === "fd00:ec2::254") return "a cloud metadata address";
  if (family === 4 && address.startsWith("127.")) return "a loopback address";
  if (family === 6 && address === "::1") return "a loopback address";
  if (blocked.check(address, family === 4 ? "ipv4" : "ipv6")) return "a private, link-local or reserved address";
  return null;
}

function fetchBlocked(host: string, address: string, reason: string): VergeError {
  return new VergeError("ERR_FETCH_BLOCKED", `fetch to ${host} refused: ${address} is ${reason} (operators can allow it)`);
}

export interface GuardedFetch {
  fetch(request: RequestData, options: FetchOptions): Promise<ResponseData & { url: string; redirected: boolean }>;
  close(): Promise<void>;
}

/** The address rules of one policy: a DNS lookup that refuses what they refuse, and the check of a URL (an IP literal is never looked up). */
export interface AddressGuard {
  lookup: LookupFunction;
  /** Throws ERR_FETCH_BLOCKED for a scheme other than http:/https: or a refused IP literal. */
  check(url: URL): void;
}

export function createAddressGuard(policy: FetchPolicy = {}): AddressGuard {
  const allowHosts = new Set((policy.allowHosts ?? []).map((h) => h.toLowerCase()));
  const allowAll = policy.allowPrivateAddresses === true;
  const allowed = (host: string) => allowAll || allowHosts.has(host.toLowerCase());

  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", 0);
      const list = addresses as Array<{ address: string; family: number }>;
      if (!allowed(hostname)) {
        for (const a of list) {
          const reason = refusedReason(a.address);
          if (reason !== null) return callback(fetchBlocked(hostname, a.address, reason), "", 0);
        }
      }
      const first = list[0];
      if (first === undefined) return callback(new Error(`no address for ${hostname}`), "", 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      callback(null, first.address, first.family);
    });
  };

  function check(url: URL): void {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new VergeError("ERR_FETCH_BLOCKED", `fetch to ${url.protocol} URLs is not supported; expected http: or https:`);
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (isIP(host) !== 0 && !allowed(host)) {
      const reason = refusedReason(host);
      if (reason !== null) throw fetchBlocked(url.host, host, reason);
    }
  }
  return { lookup, check };
}

export function createGuardedFetch(policy: FetchPolicy = {}): GuardedFetch {
  const { lookup, check } = createAddressGuard(policy);
  const agent = new Agent({ connect: { lookup }, headersTimeout: policy.timeoutMs ?? 30_000, bodyTimeout: policy.timeoutMs ?? 30_000 });

  return {
    async fetch(request, options) {
      let url = new URL(request.url);
      let method = request.method;
      let body = request.body instanceof Uint8Array ? request.body : null;
      let headers = request.headers;
      for (let hop = 0; ; hop++) {
        check(url);
        const res = await undiciFetch(url, {
          method,
          headers,
          body: body === null || method === "GET" || method === "HEAD" ? null : body,
          redirect: "manual",
          signal: options.signal,
          dispatcher: agent,
        });
        const step = redirectStep(res.status, res.headers.get("location"), options.redirect, hop, { method, headers, body });
        if (step !== null) {
          await res.body?.cancel();
          if ("error" in step) throw step.error;
          url = new URL(step.location, url);
          ({ method, headers, body } = step.next);
          continue;
        }
        const out: HeaderList = [];
        res.headers.forEach((v, k) => {
          if (k !== "set-cookie") out.push([k, v]);
        });
        for (const c of res.headers.getSetCookie()) out.push(["set-cookie", c]);
        return {
          status: res.status,
          statusText: res.statusText,
          headers: out,
          body: res.body === null ? null : (res.body as AsyncIterable<Uint8Array>),
          url: url.href,
          redirected: hop > 0,
        };
      }
    },
    close: () => agent.close(),
  };
}
