import { describe, expect, it } from 'vitest';
import { FeedIds, ID_LENGTH, base32, base32Words } from './ids.js';
import { Random } from './random.js';

describe('ids', () => {
  it('writes 128-bit words in base32 exactly as their big-endian bytes', () => {
    const random = new Random(3, 1);
    for (let i = 0; i < 500; i++) {
      const words: [number, number, number, number] = [random.nextUint32(), random.nextUint32(), random.nextUint32(), random.nextUint32()];
      const bytes = Buffer.alloc(16);
      words.forEach((w, k) => bytes.writeUInt32BE(w, k * 4));
      expect(base32Words(words, 25)).toBe(base32(bytes, 25));
    }
    expect(base32(Buffer.from('foobar'), 8)).toBe('mzxw6ytb');
  });

  it('gives each record of a copy its own id, the same every time, and other copies other ids', () => {
    const ids = new FeedIds(42);
    const a = ids.copyKey('RWP', 'R0000001');
    const b = ids.copyKey('RLQ', 'R0000001');
    expect(a.patientId).toHaveLength(ID_LENGTH);
    expect(ids.resourceId(a, 'enc-1')).toBe(new FeedIds(42).resourceId(new FeedIds(42).copyKey('RWP', 'R0000001'), 'enc-1'));
    expect(ids.resourceId(a, 'enc-1')).not.toBe(ids.resourceId(b, 'enc-1'));
    expect(ids.resourceId(a, 'enc-1')).not.toBe(ids.resourceId(a, 'enc-2'));
    expect(ids.resourceId(a, 'enc-1')).not.toBe(new FeedIds(43).resourceId(new FeedIds(43).copyKey('RWP', 'R0000001'), 'enc-1'));
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(ids.resourceId(a, `obs-${i}`));
    expect(seen.size).toBe(20_000);
  });

  it('numbers residents with a permutation: every number in range once', () => {
    const ids = new FeedIds(42);
    for (const size of [1, 7, 1000, 4099]) {
      const seen = new Set<number>();
      for (let i = 0; i < size; i++) seen.add(ids.localNumber('RWP', i, size));
      expect(seen.size).toBe(size);
      expect(Math.max(...seen)).toBe(size - 1);
    }
    // Different holders number the same residents differently.
    const rwp = Array.from({ length: 50 }, (_, i) => ids.localNumber('RWP', i, 10_000_000));
    const rlq = Array.from({ length: 50 }, (_, i) => ids.localNumber('RLQ', i, 10_000_000));
    expect(rwp.filter((n, i) => n === rlq[i])).toEqual([]);
    expect(() => ids.localNumber('RWP', 10, 10)).toThrow(/does not fit/);
  });
});
