/** A test file's local HTTP server: listening on 127.0.0.1 (port 0) before its tests, closed after them. */
import { after, before } from "node:test";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * @param onUrl gets `http://127.0.0.1:<port>` once the server listens
 * @example
 * let base = "";
 * listenDuringTests(createServer(handler), (url) => (base = url));
 */
export function listenDuringTests(server: Server, onUrl: (url: string) => void): void {
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    onUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
}
