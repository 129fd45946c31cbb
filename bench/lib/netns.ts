/**
 * The network that bench/fleet.ts runs a registry and its edge nodes in.
 *
 * As root with iproute2 (installed with apt-get when missing, like wrk in
 * lib/load.ts): one Linux network namespace for the registry (`vfleet-reg`) and
 * one per edge node (`vfleet-n<i>`), each node joined to the registry by its own
 * veth pair (10.77.<i>.2 ↔ 10.77.<i>.1, a point-to-point /30, so each link gets
 * its own delay), plus an un-delayed admin link from the bench's own namespace to
 * the registry (10.77.200.1 ↔ 10.77.200.2: publishing from next to the registry,
 * as a CI runner would). A region's one-way delay goes on both ends of its link
 * with `tc qdisc add dev … root netem delay <ms>ms`; when the kernel has no
 * sch_netem (`Specified qdisc kind is unknown`), the namespaces stay and the delay
 * moves into a TCP delay proxy (lib/delay-proxy.ts) inside the node's namespace.
 * Clients and the node's origin run inside the node's namespace (near the node).
 *
 * Without root or iproute2: everything on 127.0.0.1, each node reaching the
 * registry through a delay proxy. `Topology.mode` and `Topology.note` say which.
 *
 * Teardown: `teardown()` kills nothing (the caller ends its processes first) and
 * deletes the namespaces (their veths go with them) and the admin link. It is
 * synchronous, so it also runs from `process.on("exit")`; `create()` first removes
 * anything left by an earlier run with the same name prefix (ending the processes
 * still inside those namespaces, which only an earlier run of this bench started).
 */
import { spawnSync } from "node:child_process";

export const NS_PREFIX = "vfleet-";
const LINK_PREFIX = "vfl-";

export type TopologyMode = "netns-netem" | "netns-proxy" | "loopback-proxy";

export interface Region {
  name: string;
  /** One-way delay between this node and the registry (RTT = 2 ×). */
  oneWayMs: number;
}

export interface Topology {
  mode: TopologyMode;
  /** Human sentence for the results: what models the regions' delay, and why. */
  note: string;
  /** Namespace of the registry, or null on loopback. */
  registryNs: string | null;
  /** Namespace of each node (and its clients and origin), or null on loopback. */
  nodeNs: Array<string | null>;
  /** Address the registry listens on. */
  registryListenHost: string;
  /** The registry's address from the bench's own process. */
  adminHost: string;
  /** The registry's address from node i's namespace (the delayed link under netem). */
  registryHostFor(i: number): string;
  /** True when the links themselves are delayed (netem); else use a delay proxy per node. */
  linksDelayed: boolean;
  /** `[command, ...args]` running `argv` inside `ns` (or as is when null). */
  wrap(ns: string | null, argv: string[]): string[];
  teardown(): void;
}

function sh(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 20_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
}

function must(cmd: string, args: string[]): void {
  const r = sh(cmd, args);
  if (!r.ok) throw new Error(`${cmd} ${args.join(" ")}: ${r.out}`);
}

/** `ip`, installing iproute2 with apt-get when running as root and it is missing. */
export function ipBinary(): string | null {
  const which = () => {
    const r = spawnSync("sh", ["-c", "command -v ip"], { encoding: "utf8" });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  let bin = which();
  if (bin === null && process.getuid?.() === 0) {
    spawnSync("apt-get", ["install", "-y", "iproute2"], { stdio: "ignore", timeout: 180_000 });
    bin = which();
  }
  return bin;
}

/** Removes namespaces and links left by an earlier run (only our own prefixes). */
export function removeStale(): string[] {
  const removed: string[] = [];
  const list = sh("ip", ["netns", "list"]);
  for (const line of list.out.split("\n")) {
    const name = line.trim().split(/\s+/)[0] ?? "";
    if (!name.startsWith(NS_PREFIX)) continue;
    // Processes an earlier, killed run left inside its own namespaces (nothing else lives there).
    for (const pid of sh("ip", ["netns", "pids", name]).out.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {}
    }
    if (sh("ip", ["netns", "del", name]).ok) removed.push(name);
  }
  const links = sh("ip", ["-o", "link", "show"]);
  for (const line of links.out.split("\n")) {
    const m = /^\d+:\s+([^:@\s]+)/.exec(line);
    if (m && m[1]!.startsWith(LINK_PREFIX) && sh("ip", ["link", "del", m[1]!]).ok) removed.push(m[1]!);
  }
  return removed;
}

function loopback(note: string): Topology {
  return {
    mode: "loopback-proxy",
    note,
    registryNs: null,
    nodeNs: [null, null, null],
    registryListenHost: "127.0.0.1",
    adminHost: "127.0.0.1",
    registryHostFor: () => "127.0.0.1",
    linksDelayed: false,
    wrap: (_ns, argv) => argv,
    teardown: () => {},
  };
}

/**
 * Builds the topology for `regions.length` nodes, or the loopback fallback.
 * `force: "loopback"` skips namespaces even as root (to compare the two).
 */
export function createTopology(regions: Region[], opts: { force?: "loopback" } = {}): Topology {
  if (opts.force === "loopback") return loopback("loopback (asked for with --loopback): each node reaches the registry through a TCP delay proxy on 127.0.0.1");
  if (process.getuid?.() !== 0) return loopback("loopback fallback (not root, so no network namespaces): each node reaches the registry through a TCP delay proxy on 127.0.0.1");
  if (ipBinary() === null) return loopback("loopback fallback (iproute2 missing and could not be installed): each node reaches the registry through a TCP delay proxy on 127.0.0.1");
  removeStale();
  const reg = `${NS_PREFIX}reg`;
  const nodeNs = regions.map((_, i) => `${NS_PREFIX}n${i}`);
  const teardown = () => {
    for (const ns of [reg, ...nodeNs]) sh("ip", ["netns", "del", ns]);
    sh("ip", ["link", "del", `${LINK_PREFIX}ra`]);
  };
  try {
    for (const ns of [reg, ...nodeNs]) {
      must("ip", ["netns", "add", ns]);
      must("ip", ["-n", ns, "link", "set", "lo", "up"]);
    }
    // The admin link: this process ↔ registry, no delay.
    must("ip", ["link", "add", `${LINK_PREFIX}ra`, "type", "veth", "peer", "name", `${LINK_PREFIX}rb`]);
    must("ip", ["link", "set", `${LINK_PREFIX}rb`, "netns", reg]);
    must("ip", ["addr", "add", "10.77.200.1/30", "dev", `${LINK_PREFIX}ra`]);
    must("ip", ["link", "set", `${LINK_PREFIX}ra`, "up"]);
    must("ip", ["-n", reg, "addr", "add", "10.77.200.2/30", "dev", `${LINK_PREFIX}rb`]);
    must("ip", ["-n", reg, "link", "set", `${LINK_PREFIX}rb`, "up"]);
    let netem = true;
    let netemError = "";
    regions.forEach((region, i) => {
      const a = `${LINK_PREFIX}a${i}`;
      const b = `${LINK_PREFIX}b${i}`;
      must("ip", ["link", "add", a, "type", "veth", "peer", "name", b]);
      must("ip", ["link", "set", a, "netns", reg]);
      must("ip", ["link", "set", b, "netns", nodeNs[i]!]);
      must("ip", ["-n", reg, "addr", "add", `10.77.${i}.1/30`, "dev", a]);
      must("ip", ["-n", nodeNs[i]!, "addr", "add", `10.77.${i}.2/30`, "dev", b]);
      must("ip", ["-n", reg, "link", "set", a, "up"]);
      must("ip", ["-n", nodeNs[i]!, "link", "set", b, "up"]);
      if (netem) {
        // Half the RTT on each end: both directions of the link are delayed.
        const r1 = sh("ip", ["netns", "exec", reg, "tc", "qdisc", "add", "dev", a, "root", "netem", "delay", `${region.oneWayMs}ms`]);
        const r2 = r1.ok ? sh("ip", ["netns", "exec", nodeNs[i]!, "tc", "qdisc", "add", "dev", b, "root", "netem", "delay", `${region.oneWayMs}ms`]) : r1;
        if (!r1.ok || !r2.ok) {
          netem = false;
          netemError = (r1.ok ? r2 : r1).out.split("\n")[0] ?? "";
          // Undo any half-applied netem so the proxy is the only delay.
          for (let j = 0; j <= i; j++) {
            sh("ip", ["netns", "exec", reg, "tc", "qdisc", "del", "dev", `${LINK_PREFIX}a${j}`, "root"]);
            sh("ip", ["netns", "exec", nodeNs[j]!, "tc", "qdisc", "del", "dev", `${LINK_PREFIX}b${j}`, "root"]);
          }
        }
      }
    });
    return {
      mode: netem ? "netns-netem" : "netns-proxy",
      note: netem
        ? "Linux network namespaces (registry + one per node), veth links, `tc netem` delay on both ends of each node's link"
        : `Linux network namespaces (registry + one per node) joined by veth, but this kernel has no netem (\`tc qdisc … netem\`: "${netemError}"): each region's delay comes from a TCP delay proxy inside the node's namespace, in front of its veth link to the registry`,
      registryNs: reg,
      nodeNs,
      registryListenHost: "0.0.0.0",
      adminHost: "10.77.200.2",
      registryHostFor: (i) => `10.77.${i}.1`,
      linksDelayed: netem,
      wrap: (ns, argv) => (ns === null ? argv : ["ip", "netns", "exec", ns, ...argv]),
      teardown,
    };
  } catch (err) {
    teardown();
    throw err;
  }
}
