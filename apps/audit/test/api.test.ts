import { auditEnv, loadEnv } from '@ward/config';
import type { AuditEvent, StoredAuditEvent } from '@ward/contracts';
import type { DatabaseKind } from '@ward/db';
import { openTestDatabase, type TestDatabase } from '@ward/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../src/csv.js';
import { ed25519Signer, generateSigningKeyPem } from '../src/keys.js';
import { createAuditServer } from '../src/server.js';
import type { AuditStore } from '../src/store.js';
import { makeEvent } from './helpers.js';

const TOKEN = 'internal-token-for-tests-0123456789abcdef';
const signer = ed25519Signer(generateSigningKeyPem());
const auditor = {
  sub: 'ann.auditor',
  role: 'auditor',
  method: 'jwt',
  ip: '10.1.2.3',
  requestId: 'req-audit-1',
};
const headers = (actor: object = auditor) => ({
  'x-ward-internal': TOKEN,
  'x-ward-actor': JSON.stringify(actor),
});
const T0 = Date.parse('2026-03-01T08:00:00.000Z');

describe.each<DatabaseKind>(['postgres', 'pglite'])('audit API on %s', (kind) => {
  let t: TestDatabase;
  let app: FastifyInstance;
  let store: AuditStore;
  const seeded: AuditEvent[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(kind, { migrate: true });
    const config = loadEnv(auditEnv, {
      WARD_INTERNAL_TOKEN: TOKEN,
      AUDIT_CONSUME: 'false',
      LOG_LEVEL: 'silent',
    });
    app = await createAuditServer({ config, db: t.db, signer, purgeTimer: false });
    store = app.auditStore;
    for (let i = 0; i < 30; i++) {
      const time = new Date(T0 + i * 60_000).toISOString();
      seeded.push(
        i % 10 === 9
          ? makeEvent(i, {
              time,
              action: 'auth.login.failed',
              outcome: 'failure',
              reason: 'WARD_BAD_CREDENTIALS',
              actor: { sub: 'mallory', method: 'password' },
              resource: undefined,
              http: { method: 'POST', route: '/api/auth/login', status: 401 },
              durations: undefined,
              tokens: undefined,
              digests: undefined,
            } as never)
          : makeEvent(i, {
              time,
              action: i % 3 === 0 ? 'process.requested' : 'process.completed',
              resource: {
                type: 'job',
                jobId: `job-${i}`,
                model: i % 2 ? 'mistral:7b' : 'llava:7b',
                instance: 'gpu0',
              },
              detail: { note: i === 4 ? '=cmd|"calc",x' : 'plain' },
            }),
      );
    }
    await store.append(seeded);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await t?.dispose();
  });

  const get = (url: string, h: Record<string, string> = headers()) =>
    app.inject({ method: 'GET', url, headers: h });
  const lastAudit = async () => {
    const { rows } = await t.db.query<{ event: string }>(
      'SELECT event FROM audit_events ORDER BY audit_events.seq DESC LIMIT 1',
    );
    return JSON.parse(rows[0]!.event) as AuditEvent;
  };

  it('refuses requests that did not come through the gateway, and roles other than admin and auditor', async () => {
    expect((await get('/api/audit/events', {})).statusCode).toBe(401);
    expect(
      (await get('/api/audit/events', { ...headers(), 'x-ward-internal': `${TOKEN}x` })).statusCode,
    ).toBe(401);
    expect((await get('/api/audit/events', { 'x-ward-internal': TOKEN })).statusCode).toBe(401);
    const res = await get('/api/audit/events', headers({ sub: 'dr.who', role: 'provider', method: 'jwt' }));
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'WARD_FORBIDDEN' });
    expect((await get('/health/live', {})).statusCode).toBe(200);
  });

  it('filters by actor, action (with prefixes), outcome, resource and time range', async () => {
    const ids = async (qs: string) =>
      ((await get(`/api/audit/events?${qs}`)).json().events as StoredAuditEvent[]).map((e) => e.event.id);
    expect(await ids('actor=mallory&limit=100')).toEqual(
      seeded
        .filter((e) => e.actor?.sub === 'mallory')
        .map((e) => e.id)
        .reverse(),
    );
    expect((await ids('action=process.*&limit=100')).length).toBe(27);
    expect((await ids('action=process.requested,auth.login.failed&limit=100')).length).toBe(
      seeded.filter((e) => e.action === 'process.requested' || e.action === 'auth.login.failed').length,
    );
    expect(await ids('outcome=failure')).toHaveLength(3);
    expect(await ids('model=llava:7b&limit=100')).toEqual(
      seeded
        .filter((e) => e.resource?.model === 'llava:7b')
        .map((e) => e.id)
        .reverse(),
    );
    expect(await ids('jobId=job-5')).toEqual([seeded[5]!.id]);
    expect(await ids('resourceType=job&resourceId=nothing')).toEqual([]);
    const from = new Date(T0 + 10 * 60_000).toISOString();
    const to = new Date(T0 + 15 * 60_000).toISOString();
    expect(await ids(`from=${from}&to=${to}&order=asc`)).toEqual(seeded.slice(10, 15).map((e) => e.id));
    const bad = await get('/api/audit/events?actr=mallory');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'WARD_VALIDATION', field: 'actr' });
  });

  it('pages with a cursor, newest first, without gaps or repeats', async () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await get(
        `/api/audit/events?action=process.*,auth.*&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.statusCode).toBe(200);
      const page = res.json() as { events: StoredAuditEvent[]; nextCursor?: string };
      seen.push(...page.events.map((e) => e.seq));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));
    const bad = await get('/api/audit/events?cursor=bm9wZQ');
    expect(bad.json()).toMatchObject({ statusCode: 400, field: 'cursor' });
  });

  it('records every query in the audit trail, with the actor and the filters', async () => {
    await get('/api/audit/events?actor=mallory&outcome=failure');
    const e = await lastAudit();
    expect(e).toMatchObject({
      action: 'audit.queried',
      outcome: 'success',
      actor: { sub: 'ann.auditor', role: 'auditor', method: 'jwt' },
      requestId: 'req-audit-1',
      source: { service: 'audit', ip: '10.1.2.3' },
      detail: { 'filter.actor': 'mallory', 'filter.outcome': 'failure', rows: 3 },
    });
  });

  it('refuses to answer when the access cannot be recorded (fail closed)', async () => {
    const append = store.append.bind(store);
    store.append = () => Promise.reject(new Error('database unavailable'));
    try {
      const res = await get('/api/audit/events');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'WARD_AUDIT_UNAVAILABLE' });
      expect(res.body).not.toContain('job-');
    } finally {
      store.append = append;
    }
  });

  it('exports NDJSON: one stored event per line with its seq and hash, and records the export', async () => {
    const res = await get('/api/audit/export?format=ndjson&actor=mallory');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson');
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="ward-audit-.*\.ndjson"/);
    const lines = res.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as StoredAuditEvent);
    expect(lines.map((l) => l.event.id)).toEqual(
      seeded.filter((e) => e.actor?.sub === 'mallory').map((e) => e.id),
    );
    expect(lines[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await lastAudit()).toMatchObject({
      action: 'audit.exported',
      detail: { format: 'ndjson', 'filter.actor': 'mallory' },
    });
  });

  it('exports CSV with a header, quoting, and formulas defused', async () => {
    const res = await get('/api/audit/export?format=csv&to=2026-03-01T08:10:00.000Z');
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = res.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(11);
    expect(
      lines[1]!.startsWith(`1,${seeded[0]!.id},2026-03-01T08:00:00.000Z,process.requested,success,`),
    ).toBe(true);
    // The detail JSON is quoted; a value starting with = cannot run as a formula.
    expect(lines[5]).toContain('"{""note"":""=cmd|\\""calc\\"",x""}"');
    expect(lines[10]).toContain(',mallory,,password,');
  });

  it('exports a FHIR R4 Bundle of AuditEvents', async () => {
    const res = await get('/api/audit/export?format=fhir&to=2026-03-01T08:10:00.000Z');
    expect(res.headers['content-type']).toBe('application/fhir+json');
    const bundle = res.json();
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(bundle.entry).toHaveLength(10);
    const [first] = bundle.entry;
    expect(first.fullUrl).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(first.resource).toMatchObject({
      resourceType: 'AuditEvent',
      id: seeded[0]!.id,
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
      subtype: [{ system: 'urn:ward:audit-action', code: 'process.requested' }],
      action: 'E',
      recorded: '2026-03-01T08:00:00.000Z',
      outcome: '0',
      agent: [
        {
          who: { identifier: { system: 'urn:ward:user', value: 'user-0' } },
          role: [{ coding: [{ system: 'urn:ward:role', code: 'provider' }] }],
          requestor: true,
        },
      ],
      source: { observer: { display: 'ward-gateway' }, type: [{ code: '4' }] },
    });
    const entity = first.resource.entity[0];
    expect(entity.what.identifier).toEqual({ system: 'urn:ward:job', value: 'job-0' });
    expect(entity.detail).toEqual(
      expect.arrayContaining([
        { type: 'model', valueString: 'llava:7b' },
        { type: 'promptSha256', valueString: 'a'.repeat(64) },
        { type: 'outputSha256', valueString: 'b'.repeat(64) },
        { type: 'promptTokens', valueString: '14' },
      ]),
    );
    const login = bundle.entry[9].resource;
    expect(login).toMatchObject({
      type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110114' },
      subtype: [{ code: '110122', display: 'Login' }, { code: 'auth.login.failed' }],
      outcome: '4',
      outcomeDesc: 'WARD_BAD_CREDENTIALS',
    });
  });

  it('verifies the chain on request and records the verification', async () => {
    const res = await get('/api/audit/verify');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, firstSeq: 1 });
    expect(await lastAudit()).toMatchObject({
      action: 'audit.verified',
      outcome: 'success',
      actor: { sub: 'ann.auditor' },
    });
  });
});
