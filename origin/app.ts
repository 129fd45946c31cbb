/**
 * The registry's HTTP API (DESIGN.md §7): `createOriginApp(deps)` returns a
 * Hono app over a Store. Every `/v1` route but health needs a bearer token;
 * every failure renders `{ error: { code, message, requestId } }` from one
 * `code -> status` table (errors.ts) in one onError.
 */
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { hasCode } from "../src/shared/errors.ts";
import type { ApiErrorBody } from "../src/shared/protocol.ts";
import { authenticate } from "./auth.ts";
import { createContext, type OriginDeps, type OriginEnv } from "./context.ts";
import { statusOf } from "./errors.ts";
import { REGISTRY_API, REGISTRY_HEADER, REQUEST_ID_HEADER } from "./headers.ts";
import { aliasRoutes } from "./routes/aliases.ts";
import { assetRoutes } from "./routes/assets.ts";
import { cronRoutes } from "./routes/cron.ts";
import { d1Routes } from "./routes/d1.ts";
import { distributionRoutes } from "./routes/distributions.ts";
import { feedRoutes } from "./routes/feed.ts";
import { functionRoutes } from "./routes/functions.ts";
import { healthRoutes } from "./routes/health.ts";
import { kvRoutes } from "./routes/kv.ts";
import { r2Routes } from "./routes/r2.ts";
import { logRoutes } from "./routes/logs.ts";
import { nodeRoutes } from "./routes/nodes.ts";
import { purgeRoutes } from "./routes/purges.ts";
import { signingRoutes } from "./routes/signing.ts";
import { tenantRoutes } from "./routes/tenants.ts";
import { versionRoutes } from "./routes/versions.ts";

export type { OriginDeps };

/**
 * @example
 * const store = openLmdbStore({ path: "./data" });
 * const app = createOriginApp({ store, secrets: createSecretBox(key) });
 * serve({ fetch: app.fetch, port: 8788 });
 */
export function createOriginApp(deps: OriginDeps): Hono<OriginEnv> {
  const ctx = createContext(deps);
  const app = new Hono<OriginEnv>();

  app.use(async (c, next) => {
    const requestId = randomUUID();
    c.set("requestId", requestId);
    await next();
    c.res.headers.set(REQUEST_ID_HEADER, requestId);
    c.res.headers.set(REGISTRY_HEADER, REGISTRY_API);
    const status = String(c.res.status);
    ctx.metrics.requests.set(status, (ctx.metrics.requests.get(status) ?? 0) + 1);
  });

  app.route("/", healthRoutes(ctx));

  app.use("/v1/*", async (c, next) => {
    c.set("principal", ctx.store.read((tx) => authenticate(tx, c.req.header("authorization"))));
    await next();
  });
  for (const routes of [tenantRoutes, functionRoutes, versionRoutes, aliasRoutes, signingRoutes, distributionRoutes, purgeRoutes, feedRoutes, nodeRoutes, kvRoutes, assetRoutes, r2Routes]) {
    app.route("/v1", routes(ctx));
  }

  // `verge logs`: nodes post request events; tenants read and tail them.
  app.route("/v1", logRoutes(ctx));

  // D1 databases: one primary per database, here; edge nodes send their functions' queries.
  app.route("/v1", d1Routes(ctx, deps.d1));

  // Cron arbitration (issue 5): which node runs each fire.
  app.route("/v1", cronRoutes(ctx));

  app.notFound((c) => c.json(errorBody("ERR_NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname.slice(0, 200)}`, c.get("requestId")), 404));

  app.onError((err, c) => {
    const requestId = c.get("requestId") ?? randomUUID();
    if (hasCode(err) && err.code.startsWith("ERR_") && statusOf(err.code) < 500) {
      const details = (err as { details?: Record<string, unknown> }).details;
      return c.json(errorBody(err.code, err.message, requestId, details), statusOf(err.code) as ContentfulStatusCode);
    }
    // A bug or an outage: the stack goes to the log only.
    ctx.log(`[${requestId}] ${c.req.method} ${new URL(c.req.url).pathname}: ${(err as Error)?.stack ?? String(err)}`);
    return c.json(errorBody("ERR_INTERNAL", `internal error; see the registry log for request ${requestId}`, requestId), 500);
  });

  return app;
}

function errorBody(code: string, message: string, requestId: string, details?: Record<string, unknown>): ApiErrorBody {
  return { error: { code, message, requestId, ...(details === undefined ? {} : { details }) } };
}
