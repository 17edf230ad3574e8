import type { Redis } from 'ioredis';

/** Lockout policy: `maxFailures` failed logins within `lockSeconds` lock the username for `lockSeconds`. */
export interface LockoutOptions {
  maxFailures: number;
  lockSeconds: number;
}

/**
 * Counts the attempt before the password is checked, so a burst of parallel guesses cannot get
 * past the limit: returns the attempt number and the counter's remaining life in ms. The window
 * starts at the first failure; the failure that reaches the limit restarts it as the lock period.
 */
const ATTEMPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
`;

/** The outcome of {@link LoginLockout.begin}. */
export type AttemptGate = { locked: false } | { locked: true; retryAfterSeconds: number };

/**
 * Failed-login counters per username in Redis (`…:auth:fail:<username>`), kept for unknown
 * usernames exactly as for real ones so a lock never reveals whether an account exists.
 */
export class LoginLockout {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #opts: LockoutOptions;

  constructor(redis: Redis, prefix: string, opts: LockoutOptions) {
    this.#redis = redis;
    this.#prefix = `${prefix}:auth:fail:`;
    this.#opts = opts;
  }

  #key(username: string): string {
    return this.#prefix + username;
  }

  /** Counts an attempt; refuses it when the username already has `maxFailures` failures. */
  async begin(username: string): Promise<AttemptGate> {
    const [n, pttl] = (await this.#redis.eval(
      ATTEMPT,
      1,
      this.#key(username),
      String(this.#opts.lockSeconds * 1000),
    )) as [number, number];
    if (n <= this.#opts.maxFailures) return { locked: false };
    return { locked: true, retryAfterSeconds: Math.max(1, Math.ceil(pttl / 1000)) };
  }

  /** The attempt failed; the failure that reaches the limit starts the full lock period. */
  async failed(username: string): Promise<void> {
    const key = this.#key(username);
    const n = Number(await this.#redis.get(key));
    if (n >= this.#opts.maxFailures) await this.#redis.pexpire(key, this.#opts.lockSeconds * 1000);
  }

  /** The attempt succeeded: the counter starts again from zero. */
  async succeeded(username: string): Promise<void> {
    await this.#redis.del(this.#key(username));
  }

  /** Lifts a lock (an admin reset the password). */
  async clear(username: string): Promise<void> {
    await this.#redis.del(this.#key(username));
  }
}
