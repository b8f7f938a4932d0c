/**
 * The generator's only source of randomness: a small, fast, seeded PRNG whose output is the same
 * on every Node version and platform (pure 32-bit integer arithmetic; no Math.random).
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG, PractRand-tested, period
 * ≥ 2^32 and about 2^127 on average), as used by many JavaScript PRNG libraries. Its 128-bit state
 * is derived from (seed, stream) by a splitmix32-style mixing function, so that nearby seeds and
 * streams (household 1, 2, 3…) give unrelated sequences and two streams collide only with
 * probability ~2^-128 (a 32-bit key would make ~80 of 820,000 households identical twins).
 *
 * `fork(label)` derives an independent sub-stream from the parent's *key* and the label, not from
 * how many numbers the parent has drawn: `fork(3)` gives the same stream whenever it is called, so
 * one part of a household (a resident, a condition) can change its draws without shifting any
 * other part's.
 */

const TWO_POW_32 = 4294967296;

/** splitmix32 finaliser (Steele, Lea & Flood 2014; 32-bit constants of Mulberry/“lowbias32”). */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** Hash a list of 32-bit words to one word, with a lane constant so four lanes give 128 bits. */
function hashWords(words: readonly number[], lane: number): number {
  let h = mix32((0x9e3779b9 * (lane + 1)) >>> 0);
  for (const w of words) {
    h = mix32((h + 0x9e3779b9 + mix32(w >>> 0)) >>> 0);
  }
  return h;
}

/** Split a non-negative safe integer into its low and high 32-bit words. */
function words64(value: number, name: string): [number, number] {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`Random: ${name} must be a non-negative integer, got ${value}`);
  return [value >>> 0, Math.floor(value / TWO_POW_32) >>> 0];
}

function dayNumber(date: string, name: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) throw new Error(`Random.dateBetween: ${name} must be YYYY-MM-DD, got ${JSON.stringify(date)}`);
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) / 86_400_000;
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/** Year, month (1–12) and day of a day number (days since 1970-01-01), by Hinnant's civil-from-days. */
export function civilOfDay(day: number): [number, number, number] {
  const z = Math.floor(day) + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/** YYYY-MM-DD of a day number (days since 1970-01-01, UTC); years 1000–9999. */
export function dateOfDay(day: number): string {
  const [y, m, d] = civilOfDay(day);
  return `${y}-${TWO_DIGITS[m] as string}-${TWO_DIGITS[d] as string}`;
}

/** FNV-1a of a string: a stable number from a code, for small choices and fork labels (not for ids). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Random {
  private key: [number, number, number, number] = [0, 0, 0, 0];
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  private spareNormal: number | undefined;

  constructor(seed: number, stream: number) {
    const [s0, s1] = words64(seed, 'seed');
    const [t0, t1] = words64(stream, 'stream');
    this.reseed([s0, s1, t0, t1]);
  }

  private reseed(words: readonly number[]): void {
    this.key = [hashWords(words, 0), hashWords(words, 1), hashWords(words, 2), hashWords(words, 3)];
    [this.a, this.b, this.c, this.d] = this.key;
    this.spareNormal = undefined;
    // Warm up, as sfc32's author recommends, so the first outputs do not echo the seed.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1), in steps of 2^-32. */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform integer in [min, maxInclusive]. */
  int(min: number, maxInclusive: number): number {
    if (maxInclusive < min) throw new Error(`Random.int: max ${maxInclusive} is below min ${min}`);
    return min + Math.floor(this.next() * (maxInclusive - min + 1));
  }

  /** True with probability p (p ≤ 0 never, p ≥ 1 always). */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Random.pick: no items to pick from');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** One of `items`, each with probability proportional to its weight (weights ≥ 0, not all 0). */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    return items[this.weightedIndex(weights)] as T;
  }

  /** The index chosen with probability proportional to its weight. */
  weightedIndex(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w > 0 ? w : 0;
    if (!(total > 0)) throw new Error('Random.weighted: the weights must include a positive one');
    let target = this.next() * total;
    let last = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i] as number;
      if (!(w > 0)) continue;
      last = i;
      if (target < w) return i;
      target -= w;
    }
    return last; // rounding at the very top of the range
  }

  /** Normally distributed (Marsaglia's polar method: only log and sqrt, no trigonometry). */
  normal(mean: number, sd: number): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + sd * z;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const factor = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * factor;
    return mean + sd * u * factor;
  }

  /** Poisson-distributed count: Knuth's product method below 30, a rounded normal above. */
  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean < 30) {
      const limit = Math.exp(-mean);
      let k = 0;
      let p = this.next();
      while (p > limit) {
        k += 1;
        p *= this.next();
      }
      return k;
    }
    return Math.max(0, Math.round(this.normal(mean, Math.sqrt(mean))));
  }

  /** Exponentially distributed with the given mean (waiting times, gaps between events). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** A uniform date between `from` and `to`, both included (YYYY-MM-DD). */
  dateBetween(from: string, to: string): string {
    const start = dayNumber(from, 'from');
    const end = dayNumber(to, 'to');
    if (end < start) throw new Error(`Random.dateBetween: ${to} is before ${from}`);
    return dateOfDay(this.int(start, end));
  }

  /** A new array with the items in random order (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }

  /**
   * An independent sub-stream named by `label` (a non-negative integer). It depends only on this
   * stream's seed, stream and fork labels and on `label`, never on how much has been drawn.
   */
  fork(label: number): Random {
    const [l0, l1] = words64(label, 'fork label');
    const child = new Random(0, 0);
    child.reseed([...this.key, l0, l1, 0x666f726b]);
    return child;
  }
}
