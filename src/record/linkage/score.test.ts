import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { NHS_NUMBER_VERIFICATION_SYSTEM, NHS_NUMBER_VERIFICATION_URL } from '../../synthetic/feeds.js';
import { blockingKeys } from './blocking.js';
import { decideLink } from './decide.js';
import { type Demographics, demographicsOf } from './demographics.js';
import { NameFrequencyTable, TYPICAL_NAMES } from './frequencies.js';
import { DEFAULT_THRESHOLDS, type PairScore, scorePair } from './score.js';

/** A made-up person at a made-up address (the NHS number is in the 999 test range). */
function person(overrides: Partial<Demographics> = {}): Demographics {
  return {
    nhsVerified: false,
    family: 'Ashworth',
    given: ['Margaret', 'Ann'],
    birthDate: '1961-03-12',
    sex: 'female',
    postcode: 'WR1 2AB',
    address: '4 Mill Lane',
    ...overrides,
  };
}

const outcome = (score: PairScore, field: string): string | undefined => score.fields.find((f) => f.field === field)?.outcome;
const score = (a: Demographics, b: Demographics): PairScore => scorePair(a, b, TYPICAL_NAMES);

describe('a verified NHS number', () => {
  it('on both records decides a match alone, whatever else differs', () => {
    const s = score(person({ nhsNumber: '9990000018', nhsVerified: true }), person({ nhsNumber: '9990000018', nhsVerified: true, family: 'Brown', given: ['Peggy'], postcode: 'HR4 9AA', address: '1 High Street' }));
    expect(s).toMatchObject({ decision: 'match', basis: 'nhs-number' });
  });

  it('that differs on both records says two people, even when all else agrees', () => {
    const s = score(person({ nhsNumber: '9990000018', nhsVerified: true }), person({ nhsNumber: '9990000026', nhsVerified: true }));
    expect(s).toMatchObject({ decision: 'no-match', basis: 'nhs-number' });
  });

  it('on one side only is one field of the probabilistic score', () => {
    const s = score(person({ nhsNumber: '9990000018', nhsVerified: true }), person({ nhsNumber: '9990000018' }));
    expect(s.basis).toBe('probabilistic');
    expect(outcome(s, 'nhsNumber')).toBe('agree');
    expect(s.decision).toBe('match');
  });
});

describe('probabilistic matching without an NHS number', () => {
  const original = person();

  it('matches the same details', () => {
    expect(score(original, person())).toMatchObject({ decision: 'match', basis: 'probabilistic' });
  });

  it('matches through a typing error in the surname', () => {
    const s = score(original, person({ family: 'Ashwroth' }));
    expect(outcome(s, 'family')).toBe('close');
    expect(s.decision).toBe('match');
  });

  it('matches through a transposition or a left-out letter in the given name', () => {
    expect(outcome(score(original, person({ given: ['Magraret'] })), 'given')).toBe('close');
    expect(outcome(score(original, person({ given: ['Margret'] })), 'given')).toBe('close');
    expect(score(original, person({ given: ['Magraret'] })).decision).toBe('match');
  });

  it('matches a nickname, a shortened name and a spelling that sounds the same', () => {
    const peggy = score(original, person({ given: ['Peggy'] }));
    expect(outcome(peggy, 'given')).toBe('nickname');
    expect(peggy.decision).toBe('match');
    expect(outcome(score(person({ given: ['Kathleen'] }), person({ given: ['Kath'] })), 'given')).toBe('shortened');
    expect(outcome(score(person({ given: ['Catherine'] }), person({ given: ['Katherine'] })), 'given')).toBe('phonetic');
  });

  it('matches a double-barrelled surname written another way', () => {
    expect(outcome(score(person({ family: 'Smith-Jones' }), person({ family: 'Smith Jones' })), 'family')).toBe('exact');
    expect(outcome(score(person({ family: 'Smith-Jones' }), person({ family: 'Jones' })), 'family')).toBe('close');
  });

  it('matches a married surname at the same address', () => {
    const s = score(original, person({ family: 'Baker' }));
    expect(outcome(s, 'family')).toBe('disagree');
    expect(s.decision).toBe('match');
  });

  it('asks for review, not a match, with the married surname and an old address together', () => {
    const s = score(original, person({ family: 'Baker', postcode: 'HR4 9AA', address: '1 High Street' }));
    expect(s.decision).toBe('possible');
  });

  it('matches a date of birth with day and month swapped, or one digit slipped', () => {
    const swapped = score(original, person({ birthDate: '1961-12-03' }));
    expect(outcome(swapped, 'birthDate')).toBe('swapped');
    expect(swapped.decision).toBe('match');
    const slipped = score(original, person({ birthDate: '1962-03-12' }));
    expect(outcome(slipped, 'birthDate')).toBe('one-digit');
    expect(slipped.decision).toBe('match');
    expect(outcome(score(person({ birthDate: '1961-03-19' }), person({ birthDate: '1961-03-20' })), 'birthDate')).toBe('one-digit');
  });

  it('weighs agreement on a rare surname more than on a common one', () => {
    const table = new NameFrequencyTable();
    for (let i = 0; i < 500; i++) table.add(person({ family: 'Smith' }));
    table.add(person({ family: 'Ashworth' }));
    const common = scorePair(person({ family: 'Smith' }), person({ family: 'Smith' }), table);
    const rare = scorePair(original, person(), table);
    expect(rare.weight).toBeGreaterThan(common.weight + 5);
  });

  it('does not match strangers elsewhere who share a common name and the date of birth', () => {
    const table = new NameFrequencyTable();
    for (let i = 0; i < 1000; i++) table.add(person({ family: i % 50 === 0 ? 'Smith' : `Other${i}`, given: [i % 25 === 0 ? 'John' : `Given${i}`] }));
    const john = person({ family: 'Smith', given: ['John'], sex: 'male' });
    const namesake = person({ family: 'Smith', given: ['John'], sex: 'male', postcode: 'HR4 9AA', address: '1 High Street' });
    // Worth a look (he may have moved), never an automatic link.
    expect(scorePair(john, namesake, table).decision).toBe('possible');
    expect(scorePair(john, person({ family: 'Smith', given: ['John'], sex: 'male' }), table).decision).toBe('match');
  });
});

describe('people of one household', () => {
  const mother = person();

  it('twins (same surname, address and date of birth, different given names) are never linked', () => {
    const twin = person({ given: ['Elizabeth'] });
    expect(score(mother, twin).decision).not.toBe('match');
    // With their own (untraced) NHS numbers on both records, not even a review.
    expect(score(person({ nhsNumber: '9990000018' }), person({ given: ['Elizabeth'], nhsNumber: '9990000026' })).decision).toBe('no-match');
  });

  it('a parent and child with the same name are told apart by the date of birth', () => {
    const father = person({ given: ['John'], sex: 'male', birthDate: '1958-06-01' });
    const son = person({ given: ['John'], sex: 'male', birthDate: '1986-09-14' });
    expect(score(father, son).decision).not.toBe('match');
    expect(score(person({ ...father, nhsNumber: '9990000018' }), person({ ...son, nhsNumber: '9990000026' })).decision).toBe('no-match');
  });

  it('a husband and wife are no match', () => {
    expect(score(mother, person({ given: ['David'], sex: 'male', birthDate: '1959-11-30' })).decision).toBe('no-match');
  });
});

describe('thresholds', () => {
  it('decide by weight: lower thresholds turn a review into a match', () => {
    const pair = [person(), person({ family: 'Baker', postcode: 'HR4 9AA', address: '1 High Street' })] as const;
    const s = scorePair(pair[0], pair[1], TYPICAL_NAMES);
    expect(s.weight).toBeLessThan(DEFAULT_THRESHOLDS.match);
    expect(scorePair(pair[0], pair[1], TYPICAL_NAMES, { match: s.weight - 1, possible: s.weight - 2 }).decision).toBe('match');
  });
});

describe('decideLink', () => {
  const match = score(person(), person());
  const possible = score(person(), person({ family: 'Baker', postcode: 'HR4 9AA', address: '1 High Street' }));
  const none = score(person(), person({ given: ['David'], sex: 'male', birthDate: '1959-11-30' }));
  const nhsMatch = score(person({ nhsNumber: '9990000018', nhsVerified: true }), person({ nhsNumber: '9990000018', nhsVerified: true }));
  const nhsConflict = score(person({ nhsNumber: '9990000018', nhsVerified: true }), person({ nhsNumber: '9990000026', nhsVerified: true }));

  it('links to the one resident that matches, returning the score it was given (so the caller knows which record)', () => {
    const action = decideLink([{ resident: 'a', score: none }, { resident: 'b', score: match }]);
    expect(action).toMatchObject({ action: 'link', resident: 'b' });
    expect(action.action === 'link' && action.score).toBe(match);
  });

  it('takes each resident’s best record', () => {
    expect(decideLink([{ resident: 'a', score: none }, { resident: 'a', score: match }, { resident: 'b', score: possible }])).toMatchObject({ action: 'link', resident: 'a' });
  });

  it('sends two matching residents to review', () => {
    const action = decideLink([{ resident: 'a', score: match }, { resident: 'b', score: match }]);
    expect(action.action).toBe('review');
    expect(action.action === 'review' && action.candidates.map((c) => c.resident).sort()).toEqual(['a', 'b']);
  });

  it('prefers the one resident with the same verified NHS number over probabilistic matches', () => {
    expect(decideLink([{ resident: 'a', score: match }, { resident: 'b', score: nhsMatch }])).toMatchObject({ action: 'link', resident: 'b' });
  });

  it('never links to a resident holding another verified NHS number', () => {
    expect(decideLink([{ resident: 'a', score: match }, { resident: 'a', score: nhsConflict }])).toEqual({ action: 'new' });
  });

  it('reviews a possible match and creates a resident when nothing matches', () => {
    expect(decideLink([{ resident: 'a', score: possible }])).toMatchObject({ action: 'review', candidates: [{ resident: 'a' }] });
    expect(decideLink([{ resident: 'a', score: none }])).toEqual({ action: 'new' });
    expect(decideLink([])).toEqual({ action: 'new' });
  });
});

describe('blocking keys', () => {
  const share = (a: Demographics, b: Demographics): boolean => blockingKeys(a).some((k) => blockingKeys(b).includes(k));

  it('bring a copy with any one flaw together with the original', () => {
    const original = person({ nhsNumber: '9990000018' });
    for (const flawed of [
      person({ family: 'Ashwroth' }),
      person({ given: ['Peggy'] }),
      person({ birthDate: '1961-12-03' }),
      person({ birthDate: '1962-03-12' }),
      person({ family: 'Baker', postcode: 'HR4 9AA', address: '1 High Street' }),
      person({ birthDate: '1962-03-12', given: ['Peggy'] }),
    ]) {
      expect(share(original, flawed)).toBe(true);
    }
  });

  it('keep strangers apart', () => {
    expect(share(person(), person({ family: 'Brown', given: ['David'], birthDate: '1970-01-01', postcode: 'HR4 9AA' }))).toBe(false);
  });

  it('are short strings', () => {
    for (const key of blockingKeys(person({ nhsNumber: '9990000018' }))) expect(key.length).toBeLessThan(40);
  });
});

describe('demographicsOf', () => {
  it('reads the current name and home address and the NHS number with its verification', () => {
    const patient: Patient = {
      resourceType: 'Patient',
      identifier: [
        { system: 'https://example.org/mrn', value: 'X1' },
        {
          system: 'https://fhir.nhs.uk/Id/nhs-number',
          value: '999 000 0018',
          extension: [{ url: NHS_NUMBER_VERIFICATION_URL, valueCodeableConcept: { coding: [{ system: NHS_NUMBER_VERIFICATION_SYSTEM, code: '01' }] } }],
        },
      ],
      name: [
        { use: 'old', family: 'Baker', given: ['Margaret'] },
        { use: 'official', family: 'Ashworth', given: ['Margaret', 'Ann'] },
      ],
      gender: 'female',
      birthDate: '1961-03-12',
      address: [
        { use: 'home', line: ['1 High Street'], postalCode: 'HR4 9AA', period: { end: '2020-01-01' } },
        { use: 'home', line: ['4 Mill Lane'], postalCode: 'WR1 2AB' },
      ],
    };
    expect(demographicsOf(patient)).toEqual({
      nhsNumber: '9990000018',
      nhsVerified: true,
      family: 'Ashworth',
      given: ['Margaret', 'Ann'],
      birthDate: '1961-03-12',
      sex: 'female',
      postcode: 'WR1 2AB',
      address: '4 Mill Lane',
    });
  });

  it('treats an untraced number as unverified and leaves out what is missing', () => {
    const patient: Patient = {
      resourceType: 'Patient',
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000018', extension: [{ url: NHS_NUMBER_VERIFICATION_URL, valueCodeableConcept: { coding: [{ code: '02' }] } }] }],
      gender: 'unknown',
    };
    expect(demographicsOf(patient)).toEqual({ nhsNumber: '9990000018', nhsVerified: false, given: [] });
  });
});

describe('NameFrequencyTable', () => {
  it('counts added names and forgets removed ones', () => {
    const table = new NameFrequencyTable();
    const before = table.familyShare('ASHWORTH');
    table.add(person());
    table.add(person({ family: 'Brown' }));
    expect(table.familyShare('ASHWORTH')).toBeGreaterThan(before);
    expect(table.givenShare('MARGARET')).toBeGreaterThan(table.givenShare('DAVID'));
    table.remove(person());
    table.remove(person({ family: 'Never Added', given: ['Nobody'] }));
    expect(table.size).toBe(1);
    expect(table.familyShare('ASHWORTH')).toBeCloseTo(table.familyShare('SMITH'));
  });
});

describe('speed', () => {
  it('scores a pair in a few microseconds', () => {
    const pairs = Array.from({ length: 2000 }, (_, i) => [person({ given: [`Name${i % 50}`], birthDate: `19${String(10 + (i % 80))}-03-12` }), person({ given: ['Margaret'], family: i % 2 ? 'Ashwroth' : 'Baker' })] as const);
    for (const [a, b] of pairs) score(a, b); // warm up (and fill the prepared cache)
    const started = performance.now();
    for (let round = 0; round < 20; round++) for (const [a, b] of pairs) score(a, b);
    const microseconds = ((performance.now() - started) * 1000) / (20 * pairs.length);
    expect(microseconds).toBeLessThan(20);
  });
});
