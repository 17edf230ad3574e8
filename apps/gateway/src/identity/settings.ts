import type { GatewayConfig } from '@ward/config';
import type { IdentityOptions } from '../plugins/app/identity.js';
import { type OidcOptions, parseRoleMap } from './oidc.js';
import { checkKeyPair } from './tokens.js';

/** The identity layer's settings, read from the gateway's config. */
export interface IdentitySettings {
  /** Options of the identity plugin (it is registered only when the gateway has a database). */
  options: Omit<IdentityOptions, 'db'>;
  /** The external OIDC provider to accept tokens from, when OIDC_ISSUER is set. */
  oidc: OidcOptions | undefined;
}

/**
 * Derives the identity settings from config, failing fast on a combination that cannot work: an
 * OIDC issuer without an audience, a private key that does not match JWT_PUBLIC_KEY.
 */
export function identitySettings(
  config: GatewayConfig,
  algorithm: 'HS256' | 'RS256' | 'ES256',
): IdentitySettings {
  const problems: string[] = [];
  let signing: IdentityOptions['signing'];
  const base = {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    ttlSeconds: config.AUTH_TOKEN_TTL,
  };
  if (algorithm === 'HS256') signing = { ...base, algorithm, key: config.JWT_SECRET! };
  else if (config.JWT_PRIVATE_KEY) {
    try {
      checkKeyPair(algorithm, config.JWT_PRIVATE_KEY, config.JWT_PUBLIC_KEY!);
    } catch {
      problems.push(`JWT_PRIVATE_KEY does not sign ${algorithm} tokens that JWT_PUBLIC_KEY verifies`);
    }
    signing = { ...base, algorithm, key: config.JWT_PRIVATE_KEY };
  } else signing = `password login needs JWT_PRIVATE_KEY (the ${algorithm} key matching JWT_PUBLIC_KEY)`;

  let oidc: OidcOptions | undefined;
  if (config.OIDC_ISSUER) {
    if (!config.OIDC_AUDIENCE)
      problems.push('OIDC_AUDIENCE is required with OIDC_ISSUER (the client id of Ward)');
    if (config.OIDC_ISSUER === config.JWT_ISSUER) problems.push('OIDC_ISSUER must differ from JWT_ISSUER');
    if (config.HIPAA_MODE && !(config.OIDC_JWKS_URL ?? config.OIDC_ISSUER).startsWith('https://'))
      problems.push('OIDC signing keys must be fetched over https when HIPAA_MODE=true');
    let roleMap: OidcOptions['roleMap'] = {};
    try {
      roleMap = parseRoleMap(config.OIDC_ROLE_MAP ?? []);
    } catch (err) {
      problems.push((err as Error).message);
    }
    oidc = {
      issuer: config.OIDC_ISSUER,
      audience: config.OIDC_AUDIENCE ?? '',
      jwksUrl: config.OIDC_JWKS_URL,
      roleClaim: config.OIDC_ROLE_CLAIM,
      roleMap,
    };
  } else if (config.OIDC_JWKS_URL || config.OIDC_AUDIENCE || config.OIDC_ROLE_MAP)
    problems.push('OIDC_JWKS_URL, OIDC_AUDIENCE and OIDC_ROLE_MAP need OIDC_ISSUER');
  if (problems.length) throw new Error(problems.join('; '));

  return {
    options: {
      redisPrefix: config.REDIS_PREFIX,
      signing,
      lockout: { maxFailures: config.AUTH_LOCKOUT_ATTEMPTS, lockSeconds: config.AUTH_LOCKOUT_SECONDS },
      apiKeyCacheMs: config.API_KEY_CACHE_SECONDS * 1000,
    },
    oidc,
  };
}
