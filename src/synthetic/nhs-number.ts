/**
 * NHS numbers for synthetic residents: ten digits in the range the NHS never issues
 * (999 000 0000 – 999 999 9999, reserved for testing), with a valid Modulus 11 check digit.
 *
 * Resident number n maps to an NHS number through a keyed permutation, so numbers look scattered
 * yet are unique within a generation by construction (no random draws, no collisions to check).
 * The range holds 10^6 nine-digit stems; about one in eleven has check digit 10 and can never be
 * used. To keep the arithmetic exact we use 9 stems of every run of 10 (the stems sharing their
 * first eight digits), which gives 900,000 numbers: enough for the largest ICB population the
 * generator is asked for (Herefordshire and Worcestershire, about 820,000).
 */

/** How many distinct NHS numbers one generation can hand out. */
export const NHS_NUMBER_CAPACITY = 900_000;

/** Modulus 11 check digit of nine digits, or 10 when no valid NHS number has these nine. */
export function nhsCheckDigit(nineDigits: string): number {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (nineDigits.charCodeAt(i) - 48) * (10 - i);
  const check = 11 - (sum % 11);
  return check === 11 ? 0 : check;
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

const HALF_BITS = 10;
const HALF = 1 << HALF_BITS; // 1024; the Feistel domain is 1024 × 1024 ≥ 900,000
const ROUNDS = 6;

/** A balanced Feistel network on [0, 2^20): a bijection, keyed by the seed. */
function feistel(value: number, keys: readonly number[]): number {
  let left = value >>> HALF_BITS;
  let right = value & (HALF - 1);
  for (const key of keys) {
    const next = left ^ (mix32(right ^ key) & (HALF - 1));
    left = right;
    right = next;
  }
  return (left << HALF_BITS) | right;
}

const keyCache = new Map<number, number[]>();
function keysFor(seed: number): number[] {
  let keys = keyCache.get(seed);
  if (!keys) {
    keys = [];
    let h = mix32((seed >>> 0) ^ 0x4e48534e) ^ mix32(Math.floor(seed / 4294967296) >>> 0);
    for (let i = 0; i < ROUNDS; i++) {
      h = mix32((h + 0x9e3779b9) >>> 0);
      keys.push(h);
    }
    if (keyCache.size > 64) keyCache.clear();
    keyCache.set(seed, keys);
  }
  return keys;
}

/**
 * The NHS number of resident `sequence` (0-based) in the generation with this seed. Distinct
 * sequences give distinct numbers; the same (sequence, seed) always gives the same number.
 */
export function nhsNumberFor(sequence: number, seed: number): string {
  if (!Number.isInteger(sequence) || sequence < 0 || sequence >= NHS_NUMBER_CAPACITY) {
    throw new Error(`nhsNumberFor: resident sequence must be an integer from 0 to ${NHS_NUMBER_CAPACITY - 1}, got ${sequence}`);
  }
  const keys = keysFor(seed);
  // Cycle-walking keeps the permutation inside [0, capacity): a bijection on that range.
  let index = feistel(sequence, keys);
  while (index >= NHS_NUMBER_CAPACITY) index = feistel(index, keys);
  const group = Math.floor(index / 9);
  let position = index % 9;
  // The stem's first eight digits are 999 and the group; their weighted sum is shared by the run.
  const eight = 99_900_000 + group;
  let sum = 0;
  let rest = eight;
  for (let weight = 3; weight <= 10; weight++) {
    sum += (rest % 10) * weight;
    rest = Math.floor(rest / 10);
  }
  for (let last = 0; last < 10; last++) {
    let check = 11 - ((sum + last * 2) % 11);
    if (check === 11) check = 0;
    if (check === 10) continue;
    if (position === 0) return String(eight * 100 + last * 10 + check);
    position -= 1;
  }
  // Each run of ten stems has at most one without a check digit, so nine always remain.
  throw new Error(`nhsNumberFor: no NHS number at index ${index}`);
}

