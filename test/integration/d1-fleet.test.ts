/**
 * D1 in a fleet, over real HTTP: a registry hosting the tenant's database and
 * two edge nodes running a Worker bound to it. The registry is the one primary:
 * a write through node A is read at once through node B (no feed to wait for);
 * the tenant's token runs schema changes through the registry's API; D1's
 * errors and batches cross the network as they are; a node cut off from the
 * registry fails its queries with a D1_ERROR saying so, and works again once
 * the registry is back, with the data kept.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startFleet, type Fleet } from "../helpers/fleet.ts";

const HOST = "d1.example.com";
const WORKER = `export default {
  async fetch(request, env) {
    const u = new URL(request.url);
    try {
      if (u.pathname === "/add") {
        const r = await env.DB.prepare("INSERT INTO notes (body, tag) VALUES (?, ?)").bind(u.searchParams.get("body"), new Uint8Array([1, 2, 3])).run();
        return Response.json({ id: r.meta.last_row_id, changes: r.meta.changes });
      }
      if (u.pathname === "/list") return Response.json((await env.DB.prepare("SELECT id, body, tag FROM notes ORDER BY id").all()).results);
      if (u.pathname === "/batch") {
        const [a, b] = await env.DB.batch([env.DB.prepare("UPDATE notes SET body = upper(body)"), env.DB.prepare("SELECT count(*) AS n FROM notes")]);
        return Response.json({ changed: a.meta.changes, n: b.results[0].n });
      }
      if (u.pathname === "/bad") await env.DB.prepare("SELECT * FROM missing").all();
      if (u.pathname === "/exec") return Response.json(await env.DB.exec("INSERT INTO notes (body) VALUES ('e1')\\nINSERT INTO notes (body) VALUES ('e2')").then((r) => r.count));
      return new Response("?", { status: 404 });
    } catch (e) {
      return Response.json({ error: e.message, cause: e.cause?.message }, { status: 500 });
    }
  },
};
`;

let fleet: Fleet;
before(async () => {
  fleet = await startFleet({ nodes: 2 });
  await fleet.publish("d1-app", WORKER, { d1Databases: { DB: "app-db" } });
  await fleet.distribution("site", { hostnames: [HOST], origins: [{ id: "web", url: "http://127.0.0.1:9" }], defaultBehavior: { originId: "web", functions: { "viewer-request": { function: "d1-app", alias: "live" } } }, behaviors: [] });
  await fleet.waitApplied();
});
after(() => fleet?.close());

const query = (body: unknown) => fleet.registry.call("POST", "/v1/tenants/acme/d1/app-db/query", { token: fleet.tenantToken, json: body });

test("the tenant creates the schema through the registry; a write on node A is read at once on node B", async () => {
  const schema = await query({ op: "exec", sql: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, tag BLOB)" });
  assert.equal(schema.status, 200, JSON.stringify(schema.body));
  assert.equal(schema.body.ok, true);
  const add = await fleet.get(0, HOST, "/add?body=from-a");
  assert.equal(add.status, 200, add.body);
  assert.deepEqual(JSON.parse(add.body), { id: 1, changes: 1 });
  const list = await fleet.get(1, HOST, "/list");
  assert.deepEqual(JSON.parse(list.body), [{ id: 1, body: "from-a", tag: [1, 2, 3] }]);
  const listed = await fleet.registry.call("GET", "/v1/tenants/acme/d1", { token: fleet.tenantToken });
  assert.deepEqual(listed.body.databases.map((d: { name: string }) => d.name), ["app-db"]);
});

test("batches, exec and D1's errors cross the network unchanged", async () => {
  assert.equal((await fleet.get(1, HOST, "/exec")).body, "2");
  assert.deepEqual(JSON.parse((await fleet.get(0, HOST, "/batch")).body), { changed: 3, n: 3 });
  const bad = await fleet.get(1, HOST, "/bad");
  assert.equal(bad.status, 500);
  assert.deepEqual(JSON.parse(bad.body), { error: "D1_ERROR: no such table: missing: SQLITE_ERROR", cause: "no such table: missing: SQLITE_ERROR" });
  const direct = await query({ op: "batch", queries: [{ sql: "SELECT body FROM notes WHERE id = ?", params: [1] }] });
  assert.deepEqual(direct.body.results[0].rows, [["FROM-A"]]);
});

test("the registry refuses what is not a D1 request, another tenant's token, and a config naming a bad database", async () => {
  const malformed = await query({ op: "batch", queries: [{ sql: "SELECT ?", params: [{}] }] });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.error.code, "ERR_INVALID_REQUEST");
  const other = await fleet.registry.tenant("other", ["admin"]);
  const foreign = await fleet.registry.call("POST", "/v1/tenants/acme/d1/app-db/query", { token: other, json: { op: "exec", sql: "DROP TABLE notes" } });
  assert.equal(foreign.status, 404);
  const readOnly = await fleet.registry.token("acme", ["read"]);
  assert.equal((await fleet.registry.call("POST", "/v1/tenants/acme/d1/app-db/query", { token: readOnly, json: { op: "exec", sql: "DROP TABLE notes" } })).status, 403);
  const badName = await fleet.registry.call("PUT", "/v1/tenants/acme/functions/d1-bad", { token: fleet.tenantToken, json: { config: { d1Databases: { DB: "Not A Name" }, env: { VAR: "x" } } } });
  assert.equal(badName.status, 400);
  assert.match(JSON.stringify(badName.body), /config\.d1Databases\.DB/);
  const clash = await fleet.registry.call("PUT", "/v1/tenants/acme/functions/d1-bad", { token: fleet.tenantToken, json: { config: { d1Databases: { VAR: "db" }, env: { VAR: "x" } } } });
  assert.equal(clash.status, 400);
  assert.match(JSON.stringify(clash.body), /\\"VAR\\" is also a var in config.env/);
});

test("a node cut off from the registry fails its queries with a D1_ERROR; they work again, data kept, once it is back", async () => {
  await fleet.stopRegistry();
  const down = await fleet.get(0, HOST, "/list");
  assert.equal(down.status, 500, down.body);
  assert.deepEqual(JSON.parse(down.body), { error: 'D1_ERROR: database "app-db" is unavailable: the registry that hosts it cannot be reached', cause: 'database "app-db" is unavailable: the registry that hosts it cannot be reached' });
  await fleet.restartRegistry();
  const back = await fleet.get(0, HOST, "/list");
  assert.equal(back.status, 200, back.body);
  assert.equal(JSON.parse(back.body).length, 3);
});
