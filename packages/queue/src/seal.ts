import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import type { DataKeyring } from '@ward/config';

/** Raised when an envelope cannot be opened: unknown key id, tampering, or garbage. Never carries content. */
export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealError';
  }
}

const VERSION = 'w1';

// Random 96-bit IVs, drawn from a pooled buffer rather than one OS call per seal.
const IV_POOL = Buffer.alloc(12 * 512);
let ivAt = IV_POOL.length;
function nextIv(): Buffer {
  if (ivAt === IV_POOL.length) {
    randomFillSync(IV_POOL);
    ivAt = 0;
  }
  const iv = Buffer.from(IV_POOL.subarray(ivAt, ivAt + 12));
  ivAt += 12;
  return iv;
}

/**
 * Seals patient data for storage in Redis with AES-256-GCM. An envelope is
 * `w1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts), so keys can rotate:
 * new envelopes use the current key, old ones open with any key still in the ring.
 */
export class Sealer {
  readonly #ring: DataKeyring;
  readonly #current: Buffer;

  constructor(ring: DataKeyring) {
    const current = ring.keys.get(ring.currentId);
    if (current?.length !== 32) throw new SealError('the current data key must be 32 bytes');
    if (ring.currentId.includes('.')) throw new SealError('a data key id must not contain "."');
    this.#ring = ring;
    this.#current = current as Buffer;
  }

  /** Seals a string or bytes. */
  seal(plain: string | Buffer): string {
    const iv = nextIv();
    const cipher = createCipheriv('aes-256-gcm', this.#current, iv);
    const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
    return `${VERSION}.${this.#ring.currentId}.${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${ct.toString('base64url')}`;
  }

  /** Opens an envelope made by {@link seal} with any key in the ring. */
  open(envelope: string): Buffer {
    const parts = envelope.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new SealError('not a sealed envelope');
    const key = this.#ring.keys.get(parts[1]!);
    if (!key) throw new SealError(`no data key with id "${parts[1]}"`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[2]!, 'base64url'));
      decipher.setAuthTag(Buffer.from(parts[3]!, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(parts[4]!, 'base64url')), decipher.final()]);
    } catch {
      throw new SealError('envelope failed authentication');
    }
  }

  sealJson(value: unknown): string {
    return this.seal(JSON.stringify(value));
  }

  openJson<T>(envelope: string): T {
    return JSON.parse(this.open(envelope).toString('utf8')) as T;
  }

  /** The key id new envelopes carry. */
  get keyId(): string {
    return this.#ring.currentId;
  }
}
