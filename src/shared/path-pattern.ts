/**
 * CloudFront cache-behavior path patterns ("Cache behavior settings: Path
 * pattern"): case-sensitive, `*` matches any run of characters (also none),
 * `?` exactly one, a leading `/` optional, at most 255 characters.
 */

const ALLOWED = /^[A-Za-z0-9_\-.*$/~"'@:+?&]+$/;

export function pathPatternProblem(pattern: string): string | null {
  if (pattern.length === 0 || pattern.length > 255) return `expected 1 to 255 characters, found ${pattern.length}`;
  if (!ALLOWED.test(pattern)) return "expected only A-Z a-z 0-9 _ - . * $ / ~ \" ' @ : + ? &";
  if (normalize(pattern) === "/*") return `"${pattern}" matches every path: set it as defaultBehavior instead`;
  return null;
}

/** CloudFront treats `images/*` and `/images/*` alike. */
export function normalize(pattern: string): string {
  return pattern.startsWith("/") ? pattern : `/${pattern}`;
}

/** Whether `pattern` matches `path` (a URL path beginning with `/`). */
export function matchPathPattern(pattern: string, path: string): boolean {
  const p = normalize(pattern);
  // Iterative glob matching with backtracking to the last `*`.
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  while (j < path.length) {
    if (i < p.length && (p[i] === "?" || p[i] === path[j])) {
      i++;
      j++;
    } else if (i < p.length && p[i] === "*") {
      star = i++;
      mark = j;
    } else if (star !== -1) {
      i = star + 1;
      j = ++mark;
    } else return false;
  }
  while (i < p.length && p[i] === "*") i++;
  return i === p.length;
}

/**
 * True when every path `b` matches is also matched by `a` (so, with `a` first,
 * `b` can never be chosen). Sound but not complete: a `true` is always right; a
 * few exotic equal pairs (`*?` vs `?*`) answer `false`.
 */
export function covers(a: string, b: string): boolean {
  const A = normalize(a);
  const B = normalize(b);
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (B.length + 1) + j;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === A.length) r = j === B.length;
    else if (A[i] === "*") r = go(i + 1, j) || (j < B.length && go(i, j + 1));
    else if (j === B.length || B[j] === "*") r = false;
    else if (A[i] === "?") r = go(i + 1, j + 1);
    else r = B[j] === A[i] && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}
