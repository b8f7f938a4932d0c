/**
 * An existing FHIR client, used unchanged, against the running server: fhir-kit-client (npm)
 * builds its own URLs and headers and reads our answers as any client would.
 */
import type { Bundle, CapabilityStatement, Observation, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { createRequire } from 'node:module';
import type FhirKit from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/support/app.js';
import { loadFhirDefinitions } from './definitions.js';

// The package is CommonJS and its types declare `export default`, which NodeNext reads as the
// module object; required, it is the class its types describe.
const Client = createRequire(import.meta.url)('fhir-kit-client') as typeof FhirKit.default;
type Client = InstanceType<typeof Client>;

/** The client's own reader of CapabilityStatements (exported by the package, not by its types). */
interface CapabilityToolApi {
  serverCan(interaction: string): boolean;
  resourceCan(resource: string, interaction: string): boolean;
  serverSearch(param: string): boolean;
  resourceSearch(resource: string, param: string): boolean;
}
const { CapabilityTool } = Client as unknown as { CapabilityTool: new (statement: CapabilityStatement) => CapabilityToolApi };

let t: TestApp;
let client: Client;

beforeAll(async () => {
  loadFhirDefinitions();
  t = await startTestApp({ demo: 'none', fhirAccess: 'unrestricted' });
  client = new Client({ baseUrl: `${t.url}/fhir` });
});
afterAll(async () => t.close());

/** What fhir-kit-client throws for an error answer: the status and the body. */
async function failure(work: Promise<unknown>): Promise<{ status: number; data: OperationOutcome }> {
  try {
    await work;
  } catch (error) {
    const response = (error as { response?: { status: number; data: OperationOutcome } }).response;
    if (response) return response;
    throw error;
  }
  throw new Error('expected the request to fail');
}

const patient: Patient = { resourceType: 'Patient', name: [{ family: 'Kitclient', given: ['Fay'] }], gender: 'female', birthDate: '1961-07-14' };

describe('fhir-kit-client against the server', () => {
  it('creates, reads and vreads a Patient', async () => {
    const created = (await client.create({ resourceType: 'Patient', body: patient })) as Patient;
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.meta?.versionId).toBe('1');
    const response = Client.httpFor(created).response;
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`${t.url}/fhir/Patient/${created.id}/_history/1`);

    const read = (await client.read({ resourceType: 'Patient', id: created.id ?? '' })) as Patient;
    expect(read).toEqual(created);
    const version = (await client.vread({ resourceType: 'Patient', id: created.id ?? '', version: '1' })) as Patient;
    expect(version).toEqual(created);
  });

  it('updates with and without If-Match, and a stale If-Match fails with 412', async () => {
    const created = (await client.create({ resourceType: 'Patient', body: patient })) as Patient & { id: string };
    const updated = (await client.update({ resourceType: 'Patient', id: created.id, body: { ...created, gender: 'other' } })) as Patient;
    expect(updated.meta?.versionId).toBe('2');
    expect(updated.gender).toBe('other');
    const matched = (await client.update({ resourceType: 'Patient', id: created.id, body: { ...updated, active: true }, options: { headers: { 'If-Match': 'W/"2"' } } })) as Patient;
    expect(matched.meta?.versionId).toBe('3');
    const stale = await failure(client.update({ resourceType: 'Patient', id: created.id, body: { ...updated, active: false }, options: { headers: { 'If-Match': 'W/"2"' } } }));
    expect(stale.status).toBe(412);
    expect(stale.data.resourceType).toBe('OperationOutcome');
  });

  it('creates with its own id by update', async () => {
    const made = (await client.update({ resourceType: 'Patient', id: 'kit-client-1', body: { ...patient, id: 'kit-client-1' } })) as Patient;
    expect(made.id).toBe('kit-client-1');
    expect(Client.httpFor(made).response.status).toBe(201);
  });

  it('patches with JSON Patch', async () => {
    const created = (await client.create({ resourceType: 'Patient', body: patient })) as Patient & { id: string };
    const patched = (await client.patch({ resourceType: 'Patient', id: created.id, JSONPatch: [{ op: 'replace', path: '/gender', value: 'male' }] })) as Patient;
    expect(patched.gender).toBe('male');
    expect(patched.meta?.versionId).toBe('2');
  });

  it('deletes; a read then fails with 410, an unknown id with 404', async () => {
    const created = (await client.create({ resourceType: 'Patient', body: patient })) as Patient & { id: string };
    const outcome = (await client.delete({ resourceType: 'Patient', id: created.id })) as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    const gone = await failure(client.read({ resourceType: 'Patient', id: created.id }));
    expect(gone.status).toBe(410);
    expect(gone.data.issue?.[0]?.code).toBe('deleted');
    expect((await failure(client.read({ resourceType: 'Patient', id: 'no-such-one' }))).status).toBe(404);
  });

  it('reads history at instance, type and system level, and pages with nextPage', async () => {
    const created = (await client.create({ resourceType: 'Patient', body: patient })) as Patient & { id: string };
    for (const family of ['Two', 'Three']) await client.update({ resourceType: 'Patient', id: created.id, body: { ...created, name: [{ family }] } });
    const instance = (await client.resourceHistory({ resourceType: 'Patient', id: created.id })) as Bundle<Patient>;
    expect(instance.type).toBe('history');
    expect(instance.entry?.map((e) => e.resource?.name?.[0]?.family)).toEqual(['Three', 'Two', 'Kitclient']);

    const observation: Observation = { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: `Patient/${created.id}` } };
    await client.create({ resourceType: 'Observation', body: observation });
    const typeLevel = (await client.typeHistory({ resourceType: 'Observation' })) as Bundle;
    expect(typeLevel.entry?.every((e) => e.resource?.resourceType === 'Observation')).toBe(true);
    const system = (await client.systemHistory()) as Bundle;
    // Deleted versions (from the other tests) have no resource; the request names the type.
    expect(new Set(system.entry?.map((e) => e.request?.url.split('/')[0]))).toEqual(new Set(['Patient', 'Observation']));

    expect(((await client.history({ resourceType: 'Patient', id: created.id })) as Bundle).total).toBe(3);
    const small = (await client.request(`Patient/${created.id}/_history?_count=2`)) as Bundle<Patient>;
    expect(small.entry).toHaveLength(2);
    const next = (await client.nextPage({ bundle: small as Bundle & { type: 'history' } })) as Bundle<Patient>;
    expect(next.entry?.map((e) => e.resource?.name?.[0]?.family)).toEqual(['Kitclient']);
  });

  it('sees a refused resource as an error with the OperationOutcome', async () => {
    const refused = await failure(client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', gender: 'woman' } }));
    expect([400, 422]).toContain(refused.status);
    expect(refused.data.issue?.[0]?.expression).toEqual(['Patient.gender']);
  });

  it('searches, and follows the next page', async () => {
    for (let i = 0; i < 3; i++) await client.create({ resourceType: 'Patient', body: { ...patient, name: [{ family: 'Searchkit', given: [`N${i}`] }] } });
    const found = (await client.search({ resourceType: 'Patient', searchParams: { family: 'Searchkit', _count: '2' } })) as Bundle<Patient>;
    expect(found.type).toBe('searchset');
    expect(found.total).toBe(3);
    expect(found.entry).toHaveLength(2);
    const rest = (await client.nextPage({ bundle: found as Bundle & { type: 'searchset' } })) as Bundle<Patient>;
    expect(rest.entry).toHaveLength(1);
    const names = [...(found.entry ?? []), ...(rest.entry ?? [])].map((e) => e.resource?.name?.[0]?.given?.[0]).sort();
    expect(names).toEqual(['N0', 'N1', 'N2']);
  });

  it('posts a transaction Bundle whose entries refer to each other', async () => {
    const patientUrl = 'urn:uuid:7d3e2c1a-0b4f-4c8e-9a61-2f5d8e7c6b01';
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction' as const,
      entry: [
        { fullUrl: patientUrl, resource: { ...patient, name: [{ family: 'Transkit' }] }, request: { method: 'POST', url: 'Patient' } },
        {
          resource: { resourceType: 'Observation', status: 'final', code: { text: 'height' }, subject: { reference: patientUrl } },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    };
    const response = (await client.transaction({ body: bundle })) as Bundle;
    expect(response.type).toBe('transaction-response');
    expect(response.entry?.map((e) => e.response?.status.slice(0, 3))).toEqual(['201', '201']);
    const location = response.entry?.[1]?.response?.location ?? '';
    const observationId = /Observation\/([^/]+)/.exec(location)?.[1] ?? '';
    const observation = (await client.read({ resourceType: 'Observation', id: observationId })) as Observation;
    const patientId = /Patient\/([^/]+)/.exec(response.entry?.[0]?.response?.location ?? '')?.[1];
    expect(observation.subject?.reference).toBe(`Patient/${patientId ?? '?'}`);
  });
});

/** The CapabilityStatement through the client's own reader. */
describe('fhir-kit-client reads the CapabilityStatement', () => {
  let opsClient: Client;

  beforeAll(() => {
    opsClient = new Client({ baseUrl: `${t.url}/fhir` });
  });

  it('finds what it needs to know: interactions, search parameters, operations', async () => {
    const statement = (await opsClient.capabilityStatement()) as CapabilityStatement;
    expect(statement.fhirVersion).toBe('4.0.1');
    const tool = new CapabilityTool(statement);
    expect(tool.serverCan('transaction')).toBe(true);
    expect(tool.resourceCan('Patient', 'read')).toBe(true);
    expect(tool.resourceCan('Patient', 'patch')).toBe(true);
    expect(tool.resourceSearch('Patient', 'birthdate')).toBe(true);
    expect(tool.resourceSearch('Patient', '_text')).toBe(false);
    expect(tool.serverSearch('_lastUpdated')).toBe(true);
  });

  it('calls $validate as an operation', async () => {
    const outcome = (await opsClient.operation({ name: '$validate', resourceType: 'Patient', input: patient })) as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue?.[0]?.severity).toBe('information');
  });
});
