import type { Redis } from 'ioredis';

/** Why a token that verified is still refused. */
export type RevokedReason = 'revoked' | 'disabled' | 'superseded';

/** The claims the revocation checks read. */
export interface RevocationClaims {
  sub: string;
  jti?: string | undefined;
  /** Session generation the token was issued under (Ward login tokens only). */
  gen?: number | undefined;
}

/**
 * Token revocation in Redis, shared by every gateway:
 * - `…:auth:revoked:<jti>`: a logged-out token, kept until the token would have expired;
 * - `…:auth:disabled:<sub>`: a disabled account, refused whatever token it presents;
 * - `…:auth:gen:<sub>`: the account's session generation, raised on a role change or password
 *   reset so that login tokens issued before it (which carry `gen`) stop working.
 */
export class TokenRevocation {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = `${prefix}:auth`;
  }

  #key(kind: 'revoked' | 'disabled' | 'gen', id: string): string {
    return `${this.#prefix}:${kind}:${id}`;
  }

  /** Refuses the token `jti` from now until `exp` (seconds since the epoch). */
  async revoke(jti: string, exp: number): Promise<void> {
    if (exp * 1000 <= Date.now()) return;
    await this.#redis.set(this.#key('revoked', jti), '1', 'EXAT', Math.ceil(exp) + 60);
  }

  /** Why the token must be refused, or undefined when it may pass. One round trip (pipelined). */
  async check(claims: RevocationClaims): Promise<RevokedReason | undefined> {
    // One MGET: revoked marker, disabled marker, session generation.
    const [revoked, disabled, gen] = await this.#redis.mget(
      this.#key('revoked', claims.jti ?? '-'),
      this.#key('disabled', claims.sub),
      this.#key('gen', claims.sub),
    );
    if (claims.jti && revoked !== null) return 'revoked';
    if (disabled !== null) return 'disabled';
    if (claims.gen !== undefined && gen !== null && claims.gen < Number(gen)) return 'superseded';
    return undefined;
  }

  /** The account's current session generation (0 until sessions were ended once). */
  async generation(sub: string): Promise<number> {
    return Number((await this.#redis.get(this.#key('gen', sub))) ?? 0);
  }

  /** Ends every login session of the account: tokens issued before now stop working. */
  async endSessions(sub: string): Promise<void> {
    await this.#redis.incr(this.#key('gen', sub));
  }

  /** Marks the account disabled: every token naming it is refused, whoever minted it. */
  async markDisabled(sub: string): Promise<void> {
    await this.#redis.set(this.#key('disabled', sub), '1');
  }

  /** Removes a stale disabled mark of a username that is taken by a new account. */
  async forgetDisabled(sub: string): Promise<void> {
    await this.#redis.del(this.#key('disabled', sub));
  }

  /** Lifts the disabled mark; login tokens issued before the account was disabled stay void. */
  async clearDisabled(sub: string): Promise<void> {
    await this.#redis.incr(this.#key('gen', sub));
    await this.#redis.del(this.#key('disabled', sub));
  }
}
