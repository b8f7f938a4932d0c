/**
 * Finding a resident: by NHS number, or by family name and date of birth (given name optional),
 * searched in the FHIR store as the signed-in user (their access policy in the SQL, so only
 * Patients they may see are found), grouped by resident.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../../core/db/database.js';
import type { FhirAccessPolicy } from '../../fhir/access.js';
import { findMatching } from '../../fhir/search/execute.js';
import { FhirStore } from '../../fhir/store.js';
import { isValidNhsNumber } from '../../fhir/validate.js';
import { formatNhsNumber } from '../../web/render.js';
import { type SourceOrganisation, sourceResolver } from './sources.js';

const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const INTERNAL_BASE = 'urn:openics:internal';
/** More would be a list nobody can read; the page says to narrow the search. */
export const MAX_RESULTS = 50;

export interface FindInput {
  nhsNumber: string;
  family: string;
  given: string;
  day: string;
  month: string;
  year: string;
}

export interface FieldError {
  text: string;
  href: string;
}

export type FindQuery = { by: 'nhs-number'; nhsNumber: string } | { by: 'name'; family: string; given?: string | undefined; birthDate: string };

export function findInputOf(query: Record<string, unknown>): FindInput {
  const text = (key: string): string => {
    const value = query[key];
    return typeof value === 'string' ? value.trim() : '';
  };
  return { nhsNumber: text('nhsNumber'), family: text('family'), given: text('given'), day: text('dob[day]'), month: text('dob[month]'), year: text('dob[year]') };
}

/** Whether anything was asked (an empty form is the first visit, not an error). */
export function isEmpty(input: FindInput): boolean {
  return Object.values(input).every((v) => v === '');
}

/** The query, or errors naming each field (the error summary links to them). */
export function validateFind(input: FindInput): { query?: FindQuery; errors: FieldError[] } {
  if (input.nhsNumber) {
    const digits = input.nhsNumber.replace(/[\s-]/g, '');
    if (!/^\d{10}$/.test(digits)) return { errors: [{ text: 'Enter an NHS number with 10 digits, like 943 476 5919', href: '#nhsNumber' }] };
    if (!isValidNhsNumber(digits)) return { errors: [{ text: 'Enter a valid NHS number: the last digit is a check digit (Modulus 11), so this number has a mistake in it', href: '#nhsNumber' }] };
    return { query: { by: 'nhs-number', nhsNumber: digits }, errors: [] };
  }
  const errors: FieldError[] = [];
  if (!input.family) errors.push({ text: 'Enter a family name, or search by NHS number', href: '#family' });
  let birthDate: string | undefined;
  if (!input.day && !input.month && !input.year) {
    errors.push({ text: 'Enter a date of birth, or search by NHS number', href: '#dob-day' });
  } else {
    birthDate = dateOf(input.day, input.month, input.year);
    if (!birthDate) errors.push({ text: 'Date of birth must be a real date, like 27 3 1961', href: !input.day ? '#dob-day' : !input.month ? '#dob-month' : !input.year ? '#dob-year' : '#dob-day' });
    else if (birthDate > new Date().toISOString().slice(0, 10)) errors.push({ text: 'Date of birth must be today or in the past', href: '#dob-day' });
  }
  if (errors.length > 0 || !birthDate) return { errors };
  return { query: { by: 'name', family: input.family, given: input.given || undefined, birthDate }, errors: [] };
}

/** "3", "4", "1961" → "1961-04-03", or undefined when it is not a real date. */
export function dateOf(day: string, month: string, year: string): string | undefined {
  if (!/^\d{1,2}$/.test(day) || !/^\d{1,2}$/.test(month) || !/^\d{4}$/.test(year)) return undefined;
  const [d, m, y] = [Number(day), Number(month), Number(year)];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1850 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return undefined;
  return date.toISOString().slice(0, 10);
}

export interface FoundPatient {
  patientId: string;
  name: string;
  birthDate?: string | undefined;
  nhsNumber?: string | undefined;
  postcode?: string | undefined;
  source: SourceOrganisation;
}

export interface FoundResident {
  /** The Patient the row links to (the practice's copy when the user may see it). */
  patientId: string;
  residentId?: string | undefined;
  name: string;
  birthDate?: string | undefined;
  nhsNumber?: string | undefined;
  copies: FoundPatient[];
  /** Other organisations holding a record of this resident, by the master patient index (not searched: they may lack what was searched for). */
  alsoHeldBy: SourceOrganisation[];
}

export interface FindResult {
  residents: FoundResident[];
  /** Every Patient id found (for the audit record). */
  patientIds: string[];
  truncated: boolean;
}

/** The resident a Patient belongs to (the master patient index), with the `meta.source` of each of that resident's current source Patients. */
export interface LinkedResident {
  residentId: string;
  sources: (string | null)[];
}

/** The residents of these Patients, by Patient id (an unlinked Patient is absent), in one look-up. */
export type ResidentsOf = (patientIds: readonly string[]) => Promise<ReadonlyMap<string, LinkedResident>>;

/**
 * The master patient index's answer for each Patient, in one query: its resident, with the
 * `meta.source` of that resident's current (not withdrawn) source Patients, oldest link first,
 * as `residentOfPatient` gives them one Patient at a time.
 */
export async function residentsOfPatients(q: Queryable, patientIds: readonly string[]): Promise<Map<string, LinkedResident>> {
  const residents = new Map<string, LinkedResident>();
  if (patientIds.length === 0) return residents;
  const { rows } = await q.query<{ patient_id: string; resident_id: string; member: string | null; system: string | null }>(
    `SELECT s.patient_id, s.resident_id, m.patient_id AS member, m.system
     FROM mpi_source_patient s LEFT JOIN mpi_source_patient m ON m.resident_id = s.resident_id AND m.withdrawn_at IS NULL
     WHERE s.patient_id = ANY($1::text[])
     ORDER BY s.patient_id, m.linked_at, m.patient_id`,
    [[...new Set(patientIds)]],
  );
  for (const row of rows) {
    let resident = residents.get(row.patient_id);
    if (!resident) residents.set(row.patient_id, (resident = { residentId: row.resident_id, sources: [] }));
    if (row.member !== null) resident.sources.push(row.system);
  }
  return residents;
}

function searchParams(query: FindQuery): [string, string][] {
  if (query.by === 'nhs-number') return [['identifier', `${NHS_NUMBER_SYSTEM}|${query.nhsNumber}`]];
  return [['family', query.family], ['birthdate', query.birthDate], ...(query.given ? ([['given', query.given]] as [string, string][]) : [])];
}

/** Searches as the user and groups what they may see by resident. */
export async function findResidents(db: Database, policy: FhirAccessPolicy, query: FindQuery, residentsOf: ResidentsOf): Promise<FindResult> {
  const found = await findMatching(db, 'Patient', searchParams(query), { baseUrl: INTERNAL_BASE, rowFilter: policy.rowFilter, limit: MAX_RESULTS + 1 });
  const truncated = found.length > MAX_RESULTS;
  // One read of the found Patients as the user (the policy checks each, as a read of one would), one look-up of their residents.
  const patients = (await new FhirStore(db).withAccess(policy).readMany('Patient', found.slice(0, MAX_RESULTS).map((f) => f.id))) as (Patient & { id: string })[];
  const [sourceOf, residents] = await Promise.all([sourceResolver(db, patients), residentsOf(patients.map((p) => p.id))]);
  const groups = new Map<string, FoundResident>();
  const linkedSources = new Map<string, string[]>();
  for (const patient of patients) {
    const name = patient.name?.[0];
    const nhs = patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
    const copy: FoundPatient = {
      patientId: patient.id,
      name: name?.text ?? ([...(name?.given ?? []), name?.family].filter(Boolean).join(' ') || 'Name not recorded'),
      birthDate: patient.birthDate,
      nhsNumber: nhs ? formatNhsNumber(nhs) : undefined,
      postcode: patient.address?.[0]?.postalCode,
      source: sourceOf(patient),
    };
    const resident = residents.get(patient.id);
    const residentId = resident?.residentId;
    for (const source of resident?.sources ?? []) if (source) linkedSources.set(residentId ?? '', [...(linkedSources.get(residentId ?? '') ?? []), source]);
    const key = residentId ?? `patient:${patient.id}`;
    const group = groups.get(key);
    if (group) {
      group.copies.push(copy);
      if (copy.source.setting === 'gp') Object.assign(group, { patientId: copy.patientId, name: copy.name, birthDate: copy.birthDate, nhsNumber: copy.nhsNumber ?? group.nhsNumber });
      group.nhsNumber ??= copy.nhsNumber;
    } else {
      groups.set(key, { patientId: copy.patientId, residentId, name: copy.name, birthDate: copy.birthDate, nhsNumber: copy.nhsNumber, copies: [copy], alsoHeldBy: [] });
    }
  }
  const linked = [...linkedSources.values()].flat().map((source) => ({ resourceType: 'Patient' as const, meta: { source } }));
  const linkedSourceOf = await sourceResolver(db, linked);
  for (const group of groups.values()) {
    if (!group.residentId) continue;
    const held = new Set(group.copies.map((c) => c.source.code));
    for (const source of new Set(linkedSources.get(group.residentId) ?? [])) {
      const organisation = linkedSourceOf({ resourceType: 'Patient', meta: { source } });
      if (held.has(organisation.code)) continue;
      held.add(organisation.code);
      group.alsoHeldBy.push(organisation);
    }
  }
  return { residents: [...groups.values()], patientIds: patients.map((p) => p.id), truncated };
}

/**
 * For an NHS number search that found nothing the user may see: the Patient ids holding it
 * (found as OpenICS, never shown), so the page can offer break-glass. Direct-care staff are
 * told such a record exists, as the FHIR policy tells them when they name one (403).
 */
export async function hiddenHolders(db: Database, nhsNumber: string): Promise<string[]> {
  const found = await findMatching(db, 'Patient', [['identifier', `${NHS_NUMBER_SYSTEM}|${nhsNumber}`]], { baseUrl: INTERNAL_BASE, limit: 10 });
  return found.map((f) => f.id);
}
