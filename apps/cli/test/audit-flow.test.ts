import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Stack, sleep, startStack } from './helpers/stack.js';

const PROMPT = 'CANARY-AUDIT-PROMPT-99 Jane Roe MRN 777';
const ANSWER = 'CANARY-AUDIT-ANSWER-42';

describe('the audit trail records every access through the gateway', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      sims: [{ models: ['mistral:7b'], numParallel: 2, genTokensPerSec: 2000, defaultTokens: 10 }],
      audit: true,
    });
    stack.sims[0]!.script({ prompt: /CANARY-AUDIT-PROMPT/, reply: ANSWER });
  }, 60_000);
  afterAll(() => stack?.close());

  async function events(token: string, query: string, want: (list: any[]) => boolean): Promise<any[]> {
    let list: any[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await call(stack, 'GET', `/api/audit/events?${query}`, { token });
      list = (res.body.events ?? []).map((s: any) => s.event);
      if (res.status === 200 && want(list)) return list;
      await sleep(100);
    }
    return list;
  }

  it('requested, started and completed with digests, a cancellation, a denial — and never the content', async () => {
    const provider = stack.token('provider', 'dr-audit');
    const res = await call(stack, 'POST', '/api/local/process', {
      token: provider,
      body: { modelName: 'mistral:7b', prompt: PROMPT },
    });
    expect(res.status).toBe(200);
    const jobId = res.body.id;

    stack.sims[0]!.script({ prompt: /long-one/, tokens: 5000 });
    const accepted = await call(stack, 'POST', '/api/local/process', {
      token: provider,
      headers: { prefer: 'respond-async' },
      body: { modelName: 'mistral:7b', prompt: 'long-one' },
    });
    await sleep(200);
    expect((await call(stack, 'DELETE', `/api/jobs/${accepted.body.id}`, { token: provider })).status).toBe(
      202,
    );
    expect((await call(stack, 'GET', '/api/audit/events', { token: provider })).status).toBe(403);

    const auditor = stack.token('auditor', 'compliance-1');
    const mine = await events(auditor, `jobId=${encodeURIComponent(jobId)}`, (l) => l.length >= 3);
    const byAction = Object.fromEntries(mine.map((e) => [e.action, e]));
    expect(Object.keys(byAction).sort()).toEqual([
      'process.completed',
      'process.requested',
      'process.started',
    ]);
    expect(byAction['process.requested'].actor).toMatchObject({
      sub: 'dr-audit',
      role: 'provider',
      method: 'jwt',
    });
    expect(byAction['process.requested'].digests.prompt).toBe(
      createHash('sha256').update(`\n${PROMPT}`).digest('hex'),
    );
    expect(byAction['process.completed'].digests.output).toBe(
      createHash('sha256').update(ANSWER).digest('hex'),
    );
    expect(byAction['process.completed'].tokens.completion).toBeGreaterThan(0);
    expect(byAction['process.completed'].resource).toMatchObject({ model: 'mistral:7b', instance: 'sim-0' });

    const cancelled = await events(auditor, `jobId=${encodeURIComponent(accepted.body.id)}`, (l) =>
      l.some((e) => e.action === 'process.cancelled'),
    );
    expect(cancelled.map((e) => e.action)).toContain('process.cancelled');
    const denied = await events(auditor, 'action=access.denied', (l) =>
      l.some((e) => e.actor?.sub === 'dr-audit'),
    );
    expect(denied.some((e) => e.actor?.sub === 'dr-audit' && e.outcome === 'denied')).toBe(true);

    const exported = await call(stack, 'GET', '/api/audit/export?format=ndjson', { token: auditor });
    expect(exported.status).toBe(200);
    const text = typeof exported.body === 'string' ? exported.body : JSON.stringify(exported.body);
    expect(text).toContain(jobId);
    for (const canary of ['CANARY-AUDIT', 'Jane Roe']) expect(text).not.toContain(canary);

    const metrics = await stack.metrics.text();
    expect(metrics).toMatch(/ward_audit_events_written_total\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/ward_audit_lag_seconds\{[^}]*\} \d/);

    const verify = await call(stack, 'GET', '/api/audit/verify', { token: auditor });
    expect(verify.status).toBe(200);
    expect(verify.body.ok).toBe(true);
    expect(verify.body.rows).toBeGreaterThan(5);
  }, 60_000);
});
