/**
 * The demographics record linkage compares, read from a source's Patient resource, and the
 * normalised form the comparators use (computed once per record and cached).
 */
import type { Patient } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '../../fhir/validate.js';
import { NHS_NUMBER_VERIFICATION_URL } from '../../synthetic/feeds.js';
import { nameParts, normaliseName, soundex } from './strings.js';

export interface Demographics {
  /** Digits only. */
  nhsNumber?: string;
  /** UK Core NHS number verification status 01 (number present and verified). */
  nhsVerified: boolean;
  /** As recorded (normalisation happens inside comparisons). */
  family?: string;
  given: string[];
  /** YYYY-MM-DD. */
  birthDate?: string;
  /** FHIR administrative gender. */
  sex?: string;
  /** Full or district. */
  postcode?: string;
  /** First line(s). */
  address?: string;
}

/** The current name and home address: not an `old` one, and not one whose period has ended. */
function current<T extends { use?: string; period?: { end?: string } }>(items: readonly T[] | undefined, preferred: readonly string[]): T | undefined {
  const live = (items ?? []).filter((i) => i.use !== 'old' && i.period?.end === undefined);
  for (const use of preferred) {
    const found = live.find((i) => i.use === use);
    if (found) return found;
  }
  return live[0];
}

export function demographicsOf(patient: Patient): Demographics {
  const nhs = (patient.identifier ?? []).find((i) => i.system === NHS_NUMBER_SYSTEM && typeof i.value === 'string');
  const nhsNumber = nhs?.value?.replace(/\D/g, '');
  const verified =
    nhs?.extension?.some((e) => e.url === NHS_NUMBER_VERIFICATION_URL && e.valueCodeableConcept?.coding?.some((c) => c.code === '01')) ?? false;
  const name = current(patient.name, ['official', 'usual']);
  const address = current(patient.address, ['home']);
  const line = address?.line?.filter((l) => l.trim().length > 0).join(', ');
  const d: Demographics = { nhsVerified: nhsNumber !== undefined && nhsNumber.length > 0 && verified, given: (name?.given ?? []).filter((g) => g.trim().length > 0) };
  if (nhsNumber !== undefined && nhsNumber.length > 0) d.nhsNumber = nhsNumber;
  if (name?.family !== undefined && name.family.trim().length > 0) d.family = name.family;
  if (patient.birthDate !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(patient.birthDate)) d.birthDate = patient.birthDate;
  if (patient.gender !== undefined && patient.gender !== 'unknown') d.sex = patient.gender;
  if (address?.postalCode !== undefined && address.postalCode.trim().length > 0) d.postcode = address.postalCode;
  if (line !== undefined && line.length > 0) d.address = line;
  return d;
}

/** A record's demographics normalised for comparison. */
export interface Prepared {
  nhsNumber: string | undefined;
  nhsVerified: boolean;
  /** The family name as one run of letters (Smith-Jones, Smith Jones and SmithJones agree). */
  family: string;
  /** Its barrels, when it has more than one. */
  familyParts: string[];
  familySoundex: string;
  /** The given names, first one first. */
  given: string[];
  givenSoundex: string;
  year: number;
  month: number;
  day: number;
  sex: string;
  /** Without spaces, upper case. */
  postcode: string;
  /** The outward code (district). */
  district: string;
  /** The address line's words and numbers, upper case, without the postcode. */
  address: string;
  /** The first number in the address (the house number), or ''. */
  houseNumber: string;
}

/** Keyed by the object: a `Demographics` is treated as immutable once compared. */
const cache = new WeakMap<Demographics, Prepared>();

function outwardCode(postcode: string): string {
  // A full postcode's inward code is always a digit and two letters.
  return postcode.length >= 5 && /\d[A-Z]{2}$/.test(postcode) ? postcode.slice(0, -3) : postcode;
}

export function prepare(d: Demographics): Prepared {
  const cached = cache.get(d);
  if (cached) return cached;
  const given = d.given.flatMap((g) => nameParts(g));
  const [year, month, day] = d.birthDate === undefined ? [0, 0, 0] : d.birthDate.split('-').map(Number);
  const postcode = (d.postcode ?? '').toUpperCase().replace(/[^A-Z0-9]/g, '');
  const address = (d.address ?? '')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, ' ')
    .trim();
  const family = normaliseName(d.family ?? '');
  const prepared: Prepared = {
    nhsNumber: d.nhsNumber,
    nhsVerified: d.nhsVerified && d.nhsNumber !== undefined,
    family,
    familyParts: nameParts(d.family ?? ''),
    familySoundex: soundex(family),
    given,
    givenSoundex: soundex(given[0] ?? ''),
    year: year ?? 0,
    month: month ?? 0,
    day: day ?? 0,
    sex: d.sex ?? '',
    postcode,
    district: outwardCode(postcode),
    address,
    houseNumber: /\b(\d+[A-Z]?)\b/.exec(address)?.[1] ?? '',
  };
  cache.set(d, prepared);
  return prepared;
}
