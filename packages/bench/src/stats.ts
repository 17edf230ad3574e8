/** Latency statistics for benchmark results. */

/**
 * The `p`-th percentile (0–100) of ascending `sorted` values, interpolating linearly between the
 * two nearest ranks (the "R-7" / NumPy default definition). NaN for an empty input.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (p <= 0) return sorted[0]!;
  if (p >= 100) return sorted[n - 1]!;
  const rank = (p / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(n - 1, lo + 1);
  const frac = rank - lo;
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * frac;
}

/** Summary of one measured phase. Latencies are milliseconds. */
export interface LatencySummary {
  /** Requests that succeeded (and whose latency is counted). */
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Successful requests per second over the phase's wall-clock time. */
  rps: number;
}

/** Summarises latencies (ms) measured over `elapsedMs` of wall-clock time. Does not modify its input. */
export function summarize(latenciesMs: ArrayLike<number>, elapsedMs: number): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  const count = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count,
    min: count ? sorted[0]! : Number.NaN,
    mean: count ? sum / count : Number.NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: count ? sorted[count - 1]! : Number.NaN,
    rps: elapsedMs > 0 ? (count / elapsedMs) * 1000 : Number.NaN,
  };
}
