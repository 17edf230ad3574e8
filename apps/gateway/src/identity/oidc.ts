import { type Actor, isRole, ROLES, type Role } from '@ward/contracts';
import { createVerifier } from 'fast-jwt';
import buildGetJwks from 'get-jwks';

/** How to accept bearer tokens from an external OpenID Connect provider. */
export interface OidcOptions {
  /** The provider's `iss`, exactly as it appears in its tokens. */
  issuer: string;
  /** Required `aud` (the client id Ward is registered as). */
  audience: string;
  /** The JWKS URL; when absent it comes from `<issuer>/.well-known/openid-configuration`. */
  jwksUrl?: string | undefined;
  /** Dotted path of the claim holding the user's roles or groups, e.g. `realm_access.roles`. */
  roleClaim: string;
  /** Provider role → Ward role; when empty, claim values that are Ward role names are taken as they are. */
  roleMap: Record<string, Role>;
  /** How long fetched signing keys are reused, in ms (default 10 minutes). */
  keysTtlMs?: number;
}

/** Reads `OIDC_ROLE_MAP` entries such as `ward-admin=admin` into a map, naming the bad entry. */
export function parseRoleMap(entries: readonly string[]): Record<string, Role> {
  const map: Record<string, Role> = {};
  for (const entry of entries) {
    const i = entry.lastIndexOf('=');
    const from = entry.slice(0, i).trim();
    const to = entry.slice(i + 1).trim();
    if (i <= 0 || !from || !isRole(to))
      throw new Error(`OIDC_ROLE_MAP entry "${entry}" must look like provider-role=${ROLES.join('|')}`);
    map[from] = to;
  }
  return map;
}

function claimAt(payload: Record<string, unknown>, path: string): unknown {
  if (path in payload) return payload[path];
  let at: unknown = payload;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/**
 * The Ward role a provider's claim value maps to. Several mapped roles resolve to the most
 * privileged in Ward's order (admin, provider, staff, auditor).
 */
export function mapRole(value: unknown, roleMap: Record<string, Role>): Role | undefined {
  const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
  const mapped = new Set<Role>();
  const identity = Object.keys(roleMap).length === 0;
  for (const v of values) {
    const role = identity ? (isRole(v) ? v : undefined) : roleMap[v];
    if (role) mapped.add(role);
  }
  return ROLES.find((r) => mapped.has(r));
}

/** Why an OIDC token was refused; `message` is safe to show the client. */
export class OidcTokenError extends Error {
  readonly expired: boolean;
  constructor(message: string, expired = false) {
    super(message);
    this.name = 'OidcTokenError';
    this.expired = expired;
  }
}

/** After a token names a signing key the provider does not publish, unknown keys are not fetched for this long. */
const UNKNOWN_KID_COOLDOWN_MS = 10_000;

/**
 * Verifies tokens of an external OpenID Connect provider (Keycloak, Entra ID, Okta) with the keys
 * of its JWKS (get-jwks, cached), RS256 or ES256 only, issuer and audience pinned, and maps the
 * provider's roles to a Ward role. The actor is `oidc:<sub>`, so it never collides with a local
 * account or an API key.
 */
export class OidcVerifier {
  readonly issuer: string;
  readonly #opts: OidcOptions;
  readonly #verify: (token: string) => Promise<Record<string, unknown>>;
  #coolUntil = 0;

  constructor(opts: OidcOptions) {
    this.issuer = opts.issuer;
    this.#opts = opts;
    const jwks = opts.jwksUrl ? new URL(opts.jwksUrl) : undefined;
    const getJwks = buildGetJwks({
      ttl: opts.keysTtlMs ?? 600_000,
      max: 50,
      ...(jwks ? { jwksPath: `${jwks.pathname}${jwks.search}` } : { providerDiscovery: true }),
    });
    const domain = jwks ? jwks.origin : opts.issuer;
    this.#verify = createVerifier({
      algorithms: ['RS256', 'ES256'],
      allowedIss: opts.issuer,
      allowedAud: opts.audience,
      requiredClaims: ['sub', 'exp'],
      clockTolerance: 30_000,
      cache: 1000,
      key: async (decoded: { header: Record<string, unknown> }) => {
        const { alg, kid } = decoded.header as { alg: string; kid?: string };
        const cacheKey = getJwks.generateCacheKey(alg, kid as string, domain.replace(/\/?$/, '/'));
        const cached = getJwks.cache.get(cacheKey) !== undefined;
        if (!cached && Date.now() < this.#coolUntil) throw new Error('unknown signing key');
        try {
          return await getJwks.getPublicKey({ domain, alg, ...(kid !== undefined && { kid }) });
        } catch (err) {
          if ((err as { code?: string }).code === 'JWK_NOT_FOUND')
            this.#coolUntil = Date.now() + UNKNOWN_KID_COOLDOWN_MS;
          throw err;
        }
      },
    });
  }

  /** Verifies `token` and returns its actor; throws {@link OidcTokenError} when it is refused. */
  async verify(token: string): Promise<{ actor: Actor; jti?: string; exp: number }> {
    let payload: Record<string, unknown>;
    try {
      payload = await this.#verify(token);
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new OidcTokenError(
        code === 'FAST_JWT_EXPIRED' ? 'the token has expired' : 'the token is not valid',
        code === 'FAST_JWT_EXPIRED',
      );
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || !sub) throw new OidcTokenError('the token is not valid');
    const role = mapRole(claimAt(payload, this.#opts.roleClaim), this.#opts.roleMap);
    if (!role) throw new OidcTokenError('the token carries no valid role');
    return {
      actor: { sub: `oidc:${sub}`, role, method: 'oidc' },
      ...(typeof payload.jti === 'string' && { jti: payload.jti }),
      exp: Number(payload.exp),
    };
  }
}
