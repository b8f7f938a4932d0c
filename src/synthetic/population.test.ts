import { describe, expect, it } from 'vitest';
import { isValidNhsNumber } from '../fhir/validate.js';
import { loadArea } from './geography.js';
import type { Resident } from './model.js';
import { ageOn, childEthnicity, household, householdCount, households, largestRemainder } from './population.js';

const AS_OF = '2026-10-31';

function all(icb: string, people: number, seed: number): Resident[][] {
  return [...households(loadArea(icb), { people, seed, asOf: AS_OF })];
}

describe('households', () => {
  it('gives exactly the asked number of residents, with valid unique NHS numbers and ids', () => {
    for (const people of [1, 7, 2_345]) {
      const residents = all('QGH', people, 42).flat();
      expect(residents.length).toBe(people);
      expect(new Set(residents.map((r) => r.nhsNumber)).size).toBe(people);
      expect(new Set(residents.map((r) => r.id)).size).toBe(people);
      for (const r of residents) {
        expect(isValidNhsNumber(r.nhsNumber), r.nhsNumber).toBe(true);
        expect(r.nhsNumber.startsWith('999')).toBe(true);
      }
    }
  });

  it('is deterministic: the same seed gives the same households, and any household can be made alone', () => {
    const area = loadArea('QGH');
    const options = { people: 500, seed: 7, asOf: AS_OF };
    const first = [...households(area, options)];
    expect([...households(area, options)]).toEqual(first);
    const n = householdCount(area, options);
    expect(n).toBe(first.length);
    // Household 37 on its own, after others with other options were made, is the same.
    expect([...households(area, { ...options, seed: 8 })].length).toBeGreaterThan(0);
    expect(household(area, options, 37)).toEqual(first[37]);
    expect(household(area, options, n - 1)).toEqual(first[n - 1]);
    // Another seed gives other people.
    const other = [...households(area, { ...options, seed: 8 })].flat();
    expect(other.map((r) => r.nhsNumber)).not.toEqual(first.flat().map((r) => r.nhsNumber));
    expect(() => household(area, options, n)).toThrow(/household index/);
  });

  it('makes plausible people: ages, sexes, dates, places, practices of their district', () => {
    const area = loadArea('QGH');
    const residents = all('QGH', 3_000, 1).flat();
    const practiceDistrict = new Map(area.organisations.practices.map((p) => [p.code, p.lad]));
    for (const r of residents) {
      const age = ageOn(r.birthDate, r.deathDate ?? AS_OF);
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThanOrEqual(105);
      expect(['male', 'female']).toContain(r.sex);
      expect(r.given.length).toBeGreaterThan(0);
      expect(r.family).toMatch(/^[A-Z]/);
      expect(r.address.postcode).toMatch(/^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$/);
      const lsoa = area.lsoas.find((l) => l.code === r.lsoa);
      expect(lsoa?.lad).toBe(r.lad);
      expect(r.council).toBe(lsoa?.council);
      expect(practiceDistrict.get(r.practice)).toBe(lsoa?.district);
      if (age < 16) expect(r.smoking).toBe('never');
      if (age < 65) expect(r.frailty).toBe('fit');
      if (r.deathDate) {
        expect(r.deathDate > r.birthDate).toBe(true);
        expect(r.deathDate <= AS_OF).toBe(true);
        expect(r.deathDate >= '2021-10-31').toBe(true);
      }
      for (const c of r.conditions) {
        expect(c.onset >= r.birthDate).toBe(true);
        expect(c.onset <= (r.deathDate ?? AS_OF)).toBe(true);
      }
      if (r.previousAddress) expect(r.previousAddress.until > '2021-10-31').toBe(true);
    }
    const byId = new Map(residents.map((r) => [r.id, r]));
    const children = residents.filter((r) => r.mother);
    expect(children.length).toBeGreaterThan(100);
    for (const child of children) {
      const mother = byId.get(child.mother as string);
      expect(mother?.sex).toBe('female');
      expect(mother?.household).toBe(child.household);
      const gap = ageOn(mother?.birthDate as string, AS_OF) - ageOn(child.birthDate, AS_OF);
      expect(gap).toBeGreaterThanOrEqual(16);
      expect(gap).toBeLessThanOrEqual(50);
    }
    // Some moved, some changed their name, some died, some live alone.
    expect(residents.filter((r) => r.previousAddress).length).toBeGreaterThan(50);
    expect(residents.filter((r) => r.previousFamily).length).toBeGreaterThan(5);
    expect(residents.filter((r) => r.deathDate).length).toBeGreaterThan(50);
    expect(residents.filter((r) => r.household === undefined).length).toBeGreaterThan(300);
  });

  it('refuses bad options, naming them', () => {
    const area = loadArea('QGH');
    expect(() => [...households(area, { people: 0, seed: 1, asOf: AS_OF })]).toThrow(/people/);
    expect(() => [...households(area, { people: 10, seed: -1, asOf: AS_OF })]).toThrow(/seed/);
    expect(() => [...households(area, { people: 10, seed: 1, asOf: '31/10/2026' })]).toThrow(/asOf/);
    expect(() => [...households(area, { people: 1_000_000, seed: 1, asOf: AS_OF })]).toThrow(/at most 900000/);
  });

  it('works for other ICBs, including Buckinghamshire’s merged districts', () => {
    const residents = all('QU9', 2_000, 3).flat();
    expect(residents.length).toBe(2_000);
    expect(residents.some((r) => ['E07000004', 'E07000005', 'E07000006', 'E07000007'].includes(r.lad) && r.council === 'E06000060')).toBe(true);
    expect(all('QHM', 300, 3).flat().length).toBe(300);
  });
});

describe('helpers', () => {
  it('shares out by largest remainder, exactly and deterministically', () => {
    expect(largestRemainder(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(largestRemainder(7, [0.5, 0.25, 0.25])).toEqual([3, 2, 2]);
    expect(largestRemainder(0, [3, 4])).toEqual([0, 0]);
  });

  it('gives children of parents of two ethnic groups the mixed category', () => {
    expect(childEthnicity('A', 'A')).toBe('A');
    expect(childEthnicity('A', 'M')).toBe('D');
    expect(childEthnicity('N', 'B')).toBe('E');
    expect(childEthnicity('A', 'J')).toBe('F');
    expect(childEthnicity('H', 'N')).toBe('G');
    expect(childEthnicity('A', 'C')).toBe('A');
  });

  it('computes age on a date', () => {
    expect(ageOn('2000-02-29', '2026-02-28')).toBe(25);
    expect(ageOn('2000-02-29', '2026-03-01')).toBe(26);
  });
});
