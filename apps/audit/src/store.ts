/**
 * The audit table's only writer: appends batches of events to the hash chain (one transaction per
 * batch, under an advisory lock, idempotent by event id), signs checkpoints, and runs the
 * retention purge. Every Ward process that writes audit rows goes through this class.
 */
import { type AuditActor, type AuditEvent, type AuditSource, auditEventProblem } from '@ward/contracts';
import { advisoryXactLock, type Database, type Queryable } from '@ward/db';
import { completeAuditEvent } from '@ward/queue';
import { canonicalJson } from './canonical.js';
import { chainHash, GENESIS_HASH } from './chain.js';
import type { AuditSigner } from './keys.js';

/** What a signed checkpoint states (the `payload` column is its canonical JSON). */
export interface CheckpointPayload {
  v: 1;
  /** `purge`: the chain now starts after `lastSeq` (rows up to it were purged; `rowCount` is 0). */
  kind: 'periodic' | 'shutdown' | 'purge';
  /** First row kept in the table when signed. */
  firstSeq: number;
  lastSeq: number;
  lastHash: string;
  /** Rows in the table with seq ≤ lastSeq when signed (`lastSeq - firstSeq + 1`). */
  rowCount: number;
  signedAt: string;
  keyId: string;
  /** Purge only: events before this instant were purged. */
  cutTime?: string;
  /** Purge only: rows deleted. */
  purgedRows?: number;
}

/** The logging calls the store makes (pino fits). */
export interface AuditStoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Options of {@link AuditStore}. */
export interface AuditStoreOptions {
  /** Signs checkpoints; without it no checkpoints are written (verification then has only the chain). */
  signer?: AuditSigner | undefined;
  /** Sign a checkpoint once this many rows follow the last one (default 1000). */
  checkpointEvery?: number;
  logger?: AuditStoreLogger | undefined;
}

/** The outcome of {@link AuditStore.append}. */
export interface AppendResult {
  /** Rows written. */
  inserted: number;
  /** Events already stored (redeliveries) or repeated within the batch. */
  duplicates: number;
  /** The chain's last seq after the write. */
  lastSeq: number;
  /** The checkpoint signed in the same transaction, if one was due. */
  checkpoint?: CheckpointPayload;
}

/** The outcome of {@link AuditStore.purge}. */
export interface PurgeResult {
  cut: string;
  purgedRows: number;
  /** The last purged seq (the new chain anchor), when rows were purged. */
  throughSeq?: number;
  /** The `audit.purged` event recording the purge. */
  eventId: string;
}

/** Raised for an event that can never be stored (fails the schema); redelivery will not help. */
export class InvalidAuditEventError extends Error {
  readonly code = 'WARD_AUDIT_INVALID_EVENT';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAuditEventError';
  }
}

/** The canonical JSON stored (and hashed) for an event; throws {@link InvalidAuditEventError} when it cannot be stored. */
export function storedEventText(event: unknown): string {
  const problem = auditEventProblem(event);
  if (problem) throw new InvalidAuditEventError(`invalid audit event: ${problem}`);
  const text = canonicalJson(event);
  // PostgreSQL's jsonb cannot hold U+0000; such an event would be refused by the table forever.
  if (text.includes('\\u0000'))
    throw new InvalidAuditEventError('invalid audit event: contains a NUL character');
  return text;
}

interface Tail {
  /** Last seq in the chain (the purge anchor when every row was purged; 0 when empty). */
  seq: number;
  hash: string;
  /** First seq the table holds (one after the last purge). */
  firstSeq: number;
  /** Seq of the newest checkpoint (0 when none). */
  checkpointSeq: number;
}

interface TailRow {
  seq: string | null;
  hash: string | null;
  cp_seq: string | null;
  anchor_seq: string | null;
  anchor_hash: string | null;
}

const TAIL_SQL = `
SELECT e.seq::text AS seq, e.hash, c.last_seq::text AS cp_seq, p.last_seq::text AS anchor_seq, p.last_hash AS anchor_hash
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1) e ON true
LEFT JOIN LATERAL (SELECT last_seq FROM audit_checkpoints ORDER BY last_seq DESC LIMIT 1) c ON true
LEFT JOIN LATERAL (
  SELECT last_seq, last_hash FROM audit_checkpoints WHERE kind = 'purge' ORDER BY last_seq DESC LIMIT 1
) p ON true`;

const INSERT_SQL = `
INSERT INTO audit_events (seq, prev_hash, hash, event)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])
ON CONFLICT ((doc ->> 'id')) DO NOTHING`;

/**
 * Appends to Ward's audit chain. Calls on one store run one at a time; several processes may
 * write the same database, serialised by a transaction-scoped advisory lock.
 */
export class AuditStore {
  readonly db: Database;
  readonly #signer: AuditSigner | undefined;
  readonly #every: number;
  readonly #log: AuditStoreLogger | undefined;
  #lockName: string | undefined;
  #serial: Promise<unknown> = Promise.resolve();

  constructor(db: Database, opts: AuditStoreOptions = {}) {
    this.db = db;
    this.#signer = opts.signer;
    this.#every = opts.checkpointEvery ?? 1000;
    this.#log = opts.logger;
  }

  /** The signer's key id, when checkpoints are signed. */
  get keyId(): string | undefined {
    return this.#signer?.keyId;
  }

  /**
   * Appends events in one transaction: events already stored (same id) are skipped, the rest get
   * the next seqs and hashes; a checkpoint is signed in the same transaction when one is due.
   * Throws {@link InvalidAuditEventError} (writing nothing) when an event cannot be stored.
   */
  async append(events: readonly AuditEvent[]): Promise<AppendResult> {
    return this.appendPrepared(events.map((event) => ({ id: event.id, text: storedEventText(event) })));
  }

  /**
   * {@link append} for events already turned into their stored text by {@link storedEventText}
   * (the consumer checks each event once, on arrival).
   */
  appendPrepared(events: ReadonlyArray<{ id: string; text: string }>): Promise<AppendResult> {
    const texts = new Map<string, string>();
    let repeated = 0;
    for (const { id, text } of events) {
      if (texts.has(id)) repeated++;
      else texts.set(id, text);
    }
    return this.#exclusive(() =>
      this.db.transaction(async (tx) => {
        const result = await this.#appendTx(tx, texts);
        return { ...result, duplicates: result.duplicates + repeated };
      }),
    );
  }

  /**
   * Signs a checkpoint at the end of the chain when rows follow the last one (or always, with
   * `force`, if the chain has rows). Returns the payload, or undefined when nothing was signed.
   */
  checkpoint(
    kind: 'periodic' | 'shutdown' = 'periodic',
    force = false,
  ): Promise<CheckpointPayload | undefined> {
    if (!this.#signer) return Promise.resolve(undefined);
    return this.#exclusive(() =>
      this.db.transaction(async (tx) => {
        await this.#lock(tx);
        const tail = await this.#tail(tx);
        if (tail.seq < tail.firstSeq) return undefined;
        if (!force && tail.seq <= tail.checkpointSeq) return undefined;
        return this.#sign(tx, kind, tail);
      }),
    );
  }

  /**
   * Deletes the events older than `retentionDays` that form a prefix of the chain, signs a `purge`
   * checkpoint at the cut (the anchor verification starts from), and records an `audit.purged`
   * event — all in one transaction. Needs the signer.
   */
  purge(opts: {
    retentionDays: number;
    now?: Date;
    actor?: AuditActor;
    source?: AuditSource;
    requestId?: string;
  }): Promise<PurgeResult> {
    const signer = this.#signer;
    if (!signer) return Promise.reject(new Error('the retention purge needs the audit signing key'));
    const now = opts.now ?? new Date();
    const cut = new Date(now.getTime() - opts.retentionDays * 86_400_000).toISOString();
    return this.#exclusive(() =>
      this.db.transaction(async (tx) => {
        if (tx.kind === 'postgres') await tx.exec('SET LOCAL statement_timeout = 0');
        await this.#lock(tx);
        const tail = await this.#tail(tx);
        let purgedRows = 0;
        let throughSeq: number | undefined;
        if (tail.seq >= tail.firstSeq) {
          const { rows } = await tx.query<{ seq: string }>(
            `SELECT seq::text AS seq FROM audit_events
             WHERE seq >= $1 AND ward_audit_ts(doc ->> 'time') >= $2 ORDER BY audit_events.seq LIMIT 1`,
            [tail.firstSeq, cut],
          );
          const cutSeq = rows[0] ? Number(rows[0].seq) - 1 : tail.seq;
          if (cutSeq >= tail.firstSeq) {
            const { rows: at } = await tx.query<{ hash: string }>(
              'SELECT hash FROM audit_events WHERE seq = $1',
              [cutSeq],
            );
            const lastHash = at[0]?.hash;
            if (!lastHash) throw new Error(`audit row ${cutSeq} is missing; run ward audit verify`);
            await tx.query(`SELECT set_config('ward.audit_purge_through', $1, true)`, [String(cutSeq)]);
            const deleted = await tx.query('DELETE FROM audit_events WHERE seq <= $1', [cutSeq]);
            await tx.query('DELETE FROM audit_checkpoints WHERE last_seq < $1', [cutSeq]);
            await tx.query(`SELECT set_config('ward.audit_purge_through', '', true)`);
            purgedRows = deleted.rowCount ?? cutSeq - tail.firstSeq + 1;
            throughSeq = cutSeq;
            await this.#sign(
              tx,
              'purge',
              { seq: cutSeq, hash: lastHash, firstSeq: cutSeq + 1, checkpointSeq: tail.checkpointSeq },
              { cutTime: cut, purgedRows },
            );
          }
        }
        const event = completeAuditEvent(
          {
            action: 'audit.purged',
            outcome: 'success',
            actor: opts.actor ?? { sub: 'ward-audit', method: 'internal' },
            resource: { type: 'audit-trail' },
            detail: {
              retentionDays: opts.retentionDays,
              cut,
              rows: purgedRows,
              ...(throughSeq !== undefined && { throughSeq }),
            },
            ...(opts.source && { source: opts.source }),
            ...(opts.requestId && { requestId: opts.requestId }),
          },
          'audit',
        );
        await this.#appendTx(tx, new Map([[event.id, storedEventText(event)]]));
        // Seal the purge record at once: a purge is rare and worth a signature of its own.
        await this.#sign(tx, 'periodic', await this.#tail(tx));
        this.#log?.info({ cut, purgedRows, throughSeq }, 'audit retention purge done');
        return { cut, purgedRows, ...(throughSeq !== undefined && { throughSeq }), eventId: event.id };
      }),
    );
  }

  async #appendTx(tx: Queryable, texts: Map<string, string>): Promise<AppendResult> {
    await this.#lock(tx);
    const ids = [...texts.keys()];
    if (ids.length > 0) {
      const { rows } = await tx.query<{ event_id: string }>(
        `SELECT doc ->> 'id' AS event_id FROM audit_events WHERE doc ->> 'id' = ANY($1::text[])`,
        [ids],
      );
      for (const r of rows) texts.delete(r.event_id);
    }
    const duplicates = ids.length - texts.size;
    let tail = await this.#tail(tx);
    if (texts.size === 0) return { inserted: 0, duplicates, lastSeq: tail.seq };
    const seqs: number[] = [];
    const prevs: string[] = [];
    const hashes: string[] = [];
    const bodies: string[] = [];
    let seq = tail.seq;
    let prev = tail.hash;
    for (const text of texts.values()) {
      seq++;
      const hash = chainHash(prev, seq, text);
      seqs.push(seq);
      prevs.push(prev);
      hashes.push(hash);
      bodies.push(text);
      prev = hash;
    }
    const res = await tx.query(INSERT_SQL, [seqs, prevs, hashes, bodies]);
    if (res.rowCount !== undefined && res.rowCount !== bodies.length) {
      // Another writer ignored the lock; rolling back keeps the chain gapless.
      throw new Error(`audit insert wrote ${res.rowCount} of ${bodies.length} rows; retrying the batch`);
    }
    tail = { ...tail, seq, hash: prev };
    let checkpoint: CheckpointPayload | undefined;
    if (this.#signer && seq - tail.checkpointSeq >= this.#every)
      checkpoint = await this.#sign(tx, 'periodic', tail);
    return { inserted: bodies.length, duplicates, lastSeq: seq, ...(checkpoint && { checkpoint }) };
  }

  async #sign(
    tx: Queryable,
    kind: CheckpointPayload['kind'],
    tail: Tail,
    extra: Pick<CheckpointPayload, 'cutTime' | 'purgedRows'> = {},
  ): Promise<CheckpointPayload> {
    const signer = this.#signer!;
    const payload: CheckpointPayload = {
      v: 1,
      kind,
      firstSeq: tail.firstSeq,
      lastSeq: tail.seq,
      lastHash: tail.hash,
      rowCount: Math.max(0, tail.seq - tail.firstSeq + 1),
      signedAt: new Date().toISOString(),
      keyId: signer.keyId,
      ...extra,
    };
    const text = canonicalJson(payload);
    const signature = signer.sign(text);
    await tx.query('INSERT INTO audit_checkpoints (payload, signature) VALUES ($1, $2)', [text, signature]);
    // The log is a witness outside the database: a truncated table cannot erase what was logged.
    this.#log?.info({ checkpoint: payload, signature }, 'audit checkpoint signed');
    return payload;
  }

  async #tail(tx: Queryable): Promise<Tail> {
    const { rows } = await tx.query<TailRow>(TAIL_SQL);
    const r = rows[0]!;
    const anchorSeq = r.anchor_seq === null ? 0 : Number(r.anchor_seq);
    const rowSeq = r.seq === null ? 0 : Number(r.seq);
    const base = { firstSeq: anchorSeq + 1, checkpointSeq: r.cp_seq === null ? 0 : Number(r.cp_seq) };
    if (rowSeq > anchorSeq) return { ...base, seq: rowSeq, hash: r.hash! };
    return { ...base, seq: anchorSeq, hash: r.anchor_hash ?? GENESIS_HASH };
  }

  async #lock(tx: Queryable): Promise<void> {
    if (!this.#lockName) {
      const { rows } = await tx.query<{ schema: string | null }>('SELECT current_schema() AS schema');
      this.#lockName = `ward:audit:chain:${rows[0]?.schema ?? ''}`;
    }
    await advisoryXactLock(tx, this.#lockName);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(fn, fn);
    this.#serial = run.catch(() => {});
    return run;
  }
}
