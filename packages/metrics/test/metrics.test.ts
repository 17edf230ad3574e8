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
});
