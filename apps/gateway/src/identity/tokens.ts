import { randomUUID } from 'node:crypto';
import type { Role } from '@ward/contracts';
import { createSigner, createVerifier } from 'fast-jwt';

/** How the gateway signs the tokens it hands out at login. */
export interface TokenIssuerOptions {
  algorithm: 'HS256' | 'RS256' | 'ES256';
  /** HS256 secret, or the PEM private key matching the verification public key. */
  key: string;
  issuer: string;
  audience: string;
  /** Lifetime of a login token in seconds (automatic logoff). */
  ttlSeconds: number;
}

/** A login token and when it expires. */
export interface IssuedToken {
  token: string;
  jti: string;
  expiresAt: Date;
  /** The token's lifetime in seconds. */
  expiresIn: number;
}

/** Signs short-lived login tokens: `sub` (username), `role`, `gen` (session generation), a fresh `jti`. */
export class TokenIssuer {
  readonly ttlSeconds: number;
  readonly #sign: (payload: Record<string, unknown>) => string;

  constructor(opts: TokenIssuerOptions) {
    this.ttlSeconds = opts.ttlSeconds;
    this.#sign = createSigner({
      key: opts.key,
      algorithm: opts.algorithm,
      iss: opts.issuer,
      aud: opts.audience,
      expiresIn: opts.ttlSeconds * 1000,
    });
  }

  /** Signs a token for `sub` acting as `role` under session generation `gen`. */
  issue(sub: string, role: Role, gen: number): IssuedToken {
    const jti = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const token = this.#sign({ sub, role, gen, jti, iat: now });
    return { token, jti, expiresAt: new Date((now + this.ttlSeconds) * 1000), expiresIn: this.ttlSeconds };
  }
}

/**
 * Checks that a private key signs tokens the gateway's verification key accepts, so a mismatched
 * JWT_PRIVATE_KEY / JWT_PUBLIC_KEY pair fails at start-up rather than at every login.
 */
export function checkKeyPair(algorithm: 'RS256' | 'ES256', privateKey: string, publicKey: string): void {
  const token = createSigner({ key: privateKey, algorithm, expiresIn: 60_000 })({ sub: 'probe' });
  createVerifier({ key: publicKey, algorithms: [algorithm] })(token);
}
