/**
 * A TCP proxy that adds a fixed one-way delay in each direction: the fallback
 * for bench/fleet.ts when `tc netem` cannot delay packets (no root, no
 * iproute2, or a kernel without sch_netem). Every chunk read from one side is
 * written to the other `oneWayMs` later, in order; a new connection first
 * waits one round trip (2 × oneWayMs, the TCP handshake a real link would
 * cost) before it connects upstream. Bandwidth and loss are not modelled.
 *
 * In process: `startDelayProxy({ listenPort: 0, targetHost, targetPort, oneWayMs })`.
 * As a process (how fleet.ts runs it, inside a node's namespace when there is one):
 *   node delay-proxy.ts --listen 127.0.0.1:0 --target 10.77.0.1:8788 --delay-ms 20
 * prints `delay-proxy listening on <port>`, then runs until killed.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

export interface DelayProxyOptions {
  listenHost?: string;
  listenPort: number;
  targetHost: string;
  targetPort: number;
  /** Added to every chunk in each direction (so the round trip grows by twice this). */
  oneWayMs: number;
}

export interface DelayProxy {
  port: number;
  close(): Promise<void>;
}

/** Forwards `from` → `to`, each chunk `delayMs` after it arrived; ends `to` after the last chunk. */
function pipeDelayed(from: Socket, to: Socket, delayMs: number): void {
  from.on("data", (chunk: Buffer) => {
    // Equal delays keep setTimeout's order, so chunks stay in order.
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
  from.on("end", () => setTimeout(() => to.end(), delayMs));
  from.on("error", () => setTimeout(() => to.destroy(), delayMs));
  from.on("close", () => setTimeout(() => to.destroy(), delayMs + 1));
}

export async function startDelayProxy(o: DelayProxyOptions): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.setNoDelay(true);
    client.on("error", () => client.destroy());
    // The handshake a real link of this RTT would cost, before anything flows.
    setTimeout(() => {
      if (client.destroyed) return;
      const upstream = connect({ host: o.targetHost, port: o.targetPort });
      sockets.add(upstream);
      upstream.setNoDelay(true);
      upstream.on("close", () => sockets.delete(upstream));
      let connected = false;
      upstream.once("connect", () => {
        connected = true;
        pipeDelayed(client, upstream, o.oneWayMs);
        pipeDelayed(upstream, client, o.oneWayMs);
        client.resume();
      });
      // Target down (connection refused): the client sees its connection reset, one way later.
      upstream.once("error", () => {
        if (!connected) setTimeout(() => client.destroy(), o.oneWayMs);
      });
    }, 2 * o.oneWayMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.listenPort, o.listenHost ?? "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function hostPort(s: string): [string, number] {
  const i = s.lastIndexOf(":");
  return [s.slice(0, i), Number(s.slice(i + 1))];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const flag = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0 || i + 1 >= argv.length) throw new Error(`delay-proxy: --${name} is required`);
    return argv[i + 1]!;
  };
  const [listenHost, listenPort] = hostPort(flag("listen"));
  const [targetHost, targetPort] = hostPort(flag("target"));
  const proxy = await startDelayProxy({ listenHost, listenPort, targetHost, targetPort, oneWayMs: Number(flag("delay-ms")) });
  process.stdout.write(`delay-proxy listening on ${proxy.port}\n`);
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => void proxy.close().then(() => process.exit(0)));
}
