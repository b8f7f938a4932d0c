import { describe, expect, it } from 'vitest';
import { isValidNhsNumber } from '../fhir/validate.js';
import { NHS_NUMBER_CAPACITY, nhsCheckDigit, nhsNumberFor } from './nhs-number.js';

describe('nhsNumberFor', () => {
  it('hands out every number of the capacity once, all valid and in the never-issued range', () => {
    const seen = new Set<string>();
    for (let i = 0; i < NHS_NUMBER_CAPACITY; i++) {
      const n = nhsNumberFor(i, 42);
      if (!isValidNhsNumber(n) || !n.startsWith('999')) throw new Error(`invalid NHS number for resident ${i}: ${n}`);
      seen.add(n);
    }
    expect(seen.size).toBe(NHS_NUMBER_CAPACITY);
  });

  it('is the same for the same resident and seed, scattered, and different for another seed', () => {
    expect(nhsNumberFor(123, 42)).toBe(nhsNumberFor(123, 42));
    const first = Array.from({ length: 100 }, (_, i) => nhsNumberFor(i, 42));
    const other = Array.from({ length: 100 }, (_, i) => nhsNumberFor(i, 43));
    expect(first.filter((n, i) => n === other[i]).length).toBeLessThan(3);
    // Neighbouring residents do not get neighbouring numbers.
    const gaps = first.slice(1).map((n, i) => Math.abs(Number(n) - Number(first[i])));
    expect(gaps.filter((g) => g < 1000).length).toBeLessThan(5);
  });

  it('refuses a sequence outside the capacity', () => {
    expect(() => nhsNumberFor(NHS_NUMBER_CAPACITY, 1)).toThrow(/sequence/);
    expect(() => nhsNumberFor(-1, 1)).toThrow(/sequence/);
  });

  it('computes check digits as the NHS does', () => {
    // 943 476 5919 is the NHS's published example of a valid number.
    expect(nhsCheckDigit('943476591')).toBe(9);
    // 999 000 000x has check digit 10: no valid NHS number starts with these nine digits.
    expect(nhsCheckDigit('999000000')).toBe(10);
    expect(isValidNhsNumber(`999000001${nhsCheckDigit('999000001')}`)).toBe(true);
  });
});
