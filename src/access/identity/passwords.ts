/**
 * Password hashing with scrypt (node:crypto): memory-hard, so guessing is as costly on a GPU as on
 * the server, and no native dependency. Hashes are PHC strings that carry their own parameters:
 *
 *   $scrypt$ln=16,r=8,p=2$<salt, base64 no padding>$<hash, base64 no padding>
 *
 * Parameters (SCRYPT): N = 2^16, r = 8, p = 2, a 16-byte random salt per password, a 32-byte key.
 * This is one of OWASP's equivalent scrypt settings (Password Storage Cheat Sheet: N=2^17,r=8,p=1
 * or N=2^16,r=8,p=2 …): 64 MiB of memory per hash, about 0.4 s on one core of a small server.
 * When the parameters here change, `needsRehash` says so and the next successful sign-in stores
 * a new hash (users.ts), so old hashes are upgraded without anyone resetting a password.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptParameters {
  /** log2 of the CPU/memory cost N. */
  ln: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
}

export const SCRYPT: ScryptParameters = { ln: 16, r: 8, p: 2 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Longest password accepted: scrypt is slow on purpose, and megabytes of "password" should not reach it. */
export const MAX_PASSWORD_LENGTH = 256;
/** Shortest password a user may set (NIST SP 800-63B asks for at least 8; 12 for staff systems). */
export const MIN_PASSWORD_LENGTH = 12;

function derive(password: string, salt: Buffer, params: ScryptParameters): Promise<Buffer> {
  const N = 2 ** params.ln;
  return new Promise((resolve, reject) => {
    // maxmem: scrypt needs 128 * N * r bytes; Node's default cap (32 MiB) is below that.
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');

/** A new hash of the password with a fresh salt and the current parameters. */
export async function hashPassword(password: string, params: ScryptParameters = SCRYPT): Promise<string> {
  if (password.length === 0 || password.length > MAX_PASSWORD_LENGTH) throw new RangeError(`a password must have 1 to ${MAX_PASSWORD_LENGTH} characters`);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

interface ParsedHash {
  params: ScryptParameters;
  salt: Buffer;
  key: Buffer;
}

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function parseHash(stored: string): ParsedHash | undefined {
  const match = PHC.exec(stored);
  if (!match) return undefined;
  const [ln, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // Refuse parameters no sane hash has, rather than let a corrupted row allocate gigabytes.
  if (ln < 10 || ln > 20 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  return { params: { ln, r, p }, salt: Buffer.from(match[4] ?? '', 'base64'), key: Buffer.from(match[5] ?? '', 'base64') };
}

/** Whether the password matches the stored hash, compared in constant time. A malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (password.length === 0 || password.length > MAX_PASSWORD_LENGTH) return false;
  const parsed = parseHash(stored);
  if (!parsed || parsed.key.length !== KEY_BYTES) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  return timingSafeEqual(key, parsed.key);
}

/** Whether a stored hash was made with parameters other than the current ones (upgrade it on the next sign-in). */
export function needsRehash(stored: string, params: ScryptParameters = SCRYPT): boolean {
  const parsed = parseHash(stored);
  return !parsed || parsed.params.ln !== params.ln || parsed.params.r !== params.r || parsed.params.p !== params.p || parsed.salt.length < SALT_BYTES;
}

let dummy: Promise<string> | undefined;

/**
 * Spends the time a real verification would, for a username that does not exist (or has no
 * password), so the answer's timing does not tell an attacker which usernames are real.
 */
export async function verifyAgainstNothing(password: string): Promise<false> {
  dummy ??= hashPassword('openics-no-such-user');
  await verifyPassword(password.length > 0 && password.length <= MAX_PASSWORD_LENGTH ? password : 'x', await dummy);
  return false;
}

/** Problems with a new password, in words for the person choosing it (empty when it is acceptable). */
export function passwordProblems(password: string, username: string): string[] {
  const problems: string[] = [];
  if (password.length < MIN_PASSWORD_LENGTH) problems.push(`Password must be ${MIN_PASSWORD_LENGTH} characters or more`);
  if (password.length > MAX_PASSWORD_LENGTH) problems.push(`Password must be ${MAX_PASSWORD_LENGTH} characters or fewer`);
  if (password.toLowerCase().includes(username.toLowerCase())) problems.push('Password must not contain your username');
  return problems;
}
