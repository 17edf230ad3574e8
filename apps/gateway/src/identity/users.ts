import { randomUUID } from 'node:crypto';
import { isRole, type Role } from '@ward/contracts';
import { advisoryXactLock, type Database, type Queryable } from '@ward/db';
import { invalid } from '../errors.js';
import { IdentityErrors } from './errors.js';
import type { LoginLockout } from './lockout.js';
import { hashPassword, passwordProblem } from './passwords.js';
import type { TokenRevocation } from './revocation.js';

/** Usernames: lower case letters, digits and `._@-`, 1–64 characters, starting with a letter or digit. */
export const USERNAME_RE = /^[a-z0-9][a-z0-9._@-]{0,63}$/;

/** A Ward account as the API and the CLI show it (never the password hash). */
export interface User {
  id: string;
  username: string;
  role: Role;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  passwordChangedAt: string;
  lastLoginAt: string | null;
}

/** An account with its password hash, for the login check only. */
export interface UserCredentials {
  id: string;
  username: string;
  role: Role;
  disabled: boolean;
  passwordHash: string;
}

interface UserRow {
  id: string;
  username: string;
  role: string;
  disabled: boolean;
  password_hash: string;
  created_at: Date | string;
  updated_at: Date | string;
  password_changed_at: Date | string;
  last_login_at: Date | string | null;
}

const COLUMNS = 'id, username, role, disabled, created_at, updated_at, password_changed_at, last_login_at';

const iso = (d: Date | string): string => new Date(d).toISOString();

function toUser(r: UserRow): User {
  return {
    id: r.id,
    username: r.username,
    role: r.role as Role,
    disabled: r.disabled,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    passwordChangedAt: iso(r.password_changed_at),
    lastLoginAt: r.last_login_at === null ? null : iso(r.last_login_at),
  };
}

/** Every account, by username (reading needs no Redis). */
export async function listUsers(db: Queryable): Promise<User[]> {
  const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY username`);
  return rows.map(toUser);
}

/** Lower-cases and trims a username as typed; the result may still be invalid. */
export function normalizeUsername(raw: string): string {
  return raw.trim().toLowerCase();
}

function checkUsername(raw: string): string {
  const username = normalizeUsername(raw);
  if (!USERNAME_RE.test(username))
    throw invalid(
      'username',
      'must be 1–64 characters: letters, digits and . _ @ -, starting with a letter or digit',
    );
  return username;
}

function checkPassword(password: string, field = 'password'): void {
  const problem = passwordProblem(password);
  if (problem) throw invalid(field, problem);
}

function checkRole(role: string): Role {
  if (!isRole(role)) throw invalid('role', 'must be one of admin, provider, staff, auditor');
  return role;
}

/**
 * Ward's accounts in the database, with the Redis marks that make a change take effect on tokens
 * already issued: disabling an account refuses its tokens at once, and a role change or password
 * reset ends its login sessions. The Redis mark is written inside the database transaction, before
 * it commits: a Redis failure changes nothing, and a failed commit errs on the side of refusing.
 */
export class UserService {
  readonly #db: Database;
  readonly #revocation: TokenRevocation;
  readonly #lockout: LoginLockout | undefined;

  /** `lockout`, when given, is cleared by a password reset. */
  constructor(db: Database, revocation: TokenRevocation, lockout?: LoginLockout) {
    this.#db = db;
    this.#revocation = revocation;
    this.#lockout = lockout;
  }

  /** Creates an account; the username is taken as lower case. */
  async create(input: { username: string; role: string; password: string }): Promise<User> {
    const username = checkUsername(input.username);
    const role = checkRole(input.role);
    checkPassword(input.password);
    const hash = await hashPassword(input.password);
    const { rows } = await this.#db.query<UserRow>(
      `INSERT INTO users (id, username, role, password_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (username) DO NOTHING RETURNING ${COLUMNS}`,
      [randomUUID(), username, role, hash],
    );
    if (!rows[0]) throw new IdentityErrors.UserExists(username);
    // A username used before (say by `ward token --sub`) starts without a stale disabled mark.
    await this.#revocation.forgetDisabled(username);
    return toUser(rows[0]);
  }

  /** Every account, by username. */
  list(): Promise<User[]> {
    return listUsers(this.#db);
  }

  /** One account, or undefined. */
  async get(username: string): Promise<User | undefined> {
    const { rows } = await this.#db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE username = $1`, [
      normalizeUsername(username),
    ]);
    return rows[0] && toUser(rows[0]);
  }

  /** The account and its password hash, for a login. */
  async credentials(username: string): Promise<UserCredentials | undefined> {
    const { rows } = await this.#db.query<UserRow>(
      'SELECT id, username, role, disabled, password_hash FROM users WHERE username = $1',
      [normalizeUsername(username)],
    );
    const r = rows[0];
    return (
      r && {
        id: r.id,
        username: r.username,
        role: r.role as Role,
        disabled: r.disabled,
        passwordHash: r.password_hash,
      }
    );
  }

  /** Records a successful login, and a rehashed password when the hash parameters were raised. */
  async loggedIn(id: string, newHash?: string): Promise<void> {
    await this.#db.query(
      newHash
        ? 'UPDATE users SET last_login_at = now(), password_hash = $2 WHERE id = $1'
        : 'UPDATE users SET last_login_at = now() WHERE id = $1',
      newHash ? [id, newHash] : [id],
    );
  }

  /** Changes an account's role and ends its login sessions; the last active admin keeps its role. */
  async setRole(username: string, role: string): Promise<{ user: User; previous: Role }> {
    const next = checkRole(role);
    const name = normalizeUsername(username);
    let previous: Role = next;
    const user = await this.#change(name, 'demote', { role: next }, async (before) => {
      previous = before.role;
      if (before.role !== next) await this.#revocation.endSessions(name);
    });
    return { user, previous };
  }

  /** Disables or re-enables an account. Disabling refuses its tokens at once; the last active admin stays. */
  async setDisabled(username: string, disabled: boolean): Promise<User> {
    const name = normalizeUsername(username);
    try {
      const user = await this.#change(name, 'disable', { disabled }, async (before) => {
        if (disabled) await this.#revocation.markDisabled(name);
        else if (before.disabled) await this.#revocation.clearDisabled(name);
      });
      return user;
    } catch (err) {
      // The database kept the account enabled: take back a mark that may have been written.
      if (disabled && (await this.get(name))?.disabled === false)
        await this.#revocation.forgetDisabled(name).catch(() => {});
      throw err;
    }
  }

  /** Sets a new password (an admin reset), ends the account's login sessions and lifts a lockout. */
  async resetPassword(username: string, password: string): Promise<User> {
    const name = normalizeUsername(username);
    checkPassword(password);
    if (!(await this.get(name))) throw new IdentityErrors.UserNotFound(name);
    const hash = await hashPassword(password);
    await this.#revocation.endSessions(name);
    const { rows } = await this.#db.query<UserRow>(
      `UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now()
       WHERE username = $1 RETURNING ${COLUMNS}`,
      [name, hash],
    );
    if (!rows[0]) throw new IdentityErrors.UserNotFound(name);
    await this.#lockout?.clear(name);
    return toUser(rows[0]);
  }

  /** Usernames of disabled accounts (to restore their Redis marks at start-up). */
  async disabledUsernames(): Promise<string[]> {
    const { rows } = await this.#db.query<{ username: string }>('SELECT username FROM users WHERE disabled');
    return rows.map((r) => r.username);
  }

  /** Writes the marks of every disabled account to Redis (after Redis lost its data, say). */
  async restoreDisabledMarks(): Promise<number> {
    const names = await this.disabledUsernames();
    await Promise.all(names.map((n) => this.#revocation.markDisabled(n)));
    return names.length;
  }

  /**
   * Changes role or disabled under a lock on the set of admins, refusing a change that would leave
   * no enabled admin. `mark` updates Redis before the commit, so a Redis failure changes nothing.
   */
  async #change(
    username: string,
    verb: string,
    change: { role?: Role; disabled?: boolean },
    mark: (before: { role: Role; disabled: boolean }) => Promise<void>,
  ): Promise<User> {
    return this.#db.transaction(async (tx) => {
      await advisoryXactLock(tx, 'ward:users:admins');
      const { rows: found } = await tx.query<{ role: Role; disabled: boolean }>(
        'SELECT role, disabled FROM users WHERE username = $1 FOR UPDATE',
        [username],
      );
      const before = found[0];
      if (!before) throw new IdentityErrors.UserNotFound(username);
      const wasAdmin = before.role === 'admin' && !before.disabled;
      const staysAdmin = (change.role ?? before.role) === 'admin' && !(change.disabled ?? before.disabled);
      if (wasAdmin && !staysAdmin) {
        const { rows } = await tx.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND NOT disabled AND username <> $1",
          [username],
        );
        if ((rows[0]?.n ?? 0) === 0) throw new IdentityErrors.LastAdmin(verb);
      }
      const { rows } = await tx.query<UserRow>(
        `UPDATE users SET role = $2, disabled = $3, updated_at = now() WHERE username = $1 RETURNING ${COLUMNS}`,
        [username, change.role ?? before.role, change.disabled ?? before.disabled],
      );
      await mark(before);
      return toUser(rows[0]!);
    });
  }
}
