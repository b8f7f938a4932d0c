/**
 * Shared record pointers over real HTTP: discharge summaries indexed as DocumentReferences from
 * the acute trust's emergency admissions, opened through the caller's access policy (allowed,
 * refused, audited) and served by the stand-in repository only at a signed address.
 */
import type { DocumentReference, Extension, Resource } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../../../test/support/database.js';
import { accessHeader, startHeaderTestApp } from '../../../test/support/test-access.js';
import type { AccessContext } from '../../access/context.js';
import { fhirAccessFor } from '../../access/policy/fhir-policy.js';
import { FhirAccessDenied } from '../../fhir/access.js';
import { FhirStore } from '../../fhir/store.js';
import { hasErrors, validateResource } from '../../fhir/validate.js';
import { recordWriteHook } from '../write-hook.js';
import { loadDemoDocuments } from './index-documents.js';
import { isSignedAddress, signedAddress } from './repository.js';
import { registerDocumentRoutes } from './routes.js';

let t: { url: string; app: FastifyInstance; database: TestDatabase; store: FhirStore };

const source = (holder: string, system: string): { source: string } => ({ source: `urn:openics:source:${holder}:${system}` });
const method = (code: string): Extension[] => [
  { url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod', valueCodeableConcept: { coding: [{ system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland', code }] } },
];
const inpatient = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' };

const fixtures: Resource[] = [
  { resourceType: 'Organization', id: 'RWP', name: 'Worcestershire Acute Hospitals NHS Trust' },
  { resourceType: 'Patient', id: 'rwp-jo', meta: source('RWP', 'pas'), identifier: [{ system: 'urn:openics:id:RWP:hospital-number', value: 'H765432' }], name: [{ family: 'Pemberton', given: ['Joanna'] }], birthDate: '1950-02-03', gender: 'female', managingOrganization: { reference: 'Organization/RWP' } },
  { resourceType: 'Condition', id: 'rwp-jo-dx', meta: source('RWP', 'pas'), subject: { reference: 'Patient/rwp-jo' }, code: { text: 'Community-acquired pneumonia' }, encounter: { reference: 'Encounter/rwp-jo-adm' }, recordedDate: '2025-10-01' },
  { resourceType: 'Encounter', id: 'rwp-jo-adm', meta: source('RWP', 'pas'), extension: method('21'), status: 'finished', class: inpatient, subject: { reference: 'Patient/rwp-jo' }, reasonCode: [{ text: 'Shortness of breath' }], diagnosis: [{ condition: { reference: 'Condition/rwp-jo-dx' }, rank: 1 }], period: { start: '2025-10-01T09:00:00Z', end: '2025-10-06T14:30:00Z' }, hospitalization: { dischargeDisposition: { text: 'Usual place of residence' } }, serviceProvider: { reference: 'Organization/RWP' } },
  { resourceType: 'Procedure', id: 'rwp-jo-proc', meta: source('RWP', 'pas'), status: 'completed', subject: { reference: 'Patient/rwp-jo' }, encounter: { reference: 'Encounter/rwp-jo-adm' }, code: { text: 'Chest X-ray' }, performedDateTime: '2025-10-01' },
  // An elective admission and one still in progress: no discharge summary to index.
  { resourceType: 'Encounter', id: 'rwp-jo-elective', meta: source('RWP', 'pas'), extension: method('11'), status: 'finished', class: inpatient, subject: { reference: 'Patient/rwp-jo' }, period: { start: '2025-03-01T09:00:00Z', end: '2025-03-01T17:00:00Z' }, serviceProvider: { reference: 'Organization/RWP' } },
  { resourceType: 'Encounter', id: 'rwp-jo-now', meta: source('RWP', 'pas'), extension: method('21'), status: 'in-progress', class: inpatient, subject: { reference: 'Patient/rwp-jo' }, period: { start: '2025-11-20T09:00:00Z' }, serviceProvider: { reference: 'Organization/RWP' } },
];

const user = (subject: string, organisation: string): AccessContext => ({ kind: 'user', subject, display: subject, role: 'doctor', organisation, scopes: [{ context: 'user', type: '*', actions: 'cruds' }], purpose: 'TREAT' });
const acuteDoctor = user('dr-acute', 'RWP');
const unrelatedDoctor = user('dr-elsewhere', 'RLQ');

beforeAll(async () => {
  // TEST-ONLY: who is asking comes from the test access header (test/support/test-access.ts).
  const app = await startHeaderTestApp(registerDocumentRoutes);
  const store = new FhirStore(app.database.db, { onWrite: recordWriteHook });
  for (const r of fixtures) await store.update(r.resourceType, r.id as string, r);
  t = { url: app.url, app: app.app, database: app.database, store };
});
afterAll(async () => {
  await t?.app.close();
  await t?.database.close();
});

async function open(id: string, as: AccessContext): Promise<Response> {
  return fetch(`${t.url}/record/documents/${id}`, { headers: accessHeader(as), redirect: 'manual' });
}

/** The break-glass links a page offers. */
function breakGlassLinks(html: string): string[] {
  return [...html.matchAll(/href="(\/access\/break-glass[^"]*)"/g)].map((m) => (m[1] ?? '').replaceAll('&amp;', '&'));
}

async function audited(agent: string): Promise<Array<{ outcome: string; patients: string[] }>> {
  const { rows } = await t.database.db.query<{ outcome: string; patients: string[] }>(`SELECT outcome, patients FROM access_audit_event WHERE agent = $1 AND event LIKE '%DocumentReference/ds-rwp-jo-adm%' ORDER BY sequence`, [agent]);
  return rows;
}

describe(`shared record pointers (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  it('indexes a discharge summary for each finished emergency admission only, valid R4, held by the trust; again changes nothing', async () => {
    expect(await loadDemoDocuments(t.database.db)).toEqual({ documents: 1 });
    const document = (await t.store.read('DocumentReference', 'ds-rwp-jo-adm')) as DocumentReference;
    expect(hasErrors(validateResource(document))).toBe(false);
    expect(document).toMatchObject({
      status: 'current',
      type: { coding: [{ system: 'http://snomed.info/sct', code: '373942005' }] },
      subject: { reference: 'Patient/rwp-jo' },
      author: [{ reference: 'Organization/RWP' }],
      custodian: { reference: 'Organization/RWP' },
      meta: { source: 'urn:openics:source:RWP:edms' },
    });
    expect(document.content[0]?.attachment).toMatchObject({ contentType: 'text/html', url: '/demo-repository/RWP/discharge-summaries/rwp-jo-adm', title: 'Discharge summary', creation: '2025-10-06T14:30:00Z' });
    await loadDemoDocuments(t.database.db);
    expect((await t.store.read('DocumentReference', 'ds-rwp-jo-adm')).meta.versionId).toBe('1');
    await expect(t.store.read('DocumentReference', 'ds-rwp-jo-elective')).rejects.toThrow();
  });

  it('opens the document for a clinician whose organisation cares for the patient, through a signed address, and records the access', async () => {
    const response = await open('ds-rwp-jo-adm', acuteDoctor);
    expect(response.status).toBe(303);
    const location = response.headers.get('location') ?? '';
    expect(location).toMatch(/^\/demo-repository\/RWP\/discharge-summaries\/rwp-jo-adm\?expires=\d+&signature=[0-9a-f]{64}$/);
    const page = await fetch(`${t.url}${location}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Discharge summary');
    expect(html).toContain('Joanna Pemberton');
    expect(html).toContain('Community-acquired pneumonia');
    expect(html).toContain('Chest X-ray');
    expect(html).toContain('Worcestershire Acute Hospitals NHS Trust');
    expect((await audited('dr-acute')).at(-1)).toEqual({ outcome: 'success', patients: ['rwp-jo'] });
  });

  it('refuses a clinician with no relationship (offering break-glass), records the refusal, and gives no address', async () => {
    const response = await open('ds-rwp-jo-adm', unrelatedDoctor);
    expect(response.status).toBe(403);
    expect(response.headers.get('location')).toBeNull();
    const html = await response.text();
    expect(breakGlassLinks(html)).toEqual(['/access/break-glass?patient=rwp-jo']);
    // In words for a clinician: the API's instructions (which endpoint to call) stay in the audit record.
    expect(html).toContain('has a care relationship with the person this document is about');
    expect(html).not.toContain('/api/access');
    expect(html).not.toContain('pneumonia');
    expect((await audited('dr-elsewhere')).at(-1)).toEqual({ outcome: 'refused', patients: ['rwp-jo'] });
  });

  it('names in the break-glass link the Patient whose record holds the document, from the refusal itself rather than its wording', async () => {
    // A second resident's letter, whose id says nothing of its Patient.
    await t.store.update('Patient', 'rwp-ann.2', { resourceType: 'Patient', id: 'rwp-ann.2', meta: source('RWP', 'pas'), name: [{ family: 'Okafor', given: ['Ann'] }], managingOrganization: { reference: 'Organization/RWP' } });
    const letter: DocumentReference = { resourceType: 'DocumentReference', id: 'letter-7', meta: source('RWP', 'edms'), status: 'current', subject: { reference: 'Patient/rwp-ann.2' }, custodian: { reference: 'Organization/RWP' }, content: [{ attachment: { contentType: 'text/html', url: 'https://edms.example.nhs.uk/letters/7' } }] };
    await t.store.update('DocumentReference', 'letter-7', letter);
    const refusal = await new FhirStore(t.database.db)
      .withAccess(fhirAccessFor(unrelatedDoctor, t.database.db))
      .read('DocumentReference', 'letter-7')
      .then(() => undefined, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(FhirAccessDenied);
    expect(refusal).toMatchObject({ status: 403, patientIds: ['rwp-ann.2'] });

    const response = await open('letter-7', unrelatedDoctor);
    expect(response.status).toBe(403);
    expect(breakGlassLinks(await response.text())).toEqual(['/access/break-glass?patient=rwp-ann.2']);
    // The organisation that holds it may open it, so it is offered no break-glass.
    expect((await open('letter-7', acuteDoctor)).headers.get('location')).toBe('https://edms.example.nhs.uk/letters/7');
  });

  it('opens a citizen their own discharge summary, and answers anyone else’s as if it did not exist', async () => {
    const citizen = (own: string): AccessContext => ({ kind: 'user', subject: `citizen-${own}`, display: 'A citizen', role: 'citizen', scopes: [{ context: 'patient', type: '*', actions: 'rs' }], ownPatients: [own], proxyPatients: [], purpose: 'PATRQT' });
    expect((await open('ds-rwp-jo-adm', citizen('rwp-jo'))).status).toBe(303);
    const stranger = await open('ds-rwp-jo-adm', citizen('someone-else'));
    expect(stranger.status).toBe(404);
    expect(await stranger.text()).not.toContain('break-glass');
  });

  it('asks an anonymous caller to sign in, and answers 404 for a document that does not exist', async () => {
    expect((await fetch(`${t.url}/record/documents/ds-rwp-jo-adm`, { redirect: 'manual' })).status).toBe(401);
    expect((await open('no-such-document', acuteDoctor)).status).toBe(404);
  });

  it('the repository opens nothing without a genuine, unexpired signature', async () => {
    const path = '/demo-repository/RWP/discharge-summaries/rwp-jo-adm';
    expect((await fetch(`${t.url}${path}`)).status).toBe(403);
    const signed = signedAddress(path);
    const forged = signed.replace(/signature=([0-9a-f])/, (_m, c: string) => `signature=${c === '0' ? '1' : '0'}`);
    expect((await fetch(`${t.url}${forged}`)).status).toBe(403);
    // A signature for one document does not open another.
    expect((await fetch(`${t.url}${signed.replace('rwp-jo-adm', 'rwp-jo-elective')}`)).status).toBe(403);
    const query = new URLSearchParams(signed.split('?')[1]);
    expect(isSignedAddress(path, query.get('expires') ?? '', query.get('signature') ?? '')).toBe(true);
    expect(isSignedAddress(path, query.get('expires') ?? '', query.get('signature') ?? '', new Date(Date.now() + 3_600_000))).toBe(false);
    // Genuine but for an admission the trust does not hold as an emergency discharge: not found.
    expect((await fetch(`${t.url}${signedAddress('/demo-repository/RWP/discharge-summaries/rwp-jo-elective')}`)).status).toBe(404);
  });
});
