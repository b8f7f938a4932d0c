import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { Problems, isCalendarDate } from './validation.js';

describe('input checks', () => {
  it('accepts only real calendar dates written YYYY-MM-DD', () => {
    expect(isCalendarDate('2026-02-28')).toBe(true);
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2026-02-30')).toBe(false);
    expect(isCalendarDate('1 April 2026')).toBe(false);
    expect(isCalendarDate(undefined)).toBe(false);
  });

  it('refuses once with every problem collected', () => {
    const problems = new Problems();
    problems.throwIfAny();
    problems.add('role', 'Choose a role');
    problems.add('startDate', 'Enter a date');
    expect(() => problems.throwIfAny()).toThrowError(ValidationError);
    expect(() => problems.throwIfAny()).toThrowError('role: Choose a role; startDate: Enter a date');
  });
});
