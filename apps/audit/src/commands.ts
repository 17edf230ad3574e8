import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { type AuditConfig, auditEnv, loadEnv } from '@ward/config';
import type { AuditActor, AuditSource, AuditVerifyReport } from '@ward/contracts';
import { type Database, migrate, openDatabase } from '@ward/db';
import { completeAuditEvent } from '@ward/queue';
import { type AuditSigner, devSigningKeyPath, loadAuditSigner, loadPublicKeys } from './keys.js';
import { AuditStore, type PurgeResult } from './store.js';
import { verifyAuditChain } from './verify.js';

/** Where a command writes (stdout and stderr by default). */
export interface CommandOutput {
  out(line: string): void;
  err(line: string): void;
}

const STDIO: CommandOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** The operator at the console, as the audit trail names them. */
function cliActor(): AuditActor {
  let name = 'unknown';
  try {
    name = userInfo().username || name;
  } catch {}
  return { sub: `cli:${name}`.slice(0, 200), method: 'cli' };
}

const CLI_SOURCE: AuditSource = { service: 'cli', host: hostname().slice(0, 255) };

async function openAuditDatabase(cfg: AuditConfig): Promise<Database> {
  const db = await openDatabase({ url: cfg.DATABASE_URL, dataDir: `${cfg.WARD_DATA_DIR}/pglite` });
  try {
    await migrate(db);
    return db;
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** The signer when one is configured (or a development key already exists); never generates one. */
function existingSigner(cfg: AuditConfig): AuditSigner | undefined {
  if (cfg.AUDIT_SIGNING_KEY || cfg.AUDIT_SIGNING_KEY_FILE || existsSync(devSigningKeyPath(cfg.WARD_DATA_DIR)))
    return loadAuditSigner(cfg).signer;
  return undefined;
}

/** Options of {@link runVerifyCommand}. */
export interface VerifyCommandOptions {
  /** PEM files of trusted public keys (default AUDIT_PUBLIC_KEYS, else the signing key's). */
  publicKeyFiles?: string[];
  /** Print the report as JSON instead of text. */
  json?: boolean;
  output?: CommandOutput;
}

/**
 * `ward audit verify`: recomputes the chain and checks checkpoint signatures, records the
 * verification in the audit trail, and prints the report. Exit code 0 when the trail is intact,
 * 1 when it is not, 2 on a usage or configuration problem, 3 when the verification could not be
 * recorded in HIPAA mode (fail closed).
 */
export async function runVerifyCommand(
  env: NodeJS.ProcessEnv = process.env,
  opts: VerifyCommandOptions = {},
): Promise<number> {
  const io = opts.output ?? STDIO;
  const cfg = loadEnv(auditEnv, env);
  const signer = existingSigner(cfg);
  const files = opts.publicKeyFiles ?? cfg.AUDIT_PUBLIC_KEYS;
  let keys: KeyObject[];
  if (files?.length) keys = loadPublicKeys(files);
  else if (signer) keys = [signer.publicKey];
  else {
    io.err(
      'no public key to verify with: pass --public-key FILE or set AUDIT_PUBLIC_KEYS or AUDIT_SIGNING_KEY_FILE',
    );
    return 2;
  }
  const db = await openAuditDatabase(cfg);
  try {
    const report = await verifyAuditChain(db, keys);
    const store = new AuditStore(db, { signer, checkpointEvery: cfg.AUDIT_CHECKPOINT_ROWS });
    try {
      await store.append([
        completeAuditEvent(
          {
            action: 'audit.verified',
            outcome: report.ok ? 'success' : 'failure',
            ...(report.problem && { reason: report.problem.kind }),
            actor: cliActor(),
            source: CLI_SOURCE,
            resource: { type: 'audit-trail' },
            detail: {
              rows: report.rows,
              durationMs: report.durationMs,
              ...(report.problem && { problemSeq: report.problem.seq }),
            },
          },
          'cli',
        ),
      ]);
    } catch (err) {
      io.err(`the verification could not be recorded in the audit trail: ${(err as Error).message}`);
      if (cfg.HIPAA_MODE) return 3;
    }
    io.out(opts.json ? JSON.stringify(report) : formatReport(report));
    return report.ok ? 0 : 1;
  } finally {
    await db.close();
  }
}

/** A verification report as a few lines of text. */
export function formatReport(r: AuditVerifyReport): string {
  const lines = [
    r.ok ? 'audit trail intact' : 'AUDIT TRAIL TAMPERED',
    `  rows        ${r.rows}${r.firstSeq !== undefined ? ` (seq ${r.firstSeq}..${r.lastSeq})` : ''}`,
    `  checkpoints ${r.checkpoints}${r.lastCheckpointSeq !== undefined ? ` (last at seq ${r.lastCheckpointSeq})` : ''}`,
    `  unsealed    ${r.unsealedRows} rows after the last checkpoint`,
    `  took        ${r.durationMs} ms`,
  ];
  if (r.problem)
    lines.push(`  first problem at seq ${r.problem.seq} (${r.problem.kind}): ${r.problem.message}`);
  return lines.join('\n');
}

/** Options of {@link runPurgeCommand}. */
export interface PurgeCommandOptions {
  /** Retention in days (default AUDIT_RETENTION_DAYS). */
  days?: number;
  output?: CommandOutput;
}

/**
 * `ward audit purge`: deletes audit rows older than the retention period, signs a checkpoint at
 * the cut and records the purge, in one transaction. Prints the result as JSON; exit code 0, or 2
 * on a configuration problem.
 */
export async function runPurgeCommand(
  env: NodeJS.ProcessEnv = process.env,
  opts: PurgeCommandOptions = {},
): Promise<number> {
  const io = opts.output ?? STDIO;
  const cfg = loadEnv(auditEnv, env);
  const days = opts.days ?? cfg.AUDIT_RETENTION_DAYS;
  if (!Number.isInteger(days) || days < 1) {
    io.err('--days must be a whole number of days, at least 1');
    return 2;
  }
  const { signer } = loadAuditSigner(cfg);
  const db = await openAuditDatabase(cfg);
  try {
    const store = new AuditStore(db, { signer, checkpointEvery: cfg.AUDIT_CHECKPOINT_ROWS });
    const result: PurgeResult = await store.purge({
      retentionDays: days,
      actor: cliActor(),
      source: CLI_SOURCE,
    });
    io.out(JSON.stringify(result));
    return 0;
  } finally {
    await db.close();
  }
}
