import { describe, expect, it } from 'vitest';
import { sameByNickname } from './nicknames.js';
import { damerauLevenshtein, jaroWinkler, nameParts, normaliseName, soundex, withinOneEdit } from './strings.js';

describe('name normalisation', () => {
  it('folds case and accents and drops spaces, hyphens and apostrophes', () => {
    expect(normaliseName("O'Brien")).toBe('OBRIEN');
    expect(normaliseName('Smith-Jones')).toBe(normaliseName('Smith Jones'));
    expect(normaliseName('Zoë')).toBe('ZOE');
  });

  it('splits a double-barrelled name into its barrels', () => {
    expect(nameParts('Smith-Jones')).toEqual(['SMITH', 'JONES']);
    expect(nameParts('Mary Jane')).toEqual(['MARY', 'JANE']);
  });
});

describe('Jaro-Winkler', () => {
  it('gives the textbook values', () => {
    expect(jaroWinkler('MARTHA', 'MARHTA')).toBeCloseTo(0.961, 3);
    expect(jaroWinkler('DWAYNE', 'DUANE')).toBeCloseTo(0.84, 2);
    expect(jaroWinkler('DIXON', 'DICKSONX')).toBeCloseTo(0.813, 3);
  });

  it('is 1 for the same name and 0 for names with no letter in common', () => {
    expect(jaroWinkler('SMITH', 'SMITH')).toBe(1);
    expect(jaroWinkler('ABC', 'XYZ')).toBe(0);
    expect(jaroWinkler('', 'A')).toBe(0);
  });
});

describe('Damerau-Levenshtein', () => {
  it('counts an adjacent transposition as one edit', () => {
    expect(damerauLevenshtein('THOMAS', 'THOAMS')).toBe(1);
    expect(damerauLevenshtein('CA', 'AC')).toBe(1);
  });

  it('counts insertions, deletions and substitutions', () => {
    expect(damerauLevenshtein('KITTEN', 'SITTING')).toBe(3);
    expect(damerauLevenshtein('CLARKE', 'CLARK')).toBe(1);
    expect(damerauLevenshtein('', 'ABC')).toBe(3);
  });

  it('stops at the limit with limit + 1', () => {
    expect(damerauLevenshtein('KITTEN', 'SITTING', 1)).toBe(2);
    expect(damerauLevenshtein('A', 'ABCDE', 2)).toBe(3);
  });
});

describe('Soundex', () => {
  it('codes names that sound alike the same', () => {
    expect(soundex('ROBERT')).toBe('R163');
    expect(soundex('RUPERT')).toBe('R163');
    expect(soundex('ASHCRAFT')).toBe('A261');
    expect(soundex('TYMCZAK')).toBe('T522');
    expect(soundex('STEPHEN')).toBe(soundex('STEVEN'));
    expect(soundex('LEE')).toBe('L000');
  });
});

describe('nicknames', () => {
  it('knows common English familiar forms in both directions', () => {
    expect(sameByNickname('WILLIAM', 'BILL')).toBe(true);
    expect(sameByNickname('BILL', 'WILLIAM')).toBe(true);
    expect(sameByNickname('PEGGY', 'MARGARET')).toBe(true);
  });

  it('does not join two different formal names through a shared nickname', () => {
    // PAT is short for both, but Patricia is not Patrick.
    expect(sameByNickname('PATRICIA', 'PAT')).toBe(true);
    expect(sameByNickname('PATRICIA', 'PATRICK')).toBe(false);
    expect(sameByNickname('JOHN', 'JAMES')).toBe(false);
  });
});

describe('withinOneEdit', () => {
  it('agrees with Damerau-Levenshtein ≤ 1 on every pair of a set of names and typos', () => {
    const names = ['SMITH', 'SMIHT', 'SMIT', 'SMITHE', 'SNITH', 'MSITH', 'SMTIH', 'JONES', 'A', '', 'AB', 'BA', 'ABC', 'ACB', 'CAB'];
    for (const a of names) for (const b of names) expect(withinOneEdit(a, b), `${a} ${b}`).toBe(damerauLevenshtein(a, b) <= 1);
  });
});
