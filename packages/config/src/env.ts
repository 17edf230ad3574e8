/**
 * A small declarative env schema: each variable has a parser, a default and a description,
 * so boot can validate everything at once and `ward` can print the table of variables.
 */

/** One environment variable: how to read it and what it is for. */
export interface EnvVar<T> {
  kind: string;
  description: string;
  default?: T | undefined;
  /** Required unless it has a default or is optional. */
  optional?: boolean;
  /** Treated as a secret: never echoed back in error messages. */
  secret?: boolean;
  parse(raw: string): T;
}

export type EnvSchema = Record<string, EnvVar<unknown>>;
type Out<V> = V extends EnvVar<infer T> ? (V extends { optional: true } ? T | undefined : T) : never;
/** The typed object a schema produces. */
export type EnvOf<S extends EnvSchema> = { [K in keyof S]: Out<S[K]> };

/** Raised when the environment does not satisfy a schema; `problems` names every bad variable. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Opts<T> = { description: string; default?: T; optional?: boolean; secret?: boolean };

function make<T>(kind: string, parse: (raw: string) => T, opts: Opts<T>): EnvVar<T> {
  return { kind, parse, ...opts };
}

export const env = {
  string: <O extends Opts<string>>(opts: O & { minLength?: number }) =>
    make(
      'string',
      (raw) => {
        if (opts.minLength && raw.length < opts.minLength)
          throw new Error(`must be at least ${opts.minLength} characters`);
        return raw;
      },
      opts,
    ) as EnvVar<string> & O,
  int: <O extends Opts<number>>(opts: O & { min?: number; max?: number }) =>
    make(
      'integer',
      (raw) => {
        if (!/^-?\d+$/.test(raw.trim())) throw new Error('must be a whole number');
        const n = Number(raw);
        if (opts.min !== undefined && n < opts.min) throw new Error(`must be at least ${opts.min}`);
        if (opts.max !== undefined && n > opts.max) throw new Error(`must be at most ${opts.max}`);
        return n;
      },
      opts,
    ) as EnvVar<number> & O,
  bool: <O extends Opts<boolean>>(opts: O) =>
    make(
      'boolean',
      (raw) => {
        const v = raw.trim().toLowerCase();
        if (['1', 'true', 'yes', 'on'].includes(v)) return true;
        if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
        throw new Error('must be true or false');
      },
      opts,
    ) as EnvVar<boolean> & O,
  url: <O extends Opts<string>>(opts: O & { protocols: string[] }) =>
    make('url', (raw) => checkUrl(raw.trim(), opts.protocols), opts) as EnvVar<string> & O,
  urlList: <O extends Opts<string[]>>(opts: O & { protocols: string[] }) =>
    make(
      'url list',
      (raw) => {
        const list = raw.split(/[\s,]+/).filter(Boolean);
        if (list.length === 0) throw new Error('must list at least one URL');
        return list.map((u) => checkUrl(u, opts.protocols));
      },
      opts,
    ) as EnvVar<string[]> & O,
  list: <O extends Opts<string[]>>(opts: O) =>
    make('list', (raw) => raw.split(/[\s,]+/).filter(Boolean), opts) as EnvVar<string[]> & O,
  oneOf: <const C extends readonly string[], O extends Opts<C[number]>>(choices: C, opts: O) =>
    make(
      choices.join('|'),
      (raw) => {
        const v = raw.trim();
        if (!(choices as readonly string[]).includes(v))
          throw new Error(`must be one of ${choices.join(', ')}`);
        return v as C[number];
      },
      opts,
    ) as EnvVar<C[number]> & O,
  /** A size such as `20mb`, `512kb` or a plain byte count. */
  bytes: <O extends Opts<number>>(opts: O) => make('size', parseBytes, opts) as EnvVar<number> & O,
};

function checkUrl(raw: string, protocols: string[]): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error('must be a URL');
  }
  if (!protocols.includes(u.protocol.replace(/:$/, '')))
    throw new Error(`must use ${protocols.join(' or ')}`);
  return raw.replace(/\/+$/, '');
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1024,
  k: 1024,
  mb: 1024 ** 2,
  m: 1024 ** 2,
  gb: 1024 ** 3,
  g: 1024 ** 3,
};

/** Parses `20mb`, `512kb`, `1048576` into bytes. */
export function parseBytes(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b?)\s*$/i.exec(raw);
  if (!m) throw new Error('must be a size such as 20mb or 1048576');
  const unit = UNITS[(m[2] ?? '').toLowerCase()];
  if (unit === undefined) throw new Error('must be a size such as 20mb or 1048576');
  return Math.round(Number(m[1]) * unit);
}

/**
 * Reads `schema` from `source` (default `process.env`). Empty strings count as unset.
 * Throws one {@link ConfigError} naming every missing or malformed variable.
 */
export function loadEnv<S extends EnvSchema>(schema: S, source: NodeJS.ProcessEnv = process.env): EnvOf<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(schema)) {
    const raw = source[name];
    if (raw === undefined || raw === '') {
      if (spec.default !== undefined) out[name] = spec.default;
      else if (!spec.optional) problems.push(`${name} is required (${spec.description})`);
      continue;
    }
    try {
      out[name] = spec.parse(raw);
    } catch (err) {
      const shown = spec.secret ? '' : ` (got "${raw.length > 60 ? `${raw.slice(0, 60)}…` : raw}")`;
      problems.push(`${name} ${(err as Error).message}${shown}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out as EnvOf<S>;
}
