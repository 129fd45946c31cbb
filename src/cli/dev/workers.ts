/**
 * The Workers one `verge dev` runs when it is given several configs
 * (`verge dev -c front.toml -c auth.toml`, as `wrangler dev` takes them): the
 * first is served on the port, and every one is reachable by name from the
 * others' service bindings (`[[services]]` naming it). Each has its own dev
 * session (build, watch, versions). A call runs on the target's current
 * version, leased as a request from the port is (until its report settles, so
 * a new build does not dispose it mid-call). A target without a good build
 * answers 503 with the reason. The target's exception rejects the caller's
 * fetch() as workerd passes it (src/pipeline/service-errors.ts), as on an edge
 * node; a failure of verge's own (a budget) answers 500, as the harness does.
 */
import { failureReport, type InvocationReport } from "../../runtime/index.ts";
import type { DevSession } from "./session.ts";
import { reasonPhrase, remoteError } from "../../pipeline/service-errors.ts";

export interface LocalWorkers {
  /** `name` (the config's `name`) is run by `session`. */
  add(name: string, session: DevSession): void;
  /** A service binding call to Worker `name`: its Response, or the dispatch's rejection. */
  call(name: string, request: Request): Promise<Response>;
}

/** Longest a lease waits for a report past the version's wall budget (as the dev handler waits). */
const REPORT_GRACE_MS = 1_000;

export function createLocalWorkers(): LocalWorkers {
  const sessions = new Map<string, DevSession>();
  return {
    add(name, session) {
      sessions.set(name, session);
    },
    async call(name, request) {
      const session = sessions.get(name);
      const lease = session?.versions.acquire();
      if (session === undefined || lease === undefined) {
        const why = session === undefined ? "is not run by this verge dev" : session.buildError() !== undefined ? "has no good build (its build failed)" : "has no build yet";
        return new Response(`verge dev: the Worker "${name}" ${why}\n`, { status: 503, headers: { "content-type": "text/plain;charset=UTF-8" } });
      }
      const { verge, limits } = lease.version;
      let report: Promise<InvocationReport> | undefined;
      try {
        const response = await verge.dispatchFetch(request);
        report = verge.reportOf(response);
        return asRemote(response);
      } catch (err) {
        report = failureReport(err);
        // The target's exception reaches the caller as workerd passes it (as on an edge node); verge's own failures answer 500.
        throw remoteError(err) ?? err;
      } finally {
        if (report === undefined) lease.release();
        else void Promise.race([report.catch(() => undefined), new Promise((r) => setTimeout(r, limits.wallMs + REPORT_GRACE_MS).unref())]).then(() => lease.release());
      }
    },
  };
}

/**
 * `response` as a Worker's caller gets it on an edge node: its body failing mid-stream fails
 * the caller's read with the target's exception (remoteError), and a status without its text
 * gets workerd's reason phrase.
 */
function asRemote(response: Response): Response {
  // A 101 (a WebSocket the harness hands over) and a null-body status keep their own Response.
  if (response.status < 200 || (response.body !== null && [204, 205, 304].includes(response.status))) return response;
  const statusText = response.statusText !== "" ? response.statusText : reasonPhrase(response.status);
  if (response.body === null) return new Response(null, { status: response.status, statusText, headers: response.headers });
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = await reader.read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      } catch (err) {
        controller.error(remoteError(err) ?? err);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(body, { status: response.status, statusText, headers: response.headers });
}
