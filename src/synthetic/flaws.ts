/**
 * How each kind of source system's copy of a person's demographics differs from the truth, and
 * how often: the flaws that record matching (issue 6) has to cope with.
 *
 * The rates are per copy (one resident at one holder). They are the generator's assumptions, set
 * to the orders of magnitude NHS data quality reporting shows, not measurements:
 * - NHS number missing: GP records carry it almost always (registration is traced on PDS);
 *   NHS England's Data Quality Maturity Index puts valid NHS number completeness at about 98–99%
 *   in hospital (APC, outpatient, A&E) data and a little lower in community and mental health
 *   data; social care systems (not traced on PDS routinely) and ambulance patient records (people
 *   often unidentified at the scene) lack it far more often.
 * - Names: typing errors and nicknames are rare (around one to three in a hundred) and commonest
 *   where details are taken in a hurry or by phone (ambulance, A&E); a system keeps the old
 *   surname after a marriage or deed poll unless the person tells it, which GP practices (who
 *   get PDS updates) hear of most reliably.
 * - Date of birth: wrong in a few per thousand, more where it is given verbally; day and month
 *   swapped is the classic error, then a mistyped digit.
 * - Old address: a system that saw the person before a move often keeps the old one.
 * - Death: the GP record is told (PDS); other systems often are not.
 */

/** The kinds of source system an organisation's feed comes from. */
export type SourceKind = 'gp' | 'acute' | 'community' | 'mental-health' | 'social-care' | 'ambulance';

export const SOURCE_KINDS: readonly SourceKind[] = ['gp', 'acute', 'community', 'mental-health', 'social-care', 'ambulance'];

export interface FlawRates {
  /** The copy has no NHS number at all. */
  missingNhsNumber: number;
  /** An NHS number is held but was never traced (verification status 02 rather than 01). */
  untracedNhsNumber: number;
  /** One typing error in the family name or first given name. */
  nameTypo: number;
  /** The first given name is a nickname (Bill for William), where one is known. */
  nickname: number;
  /** Of residents whose family name changed after the holder first saw them: the old one is kept. */
  oldSurname: number;
  /** Of residents with a hyphenated, spaced or apostrophe name: written another way (Smith Jones, OBrien). */
  nameSpacing: number;
  /** The date of birth is wrong (day and month swapped, or one digit mistyped). */
  birthDateError: number;
  /** Of residents who moved after the holder first saw them: the old address is kept. */
  oldAddress: number;
  /** Of residents who died: the copy records the death. */
  deathKnown: number;
  /** Only the first given name is held (middle names dropped). */
  firstGivenOnly: number;
  /** Of residents with a name spelt more than one way (Stephen/Steven, Clarke/Clark): another spelling. */
  spellingVariant: number;
}

export const FLAW_RATES: Readonly<Record<SourceKind, FlawRates>> = {
  gp: { missingNhsNumber: 0, untracedNhsNumber: 0, nameTypo: 0.003, nickname: 0.005, oldSurname: 0.05, nameSpacing: 0.05, birthDateError: 0.001, oldAddress: 0.05, deathKnown: 0.99, firstGivenOnly: 0, spellingVariant: 0.01 },
  acute: { missingNhsNumber: 0.02, untracedNhsNumber: 0.01, nameTypo: 0.015, nickname: 0.02, oldSurname: 0.3, nameSpacing: 0.2, birthDateError: 0.004, oldAddress: 0.35, deathKnown: 0.8, firstGivenOnly: 0.1, spellingVariant: 0.05 },
  community: { missingNhsNumber: 0.03, untracedNhsNumber: 0.02, nameTypo: 0.015, nickname: 0.03, oldSurname: 0.3, nameSpacing: 0.2, birthDateError: 0.004, oldAddress: 0.3, deathKnown: 0.7, firstGivenOnly: 0.1, spellingVariant: 0.05 },
  'mental-health': { missingNhsNumber: 0.05, untracedNhsNumber: 0.03, nameTypo: 0.02, nickname: 0.04, oldSurname: 0.35, nameSpacing: 0.2, birthDateError: 0.005, oldAddress: 0.35, deathKnown: 0.6, firstGivenOnly: 0.1, spellingVariant: 0.05 },
  'social-care': { missingNhsNumber: 0.15, untracedNhsNumber: 0.1, nameTypo: 0.025, nickname: 0.05, oldSurname: 0.4, nameSpacing: 0.3, birthDateError: 0.008, oldAddress: 0.4, deathKnown: 0.85, firstGivenOnly: 0.2, spellingVariant: 0.08 },
  ambulance: { missingNhsNumber: 0.25, untracedNhsNumber: 0.2, nameTypo: 0.04, nickname: 0.06, oldSurname: 0.5, nameSpacing: 0.4, birthDateError: 0.03, oldAddress: 0.25, deathKnown: 0.4, firstGivenOnly: 0.7, spellingVariant: 0.1 },
};

/** The draws the flaws need; the generator's seeded `Random` (random.ts) has them all. */
export interface Draws {
  next(): number;
  chance(p: number): boolean;
  int(min: number, maxInclusive: number): number;
  pick<T>(items: readonly T[]): T;
}

// Neighbouring keys on a UK QWERTY keyboard: the commonest substitution typo.
const KEYBOARD_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm'];
const NEIGHBOURS = new Map<string, string>();
for (let row = 0; row < KEYBOARD_ROWS.length; row++) {
  const keys = KEYBOARD_ROWS[row] ?? '';
  for (let i = 0; i < keys.length; i++) {
    const around = (keys[i - 1] ?? '') + (keys[i + 1] ?? '') + (KEYBOARD_ROWS[row - 1]?.[i] ?? '') + (KEYBOARD_ROWS[row + 1]?.[i] ?? '');
    NEIGHBOURS.set(keys[i] ?? '', around);
  }
}

function isLetter(ch: string | undefined): boolean {
  return ch !== undefined && ch.toLowerCase() !== ch.toUpperCase();
}

function withCase(replacement: string, original: string): string {
  return original === original.toUpperCase() ? replacement.toUpperCase() : replacement.toLowerCase();
}

/**
 * One typing error: two adjacent letters swapped, one letter replaced by a neighbouring key, or
 * one letter left out. The first letter is kept (people rarely get it wrong, and blocking on it is
 * what matching usually does). Always returns a different name, or the name itself when it is too
 * short to mistype.
 */
export function typo(name: string, draws: Draws): string {
  if (name.length < 3) return name;
  const kind = draws.int(0, 2);
  const positions: number[] = [];
  for (let i = 1; i < name.length; i++) if (isLetter(name[i])) positions.push(i);
  if (positions.length === 0) return name;
  if (kind === 0) {
    const swaps = positions.filter((i) => i + 1 < name.length && isLetter(name[i + 1]) && name[i]?.toLowerCase() !== name[i + 1]?.toLowerCase());
    if (swaps.length > 0) {
      const i = draws.pick(swaps);
      return name.slice(0, i) + (name[i + 1] ?? '') + (name[i] ?? '') + name.slice(i + 2);
    }
  }
  if (kind === 1) {
    const i = draws.pick(positions);
    const original = name[i] ?? '';
    const around = NEIGHBOURS.get(original.toLowerCase());
    if (around !== undefined && around.length > 0) {
      const replacement = draws.pick([...around]);
      return name.slice(0, i) + withCase(replacement, original) + name.slice(i + 1);
    }
  }
  // Omission (also the fallback when a swap or substitution is impossible), never of a doubled
  // letter's twin, which would look like no error at all in many systems' phonetic search.
  const omit = positions.filter((i) => name[i]?.toLowerCase() !== name[i - 1]?.toLowerCase());
  const i = draws.pick(omit.length > 0 ? omit : positions);
  return name.slice(0, i) + name.slice(i + 1);
}

/** Names with a hyphen, space or apostrophe inside, written another way; undefined when there is none. */
export function respaced(name: string, draws: Draws): string | undefined {
  let options: string[] = [];
  const apostrophe = /^(\p{L}+)['’](\p{L}+)$/u.exec(name);
  if (apostrophe) {
    const [, before = '', after = ''] = apostrophe;
    // O'Brien → OBrien, O Brien, Obrien.
    options = [before + after, `${before} ${after}`, before + after.toLowerCase()];
  } else {
    const parts = name.split(/[- ]+/).filter((p) => p.length > 0);
    if (parts.length < 2) return undefined;
    // Smith-Jones → Smith Jones, SmithJones, Jones (one barrel dropped); Mary Jane → Mary-Jane.
    options = [parts.join(' '), parts.join('-'), parts.join(''), parts[parts.length - 1] ?? '', parts[0] ?? ''];
  }
  const different = options.filter((o) => o.length > 0 && o !== name);
  return different.length > 0 ? draws.pick(different) : undefined;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/**
 * A wrong date of birth: day and month swapped where that makes a different valid date,
 * otherwise one digit of the day or the year mistyped (to a neighbouring digit).
 */
export function wrongBirthDate(birthDate: string, draws: Draws): string {
  const year = Number(birthDate.slice(0, 4));
  const month = Number(birthDate.slice(5, 7));
  const day = Number(birthDate.slice(8, 10));
  if (day <= 12 && day !== month && draws.chance(0.6)) return `${pad(year, 4)}-${pad(day, 2)}-${pad(month, 2)}`;
  if (draws.chance(0.5)) {
    // The last digit of the year one off: the commonest digit slip in dates.
    const wrong = year + (year % 10 === 9 ? -1 : year % 10 === 0 ? 1 : draws.chance(0.5) ? 1 : -1);
    const d = Math.min(day, daysInMonth(wrong, month));
    return `${pad(wrong, 4)}-${pad(month, 2)}-${pad(d, 2)}`;
  }
  // The last digit of the day one off (staying within the month).
  const max = daysInMonth(year, month);
  const wrongDay = day === 1 ? 2 : day === max ? day - 1 : day + (draws.chance(0.5) ? 1 : -1);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(wrongDay, 2)}`;
}
