/**
 * The joined record for direct care: every linked source Patient's records, read through the FHIR
 * store acting for the signed-in user (Patient/$everything with their access policy, so a copy or
 * record they may not see is never read), turned into one view: a banner, demographics with where
 * each value came from and where sources disagree, and the clinical sections, each item with its
 * source organisation and date, filtered by care setting and time.
 */
import type { BundleEntry, Patient, Resource } from '@medplum/fhirtypes';
import type { Database } from '../../core/db/database.js';
import type { FhirAccessPolicy } from '../../fhir/access.js';
import { patientRecord } from '../../fhir/everything.js';
import { FhirError } from '../../fhir/outcome.js';
import { formatDate } from '../../web/render.js';
import { formatNhsNumber } from '../../web/render.js';
import { nhsNumberOf } from '../mpi/residents.js';
import { NHS_NUMBER_SYSTEM } from '../../synthetic/model.js';
import { SETTINGS, type Setting, type SourceOrganisation, sourceResolver } from './sources.js';

/** The references are resolved inside the database; this base only has to be stable. */
const INTERNAL_BASE = 'urn:openics:internal';

export const PERIODS = { '3m': 'Last 3 months', '1y': 'Last year', '5y': 'Last 5 years', all: 'All time' } as const;
export type Period = keyof typeof PERIODS;

export interface RecordFilters {
  /** Empty: every setting. */
  settings: Setting[];
  period: Period;
}

/** Query parameters → filters; anything unrecognised is left out rather than refused (a bookmark keeps working). */
export function parseFilters(query: Record<string, unknown>): RecordFilters {
  const asList = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === 'string' && value ? [value] : []);
  const settings = asList(query.setting).filter((s): s is Setting => (SETTINGS as readonly string[]).includes(s));
  const period = typeof query.period === 'string' && query.period in PERIODS ? (query.period as Period) : 'all';
  return { settings: [...new Set(settings)], period };
}

export interface SourcePatientView {
  patientId: string;
  source: SourceOrganisation;
  localIdentifier?: string | undefined;
  nhsNumber?: string | undefined;
  nhsVerified: boolean;
}

export interface SourcedValue {
  value: string;
  sources: SourceOrganisation[];
}

export interface DemographicRow {
  label: string;
  /** One value when the sources agree; several when they do not (most sources first). */
  values: SourcedValue[];
  /** Sources that hold no value for it. */
  missing: SourceOrganisation[];
}

export interface RecordItem {
  type: string;
  id: string;
  title: string;
  detail?: string | undefined;
  /** ISO date (or date-time) the item is about; absent when the source gave none. */
  date?: string | undefined;
  end?: string | undefined;
  status?: string | undefined;
  code?: string | undefined;
  source: SourceOrganisation;
}

export interface ResultPoint {
  date: string;
  value: number;
  /** Blood pressure: the diastolic. */
  second?: number | undefined;
  source: SourceOrganisation;
}

export interface ResultSeries {
  key: 'hba1c' | 'egfr' | 'bp' | 'bmi';
  name: string;
  unit: string;
  points: ResultPoint[];
}

export interface JoinedRecord {
  patientId: string;
  /** The source Patients the user could see, registered practice first. */
  sources: SourcePatientView[];
  /** Every Patient id read (for the audit record). */
  patientIds: string[];
  banner: { name: string; nhsNumber?: string | undefined; birthDate?: string | undefined; age?: number | undefined; deceased?: string | undefined; sex?: string | undefined; practice?: string | undefined };
  demographics: DemographicRow[];
  problems: RecordItem[];
  medications: RecordItem[];
  allergies: RecordItem[];
  results: ResultSeries[];
  timeline: RecordItem[];
  carePlans: RecordItem[];
  socialCare: RecordItem[];
  careTeam: RecordItem[];
  contacts: RecordItem[];
  documents: RecordItem[];
  filters: RecordFilters;
}

export interface ReadOptions {
  db: Database;
  /** The signed-in user's FHIR access policy. */
  policy: FhirAccessPolicy;
  /** The source Patient ids of the resident (the one asked for first). */
  patientIds: readonly string[];
  filters: RecordFilters;
  /** "Now" for ages and the time filter. */
  today?: Date;
}

/** A copy the user could not read: the error the store gave (403 with break-glass, 404, 410). */
export class RecordRefused extends Error {
  constructor(readonly error: FhirError) {
    super(error.message);
  }
}

/**
 * Reads every source Patient's records the user may see and joins them. The Patient asked for
 * must be readable (else RecordRefused with the store's error); linked copies the user may not
 * see are left out.
 */
export async function readJoinedRecord(options: ReadOptions): Promise<JoinedRecord> {
  const [first, ...others] = options.patientIds;
  if (first === undefined) throw new Error('readJoinedRecord needs a Patient id');
  const records: BundleEntry[][] = [];
  const read: string[] = [];
  for (const id of [first, ...others]) {
    try {
      // The whole compartment, unpaged: a long record is never cut short.
      records.push((await patientRecord(options.db, id, {}, INTERNAL_BASE, { access: options.policy })).entries);
      read.push(id);
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      if (id === first) throw new RecordRefused(error);
    }
  }
  const transform = options.policy.transform;
  // $everything may already include linked copies' records (and shared resources repeat): once each.
  const unique = new Map<string, Resource>();
  for (const entries of records) {
    for (const entry of entries) {
      const r = entry.resource;
      if (r && !unique.has(`${r.resourceType}/${r.id ?? ''}`)) unique.set(`${r.resourceType}/${r.id ?? ''}`, transform ? transform(r) : r);
    }
  }
  const resources = [...unique.values()];
  for (const r of resources) if (r.resourceType === 'Patient' && r.id && !read.includes(r.id)) read.push(r.id);
  return await joinResources(options.db, first, read, resources, options.filters, options.today ?? new Date());
}

type AnyResource = Resource & Record<string, unknown>;
interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
interface Concept {
  coding?: Coding[];
  text?: string;
}

function conceptText(concept: unknown): string | undefined {
  const c = concept as Concept | undefined;
  return c?.text ?? c?.coding?.find((x) => x.display)?.display ?? c?.coding?.[0]?.code;
}

function conceptCode(concept: unknown, system?: string): string | undefined {
  const c = concept as Concept | undefined;
  return (system ? c?.coding?.find((x) => x.system === system) : c?.coding?.[0])?.code;
}

function firstConcept(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

/** Joins resources read already; exported for tests that build their own. */
export async function joinResources(db: Database, patientId: string, patientIds: string[], resources: readonly Resource[], filters: RecordFilters, today: Date): Promise<JoinedRecord> {
  const sourceOf = await sourceResolver(db, resources);
  const patients = resources.filter((r) => r.resourceType === 'Patient') as AnyResource[];
  // The registered practice's copy first: it is the usual reference for demographics.
  patients.sort((a, b) => Number(sourceOf(b).setting === 'gp') - Number(sourceOf(a).setting === 'gp') || Number(b.id === patientId) - Number(a.id === patientId));
  const sources: SourcePatientView[] = patients.map((p) => {
    const identifiers = (p.identifier ?? []) as { system?: string; value?: string; use?: string; extension?: { url?: string; valueCodeableConcept?: Concept }[] }[];
    const local = identifiers.find((i) => i.system !== NHS_NUMBER_SYSTEM);
    const { nhsNumber, nhsVerified } = nhsNumberOf(p as Patient);
    return { patientId: p.id ?? '', source: sourceOf(p), localIdentifier: local?.value, nhsNumber: nhsNumber ? formatNhsNumber(nhsNumber) : undefined, nhsVerified };
  });

  const from = periodStart(filters.period, today);
  const keep = (item: RecordItem): boolean => (filters.settings.length === 0 || filters.settings.includes(item.source.setting as Setting)) && (from === undefined || item.date === undefined || (item.end ?? item.date) >= from);

  const demographics = demographicRows(patients, sourceOf);
  const banner = bannerOf(patients, sourceOf, today);

  const items = resources.filter((r) => r.resourceType !== 'Patient' && r.resourceType !== 'Organization');
  const section = (types: string[], build: (r: AnyResource) => RecordItem | undefined): RecordItem[] =>
    items
      .filter((r) => types.includes(r.resourceType))
      .map((r) => build(r as AnyResource))
      .filter((i): i is RecordItem => i !== undefined)
      .filter(keep)
      .sort(byDateDescending);

  const base = (r: AnyResource): Pick<RecordItem, 'type' | 'id' | 'source'> => ({ type: r.resourceType, id: r.id ?? '', source: sourceOf(r) });

  const problems = newestPerCode(section(['Condition'], (r) => {
    const clinical = conceptCode(r.clinicalStatus);
    const category = conceptCode(firstConcept(r.category));
    // Current problems: the problem list's active items, and diagnoses without a resolution.
    if (clinical && clinical !== 'active' && clinical !== 'recurrence' && clinical !== 'relapse') return undefined;
    return { ...base(r), title: conceptText(r.code) ?? 'Problem', date: str(r.onsetDateTime) ?? str(r.recordedDate), status: category === 'encounter-diagnosis' ? 'Diagnosis in an encounter' : 'Problem list', code: conceptCode(r.code, 'http://snomed.info/sct') ?? conceptCode(r.code) };
  }));

  const medications = section(['MedicationRequest', 'MedicationStatement'], (r) => {
    const status = str(r.status);
    if (status !== 'active' && status !== 'on-hold') return undefined;
    const repeat = (r.extension as { url?: string }[] | undefined)?.some((e) => e.url?.endsWith('MedicationRepeatInformation'));
    const dosage = (r.dosageInstruction as { text?: string }[] | undefined)?.[0]?.text;
    return { ...base(r), title: conceptText(r.medicationCodeableConcept) ?? 'Medicine', detail: dosage, date: str(r.authoredOn) ?? str((r.effectivePeriod as { start?: string } | undefined)?.start), status: repeat ? 'Repeat' : 'Acute', code: conceptCode(r.medicationCodeableConcept, 'https://dmd.nhs.uk') };
  });

  const allergies = section(['AllergyIntolerance'], (r) => {
    const clinical = conceptCode(r.clinicalStatus);
    if (clinical && clinical !== 'active') return undefined;
    const first = (r.reaction as { manifestation?: unknown[]; severity?: string }[] | undefined)?.[0];
    const reaction = conceptText(first?.manifestation?.[0]);
    const detail = reaction && first?.severity ? `${reaction} (${first.severity})` : reaction;
    const criticality = str(r.criticality);
    return { ...base(r), title: conceptText(r.code) ?? 'Allergy', detail, date: str(r.recordedDate) ?? str(r.onsetDateTime), status: criticality ? CRITICALITY[criticality] ?? criticality : undefined };
  });

  const timeline = section(['Encounter', 'Procedure'], (r) => {
    if (r.resourceType === 'Procedure') return { ...base(r), title: conceptText(r.code) ?? 'Procedure', date: str(r.performedDateTime) ?? str((r.performedPeriod as { start?: string } | undefined)?.start), status: 'Procedure' };
    const period = r.period as { start?: string; end?: string } | undefined;
    const klass = (r.class as Coding | undefined)?.code;
    const what = [conceptText(firstConcept(r.type)), conceptText(firstConcept(r.serviceType))].filter(Boolean).join(': ');
    return { ...base(r), title: what || 'Contact', date: period?.start, end: period?.end, status: ENCOUNTER_CLASSES[klass ?? ''] ?? 'Contact' };
  });

  const episodes = (r: AnyResource): RecordItem => {
    const period = r.period as { start?: string; end?: string } | undefined;
    return { ...base(r), title: conceptText(firstConcept(r.type)) ?? 'Episode of care', date: period?.start, end: period?.end, status: str(r.status) === 'active' ? 'Open' : 'Closed' };
  };
  const socialCare = section(['EpisodeOfCare'], (r) => (sourceOf(r).setting === 'social-care' ? episodes(r) : undefined));
  const carePlans = [
    ...section(['CarePlan'], (r) => ({ ...base(r), title: str(r.title) ?? conceptText(firstConcept(r.category)) ?? 'Care plan', date: str((r.period as { start?: string } | undefined)?.start) ?? str(r.created), status: statusInWords(r.status) })),
    ...section(['EpisodeOfCare'], (r) => (sourceOf(r).setting === 'social-care' ? undefined : episodes(r))),
  ].sort(byDateDescending);
  const careTeam = section(['CareTeam'], (r) => {
    const members = (r.participant as { member?: { display?: string }; role?: unknown[] }[] | undefined) ?? [];
    return { ...base(r), title: str(r.name) ?? 'Care team', detail: members.map((m) => [m.member?.display, conceptText(m.role?.[0])].filter(Boolean).join(', ')).filter(Boolean).join('; ') || undefined, date: str((r.period as { start?: string } | undefined)?.start), status: statusInWords(r.status) };
  });
  const contacts = [
    ...section(['RelatedPerson'], (r) => ({ ...base(r), title: humanName(r.name) ?? 'Contact', detail: conceptText(firstConcept(r.relationship)), date: str((r.period as { start?: string } | undefined)?.start) })),
    ...patients.flatMap((p) =>
      ((p.contact as { name?: unknown; relationship?: unknown[]; telecom?: { value?: string }[] }[] | undefined) ?? []).map((c, i) => ({
        type: 'Patient.contact',
        id: `${p.id ?? ''}-${i}`,
        title: humanName(c.name ? [c.name] : undefined) ?? 'Contact',
        detail: conceptText(c.relationship?.[0]),
        source: sourceOf(p),
      })),
    ),
  ].filter(keep);
  const documents = section(['DocumentReference'], (r) => {
    const attachment = (r.content as { attachment?: { url?: string; title?: string } }[] | undefined)?.[0]?.attachment;
    return { ...base(r), title: attachment?.title ?? str(r.description) ?? conceptText(r.type) ?? 'Document', detail: attachment?.url, date: str(r.date) };
  });

  const results = resultSeries(items as AnyResource[], sourceOf).map((series) => ({ ...series, points: series.points.filter((p) => keep({ type: 'Observation', id: '', title: '', date: p.date, source: p.source })) })).filter((series) => series.points.length > 0);

  return { patientId, sources, patientIds, banner, demographics, problems, medications, allergies, results, timeline, carePlans, socialCare, careTeam, contacts, documents, filters };
}

/** CarePlan.status and CareTeam.status in words, as episodes of care read Open and Closed beside them. */
const STATUS_WORDS: Readonly<Record<string, string>> = {
  active: 'Active',
  completed: 'Completed',
  inactive: 'Ended',
  'on-hold': 'On hold',
  suspended: 'Suspended',
  revoked: 'Stopped',
  draft: 'Draft',
  proposed: 'Proposed',
  unknown: 'Not known',
};
function statusInWords(status: unknown): string | undefined {
  const code = str(status);
  return code === undefined ? undefined : (STATUS_WORDS[code] ?? code);
}

/** AllergyIntolerance.criticality in words (the column is headed Criticality). */
const CRITICALITY: Readonly<Record<string, string>> = { low: 'Low', high: 'High', 'unable-to-assess': 'Unable to assess' };

const ENCOUNTER_CLASSES: Record<string, string> = {
  AMB: 'Appointment',
  IMP: 'Admission',
  ACUTE: 'Admission',
  EMER: 'Emergency department',
  HH: 'Home visit',
  FLD: 'Ambulance call-out',
  VR: 'Remote consultation',
  SS: 'Day case',
};

/** A hospital codes the same diagnosis at every admission: the newest per code and source is enough for a problem list (items come newest first). */
function newestPerCode(items: RecordItem[]): RecordItem[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = `${item.source.code}|${item.code ?? item.title}|${item.status ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

function byDateDescending(a: RecordItem, b: RecordItem): number {
  return (b.date ?? '').localeCompare(a.date ?? '');
}

export function periodStart(period: Period, today: Date): string | undefined {
  const months = { '3m': 3, '1y': 12, '5y': 60, all: 0 }[period];
  if (!months) return undefined;
  const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - months, today.getUTCDate()));
  return d.toISOString().slice(0, 10);
}

function humanName(names: unknown): string | undefined {
  const name = (names as { text?: string; given?: string[]; family?: string; prefix?: string[] }[] | undefined)?.[0];
  if (!name) return undefined;
  return name.text ?? ([...(name.given ?? []), name.family].filter(Boolean).join(' ') || undefined);
}

function addressText(address: unknown): string | undefined {
  const a = (address as { line?: string[]; city?: string; postalCode?: string; use?: string; period?: { end?: string } }[] | undefined)?.find((x) => x.use !== 'old' && !x.period?.end);
  if (!a) return undefined;
  return [...(a.line ?? []), a.city, a.postalCode].filter(Boolean).join(', ') || undefined;
}

const SEX: Record<string, string> = { male: 'Male', female: 'Female', other: 'Other', unknown: 'Not known' };

function demographicRows(patients: AnyResource[], sourceOf: (r: Resource) => SourceOrganisation): DemographicRow[] {
  const fields: [string, (p: AnyResource) => string | undefined][] = [
    ['Name', (p) => humanName(p.name)],
    ['Date of birth', (p) => (str(p.birthDate) ? formatDate(p.birthDate) : undefined)],
    ['Sex', (p) => SEX[str(p.gender) ?? '']],
    ['NHS number', (p) => {
      const value = (p.identifier as { system?: string; value?: string }[] | undefined)?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
      return value ? formatNhsNumber(value) : undefined;
    }],
    ['Address', (p) => addressText(p.address)],
    ['Registered GP practice', (p) => (p.generalPractitioner as { display?: string; identifier?: { value?: string } }[] | undefined)?.map((g) => [g.display, g.identifier?.value].filter(Boolean).join(' ')).find(Boolean)],
    ['Date of death', (p) => (str(p.deceasedDateTime) ? formatDate(p.deceasedDateTime) : p.deceasedBoolean === true ? 'Recorded as died (no date)' : undefined)],
  ];
  return fields
    .map(([label, pick]) => {
      const values: SourcedValue[] = [];
      const missing: SourceOrganisation[] = [];
      for (const patient of patients) {
        const value = pick(patient);
        const source = sourceOf(patient);
        if (value === undefined) {
          missing.push(source);
          continue;
        }
        const same = values.find((v) => v.value.toLowerCase() === value.toLowerCase());
        if (same) same.sources.push(source);
        else values.push({ value, sources: [source] });
      }
      values.sort((a, b) => b.sources.length - a.sources.length);
      return { label, values, missing };
    })
    .filter((row) => row.values.length > 0 || row.label !== 'Date of death');
}

function bannerOf(patients: AnyResource[], sourceOf: (r: Resource) => SourceOrganisation, today: Date): JoinedRecord['banner'] {
  // The practice's copy is the reference; the NHS number is a verified one where any copy has it.
  const main = patients[0];
  const numbers = patients.map((p) => nhsNumberOf(p as Patient)).filter((n) => n.nhsNumber !== null);
  const verified = numbers.find((n) => n.nhsVerified) ?? numbers[0];
  const birthDate = str(main?.birthDate);
  const deceased = patients.map((p) => str(p.deceasedDateTime)).find(Boolean);
  const practice = patients.find((p) => sourceOf(p).setting === 'gp');
  return {
    name: humanName(main?.name) ?? 'Name not recorded',
    nhsNumber: verified?.nhsNumber ? formatNhsNumber(verified.nhsNumber) : undefined,
    birthDate,
    age: birthDate ? ageOn(birthDate, deceased ? new Date(deceased) : today) : undefined,
    deceased,
    sex: SEX[str(main?.gender) ?? ''],
    practice: practice ? `${sourceOf(practice).name} (${sourceOf(practice).code})` : (main?.generalPractitioner as { display?: string }[] | undefined)?.[0]?.display,
  };
}

export function ageOn(birthDate: string, on: Date): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(birthDate);
  if (!match) return undefined;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  let age = on.getUTCFullYear() - y;
  if (on.getUTCMonth() + 1 < m || (on.getUTCMonth() + 1 === m && on.getUTCDate() < d)) age -= 1;
  return age;
}

const SERIES: { key: ResultSeries['key']; name: string; unit: string; codes: string[] }[] = [
  { key: 'hba1c', name: 'HbA1c', unit: 'mmol/mol', codes: ['1049301000000100', '999791000000106'] },
  { key: 'egfr', name: 'eGFR', unit: 'mL/min/1.73m²', codes: ['1011481000000105', '1020291000000106'] },
  { key: 'bp', name: 'Blood pressure', unit: 'mmHg', codes: ['75367002'] },
  { key: 'bmi', name: 'BMI', unit: 'kg/m²', codes: ['60621009'] },
];

function resultSeries(items: AnyResource[], sourceOf: (r: Resource) => SourceOrganisation): ResultSeries[] {
  const observations = items.filter((r) => r.resourceType === 'Observation');
  return SERIES.map((series) => {
    const points: ResultPoint[] = [];
    for (const o of observations) {
      const codes = ((o.code as Concept | undefined)?.coding ?? []).map((c) => c.code);
      if (!codes.some((c) => c !== undefined && series.codes.includes(c))) continue;
      const date = str(o.effectiveDateTime) ?? str((o.effectivePeriod as { start?: string } | undefined)?.start);
      if (!date) continue;
      if (series.key === 'bp') {
        const component = (code: string): number | undefined => (o.component as { code?: Concept; valueQuantity?: { value?: number } }[] | undefined)?.find((c) => c.code?.coding?.some((x) => x.code === code))?.valueQuantity?.value;
        const systolic = component('271649006');
        if (systolic === undefined) continue;
        points.push({ date, value: systolic, second: component('271650006'), source: sourceOf(o) });
      } else {
        const value = (o.valueQuantity as { value?: number } | undefined)?.value;
        if (typeof value !== 'number') continue;
        points.push({ date, value, source: sourceOf(o) });
      }
    }
    points.sort((a, b) => b.date.localeCompare(a.date));
    return { key: series.key, name: series.name, unit: series.unit, points };
  }).filter((s) => s.points.length > 0);
}
