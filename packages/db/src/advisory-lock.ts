import { createHash } from 'node:crypto';
import type { Queryable } from './database.js';

/** The signed 64-bit advisory-lock key for a name: the first 8 bytes of its SHA-256. */
export function advisoryLockKey(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE(0).toString();
}

/**
 * Takes a transaction-scoped advisory lock named `name` (`pg_advisory_xact_lock`), waiting for any
 * other session holding it; it is released when the transaction ends. Processes that must not
 * run some step at the same time (migrations, imports) agree on the name.
 */
export async function advisoryXactLock(tx: Queryable, name: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryLockKey(name)]);
}
