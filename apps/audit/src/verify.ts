import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { AuditProblemKind, AuditVerifyReport } from '@ward/contracts';
import type { Database, Queryable } from '@ward/db';
import { GENESIS_HASH } from './chain.js';
import { auditKeyId, verifySignature } from './keys.js';
import type { CheckpointPayload } from './store.js';

/** Options of {@link verifyAuditChain}. */
export interface VerifyOptions {
  /** Rows fetched per round trip (default 20 000). */
  pageSize?: number;
}

interface CheckpointRow {
  id: string | number;
  payload: string;
  signature: string;
}

interface Checkpoint extends CheckpointPayload {
  id: number;
}

interface Problem {
  kind: AuditProblemKind;
  seq: number;
  message: string;
  checkpointId?: number;
}

interface EventRow {
  seq: string | number;
  prev_hash: string;
  hash: string;
  event: string;
}

/**
 * Recomputes the audit hash chain and checks every checkpoint signature, reporting the first bad
 * place by sequence number: a changed field (`row-altered`), deleted rows (`rows-missing`), a
 * forged row (`row-inserted`), a broken link (`chain-broken`), a truncated tail (`tail-truncated`),
 * a rewrite under a checkpoint (`checkpoint-mismatch`) or an altered or foreign signature
 * (`checkpoint-signature`). `publicKeys` are trusted from outside the database (PEM or KeyObject).
 * Rows are streamed by keyset pagination, so memory stays flat for any table size. Given a
 * {@link Database}, everything is read in one repeatable-read snapshot, so rows appended or
 * purged meanwhile do not disturb the result.
 */
export async function verifyAuditChain(
  db: Database | Queryable,
  publicKeys: KeyObject | string | ReadonlyArray<KeyObject | string>,
  opts: VerifyOptions = {},
): Promise<AuditVerifyReport> {
  if ('transaction' in db) {
    return db.transaction(async (tx) => {
      await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      return verifyIn(tx, publicKeys, opts);
    });
  }
  return verifyIn(db, publicKeys, opts);
}

async function verifyIn(
  db: Queryable,
  publicKeys: KeyObject | string | ReadonlyArray<KeyObject | string>,
  opts: VerifyOptions,
): Promise<AuditVerifyReport> {
  const started = performance.now();
  const keys = new Map<string, KeyObject>();
  for (const k of [publicKeys].flat()) {
    const key = typeof k === 'string' ? createPublicKey(k) : k.type === 'private' ? createPublicKey(k) : k;
    keys.set(auditKeyId(key), key);
  }
  const pageSize = opts.pageSize ?? 20_000;
  const problems: Problem[] = [];

  // 1. Checkpoints: signatures first; a bad one is reported at the seq it vouches for.
  const { rows: cpRows } = await db.query<CheckpointRow>(
    'SELECT id, payload, signature FROM audit_checkpoints ORDER BY last_seq, id',
  );
  const valid: Checkpoint[] = [];
  for (const row of cpRows) {
    const id = Number(row.id);
    let payload: CheckpointPayload;
    try {
      payload = JSON.parse(row.payload) as CheckpointPayload;
    } catch {
      problems.push({
        kind: 'checkpoint-signature',
        seq: 0,
        checkpointId: id,
        message: `checkpoint #${id} is not JSON`,
      });
      continue;
    }
    const seq = Number(payload.lastSeq);
    const key = keys.get(payload.keyId);
    if (!key) {
      problems.push({
        kind: 'checkpoint-signature',
        seq,
        checkpointId: id,
        message: `checkpoint #${id} (seq ${seq}) is signed by key ${payload.keyId}, which is not a trusted audit key`,
      });
    } else if (!verifySignature(key, row.payload, row.signature)) {
      problems.push({
        kind: 'checkpoint-signature',
        seq,
        checkpointId: id,
        message: `checkpoint #${id} (seq ${seq}) has a signature that does not verify: the checkpoint or its signature was altered`,
      });
    } else valid.push({ ...payload, id });
  }

  // 2. Where the chain starts: after the newest valid purge checkpoint, else at seq 1 from genesis.
  const anchor = valid.filter((c) => c.kind === 'purge').at(-1);
  const startSeq = anchor ? anchor.lastSeq + 1 : 1;
  const sealing = valid.filter((c) => c.kind !== 'purge' && c.lastSeq >= startSeq);
  const byLastSeq = new Map<number, Checkpoint[]>();
  for (const c of sealing) byLastSeq.set(c.lastSeq, [...(byLastSeq.get(c.lastSeq) ?? []), c]);
  const lastCheckpoint = sealing.at(-1);

  // 3. Walk the rows in seq order.
  let expected = startSeq;
  let prevHash = anchor ? anchor.lastHash : GENESIS_HASH;
  let prevLink: string | undefined;
  let prevSealedSeq = startSeq - 1;
  let rowsRead = 0;
  let firstSeq: number | undefined;
  let lastSeq: number | undefined;
  let walkProblem: Problem | undefined;
  const page = (after: number) =>
    db.query<EventRow>(
      'SELECT seq, prev_hash, hash, event FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2',
      [after, pageSize],
    );
  let next = page(startSeq - 1);
  walk: while (true) {
    const { rows } = await next;
    if (rows.length === 0) break;
    const lastOfPage = Number(rows[rows.length - 1]!.seq);
    // Fetch the next page while this one is hashed.
    next = rows.length === pageSize ? page(lastOfPage) : Promise.resolve({ rows: [] });
    for (const row of rows) {
      const seq = Number(row.seq);
      rowsRead++;
      firstSeq ??= seq;
      lastSeq = seq;
      if (seq !== expected) {
        walkProblem =
          expected === startSeq
            ? {
                kind: 'bad-start',
                seq: expected,
                message: `the chain must start at seq ${expected}${anchor ? ` (after the purge checkpoint #${anchor.id})` : ''} but starts at ${seq}: rows ${expected}..${seq - 1} were deleted`,
              }
            : {
                kind: 'rows-missing',
                seq: expected,
                message:
                  seq - expected === 1
                    ? `row ${expected} is missing (deleted)`
                    : `rows ${expected}..${seq - 1} are missing (deleted)`,
              };
        break walk;
      }
      if (row.prev_hash !== prevHash) {
        walkProblem =
          prevLink !== undefined && row.prev_hash === prevLink
            ? {
                kind: 'row-inserted',
                seq: seq - 1,
                message: `row ${seq - 1} was inserted: row ${seq} links to the row before it, not to ${seq - 1}`,
              }
            : seq === startSeq
              ? {
                  kind: 'bad-start',
                  seq,
                  message: `row ${seq} does not link to the ${anchor ? `purge checkpoint #${anchor.id}` : 'genesis hash'}`,
                }
              : {
                  kind: 'chain-broken',
                  seq,
                  message: `row ${seq} does not link to row ${seq - 1}: row ${seq - 1} was rewritten with a recomputed hash, or row ${seq} was forged`,
                };
        break walk;
      }
      const hash = createHash('sha256').update(`${row.prev_hash}\n${seq}\n${row.event}`).digest('hex');
      if (hash !== row.hash) {
        walkProblem = {
          kind: 'row-altered',
          seq,
          message: `row ${seq} does not match its hash: a field was changed (or the row was forged)`,
        };
        break walk;
      }
      const cps = byLastSeq.get(seq);
      if (cps) {
        for (const cp of cps) {
          if (cp.lastHash !== hash) {
            walkProblem = {
              kind: 'checkpoint-mismatch',
              seq: prevSealedSeq + 1,
              checkpointId: cp.id,
              message: `rows ${prevSealedSeq + 1}..${seq} were rewritten: the chain hash at ${seq} differs from the one checkpoint #${cp.id} signed at ${cp.signedAt}`,
            };
            break walk;
          }
          if (cp.firstSeq >= startSeq && cp.rowCount !== seq - cp.firstSeq + 1) {
            walkProblem = {
              kind: 'checkpoint-mismatch',
              seq: cp.firstSeq,
              checkpointId: cp.id,
              message: `checkpoint #${cp.id} counted ${cp.rowCount} rows in ${cp.firstSeq}..${seq}; the table has ${seq - cp.firstSeq + 1}`,
            };
            break walk;
          }
        }
        prevSealedSeq = seq;
      }
      prevLink = row.prev_hash;
      prevHash = row.hash;
      expected = seq + 1;
    }
  }
  // Let a prefetched page settle before returning (and never leave its rejection unhandled).
  await next.catch(() => {});

  if (walkProblem) problems.push(walkProblem);
  else if (lastCheckpoint && lastCheckpoint.lastSeq >= expected) {
    problems.push({
      kind: 'tail-truncated',
      seq: expected,
      checkpointId: lastCheckpoint.id,
      message: `checkpoint #${lastCheckpoint.id} signed rows through seq ${lastCheckpoint.lastSeq}, but the table ends at ${expected - 1}: rows ${expected}..${lastCheckpoint.lastSeq} were deleted`,
    });
  }
  const problem = problems.sort((a, b) => a.seq - b.seq)[0];
  const sealedThrough = lastCheckpoint ? lastCheckpoint.lastSeq : startSeq - 1;
  return {
    ok: problem === undefined,
    rows: rowsRead,
    ...(firstSeq !== undefined && { firstSeq }),
    ...(lastSeq !== undefined && { lastSeq }),
    checkpoints: cpRows.length,
    ...(lastCheckpoint && { lastCheckpointSeq: lastCheckpoint.lastSeq }),
    unsealedRows: lastSeq === undefined ? 0 : Math.max(0, lastSeq - sealedThrough),
    ...(problem && { problem }),
    durationMs: Math.round(performance.now() - started),
  };
}
