import { randomBytes } from 'node:crypto';
import type { ProcessJobData, ProcessOutcome, ReplyMessage } from '@ward/contracts';
import { OllamaClient } from '@ward/ollama';
import { type SimHandle, startSim } from '@ward/ollama-sim';
import { Sealer } from '@ward/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTANCE_FAILED, JobFailure, processJob } from '../src/process-job.js';

const sealer = new Sealer({ currentId: 'k1', keys: new Map([['k1', randomBytes(32)]]) });

function jobData(prompt: string, over: Partial<ProcessJobData> = {}): ProcessJobData {
  return {
    v: 1,
    requestId: 'req-1',
    actor: { sub: 'dr', role: 'provider', method: 'jwt' },
    model: 'mistral:7b',
    priority: 'routine',
    deadline: Date.now() + 10_000,
    acceptedAt: Date.now(),
    replyTo: 'reply-channel',
    stream: false,
    sealed: sealer.sealJson({ prompt }),
    ...over,
  };
}

describe('processJob', () => {
  let sim: SimHandle;
  let ollama: OllamaClient;
  const published: Array<{ channel: string; message: ReplyMessage }> = [];
  const failures: string[] = [];
  const ctx = (signal = new AbortController().signal, client = () => ollama) => ({
    instanceId: 'gpu0',
    get ollama() {
      return client();
    },
    sealer,
    keepAlive: '5m',
    signal,
    publish: (channel: string, message: ReplyMessage) => published.push({ channel, message }),
    onInstanceFailure: (err: { code: string }) => failures.push(err.code),
  });

  beforeAll(async () => {
    sim = await startSim({ models: ['mistral:7b'], numParallel: 2, genTokensPerSec: 2000, defaultTokens: 8 });
    ollama = new OllamaClient({ baseUrl: sim.url });
  });
  afterAll(async () => {
    await ollama.close();
    await sim.close();
  });

  it('publishes the sealed outcome to a waiting gateway and keeps nothing of it in the job', async () => {
    sim.script({ prompt: /pj-sync/, reply: 'sealed answer text' });
    published.length = 0;
    const result = await processJob('job-1', jobData('pj-sync'), ctx());
    expect(result.sealed).toBe('');
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ channel: 'reply-channel', message: { j: 'job-1', t: 'd' } });
    const envelope = (published[0]!.message as { p: string }).p;
    expect(envelope).not.toContain('sealed answer');
    const outcome = sealer.openJson<ProcessOutcome>(envelope);
    expect(outcome).toMatchObject({ response: 'sealed answer text', instance: 'gpu0', doneReason: 'stop' });
    expect(outcome.completionTokens).toBe(3);
  });

  it('returns the sealed outcome of an async job for later reading', async () => {
    sim.script({ prompt: /pj-async/, reply: 'kept for later' });
    published.length = 0;
    const result = await processJob('job-1b', jobData('pj-async', { replyTo: null }), ctx());
    expect(published).toHaveLength(0);
    expect(result.sealed).not.toContain('kept for later');
    expect(sealer.openJson<ProcessOutcome>(result.sealed).response).toBe('kept for later');
  });

  it('streams sealed chunks to the reply channel, then the outcome', async () => {
    sim.script({ prompt: /pj-stream/, reply: 'one two three four' });
    published.length = 0;
    await processJob('job-2', jobData('pj-stream', { stream: true }), ctx());
    const chunks = published.filter((p) => p.message.t === 'c');
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    const text = chunks.map((c) => sealer.open((c.message as { p: string }).p).toString()).join('');
    expect(text).toBe('one two three four');
    expect(published.at(-1)!.message.t).toBe('d');
    expect(JSON.stringify(published)).not.toContain('three');
  });

  it('drops a job whose deadline has passed without calling Ollama', async () => {
    const before = sim.counters.requests.total;
    await expect(
      processJob('job-3', jobData('late', { deadline: Date.now() - 1 }), ctx()),
    ).rejects.toMatchObject({
      code: 'WARD_JOB_DEADLINE_EXCEEDED',
      retryable: false,
    });
    expect(sim.counters.requests.total).toBe(before);
  });

  it('aborts generation on the instance when the job is cancelled', async () => {
    sim.script({ prompt: /pj-cancel/, tokens: 5000 });
    const ctrl = new AbortController();
    const aborts = sim.counters.aborts;
    const run = processJob('job-4', jobData('pj-cancel'), ctx(ctrl.signal));
    for (let i = 0; i < 100 && sim.counters.active === 0; i++) await new Promise((r) => setTimeout(r, 10));
    ctrl.abort();
    await expect(run).rejects.toMatchObject({ code: 'WARD_JOB_CANCELLED', retryable: false });
    for (let i = 0; i < 50 && sim.counters.aborts === aborts; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(sim.counters.aborts).toBe(aborts + 1);
  });

  it('hands a job back when its instance is found failing while it runs', async () => {
    sim.script({ prompt: /pj-instance-down/, tokens: 5000 });
    const ctrl = new AbortController();
    const run = processJob('job-13', jobData('pj-instance-down'), ctx(ctrl.signal));
    for (let i = 0; i < 100 && sim.counters.active === 0; i++) await new Promise((r) => setTimeout(r, 10));
    ctrl.abort(INSTANCE_FAILED);
    await expect(run).rejects.toMatchObject({ code: 'WARD_UPSTREAM_UNAVAILABLE', retryable: true });
  });

  it('does not retry a 4xx: unknown model', async () => {
    await expect(processJob('job-5', jobData('x', { model: 'missing:1b' }), ctx())).rejects.toMatchObject({
      code: 'WARD_MODEL_NOT_FOUND',
      retryable: false,
    });
  });

  it('hands the job back (retryable) and reports the instance when Ollama is unreachable or fails', async () => {
    failures.length = 0;
    const dead = new OllamaClient({ baseUrl: 'http://127.0.0.1:1' });
    const err = await processJob(
      'job-6',
      jobData('x'),
      ctx(undefined, () => dead),
    ).catch((e: JobFailure) => e);
    expect(err).toBeInstanceOf(JobFailure);
    expect(err).toMatchObject({ code: 'WARD_UPSTREAM_UNAVAILABLE', retryable: true });
    expect(failures).toEqual(['WARD_OLLAMA_UNREACHABLE']);
    await dead.close();

    sim.script({ prompt: /pj-500/, error: { status: 500, message: 'llama runner crashed' }, once: true });
    const err500 = await processJob('job-7', jobData('pj-500'), ctx()).catch((e: JobFailure) => e);
    expect(err500).toMatchObject({ code: 'WARD_UPSTREAM_UNAVAILABLE', retryable: true });
  });

  it('waits for a whole answer until the deadline, not the silence limit, and bounds a streamed silence', async () => {
    // A 500 ms silence limit (undici enforces it within about a second); the sim answers after 1.8 s.
    const impatient = new OllamaClient({ baseUrl: sim.url, headersTimeoutMs: 500, bodyTimeoutMs: 500 });
    failures.length = 0;
    published.length = 0;
    sim.script({ prompt: /pj-slow-whole/, reply: 'worth the wait', delayMs: 1800 });
    await processJob(
      'job-9',
      jobData('pj-slow-whole'),
      ctx(undefined, () => impatient),
    );
    const outcome = sealer.openJson<ProcessOutcome>((published[0]!.message as { p: string }).p);
    expect(outcome.response).toBe('worth the wait');
    expect(failures).toEqual([]);

    // Streamed, the same silence is an instance that stopped answering.
    sim.script({ prompt: /pj-slow-stream/, reply: 'too late', delayMs: 1800 });
    const err = await processJob(
      'job-10',
      jobData('pj-slow-stream', { stream: true }),
      ctx(undefined, () => impatient),
    ).catch((e: JobFailure) => e);
    expect(err).toMatchObject({ code: 'WARD_UPSTREAM_UNAVAILABLE', retryable: true });
    expect(failures).toEqual(['WARD_OLLAMA_TIMEOUT']);

    // A whole answer that outlasts the deadline is stopped by it.
    sim.script({ prompt: /pj-past-deadline/, reply: 'never', delayMs: 1800 });
    const late = await processJob(
      'job-11',
      jobData('pj-past-deadline', { deadline: Date.now() + 600 }),
      ctx(undefined, () => impatient),
    ).catch((e: JobFailure) => e);
    expect(late).toMatchObject({ code: 'WARD_JOB_DEADLINE_EXCEEDED', retryable: false });
    await impatient.close();
  }, 15_000);

  it('hands a job refused as busy back without reporting the instance as failed', async () => {
    failures.length = 0;
    sim.script({
      prompt: /pj-busy/,
      error: { status: 503, message: 'server busy, please try again.  maximum pending requests exceeded' },
      once: true,
    });
    const err = await processJob('job-12', jobData('pj-busy'), ctx()).catch((e: JobFailure) => e);
    expect(err).toMatchObject({ code: 'WARD_UPSTREAM_BUSY', retryable: true });
    expect(failures).toEqual([]);
  });

  it('does not replay a stream that already reached the client', async () => {
    sim.script({
      prompt: /pj-midstream/,
      tokens: 20,
      error: { status: 500, message: 'boom', afterTokens: 5 },
    });
    published.length = 0;
    const err = await processJob('job-8', jobData('pj-midstream', { stream: true }), ctx()).catch(
      (e: JobFailure) => e,
    );
    expect(published.filter((p) => p.message.t === 'c').length).toBeGreaterThan(0);
    expect(err).toMatchObject({ retryable: false });
  });
});
