import { describe, expect, it } from 'vitest';
import { serveMetrics, WardMetrics } from '../src/index.js';

describe('WardMetrics', () => {
  it('exposes every Ward metric on its own registry and serves it over HTTP', async () => {
    const m = new WardMetrics({ app: 'test' });
    m.httpDuration.observe({ route: '/api/jobs/:id', method: 'GET', status_code: '200' }, 0.01);
    m.tokensGenerated.inc({ model: 'mistral:7b' }, 12);
    const server = await serveMetrics(m, 0, '127.0.0.1');
    const { port } = server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    const text = await res.text();
    const other = await fetch(`http://127.0.0.1:${port}/other`);
    server.close();
    expect(res.status).toBe(200);
    for (const name of [
      'ward_http_request_duration_seconds_bucket',
      'ward_tokens_generated_total',
      'process_cpu_seconds_total',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toContain('route="/api/jobs/:id"');
    expect(text).toContain('app="test"');
    expect(other.status).toBe(404);
  });

  it('keeps registries apart', async () => {
    const a = new WardMetrics({ defaults: false });
    const b = new WardMetrics({ defaults: false });
    a.errors.inc({ code: 'WARD_X' });
    expect(await a.text()).toContain('WARD_X');
    expect(await b.text()).not.toContain('WARD_X');
  });

  it('reads queue depth and audit lag at scrape time, and says unknown rather than zero when it cannot', async () => {
    const m = new WardMetrics({ defaults: false });
    expect(await m.text()).not.toMatch(/^ward_audit_lag_seconds /m);
    m.reportQueues(async () => [{ model: 'mistral:7b', counts: { waiting: 3, active: 2 } }]);
    m.reportAuditBacklog(async () => 4500);
    let text = await m.text();
    expect(text).toContain('ward_queue_jobs{model="mistral:7b",state="waiting"} 3');
    expect(text).toContain('ward_queue_jobs{model="mistral:7b",state="active"} 2');
    expect(text).toContain('ward_queue_jobs{model="mistral:7b",state="failed"} 0');
    expect(text).toMatch(/^ward_audit_lag_seconds 4\.5$/m);

    // Redis failing: the queue series go, the lag is NaN (never a reassuring 0).
    m.reportQueues(() => Promise.reject(new Error('Redis down')));
    m.reportAuditBacklog(() => Promise.reject(new Error('Redis down')));
    text = await m.text();
    expect(text).not.toContain('ward_queue_jobs{');
    expect(text).toMatch(/^ward_audit_lag_seconds nan$/im);

    // Redis hanging: the scrape still answers, within the collect time limit.
    m.reportAuditBacklog(() => new Promise<number>(() => {}));
    const t0 = Date.now();
    text = await m.text();
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(text).toMatch(/^ward_audit_lag_seconds nan$/im);
  });
});
