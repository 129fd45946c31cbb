/**
 * The D1 engine's child process: opens databases with node:sqlite and runs one
 * request at a time for its parent (engine.ts) over the IPC channel. Its parent
 * kills it when a request runs past the time limit; it exits by itself when the
 * parent goes away (the channel closes).
 *
 * Messages in: `{ id, path, limits, request }`; out: `{ ready }` once, then `{ id, response }`.
 */
import { D1SqliteDatabase, type D1DatabaseLimits } from "./database.ts";
import type { D1Request, D1Response } from "./wire.ts";

interface Job {
  id: number;
  path: string;
  limits: Partial<D1DatabaseLimits>;
  servedBy?: string;
  request: D1Request;
}

const open = new Map<string, D1SqliteDatabase>();

function databaseAt(job: Job): D1SqliteDatabase {
  let db = open.get(job.path);
  if (db === undefined) {
    db = new D1SqliteDatabase(job.path, job.limits, job.servedBy);
    open.set(job.path, db);
  }
  return db;
}

process.on("message", (raw) => {
  const job = raw as Job;
  let response: D1Response;
  try {
    response = databaseAt(job).run(job.request);
  } catch (err) {
    response = { ok: false, kind: "D1_ERROR", message: `cannot open the database: ${(err as Error).message}` };
  }
  process.send!({ id: job.id, response });
});

// The parent starts a request's clock only once this process can run it.
process.send!({ ready: true });

process.on("disconnect", () => {
  for (const db of open.values()) db.close();
  process.exit(0);
});
