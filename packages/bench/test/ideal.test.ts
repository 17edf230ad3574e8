import { describe, expect, it } from 'vitest';
import { idealGeneratedTokens, tokensInWindow } from '../src/ideal.js';

const base = { parallel: 1, batchAlpha: 0.6, genTokensPerSec: 10, timeScale: 1 };

describe('idealGeneratedTokens', () => {
  it('counts only what is generated inside the window', () => {
    // One request of 100 tokens at 10 tokens/s runs from 0 to 10 s; the window holds 2–5 s.
    const tokens = idealGeneratedTokens({
      ...base,
      groups: [{ model: 'm', speed: 1 }],
      requests: [{ at: 0, model: 'm', tokens: 100 }],
      windowStart: 2000,
      windowEnd: 5000,
    });
    expect(tokens).toBeCloseTo(30, 6);
  });

  it('shares a group by n^α and never runs more than P requests on it', () => {
    // Two requests on one group with P = 2 share 10·2^0.5 tokens/s; a third waits for a slot.
    const opts = {
      ...base,
      parallel: 2,
      batchAlpha: 0.5,
      groups: [{ model: 'm', speed: 1 }],
      requests: [0, 0, 0].map((at) => ({ at, model: 'm', tokens: 1000 })),
      windowStart: 0,
      windowEnd: 10_000,
    };
    expect(idealGeneratedTokens(opts)).toBeCloseTo(10 * Math.SQRT2 * 10, 6);
  });

  it('serves a model only on groups that hold it, and uses a slower group at its speed', () => {
    const tokens = idealGeneratedTokens({
      ...base,
      groups: [
        { model: 'a', speed: 1 },
        { model: 'b', speed: 0.5 },
      ],
      requests: [
        { at: 0, model: 'b', tokens: 1000 },
        { at: 0, model: 'b', tokens: 1000 },
      ],
      windowStart: 0,
      windowEnd: 4000,
    });
    // The idle group of model a cannot help; b's group runs one at a time at 5 tokens/s.
    expect(tokens).toBeCloseTo(20, 6);
  });

  it('keeps every slot busy under a standing backlog (work = capacity)', () => {
    const groups = [
      { model: 'a', speed: 1 },
      { model: 'a', speed: 0.5 },
    ];
    const requests = Array.from({ length: 400 }, () => ({ at: 0, model: 'a', tokens: 50 }));
    const tokens = idealGeneratedTokens({
      ...base,
      parallel: 4,
      groups,
      requests,
      windowStart: 0,
      windowEnd: 20_000,
    });
    const capacity = (10 * 4 ** 0.6 + 5 * 4 ** 0.6) * 20;
    expect(tokens / capacity).toBeCloseTo(1, 3);
  });
});

describe('tokensInWindow', () => {
  it('spreads a finished request’s tokens over its generation time', () => {
    expect(tokensInWindow(10_000, 4000, 100, 7000, 20_000)).toBeCloseTo(75, 6);
    expect(tokensInWindow(10_000, 4000, 100, 0, 8000)).toBeCloseTo(50, 6);
    expect(tokensInWindow(10_000, 4000, 100, 11_000, 20_000)).toBe(0);
    expect(tokensInWindow(10_000, 0, 100, 9000, 11_000)).toBe(100);
  });
});
