/**
 * The request headers CloudFront itself adds about the viewer (AWS "Add
 * CloudFront request headers"): device type from the User-Agent, the viewer's
 * protocol, country. CloudFront adds them after viewer-request (so a
 * viewer-request function never sees them) when a policy of the cache
 * behavior names them; verge's behaviors have one policy, the cache key
 * policy, so a header is added when its header allow list names it, and is
 * then in the cache key and goes to origin-request and the origin.
 *
 * The names are CloudFront's to set: on an edge node a viewer's own lines of
 * them are dropped as the request arrives, so no viewer can pose as another
 * country or device. Locally (the harness, `verge dev --upstream`) the
 * developer stands in for the viewer and for CloudFront's geolocation, so the
 * lines a request carries are kept (`keepViewerCloudFrontHeaders`).
 *
 * Added: CloudFront-Is-{Desktop,Mobile,Tablet,SmartTV,Android,IOS}-Viewer
 * ("true"/"false") and CloudFront-Forwarded-Proto. Never added: the country
 * and other geolocation headers (verge has no geolocation database), the
 * viewer's address, TLS and HTTP version headers.
 */
import type { CacheKeyPolicy } from "../shared/protocol.ts";
import type { HeaderList } from "../shared/http.ts";

/** A header CloudFront sets about the viewer: `CloudFront-Viewer-*`, `CloudFront-Is-*-Viewer`, `CloudFront-Forwarded-Proto`. */
export function isCloudFrontViewerHeader(name: string): boolean {
  return name.startsWith("cloudfront-") && (name.startsWith("cloudfront-viewer-") || /^cloudfront-is-[a-z]+-viewer$/.test(name) || name === "cloudfront-forwarded-proto");
}

/** `list` without the viewer's own lines of CloudFront's viewer headers; the same list when it has none. */
export function dropViewerCloudFrontHeaders(list: HeaderList): HeaderList {
  for (const [name] of list) {
    if (name.startsWith("cloudfront-") && isCloudFrontViewerHeader(name)) return list.filter(([n]) => !isCloudFrontViewerHeader(n));
  }
  return list;
}

const DEVICE_HEADERS = ["desktop", "mobile", "tablet", "smarttv", "android", "ios"] as const;
type Device = (typeof DEVICE_HEADERS)[number];

/** The CloudFront viewer headers a cache key policy names (lowercase), remembered per policy object. */
const named = new WeakMap<CacheKeyPolicy, readonly string[]>();
function namedBy(policy: CacheKeyPolicy): readonly string[] {
  let names = named.get(policy);
  if (names === undefined) {
    const list = policy.headers.behavior === "allowList" ? policy.headers.items.map((i) => i.toLowerCase()) : [];
    names = [...new Set(list.filter((n) => n === "cloudfront-forwarded-proto" || DEVICE_HEADERS.some((d) => n === `cloudfront-is-${d}-viewer`)))];
    named.set(policy, names);
  }
  return names;
}

/**
 * `list` with the CloudFront viewer headers `policy` names that the request
 * does not carry yet; the same list when there are none to add.
 *
 * @example
 * withCloudFrontHeaders([["user-agent", "Mozilla/5.0 (iPhone; ...) Mobile/15E148"]], policy, "https")
 * // [..., ["cloudfront-is-mobile-viewer", "true"]] when the policy names CloudFront-Is-Mobile-Viewer
 */
export function withCloudFrontHeaders(list: HeaderList, policy: CacheKeyPolicy, scheme: string): HeaderList {
  const names = namedBy(policy);
  if (names.length === 0) return list;
  let device: Record<Device, boolean> | undefined;
  let out = list;
  for (const name of names) {
    if (out.some(([n]) => n === name)) continue;
    let value: string;
    if (name === "cloudfront-forwarded-proto") value = scheme;
    else {
      device ??= deviceOf(list.find(([n]) => n === "user-agent")?.[1] ?? "");
      value = String(device[name.slice("cloudfront-is-".length, -"-viewer".length) as Device]);
    }
    if (out === list) out = list.slice();
    out.push([name, value]);
  }
  return out;
}

const TABLET = /iPad|Tablet|PlayBook|Kindle|Silk\/|Nexus (?:7|9|10)\b|SM-T\d|Android(?!.*Mobile)/i;
const MOBILE = /Mobi|iPhone|iPod|Windows Phone|BlackBerry|BB10|Opera Mini|IEMobile|webOS(?!.*TV)/i;
const SMART_TV = /Smart-?TV|SMART-TV|HbbTV|AppleTV|GoogleTV|CrKey|Roku|BRAVIA|NetCast|Tizen[^)]*TV|Web0S|webOS.*TV|AFT[A-Z]/i;

/**
 * The viewer's device type from its User-Agent, as CloudFront's headers report
 * it: CloudFront matches a device list of its own, so this is an approximation
 * by the usual User-Agent tokens. A tablet is not also mobile here; anything
 * that is none of mobile, tablet and smart TV (no User-Agent included) is a desktop.
 */
export function deviceOf(userAgent: string): Record<Device, boolean> {
  const smarttv = SMART_TV.test(userAgent);
  const tablet = !smarttv && TABLET.test(userAgent);
  const mobile = !smarttv && !tablet && MOBILE.test(userAgent);
  return {
    desktop: !smarttv && !tablet && !mobile,
    mobile,
    tablet,
    smarttv,
    android: /Android/i.test(userAgent),
    ios: /iPhone|iPad|iPod/i.test(userAgent) || (/Macintosh/.test(userAgent) && /Mobile\//.test(userAgent)),
  };
}
