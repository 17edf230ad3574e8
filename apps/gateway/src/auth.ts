import type { Role } from '@ward/contracts';
import { createSigner } from 'fast-jwt';

/** Options to mint a Ward bearer token (used by `ward token` and tests). */
export interface MintOptions {
  sub: string;
  role: Role;
  /** Lifetime such as `15m`, `8h` or seconds. */
  ttl?: string | number;
  issuer: string;
  audience: string;
  /** HS256 secret, or a PEM private key for RS256/ES256. */
  key: string;
  algorithm?: 'HS256' | 'RS256' | 'ES256';
}

/** Parses `15m`, `8h`, `30s`, `2d` or a number of seconds into milliseconds. */
export function parseTtl(ttl: string | number): number {
  if (typeof ttl === 'number') return ttl * 1000;
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(ttl.trim());
  if (!m) throw new Error(`"${ttl}" is not a duration such as 15m, 8h or 3600`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit * 1000;
}

/** Signs a bearer token with a `jti`, `iss`, `aud`, `sub` and Ward `role` claim. */
export function mintToken(opts: MintOptions): string {
  const sign = createSigner({
    key: opts.key,
    algorithm: opts.algorithm ?? 'HS256',
    iss: opts.issuer,
    aud: opts.audience,
    sub: opts.sub,
    expiresIn: parseTtl(opts.ttl ?? '15m'),
    jti: crypto.randomUUID(),
  });
  return sign({ role: opts.role });
}
