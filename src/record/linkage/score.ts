/**
 * Fellegi-Sunter scoring of a pair of source records: each field's agreement level adds
 * log2(m/u), where m is the chance of that level when the two records are the same person and u
 * when they are two different people. See README.md for where each m and u comes from.
 */
import { type Demographics, type Prepared, prepare } from './demographics.js';
import type { NameFrequencies } from './frequencies.js';
import { sameByNickname } from './nicknames.js';
import { jaroWinkler, soundClass, withinOneEdit } from './strings.js';

export type LinkField = 'nhsNumber' | 'family' | 'given' | 'birthDate' | 'sex' | 'postcode' | 'address';

export interface FieldComparison {
  field: LinkField;
  outcome: string;
  weight: number;
}

export type LinkDecision = 'match' | 'possible' | 'no-match';

export interface PairScore {
  weight: number;
  decision: LinkDecision;
  basis: 'nhs-number' | 'probabilistic';
  fields: FieldComparison[];
}

export interface Thresholds {
  match: number;
  possible: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { match: 26, possible: 14 };

const log2 = Math.log2;

/** m and u for each agreement level; the weight is log2(m/u). Kept together so they can be documented and tested. */
export const M_U = {
  nhsNumber: {
    // Same number, not both verified: a number copied from another record can belong to someone
    // else in the family, so u is far above chance.
    agree: { m: 0.97, u: 0.0002 },
    disagree: { m: 0.002, u: 1 },
  },
  family: {
    exact: { m: 0.88 },
    close: { m: 0.06, u: 0.002 },
    phonetic: { m: 0.01, u: 0.002 },
    disagree: { m: 0.06, u: 0.99 },
  },
  given: {
    exact: { m: 0.9 },
    nickname: { m: 0.04, u: 0.002 },
    close: { m: 0.03, u: 0.002 },
    shortened: { m: 0.01, u: 0.002 },
    phonetic: { m: 0.01, u: 0.002 },
    other: { m: 0.02, u: 0.002 },
    initial: { m: 0.01, u: 0.06 },
    disagree: { m: 0.01, u: 0.99 },
  },
  birthDate: {
    // u of an exact date: one day in about 85 years of birth dates.
    exact: { m: 0.99, u: 1 / 31_000 },
    swapped: { m: 0.003, u: 1 / 31_000 },
    'one-digit': { m: 0.003, u: 6 / 31_000 },
    disagree: { m: 0.0005, u: 1 },
  },
  sex: {
    agree: { m: 0.995, u: 0.5 },
    disagree: { m: 0.002, u: 0.5 },
  },
  postcode: {
    // u of a full postcode: about one postcode unit in 10,000 across an ICS.
    exact: { m: 0.75, u: 0.0001 },
    district: { m: 0.08, u: 0.02 },
    disagree: { m: 0.17, u: 0.98 },
  },
  address: {
    // Given the same postcode (about fifteen households share one), so u is within a postcode.
    exact: { m: 0.95, u: 0.07 },
    'same-number': { m: 0.02, u: 0.05 },
    disagree: { m: 0.03, u: 0.88 },
    // Given different postcodes: the same line elsewhere is weak evidence either way.
    'exact-elsewhere': { m: 0.05, u: 0.001 },
  },
} as const;

const w = (m: number, u: number): number => log2(m / u);
/** log2(m/u) of each level, computed once. */
const WEIGHTS = new Map<string, number>();
for (const [field, levels] of Object.entries(M_U) as Array<[string, Record<string, { m: number; u?: number }>]>) {
  // Exact name agreement has no fixed u: it is the name's frequency.
  for (const [level, mu] of Object.entries(levels)) if (mu.u !== undefined) WEIGHTS.set(`${field}.${level}`, w(mu.m, mu.u));
}
const weightOf = <F extends keyof typeof M_U>(field: F, outcome: keyof (typeof M_U)[F] & string): number => WEIGHTS.get(`${field}.${outcome}`) ?? 0;

/** Name agreement can say no more than this (a name met once in the whole index). */
const MAX_NAME_WEIGHT = 14;

function compareNhs(a: Prepared, b: Prepared): FieldComparison {
  if (a.nhsNumber === undefined || b.nhsNumber === undefined) return { field: 'nhsNumber', outcome: 'missing', weight: 0 };
  if (a.nhsNumber === b.nhsNumber) {
    if (a.nhsVerified && b.nhsVerified) return { field: 'nhsNumber', outcome: 'verified-agree', weight: 0 };
    return { field: 'nhsNumber', outcome: 'agree', weight: weightOf('nhsNumber', 'agree') };
  }
  if (a.nhsVerified && b.nhsVerified) return { field: 'nhsNumber', outcome: 'verified-disagree', weight: 0 };
  return { field: 'nhsNumber', outcome: 'disagree', weight: weightOf('nhsNumber', 'disagree') };
}

/** Typing errors (one edit or transposition) and spelling variants; short names need an exact match. */
function closeSpelling(a: string, b: string): boolean {
  if (Math.min(a.length, b.length) < 2 || Math.max(a.length, b.length) < 3) return false;
  if (a[0] !== b[0]) return false;
  return withinOneEdit(a, b) || (a.length >= 5 && b.length >= 5 && jaroWinkler(a, b) >= 0.94);
}

/**
 * Names that sound alike though spelt differently, the first letter included (Catherine and
 * Katherine, Geoffrey and Jeffrey, Aisha and Ayesha): the same Soundex code once the first letter
 * is coded like the rest, and not too different in spelling.
 */
function soundsAlike(a: string, aSoundex: string, b: string, bSoundex: string): boolean {
  if (a.length < 3 || b.length < 3) return false;
  if (aSoundex.slice(1) !== bSoundex.slice(1)) return false;
  if (soundClass(a[0] ?? '') !== soundClass(b[0] ?? '')) return false;
  return jaroWinkler(a, b) >= 0.8;
}

/** A short form written as the start of the long one (Jess for Jessica, Kath for Kathleen). */
function shortened(a: string, b: string): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return short.length >= 2 && long.length > short.length && long.startsWith(short);
}

function compareFamily(a: Prepared, b: Prepared, frequencies: NameFrequencies): FieldComparison {
  if (a.family.length === 0 || b.family.length === 0) return { field: 'family', outcome: 'missing', weight: 0 };
  if (a.family === b.family) {
    const share = frequencies.familyShare(a.family);
    return { field: 'family', outcome: 'exact', weight: Math.min(MAX_NAME_WEIGHT, w(M_U.family.exact.m, share)) };
  }
  // One barrel of a double-barrelled name kept, or a spelling or typing difference.
  const barrel = a.familyParts.length > 1 ? a.familyParts.includes(b.family) : b.familyParts.length > 1 && b.familyParts.includes(a.family);
  if (barrel || closeSpelling(a.family, b.family)) return { field: 'family', outcome: 'close', weight: weightOf('family', 'close') };
  if (soundsAlike(a.family, a.familySoundex, b.family, b.familySoundex)) return { field: 'family', outcome: 'phonetic', weight: weightOf('family', 'phonetic') };
  return { field: 'family', outcome: 'disagree', weight: weightOf('family', 'disagree') };
}

function compareGiven(a: Prepared, b: Prepared, frequencies: NameFrequencies): FieldComparison {
  const ga = a.given[0];
  const gb = b.given[0];
  if (ga === undefined || gb === undefined) return { field: 'given', outcome: 'missing', weight: 0 };
  if (ga === gb) {
    const share = frequencies.givenShare(ga);
    return { field: 'given', outcome: 'exact', weight: Math.min(MAX_NAME_WEIGHT, w(M_U.given.exact.m, share)) };
  }
  if (sameByNickname(ga, gb)) return { field: 'given', outcome: 'nickname', weight: weightOf('given', 'nickname') };
  if (closeSpelling(ga, gb)) return { field: 'given', outcome: 'close', weight: weightOf('given', 'close') };
  if (shortened(ga, gb)) return { field: 'given', outcome: 'shortened', weight: weightOf('given', 'shortened') };
  if (soundsAlike(ga, a.givenSoundex, gb, b.givenSoundex)) return { field: 'given', outcome: 'phonetic', weight: weightOf('given', 'phonetic') };
  // Known by a middle name at one of the two.
  if (a.given.some((g) => g.length > 1 && b.given.includes(g))) return { field: 'given', outcome: 'other', weight: weightOf('given', 'other') };
  if ((ga.length === 1 || gb.length === 1) && ga[0] === gb[0]) return { field: 'given', outcome: 'initial', weight: weightOf('given', 'initial') };
  return { field: 'given', outcome: 'disagree', weight: weightOf('given', 'disagree') };
}

/** Whether two numbers differ in one decimal digit, or by one (19 and 20). */
function oneDigitApart(x: number, y: number): boolean {
  if (Math.abs(x - y) === 1) return true;
  let diff = 0;
  while (x > 0 || y > 0) {
    if (x % 10 !== y % 10) diff++;
    x = Math.floor(x / 10);
    y = Math.floor(y / 10);
  }
  return diff === 1;
}

function compareBirthDate(a: Prepared, b: Prepared): FieldComparison {
  if (a.year === 0 || b.year === 0) return { field: 'birthDate', outcome: 'missing', weight: 0 };
  if (a.year === b.year && a.month === b.month && a.day === b.day) return { field: 'birthDate', outcome: 'exact', weight: weightOf('birthDate', 'exact') };
  if (a.year === b.year && a.month === b.day && a.day === b.month) return { field: 'birthDate', outcome: 'swapped', weight: weightOf('birthDate', 'swapped') };
  const differing = (a.year !== b.year ? 1 : 0) + (a.month !== b.month ? 1 : 0) + (a.day !== b.day ? 1 : 0);
  if (differing === 1) {
    const slip = a.year !== b.year ? oneDigitApart(a.year, b.year) : a.month !== b.month ? oneDigitApart(a.month, b.month) : oneDigitApart(a.day, b.day);
    if (slip) return { field: 'birthDate', outcome: 'one-digit', weight: weightOf('birthDate', 'one-digit') };
  }
  return { field: 'birthDate', outcome: 'disagree', weight: weightOf('birthDate', 'disagree') };
}

function compareSex(a: Prepared, b: Prepared): FieldComparison {
  if (a.sex === '' || b.sex === '') return { field: 'sex', outcome: 'missing', weight: 0 };
  return a.sex === b.sex ? { field: 'sex', outcome: 'agree', weight: weightOf('sex', 'agree') } : { field: 'sex', outcome: 'disagree', weight: weightOf('sex', 'disagree') };
}

function comparePostcode(a: Prepared, b: Prepared): FieldComparison {
  if (a.postcode === '' || b.postcode === '') return { field: 'postcode', outcome: 'missing', weight: 0 };
  if (a.postcode === b.postcode && a.postcode !== a.district) return { field: 'postcode', outcome: 'exact', weight: weightOf('postcode', 'exact') };
  if (a.district === b.district) return { field: 'postcode', outcome: 'district', weight: weightOf('postcode', 'district') };
  return { field: 'postcode', outcome: 'disagree', weight: weightOf('postcode', 'disagree') };
}

function compareAddress(a: Prepared, b: Prepared, postcode: FieldComparison): FieldComparison {
  if (a.address === '' || b.address === '') return { field: 'address', outcome: 'missing', weight: 0 };
  if (postcode.outcome !== 'exact') {
    return a.address === b.address ? { field: 'address', outcome: 'exact-elsewhere', weight: weightOf('address', 'exact-elsewhere') } : { field: 'address', outcome: 'disagree-elsewhere', weight: 0 };
  }
  if (a.address === b.address) return { field: 'address', outcome: 'exact', weight: weightOf('address', 'exact') };
  if (a.houseNumber !== '' && a.houseNumber === b.houseNumber) return { field: 'address', outcome: 'same-number', weight: weightOf('address', 'same-number') };
  return { field: 'address', outcome: 'disagree', weight: weightOf('address', 'disagree') };
}

/**
 * The pair's weight and decision. A verified NHS number on both sides decides alone. Otherwise
 * the weight decides, with one guard for households: members of one family share surname,
 * address and postcode (and twins a date of birth), which together outweigh everything else, so
 * a probabilistic match also needs the given name and the date of birth not to disagree.
 */
export function scorePair(a: Demographics, b: Demographics, frequencies: NameFrequencies, thresholds: Thresholds = DEFAULT_THRESHOLDS): PairScore {
  const pa = prepare(a);
  const pb = prepare(b);
  const nhs = compareNhs(pa, pb);
  const given = compareGiven(pa, pb, frequencies);
  const birthDate = compareBirthDate(pa, pb);
  const postcode = comparePostcode(pa, pb);
  const fields = [nhs, compareFamily(pa, pb, frequencies), given, birthDate, compareSex(pa, pb), postcode, compareAddress(pa, pb, postcode)];
  let weight = 0;
  for (const f of fields) weight += f.weight;
  if (nhs.outcome === 'verified-agree') return { weight, decision: 'match', basis: 'nhs-number', fields };
  if (nhs.outcome === 'verified-disagree') return { weight, decision: 'no-match', basis: 'nhs-number', fields };
  // The same NHS number (not verified on both) outweighs one identity field's error, not both.
  const distinguished =
    nhs.outcome === 'agree' ? given.outcome === 'disagree' && birthDate.outcome === 'disagree' : given.outcome === 'disagree' || birthDate.outcome === 'disagree';
  let decision: LinkDecision = 'no-match';
  if (weight >= thresholds.match && !distinguished) decision = 'match';
  else if (weight >= thresholds.possible) decision = 'possible';
  // Another person of the household: the identity fields and the NHS numbers all say so.
  if (decision === 'possible' && given.outcome === 'disagree' && birthDate.outcome === 'disagree') decision = 'no-match';
  if (decision === 'possible' && distinguished && nhs.outcome === 'disagree') decision = 'no-match';
  return { weight, decision, basis: 'probabilistic', fields };
}
