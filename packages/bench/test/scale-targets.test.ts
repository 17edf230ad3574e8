import { describe, expect, it } from 'vitest';
import { type IdealSpread, SCALE_DEFAULTS, type ScaleRow, scaleTargets } from '../src/scale.js';

function row(system: ScaleRow['system'], load: number, over: Partial<ScaleRow> = {}): ScaleRow {
  return {
    system,
    label: system,
    load,
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

const spread = (mean: number): IdealSpread => ({
  load: 1,
  thisRun: 0.95,
  belowThisRun: 0.2,
  p10: mean - 0.02,
  median: mean,
  mean,
  p90: mean + 0.02,
  under95: 0.2,
});

const throughput = (rows: ScaleRow[], s: IdealSpread[]) =>
  scaleTargets(rows, SCALE_DEFAULTS, s).find((t) => t.name.startsWith('Ward throughput'))!;

describe('scaleTargets: throughput at 100%', () => {
  it("is Ward's share of the perfect dispatcher on its run × the perfect dispatcher's mean", () => {
    const t = throughput([row('ward', 1, { workFraction: 0.94, idealFraction: 0.95 })], [spread(0.965)]);
    expect(t.value).toBeCloseTo((0.94 / 0.95) * 0.965, 6);
    expect(t.pass).toBe(true);
    expect(t.note).toContain("this run's sequence: Ward 0.94, perfect dispatcher 0.95");
  });

  it('fails when Ward loses work the perfect dispatcher would not, whatever the sequences allow', () => {
    const t = throughput([row('ward', 1, { workFraction: 0.9, idealFraction: 0.97 })], [spread(0.97)]);
    expect(t.value).toBeLessThan(0.95);
    expect(t.pass).toBe(false);
  });

  it('gives Ward no credit above the perfect dispatcher', () => {
    const t = throughput([row('ward', 1, { workFraction: 0.99, idealFraction: 0.95 })], [spread(0.94)]);
    expect(t.value).toBeCloseTo(0.94, 6);
    expect(t.pass).toBe(false);
  });
});
