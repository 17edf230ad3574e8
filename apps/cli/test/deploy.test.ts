// Deployment artefacts checked with the real tools: docker-compose (config), promtool (config,
// rules, rule unit tests, and every dashboard query), and the metric contract of the dashboards.
import { execFile, spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alertExprs,
  allPanels,
  contractProblems,
  dashboards,
  KNOWN,
  queries,
  repo,
  withoutGrafanaVariables,
} from './helpers/monitoring.js';
import { which } from './helpers/procs.js';

const run = promisify(execFile);
const CI_APT = 'apt-get install -y docker-compose prometheus nginx-light';

/**
 * `it` when the tool is there. Without it, CI fails (a skipped check would hide a missing
 * install step) and a developer's run skips with a message saying what to install.
 */
function itWith(tool: unknown, name: string): (title: string, fn: () => unknown) => void {
  if (tool) return (title, fn) => it(title, fn);
  if (process.env.CI)
    return (title) =>
      it(title, () => {
        throw new Error(`${name} is not installed (CI installs it: ${CI_APT})`);
      });
  console.warn(`deploy.test: ${name} is not installed, skipping its checks (${CI_APT})`);
  return (title, fn) => it.skip(title, fn);
}

interface Compose {
  /** argv prefix, e.g. ['docker', 'compose'] or ['docker-compose']. */
  cmd: string[];
  /** Compose v2 (`config --format json`, `!reset`). */
  v2: boolean;
}

function findCompose(): Compose | undefined {
  const docker = which('docker');
  if (docker && spawnSync(docker, ['compose', 'version'], { encoding: 'utf8' }).status === 0)
    return { cmd: [docker, 'compose'], v2: true };
  const standalone = which('docker-compose');
  if (!standalone) return undefined;
  const version = spawnSync(standalone, ['version', '--short'], { encoding: 'utf8' }).stdout.trim();
  return { cmd: [standalone], v2: !version.startsWith('1.') };
}

const compose = findCompose();
const promtool = which('promtool');
const itCompose = itWith(compose, 'docker-compose');
const itPromtool = itWith(promtool, 'promtool');

type Service = {
  image?: string;
  command?: string[] | string;
  environment?: Record<string, string | null>;
  ports?: Array<string | { host_ip?: string; published?: string | number; target: number }>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  deploy?: { resources?: { reservations?: { devices?: Array<{ device_ids?: string[]; driver?: string }> } } };
  profiles?: string[];
};
type ComposeModel = { services: Record<string, Service> };

/** Runs `compose … config` with an env file and returns the resolved model. */
async function composeConfig(files: string[], envFile: string): Promise<ComposeModel> {
  const c = compose!;
  const args = [...c.cmd.slice(1), '--env-file', envFile, ...files.flatMap((f) => ['-f', f]), 'config'];
  const { stdout } = await run(c.cmd[0]!, c.v2 ? [...args, '--format', 'json'] : args, {
    cwd: repo(),
    env: { PATH: process.env.PATH! },
    maxBuffer: 16 * 1024 * 1024,
  });
  if (c.v2) return JSON.parse(stdout) as ComposeModel;
  // Compose v1 prints YAML only; it runs on Python with PyYAML, which turns it into JSON.
  const py = spawnSync(
    'python3',
    ['-c', 'import json,sys,yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: stdout, encoding: 'utf8' },
  );
  if (py.status !== 0) throw new Error(`cannot read the compose v1 output: ${py.stderr}`);
  return JSON.parse(py.stdout) as ComposeModel;
}

/** Host interface and port of a published port, in any of the forms compose prints. */
function published(p: NonNullable<Service['ports']>[number]): { hostIp: string; port: string } {
  if (typeof p === 'object') return { hostIp: p.host_ip ?? '', port: String(p.published ?? '') };
  const parts = p.replace(/\/\w+$/, '').split(':');
  return parts.length === 3 ? { hostIp: parts[0]!, port: parts[1]! } : { hostIp: '', port: parts[0]! };
}

const commandOf = (s: Service) => (Array.isArray(s.command) ? s.command.join(' ') : (s.command ?? ''));

describe('docker-compose.yml', () => {
  let dir = '';
  let envFile = '';
  let model: ComposeModel;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ward-deploy-'));
    envFile = join(dir, '.env');
    // The operator's path: deploy/init-secrets.sh fills a copy of deploy/.env.example.
    await run('sh', [repo('deploy/init-secrets.sh'), envFile, join(dir, 'audit-signing-key.pem')]);
    if (compose) {
      const key = `AUDIT_SIGNING_KEY_PATH=${join(dir, 'audit-signing-key.pem')}`;
      const config = join(dir, 'compose.env');
      writeFileSync(config, readFileSync(envFile, 'utf8').replace(/^AUDIT_SIGNING_KEY_PATH=.*$/m, key));
      envFile = config;
      model = await composeConfig(['docker-compose.yml'], envFile);
    }
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('deploy/init-secrets.sh fills every secret once and makes an Ed25519 audit signing key', async () => {
    const made = join(dir, '.env');
    const env = readFileSync(made, 'utf8');
    for (const name of [
      'JWT_SECRET',
      'WARD_DATA_KEY',
      'WARD_INTERNAL_TOKEN',
      'POSTGRES_PASSWORD',
      'REDIS_PASSWORD',
      'GRAFANA_ADMIN_PASSWORD',
    ])
      expect(env).toMatch(new RegExp(`^${name}=[A-Za-z0-9+/=]{24,}$`, 'm'));
    expect(Buffer.from(/^WARD_DATA_KEY=(.*)$/m.exec(env)![1]!, 'base64')).toHaveLength(32);
    expect(createPrivateKey(readFileSync(join(dir, 'audit-signing-key.pem'))).asymmetricKeyType).toBe(
      'ed25519',
    );
    await run('sh', [repo('deploy/init-secrets.sh'), made, join(dir, 'audit-signing-key.pem')]);
    expect(readFileSync(made, 'utf8')).toBe(env);
  });

  itCompose('validates with docker-compose config', () => {
    expect(Object.keys(model.services).sort()).toEqual(
      [
        'audit',
        'gateway-1',
        'gateway-2',
        'grafana',
        'nginx',
        'ollama-0',
        'ollama-1',
        'ollama-pull',
        'postgres',
        'prometheus',
        'redis',
        'worker-0',
        'worker-1',
      ].sort(),
    );
  });

  itCompose('refuses to start while a secret is missing, naming it', async () => {
    const c = compose!;
    const empty = join(dir, 'empty.env');
    writeFileSync(empty, '');
    const res = spawnSync(c.cmd[0]!, [...c.cmd.slice(1), '--env-file', empty, 'config', '-q'], {
      cwd: repo(),
      env: { PATH: process.env.PATH! },
      encoding: 'utf8',
    });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/set [A-Z_]+ in \.env/);
  });

  itCompose('publishes only nginx to the network, Grafana and Prometheus on loopback, nothing else', () => {
    const exposed: string[] = [];
    for (const [name, svc] of Object.entries(model.services)) {
      for (const p of svc.ports ?? []) {
        const { hostIp, port } = published(p);
        if (name === 'nginx') expect(['80', '443']).toContain(port);
        else {
          expect(hostIp, `${name} publishes ${port} beyond loopback`).toBe('127.0.0.1');
          exposed.push(name);
        }
      }
    }
    expect(exposed.sort()).toEqual(['grafana', 'prometheus']);
    for (const name of ['ollama-0', 'ollama-1', 'redis', 'postgres'])
      expect(model.services[name]!.ports ?? [], name).toEqual([]);
  });

  itCompose('pins one Ollama to each GPU and gives each its own worker', () => {
    for (const i of [0, 1]) {
      const ollama = model.services[`ollama-${i}`]!;
      const devices = ollama.deploy?.resources?.reservations?.devices ?? [];
      expect(devices).toHaveLength(1);
      expect(devices[0]).toMatchObject({ driver: 'nvidia', device_ids: [String(i)] });
      for (const v of ['OLLAMA_NUM_PARALLEL', 'OLLAMA_MAX_QUEUE', 'OLLAMA_MAX_LOADED_MODELS'])
        expect(ollama.environment?.[v], v).toMatch(/^\d+$/);
      const worker = model.services[`worker-${i}`]!;
      expect(commandOf(worker)).toBe('start --target worker');
      expect(worker.environment?.OLLAMA_URL).toBe(`http://ollama-${i}:11434`);
      expect(worker.environment?.OLLAMA_NUM_PARALLEL).toBe(ollama.environment?.OLLAMA_NUM_PARALLEL);
      expect(worker.depends_on?.[`ollama-${i}`]?.condition).toBe('service_healthy');
    }
    expect(commandOf(model.services['gateway-1']!)).toBe('start --target gateway');
    expect(commandOf(model.services.audit!)).toBe('start --target audit');
  });

  itCompose('starts a service only once its dependencies are healthy, and checks the health of each', () => {
    for (const [name, svc] of Object.entries(model.services)) {
      for (const [dep, { condition }] of Object.entries(svc.depends_on ?? {}))
        expect(condition, `${name} → ${dep}`).toBe('service_healthy');
      if (!svc.profiles?.length) expect(svc.healthcheck?.test, `${name} has no healthcheck`).toBeTruthy();
    }
    expect(Object.keys(model.services.nginx!.depends_on ?? {}).sort()).toEqual(['gateway-1', 'gateway-2']);
  });

  itCompose(
    'runs Redis with AOF and noeviction, and hands each secret only to the services that use it',
    () => {
      const redis = commandOf(model.services.redis!);
      expect(redis).toMatch(/--appendonly yes/);
      expect(redis).toMatch(/--maxmemory-policy noeviction/);
      const holders = (v: string) =>
        Object.entries(model.services)
          .filter(([, s]) => s.environment?.[v])
          .map(([n]) => n)
          .sort();
      expect(holders('JWT_SECRET')).toEqual(['gateway-1', 'gateway-2']);
      expect(holders('WARD_DATA_KEY')).toEqual(['audit', 'gateway-1', 'gateway-2', 'worker-0', 'worker-1']);
      expect(holders('HIPAA_MODE')).toEqual(holders('WARD_DATA_KEY'));
      for (const n of holders('HIPAA_MODE')) expect(model.services[n]!.environment!.HIPAA_MODE).toBe('true');
    },
  );

  itCompose('the CPU override removes the GPU reservations', async () => {
    const override = readFileSync(repo('docker-compose.cpu.yml'), 'utf8');
    if (compose!.v2) {
      const cpu = await composeConfig(['docker-compose.yml', 'docker-compose.cpu.yml'], envFile);
      for (const name of ['ollama-0', 'ollama-1'])
        expect(cpu.services[name]!.deploy?.resources?.reservations?.devices ?? []).toEqual([]);
      expect(cpu.services['worker-0']!.environment?.GPU_ACCELERATION).toBe('false');
    } else {
      // Compose v1 cannot read `!reset` (v2.24+): validate the rest of the override with it and
      // check the reset by reading the file.
      const plain = join(dir, 'docker-compose.cpu.v1.yml');
      writeFileSync(plain, override.replaceAll('!reset ', ''));
      const cpu = await composeConfig(['docker-compose.yml', plain], envFile);
      expect(cpu.services['worker-1']!.environment?.GPU_ACCELERATION).toBe('false');
      for (const name of ['ollama-0', 'ollama-1'])
        expect(override).toMatch(
          new RegExp(
            `\\n  ${name}:\\n    deploy:\\n      resources:\\n        reservations:\\n          devices: !reset \\[\\]`,
          ),
        );
    }
  });

  it('deploy/.env.example documents every variable the compose files read, and holds no secret', () => {
    const example = readFileSync(repo('deploy/.env.example'), 'utf8');
    const files = ['docker-compose.yml', 'docker-compose.cpu.yml'].map((f) => readFileSync(repo(f), 'utf8'));
    const used = new Set(files.flatMap((t) => [...t.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!)));
    for (const v of used)
      expect(example, `${v} is not in deploy/.env.example`).toMatch(new RegExp(`^${v}=`, 'm'));
    for (const secret of [
      'JWT_SECRET',
      'WARD_DATA_KEY',
      'WARD_INTERNAL_TOKEN',
      'POSTGRES_PASSWORD',
      'REDIS_PASSWORD',
      'GRAFANA_ADMIN_PASSWORD',
      'JWT_PRIVATE_KEY',
    ])
      expect(example).toMatch(new RegExp(`^${secret}=$`, 'm'));
    expect(example).toMatch(/^HIPAA_MODE=true$/m);
  });
});

describe('Prometheus configuration and alert rules', () => {
  itPromtool('promtool accepts prometheus.yml and alerts.yml', async () => {
    const dir = repo('deploy/prometheus');
    const config = await run(promtool!, ['check', 'config', 'prometheus.yml'], { cwd: dir });
    expect(config.stdout + config.stderr).toMatch(/SUCCESS/);
    const rules = await run(promtool!, ['check', 'rules', 'alerts.yml'], { cwd: dir });
    expect(rules.stdout + rules.stderr).toMatch(/SUCCESS: \d+ rules found/);
  });

  itPromtool('the alerts fire as their unit tests expect (promtool test rules)', async () => {
    const res = await run(promtool!, ['test', 'rules', 'alerts.test.yml'], {
      cwd: repo('deploy/prometheus'),
    });
    expect(res.stdout + res.stderr).toMatch(/SUCCESS/);
  });

  it('covers the failures operators must hear about, using only contract metrics', () => {
    const rules = readFileSync(repo('deploy/prometheus/alerts.yml'), 'utf8');
    for (const alert of [
      'WardTargetDown',
      'WardQueueBacklog',
      'WardApiLatencyHigh',
      'WardAuditLagHigh',
      'WardHighErrorRate',
    ])
      expect(rules).toContain(`alert: ${alert}\n`);
    expect(alertExprs.length).toBeGreaterThan(10);
    for (const expr of alertExprs) expect(contractProblems(expr), expr).toEqual([]);
  });

  it('scrapes the metrics port of every Ward process in docker-compose.yml', () => {
    const config = readFileSync(repo('deploy/prometheus/prometheus.yml'), 'utf8');
    const targets = [...config.matchAll(/targets: \["([^"]+)"\]/g)].map((m) => m[1]);
    const composeText = readFileSync(repo('docker-compose.yml'), 'utf8');
    const expected = ['gateway-1:9101', 'gateway-2:9101', 'worker-0:9102', 'worker-1:9102', 'audit:9103'];
    for (const t of expected) expect(targets).toContain(t);
    for (const port of ['9101', '9102', '9103']) expect(composeText).toContain(`METRICS_PORT: "${port}"`);
    expect(config).toMatch(/honor_labels: true/);
  });
});

describe('Grafana dashboards', () => {
  it('parse, have unique uids and query the provisioned Prometheus data source', () => {
    const provisioned = readFileSync(repo('deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8');
    const uid = /uid: (\S+)/.exec(provisioned)![1];
    expect(dashboards.map((d) => d.file).sort()).toEqual([
      'ward-audit.json',
      'ward-gpu-instance.json',
      'ward-model.json',
      'ward-overview.json',
    ]);
    expect(new Set(dashboards.map((d) => d.dashboard.uid)).size).toBe(dashboards.length);
    for (const { file, dashboard } of dashboards)
      for (const p of allPanels(dashboard.panels).filter((x) => x.type !== 'row')) {
        expect(p.datasource?.uid, `${file}: ${p.title}`).toBe(uid);
        expect(p.targets?.length, `${file}: ${p.title} has no query`).toBeGreaterThan(0);
        for (const t of p.targets ?? []) expect(t.datasource?.uid).toBe(uid);
      }
    expect(queries.length).toBeGreaterThan(40);
  });

  it('every panel and variable query reads only contract metrics with their labels', () => {
    for (const { where, expr } of queries) expect(contractProblems(expr), `${where}: ${expr}`).toEqual([]);
    for (const { file, dashboard } of dashboards)
      for (const v of dashboard.templating?.list ?? []) {
        const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
        const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(query);
        expect(m, `${file}: variable ${v.name}: ${query}`).toBeTruthy();
        expect(KNOWN.get(m![1]!), `${file}: ${query}`).toContain(m![2]);
      }
  });

  it('the contract check itself rejects unknown metrics, labels and queue states', () => {
    expect(contractProblems('sum(rate(ward_requests_total[5m]))')).toEqual([
      'unknown metric ward_requests_total',
    ]);
    expect(contractProblems('max by (model) (ward_queue_jobs{state="stuck"})')).toEqual([
      'ward_queue_jobs has no state stuck',
    ]);
    expect(contractProblems('ward_instance_up{gpu="0"}')).toEqual(['ward_instance_up has no label gpu']);
    expect(
      contractProblems(
        'histogram_quantile(0.95, sum by (model, le) (rate(ward_job_wait_seconds_bucket{model=~"$model"}[$__rate_interval]))) > 1e3',
      ),
    ).toEqual([]);
  });

  itPromtool('every panel query is valid PromQL (promtool)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ward-dashboards-'));
    try {
      const rules = queries
        .map(
          (q, i) =>
            `      - record: ward_dashboard_query_${i}\n        expr: ${JSON.stringify(withoutGrafanaVariables(q.expr))}`,
        )
        .join('\n');
      writeFileSync(join(dir, 'queries.yml'), `groups:\n  - name: dashboards\n    rules:\n${rules}\n`);
      const res = await run(promtool!, ['check', 'rules', 'queries.yml'], { cwd: dir });
      expect(res.stdout + res.stderr).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the Ward image', () => {
  const dockerfile = readFileSync(repo('deploy/Dockerfile'), 'utf8');

  it('builds from node:22-bookworm-slim with pnpm 10.34.9 and the frozen lockfile, and runs as a non-root user', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22-bookworm-slim$/m);
    expect(dockerfile).toContain('npm install -g pnpm@10.34.9');
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile/);
    const stages = dockerfile.split(/^FROM /m);
    const runtime = stages.at(-1)!;
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK /m);
    expect(runtime).toContain('ENTRYPOINT ["node", "apps/cli/dist/main.js"]');
    // Every file the build copies from the context exists.
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm))
      for (const src of m[1]!.split(/\s+/)) expect(existsSync(repo(src)), `COPY ${src}`).toBe(true);
    const ignore = readFileSync(repo('deploy/Dockerfile.dockerignore'), 'utf8');
    for (const p of ['.env', '**/node_modules', 'deploy/secrets', 'nginx/certs']) expect(ignore).toContain(p);
  });

  it('its healthcheck passes on a 2xx answer and fails otherwise', async () => {
    let status = 200;
    const server = createServer((_req, res) => res.writeHead(status).end('{}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/health/live`;
    const probe = () =>
      new Promise<number>((resolve) =>
        execFile(process.execPath, [repo('deploy/healthcheck.mjs'), url], (err) =>
          resolve(err ? Number((err as { code?: number }).code ?? 1) : 0),
        ),
      );
    try {
      expect(await probe()).toBe(0);
      status = 503;
      expect(await probe()).toBe(1);
    } finally {
      server.close();
    }
    expect(
      await new Promise<number>((resolve) =>
        execFile(process.execPath, [repo('deploy/healthcheck.mjs'), 'http://127.0.0.1:1/'], (err) =>
          resolve(err ? 1 : 0),
        ),
      ),
    ).toBe(1);
  });
});
