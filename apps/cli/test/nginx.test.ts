// The real nginx with Ward's configuration (nginx/nginx.conf and nginx/ward/ as they are; the
// nginx/site/ files with the test's ports) in front of two `ward start --target gateway`
// processes, a `--target worker` process and the Ollama sim; then in front of gateways that fail
// on purpose, to pin which requests nginx may send to another gateway.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '@ward/db/testing';
import { mintToken } from '@ward/gateway';
import { type SimHandle, startSim } from '@ward/ollama-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type Proc, removeTestState, startProc, stopProc, which } from './helpers/procs.js';
import { CLI, REDIS_URL, sleep } from './helpers/stack.js';

const run = promisify(execFile);
const NGINX = which('nginx');
if (!NGINX && !process.env.CI)
  console.warn('nginx.test: nginx is not installed, skipping (apt-get install -y nginx-light)');
// CI must not skip: a missing nginx fails there (the first test says so).
const describeNginx = NGINX || process.env.CI ? describe : describe.skip;
const NGINX_DIR = fileURLToPath(new URL('../../../nginx/', import.meta.url));

/**
 * nginx running Ward's configuration as the container does: the configuration in one directory
 * (`conf/`, read-only in the container), pid and temp files under a separate prefix.
 */
class Nginx {
  root = '';
  dir = '';
  prefix = '';
  httpPort = 0;
  httpsPort = 0;
  proc: Proc | undefined;
  ca = '';

  /**
   * Lays out nginx.conf (copied), ward/ (the repository's directory itself), certs/ from
   * gen-dev-cert.sh and site/ from the repository's site files with local addresses.
   */
  async start(upstreamPorts: number[], docs: 'on' | 'off' = 'off'): Promise<void> {
    this.root = mkdtempSync(join(tmpdir(), 'ward-nginx-'));
    this.dir = join(this.root, 'conf');
    this.prefix = join(this.root, 'prefix');
    // Workers drop root privileges and still need the temp directories under the prefix.
    chmodSync(this.root, 0o755);
    mkdirSync(this.dir);
    mkdirSync(this.prefix);
    copyFileSync(join(NGINX_DIR, 'nginx.conf'), join(this.dir, 'nginx.conf'));
    symlinkSync(join(NGINX_DIR, 'ward'), join(this.dir, 'ward'));
    await run('sh', [join(NGINX_DIR, 'gen-dev-cert.sh'), join(this.dir, 'certs')]);
    this.ca = readFileSync(join(this.dir, 'certs/tls.crt'), 'utf8');
    [this.httpPort, this.httpsPort] = [await freePort(), await freePort()];
    mkdirSync(join(this.dir, 'site'));
    const site = (file: string) => readFileSync(join(NGINX_DIR, 'site', file), 'utf8');
    const servers = site('upstream.conf')
      .split('\n')
      .filter((l) => /^server\s/.test(l));
    expect(servers).toHaveLength(upstreamPorts.length);
    writeFileSync(
      join(this.dir, 'site/upstream.conf'),
      // Same parameters; local addresses instead of the compose names (and no `resolve`, which
      // needs DNS and nginx >= 1.27.3).
      servers
        .map((l, i) =>
          l.replace(/^server\s+\S+/, `server 127.0.0.1:${upstreamPorts[i]}`).replace(/\s+resolve\b/, ''),
        )
        .join('\n'),
    );
    writeFileSync(
      join(this.dir, 'site/listen-http.conf'),
      site('listen-http.conf').replace(/listen\s+\d+;/, `listen 127.0.0.1:${this.httpPort};`),
    );
    writeFileSync(
      join(this.dir, 'site/listen-https.conf'),
      site('listen-https.conf').replace(/listen\s+\d+\s+ssl;/, `listen 127.0.0.1:${this.httpsPort} ssl;`),
    );
    this.setDocs(docs);
    // The access log goes to /dev/stdout, which nginx opens by name: a file works, a socket
    // (what spawn's 'pipe' is) does not.
    const stdout = openSync(join(this.root, 'stdout.log'), 'a');
    this.proc = startProc(NGINX!, [...this.args(), '-g', 'daemon off;'], {
      cwd: this.root,
      env: { PATH: process.env.PATH! },
      stdout,
    });
    closeSync(stdout);
    for (let i = 0; i < 100; i++) {
      const ok = await plain(this.httpPort, '/healthz').then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return;
      if (this.proc.child.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`nginx did not start:\n${this.proc.lines.join('\n')}`);
  }

  setDocs(docs: 'on' | 'off'): void {
    const text = readFileSync(join(NGINX_DIR, 'site/docs.conf'), 'utf8');
    writeFileSync(
      join(this.dir, 'site/docs.conf'),
      text.replace(/set \$ward_docs \w+;/, `set $ward_docs ${docs};`),
    );
  }

  private args(): string[] {
    return ['-p', `${this.prefix}/`, '-c', join(this.dir, 'nginx.conf')];
  }

  async reload(): Promise<void> {
    await run(NGINX!, [...this.args(), '-s', 'reload']);
  }

  /** Access-log lines (nginx's stdout). */
  get logLines(): string[] {
    const file = join(this.root, 'stdout.log');
    return this.root && existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  }

  /** Access-log entries. */
  get log(): Array<Record<string, any>> {
    return this.logLines.map((l) => JSON.parse(l));
  }

  /** The access-log entry of a request (nginx writes it just after the response). */
  async entry(requestId: string): Promise<Record<string, any> | undefined> {
    for (let i = 0; i < 40; i++) {
      const e = this.log.find((x) => x.request_id === requestId);
      if (e) return e;
      await sleep(25);
    }
    return undefined;
  }

  async close(): Promise<void> {
    await stopProc(this.proc, 'SIGQUIT');
    if (this.root) rmSync(this.root, { recursive: true, force: true });
  }
}

interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
}

/** HTTPS request to nginx, trusting only the test's own certificate. */
function https(
  nginx: Nginx,
  path: string,
  opts: { method?: string; token?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Res> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: nginx.httpsPort,
        path,
        method: opts.method ?? 'GET',
        ca: nginx.ca,
        agent: false,
        headers: {
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...(opts.token && { authorization: `Bearer ${opts.token}` }),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode!, headers: res.headers, body: text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Plain HTTP request to nginx's HTTP port. */
function plain(port: number, path: string): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describeNginx('nginx in front of two gateways', () => {
  const prefix = `test-${randomUUID()}`;
  const secret = randomBytes(32).toString('base64url');
  let cwd = '';
  const nginx = new Nginx();
  const gateways: Array<{ port: number; metricsPort: number; proc: Proc }> = [];
  let worker: Proc | undefined;
  let workerMetricsPort = 0;
  let sim: SimHandle | undefined;
  let token = '';

  // Gateways started on their own need a shared PostgreSQL: a schema of its own for this file.
  let tdb: TestDatabase | undefined;
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH!,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_SECRET: secret,
    WARD_DATA_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'info',
    HEARTBEAT_INTERVAL_MS: '200',
  };

  async function startGateway(): Promise<{ port: number; metricsPort: number; proc: Proc }> {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const proc = startProc(process.execPath, [CLI, 'start', '--target', 'gateway'], {
      cwd,
      env: {
        ...baseEnv,
        PORT: String(port),
        HOST: '127.0.0.1',
        METRICS_PORT: String(metricsPort),
        TRUST_PROXY: 'true',
        DOCS_ENABLED: 'true',
      },
    });
    for (let i = 0; i < 200; i++) {
      const up = await fetch(`http://127.0.0.1:${port}/health/live`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return { port, metricsPort, proc };
      if (proc.child.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`gateway on ${port} did not start:\n${proc.lines.join('\n')}`);
  }

  beforeAll(async () => {
    if (!NGINX) throw new Error('nginx is not installed (CI installs it: apt-get install -y nginx-light)');
    cwd = mkdtempSync(join(tmpdir(), 'ward-nginx-stack-'));
    tdb = await openTestDatabase('postgres');
    baseEnv.DATABASE_URL = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${tdb.schema}`)}`;
    sim = await startSim({ models: ['mistral:7b'], numParallel: 4, loadTimeMs: 0, genTokensPerSec: 25 });
    gateways.push(...(await Promise.all([startGateway(), startGateway()])));
    workerMetricsPort = await freePort();
    worker = startProc(process.execPath, [CLI, 'start', '--target', 'worker'], {
      cwd,
      env: {
        ...baseEnv,
        OLLAMA_URL: sim.url,
        WORKER_INSTANCE_ID: 'sim-0',
        OLLAMA_NUM_PARALLEL: '4',
        WORKER_LOCK_DURATION_MS: '2000',
        METRICS_PORT: String(workerMetricsPort),
      },
    });
    await nginx.start(gateways.map((g) => g.port));
    token = mintToken({
      sub: 'dr-nginx',
      role: 'provider',
      ttl: '15m',
      issuer: 'ward',
      audience: 'ward',
      key: secret,
    });
    for (let i = 0; i < 200; i++) {
      if ((await https(nginx, '/health/ready')).status === 200) return;
      await sleep(50);
    }
    throw new Error(`the worker did not become ready:\n${worker.lines.join('\n')}`);
  }, 30_000);

  afterAll(async () => {
    await nginx.close();
    await Promise.all([...gateways.map((g) => stopProc(g.proc, 'SIGKILL')), stopProc(worker, 'SIGKILL')]);
    await removeTestState({ sim, prefix, tdb, dir: cwd });
  });

  const upstreamOf = async (requestId: string) =>
    (await nginx.entry(requestId))?.upstream_addr as string | undefined;

  it('redirects plain HTTP to HTTPS with 301, keeping path and query', async () => {
    const res = await plain(nginx.httpPort, '/api/local/status?verbose=1');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('https://127.0.0.1/api/local/status?verbose=1');
  });

  it('answers over TLS with HSTS and the security headers', async () => {
    const res = await https(nginx, '/api/local/status', { token });
    expect(res.status).toBe(200);
    expect(res.json.ready).toBe(true);
    expect(res.headers['strict-transport-security']).toMatch(/^max-age=\d{8,}; includeSubDomains$/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.server).toBe('nginx');
  });

  it("passes the client's request id to the gateway and back, and makes one for a missing or bad id", async () => {
    const id = `req-${randomUUID()}`;
    // A gateway error body carries the id the gateway saw.
    const res = await https(nginx, '/api/jobs/no-such-job', { token, headers: { 'x-request-id': id } });
    expect(res.status).toBe(404);
    expect(res.json.requestId).toBe(id);
    expect(res.headers['x-request-id']).toBe(id);
    expect(await upstreamOf(id)).toMatch(/^127\.0\.0\.1:\d+$/);

    const variants: Array<Record<string, string>> = [{}, { 'x-request-id': 'bad id with spaces' }];
    for (const headers of variants) {
      const made = await https(nginx, '/api/jobs/no-such-job', { token, headers });
      expect(made.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
      expect(made.json.requestId).toBe(made.headers['x-request-id']);
    }
  });

  it('spreads requests over both gateways', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `spread-${i}-${randomUUID()}`);
    for (const id of ids) {
      const res = await https(nginx, '/api/local/status', { token, headers: { 'x-request-id': id } });
      expect(res.status).toBe(200);
    }
    const counts = new Map<string, number>();
    for (const id of ids) {
      const upstream = (await upstreamOf(id))!;
      counts.set(upstream, (counts.get(upstream) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(gateways.map((g) => `127.0.0.1:${g.port}`).sort());
    for (const n of counts.values()) expect(n).toBeGreaterThanOrEqual(5);
  });

  it('never passes /metrics, internal routes or /docs (docs off) to a gateway', async () => {
    for (const path of [
      '/metrics',
      '/metrics/',
      '//metrics',
      '/api/../metrics',
      '/%6Detrics',
      '/METRICS',
      '/__sim/reset',
      '/docs',
      '/docs/json',
    ]) {
      const id = `deny-${randomUUID()}`;
      const res = await https(nginx, path, { token, headers: { 'x-request-id': id } });
      expect(res.status, path).toBe(404);
      expect(res.json, path).toMatchObject({ statusCode: 404, code: 'WARD_NOT_FOUND', requestId: id });
      expect(res.headers['strict-transport-security'], path).toBeTruthy();
      expect(await upstreamOf(id), path).toBe('');
    }
  });

  it('leaves metrics to the internal METRICS_PORT of each process, where Prometheus scrapes them', async () => {
    const gateway = await (await fetch(`http://127.0.0.1:${gateways[0]!.metricsPort}/metrics`)).text();
    expect(gateway).toMatch(/^ward_http_request_duration_seconds_count\{[^}]*route="\/api\/local\/status"/m);
    const worker = await (await fetch(`http://127.0.0.1:${workerMetricsPort}/metrics`)).text();
    expect(worker).toMatch(/^ward_instance_up\{[^}]*instance="sim-0"[^}]*\} 1$/m);
    expect((await https(nginx, '/metrics', { token })).status).toBe(404);
  });

  it('serves /docs, with a CSP of its own, once the site turns docs on', async () => {
    nginx.setDocs('on');
    await nginx.reload();
    let res: Res | undefined;
    for (let i = 0; i < 60; i++) {
      res = await https(nginx, '/docs/json');
      if (res.status === 200) break;
      await sleep(50);
    }
    expect(res!.status).toBe(200);
    expect(res!.json.openapi ?? res!.json.swagger).toBeTruthy();
    expect(res!.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res!.headers['strict-transport-security']).toBeTruthy();
    nginx.setDocs('off');
    await nginx.reload();
    for (let i = 0; i < 60; i++) {
      res = await https(nginx, '/docs/json');
      if (res.status === 404) break;
      await sleep(50);
    }
    expect(res!.status).toBe(404);
  });

  it('writes one JSON access-log line per request, without query strings or bodies', async () => {
    const canary = `PHI-CANARY-${randomUUID()}`;
    const id = `log-${randomUUID()}`;
    await https(nginx, `/api/local/status?patient=${canary}`, { token, headers: { 'x-request-id': id } });
    await https(nginx, '/api/local/process', {
      method: 'POST',
      token,
      body: { modelName: 'mistral:7b', prompt: canary, options: { num_predict: 1 } },
    });
    const lines = nginx.logLines;
    expect(lines.length).toBeGreaterThan(20);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    expect(lines.join('\n')).not.toContain(canary);
    const e = (await nginx.entry(id))!;
    expect(e).toMatchObject({
      method: 'GET',
      uri: '/api/local/status',
      status: 200,
      tls: expect.stringMatching(/^TLSv1\.[23]$/),
    });
    expect(e).not.toHaveProperty('request');
  });

  it('streams NDJSON through nginx as the model produces it', async () => {
    sim!.script({ prompt: /nginx-stream/, tokens: 25 });
    const started = Date.now();
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: nginx.httpsPort,
          path: '/api/local/process',
          method: 'POST',
          ca: nginx.ca,
          agent: false,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        },
        resolve,
      );
      req.on('error', reject);
      req.end(JSON.stringify({ modelName: 'mistral:7b', prompt: 'nginx-stream please', stream: true }));
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    let buf = '';
    let firstAt = 0;
    const lines: any[] = [];
    for await (const chunk of res) {
      buf += (chunk as Buffer).toString('utf8');
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = JSON.parse(buf.slice(0, i));
        if (!firstAt && line.response) firstAt = Date.now();
        lines.push(line);
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
      }
    }
    const doneAt = Date.now();
    expect(lines.at(-1)).toMatchObject({ done: true });
    expect(lines.filter((l) => !l.done).length).toBeGreaterThan(5);
    // 25 tokens at 25 tokens/s take about a second: buffered by nginx, they would arrive together.
    expect(firstAt).toBeGreaterThan(0);
    expect(doneAt - firstAt).toBeGreaterThan(500);
    expect(firstAt - started).toBeLessThan(doneAt - started - 500);
  });

  it('loses no request while a gateway shuts down (SIGTERM) under a steady trickle of reads and POSTs', async () => {
    const [leaving, staying] = gateways as [(typeof gateways)[0], (typeof gateways)[0]];
    sim!.script({ prompt: /^trickle/, tokens: 2 });
    const results: Array<Promise<{ id: string; status: number; at: number }>> = [];
    const started = Date.now();
    let stoppedAt = 0;
    for (let i = 0; Date.now() - started < 3000; i++) {
      if (!stoppedAt && Date.now() - started > 1000) {
        stoppedAt = Date.now();
        leaving.proc.child.kill('SIGTERM');
      }
      const id = `trickle-${i}-${randomUUID()}`;
      // Every other request is a POST, which nginx never resends to another gateway.
      const request =
        i % 2
          ? https(nginx, '/api/local/process', {
              method: 'POST',
              token,
              headers: { 'x-request-id': id },
              body: { modelName: 'mistral:7b', prompt: `trickle ${i}` },
            })
          : https(nginx, '/api/local/status', { token, headers: { 'x-request-id': id } });
      results.push(
        request.then(
          (r) => ({ id, status: r.status, at: Date.now() }),
          (err: Error) => ({ id, status: -1, at: Date.now(), err: err.message }),
        ),
      );
      await sleep(20);
    }
    const done = await Promise.all(results);
    expect(done.length).toBeGreaterThan(80);
    expect(done.filter((r) => r.status !== 200)).toEqual([]);
    expect(await leaving.proc.exited).toBe(0);
    // Before the stop both gateways served; after it only the one that stayed answered.
    const upstreams = new Map<string, string>();
    for (const r of done) upstreams.set(r.id, (await upstreamOf(r.id))!.split(', ').at(-1)!);
    const before = done.filter((r) => r.at < stoppedAt).map((r) => upstreams.get(r.id));
    expect(new Set(before)).toEqual(new Set(gateways.map((g) => `127.0.0.1:${g.port}`)));
    const after = done.filter((r) => r.at > stoppedAt + 1000).map((r) => upstreams.get(r.id));
    expect(after.length).toBeGreaterThan(10);
    expect(new Set(after)).toEqual(new Set([`127.0.0.1:${staying.port}`]));
  });
});

/** A stand-in gateway that fails on purpose and counts what reaches it. */
async function fakeGateway(name: string): Promise<{ port: number; server: Server; seen: string[] }> {
  const seen: string[] = [];
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === '/die') req.socket.destroy();
      else if (req.url === '/busy')
        res
          .writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' })
          .end(JSON.stringify({ statusCode: 503, code: 'WARD_QUEUE_FULL', server: name }));
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ server: name }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, server, seen };
}

describeNginx('which requests nginx sends to another gateway', () => {
  let a: Awaited<ReturnType<typeof fakeGateway>>;
  let b: Awaited<ReturnType<typeof fakeGateway>>;
  const nginx = new Nginx();
  const count = (what: string) => [...a.seen, ...b.seen].filter((s) => s === what).length;

  beforeAll(async () => {
    if (!NGINX) throw new Error('nginx is not installed (CI installs it: apt-get install -y nginx-light)');
    [a, b] = await Promise.all([fakeGateway('a'), fakeGateway('b')]);
    await nginx.start([a.port, b.port]);
  });
  afterAll(async () => {
    await nginx.close();
    a?.server.closeAllConnections();
    b?.server.closeAllConnections();
    a?.server.close();
    b?.server.close();
  });

  it("passes a gateway's 503 to a POST as it is and keeps that gateway in rotation", async () => {
    for (let i = 0; i < 4; i++) {
      const res = await https(nginx, '/busy', { method: 'POST', body: { prompt: 'x' } });
      expect(res.status).toBe(503);
      expect(res.json.code).toBe('WARD_QUEUE_FULL');
      expect(res.headers['retry-after']).toBe('1');
    }
    expect(count('POST /busy')).toBe(4);
    // Four 503s would exceed max_fails on both gateways if they counted as failures.
    for (let i = 0; i < 6; i++) expect((await https(nginx, '/ok')).status).toBe(200);
    expect(a.seen).toContain('GET /ok');
    expect(b.seen).toContain('GET /ok');
  });

  it('never resends a POST that reached a gateway, and retries a GET on the other gateway', async () => {
    const post = await https(nginx, '/die', { method: 'POST', body: { prompt: 'x' } });
    expect(post.status).toBe(502);
    expect(post.json.code).toBe('WARD_GATEWAY_UNREACHABLE');
    expect(count('POST /die')).toBe(1);

    const get = await https(nginx, '/die');
    expect(get.status).toBe(502);
    expect(count('GET /die')).toBe(2);
  });

  it("takes image-sized bodies above the gateways' 20 MB limit and refuses bodies over 25 MB itself", async () => {
    const big = await https(nginx, '/ok', {
      method: 'POST',
      body: { imageData: 'A'.repeat(21 * 1024 * 1024) },
    });
    expect(big.status).toBe(200);
    const before = a.seen.length + b.seen.length;
    const huge = await https(nginx, '/ok', {
      method: 'POST',
      body: { imageData: 'A'.repeat(26 * 1024 * 1024) },
    });
    expect(huge.status).toBe(413);
    expect(huge.json.code).toBe('WARD_BODY_TOO_LARGE');
    expect(a.seen.length + b.seen.length).toBe(before);
  });
});

describeNginx('a gateway that refuses connections', () => {
  const nginx = new Nginx();
  let live: Awaited<ReturnType<typeof fakeGateway>>;

  beforeAll(async () => {
    if (!NGINX) throw new Error('nginx is not installed (CI installs it: apt-get install -y nginx-light)');
    live = await fakeGateway('live');
    await nginx.start([await freePort(), live.port]);
  });
  afterAll(async () => {
    await nginx.close();
    live?.server.closeAllConnections();
    live?.server.close();
  });

  it('costs no POST: nginx sends it to the other gateway, since the first never received it', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await https(nginx, '/api/local/process', { method: 'POST', body: { prompt: 'x' } });
      expect(res.status).toBe(200);
      expect(res.json.server).toBe('live');
    }
    expect(live.seen.filter((s) => s === 'POST /api/local/process')).toHaveLength(4);
    expect(nginx.log.some((e) => e.method === 'POST' && String(e.upstream_addr).includes(', '))).toBe(true);
  });
});
