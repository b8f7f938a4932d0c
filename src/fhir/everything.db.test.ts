import type { Bundle, Resource } from '@medplum/fhirtypes';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, openTestDatabase } from '../../test/support/database.js';
import { AppContext } from '../app.js';
import { loadFhirDefinitions } from './definitions.js';
import { registerEverythingRoutes } from './everything.js';
import { registerFhirApi } from './http.js';
import { FhirStore } from './store.js';

let t: TestDatabase;
let app: FastifyInstance;
let url: string;
let store: FhirStore;
let beforeUpdate: string;


/** Patient p1 with a year of care, a second patient p2 who must never show, and the shared resources they point at. */
const fixtures: Resource[] = [
  { resourceType: 'Organization', id: 'org1', name: 'Riverside Surgery' },
  { resourceType: 'Organization', id: 'org2', name: 'Hilltop Surgery' },
  { resourceType: 'Practitioner', id: 'dr1', name: [{ family: 'Khan' }] },
  { resourceType: 'Practitioner', id: 'dr2', name: [{ family: 'Osei' }] },
  { resourceType: 'Location', id: 'loc1', name: 'Ward 3' },
  { resourceType: 'Medication', id: 'med1', code: { text: 'Metformin 500 mg tablets' } },
  { resourceType: 'Patient', id: 'p1', name: [{ family: 'Jones' }], managingOrganization: { reference: 'Organization/org1' } },
  { resourceType: 'Patient', id: 'p2', name: [{ family: 'Smith' }], managingOrganization: { reference: 'Organization/org2' } },
  { resourceType: 'Patient', id: 'p3', name: [{ family: 'Gone' }] },
  {
    resourceType: 'Encounter',
    id: 'e1',
    status: 'finished',
    class: { code: 'IMP' },
    subject: { reference: 'Patient/p1' },
    period: { start: '2020-01-01', end: '2020-01-03' },
    participant: [{ individual: { reference: 'Practitioner/dr1' } }],
    location: [{ location: { reference: 'Location/loc1' } }],
  },
  { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' }, onsetDateTime: '2019-05-01', recordedDate: '2019-05-02', code: { text: 'Type 2 diabetes' } },
  { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'HbA1c' }, subject: { reference: 'Patient/p1' }, effectiveDateTime: '2020-01-02', performer: [{ reference: 'Practitioner/dr1' }], encounter: { reference: 'Encounter/e1' } },
  { resourceType: 'Observation', id: 'o2', status: 'final', code: { text: 'Weight' }, subject: { reference: 'Patient/p1' }, effectiveDateTime: '2023-06-01' },
  { resourceType: 'MedicationRequest', id: 'mr1', status: 'active', intent: 'order', subject: { reference: 'Patient/p1' }, authoredOn: '2021-01-01', medicationReference: { reference: 'Medication/med1' }, requester: { reference: 'Practitioner/dr1' } },
  { resourceType: 'AllergyIntolerance', id: 'a1', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, patient: { reference: 'Patient/p1' }, code: { text: 'Penicillin' } },
  // A Group whose first member is p2: it carries p2's patient key but is in p1's compartment too.
  { resourceType: 'Group', id: 'g1', type: 'person', actual: true, member: [{ entity: { reference: 'Patient/p2' } }, { entity: { reference: 'Patient/p1' } }] },
  { resourceType: 'Observation', id: 'o3', status: 'final', code: { text: 'HbA1c' }, subject: { reference: 'Patient/p2' }, effectiveDateTime: '2020-01-02', performer: [{ reference: 'Practitioner/dr2' }] },
  // Points at a Patient p1 on another server: not p1's.
  { resourceType: 'Observation', id: 'o4', status: 'final', code: { text: 'Height' }, subject: { reference: 'https://elsewhere.example/fhir/Patient/p1' } },
];

beforeAll(async () => {
  loadFhirDefinitions();
  t = await openTestDatabase();
  store = new FhirStore(t.db);
  for (const r of fixtures) await store.update(r.resourceType, r.id as string, r);
  await store.delete('Patient', 'p3');
  const context = new AppContext();
  context.setDatabase(t.db);
  app = Fastify({ logger: false });
  await registerFhirApi(app, context, { operations: [registerEverythingRoutes] });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/fhir`;
  beforeUpdate = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 5));
  await store.update('Observation', 'o2', { ...(fixtures.find((r) => r.id === 'o2') as Resource), valueString: 'changed' } as Resource);
});
afterAll(async () => {
  await app.close();
  await t.close();
});

async function everything(query = '', init?: RequestInit): Promise<{ status: number; body: Bundle }> {
  const response = await fetch(`${url}/Patient/p1/$everything${query}`, init);
  return { status: response.status, body: (await response.json()) as Bundle };
}

const refs = (bundle: Bundle): string[] => (bundle.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`).sort();

describe(`Patient/$everything (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  it("returns the Patient, everything in its compartment and the shared resources they point at, and nothing of anyone else's", async () => {
    const { status, body } = await everything();
    expect(status).toBe(200);
    expect(body.type).toBe('searchset');
    expect(refs(body)).toEqual(
      [
        'AllergyIntolerance/a1',
        'Condition/c1',
        'Encounter/e1',
        'Group/g1',
        'Location/loc1',
        'Medication/med1',
        'MedicationRequest/mr1',
        'Observation/o1',
        'Observation/o2',
        'Organization/org1',
        'Patient/p1',
        'Practitioner/dr1',
      ].sort(),
    );
    expect(body.total).toBe(12);
    expect(body.entry?.[0]?.resource?.id).toBe('p1');
    expect(body.entry?.find((e) => e.resource?.id === 'dr1')?.search?.mode).toBe('include');
    expect(body.entry?.find((e) => e.resource?.id === 'o1')?.fullUrl).toBe(`${url}/Observation/o1`);
  });

  it('answers 404 for an unknown Patient and 410 for a deleted one', async () => {
    expect((await fetch(`${url}/Patient/nobody/$everything`)).status).toBe(404);
    const deleted = await fetch(`${url}/Patient/p3/$everything`);
    expect(deleted.status).toBe(410);
    expect(((await deleted.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
  });

  it('keeps resources whose clinical date meets start..end, and those without a date; shared resources only from those kept', async () => {
    const { body } = await everything('?start=2020-01-01&end=2020-12-31');
    expect(refs(body)).toEqual(['AllergyIntolerance/a1', 'Encounter/e1', 'Group/g1', 'Location/loc1', 'Observation/o1', 'Organization/org1', 'Patient/p1', 'Practitioner/dr1'].sort());
    // Only a start: everything from mid-2021 on (the MedicationRequest of 2021-01-01 is before it).
    expect(refs((await everything('?start=2021-06')).body)).toEqual(['AllergyIntolerance/a1', 'Group/g1', 'Observation/o2', 'Organization/org1', 'Patient/p1'].sort());
    // The Condition's onset and recorded dates are both in 2019.
    expect(refs((await everything('?end=2019')).body)).toContain('Condition/c1');
    expect(refs((await everything('?end=2019')).body)).not.toContain('Encounter/e1');
  });

  it('keeps only the _type types, and only what changed since _since', async () => {
    expect(refs((await everything('?_type=Observation,Practitioner')).body)).toEqual(['Observation/o1', 'Observation/o2', 'Practitioner/dr1']);
    expect(refs((await everything(`?_since=${encodeURIComponent(beforeUpdate)}`)).body)).toEqual(['Observation/o2']);
  });

  it('pages through a stable order with next links until the last page', async () => {
    const all = refs((await everything()).body);
    const seen: string[] = [];
    let next: string | undefined = `${url}/Patient/p1/$everything?_count=5`;
    let pages = 0;
    while (next) {
      const response = await fetch(next);
      const page = (await response.json()) as Bundle;
      expect(page.total).toBe(12);
      expect((page.entry ?? []).length).toBeLessThanOrEqual(5);
      seen.push(...(page.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`));
      next = page.link?.find((l) => l.relation === 'next')?.url;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(seen[0]).toBe('Patient/p1');
    expect([...seen].sort()).toEqual(all);
  });

  it('takes its parameters from a Parameters body on POST', async () => {
    const { status, body } = await everything('', {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: '_type', valueCode: 'Encounter' }, { name: 'start', valueDate: '2020-01-01' }] }),
    });
    expect(status).toBe(200);
    expect(refs(body)).toEqual(['Encounter/e1']);
  });

  it('refuses parameters it does not understand and malformed dates, naming them', async () => {
    const bad = await everything('?start=yesterday');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('start');
    expect((await everything('?_type=Nonsense')).status).toBe(400);
    expect((await everything('?colour=blue')).status).toBe(400);
  });
});
