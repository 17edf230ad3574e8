import { createHmac } from 'node:crypto';
import { type EnvOf, env } from './env.js';
import { commonEnv } from './schemas.js';

/** Variables of `apps/audit` (the audit consumer and audit API). */
export const auditEnv = {
  ...commonEnv,
  DATABASE_URL: env.url({
    description: 'PostgreSQL for the audit trail (embedded PGlite under WARD_DATA_DIR when unset)',
    optional: true,
    secret: true,
    protocols: ['postgres', 'postgresql'],
  }),
  WARD_DATA_DIR: env.string({
    description: 'Where embedded data lives (PGlite, the development audit signing key)',
    default: './data',
  }),
  AUDIT_PORT: env.int({
    description: 'HTTP port of the internal audit API',
    default: 3002,
    min: 0,
    max: 65535,
  }),
  AUDIT_HOST: env.string({
    description: 'Interface the audit API listens on (internal: the gateway proxies /api/audit)',
    default: '127.0.0.1',
  }),
  AUDIT_SIGNING_KEY: env.string({
    description: 'Ed25519 private key (PEM) signing audit checkpoints; kept outside the database',
    optional: true,
    secret: true,
  }),
  AUDIT_SIGNING_KEY_FILE: env.string({
    description: 'File holding the Ed25519 private key (PEM), instead of AUDIT_SIGNING_KEY',
    optional: true,
  }),
  AUDIT_PUBLIC_KEYS: env.list({
    description:
      'PEM files of public keys whose checkpoint signatures are accepted (default: the signing key); list retired keys after rotation',
    optional: true,
  }),
  AUDIT_CONSUME: env.bool({
    description: 'Consume the audit queue in this process (false: serve the audit API only)',
    default: true,
  }),
  AUDIT_BATCH_SIZE: env.int({
    description: 'Most events written per transaction',
    default: 1000,
    min: 1,
    max: 10_000,
  }),
  AUDIT_BATCH_LINGER_MS: env.int({
    description: 'How long a partial batch waits for more events before it is written',
    default: 20,
    min: 0,
    max: 5000,
  }),
  AUDIT_LOCK_DURATION_MS: env.int({
    description: 'How long an event taken by a consumer that died stays claimed before it is redelivered',
    default: 30_000,
    min: 1000,
  }),
  AUDIT_CHECKPOINT_ROWS: env.int({
    description: 'Sign a checkpoint after this many new rows',
    default: 1000,
    min: 1,
  }),
  AUDIT_CHECKPOINT_SECONDS: env.int({
    description: 'Sign a checkpoint at least this often while rows arrive',
    default: 60,
    min: 1,
  }),
  AUDIT_RETENTION_DAYS: env.int({
    description: 'Audit rows older than this are purged (default 6 years, HIPAA 45 CFR 164.316(b)(2))',
    default: 2192,
    min: 1,
  }),
  AUDIT_PURGE_INTERVAL_HOURS: env.int({
    description: 'How often the audit service runs the retention purge (0: only `ward audit purge`)',
    default: 24,
    min: 0,
  }),
  WARD_INTERNAL_TOKEN: env.string({
    description: 'Shared secret the gateway sends to internal services (default: derived from JWT_SECRET)',
    optional: true,
    secret: true,
    minLength: 32,
  }),
  JWT_SECRET: env.string({
    description:
      'The gateway token secret; the internal token is derived from it when WARD_INTERNAL_TOKEN is unset',
    optional: true,
    secret: true,
  }),
};

/** Variables the gateway reads to proxy `/api/audit/*` (spread into the gateway's schema). */
export const auditProxyEnv = {
  AUDIT_URL: env.url({
    description: 'The internal audit API the gateway proxies /api/audit/* to',
    default: 'http://127.0.0.1:3002',
    protocols: ['http', 'https'],
  }),
  WARD_INTERNAL_TOKEN: auditEnv.WARD_INTERNAL_TOKEN,
};

export type AuditConfig = EnvOf<typeof auditEnv>;

/**
 * The token the gateway sends in `x-ward-internal` and internal services require:
 * WARD_INTERNAL_TOKEN, else HMAC-SHA256(JWT_SECRET, "ward:internal:v1") as base64url.
 * Undefined when neither is set.
 */
export function internalTokenFrom(cfg: {
  WARD_INTERNAL_TOKEN?: string | undefined;
  JWT_SECRET?: string | undefined;
}): string | undefined {
  if (cfg.WARD_INTERNAL_TOKEN) return cfg.WARD_INTERNAL_TOKEN;
  if (cfg.JWT_SECRET)
    return createHmac('sha256', cfg.JWT_SECRET).update('ward:internal:v1').digest('base64url');
  return undefined;
}

/** What HIPAA mode demands of the audit service's configuration (empty when all is well). */
export function auditHipaaProblems(cfg: AuditConfig): string[] {
  if (!cfg.HIPAA_MODE) return [];
  const problems: string[] = [];
  if (!cfg.AUDIT_SIGNING_KEY && !cfg.AUDIT_SIGNING_KEY_FILE)
    problems.push(
      'AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE is required when HIPAA_MODE=true (an Ed25519 private key in PEM: openssl genpkey -algorithm ed25519)',
    );
  if (!internalTokenFrom(cfg))
    problems.push(
      'WARD_INTERNAL_TOKEN or JWT_SECRET is required when HIPAA_MODE=true (the audit API trusts only the gateway)',
    );
  return problems;
}
