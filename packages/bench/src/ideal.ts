/**
 * The reference a dispatcher is measured against in the `scale` scenario: an event-driven model
 * of a perfect one. It sees every arrival the moment it happens, has no network, queue or process
 * overhead, never loads a model, and puts each request on the free slot (of a group serving its
 * model) that adds the most generation rate. It uses the sim's own generation model (per model on an
 * instance: `n` generating requests share `g·s·n^α` tokens/s, at most `P` at a time), so what it
 * reaches on a given arrival sequence is the most any dispatcher could with the same placement.
 */

/** A model resident on an instance: `speed` is the instance's speedFactor. */
export interface IdealGroup {
  model: string;
  speed: number;
}

/** One request: arrival (wall-clock ms from the start), model and output tokens. */
export interface IdealRequest {
  at: number;
  model: string;
  tokens: number;
}

/** Options of {@link idealGeneratedTokens}. */
export interface IdealOptions {
  groups: readonly IdealGroup[];
  requests: readonly IdealRequest[];
  /** Slots per group (OLLAMA_NUM_PARALLEL). */
  parallel: number;
  batchAlpha: number;
  /** Tokens/s of one request alone on a speed-1 instance (simulated time). */
  genTokensPerSec: number;
  /** Simulated seconds per wall-clock second. */
  timeScale: number;
  /** The measured window, wall-clock ms from the start. */
  windowStart: number;
  windowEnd: number;
}

interface Running {
  left: number;
}

/**
 * Output tokens the perfect dispatcher generates inside the window. Prompt evaluation is left out
 * (a few milliseconds per request at the scenario's rates).
 */
export function idealGeneratedTokens(o: IdealOptions): number {
  const groups = o.groups.map((g) => ({ ...g, running: [] as Running[] }));
  const queues = new Map<string, number[]>();
  const requests = [...o.requests].sort((a, b) => a.at - b.at);
  // Tokens per wall-clock ms for each of n requests generating together on a group.
  const perRequestRate = (speed: number, n: number) =>
    (o.genTokensPerSec * speed * n ** o.batchAlpha * o.timeScale) / n / 1000;

  const dispatch = () => {
    for (const [model, queue] of queues) {
      while (queue.length > 0) {
        // The free slot that adds the most generation rate: s·((n+1)^α − n^α).
        let best: (typeof groups)[number] | undefined;
        let bestGain = 0;
        for (const g of groups) {
          if (g.model !== model || g.running.length >= o.parallel) continue;
          const n = g.running.length;
          const gain = g.speed * ((n + 1) ** o.batchAlpha - n ** o.batchAlpha);
          if (!best || gain > bestGain) {
            best = g;
            bestGain = gain;
          }
        }
        if (!best) break;
        best.running.push({ left: queue.shift()! });
      }
    }
  };

  let t = 0;
  let next = 0;
  let generated = 0;
  while (t < o.windowEnd) {
    // The next event: an arrival, a request finishing, or a window edge.
    let until = next < requests.length ? requests[next]!.at : Number.POSITIVE_INFINITY;
    for (const g of groups) {
      if (g.running.length === 0) continue;
      const rate = perRequestRate(g.speed, g.running.length);
      const least = Math.min(...g.running.map((r) => r.left));
      until = Math.min(until, t + least / rate);
    }
    if (t < o.windowStart) until = Math.min(until, o.windowStart);
    until = Math.min(until, o.windowEnd);
    const dt = until - t;
    for (const g of groups) {
      if (g.running.length === 0) continue;
      const step = perRequestRate(g.speed, g.running.length) * dt;
      for (const r of g.running) {
        const done = Math.min(r.left, step);
        r.left -= done;
        if (t >= o.windowStart) generated += done;
      }
      g.running = g.running.filter((r) => r.left > 1e-9);
    }
    t = until;
    while (next < requests.length && requests[next]!.at <= t) {
      const r = requests[next++]!;
      const q = queues.get(r.model) ?? [];
      q.push(r.tokens);
      queues.set(r.model, q);
    }
    dispatch();
  }
  return generated;
}

/**
 * Output tokens of one finished request generated inside the window, taking its generation as
 * spread evenly over the `genMs` before it finished (wall clock).
 */
export function tokensInWindow(
  finishedAt: number,
  genMs: number,
  tokens: number,
  windowStart: number,
  windowEnd: number,
): number {
  if (genMs <= 0) return finishedAt >= windowStart && finishedAt < windowEnd ? tokens : 0;
  const from = Math.max(finishedAt - genMs, windowStart);
  const to = Math.min(finishedAt, windowEnd);
  return to > from ? (tokens * (to - from)) / genMs : 0;
}
