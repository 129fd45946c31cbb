/**
 * The `context` a Lambda@Edge handler receives, in the shape AWS gives it:
 * `functionName`, `functionVersion`, `invokedFunctionArn`, `memoryLimitInMB`,
 * `awsRequestId`, `logGroupName`, `logStreamName` (the guest adds
 * `callbackWaitsForEmptyEventLoop` and `getRemainingTimeInMillis`).
 *
 * verge's values keep AWS's formats where code may parse them: the ARN has
 * AWS's eight colon-separated fields (`arn:verge:lambda:<region>:<tenant>:
 * function:<name>:<version>`), so `arn.split(":")[3]` is the region and `[7]`
 * the version; the log stream is `YYYY/MM/DD/[<version>]<instance>`.
 */
import type { FunctionIdentity, FunctionSource } from "./function-source.ts";

/** Where the runtime runs: an edge node's id and region; absent locally. */
export interface NodeIdentity {
  id: string;
  region: string;
}

/** The fixed part of a version's context, made once per version and process (the log stream names this process's "instance"). */
export function lambdaContextBase(source: FunctionSource, node: NodeIdentity | undefined, startedAt: Date): Record<string, string> {
  const who = source.identity ?? identityOf(source);
  const region = node?.region ?? "local";
  const tenant = who.tenant ?? "local";
  const day = startedAt.toISOString().slice(0, 10).replaceAll("-", "/");
  return {
    functionName: who.function,
    functionVersion: who.version,
    invokedFunctionArn: `arn:verge:lambda:${region}:${tenant}:function:${who.function}:${who.version}`,
    logGroupName: `/verge/lambda/${tenant}/${who.function}`,
    logStreamName: `${day}/[${who.version}]${node?.id ?? "local"}`,
  };
}

/** A source loaded without an identity (the runtime used directly): its id names it and its version. */
function identityOf(source: FunctionSource): FunctionIdentity {
  return { function: source.id, version: source.id };
}
