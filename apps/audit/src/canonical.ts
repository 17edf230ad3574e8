/**
 * Canonical JSON (RFC 8785, JCS) for the values audit events hold: object keys sorted by UTF-16
 * code units, no whitespace, strings and numbers serialised as ECMAScript does (which is what
 * JCS specifies). The same event always yields the same bytes, so its hash is reproducible.
 */
export function canonicalJson(value: unknown): string {
  // Fast path: a copy with keys inserted in sorted order, serialised natively. It is exact unless
  // an object has integer-like keys (JavaScript orders those numerically, JCS as strings).
  const sorted = sortedCopy(value);
  if (sorted !== INTEGER_KEYS) return JSON.stringify(sorted);
  return slow(value);
}

const INTEGER_KEYS = Symbol('integer keys');
const INTEGER_LIKE = /^(0|[1-9]\d*)$/;

function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return checkScalar(value);
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const v = sortedCopy(value[i] === undefined ? null : value[i]);
      if (v === INTEGER_KEYS) return INTEGER_KEYS;
      out[i] = v;
    }
    return out;
  }
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined) continue;
    if (INTEGER_LIKE.test(key)) return INTEGER_KEYS;
    const c = sortedCopy(v);
    if (c === INTEGER_KEYS) return INTEGER_KEYS;
    out[key] = c;
  }
  return out;
}

function checkScalar(value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new TypeError('canonical JSON has no representation for NaN or Infinity');
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol')
    throw new TypeError(`canonical JSON cannot represent ${typeof value}`);
  if (typeof value === 'bigint') throw new TypeError('canonical JSON cannot represent bigint');
  return value;
}

function slow(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(checkScalar(value));
  if (Array.isArray(value)) return `[${value.map((v) => slow(v === undefined ? null : v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${slow(v)}`);
  }
  return `{${parts.join(',')}}`;
}
