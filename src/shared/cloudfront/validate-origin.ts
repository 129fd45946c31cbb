/**
 * Checks `request.origin` as an origin-request function may rewrite it (AWS
 * "Lambda@Edge event structure" > custom origin / Amazon S3 origin fields).
 * Exactly one of `custom` or `s3`; an S3 origin may replace a custom one and back.
 *
 * A custom origin's `domainName` is a domain name, not an IPv4 address and
 * without a port: a function cannot introduce an address. The one the event
 * carried is accepted as it is, whatever it is (CloudFront gives a function
 * the configured origin as is, so returning it unchanged is always valid; an
 * edge node may be configured with an origin by address).
 */
import { field, found, headerField, isPlainObject, quote } from "./describe.ts";
import { checkHeaders } from "./validate-headers.ts";
import type { CloudFrontEventType, CloudFrontHeaders, CloudFrontOrigin } from "./types.ts";

const SSL_PROTOCOLS = new Set(["TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3"]);

/** Returns the origin when it is usable; pushes each problem onto `problems`. */
export function checkOrigin(
  path: string,
  raw: unknown,
  eventType: CloudFrontEventType,
  requestHeaders: CloudFrontHeaders | undefined,
  problems: string[],
  /** The origin the event carried. */
  given?: CloudFrontOrigin,
): CloudFrontOrigin | undefined {
  if (!isPlainObject(raw)) {
    problems.push(`${path}: expected an object with either "custom" or "s3", found ${found(raw)}`);
    return undefined;
  }
  const hasCustom = raw["custom"] !== undefined;
  const hasS3 = raw["s3"] !== undefined;
  if (hasCustom === hasS3) {
    problems.push(`${path}: expected exactly one of "custom" or "s3", found ${hasCustom ? "both" : "neither"}`);
    return undefined;
  }
  const kind = hasCustom ? "custom" : "s3";
  const at = `${path}.${kind}`;
  const origin = raw[kind];
  if (!isPlainObject(origin)) {
    problems.push(`${at}: expected an object, found ${found(origin)}`);
    return undefined;
  }
  const before = problems.length;
  const givenDomain = given?.[kind]?.domainName;
  if (givenDomain === undefined || origin["domainName"] !== givenDomain) checkDomainName(at, origin["domainName"], kind, problems);
  checkPath(at, origin["path"], problems);
  const customHeaders = checkHeaders(
    `${at}.customHeaders`,
    origin["customHeaders"],
    { eventType, original: {}, required: false, readOnlyRules: false },
    problems,
  );
  // A custom origin header may not repeat a request header (AWS: "a header with the same name can't be present in both").
  for (const name of Object.keys(customHeaders ?? {})) {
    if (requestHeaders !== undefined && Object.hasOwn(requestHeaders, name)) {
      problems.push(`${headerField(`${at}.customHeaders`, name)}: expected a name not already in request.headers, found ${quote(name)} in both`);
    }
  }
  if (kind === "custom") checkCustom(at, origin, problems);
  else checkS3(at, origin, problems);
  if (problems.length > before) return undefined;
  return { [kind]: { ...structuredClone(origin), customHeaders: customHeaders ?? {} } } as unknown as CloudFrontOrigin;
}

function checkDomainName(at: string, value: unknown, kind: "custom" | "s3", problems: string[]): void {
  const where = field(at, "domainName");
  if (typeof value !== "string" || value === "") problems.push(`${where}: expected a non-empty domain name, found ${found(value)}`);
  else if (value.length > 253) problems.push(`${where}: expected at most 253 characters, found ${value.length}`);
  else if (kind === "custom" && value.includes(":")) problems.push(`${where}: expected a domain name without ":" (set the port in "port"), found ${quote(value)}`);
  else if (kind === "custom" && /^\d{1,3}(?:\.\d{1,3}){3}$/.test(value)) problems.push(`${where}: expected a domain name, not an IPv4 address, found ${quote(value)}`);
}

function checkPath(at: string, value: unknown, problems: string[]): void {
  const where = field(at, "path");
  if (typeof value !== "string") problems.push(`${where}: expected a string ("" or starting with "/"), found ${found(value)}`);
  else if (value !== "" && (!value.startsWith("/") || value.endsWith("/"))) {
    problems.push(`${where}: expected "" or a path starting with "/" and not ending with "/", found ${quote(value)}`);
  }
}

function checkCustom(at: string, origin: Record<string, unknown>, problems: string[]): void {
  const port = origin["port"];
  if (typeof port !== "number" || !Number.isInteger(port) || !(port === 80 || port === 443 || (port >= 1024 && port <= 65535))) {
    problems.push(`${at}.port: expected 80, 443 or an integer from 1024 to 65535, found ${found(port)}`);
  }
  const protocol = origin["protocol"];
  if (protocol !== "http" && protocol !== "https") problems.push(`${at}.protocol: expected "http" or "https", found ${found(protocol)}`);
  checkRange(at, origin, "keepaliveTimeout", 1, 60, problems);
  checkRange(at, origin, "readTimeout", 4, 60, problems);
  const ssl = origin["sslProtocols"];
  if (ssl !== undefined) {
    if (!Array.isArray(ssl)) problems.push(`${at}.sslProtocols: expected an array of ${[...SSL_PROTOCOLS].join(", ")}, found ${found(ssl)}`);
    else {
      ssl.forEach((p: unknown, i) => {
        if (typeof p !== "string" || !SSL_PROTOCOLS.has(p)) {
          problems.push(`${at}.sslProtocols[${i}]: expected one of ${[...SSL_PROTOCOLS].join(", ")}, found ${found(p)}`);
        }
      });
    }
  }
}

function checkS3(at: string, origin: Record<string, unknown>, problems: string[]): void {
  const auth = origin["authMethod"];
  if (auth !== undefined && auth !== "origin-access-identity" && auth !== "none") {
    problems.push(`${at}.authMethod: expected "origin-access-identity" or "none", found ${found(auth)}`);
  }
  const region = origin["region"];
  if (auth === "origin-access-identity" && (typeof region !== "string" || region === "")) {
    problems.push(`${at}.region: expected the bucket's region when authMethod is "origin-access-identity", found ${found(region)}`);
  } else if (region !== undefined && typeof region !== "string") {
    problems.push(`${at}.region: expected a string, found ${found(region)}`);
  }
}

function checkRange(at: string, origin: Record<string, unknown>, key: string, min: number, max: number, problems: string[]): void {
  const value = origin[key];
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    problems.push(`${at}.${key}: expected a number of seconds from ${min} to ${max}, found ${found(value)}`);
  }
}
