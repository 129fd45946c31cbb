/** Small, dependency-free statistics for benchmark samples. */

export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export const median = (values: number[]): number => quantile(values, 0.5);

export function summary(values: number[]): { n: number; min: number; p50: number; p90: number; p99: number; max: number; mean: number } {
  const mean = values.reduce((a, b) => a + b, 0) / (values.length || 1);
  return {
    n: values.length,
    min: round(values.reduce((a, b) => (b < a ? b : a), Infinity)),
    p50: round(quantile(values, 0.5)),
    p90: round(quantile(values, 0.9)),
    p99: round(quantile(values, 0.99)),
    max: round(values.reduce((a, b) => (b > a ? b : a), -Infinity)),
    mean: round(mean),
  };
}

/** Rounds to 3 significant decimals for small numbers, whole units for large ones. */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const a = Math.abs(x);
  const d = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : digits;
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/** Formats a number for a table: thousands separators, sensible decimals. */
export function fmt(x: number | null | undefined, decimals?: number): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  const d = decimals ?? (a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
  return x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}
