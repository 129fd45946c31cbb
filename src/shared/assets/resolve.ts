/**
 * Which file a path names under each `html_handling` mode, and when the path
 * should be redirected (307) to its canonical form instead: Cloudflare's
 * rules (https://developers.cloudflare.com/workers/static-assets/routing/),
 * checked against Miniflare 4 (test/differential/assets.ts).
 *
 * The principle: `/about`, `/about.html` and `/about/index.html` may all name
 * one file; each mode picks a canonical URL for it (with or without the
 * trailing slash) and redirects the others there, but only when the
 * canonical URL would serve that very file (a redirect never changes what
 * you get), and never when a file exists at the canonical URL itself.
 */
import type { NotFoundHandling, HtmlHandling } from "./config.ts";
import type { AssetEntry, AssetManifest } from "./manifest.ts";

/** What a path resolves to: a file served with a status, or a redirect to a canonical path. */
export type Intent =
  | { kind: "file"; path: string; entry: AssetEntry; status: 200 | 404; fallback: boolean }
  | { kind: "redirect"; to: string };

type Step = () => Intent | null | undefined;

function first(steps: Step[]): Intent | null {
  for (const step of steps) {
    const found = step();
    if (found) return found;
  }
  return null;
}

/**
 * The intent for a decoded path (collapsed slashes, see `decodePathname`), or null: no file,
 * and the not-found handling gave none. `notFound` is separate from the config so the
 * router can ask "would the assets answer this without their fallback?".
 */
export function resolveIntent(manifest: AssetManifest, html: HtmlHandling, notFound: NotFoundHandling, pathname: string): Intent | null {
  const has = (p: string): AssetEntry | undefined => (Object.hasOwn(manifest, p) ? manifest[p] : undefined);

  function find(p: string, redirects: boolean): Intent | null {
    const file = (path: string): Step => () => {
      const entry = has(path);
      return entry && { kind: "file", path, entry, status: 200, fallback: false };
    };
    /** A redirect from `p` to `to`, when `p` names `source` and `to` (with no file of its own) would serve the same file. */
    const moveTo = (source: string, to: string): Step => () => {
      if (!redirects || has(source) === undefined || has(to) !== undefined) return null;
      const there = find(to, false);
      return there?.kind === "file" && there.path === source ? { kind: "redirect", to } : null;
    };
    const cut = (n: number): string => p.slice(0, p.length - n);
    const exact = file(p);
    const missing: Step = () => fallback(p);

    switch (html) {
      case "none":
        return first([exact, missing]);
      case "auto-trailing-slash":
        if (p.endsWith("/index")) return first([exact, moveTo(`${p}.html`, cut(5)), moveTo(`${cut(6)}.html`, cut(6)), ...autoRest()]);
        if (p.endsWith("/index.html")) return first([moveTo(p, cut(10)), moveTo(`${cut(11)}.html`, cut(11)), ...autoRest()]);
        if (p.endsWith("/")) return first([file(`${p}index.html`), moveTo(`${cut(1)}.html`, cut(1)), ...autoRest()]);
        if (p.endsWith(".html")) return first([moveTo(p, cut(5)), moveTo(`${cut(5)}/index.html`, `${cut(5)}/`), ...autoRest()]);
        return first(autoRest());
      case "force-trailing-slash": {
        const rest = [exact, moveTo(`${p}.html`, `${p}/`), moveTo(`${p}/index.html`, `${p}/`), missing];
        if (p.endsWith("/index")) return first([exact, moveTo(`${p}.html`, cut(5)), moveTo(`${cut(6)}.html`, cut(5)), ...rest]);
        if (p.endsWith("/index.html")) return first([moveTo(p, cut(10)), moveTo(`${cut(11)}.html`, cut(10)), ...rest]);
        if (p.endsWith("/")) return first([file(`${p}index.html`), file(`${cut(1)}.html`), ...rest]);
        if (p.endsWith(".html")) return first([moveTo(p, `${cut(5)}/`), exact, moveTo(`${cut(5)}/index.html`, `${cut(5)}/`), ...rest]);
        return first(rest);
      }
      case "drop-trailing-slash": {
        const rest = [exact, file(`${p}.html`), file(`${p}/index.html`), missing];
        if (p.endsWith("/index")) {
          if (p === "/index") return first([exact, moveTo("/index.html", "/"), ...rest]);
          return first([exact, moveTo(`${cut(6)}.html`, cut(6)), moveTo(`${p}.html`, cut(6)), ...rest]);
        }
        if (p.endsWith("/index.html")) {
          if (p === "/index.html") return first([moveTo("/index.html", "/"), ...rest]);
          return first([moveTo(p, cut(11)), exact, moveTo(`${cut(11)}.html`, cut(11)), ...rest]);
        }
        if (p.endsWith("/")) {
          if (p === "/") return first([file("/index.html"), ...rest]);
          return first([moveTo(`${cut(1)}.html`, cut(1)), moveTo(`${cut(1)}/index.html`, cut(1)), ...rest]);
        }
        if (p.endsWith(".html")) return first([moveTo(p, cut(5)), moveTo(`${cut(5)}/index.html`, cut(5)), ...rest]);
        return first(rest);
      }
    }

    /** auto-trailing-slash after its suffix rules: the file, `p.html`, then `p/` when `p/index.html` exists. */
    function autoRest(): Step[] {
      return [exact, file(`${p}.html`), moveTo(`${p}/index.html`, `${p}/`), missing];
    }
  }

  /** not_found_handling: an SPA's /index.html (200), or the nearest 404.html up the path (404). */
  function fallback(p: string): Intent | null {
    if (notFound === "single-page-application") {
      const entry = has("/index.html");
      return entry ? { kind: "file", path: "/index.html", entry, status: 200, fallback: true } : null;
    }
    if (notFound === "404-page") {
      for (let dir = p.slice(0, p.lastIndexOf("/")); ; dir = dir.slice(0, dir.lastIndexOf("/"))) {
        const path = `${dir}/404.html`;
        const entry = has(path);
        if (entry) return { kind: "file", path, entry, status: 404, fallback: true };
        if (dir === "") return null;
      }
    }
    return null;
  }

  return find(pathname, true);
}

/** A URL's pathname as the manifest names files: each segment percent-decoded where it can be, runs of "/" as one. */
export function decodePathname(pathname: string): string {
  return pathname
    .split("/")
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    })
    .join("/")
    .replace(/\/+/g, "/");
}

/** The path as a redirect's Location carries it: each segment percent-encoded. */
export function encodePathname(pathname: string): string {
  return pathname.split("/").map(encodeURIComponent).join("/");
}
