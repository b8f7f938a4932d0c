import { describe, expect, it } from 'vitest';
import { Random, dateOfDay } from './random.js';

function draws(random: Random, n: number): number[] {
  return Array.from({ length: n }, () => random.nextUint32());
}

function meanAndVariance(values: readonly number[]): { mean: number; variance: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, variance };
}

describe('Random', () => {
  it('gives the same sequence for the same seed and stream, on every version', () => {
    expect(draws(new Random(42, 0), 500)).toEqual(draws(new Random(42, 0), 500));
    // Computed once from this implementation: a change here changes every generated population.
    expect(draws(new Random(42, 0), 5)).toEqual([3408113518, 819256881, 2295133680, 1397082069, 2989486360]);
    expect(draws(new Random(42, 7).fork(3), 3)).toEqual([3904421962, 4183363697, 1484374290]);
  });

  it('gives unrelated sequences for neighbouring seeds and streams', () => {
    const base = draws(new Random(42, 0), 100);
    for (const other of [new Random(43, 0), new Random(42, 1), new Random(42, 2 ** 32), new Random(2 ** 40, 0)]) {
      const seq = draws(other, 100);
      expect(seq.filter((v, i) => v === base[i]).length).toBe(0);
    }
    // No two of many household streams start alike (a 32-bit key would collide here and there).
    const firsts = new Set<string>();
    for (let stream = 0; stream < 20_000; stream++) {
      const r = new Random(1, stream);
      firsts.add(`${r.nextUint32()}:${r.nextUint32()}`);
    }
    expect(firsts.size).toBe(20_000);
  });

  it('forks by label, not by how much the parent has drawn', () => {
    const parent = new Random(7, 9);
    const before = draws(parent.fork(1), 20);
    draws(parent, 37);
    expect(draws(parent.fork(1), 20)).toEqual(before);
    expect(draws(parent.fork(2), 20)).not.toEqual(before);
    expect(draws(new Random(7, 10).fork(1), 20)).not.toEqual(before);
    // A fork is not the parent's own sequence.
    expect(draws(new Random(7, 9), 20)).not.toEqual(before);
  });

  it('draws uniforms in [0, 1) and integers in range with mean and variance of the uniform', () => {
    const r = new Random(3, 0);
    const u = Array.from({ length: 100_000 }, () => r.next());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const { mean, variance } = meanAndVariance(u);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(variance).toBeCloseTo(1 / 12, 2);
    const counts = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 60_000; i++) counts[r.int(1, 6) - 1]! += 1;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
  });

  it('draws normals with the asked mean and standard deviation', () => {
    const r = new Random(11, 0);
    const values = Array.from({ length: 100_000 }, () => r.normal(120, 15));
    const { mean, variance } = meanAndVariance(values);
    expect(Math.abs(mean - 120)).toBeLessThan(0.3);
    expect(Math.abs(Math.sqrt(variance) - 15)).toBeLessThan(0.3);
    // About 95% within two standard deviations.
    const within = values.filter((v) => Math.abs(v - 120) < 30).length / values.length;
    expect(Math.abs(within - 0.9545)).toBeLessThan(0.005);
  });

  it('draws Poisson counts whose mean and variance both equal the rate, small and large', () => {
    const r = new Random(12, 0);
    for (const rate of [0.3, 4, 55]) {
      const values = Array.from({ length: 50_000 }, () => r.poisson(rate));
      const { mean, variance } = meanAndVariance(values);
      expect(Math.abs(mean - rate) / rate).toBeLessThan(0.03);
      expect(Math.abs(variance - rate) / rate).toBeLessThan(0.05);
      expect(values.every((v) => Number.isInteger(v) && v >= 0)).toBe(true);
    }
    expect(r.poisson(0)).toBe(0);
  });

  it('picks in proportion to the weights and never picks a zero weight', () => {
    const r = new Random(13, 0);
    const items = ['a', 'b', 'c', 'd'] as const;
    const weights = [1, 0, 3, 6];
    const counts = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const item = r.weighted(items, weights);
      counts.set(item, (counts.get(item) ?? 0) + 1);
    }
    expect(counts.get('b')).toBeUndefined();
    expect(Math.abs((counts.get('a') ?? 0) / 100_000 - 0.1)).toBeLessThan(0.005);
    expect(Math.abs((counts.get('c') ?? 0) / 100_000 - 0.3)).toBeLessThan(0.007);
    expect(Math.abs((counts.get('d') ?? 0) / 100_000 - 0.6)).toBeLessThan(0.007);
    expect(() => r.weighted(items, [0, 0, 0, 0])).toThrow(/positive/);
    expect(() => r.pick([])).toThrow(/no items/);
  });

  it('draws dates between two days, both included, and refuses a reversed range', () => {
    const r = new Random(14, 0);
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) seen.add(r.dateBetween('2024-02-27', '2024-03-02'));
    expect([...seen].sort()).toEqual(['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01', '2024-03-02']);
    expect(() => r.dateBetween('2024-03-02', '2024-03-01')).toThrow(/before/);
    expect(() => r.dateBetween('2024-3-2', '2024-03-04')).toThrow(/from must be YYYY-MM-DD/);
  });

  it('refuses a seed that is not a non-negative integer', () => {
    expect(() => new Random(-1, 0)).toThrow(/seed/);
    expect(() => new Random(1.5, 0)).toThrow(/seed/);
    expect(() => new Random(1, Number.NaN)).toThrow(/stream/);
  });
});

describe('dateOfDay', () => {
  it('agrees with the calendar of Date for three centuries of days', () => {
    for (let day = -40_000; day < 70_000; day += 7) {
      expect(dateOfDay(day)).toBe(new Date(day * 86_400_000).toISOString().slice(0, 10));
    }
  });
});
