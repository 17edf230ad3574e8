import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@ward/config';
import type { AuditEvent } from '@ward/contracts';
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '@ward/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandOutput, runPurgeCommand, runVerifyCommand } from '../src/commands.js';
import { ed25519Signer, generateSigningKeyPem } from '../src/keys.js';
import { AuditStore } from '../src/store.js';
import { makeEvent, tamper } from './helpers.js';

function capture(): CommandOutput & { text: () => string } {
  const lines: string[] = [];
  return { out: (l) => lines.push(l), err: (l) => lines.push(l), text: () => lines.join('\n') };
}

describe('ward audit verify / purge', () => {
  const pem = generateSigningKeyPem();
  let t: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let dataDir: string;

  beforeAll(async () => {
    t = await openTestDatabase('postgres', { migrate: true });
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('options', `-c search_path=${t.schema}`);
    dataDir = await mkdtemp(join(tmpdir(), 'ward-audit-'));
    env = { DATABASE_URL: url.toString(), AUDIT_SIGNING_KEY: pem, WARD_DATA_DIR: dataDir };
    const store = new AuditStore(t.db, { signer: ed25519Signer(pem), checkpointEvery: 5 });
    const old = new Date(Date.now() - 400 * 86_400_000).toISOString();
    await store.append(Array.from({ length: 10 }, (_, i) => makeEvent(i, { time: old })));
    await store.append(Array.from({ length: 10 }, (_, i) => makeEvent(100 + i)));
  });
  afterAll(async () => {
    await t?.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  const lastEvent = async () =>
    JSON.parse(
      (
        await t.db.query<{ event: string }>(
          'SELECT event FROM audit_events ORDER BY audit_events.seq DESC LIMIT 1',
        )
      ).rows[0]!.event,
    ) as AuditEvent;

  it('verifies, prints the report, and records the verification as the console user', async () => {
    const io = capture();
    expect(await runVerifyCommand(env, { output: io })).toBe(0);
    expect(io.text()).toMatch(/audit trail intact\n {2}rows {8}20 \(seq 1\.\.20\)/);
    expect(await lastEvent()).toMatchObject({
      action: 'audit.verified',
      outcome: 'success',
      actor: { sub: expect.stringMatching(/^cli:/), method: 'cli' },
      source: { service: 'cli' },
    });
  });

  it('purges by retention with a signed anchor, and the trail still verifies', async () => {
    const io = capture();
    expect(await runPurgeCommand(env, { days: 365, output: io })).toBe(0);
    expect(JSON.parse(io.text())).toMatchObject({ purgedRows: 10, throughSeq: 10 });
    const json = capture();
    expect(await runVerifyCommand(env, { output: json, json: true })).toBe(0);
    expect(JSON.parse(json.text())).toMatchObject({ ok: true, firstSeq: 11 });
  });

  it('exits 1 naming the first bad row when the trail was tampered with', async () => {
    await tamper(
      t.db,
      `UPDATE audit_events SET event = replace(event, '"completion":61', '"completion":6') WHERE seq = 14`,
    );
    const io = capture();
    expect(await runVerifyCommand(env, { output: io })).toBe(1);
    expect(io.text()).toMatch(/AUDIT TRAIL TAMPERED[\s\S]*first problem at seq 14 \(row-altered\)/);
  });

  it('needs a key: verify says so, purge in HIPAA mode refuses to start', async () => {
    const noKey = { DATABASE_URL: env.DATABASE_URL, WARD_DATA_DIR: dataDir };
    const io = capture();
    expect(await runVerifyCommand(noKey, { output: io })).toBe(2);
    expect(io.text()).toMatch(/no public key/);
    await expect(runPurgeCommand({ ...noKey, HIPAA_MODE: 'true' })).rejects.toThrow(ConfigError);
  });
});
