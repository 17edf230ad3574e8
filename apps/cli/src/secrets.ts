import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Secrets generated for a development machine, kept in ./data so `ward token` and `ward start` agree. */
interface DevSecrets {
  JWT_SECRET: string;
  WARD_DATA_KEY: string;
}

/**
 * Outside HIPAA mode, fills JWT_SECRET and WARD_DATA_KEY from `<dataDir>/dev-secrets.json`,
 * creating it (mode 0600) on first use. In HIPAA mode nothing is generated: the operator must
 * provide real secrets. Returns the names that were filled in.
 */
export function applyDevSecrets(env: NodeJS.ProcessEnv, dataDir = join(process.cwd(), 'data')): string[] {
  const hipaa = /^(1|true|yes|on)$/i.test(env.HIPAA_MODE ?? '');
  if (hipaa) return [];
  const needJwt = !env.JWT_SECRET && !env.JWT_PUBLIC_KEY;
  const needKey = !env.WARD_DATA_KEY;
  if (!needJwt && !needKey) return [];
  const file = join(dataDir, 'dev-secrets.json');
  let secrets: DevSecrets;
  if (existsSync(file)) secrets = JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  else {
    secrets = {
      JWT_SECRET: randomBytes(48).toString('base64url'),
      WARD_DATA_KEY: randomBytes(32).toString('base64'),
    };
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  const filled: string[] = [];
  if (needJwt) {
    env.JWT_SECRET = secrets.JWT_SECRET;
    filled.push('JWT_SECRET');
  }
  if (needKey) {
    env.WARD_DATA_KEY = secrets.WARD_DATA_KEY;
    filled.push('WARD_DATA_KEY');
  }
  return filled;
}
