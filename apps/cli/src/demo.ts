/**
 * `ward demo` (`pnpm demo`): the deployment guide's four manual scenarios — a SOAP note, ICD-10
 * coding, a drug-interaction check and a chest X-ray — run through a whole Ward (gateway, queue,
 * worker) against the Ollama that OLLAMA_URL names, printing what each returned and what the
 * deterministic checks found.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { importIcd10Order, listIcd10Releases } from '@ward/clinical';
import { gatewayEnv, keyringFrom, loadEnv, workerEnv } from '@ward/config';
import type { Database } from '@ward/db';
import { createServer, mintToken } from '@ward/gateway';
import { createRedis, Sealer } from '@ward/queue';
import pino from 'pino';
import { PNG } from 'pngjs';
import { clinicalSetup, openWardDatabase } from './services.js';
import { startWorkers } from './start.js';

/** What one scenario returned. */
export interface DemoResult {
  scenario: string;
  status: number;
  valid?: boolean;
  summary: string;
  findings: string[];
  body: unknown;
}

/** The parts of a task reply the demo prints; `output` is the task's own shape. */
interface TaskReply<O> {
  valid?: boolean;
  code?: string;
  message?: string;
  model?: string;
  instance?: string;
  findings?: Array<{ severity: string; code: string }>;
  output?: O;
}

const SHARED_ICD10 = fileURLToPath(
  new URL('../../../../shared/data/icd10cm/icd10cm_order_2026.txt', import.meta.url),
);

/** A synthetic frontal chest radiograph (no patient, no metadata): dark lung fields in a bright thorax. */
export function syntheticChestXray(size = 256): string {
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = (x - size / 2) / (size / 2);
      const dy = (y - size / 2) / (size / 2);
      const inThorax = dx * dx * 0.8 + dy * dy * 0.6 < 0.8;
      const lung = (cx: number) =>
        ((x - cx) / (size * 0.16)) ** 2 + ((y - size * 0.5) / (size * 0.3)) ** 2 < 1;
      const spine = Math.abs(x - size / 2) < size * 0.04;
      let v = inThorax ? 170 : 30;
      if (lung(size * 0.33) || lung(size * 0.67)) v = 60 + ((x * 7 + y * 3) % 11);
      if (spine && inThorax) v = 220;
      const i = (y * size + x) * 4;
      png.data[i] = png.data[i + 1] = png.data[i + 2] = v;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png).toString('base64');
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  env: NodeJS.ProcessEnv;
  /** A database that already has migrations applied (tests); default: DATABASE_URL or embedded PGlite. */
  db?: Database;
  /** Print results as they come (default true). */
  print?: boolean;
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult[]> {
  const print = opts.print ?? true;
  const say = (s: string) => print && process.stdout.write(`${s}\n`);
  const prefix = `demo-${randomUUID()}`;
  const env = {
    ...opts.env,
    REDIS_PREFIX: prefix,
    JWT_SECRET: randomBytes(32).toString('base64url'),
    WARD_DATA_KEY: randomBytes(32).toString('base64'),
    HEARTBEAT_INTERVAL_MS: '250',
    LOG_LEVEL: opts.env.LOG_LEVEL ?? 'warn',
  };
  const gcfg = loadEnv(gatewayEnv, env);
  const wcfg = loadEnv(workerEnv, env);
  const sealer = new Sealer(keyringFrom(gcfg)!);
  const log = pino({ level: gcfg.LOG_LEVEL });
  const db = opts.db ?? (await openWardDatabase(env, log));
  const ownDb = !opts.db;
  const results: DemoResult[] = [];
  const workers = await startWorkers(wcfg, sealer, log);
  let app: Awaited<ReturnType<typeof createServer>> | undefined;
  try {
    if (!(await listIcd10Releases(db)).some((r) => r.active)) {
      const file = opts.env.ICD10_ORDER_FILE ?? SHARED_ICD10;
      if (existsSync(file)) {
        say(`Importing the ICD-10-CM code set from ${file} …`);
        await importIcd10Order(db, file);
      } else
        say(
          'No ICD-10-CM code set: set ICD10_ORDER_FILE or run `ward icd10 import <file>` (the coding scenario will say so).',
        );
    }
    const tasks = await clinicalSetup(db, env, log);
    app = await createServer({ config: gcfg, sealer, logger: log, tasks });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address() as { port: number };
    const base = `http://127.0.0.1:${addr.port}`;
    const token = mintToken({
      sub: 'demo-clinician',
      role: 'provider',
      issuer: gcfg.JWT_ISSUER,
      audience: gcfg.JWT_AUDIENCE,
      key: env.JWT_SECRET,
    });
    for (let i = 0; i < 100 && !(await app.instances.refresh()).some((x) => x.healthy); i++)
      await new Promise((r) => setTimeout(r, 100));
    const models = (await app.instances.models()).join(', ') || 'none';
    say(`Ward demo against ${wcfg.OLLAMA_URLS?.join(', ') ?? wcfg.OLLAMA_URL} (models: ${models})\n`);

    const post = async <O>(
      scenario: string,
      path: string,
      body: unknown,
      summarise: (b: TaskReply<O>) => string,
    ) => {
      const t0 = performance.now();
      const res = await fetch(base + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as TaskReply<O>;
      const ms = Math.round(performance.now() - t0);
      const result: DemoResult = {
        scenario,
        status: res.status,
        valid: json.valid,
        summary: res.ok ? summarise(json) : `${json.code}: ${json.message}`,
        findings: (json.findings ?? []).map((f) => `${f.severity} ${f.code}`),
        body: json,
      };
      results.push(result);
      say(
        `■ ${scenario} — HTTP ${res.status} in ${ms} ms${res.ok ? ` on ${json.model} @ ${json.instance}` : ''}`,
      );
      say(`  ${result.summary.replaceAll('\n', '\n  ')}`);
      if (result.findings.length) say(`  checks: ${result.findings.join('; ')}`);
      say('');
    };

    await post<{ vitals?: Array<{ name: string; value: number; unit?: string }> }>(
      'SOAP note: 65-year-old man with chest pain, BP 150/95, HR 88',
      '/api/tasks/soap-note',
      {
        encounterText:
          '65-year-old man presenting with chest pain for two hours. BP 150/95, HR 88. No prior cardiac history.',
      },
      (b) =>
        `vitals: ${(b.output?.vitals ?? []).map((v) => `${v.name}=${v.value}${v.unit ? ` ${v.unit}` : ''}`).join(', ')}`,
    );
    await post<{ codes?: Array<{ code: string; description: string }> }>(
      'ICD-10-CM: essential hypertension and type 2 diabetes',
      '/api/tasks/icd10-coding',
      { text: 'Essential hypertension. Type 2 diabetes mellitus without complications.' },
      (b) =>
        `codes: ${(b.output?.codes ?? []).map((c) => `${c.code} ${c.description}`).join('; ') || 'none'}`,
    );
    await post<{ interactions?: Array<{ drugs: string[]; severity: string; source: string }> }>(
      'Drug interactions: warfarin with aspirin',
      '/api/tasks/drug-interactions',
      { medications: 'warfarin 5 mg daily, aspirin 81 mg daily' },
      (b) =>
        (b.output?.interactions ?? [])
          .map((i) => `${i.drugs.join(' + ')}: ${i.severity} (${i.source})`)
          .join('\n') || 'none',
    );
    await post<{ impression?: string }>(
      'Chest X-ray (synthetic test image)',
      '/api/tasks/image-findings',
      { imageBase64: syntheticChestXray(), clinicalQuestion: 'Any acute cardiopulmonary abnormality?' },
      (b) => `impression: ${b.output?.impression ?? '—'}`,
    );
    return results;
  } finally {
    await app?.close();
    await Promise.all(workers.map((w) => w.close()));
    if (ownDb) await db.close();
    const redis = createRedis(gcfg.REDIS_URL, 'worker');
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}
