/**
 * The harness's child program (client.ts `program`): the runtime's child-process
 * host, extended so that fetch calls of a function registered with a route run
 * through the edge pipeline in this process (pipeline-host.ts). The pipeline's
 * modules load on the first such call, so a harness without `upstream` starts
 * as fast as the plain host.
 */
import { extendHost, type HostExtension } from "../runtime/child-host/child.ts";

let host: Promise<HostExtension> | undefined;
const pipelineHost = (): Promise<HostExtension> => (host ??= import("./pipeline-host.ts").then((m) => m.createPipelineHost()));

extendHost({
  fetch: async (call) => (await pipelineHost()).fetch(call),
  unregister: (fn) => void host?.then((h) => h.unregister?.(fn)),
});
