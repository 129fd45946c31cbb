/**
 * Headers every registry answer carries, so a client can tell the registry
 * from an edge node or a web server at the same address: edge nodes send an
 * `x-verge-request-id` too, so only `x-verge-registry` says "registry".
 */
export const REQUEST_ID_HEADER = "x-verge-request-id";
export const REGISTRY_HEADER = "x-verge-registry";
/** The value of {@link REGISTRY_HEADER}: the API's major version. */
export const REGISTRY_API = "1";
