import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

/**
 * Loads a module of the gateway's source. The specifier is computed so the audit app's
 * typecheck does not pull the gateway's source (and its work in progress) into this program.
 */
async function load<T>(path: string): Promise<T> {
  return (await import(fileURLToPath(new URL(`../../gateway/src/${path}`, import.meta.url)))) as T;
}

// Plugin options are checked by the gateway's own typecheck.
type Plugin = FastifyPluginAsync<any>;

/** The gateway pieces the audit tests put in front of the audit service. */
export async function gatewayParts() {
  const [audit, redis, auth, proxy, tokens] = await Promise.all([
    load<{ default: Plugin }>('plugins/app/audit.js'),
    load<{ default: Plugin }>('plugins/external/redis.js'),
    load<{ default: Plugin }>('plugins/app/auth.js'),
    load<{ default: Plugin }>('routes/audit-proxy.js'),
    load<{
      mintToken(opts: { sub: string; role: string; issuer: string; audience: string; key: string }): string;
    }>('auth.js'),
  ]);
  return {
    auditPlugin: audit.default,
    redisPlugin: redis.default,
    auth: auth.default,
    auditProxy: proxy.default,
    mintToken: tokens.mintToken,
  };
}
