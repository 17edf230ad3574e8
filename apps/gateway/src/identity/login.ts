import type { Role } from '@ward/contracts';
import type { LoginLockout } from './lockout.js';
import { dummyHash, hashPassword, needsRehash, verifyPassword } from './passwords.js';
import type { TokenRevocation } from './revocation.js';
import type { IssuedToken, TokenIssuer } from './tokens.js';
import { normalizeUsername, type UserService } from './users.js';

/** What a login attempt came to. `reason` is for the audit trail and logs, never for the client. */
export type LoginOutcome =
  | { ok: true; username: string; role: Role; issued: IssuedToken }
  | { ok: false; reason: 'locked'; retryAfterSeconds: number; username: string }
  | { ok: false; reason: 'bad-credentials' | 'unknown-user' | 'disabled'; username: string };

/**
 * Password login: lockout gate, then one scrypt check whether or not the account exists (a dummy
 * hash stands in for unknown usernames), then a token. Unknown user, wrong password and disabled
 * account all count as failures and look the same to the client.
 */
export class LoginService {
  readonly #users: UserService;
  readonly #lockout: LoginLockout;
  readonly #revocation: TokenRevocation;
  readonly #issuer: TokenIssuer;
  #dummy: Promise<string> | undefined;

  constructor(deps: {
    users: UserService;
    lockout: LoginLockout;
    revocation: TokenRevocation;
    issuer: TokenIssuer;
  }) {
    this.#users = deps.users;
    this.#lockout = deps.lockout;
    this.#revocation = deps.revocation;
    this.#issuer = deps.issuer;
  }

  /** Prepares the dummy hash so the first unknown-user login is not faster than the rest. */
  async warm(): Promise<void> {
    this.#dummy ??= dummyHash();
    await this.#dummy;
  }

  /** Tries a login. */
  async login(rawUsername: string, password: string): Promise<LoginOutcome> {
    const username = normalizeUsername(rawUsername);
    const gate = await this.#lockout.begin(username);
    if (gate.locked)
      return { ok: false, reason: 'locked', retryAfterSeconds: gate.retryAfterSeconds, username };
    const user = await this.#users.credentials(username);
    this.#dummy ??= dummyHash();
    const matches = await verifyPassword(password, user?.passwordHash ?? (await this.#dummy));
    if (!user || !matches || user.disabled) {
      await this.#lockout.failed(username);
      return {
        ok: false,
        reason: !user ? 'unknown-user' : !matches ? 'bad-credentials' : 'disabled',
        username,
      };
    }
    await this.#lockout.succeeded(username);
    const gen = await this.#revocation.generation(user.username);
    const issued = this.#issuer.issue(user.username, user.role, gen);
    const rehash = needsRehash(user.passwordHash) ? await hashPassword(password) : undefined;
    await this.#users.loggedIn(user.id, rehash);
    return { ok: true, username: user.username, role: user.role, issued };
  }
}
