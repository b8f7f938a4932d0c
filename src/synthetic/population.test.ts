import { describe, expect, it } from 'vitest';
import { isValidNhsNumber } from '../fhir/validate.js';
import { loadArea } from './geography.js';
import type { Resident } from './model.js';
import { ageOn, childEthnicity, household, householdCount, households, largestRemainder } from './population.js';
import { profileResidents } from './profile.js';

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

describe('a population of 20,000 in Herefordshire and Worcestershire, against prevalence.ts', () => {
  const area = loadArea('QGH');
  const residents = all('QGH', 20_000, 2024).flat();
  const living = residents.filter((r) => r.deathDate === undefined);
  const ages = new Map(residents.map((r) => [r, ageOn(r.birthDate, AS_OF)]));
  const age = (r: Resident): number => ages.get(r) as number;
  const quintile = (r: Resident): number => Math.ceil(r.imdDecile / 2);
  const has = (r: Resident, key: string): boolean => r.conditions.some((c) => c.key === key);
  const multimorbid = (r: Resident): boolean => r.conditions.filter((c) => c.key !== 'obesity').length >= 2;

  /** Share with `test` among the living of quintile q, directly standardised to the whole area's ages (10-year bands from `from`). */
  function standardised(q: number, from: number, to: number, test: (r: Resident) => boolean): number {
    let rate = 0;
    let weight = 0;
    for (let lo = from; lo < to; lo += 10) {
      const band = living.filter((r) => age(r) >= lo && age(r) < lo + 10);
      const inQ = band.filter((r) => quintile(r) === q);
      if (inQ.length === 0) continue;
      rate += band.length * (inQ.filter(test).length / inQ.length);
      weight += band.length;
    }
    return rate / weight;
  }

  it('matches every judged target of the profile (age pyramid, prevalence by age and quintile, frailty, smoking, ethnicity, households, deaths)', () => {
    const profile = profileResidents(residents, area, AS_OF);
    const failures = profile.sections.flatMap((s) => s.rows.filter((r) => r.judged && !r.pass).map((r) => `${s.title}: ${r.label} ${r.observed} vs ${r.target} ± ${r.tolerance}`));
    expect(failures).toEqual([]);
    expect(profile.passed).toBeGreaterThan(200);
    expect(profile.living + profile.died).toBe(20_000);
  });

  it('has multimorbidity that rises with age and with deprivation', () => {
    const bands = [
      [0, 25],
      [25, 45],
      [45, 65],
      [65, 85],
      [85, 120],
    ] as const;
    const shares = bands.map(([lo, hi]) => {
      const band = living.filter((r) => age(r) >= lo && age(r) < hi);
      return band.filter(multimorbid).length / band.length;
    });
    for (let i = 1; i < shares.length; i++) expect(shares[i]).toBeGreaterThan(shares[i - 1] as number);
    expect(standardised(1, 45, 85, multimorbid)).toBeGreaterThan(1.15 * standardised(5, 45, 85, multimorbid));
  });

  it('shows the deprivation gradient: diabetes at least 1.3 times as common in quintile 1 as in quintile 5 at the same ages', () => {
    const q1 = standardised(1, 35, 85, (r) => has(r, 'diabetes'));
    const q5 = standardised(5, 35, 85, (r) => has(r, 'diabetes'));
    expect(q1).toBeGreaterThanOrEqual(1.3 * q5);
    // COPD's gradient is steeper (smoking); cancer's is flat.
    expect(standardised(1, 45, 85, (r) => has(r, 'copd'))).toBeGreaterThan(1.6 * standardised(5, 45, 85, (r) => has(r, 'copd')));
  });

  it('clusters conditions: diabetes with CKD and hypertension, depression with SMI, COPD with smoking', () => {
    const older = living.filter((r) => age(r) >= 50);
    const ratio = (a: (r: Resident) => boolean, b: (r: Resident) => boolean): number => {
      const withA = older.filter(a);
      const withoutA = older.filter((r) => !a(r));
      return withA.filter(b).length / withA.length / (withoutA.filter(b).length / withoutA.length);
    };
    expect(ratio((r) => has(r, 'diabetes'), (r) => has(r, 'ckd'))).toBeGreaterThan(1.5);
    expect(ratio((r) => has(r, 'diabetes'), (r) => has(r, 'hypertension'))).toBeGreaterThan(1.5);
    expect(ratio((r) => has(r, 'copd'), (r) => r.smoking !== 'never')).toBeGreaterThan(1.3);
    const adults = living.filter((r) => age(r) >= 18);
    const depressed = adults.filter((r) => has(r, 'depression'));
    const notDepressed = adults.filter((r) => !has(r, 'depression'));
    expect(depressed.filter((r) => has(r, 'smi')).length / depressed.length).toBeGreaterThan((2 * notDepressed.filter((r) => has(r, 'smi')).length) / notDepressed.length);
  });

  it('makes the dead sicker and frailer than the living of their age', () => {
    const old = residents.filter((r) => age(r) >= 75);
    const dead = old.filter((r) => r.deathDate);
    const alive = old.filter((r) => !r.deathDate);
    const severe = (group: Resident[]): number => group.filter((r) => r.frailty === 'severe' || r.frailty === 'moderate').length / group.length;
    expect(severe(dead)).toBeGreaterThan(1.5 * severe(alive));
    const mean = (group: Resident[]): number => group.reduce((s, r) => s + r.conditions.length, 0) / group.length;
    expect(mean(dead)).toBeGreaterThan(mean(alive));
  });

  it('starts some conditions before the window and some during it', () => {
    const onsets = living.flatMap((r) => r.conditions.map((c) => c.onset));
    const during = onsets.filter((d) => d > '2021-10-31').length / onsets.length;
    expect(during).toBeGreaterThan(0.2);
    expect(during).toBeLessThan(0.7);
  });
});
