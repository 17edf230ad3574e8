import { ConfigError } from './env.js';

const WEAK = [
  'secret',
  'changeme',
  'change-me',
  'password',
  'default',
  'test',
  'ward',
  'example',
  'your-secret-key',
];

/** Decodes a 32-byte AES key given as base64, base64url or hex. */
export function decodeDataKey(raw: string, name = 'WARD_DATA_KEY'): Buffer {
  const s = raw.trim();
  const buf = /^[0-9a-f]{64}$/i.test(s) ? Buffer.from(s, 'hex') : Buffer.from(s, 'base64');
  if (buf.length !== 32)
    throw new ConfigError([`${name} must be 32 bytes as base64 or hex (got ${buf.length} bytes)`]);
  return buf;
}

/** True when an HS256 secret is long and varied enough to resist guessing. */
export function isStrongSecret(secret: string): boolean {
  if (secret.length < 32) return false;
  const lower = secret.toLowerCase();
  if (WEAK.some((w) => lower.includes(w) && lower.length < w.length + 24)) return false;
  return new Set(secret).size >= 10;
}

/** The keyring that seals and opens payloads: the current key and retired ones by id. */
export interface DataKeyring {
  currentId: string;
  keys: Map<string, Buffer>;
}

/**
 * Builds the keyring from config. Returns undefined when no key is configured, which only
 * `ward start` outside HIPAA mode tolerates (it then generates development secrets).
 */
export function keyringFrom(cfg: {
  WARD_DATA_KEY?: string | undefined;
  WARD_DATA_KEY_ID: string;
  WARD_DATA_KEYS_PREVIOUS?: string[] | undefined;
}): DataKeyring | undefined {
  if (!cfg.WARD_DATA_KEY) return undefined;
  const keys = new Map<string, Buffer>([[cfg.WARD_DATA_KEY_ID, decodeDataKey(cfg.WARD_DATA_KEY)]]);
  for (const pair of cfg.WARD_DATA_KEYS_PREVIOUS ?? []) {
    const i = pair.indexOf(':');
    if (i <= 0) throw new ConfigError(['WARD_DATA_KEYS_PREVIOUS entries must look like id:key']);
    keys.set(
      pair.slice(0, i),
      decodeDataKey(pair.slice(i + 1), `WARD_DATA_KEYS_PREVIOUS (${pair.slice(0, i)})`),
    );
  }
  return { currentId: cfg.WARD_DATA_KEY_ID, keys };
}

/**
 * What HIPAA mode demands of secrets: a data key; the key of the token algorithm in use
 * (`JWT_ALGORITHM`, else RS256 with a public key and HS256 without); and a strong `JWT_SECRET`
 * whenever one is set, since whatever uses it can mint tokens.
 * Returns the problems found (empty when all is well).
 */
export function hipaaSecretProblems(
  cfg: {
    HIPAA_MODE: boolean;
    WARD_DATA_KEY?: string | undefined;
    JWT_SECRET?: string | undefined;
    JWT_PUBLIC_KEY?: string | undefined;
    JWT_ALGORITHM?: string | undefined;
  },
  opts: { verifiesTokens: boolean },
): string[] {
  if (!cfg.HIPAA_MODE) return [];
  const problems: string[] = [];
  if (!cfg.WARD_DATA_KEY)
    problems.push('WARD_DATA_KEY is required when HIPAA_MODE=true (32 random bytes, base64)');
  if (opts.verifiesTokens) {
    const algorithm = cfg.JWT_ALGORITHM ?? (cfg.JWT_PUBLIC_KEY ? 'RS256' : 'HS256');
    if (!cfg.JWT_SECRET && !cfg.JWT_PUBLIC_KEY)
      problems.push('JWT_SECRET or JWT_PUBLIC_KEY is required when HIPAA_MODE=true');
    else if (algorithm === 'HS256' && !cfg.JWT_SECRET)
      problems.push('JWT_SECRET is required when HIPAA_MODE=true and JWT_ALGORITHM=HS256');
    else if (algorithm !== 'HS256' && !cfg.JWT_PUBLIC_KEY)
      problems.push(`JWT_PUBLIC_KEY is required when HIPAA_MODE=true and JWT_ALGORITHM=${algorithm}`);
    if (cfg.JWT_SECRET && !isStrongSecret(cfg.JWT_SECRET))
      problems.push(
        'JWT_SECRET is too weak for HIPAA_MODE=true: use at least 32 random characters (openssl rand -base64 48)',
      );
  }
  return problems;
}
