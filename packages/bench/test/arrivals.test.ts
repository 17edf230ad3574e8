import { describe, expect, it } from 'vitest';
import { deal, mixSeed, rng, scheduleArrivals } from '../src/arrivals.js';

const models = [
  { name: 'a', share: 0.5 },
  { name: 'b', share: 0.3 },
  { name: 'c', share: 0.2 },
];
const kinds = [
  { kind: 'short', share: 0.7 },
  { kind: 'long', share: 0.3 },
];
const cell = { rate: 29.9, warmupSeconds: 4, measureSeconds: 10, models, kinds };

function counts<T>(items: T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + 1);
  return m;
}

/** Coefficient of variation of the gaps between arrivals: 1 for a Poisson process, 0 for a metronome. */
function gapCv(at: number[]): number {
  const gaps = at.slice(1).map((t, i) => t - at[i]!);
  const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
  const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
  return sd / mean;
}

describe('deal', () => {
  it('holds each pair in its exact share, as near as whole numbers allow', () => {
    const deck = deal(299, models, kinds, rng(1));
    expect(deck).toHaveLength(299);
    const byPair = counts(deck, (p) => `${p.model.name}/${p.kind.kind}`);
    for (const m of models)
      for (const k of kinds) {
        const n = byPair.get(`${m.name}/${k.kind}`) ?? 0;
        expect(Math.abs(n - 299 * m.share * k.share)).toBeLessThan(1);
      }
  });

  it('refuses shares that do not sum to 1', () => {
    expect(() => deal(100, [{ share: 0.3 }, { share: 0.3 }, { share: 0.3 }], kinds, rng(1))).toThrow(
      /models sum to 0\.9/,
    );
    expect(() => deal(100, models, [{ share: 0.6 }, { share: 0.6 }], rng(1))).toThrow(/kinds sum to 1\.2/);
  });
});

describe('mixSeed', () => {
  it('gives unrelated seeds for neighbouring inputs', () => {
    const seeds = new Set<number>();
    for (let base = 40; base < 45; base++)
      for (const load of [500, 850, 1000]) for (let k = 0; k < 50; k++) seeds.add(mixSeed(base, load, k));
    expect(seeds.size).toBe(5 * 3 * 50);
    // Shifting the base by one does not reproduce the sequences of a neighbouring base.
    expect(mixSeed(42, 1000, 1)).not.toBe(mixSeed(43, 1000, 0));
  });
});

describe('scheduleArrivals', () => {
  it('exact: every window offers exactly its load, at random times', () => {
    for (const seed of [1, 2, 3]) {
      const arrivals = scheduleArrivals({ ...cell, mode: 'exact', seed });
      const warm = arrivals.filter((a) => !a.measured);
      const measured = arrivals.filter((a) => a.measured);
      expect(warm).toHaveLength(Math.round(29.9 * 4));
      expect(measured).toHaveLength(Math.round(29.9 * 10));
      expect(warm.every((a) => a.at >= 0 && a.at < 4000)).toBe(true);
      expect(measured.every((a) => a.at >= 4000 && a.at < 14_000)).toBe(true);
      expect(arrivals.map((a) => a.at)).toEqual(arrivals.map((a) => a.at).sort((x, y) => x - y));
      const longs = measured.filter((a) => a.kind.kind === 'long').length;
      expect(Math.abs(longs - 299 * 0.3)).toBeLessThanOrEqual(1.5);
      const perModel = counts(measured, (a) => a.model.name);
      expect(Math.abs(perModel.get('a')! - 299 * 0.5)).toBeLessThanOrEqual(1.5);
      expect(Math.abs(perModel.get('c')! - 299 * 0.2)).toBeLessThanOrEqual(1.5);
      // Bursty like Poisson arrivals, not evenly spaced.
      expect(gapCv(measured.map((a) => a.at))).toBeGreaterThan(0.8);
      // Model and length do not depend on when a request arrives: every quarter of the window
      // holds about its share of long requests and of the main model (~22 and ~37 of ~75).
      for (let q = 0; q < 4; q++) {
        const part = measured.slice(Math.round((q * 299) / 4), Math.round(((q + 1) * 299) / 4));
        const longs = part.filter((a) => a.kind.kind === 'long').length;
        const mainModel = part.filter((a) => a.model.name === 'a').length;
        expect(longs).toBeGreaterThan(10);
        expect(longs).toBeLessThan(36);
        expect(mainModel).toBeGreaterThan(22);
        expect(mainModel).toBeLessThan(53);
      }
    }
  });

  it('poisson: the count and the mix vary from draw to draw around the load', () => {
    const sizes = [1, 2, 3, 4, 5, 6].map(
      (seed) => scheduleArrivals({ ...cell, mode: 'poisson', seed }).filter((a) => a.measured).length,
    );
    expect(new Set(sizes).size).toBeGreaterThan(1);
    const mean = sizes.reduce((s, n) => s + n, 0) / sizes.length;
    expect(Math.abs(mean - 299)).toBeLessThan(30);
  });

  it('is the same for the same seed and differs for another', () => {
    const a = scheduleArrivals({ ...cell, mode: 'exact', seed: 7 });
    const b = scheduleArrivals({ ...cell, mode: 'exact', seed: 7 });
    const c = scheduleArrivals({ ...cell, mode: 'exact', seed: 8 });
    expect(b.map((x) => [x.at, x.model.name, x.kind.kind])).toEqual(
      a.map((x) => [x.at, x.model.name, x.kind.kind]),
    );
    expect(c.map((x) => x.at)).not.toEqual(a.map((x) => x.at));
  });
});
