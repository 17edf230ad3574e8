const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a `keep_alive` value the way Ollama does: a number is seconds, a string is a Go duration
 * (`"5m"`, `"1h30m"`, `"0"`), and anything negative means "forever" (returned as Infinity).
 * Returns milliseconds, or an error message.
 */
export function parseKeepAlive(value: unknown): { ms: number } | { error: string } {
  if (typeof value === 'number' && Number.isFinite(value)) {
    return { ms: value < 0 ? Number.POSITIVE_INFINITY : Math.trunc(value) * 1000 };
  }
  if (typeof value !== 'string') {
    const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    return { error: `Unsupported type: '${type}'` };
  }
  const text = value.trim();
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return { ms: 0 };
  if (rest === '') return { error: `time: invalid duration "${text}"` };
  let total = 0;
  const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)?/;
  while (rest.length > 0) {
    const match = part.exec(rest);
    if (!match) return { error: `time: invalid duration "${text}"` };
    if (!match[2]) return { error: `time: missing unit in duration "${text}"` };
    total += Number(match[1]) * UNIT_MS[match[2]]!;
    rest = rest.slice(match[0].length);
  }
  return { ms: sign < 0 ? Number.POSITIVE_INFINITY : total };
}
