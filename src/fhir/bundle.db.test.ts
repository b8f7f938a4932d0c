import type { Bundle, BundleEntry, Observation, OperationOutcome, Patient } from '@medplum/fhirtypes';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppContext } from '../app.js';
import { type TestDatabase, openTestDatabase } from '../../test/support/database.js';
import { MAX_BUNDLE_ENTRIES, processBundle, registerBundleRoutes } from './bundle.js';
import { loadFhirDefinitions } from './definitions.js';
import { registerFhirApi } from './http.js';
import { FhirError } from './outcome.js';
import { FhirStore } from './store.js';

// The FHIR API with the bundle registrar, as app.ts wires it, over real HTTP on a free port.
let database: TestDatabase;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  loadFhirDefinitions();
  database = await openTestDatabase();
  const context = new AppContext();
  context.setDatabase(database.db);
  app = Fastify({ logger: false });
  await registerFhirApi(app, context, { operations: [registerBundleRoutes] });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(async () => {
  await app.close();
  await database.close();
});

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';

async function post<T = Bundle>(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as T };
}

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}/fhir/${path}`);
  return { status: response.status, body: (await response.json()) as T };
}

async function put(path: string, resource: object): Promise<void> {
  const response = await fetch(`${url}/fhir/${path}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(resource) });
  expect(response.status).toBeLessThan(300);
}

function transaction(entry: BundleEntry[]): Bundle {
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

function batch(entry: BundleEntry[]): Bundle {
  return { resourceType: 'Bundle', type: 'batch', entry };
}

function idOf(entry: BundleEntry | undefined): string {
  const location = entry?.response?.location ?? '';
  const match = /^[A-Za-z]+\/([^/]+)\/_history\/\d+$/.exec(location);
  if (!match) throw new Error(`no location in ${JSON.stringify(entry)}`);
  return match[1] as string;
}

/** Every row in the current and history tables of both families: a failed transaction must not change it. */
async function rowCount(): Promise<number> {
  const result = await database.db.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM fhir_patient_resource) + (SELECT count(*) FROM fhir_shared_resource)
          + (SELECT count(*) FROM fhir_patient_history) + (SELECT count(*) FROM fhir_shared_history) AS n`,
  );
  return result.rows[0]?.n ?? 0;
}

const observation = (subject: string, extra: Partial<Observation> = {}): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://snomed.info/sct', code: '27113001', display: 'Body weight' }] },
  subject: { reference: subject },
  valueQuantity: { value: 72, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
  ...extra,
});

describe('transaction Bundles', () => {
  it('creates resources that refer to each other by urn:uuid, at any depth and in the narrative, and answers in request order', async () => {
    const patientUrn = 'urn:uuid:5b4c1a3e-0d0e-4d8f-9a51-7f2b7c1e1a01';
    const encounterUrn = 'urn:oid:1.2.826.0.1.3680043.2.1';
    const { status, body } = await post(
      transaction([
        {
          fullUrl: 'urn:uuid:0c7f3f6e-7c52-4a0a-8a33-1f0f5e5b9d02',
          resource: observation(patientUrn, {
            encounter: { reference: encounterUrn },
            contained: [{ resourceType: 'Specimen', id: 'sp', subject: { reference: patientUrn } }],
            specimen: { reference: '#sp' },
            text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">Weight of <a href="${patientUrn}">the patient</a></div>` },
          }),
          request: { method: 'POST', url: 'Observation' },
        },
        { fullUrl: encounterUrn, resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: patientUrn } }, request: { method: 'POST', url: 'Encounter' } },
        { fullUrl: patientUrn, resource: { resourceType: 'Patient', identifier: [{ system: NHS, value: '9000000009' }], name: [{ family: 'Urnfield' }] }, request: { method: 'POST', url: `${url}/fhir/Patient` } },
      ]),
    );
    expect(status).toBe(200);
    expect(body.resourceType).toBe('Bundle');
    expect(body.type).toBe('transaction-response');
    const [obsEntry, encEntry, patEntry] = body.entry ?? [];
    expect(obsEntry?.resource?.resourceType).toBe('Observation');
    expect(encEntry?.resource?.resourceType).toBe('Encounter');
    expect(patEntry?.resource?.resourceType).toBe('Patient');
    const patientId = idOf(patEntry);
    const encounterId = idOf(encEntry);

    const stored = await get<Observation>(`Observation/${idOf(obsEntry)}`);
    expect(stored.body.subject?.reference).toBe(`Patient/${patientId}`);
    expect(stored.body.encounter?.reference).toBe(`Encounter/${encounterId}`);
    expect((stored.body.contained?.[0] as { subject?: { reference?: string } }).subject?.reference).toBe(`Patient/${patientId}`);
    expect(stored.body.specimen?.reference).toBe('#sp');
    expect(stored.body.text?.div).toContain(`href="Patient/${patientId}"`);
    expect((await get<{ subject?: { reference?: string } }>(`Encounter/${encounterId}`)).body.subject?.reference).toBe(`Patient/${patientId}`);

    // The references are indexed as rewritten: a search inside a Bundle finds the Observation by its patient.
    const search = await post(batch([{ request: { method: 'GET', url: `Observation?subject=Patient/${patientId}` } }]));
    const searchset = search.body.entry?.[0]?.resource as Bundle;
    expect(searchset.type).toBe('searchset');
    expect(searchset.entry?.map((e) => e.resource?.id)).toEqual([idOf(obsEntry)]);
  });

  it('resolves relative references against absolute fullUrls, and fullUrls in the searches of GET entries', async () => {
    const { status, body } = await post(
      transaction([
        { fullUrl: 'https://gp.example/fhir/Patient/p1', resource: { resourceType: 'Patient', name: [{ family: 'Absolute' }] }, request: { method: 'POST', url: 'Patient' } },
        { fullUrl: 'https://gp.example/fhir/Observation/o1', resource: observation('Patient/p1'), request: { method: 'POST', url: 'Observation' } },
        { request: { method: 'GET', url: 'Observation?subject=https://gp.example/fhir/Patient/p1' } },
      ]),
    );
    expect(status).toBe(200);
    const patientId = idOf(body.entry?.[0]);
    expect((body.entry?.[1]?.resource as Observation).subject?.reference).toBe(`Patient/${patientId}`);
    const searchset = body.entry?.[2]?.resource as Bundle;
    expect(searchset.entry?.map((e) => e.resource?.id)).toEqual([idOf(body.entry?.[1])]);
  });

  it('answers each write with status, location, etag, lastModified and the resource, as Prefer asks', async () => {
    const { body } = await post(transaction([{ resource: { resourceType: 'Patient', name: [{ family: 'Shape' }] }, request: { method: 'POST', url: 'Patient' } }]));
    const entry = body.entry?.[0];
    expect(entry?.response?.status).toBe('201 Created');
    expect(entry?.response?.location).toMatch(/^Patient\/[0-9a-f-]{36}\/_history\/1$/);
    expect(entry?.response?.etag).toBe('W/"1"');
    expect(Date.parse(entry?.response?.lastModified ?? '')).toBe(Date.parse((entry?.resource as Patient).meta?.lastUpdated ?? ''));
    expect(entry?.fullUrl).toBe(`${url}/fhir/Patient/${idOf(entry)}`);

    const minimal = await post(transaction([{ resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } }]), { prefer: 'return=minimal' });
    expect(minimal.body.entry?.[0]?.resource).toBeUndefined();
    expect(minimal.body.entry?.[0]?.response?.location).toMatch(/^Patient\//);

    const outcome = await post(transaction([{ resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } }]), { prefer: 'return=OperationOutcome' });
    expect(outcome.body.entry?.[0]?.resource).toBeUndefined();
    expect(outcome.body.entry?.[0]?.response?.outcome?.resourceType).toBe('OperationOutcome');

    const empty = await post(transaction([]));
    expect(empty.status).toBe(200);
    expect(empty.body.type).toBe('transaction-response');
    expect(empty.body.entry).toEqual([]);
  });

  it('is all or nothing: one failing entry fails the whole transaction with its status and index, and nothing is written', async () => {
    const before = await rowCount();
    const urn = 'urn:uuid:7d0c8a8e-3f6e-4a1b-9b1c-2f1d4e6a8b03';
    const invalidEntry = await post(
      transaction([
        { fullUrl: urn, resource: { resourceType: 'Patient', name: [{ family: 'Rollback' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: observation(urn), request: { method: 'POST', url: 'Observation' } },
        { resource: { resourceType: 'Nonsense' } as unknown as Patient, request: { method: 'PUT', url: 'Patient/rollback-1' } },
      ]),
    );
    expect(invalidEntry.status).toBe(400);
    const issue = (invalidEntry.body as unknown as OperationOutcome).issue[0];
    expect(issue?.expression?.[0]).toBe('Bundle.entry[2].resource.resourceType');
    expect(issue?.diagnostics).toContain('Bundle.entry[2]');
    expect(await rowCount()).toBe(before);

    // A resource the R4 validator refuses names its element inside the entry.
    const noStatus: Partial<Observation> = observation(urn);
    delete noStatus.status;
    const invalidResource = await post(
      transaction([
        { fullUrl: urn, resource: { resourceType: 'Patient', name: [{ family: 'Rollback' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: observation(urn), request: { method: 'POST', url: 'Observation' } },
        { resource: observation(urn), request: { method: 'POST', url: 'Observation' } },
        { resource: noStatus, request: { method: 'POST', url: 'Observation' } },
      ]),
    );
    expect(invalidResource.status).toBe(400);
    expect((invalidResource.body as unknown as OperationOutcome).issue.map((i) => i.expression?.[0])).toContain('Bundle.entry[3].resource.status');
    expect(await rowCount()).toBe(before);

    // A failure after the creates were written (a GET runs last) rolls them back too.
    const lateFailure = await post(
      transaction([
        { fullUrl: urn, resource: { resourceType: 'Patient', name: [{ family: 'Rollback' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: observation(urn), request: { method: 'POST', url: 'Observation' } },
        { request: { method: 'GET', url: 'Patient/never-was' } },
        { resource: { resourceType: 'Patient', id: 'rollback-2' }, request: { method: 'PUT', url: 'Patient/rollback-2' } },
      ]),
    );
    expect(lateFailure.status).toBe(404);
    expect((lateFailure.body as unknown as OperationOutcome).issue[0]?.expression?.[0]).toBe('Bundle.entry[2].request.url');
    expect(await rowCount()).toBe(before);
    expect((await get('Patient/rollback-2')).status).toBe(404);

    // A reference to a urn:uuid that no entry has.
    const dangling = await post(transaction([{ resource: observation('urn:uuid:00000000-0000-4000-8000-000000000000'), request: { method: 'POST', url: 'Observation' } }]));
    expect(dangling.status).toBe(400);
    expect((dangling.body as unknown as OperationOutcome).issue[0]?.expression?.[0]).toBe('Bundle.entry[0].resource.subject.reference');
    expect(await rowCount()).toBe(before);
  });

  it('deletes before it creates, and reads after it writes, whatever the order of the entries', async () => {
    const existing = { resourceType: 'Patient', id: 'order-1', identifier: [{ system: NHS, value: '9000000017' }] };
    await put('Patient/order-1', existing);
    const { status, body } = await post(
      transaction([
        { request: { method: 'GET', url: 'Patient/order-2' } },
        { resource: { resourceType: 'Patient', identifier: [{ system: NHS, value: '9000000017' }] }, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${NHS}|9000000017` } },
        { resource: { resourceType: 'Patient', id: 'order-2', name: [{ family: 'Second' }] }, request: { method: 'PUT', url: 'Patient/order-2' } },
        { request: { method: 'DELETE', url: `Patient?identifier=${NHS}|9000000017` } },
      ]),
    );
    expect(status).toBe(200);
    const [read, created, updated, deleted] = body.entry ?? [];
    // The DELETE ran first, so the conditional create found nothing and made a new Patient.
    expect(deleted?.response?.status).toBe('204 No Content');
    expect(created?.response?.status).toBe('201 Created');
    expect(idOf(created)).not.toBe('order-1');
    expect(updated?.response?.status).toBe('201 Created');
    // The GET ran last, so it sees the PUT of the same transaction.
    expect(read?.response?.status).toBe('200 OK');
    expect((read?.resource as Patient).name?.[0]?.family).toBe('Second');
    expect((await get('Patient/order-1')).status).toBe(410);
  });

  it('conditional create finds the existing resource, and references to its fullUrl point at it', async () => {
    await put('Patient/cond-1', { resourceType: 'Patient', id: 'cond-1', identifier: [{ system: NHS, value: '9434765919' }] });
    const urn = 'urn:uuid:1a2b3c4d-0000-4000-8000-000000000004';
    const { status, body } = await post(
      transaction([
        { fullUrl: urn, resource: { resourceType: 'Patient', identifier: [{ system: NHS, value: '9434765919' }] }, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${NHS}|9434765919` } },
        { resource: observation(urn), request: { method: 'POST', url: 'Observation' } },
      ]),
    );
    expect(status).toBe(200);
    expect(body.entry?.[0]?.response?.status).toBe('200 OK');
    expect(body.entry?.[0]?.resource?.id).toBe('cond-1');
    expect((body.entry?.[1]?.resource as Observation).subject?.reference).toBe('Patient/cond-1');
    expect((await get<Patient>('Patient/cond-1')).body.meta?.versionId).toBe('1');
  });

  it('resolves a conditional reference to the one resource it matches, and fails when none or several match', async () => {
    await put('Patient/cref-1', { resourceType: 'Patient', id: 'cref-1', identifier: [{ system: NHS, value: '9000000025' }] });
    const { status, body } = await post(transaction([{ resource: observation(`Patient?identifier=${NHS}|9000000025`), request: { method: 'POST', url: 'Observation' } }]));
    expect(status).toBe(200);
    const id = idOf(body.entry?.[0]);
    expect((await get<Observation>(`Observation/${id}`)).body.subject?.reference).toBe('Patient/cref-1');

    const none = await post(transaction([{ resource: observation(`Patient?identifier=${NHS}|0000000000`), request: { method: 'POST', url: 'Observation' } }]));
    expect(none.status).toBe(412);
    const noneIssue = (none.body as unknown as OperationOutcome).issue[0];
    expect(noneIssue?.expression?.[0]).toBe('Bundle.entry[0].resource.subject.reference');
    expect(noneIssue?.diagnostics).toMatch(/matches no Patient/);

    await put('Patient/cref-2', { resourceType: 'Patient', id: 'cref-2', name: [{ family: 'Twin' }] });
    await put('Patient/cref-3', { resourceType: 'Patient', id: 'cref-3', name: [{ family: 'Twin' }] });
    const several = await post(transaction([{ resource: observation('Patient?family=Twin'), request: { method: 'POST', url: 'Observation' } }]));
    expect(several.status).toBe(412);
    expect((several.body as unknown as OperationOutcome).issue[0]?.diagnostics).toMatch(/more than one Patient/);
  });

  it('updates conditionally, patches, and refuses a stale ifMatch', async () => {
    await put('Patient/upd-1', { resourceType: 'Patient', id: 'upd-1', identifier: [{ system: NHS, value: '9000000033' }], gender: 'female' });
    await put('Patient/upd-2', { resourceType: 'Patient', id: 'upd-2', gender: 'female' });
    const patch = Buffer.from(JSON.stringify([{ op: 'replace', path: '/gender', value: 'male' }])).toString('base64');
    const { status, body } = await post(
      transaction([
        { resource: { resourceType: 'Patient', identifier: [{ system: NHS, value: '9000000033' }], gender: 'other' }, request: { method: 'PUT', url: `Patient?identifier=${NHS}|9000000033` } },
        { resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: patch }, request: { method: 'PATCH', url: 'Patient/upd-2' } },
      ]),
    );
    expect(status).toBe(200);
    expect(body.entry?.[0]?.response?.status).toBe('200 OK');
    expect(body.entry?.[0]?.response?.location).toBe('Patient/upd-1/_history/2');
    expect((body.entry?.[1]?.resource as Patient).gender).toBe('male');

    const stale = await post(transaction([{ resource: { resourceType: 'Patient', id: 'upd-1' }, request: { method: 'PUT', url: 'Patient/upd-1', ifMatch: 'W/"1"' } }]));
    expect(stale.status).toBe(412);
    expect((stale.body as unknown as OperationOutcome).issue[0]?.expression?.[0]).toBe('Bundle.entry[0].request.ifMatch');
  });

  it('refuses two entries that act on one resource', async () => {
    const { status, body } = await post(
      transaction([
        { resource: { resourceType: 'Patient', id: 'dup-1' }, request: { method: 'PUT', url: 'Patient/dup-1' } },
        { request: { method: 'DELETE', url: 'Patient/dup-1' } },
      ]),
    );
    expect(status).toBe(400);
    expect((body as unknown as OperationOutcome).issue[0]?.diagnostics).toMatch(/both act on Patient\/dup-1/);
    expect((await get('Patient/dup-1')).status).toBe(404);
  });
});

describe('batch Bundles', () => {
  it('runs each entry on its own: a failing entry gets its status and outcome, the others succeed', async () => {
    await put('Patient/batch-3', { resourceType: 'Patient', id: 'batch-3' });
    const { status, body } = await post(
      batch([
        { resource: { resourceType: 'Patient', name: [{ family: 'Batchley' }] }, request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'GET', url: 'Patient/not-there' } },
        { resource: { resourceType: 'Observation' } as Observation, request: { method: 'PUT', url: 'Patient/batch-1' } },
        { resource: observation('urn:uuid:0d1e2f30-0000-4000-8000-000000000005'), request: { method: 'POST', url: 'Observation' } },
        { resource: { resourceType: 'Patient', id: 'batch-2' }, request: { method: 'PUT', url: 'Patient/batch-2' } },
        { request: { method: 'DELETE', url: `Patient?identifier=${NHS}|9000000041` } },
        { request: { method: 'DELETE', url: 'Patient/batch-3' } },
      ]),
    );
    expect(status).toBe(200);
    expect(body.type).toBe('batch-response');
    const statuses = body.entry?.map((e) => e.response?.status);
    expect(statuses).toEqual(['201 Created', '404 Not Found', '400 Bad Request', '400 Bad Request', '201 Created', '404 Not Found', '204 No Content']);
    expect((await get('Patient/batch-3')).status).toBe(410);
    expect(body.entry?.[1]?.response?.outcome?.issue?.[0]?.expression).toEqual(['Bundle.entry[1].request.url']);
    expect(body.entry?.[2]?.response?.outcome?.issue?.[0]?.expression).toEqual(['Bundle.entry[2].resource.resourceType']);
    expect(body.entry?.[3]?.response?.outcome?.issue?.[0]?.diagnostics).toMatch(/may not refer to each other/);
    expect((await get('Patient/batch-2')).status).toBe(200);
    expect((await get(`Patient/${idOf(body.entry?.[0])}`)).status).toBe(200);
  });
});

describe('malformed Bundles', () => {
  it('refuses what is not a batch or transaction Bundle, naming the element', async () => {
    const notBundle = await post<OperationOutcome>({ resourceType: 'Patient' });
    expect(notBundle.status).toBe(400);
    expect(notBundle.body.resourceType).toBe('OperationOutcome');

    const wrongType = await post<OperationOutcome>({ resourceType: 'Bundle', type: 'collection', entry: [] });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.issue[0]?.expression).toEqual(['Bundle.type']);

    const missing = await post<OperationOutcome>(
      transaction([
        { resource: { resourceType: 'Patient' } },
        { resource: { resourceType: 'Patient' }, request: { url: 'Patient' } } as BundleEntry,
        { request: { method: 'POST', url: 'Patient' } },
        { request: { method: 'FETCH', url: 'Patient' } } as unknown as BundleEntry,
      ]),
    );
    expect(missing.status).toBe(400);
    expect(missing.body.issue.map((i) => i.expression?.[0])).toEqual(['Bundle.entry[0].request', 'Bundle.entry[1].request.method', 'Bundle.entry[2].resource', 'Bundle.entry[3].request.method']);

    const duplicateFullUrl = await post<OperationOutcome>(
      transaction([
        { fullUrl: 'urn:uuid:9e9e9e9e-0000-4000-8000-000000000006', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
        { fullUrl: 'urn:uuid:9e9e9e9e-0000-4000-8000-000000000006', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
      ]),
    );
    expect(duplicateFullUrl.status).toBe(400);
    expect(duplicateFullUrl.body.issue[0]?.expression).toEqual(['Bundle.entry[1].fullUrl']);

    const elsewhere = await post<OperationOutcome>(transaction([{ request: { method: 'GET', url: 'https://elsewhere.example/fhir/Patient/1' } }]));
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.issue[0]?.expression).toEqual(['Bundle.entry[0].request.url']);
  });

  it(`refuses more than ${MAX_BUNDLE_ENTRIES} entries as too costly`, async () => {
    const entry = Array.from({ length: MAX_BUNDLE_ENTRIES + 1 }, () => ({ request: { method: 'GET' as const, url: 'Patient/x' } }));
    const { status, body } = await post<OperationOutcome>(batch(entry));
    expect(status).toBe(413);
    expect(body.issue[0]?.code).toBe('too-costly');
  });
});

describe('processBundle without HTTP', () => {
  it('processes a transaction against a store and throws FhirError when it fails', async () => {
    const store = new FhirStore(database.db);
    const urn = 'urn:uuid:4f4f4f4f-0000-4000-8000-000000000007';
    const input = transaction([
      { fullUrl: urn, resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
      { resource: observation(urn), request: { method: 'POST', url: 'Observation' } },
    ]);
    const copy = structuredClone(input);
    const result = await processBundle(store, input, { baseUrl: 'https://ics.example/fhir' });
    expect(result.entry?.map((e) => e.response?.status)).toEqual(['201 Created', '201 Created']);
    expect(result.entry?.[0]?.fullUrl).toMatch(/^https:\/\/ics\.example\/fhir\/Patient\//);
    // The caller's Bundle is left as it was.
    expect(input).toEqual(copy);
    await expect(processBundle(store, { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'GET', url: 'Patient/none' } }] }, { baseUrl: 'https://ics.example/fhir' })).rejects.toBeInstanceOf(FhirError);
  });
});
