import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Stack, sleep, startStack } from './helpers/stack.js';

const CANARY = 'CANARY-METRICS-PROMPT-4411';

/** The value of the one sample of `name` whose labels include `labels` (undefined when none). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('metrics', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      sims: [
        { models: ['mistral:7b'], numParallel: 2, genTokensPerSec: 2000, loadTimeMs: 120, defaultTokens: 20 },
      ],
    });
  });
  afterAll(() => stack?.close());

  it('records requests, queue waits, tokens, first-token time, loads and instance health without patient data or user ids', async () => {
    const token = stack.token('provider', 'dr-metrics-user');
    expect(
      (
        await call(stack, 'POST', '/api/local/process', {
          token,
          body: { modelName: 'mistral:7b', prompt: `${CANARY} one` },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call(stack, 'POST', '/api/local/process', {
          token,
          body: { modelName: 'mistral:7b', prompt: `${CANARY} two`, stream: true },
        })
      ).status,
    ).toBe(200);
    await call(stack, 'POST', '/api/local/process', { token, body: { modelName: 'mistral:7b', prompt: 1 } });
    await sleep(300);
    const text = await stack.metrics.text();
    expect(
      sample(text, 'ward_http_request_duration_seconds_count', {
        route: '/api/local/process',
        status_code: '200',
      }),
    ).toBe(2);
    expect(sample(text, 'ward_errors_total', { code: 'WARD_VALIDATION' })).toBe(1);
    expect(sample(text, 'ward_tokens_generated_total', { model: 'mistral:7b' })).toBe(40);
    expect(sample(text, 'ward_job_wait_seconds_count', { model: 'mistral:7b', instance: 'sim-0' })).toBe(2);
    expect(
      sample(text, 'ward_job_processing_seconds_count', { model: 'mistral:7b', instance: 'sim-0' }),
    ).toBe(2);
    expect(sample(text, 'ward_time_to_first_token_seconds_count', { model: 'mistral:7b' })).toBe(1);
    expect(sample(text, 'ward_model_loads_total', { model: 'mistral:7b', instance: 'sim-0' })).toBe(1);
    expect(sample(text, 'ward_instance_up', { instance: 'sim-0' })).toBe(1);
    expect(text).toContain('ward_generation_tokens_per_second_bucket');
    expect(text).not.toContain('CANARY');
    expect(text).not.toContain('dr-metrics-user');

    // Prometheus's own linter accepts the exposition (CI installs promtool with Debian's prometheus).
    const promtool = spawnSync('promtool', ['--version']);
    expect(promtool.error, 'promtool is not installed (apt-get install prometheus)').toBeUndefined();
    const file = join(mkdtempSync(join(tmpdir(), 'ward-metrics-')), 'metrics.txt');
    writeFileSync(file, text);
    const lint = spawnSync('sh', ['-c', `promtool check metrics < ${file}`], { encoding: 'utf8' });
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    expect(
      execFileSync('sh', ['-c', `grep -c '^ward_' ${file}`])
        .toString()
        .trim(),
    ).not.toBe('0');
  });

  it('reports the jobs of each model queue by state as they stand when scraped', async () => {
    const token = stack.token('provider');
    stack.sims[0]!.script({ prompt: /metrics-backlog/, tokens: 20_000 });
    // The worker runs 4 at once; the other 2 wait (every job has a priority, so BullMQ calls them prioritized).
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await call(stack, 'POST', '/api/local/process', {
        token,
        headers: { prefer: 'respond-async' },
        body: { modelName: 'mistral:7b', prompt: `metrics-backlog ${i}` },
      });
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    let text = '';
    for (let i = 0; i < 50; i++) {
      text = await stack.metrics.text();
      if (sample(text, 'ward_queue_jobs', { model: 'mistral:7b', state: 'active' }) === 4) break;
      await sleep(100);
    }
    expect(sample(text, 'ward_queue_jobs', { model: 'mistral:7b', state: 'active' })).toBe(4);
    expect(sample(text, 'ward_queue_jobs', { model: 'mistral:7b', state: 'prioritized' })).toBe(2);
    expect(sample(text, 'ward_queue_jobs', { model: 'mistral:7b', state: 'waiting' })).toBe(0);
    for (const id of ids) await call(stack, 'DELETE', `/api/jobs/${id}`, { token });
    for (let i = 0; i < 50; i++) {
      text = await stack.metrics.text();
      const queued = ['active', 'prioritized'].map((state) =>
        sample(text, 'ward_queue_jobs', { model: 'mistral:7b', state }),
      );
      if (queued.every((n) => n === 0)) break;
      await sleep(100);
    }
    expect(sample(text, 'ward_queue_jobs', { model: 'mistral:7b', state: 'active' })).toBe(0);
    expect(sample(text, 'ward_queue_jobs', { model: 'mistral:7b', state: 'prioritized' })).toBe(0);
  });
});
