/**
 * The shared care record's FHIR operations over real HTTP, with the access policy and the
 * platform's write hook (so the master patient index links the source Patients as they are
 * written): Patient/$everything across a resident's linked source Patients, and
 * Patient/$summary (the International Patient Summary).
 */
import type { Bundle, Composition, Patient, Resource } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../../test/support/database.js';
import { accessHeader, startHeaderTestApp } from '../../test/support/test-access.js';
import type { AccessContext } from '../access/context.js';
import { fhirAccessFor } from '../access/policy/fhir-policy.js';
import { registerCapabilityRoutes } from '../fhir/capability.js';
import { registerFhirApi } from '../fhir/http.js';
import { patientKey } from '../fhir/indexer.js';
import { FhirStore } from '../fhir/store.js';
import { hasErrors, validateResource } from '../fhir/validate.js';
import { recordFhirOperations } from './fhir-operations.js';
import { linkedPatientKeys } from './mpi/residents.js';
import { recordWriteHook } from './write-hook.js';

/**
 * The FHIR API as app.ts composes it for the record (its operations, the access policy, the
 * platform's write hook), without sign-in: TEST-ONLY, a request says who it is in the test access
 * header (test/support/test-access.ts).
 */
let t: { url: string; app: FastifyInstance; database: TestDatabase; store: FhirStore; close(): Promise<void> };

async function startApp(): Promise<typeof t> {
  const app = await startHeaderTestApp(async (fastify, context) => {
    await registerFhirApi(fastify, context, {
      operations: [registerCapabilityRoutes, ...recordFhirOperations],
      accessFor: (request) => fhirAccessFor(request.access, context.db),
      onWrite: recordWriteHook,
    });
  });
  return { ...app, store: new FhirStore(app.database.db, { onWrite: recordWriteHook }) };
}

const NHS = { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' };
const VERIFIED = {
  url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
  valueCodeableConcept: { coding: [{ system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland', code: '01', display: 'Number present and verified' }] },
};
const source = (holder: string, system: string): { source: string } => ({ source: `urn:openics:source:${holder}:${system}` });
const demographics: Partial<Patient> = { name: [{ family: 'Ashworth', given: ['Margaret'] }], gender: 'female', birthDate: '1941-03-12', address: [{ line: ['4 Mill Lane'], city: 'Worcester', postalCode: 'WR1 2AB' }] };
const lab = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }];
const vital = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }];
const active = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] };

/** One resident held by a GP practice (M85001) and an acute trust (RWP); someone else at RWP; and the organisations. */
const fixtures: Resource[] = [
  { resourceType: 'Organization', id: 'M85001', name: 'Riverside Surgery' },
  { resourceType: 'Organization', id: 'RWP', name: 'Worcestershire Acute Hospitals NHS Trust' },
  { resourceType: 'Patient', id: 'gp-margaret', meta: source('M85001', 'emis'), identifier: [{ ...NHS, extension: [VERIFIED] }], ...demographics, generalPractitioner: [{ reference: 'Organization/M85001' }] },
  { resourceType: 'Patient', id: 'rwp-margaret', meta: source('RWP', 'pas'), identifier: [{ ...NHS, extension: [VERIFIED] }, { system: 'urn:openics:id:RWP:hospital-number', value: 'H123456' }], ...demographics, managingOrganization: { reference: 'Organization/RWP' } },
  { resourceType: 'Patient', id: 'rwp-other', meta: source('RWP', 'pas'), name: [{ family: 'Blackwood', given: ['Tom'] }], gender: 'male', birthDate: '1980-01-01', managingOrganization: { reference: 'Organization/RWP' } },
  { resourceType: 'Condition', id: 'gp-diabetes', meta: source('M85001', 'emis'), subject: { reference: 'Patient/gp-margaret' }, clinicalStatus: active, category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }], code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Type 2 diabetes mellitus' }] }, onsetDateTime: '2015-06-01' },
  { resourceType: 'MedicationRequest', id: 'gp-metformin', meta: source('M85001', 'emis'), status: 'active', intent: 'order', subject: { reference: 'Patient/gp-margaret' }, medicationCodeableConcept: { text: 'Metformin 500 mg tablets' }, authoredOn: '2024-01-10' },
  { resourceType: 'Immunization', id: 'gp-flu', meta: source('M85001', 'emis'), status: 'completed', patient: { reference: 'Patient/gp-margaret' }, vaccineCode: { text: 'Influenza vaccine' }, occurrenceDateTime: '2025-10-01' },
  { resourceType: 'Encounter', id: 'rwp-admission', meta: source('RWP', 'pas'), status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' }, subject: { reference: 'Patient/rwp-margaret' }, period: { start: '2025-11-01T10:00:00Z', end: '2025-11-05T12:00:00Z' }, serviceProvider: { reference: 'Organization/RWP' } },
  { resourceType: 'Observation', id: 'rwp-hba1c-1', meta: source('RWP', 'pathology'), status: 'final', category: lab, code: { coding: [{ system: 'http://snomed.info/sct', code: '1107481000000106', display: 'HbA1c' }] }, subject: { reference: 'Patient/rwp-margaret' }, effectiveDateTime: '2025-11-02', valueQuantity: { value: 58, unit: 'mmol/mol' } },
  { resourceType: 'Observation', id: 'rwp-hba1c-2', meta: source('RWP', 'pathology'), status: 'final', category: lab, code: { coding: [{ system: 'http://snomed.info/sct', code: '1107481000000106', display: 'HbA1c' }] }, subject: { reference: 'Patient/rwp-margaret' }, effectiveDateTime: '2025-05-02', valueQuantity: { value: 62, unit: 'mmol/mol' } },
  { resourceType: 'Observation', id: 'gp-bp', meta: source('M85001', 'emis'), status: 'final', category: vital, code: { text: 'Blood pressure' }, subject: { reference: 'Patient/gp-margaret' }, effectiveDateTime: '2025-09-01', valueString: '138/82' },
  { resourceType: 'Observation', id: 'rwp-other-obs', meta: source('RWP', 'pathology'), status: 'final', category: lab, code: { text: 'Sodium' }, subject: { reference: 'Patient/rwp-other' }, effectiveDateTime: '2025-11-02', valueQuantity: { value: 140, unit: 'mmol/L' } },
];

const user = (subject: string, organisation: string, role: AccessContext['role'] = 'doctor'): AccessContext => ({
  kind: 'user',
  subject,
  display: subject,
  role,
  organisation,
  scopes: [{ context: 'user', type: '*', actions: 'cruds' }],
  purpose: 'TREAT',
});
const acuteDoctor = user('dr-acute', 'RWP');
const unrelatedDoctor = user('dr-unrelated', 'RLQ');

beforeAll(async () => {
  t = await startApp();
  for (const r of fixtures) await t.store.update(r.resourceType, r.id as string, r);
});
afterAll(async () => {
  await t?.close();
});

async function get(path: string, as: AccessContext): Promise<{ status: number; body: Bundle }> {
  const response = await fetch(`${t.url}/fhir/${path}`, { headers: accessHeader(as) });
  return { status: response.status, body: (await response.json()) as Bundle };
}

const ids = (bundle: Bundle): string[] => (bundle.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`).sort();

async function auditedPatients(agent: string, what: string): Promise<string[][]> {
  const { rows } = await t.database.db.query<{ patients: string[] }>(`SELECT patients FROM access_audit_event WHERE agent = $1 AND event LIKE $2 ORDER BY sequence`, [agent, `%${what}%`]);
  return rows.map((r) => [...r.patients].sort());
}

describe(`the joined record's FHIR operations (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  it('the master patient index links the two source Patients (same verified NHS number)', async () => {
    const linked = await linkedPatientKeys(t.database.db, patientKey('gp-margaret'));
    expect(linked.sort()).toEqual([patientKey('gp-margaret'), patientKey('rwp-margaret')].sort());
    expect(await linkedPatientKeys(t.database.db, patientKey('rwp-other'))).toEqual([patientKey('rwp-other')]);
  });

  it("$everything on either source Patient returns both sources' records to a clinician related to one of them, and nobody else's", async () => {
    const { status, body } = await get('Patient/rwp-margaret/$everything', acuteDoctor);
    expect(status).toBe(200);
    expect(ids(body)).toEqual(
      [
        'Condition/gp-diabetes',
        'Encounter/rwp-admission',
        'Immunization/gp-flu',
        'MedicationRequest/gp-metformin',
        'Observation/gp-bp',
        'Observation/rwp-hba1c-1',
        'Observation/rwp-hba1c-2',
        'Organization/M85001',
        'Organization/RWP',
        'Patient/gp-margaret',
        'Patient/rwp-margaret',
      ].sort(),
    );
    // The Patient asked for first, then the other source's Patient.
    expect(body.entry?.[0]?.resource?.id).toBe('rwp-margaret');
    expect(body.entry?.[1]?.resource?.id).toBe('gp-margaret');
    // The same record from the GP's copy: the acute trust's relationship covers the resident.
    const fromGp = await get('Patient/gp-margaret/$everything', acuteDoctor);
    expect(fromGp.status).toBe(200);
    expect(ids(fromGp.body)).toEqual(ids(body));
    expect(fromGp.body.entry?.[0]?.resource?.id).toBe('gp-margaret');
  });

  it('audits $everything naming every source Patient whose records were returned', async () => {
    await get('Patient/rwp-margaret/$everything?_type=Observation', acuteDoctor);
    const events = await auditedPatients('dr-acute', 'rwp-margaret/$everything');
    expect(events.at(-1)).toEqual(['gp-margaret', 'rwp-margaret']);
  });

  it('refuses a clinician with no relationship (as the policy answers, with break-glass), and shows them nothing', async () => {
    const { status, body } = await get('Patient/gp-margaret/$everything', unrelatedDoctor);
    expect(status).toBe(403);
    expect(JSON.stringify(body)).toContain('break glass');
    expect(JSON.stringify(body)).not.toContain('Metformin');
    expect((await get('Patient/rwp-margaret/$summary', unrelatedDoctor)).status).toBe(403);
  });

  it('keeps _type, start/end and paging across the linked compartments', async () => {
    const typed = await get('Patient/gp-margaret/$everything?_type=Observation', acuteDoctor);
    expect(ids(typed.body)).toEqual(['Observation/gp-bp', 'Observation/rwp-hba1c-1', 'Observation/rwp-hba1c-2']);
    const dated = await get('Patient/gp-margaret/$everything?_type=Observation,Encounter&start=2025-09-01&end=2025-12-31', acuteDoctor);
    expect(ids(dated.body)).toEqual(['Encounter/rwp-admission', 'Observation/gp-bp', 'Observation/rwp-hba1c-1']);
    const seen: string[] = [];
    let next: string | undefined = `${t.url}/fhir/Patient/rwp-margaret/$everything?_count=4`;
    let pages = 0;
    while (next) {
      const response: Response = await fetch(next, { headers: accessHeader(acuteDoctor) });
      const page = (await response.json()) as Bundle;
      expect(page.total).toBe(11);
      seen.push(...(page.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`));
      next = page.link?.find((l) => l.relation === 'next')?.url;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(11);
  });

  it('$summary is a valid IPS document with the required sections, from both sources', async () => {
    const { status, body } = await get('Patient/rwp-margaret/$summary', acuteDoctor);
    expect(status).toBe(200);
    expect(body.type).toBe('document');
    const issues = validateResource(body);
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(hasErrors(issues)).toBe(false);
    const composition = body.entry?.[0]?.resource as Composition;
    expect(composition.resourceType).toBe('Composition');
    expect(composition.type.coding?.[0]).toMatchObject({ system: 'http://loinc.org', code: '60591-5' });
    expect(composition.subject?.reference).toBe(`${t.url}/fhir/Patient/rwp-margaret`);
    const section = (code: string): NonNullable<Composition['section']>[number] | undefined => composition.section?.find((s) => s.code?.coding?.[0]?.code === code);
    // Problems and medication from the GP, results from the hospital, vital signs and immunisation from the GP.
    expect(section('11450-4')?.entry?.map((e) => e.reference)).toEqual([`${t.url}/fhir/Condition/gp-diabetes`]);
    expect(section('10160-0')?.entry?.map((e) => e.reference)).toEqual([`${t.url}/fhir/MedicationRequest/gp-metformin`]);
    expect(section('30954-2')?.entry?.map((e) => e.reference)).toEqual([`${t.url}/fhir/Observation/rwp-hba1c-1`, `${t.url}/fhir/Observation/rwp-hba1c-2`]);
    expect(section('8716-3')?.entry).toHaveLength(1);
    expect(section('11369-6')?.entry).toHaveLength(1);
    // No allergy recorded anywhere: the section is there, empty, saying why (not "no known allergies").
    const allergies = section('48765-2');
    expect(allergies?.entry).toBeUndefined();
    expect(allergies?.emptyReason?.coding?.[0]?.code).toBe('unavailable');
    expect(allergies?.text?.div).toContain('No information about allergies');
    // Every section entry is in the Bundle; each item names its source organisation.
    const fullUrls = new Set(body.entry?.map((e) => e.fullUrl));
    for (const s of composition.section ?? []) for (const e of s.entry ?? []) expect(fullUrls.has(e.reference)).toBe(true);
    expect(section('30954-2')?.text?.div).toContain('Worcestershire Acute Hospitals NHS Trust');
    expect(section('11450-4')?.text?.div).toContain('Riverside Surgery');
    expect(JSON.stringify(body)).not.toContain('rwp-other');
    const events = await auditedPatients('dr-acute', 'rwp-margaret/$summary');
    expect(events.at(-1)).toEqual(['gp-margaret', 'rwp-margaret']);
  });

  it('shows a recorded "no known allergy" and prefers real allergies over it', async () => {
    const noneKnown = { resourceType: 'AllergyIntolerance', id: 'gp-nka', meta: source('M85001', 'emis'), clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, code: { coding: [{ system: 'http://snomed.info/sct', code: '716186003', display: 'No known allergy' }] }, patient: { reference: 'Patient/gp-margaret' }, recordedDate: '2020-01-01' } as Resource;
    await t.store.update('AllergyIntolerance', 'gp-nka', noneKnown);
    const allergiesOf = async (): Promise<string[]> => {
      const composition = (await get('Patient/gp-margaret/$summary', acuteDoctor)).body.entry?.[0]?.resource as Composition;
      return composition.section?.find((s) => s.code?.coding?.[0]?.code === '48765-2')?.entry?.map((e) => e.reference?.split('/').pop() ?? '') ?? [];
    };
    expect(await allergiesOf()).toEqual(['gp-nka']);
    await t.store.update('AllergyIntolerance', 'rwp-penicillin', { ...noneKnown, id: 'rwp-penicillin', meta: source('RWP', 'pas'), code: { text: 'Penicillin' }, patient: { reference: 'Patient/rwp-margaret' } } as Resource);
    expect(await allergiesOf()).toEqual(['rwp-penicillin']);
  });

  it('answers 404 with an OperationOutcome for an unknown Patient, and 400 naming an unknown parameter', async () => {
    const unknown = await get('Patient/nobody-here/$summary', acuteDoctor);
    expect(unknown.status).toBe(404);
    expect((unknown.body as unknown as Resource).resourceType).toBe('OperationOutcome');
    const bad = await get('Patient/rwp-margaret/$summary?identifier=x', acuteDoctor);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('identifier');
  });

  it('advertises $summary on Patient in the CapabilityStatement', async () => {
    const response = await fetch(`${t.url}/fhir/metadata`);
    const statement = (await response.json()) as { rest: Array<{ resource: Array<{ type: string; operation?: Array<{ name: string; definition: string }> }> }> };
    const patient = statement.rest[0]?.resource.find((r) => r.type === 'Patient');
    expect(patient?.operation?.map((o) => o.name)).toEqual(expect.arrayContaining(['everything', 'summary']));
  });
});
