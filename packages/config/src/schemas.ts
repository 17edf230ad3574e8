import { type EnvOf, type EnvVar, env } from './env.js';

/** A duration such as `15m`, `8h`, `30s` or a number of seconds, read as whole seconds within [min, max]. */
function duration(opts: { description: string; default: number; min: number; max: number }): EnvVar<number> {
  return {
    kind: 'duration',
    description: opts.description,
    default: opts.default,
    parse(raw) {
      const m = /^(\d+)\s*(s|m|h|d)?$/.exec(raw.trim());
      if (!m) throw new Error('must be a duration such as 15m, 8h or 900 (seconds)');
      const seconds =
        Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
      if (seconds < opts.min || seconds > opts.max)
        throw new Error(`must be between ${opts.min} and ${opts.max} seconds`);
      return seconds;
    },
  };
}

/** Variables every Ward process reads. */
export const commonEnv = {
  REDIS_URL: env.url({
    description: 'Redis for queues, heartbeats and revocations',
    default: 'redis://127.0.0.1:6379',
    protocols: ['redis', 'rediss'],
  }),
  REDIS_PREFIX: env.string({ description: 'Key prefix for every Redis key Ward writes', default: 'ward' }),
  HIPAA_MODE: env.bool({ description: 'Refuse weak or missing secrets and fail closed', default: false }),
  WARD_DATA_KEY: env.string({
    description: 'AES-256-GCM key sealing prompts, images and answers in Redis: 32 bytes as base64 or hex',
    optional: true,
    secret: true,
  }),
  WARD_DATA_KEY_ID: env.string({
    description: 'Identifier of WARD_DATA_KEY, stored in every envelope for rotation',
    default: 'k1',
  }),
  WARD_DATA_KEYS_PREVIOUS: env.list({
    description: 'Retired keys still accepted for opening envelopes: id:key pairs, comma separated',
    optional: true,
    secret: true,
  }),
  LOG_LEVEL: env.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    description: 'Log level',
    default: 'info',
  }),
  METRICS_PORT: env.int({
    description:
      'Internal port of GET /metrics (unset: 9101 gateway or all-in-one, 9102 worker, 9103 audit; 0 turns it off)',
    optional: true,
    min: 0,
    max: 65535,
  }),
  METRICS_HOST: env.string({ description: 'Address the metrics port listens on', default: '0.0.0.0' }),
};

/** Variables of `apps/gateway`. */
export const gatewayEnv = {
  ...commonEnv,
  AUDIT_URL: env.url({
    description: 'The internal audit API the gateway proxies /api/audit/* to',
    default: 'http://127.0.0.1:3002',
    protocols: ['http', 'https'],
  }),
  WARD_INTERNAL_TOKEN: env.string({
    description: 'Shared token internal services require from the gateway (default: derived from JWT_SECRET)',
    optional: true,
    secret: true,
    minLength: 32,
  }),
  PORT: env.int({ description: 'HTTP port of the gateway', default: 3001, min: 1, max: 65535 }),
  HOST: env.string({ description: 'Interface the gateway listens on', default: '0.0.0.0' }),
  JWT_SECRET: env.string({
    description: 'HS256 secret for bearer tokens (at least 32 characters)',
    optional: true,
    secret: true,
  }),
  JWT_PUBLIC_KEY: env.string({
    description: 'PEM public key for RS256/ES256 bearer tokens (instead of JWT_SECRET)',
    optional: true,
  }),
  JWT_ALGORITHM: env.oneOf(['HS256', 'RS256', 'ES256'] as const, {
    description: 'Pinned token algorithm; defaults to HS256 with JWT_SECRET, RS256 with JWT_PUBLIC_KEY',
    optional: true,
  }),
  JWT_PRIVATE_KEY: env.string({
    description: 'PEM private key matching JWT_PUBLIC_KEY, to sign login tokens with RS256/ES256',
    optional: true,
    secret: true,
  }),
  JWT_ISSUER: env.string({ description: 'Required `iss` of bearer tokens', default: 'ward' }),
  JWT_AUDIENCE: env.string({ description: 'Required `aud` of bearer tokens', default: 'ward' }),
  LOCAL_MODELS_ENABLED: env.bool({
    description: 'Serve local models; false answers 503 on processing routes',
    default: true,
  }),
  BODY_LIMIT: env.bytes({
    description: 'Largest request body accepted (images are base64 in JSON)',
    default: 20 * 1024 * 1024,
  }),
  OLLAMA_MAX_QUEUE: env.int({
    description: 'Jobs that may wait per model before new ones get 503',
    default: 512,
    min: 1,
  }),
  JOB_TIMEOUT_SECONDS: env.int({
    description: 'Default deadline of a job, queueing included',
    default: 300,
    min: 1,
    max: 3600,
  }),
  JOB_RETENTION_SECONDS: env.int({
    description: 'How long finished async results stay readable',
    default: 3600,
    min: 10,
  }),
  AUTH_TOKEN_TTL: duration({
    description: 'Lifetime of login tokens (automatic logoff), e.g. 15m',
    default: 900,
    min: 60,
    max: 86_400,
  }),
  AUTH_LOCKOUT_ATTEMPTS: env.int({
    description: 'Failed logins that lock a username',
    default: 5,
    min: 1,
    max: 100,
  }),
  AUTH_LOCKOUT_SECONDS: env.int({
    description: 'How long a locked username stays locked (and the window failures are counted in)',
    default: 900,
    min: 1,
    max: 86_400,
  }),
  API_KEY_CACHE_SECONDS: env.int({
    description: 'How long a gateway reuses an API key lookup; a revoked key works at most this long',
    default: 10,
    min: 0,
    max: 300,
  }),
  OIDC_ISSUER: env.string({
    description: 'Accept bearer tokens of this OpenID Connect issuer (Keycloak, Entra ID, Okta)',
    optional: true,
  }),
  OIDC_JWKS_URL: env.url({
    description: "The OIDC issuer's JWKS URL (default: from its /.well-known/openid-configuration)",
    optional: true,
    protocols: ['https', 'http'],
  }),
  OIDC_AUDIENCE: env.string({
    description: "Required `aud` of OIDC tokens (Ward's client id)",
    optional: true,
  }),
  OIDC_ROLE_CLAIM: env.string({
    description: 'Dotted path of the OIDC claim holding roles or groups, e.g. realm_access.roles',
    default: 'roles',
  }),
  OIDC_ROLE_MAP: env.list({
    description: 'OIDC role → Ward role, e.g. ward-admin=admin,clinician=provider (default: Ward role names)',
    optional: true,
  }),
  RATE_LIMIT_PER_MINUTE: env.list({
    description:
      'Requests per minute per user, by role: role=n pairs (admin, provider, staff, auditor, anonymous)',
    default: ['admin=600', 'provider=600', 'staff=300', 'auditor=300', 'anonymous=60'],
  }),
  RATE_LIMIT_PER_ROLE_PER_MINUTE: env.list({
    description:
      'Requests per minute shared by all users of a role: role=n pairs (admin, provider, staff, auditor); a role left out has no shared limit',
    optional: true,
  }),
  RATE_LIMIT_ENABLED: env.bool({ description: 'Enforce the rate limits (429)', default: true }),
  WARD_TASK_MODELS: env.string({
    description:
      'Model per clinical task, task=model pairs comma separated (default: each task names its own)',
    optional: true,
  }),
  DOCS_ENABLED: env.bool({ description: 'Serve the OpenAPI document and UI at /docs', default: true }),
  TRUST_PROXY: env.bool({
    description: 'Trust X-Forwarded-* from a reverse proxy such as nginx',
    default: false,
  }),
};

/** Variables of `apps/worker`. */
export const workerEnv = {
  ...commonEnv,
  OLLAMA_URL: env.url({
    description: 'The Ollama instance this worker serves',
    default: 'http://localhost:11434',
    protocols: ['http', 'https'],
  }),
  OLLAMA_URLS: env.urlList({
    description: 'Several Ollama instances (one worker each in `ward start`), comma separated',
    optional: true,
    protocols: ['http', 'https'],
  }),
  OLLAMA_NUM_PARALLEL: env.int({
    description: 'Requests each model runs at once on an instance (worker concurrency)',
    default: 4,
    min: 1,
    max: 256,
  }),
  OLLAMA_MAX_LOADED_MODELS: env.int({
    description: 'Models an instance keeps in memory at once (informational for routing)',
    optional: true,
    min: 1,
  }),
  OLLAMA_KEEP_ALIVE: env.string({
    description: 'keep_alive sent with each request so models stay loaded',
    default: '30m',
  }),
  OLLAMA_REQUEST_TIMEOUT_SECONDS: env.int({
    description:
      "Longest silence accepted from Ollama while it streams; a whole answer waits until the job's deadline",
    default: 300,
    min: 1,
  }),
  WORKER_MODELS: env.list({
    description: 'Serve only these models (default: every model /api/tags lists)',
    optional: true,
  }),
  WORKER_INSTANCE_ID: env.string({
    description: 'Name of the instance in status and metrics (default derived from the URL)',
    optional: true,
  }),
  GPU_ACCELERATION: env.bool({
    description: 'Informational: whether the instance runs on a GPU',
    default: true,
  }),
  WORKER_LOCK_DURATION_MS: env.int({
    description:
      'How long a job stays claimed by a worker that stopped renewing it (dead process) before another instance takes it',
    default: 10_000,
    min: 1000,
  }),
  HEARTBEAT_INTERVAL_MS: env.int({
    description: 'How often the worker announces itself',
    default: 2000,
    min: 100,
  }),
};

export type CommonConfig = EnvOf<typeof commonEnv>;
export type GatewayConfig = EnvOf<typeof gatewayEnv>;
export type WorkerConfig = EnvOf<typeof workerEnv>;
