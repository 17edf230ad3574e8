import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/** Shortest password Ward accepts. */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest password Ward accepts (bounds hashing work on hostile input). */
export const MAX_PASSWORD_LENGTH = 1024;

/** scrypt cost: N = 2^15, r = 8, p = 1 (32 MiB, about 70 ms on one core of a small server). */
export const SCRYPT_PARAMS = { ln: 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const HASH_RE =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function scryptAsync(password: string, salt: Buffer, length: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, length, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

function options(ln: number, r: number, p: number): ScryptOptions {
  const N = 2 ** ln;
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
}

/**
 * Why a password is refused, or undefined when it is acceptable. The rule is length: at least
 * {@link MIN_PASSWORD_LENGTH} characters, not only whitespace.
 */
export function passwordProblem(password: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  if (!password.trim()) return 'must not be only whitespace';
  return undefined;
}

/** Hashes a password with scrypt and a fresh random salt: `$scrypt$ln=15,r=8,p=1$<salt>$<hash>`. */
export async function hashPassword(password: string): Promise<string> {
  const { ln, r, p } = SCRYPT_PARAMS;
  const salt = randomBytes(SALT_LENGTH);
  const hash = await scryptAsync(password, salt, KEY_LENGTH, options(ln, r, p));
  return `$scrypt$ln=${ln},r=${r},p=${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Checks a password against a stored hash in constant time; a malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = HASH_RE.exec(stored);
  if (!m) return false;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 10 || ln > 20 || r < 1 || r > 32 || p < 1 || p > 4) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  if (expected.length < 16) return false;
  const actual = await scryptAsync(
    password,
    Buffer.from(m[4]!, 'base64'),
    expected.length,
    options(ln, r, p),
  );
  return timingSafeEqual(actual, expected);
}

/** True when a stored hash uses weaker parameters than {@link SCRYPT_PARAMS} and should be rehashed. */
export function needsRehash(stored: string): boolean {
  const m = HASH_RE.exec(stored);
  if (!m) return true;
  return Number(m[1]) < SCRYPT_PARAMS.ln || Number(m[2]) < SCRYPT_PARAMS.r;
}

/**
 * A hash of a random password with the current parameters, verified against when a login names an
 * unknown user, so that answer takes as long as a wrong password for a real one.
 */
export function dummyHash(): Promise<string> {
  return hashPassword(randomBytes(24).toString('base64'));
}
