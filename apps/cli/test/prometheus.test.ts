// A real Prometheus (Debian's `prometheus` package) scraping a running Ward laid out as in
// docker-compose.yml (`ward start --target gateway|worker|audit`, each with its metrics port, the
// Ollama sim in place of Ollama), with Ward's alert rules loaded. Every PromQL expression of the
// Grafana dashboards and the alert rules is then evaluated by that Prometheus against what it
// scraped: each must evaluate, each rule must be healthy, and every metric the dashboards read
// must have series.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '@ward/db/testing';
import { mintToken } from '@ward/gateway';
import { type SimHandle, startSim } from '@ward/ollama-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertExprs, queries, repo, WARD_LABELS, withoutGrafanaVariables } from './helpers/monitoring.js';
import { freePort, type Proc, removeTestState, startProc, stopProc, which } from './helpers/procs.js';
import { CLI, REDIS_URL, sleep } from './helpers/stack.js';

const PROMETHEUS = which('prometheus');
const CANARY = 'CANARY-PROMETHEUS-PROMPT-5523';
if (!PROMETHEUS && !process.env.CI)
  console.warn('prometheus.test: prometheus is not installed, skipping (apt-get install -y prometheus)');
// CI must not skip: a missing prometheus fails there (beforeAll says so).
const describeProm = PROMETHEUS || process.env.CI ? describe : describe.skip;

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

describeProm('a real Prometheus scraping a running Ward', () => {
  const prefix = `test-${randomUUID()}`;
  const secret = randomBytes(32).toString('base64url');
  let cwd = '';
  let tdb: TestDatabase | undefined;
  let sim: SimHandle | undefined;
  const procs: Proc[] = [];
  let prom: Proc | undefined;
  let promUrl = '';
  let gatewayUrl = '';

  async function query(expr: string): Promise<{ status: string; error?: string; result: PromResult[] }> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: PromResult[] } };
    return { status: body.status, ...(body.error && { error: body.error }), result: body.data?.result ?? [] };
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      await sleep(200);
    }
    throw new Error(`${what} within ${ms} ms\n${procs.flatMap((p) => p.lines.slice(-5)).join('\n')}`);
  }

  beforeAll(async () => {
    if (!PROMETHEUS)
      throw new Error('prometheus is not installed (CI installs it: apt-get install -y prometheus)');
    cwd = mkdtempSync(join(tmpdir(), 'ward-prometheus-'));
    tdb = await openTestDatabase('postgres');
    sim = await startSim({ models: ['mistral:7b'], numParallel: 2, loadTimeMs: 50, genTokensPerSec: 400 });
    const [port, gatewayMetrics, workerMetrics, auditPort, auditMetrics, promPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const env = {
      PATH: process.env.PATH!,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      JWT_SECRET: secret,
      WARD_DATA_KEY: randomBytes(32).toString('base64'),
      WARD_INTERNAL_TOKEN: randomBytes(32).toString('base64url'),
      DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${tdb.schema}`)}`,
      WARD_DATA_DIR: cwd,
      LOG_LEVEL: 'warn',
      HEARTBEAT_INTERVAL_MS: '200',
      METRICS_HOST: '127.0.0.1',
    };
    const start = (target: string, extra: Record<string, string>) => {
      const p = startProc(process.execPath, [CLI, 'start', '--target', target], {
        cwd,
        env: { ...env, ...extra },
      });
      procs.push(p);
    };
    start('audit', {
      AUDIT_PORT: String(auditPort),
      AUDIT_HOST: '127.0.0.1',
      METRICS_PORT: String(auditMetrics),
    });
    start('gateway', {
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: String(gatewayMetrics),
      AUDIT_URL: `http://127.0.0.1:${auditPort}`,
    });
    start('worker', {
      OLLAMA_URL: sim.url,
      WORKER_INSTANCE_ID: 'gpu0',
      OLLAMA_NUM_PARALLEL: '2',
      METRICS_PORT: String(workerMetrics),
    });
    gatewayUrl = `http://127.0.0.1:${port}`;

    // deploy/prometheus/prometheus.yml's jobs and target labels, at the test's addresses and a 1 s scrape.
    const target = (job: string, service: string, metricsPort: number) =>
      `  - job_name: ${job}\n    honor_labels: true\n    static_configs:\n` +
      `      - targets: ["127.0.0.1:${metricsPort}"]\n        labels: { service: ${service} }\n` +
      '    relabel_configs:\n      - source_labels: [service]\n        target_label: instance\n';
    writeFileSync(
      join(cwd, 'prometheus.yml'),
      'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n' +
        `rule_files:\n  - ${JSON.stringify(repo('deploy/prometheus/alerts.yml'))}\n` +
        'scrape_configs:\n' +
        target('ward-gateway', 'gateway-1', gatewayMetrics) +
        target('ward-worker', 'worker-0', workerMetrics) +
        target('ward-audit', 'audit', auditMetrics),
    );
    prom = startProc(
      PROMETHEUS,
      [
        `--config.file=${join(cwd, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(cwd, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { cwd, env: { PATH: process.env.PATH! } },
    );
    promUrl = `http://127.0.0.1:${promPort}`;

    await until('Ward is not ready', async () =>
      (await fetch(`${gatewayUrl}/health/ready`)).ok ? true : undefined,
    );
    await until('Prometheus is not ready', async () =>
      (await fetch(`${promUrl}/-/ready`)).ok ? true : undefined,
    );

    // Traffic that feeds every family of metric: answers (a model load, tokens, waits), a stream
    // (time to first token), a refused request (an error code) and the audit events of them all.
    const token = mintToken({
      sub: 'dr-prom',
      role: 'provider',
      ttl: '15m',
      issuer: 'ward',
      audience: 'ward',
      key: secret,
    });
    const post = (body: unknown) =>
      fetch(`${gatewayUrl}/api/local/process`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (let i = 0; i < 3; i++)
      expect((await post({ modelName: 'mistral:7b', prompt: `${CANARY} ${i}` })).status).toBe(200);
    const streamed = await post({ modelName: 'mistral:7b', prompt: CANARY, stream: true });
    expect(streamed.status).toBe(200);
    await streamed.text();
    expect((await post({ modelName: 'mistral:7b', prompt: 42 })).status).toBe(400);
    // An auditor's read goes through the gateway to the audit service's own API.
    const auditor = mintToken({
      sub: 'ann-prom',
      role: 'auditor',
      ttl: '15m',
      issuer: 'ward',
      audience: 'ward',
      key: secret,
    });
    const read = await fetch(`${gatewayUrl}/api/audit/events?limit=1`, {
      headers: { authorization: `Bearer ${auditor}` },
    });
    expect(read.status).toBe(200);

    // Rates need two scrapes after the traffic, and the audit consumer must have written it.
    await until('the audit events were not scraped', async () => {
      const r = await query('sum(ward_audit_events_written_total)');
      return Number(r.result[0]?.value[1] ?? 0) >= 5 ? true : undefined;
    });
    await sleep(2500);
  }, 60_000);

  afterAll(async () => {
    await stopProc(prom, 'SIGKILL');
    await Promise.all(procs.map((p) => stopProc(p, 'SIGKILL')));
    await removeTestState({ sim, prefix, tdb, dir: cwd });
  });

  it('scrapes the gateway, the worker and the audit service', async () => {
    const up = await query('up');
    const byJob = Object.fromEntries(up.result.map((r) => [r.metric.job, r.value[1]]));
    expect(byJob).toEqual({ 'ward-gateway': '1', 'ward-worker': '1', 'ward-audit': '1' });
  });

  it('has series for every metric of the contract, with no patient data or user id in them', async () => {
    const missing: string[] = [];
    for (const name of Object.keys(WARD_LABELS)) {
      const { result } = await query(`{__name__=~"${name}(_count)?"}`);
      if (result.length === 0) missing.push(name);
    }
    expect(missing).toEqual([]);
    const queue = await query('ward_queue_jobs{model="mistral:7b"}');
    expect(queue.result.map((r) => r.metric.state).sort()).toEqual([
      'active',
      'delayed',
      'failed',
      'prioritized',
      'waiting',
    ]);
    // Every process times its own HTTP API.
    const http = await query('sum by (job) (ward_http_request_duration_seconds_count)');
    expect(http.result.map((r) => r.metric.job).sort()).toEqual(['ward-audit', 'ward-gateway']);
    const all = JSON.stringify((await query('{__name__=~"ward_.+"}')).result);
    expect(all).not.toContain('CANARY');
    expect(all).not.toContain('dr-prom');
    expect(all).not.toContain('ann-prom');
  });

  it('evaluates every dashboard query to data, and no alert expression fires on a healthy Ward', async () => {
    const failures: string[] = [];
    const empty: string[] = [];
    const firing: string[] = [];
    for (const { where, expr } of queries) {
      const r = await query(withoutGrafanaVariables(expr));
      if (r.status !== 'success') failures.push(`${where}: ${expr}: ${r.error}`);
      // Only panels of failures (5xx answers, audit errors) stay empty while nothing fails.
      else if (r.result.length === 0 && !/status_code=~"5\.\."|code=~"WARD_AUDIT/.test(expr))
        empty.push(`${where}: ${expr}`);
    }
    for (const expr of alertExprs) {
      const r = await query(expr);
      if (r.status !== 'success') failures.push(`alerts.yml: ${expr}: ${r.error}`);
      else if (r.result.length > 0) firing.push(expr);
    }
    expect(failures).toEqual([]);
    expect(empty).toEqual([]);
    expect(firing).toEqual([]);
  });

  it('loads every alert rule and evaluates it without error', async () => {
    const res = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
      data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> };
    };
    const rules = res.data.groups.flatMap((g) => g.rules);
    expect(rules.length).toBe(alertExprs.length);
    const unhealthy = rules
      .filter((r) => r.health !== 'ok')
      .map((r) => `${r.name}: ${r.health} ${r.lastError}`);
    expect(unhealthy).toEqual([]);
  });
});
