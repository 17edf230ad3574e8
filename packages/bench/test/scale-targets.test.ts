import { describe, expect, it } from 'vitest';
import { type IdealSpread, SCALE_DEFAULTS, type ScaleRow, scaleTargets } from '../src/scale.js';

function row(system: ScaleRow['system'], load: number, over: Partial<ScaleRow> = {}): ScaleRow {
  return {
    system,
    label: system,
    load,
    sequence: 0,
    offeredRps: 60 * load,
    arrivedRps: 60 * load,
    sendLag: { p99: 1, max: 2 },
    sent: 600,
    ok: 600,
    throughputRps: 60 * load,
    throughputFraction: load,
    workFraction: load,
    idealFraction: load,
    p50: 100,
    p95: 1000,
    p99: 2000,
    errors: 0,
    errorsByKind: {},
    simRequests: 600,
    modelLoads: 0,
    loadsPer1000: 0,
    instances: [],
    ...over,
  };
}

/** A spread whose median, mean and percentiles all differ, so using the wrong one shows. */
const spread = (load: number, mean: number): IdealSpread => ({
  load,
  count: 600,
  thisRun: mean - 0.01,
  belowThisRun: 0.2,
  p10: mean - 0.03,
  median: mean + 0.007,
  mean,
  meanHalf: 0.002,
  p90: mean + 0.02,
  under95: 0.2,
});

const throughput = (rows: ScaleRow[], spreads: IdealSpread[]) =>
  scaleTargets(rows, SCALE_DEFAULTS, spreads).find((t) => t.name.startsWith('Ward throughput'))!;

describe('scaleTargets: throughput at 100%', () => {
  it("is the perfect dispatcher's mean over other sequences plus Ward's difference from it on the run's", () => {
    const t = throughput(
      [row('ward', 1, { workFraction: 0.94, idealFraction: 0.945 }), row('ward', 0.85)],
      [spread(0.85, 0.84), spread(1, 0.964)],
    );
    expect(t.value).toBeCloseTo(0.964 - 0.005, 9);
    expect(t.pass).toBe(true);
    expect(t.note).toContain(
      "this run's sequence: Ward 0.940, perfect dispatcher 0.945, Ward − perfect −0.005",
    );
    expect(t.note).toContain('`--sequences N`');
  });

  it('averages the differences over several sequences and gives their 95% interval', () => {
    const rows = [
      row('ward', 1, { sequence: 0, workFraction: 0.94, idealFraction: 0.95 }),
      row('ward', 1, { sequence: 1, workFraction: 0.97, idealFraction: 0.97 }),
      row('ward', 1, { sequence: 2, workFraction: 0.955, idealFraction: 0.96 }),
    ];
    const t = throughput(rows, [spread(1, 0.96)]);
    const diffs = [-0.01, 0, -0.005];
    const m = diffs.reduce((a, b) => a + b, 0) / 3;
    expect(t.value).toBeCloseTo(0.96 + m, 9);
    const sd = Math.sqrt(diffs.reduce((a, d) => a + (d - m) ** 2, 0) / 2);
    const half = Math.hypot((4.303 * sd) / Math.sqrt(3), 0.002);
    expect(t.note).toContain(`95% interval ${(t.value - half).toFixed(3)}–${(t.value + half).toFixed(3)}`);
    expect(t.note).toContain("the run's 3 sequences (mean): Ward 0.955");
  });

  it('fails when Ward loses work the perfect dispatcher would not, whatever the sequences allow', () => {
    const t = throughput([row('ward', 1, { workFraction: 0.93, idealFraction: 0.97 })], [spread(1, 0.97)]);
    expect(t.value).toBeCloseTo(0.93, 9);
    expect(t.pass).toBe(false);
  });

  it('counts a difference above the perfect dispatcher as measured, and passes from exactly 0.95', () => {
    const above = throughput(
      [row('ward', 1, { workFraction: 0.952, idealFraction: 0.95 })],
      [spread(1, 0.948)],
    );
    expect(above.value).toBeCloseTo(0.95, 9);
    expect(above.pass).toBe(true);
    const under = throughput(
      [row('ward', 1, { workFraction: 0.95, idealFraction: 0.95 })],
      [spread(1, 0.9499)],
    );
    expect(under.pass).toBe(false);
  });

  it("falls back to Ward's direct mean when no spread was computed, and says so", () => {
    const t = throughput([row('ward', 1, { workFraction: 0.955, idealFraction: 0.99 })], []);
    expect(t.value).toBeCloseTo(0.955, 9);
    expect(t.note).toContain('direct mean');
  });
});
