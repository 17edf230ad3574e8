import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Icd10CodeSet, importIcd10Order } from '@ward/clinical';
import { migrate } from '@ward/db';
import { openTestDatabase, type TestDatabase } from '@ward/db/testing';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, PNG_1x1, type Stack, sleep, startStack } from './helpers/stack.js';

const ICD10_FILE = fileURLToPath(
  new URL('../../../../shared/data/icd10cm/icd10cm_order_2026.txt', import.meta.url),
);

describe('clinical tasks through the gateway, checked against reference data', () => {
  let stack: Stack;
  let tdb: TestDatabase;
  let token: string;

  beforeAll(async () => {
    tdb = await openTestDatabase('postgres');
    await migrate(tdb.db);
    await importIcd10Order(tdb.db, ICD10_FILE);
    const set = new Icd10CodeSet();
    await set.load(tdb.db);
    stack = await startStack({
      sims: [{ models: ['mistral:7b', 'llava:7b'], numParallel: 4, latency: 'none' }],
      services: {
        icd10: {
          lookup: (c) => set.lookup(c),
          isValidFormat: (c) => set.isValidFormat(c),
          childrenOf: (c, n) => set.childrenOf(c, n),
          search: (text, limit) => set.search(tdb.db, text, limit),
          fiscalYear: set.fiscalYear!,
        },
      },
    });
    token = stack.token('provider');
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await tdb?.dispose();
  });

  it('soap-note: the guide scenario, with vitals extracted and a missing section reported', async () => {
    const encounterText =
      '65-year-old man with chest pain for two hours, radiating to the left arm. BP 150/95, HR 88.';
    stack.sims[0]!.script({
      prompt: /65-year-old man/,
      reply: JSON.stringify({
        subjective: '65-year-old man with two hours of chest pain radiating to the left arm.',
        objective: 'BP 150/95 mmHg, HR 88 bpm.',
        assessment: 'Chest pain, rule out acute coronary syndrome.',
        plan: '',
        vitals: [
          { name: 'systolic_bp', value: 150, unit: 'mmHg' },
          { name: 'diastolic_bp', value: 95, unit: 'mmHg' },
          { name: 'heart_rate', value: 88, unit: '/min' },
        ],
      }),
      once: true,
    });
    const res = await call(stack, 'POST', '/api/tasks/soap-note', { token, body: { encounterText } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      task: 'soap-note',
      model: 'mistral:7b',
      instance: 'sim-0',
      valid: false,
    });
    expect(res.body.findings.map((f: any) => f.code)).toContain('SOAP_SECTION_MISSING');
    expect(res.body.findings.find((f: any) => f.code === 'SOAP_SECTION_MISSING').path).toBe('plan');
    const vitals = Object.fromEntries(res.body.output.vitals.map((v: any) => [v.name, v.value]));
    expect(vitals).toMatchObject({ systolic_bp: 150, diastolic_bp: 95, heart_rate: 88 });
    expect(res.body.notice).toMatch(/clinician/);
    expect(res.body.rendering).toContain('Assessment');
    // The task's output schema went to Ollama as `format`, at temperature 0.
    const seen = stack.sims[0]!.counters.log.at(-1)!;
    expect((seen.format as any).required).toEqual(
      expect.arrayContaining(['subjective', 'objective', 'assessment', 'plan']),
    );
    expect(seen.options).toMatchObject({ temperature: 0 });
  });

  it('icd10-coding: real codes kept with the code set description; invented codes removed; a category gets billable suggestions', async () => {
    const text = 'Patient with essential hypertension and type 2 diabetes mellitus without complications.';
    // The scripted reply only fires when retrieval put the real codes in the prompt.
    stack.sims[0]!.script({
      prompt: /I10 — Essential \(primary\) hypertension[\s\S]*E11\.9/,
      reply: JSON.stringify({
        candidates: [
          {
            code: 'I10',
            description: 'high blood pressure',
            evidence: 'essential hypertension',
            confidence: 0.95,
          },
          {
            code: 'E119',
            description: 'diabetes',
            evidence: 'type 2 diabetes mellitus without complications',
            confidence: 0.9,
          },
          { code: 'E11.99X', description: 'made up', evidence: 'diabetes', confidence: 0.5 },
          { code: 'E11', description: 'diabetes category', evidence: 'type 2 diabetes', confidence: 0.6 },
          { code: 'I10', description: 'duplicate', evidence: 'renal failure', confidence: 0.2 },
          { code: 'not a code', description: 'x', evidence: 'x', confidence: 2 },
        ],
      }),
      once: true,
    });
    const res = await call(stack, 'POST', '/api/tasks/icd10-coding', { token, body: { text } });
    expect(res.status).toBe(200);
    const codes = res.body.output.codes;
    expect(codes.map((c: any) => c.code)).toEqual(['I10', 'E11.9', 'E11']);
    expect(codes[0]).toMatchObject({
      billable: true,
      description: 'Essential (primary) hypertension',
      evidenceFound: true,
    });
    expect(codes[1]).toMatchObject({
      billable: true,
      description: 'Type 2 diabetes mellitus without complications',
    });
    expect(codes[2].billable).toBe(false);
    expect(codes[2].suggestions.map((s: any) => s.code)).toContain('E11.9');
    expect(res.body.output.rejected).toEqual([
      { code: 'E11.99X', reason: 'unknown' },
      { code: 'NOT A CODE', reason: 'malformed' },
    ]);
    const found = res.body.findings.map((f: any) => f.code);
    expect(found).toEqual(
      expect.arrayContaining(['ICD10_CODE_UNKNOWN', 'ICD10_CODE_MALFORMED', 'ICD10_CODE_NOT_BILLABLE']),
    );
    expect(res.body.valid).toBe(false);
    expect(JSON.stringify(res.body.output.codes)).not.toContain('E11.99X');
    expect(res.body.output.codeSetYear).toBe(2026);
  });

  it('drug-interactions: warfarin with aspirin is reported even when the model misses it', async () => {
    stack.sims[0]!.script({ prompt: /warfarin/i, reply: JSON.stringify({ interactions: [] }), once: true });
    const res = await call(stack, 'POST', '/api/tasks/drug-interactions', {
      token,
      body: { medications: 'warfarin 5 mg daily, aspirin 81 mg daily' },
    });
    expect(res.status).toBe(200);
    const pair = res.body.output.interactions.find(
      (i: any) => i.drugs.includes('warfarin') && i.drugs.includes('aspirin'),
    );
    expect(pair).toBeDefined();
    expect(pair.source).toMatch(/^ward-curated/);
    expect(['major', 'contraindicated']).toContain(pair.severity);
    expect(res.body.findings.map((f: any) => f.code)).toContain('DDI_CURATED_MISSING_FROM_MODEL');
  });

  it('image-findings: a PNG goes to the vision model; a PDF is refused with 415 naming the field', async () => {
    stack.sims[0]!.script({
      model: 'llava:7b',
      reply: JSON.stringify({
        findings: [{ description: 'No focal consolidation.' }],
        impression: 'Normal chest radiograph.',
        imageQuality: { adequate: true, notes: '' },
      }),
      once: true,
    });
    const image = new PNG({ width: 64, height: 64 });
    for (let i = 0; i < image.data.length; i += 4)
      image.data.fill(i % 7 === 0 ? 200 : 90, i, i + 3).fill(255, i + 3, i + 4);
    const png = await call(stack, 'POST', '/api/tasks/image-findings', {
      token,
      body: { imageBase64: PNG.sync.write(image).toString('base64'), clinicalQuestion: 'pneumonia?' },
    });
    expect(png.status).toBe(200);
    expect(png.body.model).toBe('llava:7b');
    expect(png.body.output.impression).toBe('Normal chest radiograph.');
    expect(stack.sims[0]!.counters.log.filter((l) => l.model === 'llava:7b').at(-1)!.hasImages).toBe(true);
    const tiny = await call(stack, 'POST', '/api/tasks/image-findings', {
      token,
      body: { imageBase64: PNG_1x1 },
    });
    expect(tiny.status).toBe(422);
    expect(tiny.body.field).toBe('imageBase64');
    const pdf = await call(stack, 'POST', '/api/tasks/image-findings', {
      token,
      body: { imageBase64: Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\n%%EOF').toString('base64') },
    });
    expect(pdf.status).toBe(415);
    expect(pdf.body.field).toBe('imageBase64');
  });

  it('streams a task: model tokens as NDJSON, then the checked result on the last line', async () => {
    stack.sims[0]!.script({
      prompt: /simvastatin/i,
      reply: JSON.stringify({ interactions: [] }),
      once: true,
    });
    const res = await call(stack, 'POST', '/api/tasks/drug-interactions', {
      token,
      body: { medications: 'simvastatin 40 mg, clarithromycin 500 mg', stream: true },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = String(res.body)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => !l.done).length).toBeGreaterThan(0);
    const last = lines.at(-1);
    expect(last.done).toBe(true);
    expect(last.result.task).toBe('drug-interactions');
    expect(last.result.output.interactions.some((i: any) => i.source.startsWith('ward-curated'))).toBe(true);
  });

  it('runs a task asynchronously and shows the checked result on the job', async () => {
    stack.sims[0]!.script({
      prompt: /clopidogrel/i,
      reply: JSON.stringify({ interactions: [] }),
      once: true,
    });
    const res = await call(stack, 'POST', '/api/tasks/drug-interactions', {
      token,
      headers: { prefer: 'respond-async' },
      body: { medications: [{ name: 'Coumadin' }, { name: 'clopidogrel' }] },
    });
    expect(res.status).toBe(202);
    let view: any;
    for (let i = 0; i < 100; i++) {
      view = (await call(stack, 'GET', `/api/jobs/${res.body.id}`, { token })).body;
      if (view.state === 'completed') break;
      await sleep(20);
    }
    expect(view.state).toBe('completed');
    expect(view.taskResult.task).toBe('drug-interactions');
    expect(view.taskResult.output.interactions[0].source).toMatch(/^ward-curated/);
  });

  it('hl7-to-fhir: converts without a model, refuses malformed messages naming segment and field, adds a narrative on request', async () => {
    const adt = readFileSync(
      fileURLToPath(new URL('../../../../shared/fixtures/hl7v2/ADT-A01-01.hl7', import.meta.url)),
      'utf8',
    );
    const generations = () => stack.sims[0]!.counters.requests.byEndpoint['/api/generate'] ?? 0;
    const before = generations();
    const res = await call(stack, 'POST', '/api/tasks/hl7-to-fhir', { token, body: { message: adt } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ task: 'hl7-to-fhir', model: null, instance: null });
    expect(res.body.output.resourceType).toBe('Bundle');
    const types = res.body.output.entry.map((e: any) => e.resource.resourceType);
    expect(types).toEqual(expect.arrayContaining(['Patient', 'Encounter']));
    expect(res.body.findings.filter((f: any) => f.severity === 'error')).toEqual([]);
    expect(generations()).toBe(before);

    const broken = adt.replace(/\nPID\|([^|]*\|){6}[^|]*/, (m) => m.replace(/\|[^|]*$/, '|19XX-13-45'));
    const bad = await call(stack, 'POST', '/api/tasks/hl7-to-fhir', { token, body: { message: broken } });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('message');
    expect(bad.body.message).toContain('PID-7');
    const noMsh = await call(stack, 'POST', '/api/tasks/hl7-to-fhir', {
      token,
      body: { message: 'PID|1||123' },
    });
    expect(noMsh.status).toBe(400);
    expect(noMsh.body.message).toContain('MSH');

    stack.sims[0]!.script({
      prompt: /Summarise this FHIR R4 Bundle/,
      reply: 'Adult patient admitted as an inpatient.',
      once: true,
    });
    const withNarrative = await call(stack, 'POST', '/api/tasks/hl7-to-fhir', {
      token,
      body: { message: adt, narrative: true },
    });
    expect(withNarrative.status).toBe(200);
    expect(withNarrative.body.narrative).toMatchObject({
      text: 'Adult patient admitted as an inpatient.',
      model: 'mistral:7b',
      instance: 'sim-0',
    });
  });

  it('validates task input and names the field', async () => {
    const res = await call(stack, 'POST', '/api/tasks/icd10-coding', { token, body: { text: '' } });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('text');
    const staff = await call(stack, 'POST', '/api/tasks/soap-note', {
      token: stack.token('staff'),
      body: { encounterText: 'x' },
    });
    expect(staff.status).toBe(403);
  });
});
