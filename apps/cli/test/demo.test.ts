import { fileURLToPath } from 'node:url';
import { importIcd10Order } from '@ward/clinical';
import { migrate } from '@ward/db';
import { openTestDatabase, type TestDatabase } from '@ward/db/testing';
import { type SimHandle, startSim } from '@ward/ollama-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../src/demo.js';
import { REDIS_URL } from './helpers/stack.js';

const ICD10_FILE = fileURLToPath(
  new URL('../../../../shared/data/icd10cm/icd10cm_order_2026.txt', import.meta.url),
);

describe('pnpm demo: the guide scenarios against the sim', () => {
  let sim: SimHandle;
  let tdb: TestDatabase;
  beforeAll(async () => {
    sim = await startSim({ models: ['mistral:7b', 'llava:7b'], numParallel: 4, latency: 'none' });
    tdb = await openTestDatabase('postgres');
    await migrate(tdb.db);
    await importIcd10Order(tdb.db, ICD10_FILE);
  }, 60_000);
  afterAll(async () => {
    await sim?.close();
    await tdb?.dispose();
  });

  it('runs all four scenarios end to end and checks their answers', async () => {
    // The sim stands in for a model that codes correctly (when retrieval offered the real codes)…
    sim.script({
      prompt: /I10 — Essential \(primary\) hypertension[\s\S]*E11\.9 — /,
      reply: JSON.stringify({
        candidates: [
          { code: 'I10', description: 'HTN', evidence: 'Essential hypertension', confidence: 0.9 },
          {
            code: 'E11.9',
            description: 'T2DM',
            evidence: 'Type 2 diabetes mellitus without complications',
            confidence: 0.9,
          },
        ],
      }),
    });
    // …and misses the interaction, which the curated table must still report.
    sim.script({ prompt: /warfarin/i, reply: JSON.stringify({ interactions: [] }) });

    const results = await runDemo({
      env: { REDIS_URL, OLLAMA_URL: sim.url, LOG_LEVEL: 'silent' },
      db: tdb.db,
      print: false,
    });
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const [soap, icd, ddi, cxr] = results as [any, any, any, any];
    const vitals = Object.fromEntries(soap.body.output.vitals.map((v: any) => [v.name, v.value]));
    expect(vitals).toMatchObject({ systolic_bp: 150, diastolic_bp: 95, heart_rate: 88 });
    expect(icd.body.output.codes.map((c: any) => c.code)).toEqual(['I10', 'E11.9']);
    expect(icd.body.valid).toBe(true);
    expect(
      ddi.body.output.interactions.some(
        (i: any) => i.drugs.includes('warfarin') && i.drugs.includes('aspirin'),
      ),
    ).toBe(true);
    expect(cxr.body.model).toBe('llava:7b');
    expect(sim.counters.log.some((l) => l.model === 'llava:7b' && l.hasImages)).toBe(true);
  }, 60_000);
});
