/** Summary statistics for benchmark and evaluation figures. */

export interface Summary {
  count: number;
  mean: number;
  min: number;
  median: number;
  p95: number;
  max: number;
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function summarise(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const mid = n >> 1;
  return {
    count: n,
    mean: n ? sorted.reduce((s, v) => s + v, 0) / n : Number.NaN,
    min: n ? sorted[0] : Number.NaN,
    median: n === 0 ? Number.NaN : n % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2,
    p95: percentile(sorted, 95),
    max: n ? sorted[n - 1] : Number.NaN,
  };
}
