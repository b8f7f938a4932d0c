import { describe, expect, it } from 'vitest';
import { dateOf, findInputOf, isEmpty, validateFind } from './find.js';

const input = (values: Record<string, string>): ReturnType<typeof findInputOf> => findInputOf(values);

describe('the find-a-resident form', () => {
  it('takes an NHS number written with spaces', () => {
    expect(validateFind(input({ nhsNumber: ' 943 476 5919 ' }))).toEqual({ query: { by: 'nhs-number', nhsNumber: '9434765919' }, errors: [] });
  });

  it('refuses an NHS number that fails Modulus 11, or is not 10 digits, naming the field', () => {
    const bad = validateFind(input({ nhsNumber: '9434765918' }));
    expect(bad.query).toBeUndefined();
    expect(bad.errors).toEqual([{ text: expect.stringContaining('Modulus 11') as string, href: '#nhsNumber' }]);
    expect(validateFind(input({ nhsNumber: '94347659' })).errors[0]).toMatchObject({ href: '#nhsNumber', text: expect.stringContaining('10 digits') as string });
  });

  it('needs a family name and a real date of birth; the given name is optional', () => {
    expect(validateFind(input({ family: 'Clarke', 'dob[day]': '3', 'dob[month]': '4', 'dob[year]': '1961' }))).toEqual({ query: { by: 'name', family: 'Clarke', birthDate: '1961-04-03' }, errors: [] });
    expect(validateFind(input({ family: 'Clarke', given: 'Keith', 'dob[day]': '03', 'dob[month]': '04', 'dob[year]': '1961' })).query).toEqual({ by: 'name', family: 'Clarke', given: 'Keith', birthDate: '1961-04-03' });
    const missing = validateFind(input({ given: 'Keith' }));
    expect(missing.errors.map((e) => e.href)).toEqual(['#family', '#dob-day']);
    const notADate = validateFind(input({ family: 'Clarke', 'dob[day]': '31', 'dob[month]': '2', 'dob[year]': '1961' }));
    expect(notADate.errors).toEqual([{ text: expect.stringContaining('real date') as string, href: '#dob-day' }]);
    expect(validateFind(input({ family: 'Clarke', 'dob[day]': '1', 'dob[month]': '1', 'dob[year]': '2999' })).errors[0]?.text).toContain('in the past');
  });

  it('reads real dates only', () => {
    expect(dateOf('29', '2', '2024')).toBe('2024-02-29');
    expect(dateOf('29', '2', '2023')).toBeUndefined();
    expect(dateOf('1', '13', '2000')).toBeUndefined();
    expect(dateOf('x', '1', '2000')).toBeUndefined();
    expect(dateOf('1', '1', '61')).toBeUndefined();
  });

  it('treats an empty form as a first visit', () => {
    expect(isEmpty(findInputOf({}))).toBe(true);
    expect(isEmpty(findInputOf({ family: ' ' }))).toBe(true);
    expect(isEmpty(findInputOf({ family: 'Clarke' }))).toBe(false);
  });
});
