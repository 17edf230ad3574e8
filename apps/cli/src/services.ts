import {
  type ClinicalTask,
  clinicalTasks,
  Icd10CodeSet,
  importIcd10Order,
  listIcd10Releases,
  type TaskServices,
  taskModelsFrom,
} from '@ward/clinical';
import { type Database, migrate, openDatabase } from '@ward/db';
import type { Logger } from 'pino';

/** The database a command uses: DATABASE_URL, or the embedded PGlite database under ./data. */
export async function openWardDatabase(env: NodeJS.ProcessEnv, log?: Logger): Promise<Database> {
  const url = env.DATABASE_URL?.trim() || undefined;
  const db = await openDatabase({
    ...(url && { url }),
    dataDir: env.WARD_DATA_DIR ? `${env.WARD_DATA_DIR}/pglite` : undefined,
  });
  const applied = await migrate(db);
  if (applied.length) log?.info({ applied }, 'database migrations applied');
  return db;
}

/** What the gateway needs to serve clinical tasks. */
export interface ClinicalSetup {
  tasks: ClinicalTask[];
  services: TaskServices;
  models: Record<string, string>;
}

/** Loads reference data (the active ICD-10-CM year, when imported) and the task registry. */
export async function clinicalSetup(
  db: Database | undefined,
  env: NodeJS.ProcessEnv,
  log: Logger,
): Promise<ClinicalSetup> {
  const tasks = clinicalTasks();
  const services: TaskServices = {};
  if (db) {
    const releases = await listIcd10Releases(db);
    if (releases.some((r) => r.active)) {
      const set = new Icd10CodeSet();
      await set.load(db);
      services.icd10 = {
        lookup: (c) => set.lookup(c),
        isValidFormat: (c) => set.isValidFormat(c),
        childrenOf: (c, n) => set.childrenOf(c, n),
        search: (text, limit) => set.search(db, text, limit),
        ...(set.fiscalYear !== undefined && { fiscalYear: set.fiscalYear }),
      };
      log.info({ fiscalYear: set.fiscalYear, codes: set.size }, 'ICD-10-CM code set loaded');
    } else
      log.warn(
        'no ICD-10-CM code set imported: icd10-coding answers 503 until `ward icd10 import <file>` is run',
      );
  }
  return { tasks, services, models: taskModelsFrom(env.WARD_TASK_MODELS, tasks) };
}

/** `ward icd10 import <file> [--year N]`. */
export async function icd10Import(
  file: string,
  year: number | undefined,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const db = await openWardDatabase(env);
  try {
    const t0 = performance.now();
    let last = 0;
    const summary = await importIcd10Order(db, file, {
      ...(year !== undefined && { fiscalYear: year }),
      onProgress: (p) => {
        if (p.lines - last >= 10_000) {
          last = p.lines;
          process.stderr.write(`\r  ${p.lines.toLocaleString('en-US')} lines…`);
        }
      },
    });
    process.stderr.write('\n');
    console.log(JSON.stringify({ ...summary, seconds: Math.round((performance.now() - t0) / 10) / 100 }));
  } finally {
    await db.close();
  }
}
