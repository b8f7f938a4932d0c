/**
 * Identifiers of the generated feeds, all deterministic (same seed, same ids) and all opaque:
 *
 * - **Resource ids.** A secret is made from the seed once (HMAC-SHA-256). Each holder's copy of
 *   a resident gets a key: a 128-bit MurmurHash3 of (holder, resident id) seeded with the
 *   secret; the Patient's id is another such hash, in base32. Each record's id is the hash of
 *   its record key seeded with the copy's key, in base32. So no id shows the resident, the NHS
 *   number or the record key, and the ids of one resident at two holders have nothing in common:
 *   only the ground truth links them. (A few hundred nanoseconds an id: an HMAC per copy or per
 *   record would cost a tenth to a quarter of the generator's time.)
 * - **Local identifiers** (hospital numbers, GP system ids, social care person ids): a keyed
 *   permutation (a small Feistel network with cycle walking) of the resident's sequence number
 *   within a range of numbers of the system's own length. A permutation never gives two residents
 *   the same number, and it needs no shared counter, so workers can number residents on their own.
 */
import { createHmac } from 'node:crypto';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Length of every generated resource id: 22 base32 characters, 110 bits. */
export const ID_LENGTH = 22;

/** The first `chars` base32 characters (RFC 4648 alphabet, lower case) of the bytes. */
export function base32(bytes: Uint8Array, chars: number): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < bytes.length && out.length < chars; i++) {
    buffer = ((buffer << 8) | (bytes[i] ?? 0)) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      bits -= 5;
      out += BASE32[(buffer >>> bits) & 31];
    }
  }
  if (out.length < chars) throw new Error(`base32: ${bytes.length} bytes give fewer than ${chars} characters`);
  return out;
}

/** The first `chars` (at most 25) base32 characters of four 32-bit words, most significant bits first. */
export function base32Words(words: readonly [number, number, number, number], chars: number): string {
  let out = '';
  let bit = 0;
  for (let c = 0; c < chars; c++, bit += 5) {
    const word = bit >>> 5;
    const offset = bit & 31;
    const w = words[word] ?? 0;
    // Five bits starting `offset` bits into `word`, borrowing from the next word at a boundary.
    const value = offset <= 27 ? (w >>> (27 - offset)) & 31 : ((w << (offset - 27)) | ((words[word + 1] ?? 0) >>> (59 - offset))) & 31;
    out += BASE32[value];
  }
  return out;
}

/** The seed's secret for ids: every id of a population derives from it. */
function seedKey(seed: number, purpose: string): Buffer {
  return createHmac('sha256', 'openics-synthetic').update(`${purpose}:${seed}`).digest();
}

/** One holder's copy of one resident: the key its ids derive from. */
export interface CopyKey {
  /** The Patient resource's id. */
  readonly patientId: string;
  /** Four 32-bit words seeding the hash of each record key. */
  readonly words: readonly [number, number, number, number];
}

const words4 = (bytes: Buffer, at: number): [number, number, number, number] => [bytes.readUInt32LE(at), bytes.readUInt32LE(at + 4), bytes.readUInt32LE(at + 8), bytes.readUInt32LE(at + 12)];

export class FeedIds {
  private readonly patientSeed: [number, number, number, number];
  private readonly copySeed: [number, number, number, number];
  private readonly localKeys = new Map<string, readonly number[]>();
  private readonly localSecret: Buffer;

  constructor(readonly seed: number) {
    const secret = seedKey(seed, 'ids');
    this.patientSeed = words4(secret, 0);
    this.copySeed = words4(secret, 16);
    this.localSecret = seedKey(seed, 'local');
  }

  copyKey(holder: string, residentId: string): CopyKey {
    const text = `${holder}\u0000${residentId}`;
    return { patientId: base32Words(murmur3x86x128(text, this.patientSeed), ID_LENGTH), words: murmur3x86x128(text, this.copySeed) };
  }

  /** The id of the record with this key in this copy. */
  resourceId(copy: CopyKey, recordKey: string): string {
    return base32Words(murmur3x86x128(recordKey, copy.words), ID_LENGTH);
  }

  /**
   * The resident's number in a holder's system: a keyed permutation of `sequence` within
   * [0, size), so each holder numbers residents differently and never twice the same.
   */
  localNumber(holder: string, sequence: number, size: number): number {
    if (!Number.isInteger(sequence) || sequence < 0 || sequence >= size) {
      throw new RangeError(`resident sequence ${sequence} does not fit a local number space of ${size}`);
    }
    return permute(sequence, size, this.roundKeys(holder));
  }

  private roundKeys(holder: string): readonly number[] {
    let keys = this.localKeys.get(holder);
    if (keys === undefined) {
      const digest = createHmac('sha256', this.localSecret).update(holder).digest();
      keys = [0, 1, 2, 3, 4, 5].map((i) => digest.readUInt32LE(i * 4));
      this.localKeys.set(holder, keys);
    }
    return keys;
  }
}

// ---------------------------------------------------------------------------------------------
// A keyed permutation of [0, size): a balanced Feistel network over the smallest even number of
// bits that covers `size`, walking the cycle until the output falls in range (at most a few steps,
// since the bit range is under four times `size`).

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function permute(value: number, size: number, keys: readonly number[]): number {
  let bits = 2;
  while (2 ** bits < size) bits += 2;
  const half = bits / 2;
  const mask = 2 ** half - 1;
  let x = value;
  do {
    let left = Math.floor(x / 2 ** half);
    let right = x % 2 ** half;
    for (const key of keys) {
      const next = (left ^ (fmix32(right ^ key) & mask)) >>> 0;
      left = right;
      right = next;
    }
    x = left * 2 ** half + right;
  } while (x >= size);
  return x;
}

// ---------------------------------------------------------------------------------------------
// MurmurHash3 x86 128-bit (Austin Appleby, public domain), over the UTF-16 code units of a key
// (two to a 32-bit word), with each of the four lanes seeded separately.

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

/** Two UTF-16 code units of `key` from unit `at` as one little-endian 32-bit word (0 past the end). */
function wordAt(key: string, at: number): number {
  const low = key.charCodeAt(at);
  const high = at + 1 < key.length ? key.charCodeAt(at + 1) : 0;
  return (low | (high << 16)) >>> 0;
}

export function murmur3x86x128(key: string, seed: readonly [number, number, number, number]): [number, number, number, number] {
  let [h1, h2, h3, h4] = seed;
  // Two UTF-16 code units per 32-bit word, four words per block.
  const words = (key.length + 1) >> 1;
  const blocks = words >> 2;
  for (let b = 0; b < blocks; b++) {
    const at = b * 8;
    let k1 = wordAt(key, at);
    let k2 = wordAt(key, at + 2);
    let k3 = wordAt(key, at + 4);
    let k4 = wordAt(key, at + 6);
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = rotl(h1, 19) + h2;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = rotl(h2, 17) + h3;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = rotl(h3, 15) + h4;
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = rotl(h4, 13) + h1;
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }
  const rest = words - blocks * 4;
  if (rest > 0) {
    const at = blocks * 8;
    if (rest >= 3) h3 ^= Math.imul(rotl(Math.imul(wordAt(key, at + 4), C3), 17), C4);
    if (rest >= 2) h2 ^= Math.imul(rotl(Math.imul(wordAt(key, at + 2), C2), 16), C3);
    h1 ^= Math.imul(rotl(Math.imul(wordAt(key, at), C1), 15), C2);
  }
  const length = key.length * 2;
  h1 ^= length;
  h2 ^= length;
  h3 ^= length;
  h4 ^= length;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}
