/**
 * A supervisor process for the tests: `node --no-node-snapshot primary-fixture.ts '<options JSON>'`.
 * Starts the supervisor over worker-fixture.ts (unless the options name another
 * script), prints every log line as JSON on stdout, then
 * `{ event: "supervisor-ready", port, workers }` (or `supervisor-ready-failed`).
 * Commands on stdin, one JSON per line: `{ cmd: "broadcast", message }`,
 * `{ cmd: "workers" }`, request handlers "echo" and "boom" (throws ERR_TEST_BOOM),, `{ cmd: "release", digest }`, `{ cmd: "stop", deadlineMs? }`.
 */
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { VergeError } from "../../../src/shared/errors.ts";
import { startSupervisor } from "../index.ts";
import type { SupervisorOptions } from "../index.ts";

const print = (line: object) => process.stdout.write(JSON.stringify(line) + "\n");
const options = JSON.parse(process.argv[2] ?? "{}") as Partial<SupervisorOptions>;
const supervisor = startSupervisor({
  workers: 2,
  workerScript: fileURLToPath(new URL("./worker-fixture.ts", import.meta.url)),
  dataDir: "",
  log: print,
  ...options,
});

supervisor.onRequest("echo", (payload, from) => ({ payload, from }));
supervisor.onRequest("boom", () => {
  throw new VergeError("ERR_TEST_BOOM", "boom in the primary");
});

supervisor.ready.then(
  () => print({ event: "supervisor-ready", port: supervisor.workers()[0]?.port, workers: supervisor.workers() }),
  (err: { code: string; message: string }) => {
    print({ event: "supervisor-ready-failed", code: err.code, message: err.message });
    void supervisor.stop({ deadlineMs: 1_000 }).then(() => process.exit(1));
  },
);

createInterface({ input: process.stdin }).on("line", (text) => {
  const command = JSON.parse(text) as { cmd: string; message?: { type: string }; digest?: string; deadlineMs?: number };
  if (command.cmd === "broadcast") supervisor.broadcast(command.message!);
  if (command.cmd === "release") print({ event: "released", digest: command.digest, released: supervisor.release(command.digest!) });
  if (command.cmd === "stop") void supervisor.stop(command.deadlineMs === undefined ? {} : { deadlineMs: command.deadlineMs }).then(() => print({ event: "stop-resolved" }));
  print({ event: "workers", workers: supervisor.workers(), quarantine: supervisor.quarantine.list(), for: command.cmd });
});
