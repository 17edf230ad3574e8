import { DbErrors } from './errors.js';

/**
 * The database URL a `ward start` target needs. The all-in-one target (`all`) may run on embedded
 * PGlite and gets `undefined` when DATABASE_URL is unset; every other target runs beside other
 * processes that must share one database, so it refuses to start without DATABASE_URL.
 */
export function requireDatabaseUrl(target: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = env.DATABASE_URL?.trim();
  if (url) return url;
  if (target === 'all') return undefined;
  throw new DbErrors.UrlRequired(
    `ward start --target ${target} needs DATABASE_URL (e.g. postgres://ward:…@db:5432/ward): ` +
      'several processes must share one PostgreSQL database, and the embedded PGlite database serves ' +
      'a single process only. Set DATABASE_URL, or run `ward start` (all-in-one) to use embedded PGlite.',
  );
}
