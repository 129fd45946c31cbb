// Exercises: Cloudflare D1 (d1Databases: ["DB"]): exec of a schema, inserts with
// bound values of each kind (string, number, boolean, null, ArrayBuffer and
// Uint8Array as BLOB, an array of bytes), first / first(column) / all / raw with
// and without column names, batch (and a batch that fails and rolls back), the
// D1_ERROR / D1_TYPE_ERROR / D1_EXEC_ERROR / D1_COLUMN_NOTFOUND messages and
// refused statements. meta is compared on changes, last_row_id and changed_db:
// duration is time, served_by and size_after name the engine, rows_read and
// rows_written are verge's estimates (README, D1).
export const d1Databases = ["DB"];
export const requests = [
  { name: "write", path: "/write" },
  { name: "read", path: "/read" },
  { name: "batch", path: "/batch" },
  { name: "errors", path: "/errors" },
];

const meta = (m) => ({ changes: m.changes, last_row_id: m.last_row_id, changed_db: m.changed_db });
const result = (r) => ({ keys: Object.keys(r), success: r.success, meta: meta(r.meta), results: r.results });

async function attempt(f) {
  try {
    const v = await f();
    return { ok: v === undefined ? "undefined" : v };
  } catch (e) {
    return { name: e.name, message: e.message, cause: e.cause?.message };
  }
}

export default {
  async fetch(request, env) {
    const db = env.DB;
    switch (new URL(request.url).pathname) {
      case "/write": {
        const schema = await db.exec("DROP TABLE IF EXISTS people;\nCREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age REAL, active INTEGER, photo BLOB)");
        const insert = db.prepare("INSERT INTO people (name, age, active, photo) VALUES (?1, ?2, ?3, ?4)");
        return Response.json([
          schema.count,
          result(await insert.bind("ada", 36.5, true, new Uint8Array([1, 2, 3])).run()),
          result(await insert.bind("bob", 41, false, new Uint8Array([9, 8, 7, 6]).subarray(1, 3)).run()),
          result(await insert.bind("cy", null, null, null).run()),
          result(await insert.bind("di", 7, 1, new Uint8Array([255, 0]).buffer).run()),
          result(await db.prepare("INSERT INTO people (name, photo) VALUES (?, ?)").bind("ed", [4, 5]).run()),
          result(await db.prepare("UPDATE people SET age = age + 1 WHERE age IS NOT NULL").run()),
        ]);
      }
      case "/read":
        return Response.json({
          all: result(await db.prepare("SELECT * FROM people ORDER BY id").all()),
          first: await db.prepare("SELECT name, photo FROM people WHERE id = ?").bind(2).first(),
          firstColumn: await db.prepare("SELECT name, age FROM people WHERE name = ?").bind("ada").first("age"),
          firstNone: await db.prepare("SELECT * FROM people WHERE id = 99").first(),
          raw: await db.prepare("SELECT id, name, photo FROM people ORDER BY id").raw(),
          rawNames: await db.prepare("SELECT id, name FROM people WHERE id < 3 ORDER BY id").raw({ columnNames: true }),
          typed: await db.prepare("SELECT typeof(age) AS a, typeof(photo) AS p, typeof(active) AS b FROM people ORDER BY id").raw(),
          expression: await db.prepare("SELECT ? || '!' AS s, ? * 2 AS n, x'cafe' AS b, NULL AS z").bind("hi", 21).first(),
          returning: result(await db.prepare("INSERT INTO people (name) VALUES (?) RETURNING id, name").bind("fay").all()),
          deleted: result(await db.prepare("DELETE FROM people WHERE name = ?").bind("fay").run()),
        });
      case "/batch": {
        const ok = await db.batch([
          db.prepare("INSERT INTO people (name) VALUES (?)").bind("gil"),
          db.prepare("UPDATE people SET active = 1 WHERE active IS NULL"),
          db.prepare("SELECT name FROM people WHERE active = 1 ORDER BY id"),
        ]);
        const failed = await attempt(() => db.batch([db.prepare("INSERT INTO people (name) VALUES ('hal')"), db.prepare("INSERT INTO people (id, name) VALUES (1, 'dup')")]));
        const count = await db.prepare("SELECT count(*) AS n FROM people").first("n");
        return Response.json({ ok: ok.map(result), failed, count });
      }
      case "/errors":
        return Response.json({
          noTable: await attempt(() => db.prepare("SELECT * FROM nope").all()),
          syntax: await attempt(() => db.prepare("SELEC 1").all()),
          notNull: await attempt(() => db.prepare("INSERT INTO people (name) VALUES (NULL)").run()),
          unique: await attempt(() => db.prepare("INSERT INTO people (id, name) VALUES (1, 'x')").run()),
          undefinedBind: await attempt(() => db.prepare("SELECT ?").bind(undefined)),
          objectBind: await attempt(() => db.prepare("SELECT ?").bind({ a: 1 })),
          bigintBind: await attempt(() => db.prepare("SELECT ?").bind(10n)),
          tooFew: await attempt(() => db.prepare("SELECT ?, ?").bind(1).all()),
          tooMany: await attempt(() => db.prepare("SELECT ?").bind(1, 2).all()),
          column: await attempt(() => db.prepare("SELECT name FROM people WHERE id = 1").first("nope")),
          empty: await attempt(() => db.prepare("").all()),
          emptyBatch: await attempt(() => db.batch([])),
          exec: await attempt(() => db.exec("SELEC 1;\nSELECT 2")),
          attach: await attempt(() => db.prepare("ATTACH DATABASE 'x.db' AS x").run()),
          pragma: await attempt(() => db.prepare("PRAGMA journal_mode").all()),
          pragmaAllowed: await attempt(async () => (await db.prepare("PRAGMA table_info(people)").all()).results.map((c) => c.name)),
          begin: await attempt(() => db.prepare("BEGIN TRANSACTION").run()),
          loadExtension: await attempt(() => db.prepare("SELECT load_extension('x')").all()),
        });
    }
    return new Response("not found", { status: 404 });
  },
};
