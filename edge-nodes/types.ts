/**
 * The contracts between an edge node's parts. They live with the pipeline in
 * src/pipeline/types.ts (the harness and `verge dev` run the same pipeline);
 * edge-nodes code imports them from here.
 */
export type * from "../src/pipeline/types.ts";
