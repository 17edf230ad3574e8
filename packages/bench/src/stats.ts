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

/** Arithmetic mean; NaN for an empty input. */
export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length ? sum / values.length : Number.NaN;
}

/** Two-sided 97.5% quantiles of Student's t for 1–30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/**
 * The mean of independent samples with the half-width of its 95% confidence interval (Student's t;
 * 1.96 beyond 30 degrees of freedom). The half-width is NaN for fewer than two samples.
 */
export function meanInterval(values: ArrayLike<number>): { mean: number; half: number; sd: number } {
  const n = values.length;
  const m = mean(values);
  if (n < 2) return { mean: m, half: Number.NaN, sd: Number.NaN };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - m) ** 2;
  const sd = Math.sqrt(ss / (n - 1));
  return { mean: m, half: ((T975[n - 2] ?? 1.96) * sd) / Math.sqrt(n), sd };
}
