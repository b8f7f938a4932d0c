/**
 * The International Patient Summary (HL7 IPS for FHIR R4, http://hl7.org/fhir/uv/ips/): a
 * `document` Bundle whose first entry is a Composition (LOINC 60591-5 Patient summary document)
 * with the sections IPS requires (problems, medications, allergies) and the recommended ones
 * OpenICS holds data for (immunizations, results, vital signs, procedures, past illness, plan of
 * care), built from the joined record: every linked source's resources the caller may see.
 *
 * A pure function over those resources: reading them (through the caller's access policy) and
 * auditing is the route's job (routes.ts).
 *
 * Empty required sections: IPS 1.1 (ips-comp-1) wants either entries or `emptyReason`. OpenICS
 * cannot tell "no known allergies" from "nobody recorded any", so a section with nothing in it
 * gets emptyReason `unavailable` and says so in its text; a source's own record of "no known
 * allergy" (SNOMED 716186003, or the IPS absent-unknown code) is an entry like any other, shown
 * only when no allergy is recorded.
 */
import { randomUUID } from 'node:crypto';
import type {
  AllergyIntolerance,
  Bundle,
  BundleEntry,
  CarePlan,
  CodeableConcept,
  Composition,
  CompositionSection,
  Condition,
  Device,
  Immunization,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Organization,
  Patient,
  Procedure,
  Resource,
} from '@medplum/fhirtypes';

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const IPS_ABSENT = 'http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips';
const SOURCE_PREFIX = 'urn:openics:source:';

/** The resource types the summary is built from (shared ones for what entries refer to). */
export const SUMMARY_TYPES: readonly string[] = [
  'Patient',
  'Condition',
  'MedicationRequest',
  'MedicationStatement',
  'AllergyIntolerance',
  'Immunization',
  'Observation',
  'Procedure',
  'CarePlan',
  'Medication',
  'Organization',
  'Practitioner',
  'PractitionerRole',
  'Location',
];

/** Lab results of one test kept in the summary (the most recent). */
const RESULTS_PER_TEST = 3;

interface SectionSpec {
  title: string;
  loinc: string;
  display: string;
  required: boolean;
  /** What the text says when the section is empty. */
  empty: string;
}

const SECTIONS = {
  problems: { title: 'Active problems', loinc: '11450-4', display: 'Problem list - Reported', required: true, empty: 'No current problems are recorded by any source organisation.' },
  medications: { title: 'Medication', loinc: '10160-0', display: 'History of Medication use Narrative', required: true, empty: 'No current medication is recorded by any source organisation.' },
  allergies: { title: 'Allergies and intolerances', loinc: '48765-2', display: 'Allergies and adverse reactions Document', required: true, empty: 'No information about allergies is held by any source organisation (which is not the same as no known allergies).' },
  immunizations: { title: 'Immunizations', loinc: '11369-6', display: 'History of Immunization Narrative', required: false, empty: '' },
  results: { title: 'Results', loinc: '30954-2', display: 'Relevant diagnostic tests/laboratory data Narrative', required: false, empty: '' },
  vitals: { title: 'Vital signs', loinc: '8716-3', display: 'Vital signs', required: false, empty: '' },
  procedures: { title: 'History of procedures', loinc: '47519-4', display: 'History of Procedures Document', required: false, empty: '' },
  pastIllness: { title: 'Past problems', loinc: '11348-0', display: 'History of Past illness Narrative', required: false, empty: '' },
  carePlans: { title: 'Plan of care', loinc: '18776-5', display: 'Plan of care note', required: false, empty: '' },
} satisfies Record<string, SectionSpec>;

type SectionName = keyof typeof SECTIONS;

/** One resource placed in a section, with what its row in the narrative says. */
interface Item {
  entry: BundleEntry;
  what: string;
  when: string | undefined;
}

export interface SummaryInput {
  /** The Patient asked for (the Composition's subject). */
  patientId: string;
  /** The joined record as $everything returns it (fullUrl and resource), all linked sources. */
  entries: readonly BundleEntry[];
  /** The FHIR base URL (fullUrls of generated resources are urn:uuid). */
  base: string;
  now?: Date;
}

/** Builds the IPS document Bundle. Throws if the Patient asked for is not among the entries. */
export function buildPatientSummary(input: SummaryInput): Bundle {
  const now = input.now ?? new Date();
  const byType = new Map<string, BundleEntry[]>();
  for (const entry of input.entries) {
    const type = entry.resource?.resourceType;
    if (type) byType.set(type, [...(byType.get(type) ?? []), entry]);
  }
  const of = <T extends Resource>(type: T['resourceType']): Array<{ entry: BundleEntry; resource: T }> =>
    (byType.get(type) ?? []).map((entry) => ({ entry, resource: entry.resource as T }));
  const subject = of<Patient>('Patient').find((p) => p.resource.id === input.patientId);
  if (!subject) throw new Error('the Patient asked for is not in its own record');
  const organisations = new Map(of<Organization>('Organization').map((o) => [o.resource.id ?? '', o.resource.name ?? o.resource.id ?? '']));

  const sections: Record<SectionName, Item[]> = { problems: [], medications: [], allergies: [], immunizations: [], results: [], vitals: [], procedures: [], pastIllness: [], carePlans: [] };

  for (const { entry, resource } of of<Condition>('Condition')) {
    if (resource.verificationStatus?.coding?.some((c) => c.code === 'entered-in-error' || c.code === 'refuted')) continue;
    const status = resource.clinicalStatus?.coding?.[0]?.code;
    const problemListItem = resource.category?.some((c) => c.coding?.some((k) => k.code === 'problem-list-item')) ?? false;
    const when = resource.onsetDateTime ?? resource.onsetPeriod?.start ?? resource.recordedDate;
    if (status === 'active' || status === 'recurrence' || status === 'relapse' || (status === undefined && problemListItem)) sections.problems.push({ entry, what: text(resource.code), when });
    else if (status === 'inactive' || status === 'remission' || status === 'resolved') sections.pastIllness.push({ entry, what: text(resource.code), when: resource.abatementDateTime ?? when });
  }
  for (const { entry, resource } of of<MedicationRequest>('MedicationRequest')) {
    if (resource.status !== 'active' && resource.status !== 'on-hold') continue;
    sections.medications.push({ entry, what: medicationText(resource.medicationCodeableConcept, resource.medicationReference?.reference, input.entries), when: resource.authoredOn });
  }
  for (const { entry, resource } of of<MedicationStatement>('MedicationStatement')) {
    if (resource.status !== 'active' && resource.status !== 'intended' && resource.status !== 'on-hold') continue;
    sections.medications.push({ entry, what: medicationText(resource.medicationCodeableConcept, resource.medicationReference?.reference, input.entries), when: resource.effectiveDateTime ?? resource.effectivePeriod?.start ?? resource.dateAsserted });
  }
  const allergies: Item[] = [];
  const noneKnown: Item[] = [];
  for (const { entry, resource } of of<AllergyIntolerance>('AllergyIntolerance')) {
    if (resource.verificationStatus?.coding?.some((c) => c.code === 'entered-in-error' || c.code === 'refuted')) continue;
    const status = resource.clinicalStatus?.coding?.[0]?.code;
    if (status !== undefined && status !== 'active') continue;
    const item = { entry, what: text(resource.code), when: resource.recordedDate ?? resource.onsetDateTime };
    (assertsNoneKnown(resource.code) ? noneKnown : allergies).push(item);
  }
  sections.allergies = allergies.length > 0 ? allergies : noneKnown;
  for (const { entry, resource } of of<Immunization>('Immunization')) {
    if (resource.status !== 'completed') continue;
    sections.immunizations.push({ entry, what: text(resource.vaccineCode), when: resource.occurrenceDateTime });
  }
  const results: Item[] = [];
  for (const { entry, resource } of of<Observation>('Observation')) {
    if (resource.status === 'entered-in-error' || resource.status === 'cancelled' || resource.status === 'registered') continue;
    const category = resource.category?.flatMap((c) => c.coding?.map((k) => k.code) ?? []) ?? [];
    const item = { entry, what: `${text(resource.code)}: ${observationValue(resource)}`, when: resource.effectiveDateTime ?? resource.effectivePeriod?.start ?? resource.effectiveInstant ?? resource.issued };
    if (category.includes('vital-signs')) sections.vitals.push(item);
    else if (category.includes('laboratory')) results.push(item);
  }
  sections.results = mostRecentPerTest(results, RESULTS_PER_TEST);
  sections.vitals = mostRecentPerTest(sections.vitals, 1);
  for (const { entry, resource } of of<Procedure>('Procedure')) {
    if (resource.status !== 'completed' && resource.status !== 'in-progress') continue;
    sections.procedures.push({ entry, what: text(resource.code), when: resource.performedDateTime ?? resource.performedPeriod?.start });
  }
  for (const { entry, resource } of of<CarePlan>('CarePlan')) {
    if (resource.status !== 'active' && resource.status !== 'on-hold') continue;
    sections.carePlans.push({ entry, what: resource.title ?? text(resource.category?.[0]), when: resource.period?.start ?? resource.created });
  }

  const author: Device = {
    resourceType: 'Device',
    id: randomUUID(),
    deviceName: [{ name: 'OpenICS shared care record', type: 'manufacturer-name' }],
    type: { text: 'Shared care record: the International Patient Summary is generated from the records of every partner organisation' },
  };
  const authorUrl = `urn:uuid:${author.id}`;
  const compositionSections: CompositionSection[] = [];
  const included = new Map<string, BundleEntry>();
  for (const [name, spec] of Object.entries(SECTIONS) as Array<[SectionName, SectionSpec]>) {
    const items = [...sections[name]].sort((a, b) => (b.when ?? '').localeCompare(a.when ?? ''));
    if (items.length === 0 && !spec.required) continue;
    const section: CompositionSection = {
      title: spec.title,
      code: { coding: [{ system: LOINC, code: spec.loinc, display: spec.display }] },
      text: { status: 'generated', div: narrative(items, spec, organisations) },
    };
    if (items.length > 0) {
      section.entry = items.map((i) => ({ reference: referenceTo(i.entry) }));
      for (const i of items) included.set(i.entry.fullUrl ?? '', i.entry);
    } else {
      section.emptyReason = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'unavailable', display: 'Unavailable' }], text: spec.empty };
    }
    compositionSections.push(section);
  }

  // What the entries refer to, when the joined record has it: the linked Patients, medicines, organisations, practitioners.
  const byUrl = new Map(input.entries.map((e) => [relativeUrl(e), e]));
  const referred = new Map<string, BundleEntry>();
  const patients = of<Patient>('Patient').filter((p) => p.resource.id !== input.patientId);
  for (const entry of included.values()) {
    for (const reference of referencesIn(entry.resource)) {
      const target = byUrl.get(reference);
      if (target && !included.has(target.fullUrl ?? '') && target.resource?.resourceType !== 'Patient') referred.set(target.fullUrl ?? '', target);
    }
  }

  const composition: Composition = {
    resourceType: 'Composition',
    id: randomUUID(),
    status: 'final',
    type: { coding: [{ system: LOINC, code: '60591-5', display: 'Patient summary Document' }] },
    subject: { reference: referenceTo(subject.entry) },
    date: now.toISOString(),
    author: [{ reference: authorUrl, display: 'OpenICS shared care record' }],
    title: 'International Patient Summary',
    confidentiality: 'N',
    section: compositionSections,
  };
  const document = (entry: BundleEntry): BundleEntry => ({ ...(entry.fullUrl ? { fullUrl: entry.fullUrl } : {}), ...(entry.resource ? { resource: entry.resource } : {}) });
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: now.toISOString() },
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` },
    type: 'document',
    timestamp: now.toISOString(),
    entry: [
      { fullUrl: `urn:uuid:${composition.id}`, resource: composition },
      document(subject.entry),
      ...patients.map((p) => document(p.entry)),
      ...[...included.values()].map(document),
      ...[...referred.values()].map(document),
      { fullUrl: authorUrl, resource: author },
    ],
  };
}

/** `Type/id` of an entry (its fullUrl ends in it). */
function relativeUrl(entry: BundleEntry): string {
  return entry.resource ? `${entry.resource.resourceType}/${entry.resource.id ?? ''}` : '';
}

/** The Composition refers to entries by their fullUrl: it is itself a urn:uuid entry, so a relative reference would not resolve. */
function referenceTo(entry: BundleEntry): string {
  return entry.fullUrl ?? relativeUrl(entry);
}

/** Every relative `Type/id` reference in a resource. */
function referencesIn(resource: Resource | undefined): string[] {
  const out: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) for (const v of value) walk(v);
    else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        if (key === 'reference' && typeof v === 'string' && /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(v)) out.push(v);
        else walk(v);
      }
    }
  };
  walk(resource);
  return out;
}

function text(concept: CodeableConcept | undefined): string {
  return concept?.text ?? concept?.coding?.find((c) => c.display)?.display ?? concept?.coding?.[0]?.code ?? 'Not coded';
}

function medicationText(concept: CodeableConcept | undefined, reference: string | undefined, entries: readonly BundleEntry[]): string {
  if (concept) return text(concept);
  const medication = entries.find((e) => reference !== undefined && relativeUrl(e) === reference)?.resource;
  return medication?.resourceType === 'Medication' ? text(medication.code) : 'Medication';
}

function assertsNoneKnown(code: CodeableConcept | undefined): boolean {
  return code?.coding?.some((c) => (c.system === SNOMED && c.code === '716186003') || (c.system === IPS_ABSENT && c.code === 'no-known-allergies')) ?? false;
}

function observationValue(o: Observation): string {
  if (o.valueQuantity?.value !== undefined) return `${o.valueQuantity.value}${o.valueQuantity.unit ? ` ${o.valueQuantity.unit}` : ''}`;
  if (o.valueCodeableConcept) return text(o.valueCodeableConcept);
  if (o.valueString !== undefined) return o.valueString;
  if (o.component?.length) return o.component.map((c) => `${text(c.code)} ${c.valueQuantity?.value ?? ''}${c.valueQuantity?.unit ? ` ${c.valueQuantity.unit}` : ''}`.trim()).join(', ');
  return 'no value';
}

/** The `limit` most recent of each test (by code). */
function mostRecentPerTest(items: Item[], limit: number): Item[] {
  const byTest = new Map<string, Item[]>();
  for (const item of items) {
    const o = item.entry.resource as Observation;
    const key = o.code.coding?.map((c) => `${c.system ?? ''}|${c.code ?? ''}`).join(',') || (o.code.text ?? '');
    byTest.set(key, [...(byTest.get(key) ?? []), item]);
  }
  return [...byTest.values()].flatMap((list) => list.sort((a, b) => (b.when ?? '').localeCompare(a.when ?? '')).slice(0, limit));
}

/** The organisation whose system sent a resource (meta.source `urn:openics:source:<code>:<system>`), by name when the record has its Organization. */
function sourceName(resource: Resource | undefined, organisations: ReadonlyMap<string, string>): string {
  const source = resource?.meta?.source;
  if (!source) return 'Unknown source';
  if (!source.startsWith(SOURCE_PREFIX)) return source;
  const code = source.slice(SOURCE_PREFIX.length).split(':')[0] ?? '';
  return organisations.get(code) ?? code;
}

function escape(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

function narrative(items: readonly Item[], spec: SectionSpec, organisations: ReadonlyMap<string, string>): string {
  if (items.length === 0) return `<div xmlns="http://www.w3.org/1999/xhtml"><p>${escape(spec.empty)}</p></div>`;
  const rows = items.map((i) => `<tr><td>${escape(i.what)}</td><td>${escape(i.when?.slice(0, 10) ?? 'Not known')}</td><td>${escape(sourceName(i.entry.resource, organisations))}</td></tr>`);
  return `<div xmlns="http://www.w3.org/1999/xhtml"><table><thead><tr><th>${escape(spec.title)}</th><th>Date</th><th>Source</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}
