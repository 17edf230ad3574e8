/**
 * Open-loop arrival schedules for the `scale` scenario.
 *
 * Two ways to offer a load:
 * - `poisson`: independent exponential gaps and an independent draw of each request's model and
 *   length. What a cell really offers then varies with the draw: over a 10 s cell at 30 req/s the
 *   request count varies by about ±6% and the generated tokens asked for by about ±9%, so a cell
 *   labelled "100%" may offer 91% or 109%.
 * - `exact` (the default): each segment (warm-up, measured) holds exactly `rate × seconds`
 *   requests at independent uniform times — a Poisson process conditioned on its count, so gaps
 *   are still random and bursty — and the (model, length) pairs are dealt in random order from a
 *   deck that holds each pair in its exact share. The offered work then is the label's, and only
 *   timing and order are random.
 */

/** How arrivals are drawn; see the module comment. */
export type ArrivalMode = 'exact' | 'poisson';
export const ARRIVAL_MODES: readonly ArrivalMode[] = ['exact', 'poisson'];

/** Something a request is drawn from, with its share of requests (shares sum to 1). */
export interface Shared {
  share: number;
}

/** One arrival: wall-clock ms from the start of the cell. */
export interface Arrival<M, K> {
  at: number;
  model: M;
  kind: K;
  /** True when it arrives in the measured window (after the warm-up). */
  measured: boolean;
}

export interface ScheduleOptions<M extends Shared, K extends Shared> {
  mode: ArrivalMode;
  /** Requests per second (wall clock). */
  rate: number;
  warmupSeconds: number;
  measureSeconds: number;
  models: readonly M[];
  kinds: readonly K[];
  seed: number;
}

/** A small seeded PRNG (mulberry32), so every system gets the same arrivals and mix. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A seed for one arrival sequence from a base seed and the sequence's coordinates (e.g. load in
 * permille and sequence number), mixed so that nearby inputs give unrelated streams.
 */
export function mixSeed(base: number, ...parts: number[]): number {
  let h = base >>> 0;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x9e3779b1) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
  }
  return h >>> 0;
}

function pick<T extends Shared>(items: readonly T[], u: number): T {
  let acc = 0;
  for (const it of items) {
    acc += it.share;
    if (u < acc) return it;
  }
  return items[items.length - 1]!;
}

/**
 * `n` (model, kind) pairs, each pair as close to `n × modelShare × kindShare` times as whole
 * numbers allow (largest remainder), shuffled with `random`. Shares must sum to 1.
 */
export function deal<M extends Shared, K extends Shared>(
  n: number,
  models: readonly M[],
  kinds: readonly K[],
  random: () => number,
): Array<{ model: M; kind: K }> {
  for (const [what, items] of [
    ['models', models],
    ['kinds', kinds],
  ] as const) {
    const sum = items.reduce((s, it) => s + it.share, 0);
    if (Math.abs(sum - 1) > 1e-9)
      throw new RangeError(`the shares of ${what} sum to ${Number(sum.toFixed(6))}, not 1`);
  }
  const pairs = models.flatMap((model) =>
    kinds.map((kind) => {
      const want = n * model.share * kind.share;
      return { model, kind, count: Math.floor(want), rest: want - Math.floor(want) };
    }),
  );
  let short = n - pairs.reduce((s, p) => s + p.count, 0);
  for (const p of [...pairs].sort((a, b) => b.rest - a.rest)) {
    if (short <= 0) break;
    p.count++;
    short--;
  }
  const deck = pairs.flatMap((p) =>
    Array.from({ length: p.count }, () => ({ model: p.model, kind: p.kind })),
  );
  for (let i = deck.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [deck[i], deck[j]] = [deck[j]!, deck[i]!];
  }
  return deck;
}

/** The arrivals of one cell: warm-up then measured window, sorted by time. */
export function scheduleArrivals<M extends Shared, K extends Shared>(
  o: ScheduleOptions<M, K>,
): Arrival<M, K>[] {
  const random = rng(o.seed);
  const warmEnd = o.warmupSeconds * 1000;
  const end = (o.warmupSeconds + o.measureSeconds) * 1000;
  if (o.mode === 'poisson') {
    const out: Arrival<M, K>[] = [];
    for (let t = 0; ; ) {
      t += (-Math.log(1 - random()) / o.rate) * 1000;
      if (t >= end) return out;
      out.push({
        at: t,
        model: pick(o.models, random()),
        kind: pick(o.kinds, random()),
        measured: t >= warmEnd,
      });
    }
  }
  const segment = (from: number, to: number, measured: boolean): Arrival<M, K>[] => {
    const n = Math.round((o.rate * (to - from)) / 1000);
    const times = Array.from({ length: n }, () => from + random() * (to - from)).sort((a, b) => a - b);
    return deal(n, o.models, o.kinds, random).map((p, i) => ({ at: times[i]!, ...p, measured }));
  };
  return [...segment(0, warmEnd, false), ...segment(warmEnd, end, true)];
}
