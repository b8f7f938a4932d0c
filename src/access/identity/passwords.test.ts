import { describe, expect, it } from 'vitest';
import { SCRYPT, hashPassword, needsRehash, passwordProblems, verifyAgainstNothing, verifyPassword } from './passwords.js';

// Cheap parameters for the tests that are not about the cost itself.
const CHEAP = { ln: 10, r: 8, p: 1 };

describe('password hashing (scrypt)', () => {
  it('hashes with the documented parameters, a 16-byte salt and a 32-byte key, and verifies', async () => {
    const started = performance.now();
    const hash = await hashPassword('correct horse battery staple');
    const elapsed = performance.now() - started;
    const match = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([^$]+)\$([^$]+)$/.exec(hash);
    expect(match).not.toBeNull();
    expect([Number(match?.[1]), Number(match?.[2]), Number(match?.[3])]).toEqual([SCRYPT.ln, SCRYPT.r, SCRYPT.p]);
    expect(Buffer.from(match?.[4] ?? '', 'base64')).toHaveLength(16);
    expect(Buffer.from(match?.[5] ?? '', 'base64')).toHaveLength(32);
    // Memory-hard and deliberately slow: 64 MiB, tens of milliseconds at the very least.
    expect(2 ** SCRYPT.ln * 128 * SCRYPT.r).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    expect(elapsed).toBeGreaterThan(20);
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', hash)).toBe(false);
    expect(needsRehash(hash)).toBe(false);
  });

  it('salts each hash: the same password twice gives different hashes, each verifying', async () => {
    const [a, b] = await Promise.all([hashPassword('same password here', CHEAP), hashPassword('same password here', CHEAP)]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same password here', a)).toBe(true);
    expect(await verifyPassword('same password here', b)).toBe(true);
  });

  it('treats composed and decomposed Unicode as the same password', async () => {
    const hash = await hashPassword('caf\u00e9 au lait, please', CHEAP);
    expect(await verifyPassword('cafe\u0301 au lait, please', hash)).toBe(true);
  });

  it('says a hash made with other parameters needs rehashing', async () => {
    const old = await hashPassword('an older password', CHEAP);
    expect(needsRehash(old)).toBe(true);
    expect(await verifyPassword('an older password', old)).toBe(true);
  });

  it('never matches a malformed or absurd hash, an empty or an overlong password', async () => {
    const hash = await hashPassword('a good password', CHEAP);
    expect(await verifyPassword('a good password', 'plaintext')).toBe(false);
    expect(await verifyPassword('a good password', hash.replace('ln=10', 'ln=40'))).toBe(false);
    expect(await verifyPassword('a good password', hash.slice(0, -4))).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
    expect(await verifyPassword('x'.repeat(257), hash)).toBe(false);
    expect(needsRehash('plaintext')).toBe(true);
    await expect(hashPassword('')).rejects.toThrow(RangeError);
  });

  it('spends a verification’s time when there is no user, and answers false', async () => {
    await verifyAgainstNothing('warm up');
    const started = performance.now();
    expect(await verifyAgainstNothing('anything at all')).toBe(false);
    expect(performance.now() - started).toBeGreaterThan(20);
  });

  it('names what is wrong with a new password', () => {
    expect(passwordProblems('short', 'alice')).toEqual(['Password must be 12 characters or more']);
    expect(passwordProblems('alice-is-the-best', 'alice')).toEqual(['Password must not contain your username']);
    expect(passwordProblems('a perfectly fine passphrase', 'alice')).toEqual([]);
  });
});
