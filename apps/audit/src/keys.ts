import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '@ward/config';

/** Signs checkpoint payloads. The private key never enters the database. */
export interface AuditSigner {
  /** Identifies the public key that verifies this signer's signatures. */
  readonly keyId: string;
  readonly publicKey: KeyObject;
  /** Ed25519 signature of the payload's UTF-8 bytes, base64. */
  sign(payload: string): string;
}

/** The key id of an Ed25519 public key: the first 16 hex digits of SHA-256 over its SPKI DER. */
export function auditKeyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** A signer over an Ed25519 private key (a PEM string or a KeyObject). */
export function ed25519Signer(privateKey: KeyObject | string): AuditSigner {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  if (key.asymmetricKeyType !== 'ed25519')
    throw new ConfigError([
      `the audit signing key must be an Ed25519 key (got ${key.asymmetricKeyType ?? key.type})`,
    ]);
  const publicKey = createPublicKey(key);
  const keyId = auditKeyId(publicKey);
  return {
    keyId,
    publicKey,
    sign: (payload) => sign(null, Buffer.from(payload, 'utf8'), key).toString('base64'),
  };
}

/** Whether `signature` (base64) is `publicKey`'s Ed25519 signature of `payload`. */
export function verifySignature(publicKey: KeyObject, payload: string, signature: string): boolean {
  try {
    return verify(null, Buffer.from(payload, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** A new Ed25519 private key in PKCS#8 PEM. */
export function generateSigningKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Where a development signing key is generated when none is configured outside HIPAA mode. */
export function devSigningKeyPath(dataDir: string): string {
  return resolve(join(dataDir, 'audit-signing-key.pem'));
}

/** The configuration {@link loadAuditSigner} reads. */
export interface SigningKeyConfig {
  HIPAA_MODE: boolean;
  AUDIT_SIGNING_KEY?: string | undefined;
  AUDIT_SIGNING_KEY_FILE?: string | undefined;
  WARD_DATA_DIR: string;
}

/** The signer and where its key came from. */
export interface LoadedSigner {
  signer: AuditSigner;
  source: 'AUDIT_SIGNING_KEY' | 'AUDIT_SIGNING_KEY_FILE' | 'generated' | 'development file';
  /** The file the key was read from or generated into. */
  file?: string;
}

/**
 * Loads the checkpoint signing key: AUDIT_SIGNING_KEY (PEM), else AUDIT_SIGNING_KEY_FILE. Outside
 * HIPAA mode a key is generated into `<WARD_DATA_DIR>/audit-signing-key.pem` (mode 0600) the first
 * time; with HIPAA_MODE=true a configured key is required.
 */
export function loadAuditSigner(cfg: SigningKeyConfig): LoadedSigner {
  const fail = (msg: string): never => {
    throw new ConfigError([msg]);
  };
  if (cfg.AUDIT_SIGNING_KEY) {
    try {
      return {
        signer: ed25519Signer(cfg.AUDIT_SIGNING_KEY.replace(/\\n/g, '\n')),
        source: 'AUDIT_SIGNING_KEY',
      };
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      return fail('AUDIT_SIGNING_KEY is not a PEM private key');
    }
  }
  if (cfg.AUDIT_SIGNING_KEY_FILE) {
    const file = resolve(cfg.AUDIT_SIGNING_KEY_FILE);
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (err) {
      return fail(`AUDIT_SIGNING_KEY_FILE ${file} cannot be read (${(err as NodeJS.ErrnoException).code})`);
    }
    try {
      return { signer: ed25519Signer(pem), source: 'AUDIT_SIGNING_KEY_FILE', file };
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      return fail(`AUDIT_SIGNING_KEY_FILE ${file} does not hold a PEM private key`);
    }
  }
  if (cfg.HIPAA_MODE)
    return fail(
      'AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE is required when HIPAA_MODE=true (openssl genpkey -algorithm ed25519)',
    );
  const file = devSigningKeyPath(cfg.WARD_DATA_DIR);
  if (existsSync(file))
    return { signer: ed25519Signer(readFileSync(file, 'utf8')), source: 'development file', file };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const pem = generateSigningKeyPem();
  writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  return { signer: ed25519Signer(pem), source: 'generated', file };
}

/** Public keys from PEM files (AUDIT_PUBLIC_KEYS); a private key's public half is accepted too. */
export function loadPublicKeys(files: readonly string[]): KeyObject[] {
  return files.map((f) => {
    const pem = readFileSync(resolve(f), 'utf8');
    const key = /PRIVATE KEY/.test(pem) ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new ConfigError([`${f} is not an Ed25519 key`]);
    return key;
  });
}
