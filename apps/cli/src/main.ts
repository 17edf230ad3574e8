#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, gatewayEnv, loadEnv } from '@ward/config';
import { isRole, ROLES } from '@ward/contracts';
import { mintToken } from '@ward/gateway';
import { applyDevSecrets } from './secrets.js';
import { icd10Import, openWardDatabase } from './services.js';
import { start, type Target } from './start.js';

const USAGE = `ward — Ward's command line

Usage:
  ward start [--target all|gateway|worker|audit]
                                              Run Ward (default: gateway, audit and one worker per OLLAMA_URLS entry in one process)
  ward token --sub NAME --role ROLE [--ttl 15m] [--private-key PEM]
                                              Mint a bearer token (roles: ${ROLES.join(', ')}); RS256/ES256
                                              sign with --private-key or JWT_PRIVATE_KEY
  ward users add <name> --role ROLE            Create an account (password prompted without echo, or first line of stdin)
  ward users list | set-role <name> <role> | disable <name> | enable <name> | reset-password <name>
  ward keys create --name NAME --role ROLE [--days N | --expires YYYY-MM-DD]   Create an API key (printed once on stdout)
  ward keys list | ward keys revoke <id>
  ward audit verify [--public-key FILE] [--json]   Recompute the audit hash chain and check signed checkpoints
  ward audit purge [--days N]                 Apply audit retention (default AUDIT_RETENTION_DAYS)
  ward migrate                                Apply database migrations and list their state
  ward icd10 import <file> [--year YYYY]      Import the CMS ICD-10-CM order file (icd10cm_order_YYYY.txt)
  ward demo                                   Run the deployment guide's four clinical scenarios against OLLAMA_URL
  ward env                                    List every environment variable Ward reads
  ward help                                   This text

Configuration comes from the environment (and ./.env when present). See README.md.`;

async function main(argv: string[]): Promise<number> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const [command, ...rest] = argv;
  switch (command) {
    case 'start': {
      const { values } = parseArgs({ args: rest, options: { target: { type: 'string', default: 'all' } } });
      const target = values.target as Target;
      if (!['all', 'gateway', 'worker', 'audit'].includes(target))
        return fail(`--target must be all, gateway, worker or audit (got "${target}")`);
      await start(target);
      return -1;
    }
    case 'token': {
      const { values } = parseArgs({
        args: rest,
        options: {
          sub: { type: 'string' },
          role: { type: 'string' },
          ttl: { type: 'string', default: '15m' },
          'private-key': { type: 'string' },
        },
      });
      if (!values.sub) return fail('--sub is required (the account the token acts for)');
      if (!isRole(values.role)) return fail(`--role must be one of ${ROLES.join(', ')}`);
      applyDevSecrets(process.env);
      const cfg = loadEnv(gatewayEnv);
      const algorithm = cfg.JWT_ALGORITHM ?? (cfg.JWT_PUBLIC_KEY ? 'RS256' : 'HS256');
      const key = algorithm === 'HS256' ? cfg.JWT_SECRET : (values['private-key'] ?? cfg.JWT_PRIVATE_KEY);
      if (!key)
        return fail(
          algorithm === 'HS256'
            ? 'JWT_SECRET is not set'
            : `${algorithm} tokens need a private key: --private-key PEM or JWT_PRIVATE_KEY`,
        );
      console.log(
        mintToken({
          sub: values.sub,
          role: values.role,
          ttl: values.ttl,
          issuer: cfg.JWT_ISSUER,
          audience: cfg.JWT_AUDIENCE,
          key,
          algorithm,
        }),
      );
      return 0;
    }
    case 'users': {
      const { usersCommand } = await import('./users.js');
      return usersCommand(rest, process.env);
    }
    case 'keys': {
      const { keysCommand } = await import('./users.js');
      return keysCommand(rest, process.env);
    }
    case 'audit': {
      const [sub, ...args] = rest;
      const audit = await import('@ward/audit');
      applyDevSecrets(process.env);
      if (sub === 'verify') {
        const { values } = parseArgs({
          args,
          options: { 'public-key': { type: 'string', multiple: true }, json: { type: 'boolean' } },
        });
        return audit.runVerifyCommand(process.env, {
          ...(values['public-key'] && { publicKeyFiles: values['public-key'] }),
          json: !!values.json,
        });
      }
      if (sub === 'purge') {
        const { values } = parseArgs({ args, options: { days: { type: 'string' } } });
        return audit.runPurgeCommand(process.env, { ...(values.days && { days: Number(values.days) }) });
      }
      return fail('usage: ward audit verify [--public-key FILE] [--json] | ward audit purge [--days N]');
    }
    case 'migrate': {
      applyDevSecrets(process.env);
      const db = await openWardDatabase(process.env);
      const { migrationStatus } = await import('@ward/db');
      for (const m of await migrationStatus(db))
        console.log(`${String(m.version).padStart(4, '0')} ${m.name} ${m.status}`);
      await db.close();
      return 0;
    }
    case 'icd10': {
      const [sub, ...args] = rest;
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { year: { type: 'string' } },
      });
      if (sub !== 'import' || positionals.length !== 1)
        return fail('usage: ward icd10 import <icd10cm_order_YYYY.txt> [--year YYYY]');
      const year = values.year === undefined ? undefined : Number(values.year);
      if (year !== undefined && !(Number.isInteger(year) && year >= 2000 && year <= 2100))
        return fail('--year must be a fiscal year such as 2026');
      await icd10Import(positionals[0]!, year, process.env);
      return 0;
    }
    case 'demo': {
      const { runDemo } = await import('./demo.js');
      const results = await runDemo({ env: process.env });
      return results.every((r) => r.status === 200) ? 0 : 1;
    }
    case 'env': {
      const { auditEnv, workerEnv } = await import('@ward/config');
      for (const [name, spec] of Object.entries({ ...gatewayEnv, ...workerEnv, ...auditEnv })) {
        const def =
          spec.default === undefined
            ? ''
            : ` [default: ${Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)}]`;
        console.log(`${name.padEnd(32)} ${spec.description}${def}`);
      }
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      return fail(`unknown command "${command}"\n\n${USAGE}`);
  }
}

function fail(message: string): number {
  console.error(`ward: ${message}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: Error) => {
    console.error(err instanceof ConfigError ? `ward: ${err.message}` : `ward: ${err.message}`);
    process.exit(1);
  },
);
