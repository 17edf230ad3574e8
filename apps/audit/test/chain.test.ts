import { generateKeyPairSync } from 'node:crypto';
import type { DatabaseKind } from '@ward/db';
import { openTestDatabase, type TestDatabase } from '@ward/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chainHash } from '../src/chain.js';
import { ed25519Signer, generateSigningKeyPem } from '../src/keys.js';
import { AuditStore } from '../src/store.js';
import { verifyAuditChain } from '../src/verify.js';
import { makeEvent, resetAudit, tamper } from './helpers.js';

const signer = ed25519Signer(generateSigningKeyPem());

describe.each<DatabaseKind>(['postgres', 'pglite'])('audit chain on %s', (kind) => {
  let t: TestDatabase;
  let store: AuditStore;

  /** 50 rows in batches of 5, a checkpoint every 10 rows (at 10, 20, 30, 40, 50). */
  async function fill(n = 50): Promise<void> {
    for (let i = 0; i < n; i += 5) await store.append([0, 1, 2, 3, 4].map((k) => makeEvent(i + k + 1)));
  }
  const verify = () => verifyAuditChain(t.db, signer.publicKey);
  const hashAt = async (seq: number) =>
    (await t.db.query<{ hash: string }>('SELECT hash FROM audit_events WHERE seq = $1', [seq])).rows[0]!.hash;

  beforeAll(async () => {
    t = await openTestDatabase(kind, { migrate: true });
    store = new AuditStore(t.db, { signer, checkpointEvery: 10 });
  }, 60_000);
  afterAll(async () => {
    await t?.dispose();
  });
  beforeEach(async () => {
    await resetAudit(t.db);
  });

  it('chains rows gaplessly from seq 1, signs checkpoints every N rows, and verifies', async () => {
    await fill();
    const { rows } = await t.db.query<{ seq: string; prev_hash: string; hash: string; event: string }>(
      'SELECT seq::text AS seq, prev_hash, hash, event FROM audit_events ORDER BY audit_events.seq',
    );
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(rows[0]!.prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
    expect(rows[7]!.hash).toBe(chainHash(rows[7]!.prev_hash, 8, rows[7]!.event));
    const cps = await t.db.query<{ last_seq: string }>(
      'SELECT last_seq::text FROM audit_checkpoints ORDER BY id',
    );
    expect(cps.rows.map((r) => Number(r.last_seq))).toEqual([10, 20, 30, 40, 50]);
    const report = await verify();
    expect(report).toMatchObject({
      ok: true,
      rows: 50,
      firstSeq: 1,
      lastSeq: 50,
      checkpoints: 5,
      unsealedRows: 0,
    });
    expect(report.problem).toBeUndefined();
  });

  it('stores a redelivered event once, within a batch and across batches', async () => {
    const e = makeEvent(1);
    const first = await store.append([e, e, makeEvent(2)]);
    expect(first).toMatchObject({ inserted: 2, duplicates: 1, lastSeq: 2 });
    const again = await store.append([e, makeEvent(3)]);
    expect(again).toMatchObject({ inserted: 1, duplicates: 1, lastSeq: 3 });
    const { rows } = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events WHERE doc ->> 'id' = $1`,
      [e.id],
    );
    expect(rows[0]!.n).toBe(1);
    expect((await verify()).ok).toBe(true);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on the audit tables', async () => {
    await fill(10);
    await expect(t.db.query(`UPDATE audit_events SET hash = repeat('0', 64) WHERE seq = 3`)).rejects.toThrow(
      /append-only: UPDATE on audit_events/,
    );
    await expect(t.db.query('DELETE FROM audit_events WHERE seq = 3')).rejects.toThrow(/append-only: DELETE/);
    await expect(t.db.query('TRUNCATE audit_events')).rejects.toThrow(/append-only: TRUNCATE/);
    await expect(t.db.query(`UPDATE audit_checkpoints SET signature = 'x'`)).rejects.toThrow(/append-only/);
    await expect(t.db.query('DELETE FROM audit_checkpoints')).rejects.toThrow(/append-only/);
    // A generated column cannot be set apart from the hashed event, trigger or not.
    await expect(tamper(t.db, `UPDATE audit_events SET doc = '{}' WHERE seq = 3`)).rejects.toThrow(
      /generated column|can only be updated to DEFAULT/,
    );
    expect((await verify()).ok).toBe(true);
  });

  it('reports a changed field at its row', async () => {
    await fill();
    await tamper(
      t.db,
      `UPDATE audit_events SET event = replace(event, '"sub":"user-2"', '"sub":"user-6"') WHERE seq = 23`,
    );
    const r = await verify();
    expect(r.ok).toBe(false);
    expect(r.problem).toMatchObject({ kind: 'row-altered', seq: 23 });
  });

  it('reports a deleted row at its seq', async () => {
    await fill();
    await tamper(t.db, 'DELETE FROM audit_events WHERE seq = 17');
    expect((await verify()).problem).toMatchObject({ kind: 'rows-missing', seq: 17 });
  });

  it('reports a deleted first row', async () => {
    await fill();
    await tamper(t.db, 'DELETE FROM audit_events WHERE seq <= 2');
    expect((await verify()).problem).toMatchObject({ kind: 'bad-start', seq: 1 });
  });

  it('reports a forged row inserted into the chain (later rows renumbered) at the forged seq', async () => {
    await fill();
    await tamper(t.db, 'UPDATE audit_events SET seq = seq + 1000 WHERE seq > 30');
    await tamper(t.db, 'UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000');
    const forged = JSON.stringify(makeEvent(999, { actor: { sub: 'intruder', role: 'admin' } }));
    const prev = await hashAt(30);
    await tamper(t.db, 'INSERT INTO audit_events (seq, prev_hash, hash, event) VALUES (31, $1, $2, $3)', [
      prev,
      chainHash(prev, 31, forged),
      forged,
    ]);
    expect((await verify()).problem).toMatchObject({ kind: 'row-inserted', seq: 31 });
  });

  it('reports a forged row appended with a made-up hash', async () => {
    await fill(20);
    const forged = JSON.stringify(makeEvent(999));
    await tamper(t.db, 'INSERT INTO audit_events (seq, prev_hash, hash, event) VALUES (21, $1, $2, $3)', [
      await hashAt(20),
      'f'.repeat(64),
      forged,
    ]);
    expect((await verify()).problem).toMatchObject({ kind: 'row-altered', seq: 21 });
  });

  it('reports a rewrite with recomputed hashes through the checkpoint that covers it', async () => {
    await fill();
    // The tamperer changes row 25 and recomputes every hash after it: the chain is consistent again.
    await tamper(
      t.db,
      `UPDATE audit_events SET event = replace(event, '"outcome":"success"', '"outcome":"failure"') WHERE seq = 25`,
    );
    const { rows } = await t.db.query<{ seq: string; prev_hash: string; event: string }>(
      'SELECT seq::text AS seq, prev_hash, event FROM audit_events WHERE seq >= 25 ORDER BY audit_events.seq',
    );
    let prev = rows[0]!.prev_hash;
    for (const r of rows) {
      const hash = chainHash(prev, Number(r.seq), r.event);
      await tamper(t.db, 'UPDATE audit_events SET prev_hash = $1, hash = $2 WHERE seq = $3', [
        prev,
        hash,
        r.seq,
      ]);
      prev = hash;
    }
    const r = await verify();
    expect(r.problem).toMatchObject({ kind: 'checkpoint-mismatch', seq: 21 });
    expect(r.problem?.message).toMatch(/rows 21\.\.30 were rewritten/);
  });

  it('reports a truncated tail that a checkpoint covers', async () => {
    await fill();
    await tamper(t.db, 'DELETE FROM audit_events WHERE seq > 44');
    const r = await verify();
    expect(r.problem).toMatchObject({ kind: 'tail-truncated', seq: 45 });
    expect(r.rows).toBe(44);
  });

  it('reports an altered checkpoint signature, and a checkpoint signed by an unknown key', async () => {
    await fill();
    const { rows } = await t.db.query<{ signature: string }>(
      'SELECT signature FROM audit_checkpoints WHERE last_seq = 10',
    );
    await tamper(t.db, 'UPDATE audit_checkpoints SET signature = $1 WHERE last_seq = 30', [
      rows[0]!.signature,
    ]);
    expect((await verify()).problem).toMatchObject({ kind: 'checkpoint-signature', seq: 30 });

    await resetAudit(t.db);
    await fill();
    // A checkpoint payload rewritten to vouch for another hash no longer matches its signature.
    await tamper(
      t.db,
      `UPDATE audit_checkpoints SET payload = replace(payload, '"rowCount":20', '"rowCount":19') WHERE last_seq = 20`,
    );
    expect((await verify()).problem).toMatchObject({ kind: 'checkpoint-signature', seq: 20 });

    // Verifying with a key that did not sign the checkpoints fails at the first one.
    const other = generateKeyPairSync('ed25519').publicKey;
    const r = await verifyAuditChain(t.db, other);
    expect(r.problem).toMatchObject({ kind: 'checkpoint-signature', seq: 10 });
    expect(r.problem?.message).toMatch(/not a trusted audit key/);
  });

  it('purges rows older than the retention, anchors the chain at a signed checkpoint, and audits the purge', async () => {
    const old = new Date(Date.now() - 3000 * 86_400_000).toISOString();
    await store.append(Array.from({ length: 12 }, (_, i) => makeEvent(i, { time: old })));
    await store.append(Array.from({ length: 8 }, (_, i) => makeEvent(100 + i)));
    const result = await store.purge({ retentionDays: 2192 });
    expect(result).toMatchObject({ purgedRows: 12, throughSeq: 12 });
    const { rows } = await t.db.query<{ seq: string; action: string }>(
      `SELECT seq::text AS seq, doc ->> 'action' AS action FROM audit_events ORDER BY audit_events.seq`,
    );
    expect(Number(rows[0]!.seq)).toBe(13);
    expect(rows.at(-1)).toMatchObject({ seq: '21', action: 'audit.purged' });
    const r = await verify();
    expect(r).toMatchObject({ ok: true, firstSeq: 13, lastSeq: 21, unsealedRows: 0 });
    // Outside the purge the trigger still refuses deletes; the chain still continues.
    await expect(t.db.query('DELETE FROM audit_events WHERE seq = 13')).rejects.toThrow(/append-only/);
    await store.append([makeEvent(500)]);
    expect((await verify()).ok).toBe(true);
    // Deleting the first kept row after the purge is caught as a bad start.
    await tamper(t.db, 'DELETE FROM audit_events WHERE seq = 13');
    expect((await verify()).problem).toMatchObject({ kind: 'bad-start', seq: 13 });
  });

  it('refuses events that fail the schema, so content cannot ride along', async () => {
    const bad = { ...makeEvent(1), prompt: 'patient has chest pain' };
    await expect(store.append([bad as never])).rejects.toThrow(/invalid audit event/);
    await expect(store.append([makeEvent(2, { digests: { prompt: 'not a digest' } })])).rejects.toThrow(
      /invalid/,
    );
    await expect(store.append([makeEvent(3, { reason: 'nul\u0000byte' })])).rejects.toThrow(/NUL/);
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
    expect(rows[0]!.n).toBe(0);
  });
});
