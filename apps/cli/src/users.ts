import { userInfo } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { commonEnv, loadEnv } from '@ward/config';
import type { AuditEventInput } from '@ward/contracts';
import { isRole, ROLES } from '@ward/contracts';
import type { Database } from '@ward/db';
import {
  type ApiKey,
  ApiKeyService,
  DEFAULT_KEY_DAYS,
  LoginLockout,
  listUsers,
  MAX_KEY_DAYS,
  MIN_PASSWORD_LENGTH,
  passwordProblem,
  TokenRevocation,
  type User,
  UserService,
} from '@ward/gateway';
import { AuditEmitter, completeAuditEvent, createRedis, redisKeys, waitForRedis } from '@ward/queue';
import type { Redis } from 'ioredis';
import { openWardDatabase } from './services.js';

/** Where a command reads the password and writes its output (the process's streams by default). */
export interface CliIO {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: Writable;
  stderr: Writable;
}

const processIO = (): CliIO => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });

/** A usage or input problem: the command prints it and exits with status 2. */
class UsageError extends Error {}

const USERS_USAGE = `usage:
  ward users add <username> --role ${ROLES.join('|')}   (password from the terminal, or stdin when piped)
  ward users list [--json]
  ward users set-role <username> <role>
  ward users disable <username>
  ward users enable <username>
  ward users reset-password <username>                  (password as for add)`;

const KEYS_USAGE = `usage:
  ward keys create --name NAME --role ROLE [--days N | --expires YYYY-MM-DD]   (prints the key once, on stdout)
  ward keys list [--json]
  ward keys revoke <id>`;

/** Who the CLI acts as in `created_by` / `revoked_by`. */
function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

interface Services {
  db: Database;
  redis?: Redis;
  close(): Promise<void>;
}

/** Opens the database (migrated) and, when `withRedis`, Redis for the marks that reach live tokens. */
async function open(env: NodeJS.ProcessEnv, withRedis: boolean): Promise<Services & { prefix: string }> {
  const cfg = loadEnv(commonEnv, env);
  let redis: Redis | undefined;
  if (withRedis) {
    redis = createRedis(cfg.REDIS_URL, 'producer');
    redis.on('error', () => {});
    try {
      await waitForRedis(redis, cfg.REDIS_URL);
    } catch (err) {
      redis.disconnect();
      throw new Error(
        `${(err as Error).message}: account changes must reach the gateways through Redis (REDIS_URL)`,
      );
    }
  }
  let db: Database;
  try {
    db = await openWardDatabase(env);
  } catch (err) {
    redis?.disconnect();
    throw err;
  }
  return {
    db,
    ...(redis && { redis }),
    prefix: cfg.REDIS_PREFIX,
    async close() {
      await db.close();
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * Records an account or key change made at the console in the audit trail, as the operating-system
 * user who ran `ward`. The change itself is already made; a failure to record it is reported loudly.
 */
async function recordCli(
  s: Services & { prefix: string },
  io: CliIO,
  input: Omit<AuditEventInput, 'actor' | 'outcome'>,
) {
  if (!s.redis) return;
  const emitter = new AuditEmitter({ connection: s.redis, prefix: redisKeys(s.prefix).bull });
  try {
    await emitter.emit(
      completeAuditEvent(
        {
          ...input,
          outcome: 'success',
          actor: { sub: `cli:${userInfo().username}`, method: 'cli' },
          source: { service: 'cli' },
        },
        'cli',
      ),
    );
  } catch (err) {
    io.stderr.write(
      `warning: the change was made but not recorded in the audit trail: ${(err as Error).message}\n`,
    );
  } finally {
    await emitter.close().catch(() => {});
  }
}

function userServiceOf(s: Services & { prefix: string }): UserService {
  const redis = s.redis!;
  const lockout = new LoginLockout(redis, s.prefix, { maxFailures: 1, lockSeconds: 1 });
  return new UserService(s.db, new TokenRevocation(redis, s.prefix), lockout);
}

/** Reads one line of stdin (piped), without the line break. */
async function readLine(stdin: Readable): Promise<string> {
  let data = '';
  for await (const chunk of stdin) {
    data += chunk.toString();
    const nl = data.indexOf('\n');
    if (nl >= 0) return data.slice(0, nl).replace(/\r$/, '');
  }
  return data.replace(/\r?\n?$/, '');
}

/** Prompts on stderr and reads a line from a terminal with echo off. */
function promptHidden(prompt: string, io: CliIO): Promise<string> {
  const stdin = io.stdin;
  io.stderr.write(prompt);
  stdin.setRawMode?.(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * The new password: typed twice at a terminal without echo, or the first line of stdin when it
 * is piped (`printf '%s\\n' "$PW" | ward users add …`). Never from the command line, where it
 * would land in the shell history and the process list.
 */
async function readNewPassword(io: CliIO): Promise<string> {
  let password: string;
  if (io.stdin.isTTY) {
    password = await promptHidden(`Password (at least ${MIN_PASSWORD_LENGTH} characters): `, io);
    const again = await promptHidden('Repeat the password: ', io);
    if (again !== password) throw new UsageError('the passwords do not match');
  } else password = await readLine(io.stdin);
  const problem = passwordProblem(password);
  if (problem) throw new UsageError(`the password ${problem}`);
  return password;
}

function printUsers(users: User[], io: CliIO, json: boolean): void {
  if (json) {
    io.stdout.write(`${JSON.stringify(users, null, 2)}\n`);
    return;
  }
  const rows = users.map((u) => [
    u.username,
    u.role,
    u.disabled ? 'disabled' : 'active',
    u.lastLoginAt ?? 'never',
    u.createdAt,
  ]);
  table(['USERNAME', 'ROLE', 'STATE', 'LAST LOGIN', 'CREATED'], rows, io);
}

function printKeys(keys: ApiKey[], io: CliIO, json: boolean): void {
  if (json) {
    io.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
    return;
  }
  const rows = keys.map((k) => [
    k.id,
    k.prefix,
    k.name,
    k.role,
    k.state,
    k.expiresAt,
    k.lastUsedAt ?? 'never',
  ]);
  table(['ID', 'PREFIX', 'NAME', 'ROLE', 'STATE', 'EXPIRES', 'LAST USED'], rows, io);
}

function table(head: string[], rows: string[][], io: CliIO): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows])
    io.stdout.write(
      `${r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
}

/** Runs `fn`, turning usage problems into status 2 and identity errors (taken name, …) into status 1. */
async function run(io: CliIO, usage: string, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`ward: ${err.message}\n${err.message.startsWith('usage') ? '' : `\n${usage}\n`}`);
      return 2;
    }
    if (
      typeof (err as { code?: unknown }).code === 'string' &&
      (err as { code: string }).code.startsWith('WARD_')
    ) {
      io.stderr.write(`ward: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
}

function tryParse<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * `ward users add|list|set-role|disable|enable|reset-password`. Changes reach live tokens at once
 * through Redis: disabling refuses the account's tokens, a role change or password reset ends its
 * login sessions. Returns the exit status.
 */
export async function usersCommand(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: CliIO = processIO(),
): Promise<number> {
  const [sub, ...rest] = args;
  return run(io, USERS_USAGE, async () => {
    const { values, positionals } = tryParse(() =>
      parseArgs({
        args: rest,
        allowPositionals: true,
        options: { role: { type: 'string' }, json: { type: 'boolean' } },
      }),
    );
    const name = positionals[0];
    const needName = () => {
      if (!name) throw new UsageError(`ward users ${sub} needs a username`);
      return name;
    };
    switch (sub) {
      case 'add': {
        const username = needName();
        if (!isRole(values.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
        const password = await readNewPassword(io);
        const s = await open(env, true);
        try {
          const user = await userServiceOf(s).create({ username, role: values.role, password });
          await recordCli(s, io, {
            action: 'user.created',
            resource: { type: 'user', id: user.username },
            detail: { role: user.role },
          });
          io.stderr.write(`created ${user.role} ${user.username} (${user.id})\n`);
        } finally {
          await s.close();
        }
        return 0;
      }
      case 'list': {
        const s = await open(env, false);
        try {
          printUsers(await listUsers(s.db), io, values.json === true);
        } finally {
          await s.close();
        }
        return 0;
      }
      case 'set-role': {
        const username = needName();
        const role = positionals[1] ?? values.role;
        if (!isRole(role)) throw new UsageError(`the role must be one of ${ROLES.join(', ')}`);
        const s = await open(env, true);
        try {
          const { user, previous } = await userServiceOf(s).setRole(username, role);
          if (previous !== user.role)
            await recordCli(s, io, {
              action: 'user.role.changed',
              resource: { type: 'user', id: user.username },
              detail: { from: previous, to: user.role },
            });
          io.stderr.write(
            previous === user.role
              ? `${user.username} already has role ${user.role}\n`
              : `${user.username}: ${previous} → ${user.role} (its sessions were ended)\n`,
          );
        } finally {
          await s.close();
        }
        return 0;
      }
      case 'disable':
      case 'enable': {
        const username = needName();
        const s = await open(env, true);
        try {
          const user = await userServiceOf(s).setDisabled(username, sub === 'disable');
          await recordCli(s, io, {
            action: user.disabled ? 'user.disabled' : 'user.enabled',
            resource: { type: 'user', id: user.username },
          });
          io.stderr.write(
            `${user.username} is ${user.disabled ? 'disabled: its tokens are refused' : 'enabled'}\n`,
          );
        } finally {
          await s.close();
        }
        return 0;
      }
      case 'reset-password': {
        const username = needName();
        const password = await readNewPassword(io);
        const s = await open(env, true);
        try {
          const user = await userServiceOf(s).resetPassword(username, password);
          await recordCli(s, io, {
            action: 'user.password.changed',
            resource: { type: 'user', id: user.username },
          });
          io.stderr.write(`password of ${user.username} reset; its sessions were ended\n`);
        } finally {
          await s.close();
        }
        return 0;
      }
      default:
        throw new UsageError(USERS_USAGE);
    }
  });
}

/**
 * `ward keys create|list|revoke`. `create` prints the key once on stdout (details on stderr), so
 * `KEY=$(ward keys create …)` captures only the key. A revoked key stops working on every gateway
 * within API_KEY_CACHE_SECONDS. Returns the exit status.
 */
export async function keysCommand(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: CliIO = processIO(),
): Promise<number> {
  const [sub, ...rest] = args;
  return run(io, KEYS_USAGE, async () => {
    const { values, positionals } = tryParse(() =>
      parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          name: { type: 'string' },
          role: { type: 'string' },
          days: { type: 'string' },
          expires: { type: 'string' },
          json: { type: 'boolean' },
        },
      }),
    );
    switch (sub) {
      case 'create': {
        if (!values.name) throw new UsageError('--name is required (what the key is for)');
        if (!isRole(values.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
        if (values.days !== undefined && values.expires !== undefined)
          throw new UsageError('give --days or --expires, not both');
        let expiresAt: Date | undefined;
        if (values.days !== undefined) {
          const days = Number(values.days);
          if (!Number.isInteger(days) || days < 1 || days > MAX_KEY_DAYS)
            throw new UsageError(`--days must be a whole number from 1 to ${MAX_KEY_DAYS}`);
          expiresAt = new Date(Date.now() + days * 86_400_000);
        } else if (values.expires !== undefined) {
          expiresAt = new Date(values.expires);
          if (Number.isNaN(expiresAt.getTime()))
            throw new UsageError('--expires must be a date such as 2027-03-31');
        }
        const s = await open(env, true);
        try {
          const { key, apiKey } = await new ApiKeyService(s.db).create({
            name: values.name,
            role: values.role,
            createdBy: cliActor(),
            expiresAt,
          });
          await recordCli(s, io, {
            action: 'apikey.created',
            resource: { type: 'api-key', id: apiKey.id },
            detail: { role: apiKey.role },
          });
          io.stdout.write(`${key}\n`);
          io.stderr.write(
            `API key ${apiKey.id} (${apiKey.role}, expires ${apiKey.expiresAt}${expiresAt ? '' : `, the default ${DEFAULT_KEY_DAYS} days`}).\n` +
              'Store it now: it is not shown again.\n',
          );
        } finally {
          await s.close();
        }
        return 0;
      }
      case 'list': {
        const s = await open(env, false);
        try {
          printKeys(await new ApiKeyService(s.db).list(), io, values.json === true);
        } finally {
          await s.close();
        }
        return 0;
      }
      case 'revoke': {
        const id = positionals[0];
        if (!id) throw new UsageError('ward keys revoke needs the key id (see ward keys list)');
        const s = await open(env, true);
        try {
          const key = await new ApiKeyService(s.db).revoke(id, cliActor());
          await recordCli(s, io, { action: 'apikey.revoked', resource: { type: 'api-key', id: key.id } });
          io.stderr.write(
            `API key ${key.id} (${key.name}) revoked; gateways refuse it within API_KEY_CACHE_SECONDS\n`,
          );
        } finally {
          await s.close();
        }
        return 0;
      }
      default:
        throw new UsageError(KEYS_USAGE);
    }
  });
}
