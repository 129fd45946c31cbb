/**
 * What the "caches" lazy part (fetch/cache.ts) and the "html-rewriter" part
 * (html-rewriter/rewriter.ts) use of the eager part, as one object: each module a lazy part imports from the eager part is an entry of
 * the eager part's module table (`verge:core-table`), and every entry costs
 * every isolate its namespace object. fetch/index.ts imports this module so it
 * is part of the eager build.
 */
import { registerOutgoing } from "../core/streams-out.ts";
import { bodyForBridge, bodyHeaders, bodyState, bytesBody } from "./body.ts";
import { trustedHeaders } from "./fetch.ts";
import { copyHeaders, headerList } from "./headers.ts";
import { Request, isRequest, requestState } from "./request.ts";
import { isResponse, makeResponse, responseState } from "./response.ts";

export const cacheSupport = Object.freeze({
  registerOutgoing,
  bodyForBridge,
  bodyHeaders,
  bodyState,
  bytesBody,
  trustedHeaders,
  copyHeaders,
  headerList,
  Request,
  isRequest,
  requestState,
  isResponse,
  makeResponse,
  responseState,
});
