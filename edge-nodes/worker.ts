/** Entry of an edge node's worker process (started by the supervisor; see server.ts). */
import { runEdgeWorker } from "./server.ts";

runEdgeWorker(process.env).catch((err: unknown) => {
  process.stderr.write(`verge edge worker ${process.pid}: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
