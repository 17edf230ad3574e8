import { describe, expect, it } from 'vitest';
import { mean, meanInterval, percentile, summarize } from '../src/stats.js';

describe('percentile', () => {
  const oneToHundred = Float64Array.from({ length: 100 }, (_, i) => i + 1);

  it('interpolates between the nearest ranks', () => {
    expect(percentile([10, 20, 30, 40], 50)).toBe(25);
    expect(percentile(oneToHundred, 50)).toBeCloseTo(50.5);
    expect(percentile(oneToHundred, 99)).toBeCloseTo(99.01);
    expect(percentile(oneToHundred, 95)).toBeCloseTo(95.05);
  });

  it('returns the extremes at 0 and 100 and the only value of a single sample', () => {
    expect(percentile(oneToHundred, 0)).toBe(1);
    expect(percentile(oneToHundred, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
  });

  it('is NaN for no samples', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('summarize', () => {
  it('sorts a copy, so the caller’s completion-order latencies are left alone', () => {
    const latencies = [5, 1, 4, 2, 3];
    const s = summarize(latencies, 1000);
    expect(latencies).toEqual([5, 1, 4, 2, 3]);
    expect(s).toMatchObject({ count: 5, min: 1, max: 5, mean: 3, p50: 3 });
  });

  it('counts requests per second over the wall-clock time of the phase', () => {
    expect(summarize(new Float64Array(500).fill(2), 250).rps).toBe(2000);
  });
});

describe('mean and meanInterval', () => {
  it('gives the mean and the Student-t 95% half-width', () => {
    expect(mean([1, 2, 3, 6])).toBe(3);
    expect(mean([])).toBeNaN();
    const r = meanInterval([1, 2, 3, 6]);
    // sd = sqrt(((−2)² + (−1)² + 0² + 3²) / 3) = sqrt(14/3); t(0.975, 3) = 3.182.
    expect(r.sd).toBeCloseTo(Math.sqrt(14 / 3), 12);
    expect(r.half).toBeCloseTo((3.182 * Math.sqrt(14 / 3)) / 2, 12);
    expect(meanInterval([5]).half).toBeNaN();
    // Beyond 30 degrees of freedom the normal quantile is used.
    const many = Array.from({ length: 100 }, (_, i) => i % 2);
    expect(meanInterval(many).half).toBeCloseTo((1.96 * meanInterval(many).sd) / 10, 12);
  });
});
