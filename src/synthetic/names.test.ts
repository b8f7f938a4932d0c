import { describe, expect, it } from 'vitest';
import { NICKNAMES, SPELLING_VARIANTS, adaptSurnameToSex, givenNameFor, inwardCode, namePoolOf, streetLine, surnameFor } from './names.js';
import { Random } from './random.js';

function counts(values: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

describe('names', () => {
  it('gives British surnames a Zipf-like frequency: Smith commonest, about 1–3%, with a long tail', () => {
    const r = new Random(5, 0);
    const names = Array.from({ length: 50_000 }, () => surnameFor(r, 'A', 'male'));
    const c = counts(names);
    const ranked = [...c.entries()].sort((a, b) => b[1] - a[1]);
    expect(ranked[0]?.[0]).toBe('Smith');
    const smith = (c.get('Smith') ?? 0) / names.length;
    expect(smith).toBeGreaterThan(0.01);
    expect(smith).toBeLessThan(0.03);
    expect(c.get('Smith') ?? 0).toBeGreaterThan(c.get('Jones') ?? 0);
    expect(c.get('Jones') ?? 0).toBeGreaterThan(c.get('Harris') ?? 0);
    expect(c.size).toBeGreaterThan(800);
  });

  it('gives names that suit the birth cohort and the community', () => {
    const r = new Random(6, 0);
    const old = counts(Array.from({ length: 5_000 }, () => givenNameFor(r, 'female', 1935, 'A')));
    const young = counts(Array.from({ length: 5_000 }, () => givenNameFor(r, 'female', 2015, 'A')));
    expect(old.get('Margaret') ?? 0).toBeGreaterThan(100);
    expect(young.get('Margaret') ?? 0).toBe(0);
    expect(young.get('Olivia') ?? 0).toBeGreaterThan(100);
    const pakistani = counts(Array.from({ length: 2_000 }, () => surnameFor(r, 'J', 'male')));
    expect(pakistani.get('Khan') ?? 0).toBeGreaterThan(100);
    expect(pakistani.get('Smith') ?? 0).toBe(0);
    expect(namePoolOf('H')).toBe('indian');
    expect(namePoolOf('Z')).toBe('british');
    expect(givenNameFor(new Random(1, 1), 'male', 1990, 'Z')).toMatch(/^[A-Z][a-z]+$/);
  });

  it('keeps Sikh and Polish surnames right for each sex', () => {
    const r = new Random(7, 0);
    for (let i = 0; i < 2_000; i++) expect(surnameFor(r, 'H', 'male')).not.toBe('Kaur');
    expect(adaptSurnameToSex('Kowalski', 'female')).toBe('Kowalska');
    expect(adaptSurnameToSex('Kowalska', 'male')).toBe('Kowalski');
    expect(adaptSurnameToSex('Smith', 'female')).toBe('Smith');
  });

  it('makes addresses and inward codes of the right form', () => {
    const r = new Random(8, 0);
    for (let i = 0; i < 1_000; i++) {
      expect(streetLine(r)).toMatch(/^(Flat \d+, )?\d+ [A-Z][a-z]+ [A-Z][a-z]+$/);
      expect(inwardCode(r)).toMatch(/^\d[ABDEFGHJLNPQRSTUWXYZ]{2}$/);
    }
  });

  it('exports nicknames and spelling variants for the feeds', () => {
    expect(NICKNAMES.William).toContain('Bill');
    expect(NICKNAMES.Elizabeth).toContain('Liz');
    expect(SPELLING_VARIANTS.some((v) => v.includes('Mohammed'))).toBe(true);
  });
});
