import type { AuditEvent, AuditEventInput } from '@ward/contracts';
import type { Database } from '@ward/db';
import { completeAuditEvent } from '@ward/queue';

/** A realistic `process.completed` event for user `user-<i % 7>`; fields can be overridden. */
export function makeEvent(i: number, over: Partial<AuditEventInput> = {}): AuditEvent {
  return completeAuditEvent(
    {
      action: 'process.completed',
      outcome: 'success',
      actor: { sub: `user-${i % 7}`, role: 'provider', method: 'jwt' },
      requestId: `req-${i}`,
      resource: { type: 'job', jobId: `bWlzdHJhbDo3Yg.job${i}`, model: 'mistral:7b', instance: 'gpu0' },
      http: { method: 'POST', route: '/api/local/process', status: 200 },
      durations: { totalMs: 1538, queueMs: 1, generationMs: 1520.8 },
      tokens: { prompt: 14, completion: 61 },
      digests: { prompt: 'a'.repeat(64), output: 'b'.repeat(64) },
      ...over,
    },
    'gateway',
  );
}

/** Runs SQL as a tamperer would: with triggers off (`session_replication_role = replica`). */
export async function tamper(db: Database, sql: string, params: unknown[] = []): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.exec('SET LOCAL session_replication_role = replica');
    await tx.query(sql, params);
  });
}

/** Empties the audit tables (bypassing the append-only trigger), for the next scenario. */
export async function resetAudit(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.exec('SET LOCAL session_replication_role = replica');
    await tx.exec('TRUNCATE audit_events, audit_checkpoints');
  });
}
