import type { AuditQuery, StoredAuditEvent } from '@ward/contracts';
import type { Queryable } from '@ward/db';

/** Raised for a cursor this service did not issue (or issued for another sort order). */
export class InvalidCursorError extends Error {
  readonly field = 'cursor';
  constructor() {
    super('cursor is not a cursor this service issued for this order');
    this.name = 'InvalidCursorError';
  }
}

/** An opaque cursor naming the last seq a page returned. */
export function encodeCursor(order: 'asc' | 'desc', seq: number): string {
  return Buffer.from(`a1:${order}:${seq}`).toString('base64url');
}

/** The seq a cursor continues after; throws {@link InvalidCursorError} for anything else. */
export function decodeCursor(cursor: string, order: 'asc' | 'desc'): number {
  const m = /^a1:(asc|desc):(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m || m[1] !== order) throw new InvalidCursorError();
  return Number(m[2]);
}

/** Filter → the expression over `doc` it compares (matching the migration's index expressions). */
const COLUMNS: ReadonlyArray<[keyof AuditQuery, string]> = [
  ['actor', `(doc #>> '{actor,sub}')`],
  ['role', `(doc #>> '{actor,role}')`],
  ['outcome', `(doc ->> 'outcome')`],
  ['resourceType', `(doc #>> '{resource,type}')`],
  ['resourceId', `(doc #>> '{resource,id}')`],
  ['model', `(doc #>> '{resource,model}')`],
  ['task', `(doc #>> '{resource,task}')`],
  ['jobId', `(doc #>> '{resource,jobId}')`],
  ['instance', `(doc #>> '{resource,instance}')`],
  ['requestId', `(doc ->> 'requestId')`],
];
const ACTION = `(doc ->> 'action')`;
const TIME = `ward_audit_ts(doc ->> 'time')`;

/** SQL conditions (and their parameters, appended to `params`) for a filter. */
export function filterConditions(q: AuditQuery, params: unknown[]): string[] {
  const where: string[] = [];
  for (const [key, column] of COLUMNS) {
    const value = q[key];
    if (value === undefined) continue;
    params.push(value);
    where.push(`${column} = $${params.length}`);
  }
  if (q.action) {
    const alternatives: string[] = [];
    for (const raw of q.action.split(',')) {
      const a = raw.trim();
      if (!a) continue;
      if (a.endsWith('*')) {
        params.push(`${a.slice(0, -1).replace(/\*/g, '')}%`);
        alternatives.push(`${ACTION} LIKE $${params.length}`);
      } else {
        params.push(a);
        alternatives.push(`${ACTION} = $${params.length}`);
      }
    }
    if (alternatives.length) where.push(`(${alternatives.join(' OR ')})`);
  }
  if (q.from) {
    params.push(new Date(q.from).toISOString());
    where.push(`${TIME} >= $${params.length}::timestamptz`);
  }
  if (q.to) {
    params.push(new Date(q.to).toISOString());
    where.push(`${TIME} < $${params.length}::timestamptz`);
  }
  return where;
}

/** A stored row as read for queries and exports: the event's canonical JSON, unparsed. */
export interface RawAuditRow {
  seq: number;
  hash: string;
  /** Canonical JSON of the event, exactly as stored and hashed. */
  event: string;
}

/** Reads up to `limit` rows matching `q` after the cursor seq `after` (exclusive), in `q.order` (default desc). */
export async function readAuditRows(
  db: Queryable,
  q: AuditQuery,
  limit: number,
  after?: number,
): Promise<RawAuditRow[]> {
  const order = q.order ?? 'desc';
  const params: unknown[] = [];
  const where = filterConditions(q, params);
  if (after !== undefined) {
    params.push(after);
    where.push(`seq ${order === 'desc' ? '<' : '>'} $${params.length}`);
  }
  params.push(limit);
  const { rows } = await db.query<{ seq: string | number; hash: string; event: string }>(
    `SELECT seq, hash, event FROM audit_events${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
     ORDER BY seq ${order === 'desc' ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => ({ seq: Number(r.seq), hash: r.hash, event: r.event }));
}

/** One page of events matching `q`, newest first unless `q.order` is `asc`. */
export async function queryAuditEvents(
  db: Queryable,
  q: AuditQuery,
  page: { cursor?: string | undefined; limit: number },
): Promise<{ events: StoredAuditEvent[]; nextCursor?: string }> {
  const order = q.order ?? 'desc';
  const after = page.cursor ? decodeCursor(page.cursor, order) : undefined;
  const rows = await readAuditRows(db, q, page.limit + 1, after);
  const more = rows.length > page.limit;
  const kept = more ? rows.slice(0, page.limit) : rows;
  const events = kept.map((r) => ({ seq: r.seq, hash: r.hash, event: JSON.parse(r.event) }));
  const last = kept.at(-1);
  return more && last ? { events, nextCursor: encodeCursor(order, last.seq) } : { events };
}

/** Every row matching `q` (oldest first unless `q.order` is `desc`), read page by page. */
export async function* streamAuditRows(
  db: Queryable,
  q: AuditQuery,
  pageSize = 1000,
): AsyncGenerator<RawAuditRow> {
  const query: AuditQuery = { ...q, order: q.order ?? 'asc' };
  let after: number | undefined;
  while (true) {
    const rows = await readAuditRows(db, query, pageSize, after);
    yield* rows;
    if (rows.length < pageSize) return;
    after = rows.at(-1)!.seq;
  }
}
