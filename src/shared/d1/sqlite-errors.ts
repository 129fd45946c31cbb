/**
 * SQLite failures in D1's words: the message, then the result code's name, and
 * the extended code's name when it says more ("UNIQUE constraint failed: t.id:
 * SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_PRIMARYKEY)"), as workerd
 * reports them. node:sqlite gives the extended code as `errcode`.
 */

const PRIMARY: Record<number, string> = {
  1: "ERROR", 2: "INTERNAL", 3: "PERM", 4: "ABORT", 5: "BUSY", 6: "LOCKED", 7: "NOMEM", 8: "READONLY",
  9: "INTERRUPT", 10: "IOERR", 11: "CORRUPT", 12: "NOTFOUND", 13: "FULL", 14: "CANTOPEN", 15: "PROTOCOL",
  16: "EMPTY", 17: "SCHEMA", 18: "TOOBIG", 19: "CONSTRAINT", 20: "MISMATCH", 21: "MISUSE", 22: "NOLFS",
  23: "AUTH", 24: "FORMAT", 25: "RANGE", 26: "NOTADB", 27: "NOTICE", 28: "WARNING",
};

const EXTENDED: Record<number, string> = {
  275: "CONSTRAINT_CHECK", 531: "CONSTRAINT_COMMITHOOK", 787: "CONSTRAINT_FOREIGNKEY", 1043: "CONSTRAINT_FUNCTION",
  1299: "CONSTRAINT_NOTNULL", 1555: "CONSTRAINT_PRIMARYKEY", 1811: "CONSTRAINT_TRIGGER", 2067: "CONSTRAINT_UNIQUE",
  2323: "CONSTRAINT_VTAB", 2579: "CONSTRAINT_ROWID", 2835: "CONSTRAINT_PINNED", 3091: "CONSTRAINT_DATATYPE",
  261: "BUSY_RECOVERY", 517: "BUSY_SNAPSHOT", 1038: "CANTOPEN_ISDIR", 264: "READONLY_RECOVERY",
};

/** `message: SQLITE_X` (with the extended name when there is one) for an error node:sqlite threw. */
export function sqliteMessage(err: unknown): string {
  const e = err as { message?: unknown; errcode?: unknown };
  const message = typeof e?.message === "string" ? e.message : String(err);
  if (typeof e?.errcode !== "number") return message;
  const primary = PRIMARY[e.errcode & 0xff];
  if (primary === undefined) return message;
  const ext = e.errcode > 0xff ? EXTENDED[e.errcode] : undefined;
  return `${message}: SQLITE_${primary}${ext !== undefined ? ` (extended: SQLITE_${ext})` : ""}`;
}
