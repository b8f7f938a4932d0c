import type { Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SignedIn, signIn } from '../../../test/support/access.js';
import { type TestApp, startTestApp } from '../../../test/support/app.js';
import { FhirStore } from '../../fhir/store.js';
import { recordWriteHook } from '../write-hook.js';
import { residentOfPatient } from './residents.js';

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const VERIFIED = { url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus', valueCodeableConcept: { coding: [{ code: '01' }] } };

let app: TestApp;
let admin: SignedIn;
let doctor: SignedIn;

function patient(id: string, holder: string, family: string, address: string, postcode: string, nhsNumber?: string): Patient {
  return {
    resourceType: 'Patient',
    id,
    meta: { source: `urn:openics:source:${holder}:test` },
    ...(nhsNumber ? { identifier: [{ system: NHS, value: nhsNumber, extension: [VERIFIED] }] } : {}),
    name: [{ family, given: ['Zara'] }],
    gender: 'female',
    birthDate: '1972-05-09',
    address: [{ line: [address], postalCode: postcode }],
  };
}

async function form(path: string, who: SignedIn, fields: Record<string, string>): Promise<Response> {
  return fetch(`${app.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: who.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: who.csrf, ...fields }).toString(),
  });
}

async function openReviewId(): Promise<number> {
  const { rows } = await app.database.db.query<{ id: number | string }>(`SELECT id FROM mpi_review WHERE status = 'open' AND patient_id = 'acute-zara'`);
  return Number(rows[0]?.id);
}

async function auditedFor(patientId: string): Promise<string[]> {
  const { rows } = await app.database.db.query<{ event: string }>('SELECT event FROM access_audit_event WHERE $1 = ANY(patients) ORDER BY sequence', [patientId]);
  return rows.map((r) => r.event);
}

beforeAll(async () => {
  app = await startTestApp({ demo: 'structure' });
  const store = new FhirStore(app.database.db, { onWrite: recordWriteHook });
  const write = (r: Resource): Promise<unknown> => store.update(r.resourceType, r.id ?? '', r);
  await write(patient('gp-zara', 'M81001', 'Whitlock', '3 Lark Rise', 'HR2 7PL', '9990000034'));
  // A married name and a new address at the hospital, no NHS number: a possible match.
  await write(patient('acute-zara', 'RWP', 'Mortimer', '18 Bridge Street', 'WR1 3NF'));
  admin = await signIn(app, 'gareth.wilson');
  doctor = await signIn(app, 'chidi.okafor');
}, 180_000);
afterAll(async () => {
  await app.close();
});

describe('the master patient index pages and API', () => {
  it('refuses anyone but an administrator', async () => {
    const anonymous = await fetch(`${app.url}/record/matching`, { redirect: 'manual' });
    // Nobody signed in: sent to sign in (a page) or refused (the API).
    expect([302, 303, 401]).toContain(anonymous.status);
    if (anonymous.status !== 401) expect(anonymous.headers.get('location')).toContain('sign-in');
    expect((await fetch(`${app.url}/api/record/matching`)).status).toBe(401);
    expect((await fetch(`${app.url}/record/matching`, { headers: { cookie: doctor.cookie } })).status).toBe(403);
    expect((await fetch(`${app.url}/api/record/matching`, { headers: doctor.headers })).status).toBe(403);
    expect((await form(`/record/matching/${await openReviewId()}`, doctor, { decision: 'accept', reason: 'looks the same' })).status).toBe(403);
    expect(await openReviewId()).toBeGreaterThan(0);
  });

  it('shows each possible match side by side with the weights, and records the view in the audit trail', async () => {
    const response = await fetch(`${app.url}/record/matching`, { headers: { cookie: admin.cookie } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('Whitlock');
    expect(html).toContain('Mortimer');
    expect(html).toContain('Family name');
    // Written as people read them: the NHS number in three groups, the date in words.
    expect(html).toContain('999 000 0034 (verified)');
    expect(html).toContain('9 May 1972');
    expect(html).toMatch(/[+-]\d+\.\d/);
    expect(html).toContain('Trace the new record on PDS');
    const events = await auditedFor('acute-zara');
    expect(events.some((e) => e.includes('mpi/review-queue'))).toBe(true);

    const json = (await (await fetch(`${app.url}/api/record/matching`, { headers: admin.headers })).json()) as { total: number; reviews: Array<{ patient: { patientId: string }; candidate: { patientId: string } }> };
    expect(json.total).toBe(1);
    expect(json.reviews[0]?.patient.patientId).toBe('acute-zara');
    expect(json.reviews[0]?.candidate.patientId).toBe('gp-zara');
  });

  it('asks again, naming the field, when the decision or reason is missing; then links on accept', async () => {
    const id = await openReviewId();
    const bad = await form(`/record/matching/${id}`, admin, { decision: 'accept', reason: '' });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain(`href="#reason-${id}"`);
    const badApi = await fetch(`${app.url}/api/record/matching/${id}`, { method: 'POST', headers: { ...admin.headers, 'content-type': 'application/json' }, body: JSON.stringify({ decision: 'maybe', reason: 'not sure at all' }) });
    expect(badApi.status).toBeGreaterThanOrEqual(400);
    expect(badApi.status).toBeLessThan(500);
    expect(await badApi.text()).toContain('decision');

    const ok = await form(`/record/matching/${id}`, admin, { decision: 'accept', reason: 'married name; same date of birth and practice' });
    expect(ok.status).toBe(303);
    const zara = await residentOfPatient(app.database.db, 'gp-zara');
    expect(zara?.patients.map((p) => p.patientId).sort()).toEqual(['acute-zara', 'gp-zara']);
  });

  it('asks again, saying so, when a record a person linked changes so it no longer matches; Yes keeps the link', async () => {
    const zara = (await residentOfPatient(app.database.db, 'gp-zara'))?.residentId;
    const store = new FhirStore(app.database.db, { onWrite: recordWriteHook });
    // The hospital corrects the date of birth: the link was a person's, so it is queued, not undone.
    await store.update('Patient', 'acute-zara', { ...patient('acute-zara', 'RWP', 'Mortimer', '18 Bridge Street', 'WR1 3NF'), birthDate: '1981-11-30' });
    expect((await residentOfPatient(app.database.db, 'acute-zara'))?.residentId).toBe(zara);
    const id = await openReviewId();
    expect(id).toBeGreaterThan(0);
    const html = await (await fetch(`${app.url}/record/matching`, { headers: { cookie: admin.cookie } })).text();
    expect(html).toContain('These records are already linked as one resident');
    expect(html).toContain('Yes, keep them linked');
    expect(html).toContain('No, they are different people: separate them');
    const kept = await form(`/record/matching/${id}`, admin, { decision: 'accept', reason: 'checked with the ward: the new date was a typing error' });
    expect(kept.status).toBe(303);
    expect((await residentOfPatient(app.database.db, 'acute-zara'))?.residentId).toBe(zara);
    expect(await (await fetch(`${app.url}${kept.headers.get('location') ?? ''}`, { headers: { cookie: admin.cookie } })).text()).toContain('the records are linked');
  });

  it('shows the link history and unmerges from it', async () => {
    const zara = await residentOfPatient(app.database.db, 'gp-zara');
    const page = await fetch(`${app.url}/record/matching/residents/${zara?.residentId}`, { headers: { cookie: admin.cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('married name; same date of birth and practice');
    expect(html).toContain('Unmerge the record');
    expect(html).toContain('999 000 0034');
    expect(html).toContain('9 May 1972');
    expect((await fetch(`${app.url}/record/matching/residents/no-such-resident`, { headers: { cookie: admin.cookie } })).status).toBe(404);

    const refused = await form(`/record/matching/residents/${zara?.residentId}/unmerge`, admin, { patient: 'someone-else', reason: 'not the same person' });
    expect(refused.status).toBe(422);
    const done = await form(`/record/matching/residents/${zara?.residentId}/unmerge`, admin, { patient: 'acute-zara', reason: 'different person after all' });
    expect(done.status).toBe(303);
    expect((await residentOfPatient(app.database.db, 'acute-zara'))?.residentId).not.toBe(zara?.residentId);
    expect((await auditedFor('acute-zara')).some((e) => e.includes('unmerge'))).toBe(true);
  });
});
