import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type Actor, isRole, type Role } from '@ward/contracts';
import type { Database } from '@ward/db';
import { invalid } from '../errors.js';
import { IdentityErrors } from './errors.js';

/** Every API key starts with this, so a key is recognisable (and findable by secret scanners). */
export const API_KEY_PREFIX = 'ward_';
/** `ward_` and 43 base64url characters (32 random bytes). */
export const API_KEY_RE = /^ward_[A-Za-z0-9_-]{43}$/;
/** Lifetime of a key created without one. */
export const DEFAULT_KEY_DAYS = 90;
/** Longest lifetime a key may have. */
export const MAX_KEY_DAYS = 366;

/** An API key as listed (never the key or its hash). */
export interface ApiKey {
  id: string;
  name: string;
  /** The key's first characters, e.g. `ward_AbCdEfGh`. */
  prefix: string;
  role: Role;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
  lastUsedAt: string | null;
  /** `active`, `expired` or `revoked`, as of the listing. */
  state: 'active' | 'expired' | 'revoked';
}

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  role: string;
  created_by: string;
  created_at: Date | string;
  expires_at: Date | string;
  revoked_at: Date | string | null;
  revoked_by: string | null;
  last_used_at: Date | string | null;
}

const COLUMNS =
  'id, name, prefix, role, created_by, created_at, expires_at, revoked_at, revoked_by, last_used_at';
const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

function toKey(r: KeyRow, now = Date.now()): ApiKey {
  const revoked = r.revoked_at !== null;
  const expired = new Date(r.expires_at).getTime() <= now;
  return {
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    role: r.role as Role,
    createdBy: r.created_by,
    createdAt: iso(r.created_at)!,
    expiresAt: iso(r.expires_at)!,
    revokedAt: iso(r.revoked_at),
    revokedBy: r.revoked_by,
    lastUsedAt: iso(r.last_used_at),
    state: revoked ? 'revoked' : expired ? 'expired' : 'active',
  };
}

/** SHA-256 (hex) of a key: what the database stores and looks keys up by. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Options of {@link ApiKeyService}. */
export interface ApiKeyServiceOptions {
  /** How long a lookup (hit or miss) is reused, in ms (default 10 000; 0 disables the cache). */
  cacheMs?: number;
  /** Most lookups kept in the cache (default 10 000). */
  cacheMax?: number;
}

interface CacheEntry {
  until: number;
  key?: { id: string; role: Role; expiresAt: number } | undefined;
}

/**
 * API keys for integrations: `ward_` + 32 random bytes, shown once at creation and stored as a
 * SHA-256 hash, bound to a role, expiring, revocable. Lookups are cached per gateway for
 * `cacheMs`: a key revoked elsewhere (another gateway, the CLI) keeps working here for at most
 * that long; revoking through this service drops it from this gateway's cache at once.
 */
export class ApiKeyService {
  readonly #db: Database;
  readonly #cacheMs: number;
  readonly #cacheMax: number;
  readonly #cache = new Map<string, CacheEntry>();

  constructor(db: Database, opts: ApiKeyServiceOptions = {}) {
    this.#db = db;
    this.#cacheMs = opts.cacheMs ?? 10_000;
    this.#cacheMax = opts.cacheMax ?? 10_000;
  }

  /**
   * Creates a key. Returns the key itself, which is not stored anywhere and cannot be shown again.
   * `expiresAt` defaults to {@link DEFAULT_KEY_DAYS} days from now and may be at most
   * {@link MAX_KEY_DAYS} days away.
   */
  async create(input: {
    name: string;
    role: string;
    createdBy: string;
    expiresAt?: Date | undefined;
  }): Promise<{ key: string; apiKey: ApiKey }> {
    const name = input.name.trim();
    if (!name || name.length > 100) throw invalid('name', 'must be 1–100 characters');
    if (!isRole(input.role)) throw invalid('role', 'must be one of admin, provider, staff, auditor');
    const now = Date.now();
    const expiresAt = input.expiresAt ?? new Date(now + DEFAULT_KEY_DAYS * 86_400_000);
    if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= now + 60_000)
      throw invalid('expiresAt', 'must be a date in the future');
    if (expiresAt.getTime() > now + MAX_KEY_DAYS * 86_400_000)
      throw invalid('expiresAt', `must be at most ${MAX_KEY_DAYS} days away`);
    const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    const { rows } = await this.#db.query<KeyRow>(
      `INSERT INTO api_keys (id, name, prefix, key_hash, role, created_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [randomUUID(), name, key.slice(0, 13), hashApiKey(key), input.role, input.createdBy, expiresAt],
    );
    return { key, apiKey: toKey(rows[0]!) };
  }

  /** Every key, newest first (revoked and expired ones too, with their state). */
  async list(): Promise<ApiKey[]> {
    const { rows } = await this.#db.query<KeyRow>(
      `SELECT ${COLUMNS} FROM api_keys ORDER BY created_at DESC, id`,
    );
    const now = Date.now();
    return rows.map((r) => toKey(r, now));
  }

  /** Revokes a key (idempotent); it stops working on this gateway at once, elsewhere within the cache time. */
  async revoke(id: string, revokedBy: string): Promise<ApiKey> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new IdentityErrors.KeyNotFound(id);
    const { rows } = await this.#db.query<KeyRow & { key_hash: string }>(
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()), revoked_by = coalesce(revoked_by, $2)
       WHERE id = $1 RETURNING ${COLUMNS}, key_hash`,
      [id, revokedBy],
    );
    if (!rows[0]) throw new IdentityErrors.KeyNotFound(id);
    this.#cache.delete(rows[0].key_hash);
    return toKey(rows[0]);
  }

  /** The actor a presented key stands for, or undefined when it is unknown, revoked or expired. */
  async authenticate(presented: string): Promise<Actor | undefined> {
    if (!API_KEY_RE.test(presented)) return undefined;
    const hash = hashApiKey(presented);
    const now = Date.now();
    let entry = this.#cache.get(hash);
    if (!entry || entry.until <= now) {
      entry = { until: now + this.#cacheMs, key: await this.#lookup(hash) };
      if (this.#cacheMs > 0) {
        this.#cache.delete(hash);
        if (this.#cache.size >= this.#cacheMax) this.#cache.delete(this.#cache.keys().next().value!);
        this.#cache.set(hash, entry);
      }
    }
    const k = entry.key;
    if (!k || k.expiresAt <= now) return undefined;
    return { sub: `key:${k.id}`, role: k.role, method: 'api-key' };
  }

  async #lookup(hash: string): Promise<CacheEntry['key']> {
    const { rows } = await this.#db.query<{ id: string; role: string; expires_at: Date | string }>(
      'SELECT id, role, expires_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL AND expires_at > now()',
      [hash],
    );
    const r = rows[0];
    if (!r || !isRole(r.role)) return undefined;
    // Last use is recorded once per cache period, off the request path.
    this.#db.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [r.id]).catch(() => {});
    return { id: r.id, role: r.role, expiresAt: new Date(r.expires_at).getTime() };
  }
}
