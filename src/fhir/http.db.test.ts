/**
 * The FHIR REST interactions (https://hl7.org/fhir/R4/http.html) case by case over real HTTP:
 * status, headers and body of each, and the OperationOutcome of each error. Then the
 * CapabilityStatement and $validate.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Bundle, CapabilityStatement, CapabilityStatementRest, CodeSystem, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/support/app.js';
import { loadFhirDefinitions, resourceTypes, searchParamsOf } from './definitions.js';
import { MAX_BODY_BYTES } from './http.js';

interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

let t: TestApp;
let base: string;

beforeAll(async () => {
  loadFhirDefinitions();
  t = await startTestApp({ demo: 'none', fhirAccess: 'unrestricted' });
  base = `${t.url}/fhir`;
});
afterAll(async () => t.close());

/** One request to the FHIR API; a JSON body is sent as application/fhir+json unless told. */
async function fhir<T = Record<string, unknown>>(method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; root?: string } = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/fhir+json';
  }
  const response = await fetch(`${options.root ?? base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: response.status, headers: response.headers, text, body: parsed as T };
}

/** An error answer: the status, an OperationOutcome in the FHIR content type, and its first issue. */
function expectOutcome(answer: Answer, status: number, code: string, expression?: string): OperationOutcome {
  expect({ status: answer.status, text: answer.text.slice(0, 300) }).toMatchObject({ status });
  expect(answer.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  const outcome = answer.body as unknown as OperationOutcome;
  expect(outcome.resourceType).toBe('OperationOutcome');
  const issue = outcome.issue?.[0];
  expect(issue?.severity).toBe(status >= 500 ? 'fatal' : 'error');
  expect(issue?.code).toBe(code);
  expect(issue?.diagnostics).toEqual(expect.any(String));
  if (expression !== undefined) expect(issue?.expression).toEqual([expression]);
  return outcome;
}

const newPatient = (family = 'Jones'): Patient => ({ resourceType: 'Patient', name: [{ family, given: ['Ann'] }], gender: 'female', birthDate: '1950-02-03' });

async function createPatient(family = 'Jones'): Promise<Patient & { id: string }> {
  const created = await fhir<Patient & { id: string }>('POST', '/Patient', { body: newPatient(family) });
  expect(created.status).toBe(201);
  return created.body;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('create', () => {
  it('answers 201 with Location, ETag, Last-Modified and the resource with a server id and meta', async () => {
    const created = await fhir<Patient>('POST', '/Patient', { body: { ...newPatient(), id: 'client-id', meta: { versionId: '7', tag: [{ system: 'urn:test', code: 'kept' }] } } });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    const { id, meta } = created.body;
    // The server assigns the id, and the version; other meta (tags) is kept.
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta?.versionId).toBe('1');
    expect(meta?.tag).toEqual([{ system: 'urn:test', code: 'kept' }]);
    expect(Date.parse(meta?.lastUpdated ?? '')).toBeGreaterThan(Date.now() - 60_000);
    expect(created.headers.get('location')).toBe(`${base}/Patient/${id}/_history/1`);
    expect(created.headers.get('etag')).toBe('W/"1"');
    expect(created.headers.get('last-modified')).toBe(new Date(meta?.lastUpdated ?? '').toUTCString());
    expect(created.body).toMatchObject(newPatient());
  });

  it('accepts application/json as well as application/fhir+json', async () => {
    const created = await fhir<Patient>('POST', '/Patient', { body: newPatient(), headers: { 'content-type': 'application/json' } });
    expect(created.status).toBe(201);
    const charset = await fhir('POST', '/Patient', { body: newPatient(), headers: { 'content-type': 'application/fhir+json; charset=utf-8' } });
    expect(charset.status).toBe(201);
  });

  it('refuses a body of another resource type (400, resourceType)', async () => {
    expectOutcome(await fhir('POST', '/Patient', { body: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } }), 400, 'invalid', 'resourceType');
  });

  it('refuses a body that is not a resource: no resourceType, an array, nothing at all', async () => {
    expectOutcome(await fhir('POST', '/Patient', { body: { name: [{ family: 'X' }] } }), 400, 'invalid', 'resourceType');
    expectOutcome(await fhir('POST', '/Patient', { body: '[]' }), 400, 'invalid');
    expectOutcome(await fhir('POST', '/Patient', { body: '', headers: { 'content-type': 'application/fhir+json' } }), 400, 'invalid');
  });

  it('refuses malformed JSON (400, structure)', async () => {
    const answer = await fhir('POST', '/Patient', { body: '{"resourceType": "Patient",' });
    const outcome = expectOutcome(answer, 400, 'structure');
    expect(outcome.issue?.[0]?.diagnostics).toMatch(/not valid JSON/);
  });

  it('refuses a resource that is not valid R4, naming the element', async () => {
    const answer = await fhir('POST', '/Patient', { body: { resourceType: 'Patient', gender: 'woman', birthDate: '3 Feb 1950' } });
    expect([400, 422]).toContain(answer.status);
    const outcome = answer.body as unknown as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    const expressions = (outcome.issue ?? []).flatMap((i) => i.expression ?? []);
    expect(expressions).toEqual(expect.arrayContaining(['Patient.gender', 'Patient.birthDate']));
  });

  it('answers an unknown resource type with 404 not-supported', async () => {
    expectOutcome(await fhir('POST', '/Spaceship', { body: { resourceType: 'Spaceship' } }), 404, 'not-supported');
    expectOutcome(await fhir('GET', '/Spaceship/1'), 404, 'not-supported');
    expectOutcome(await fhir('PUT', '/Spaceship/1', { body: { resourceType: 'Spaceship', id: '1' } }), 404, 'not-supported');
  });
});

describe('read and vread', () => {
  it('reads the current version with ETag and Last-Modified', async () => {
    const created = await createPatient();
    const read = await fhir<Patient>('GET', `/Patient/${created.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created);
    expect(read.headers.get('etag')).toBe('W/"1"');
    expect(read.headers.get('last-modified')).toBe(new Date(created.meta?.lastUpdated ?? '').toUTCString());
  });

  it('answers 404 not-found for an id never used, and for a version that does not exist', async () => {
    expectOutcome(await fhir('GET', '/Patient/never-was'), 404, 'not-found');
    const created = await createPatient();
    expectOutcome(await fhir('GET', `/Patient/${created.id}/_history/2`), 404, 'not-found');
    expectOutcome(await fhir('GET', `/Patient/${created.id}/_history/first`), 404, 'not-found');
  });

  it('reads each version by vread, with its own ETag', async () => {
    const created = await createPatient('Before');
    await fhir('PUT', `/Patient/${created.id}`, { body: { ...newPatient('After'), id: created.id } });
    const v1 = await fhir<Patient>('GET', `/Patient/${created.id}/_history/1`);
    expect(v1.status).toBe(200);
    expect(v1.body.name?.[0]?.family).toBe('Before');
    expect(v1.headers.get('etag')).toBe('W/"1"');
    const v2 = await fhir<Patient>('GET', `/Patient/${created.id}/_history/2`);
    expect(v2.body.name?.[0]?.family).toBe('After');
    expect(v2.headers.get('etag')).toBe('W/"2"');
  });

  it('answers 304 to If-None-Match of the current version, and 200 to an older one', async () => {
    const created = await createPatient();
    const same = await fhir('GET', `/Patient/${created.id}`, { headers: { 'if-none-match': 'W/"1"' } });
    expect(same.status).toBe(304);
    expect(same.text).toBe('');
    expect(same.headers.get('etag')).toBe('W/"1"');
    await fhir('PUT', `/Patient/${created.id}`, { body: { ...newPatient('Changed'), id: created.id } });
    const changed = await fhir<Patient>('GET', `/Patient/${created.id}`, { headers: { 'if-none-match': 'W/"1"' } });
    expect(changed.status).toBe(200);
    expect(changed.body.meta?.versionId).toBe('2');
  });

  it('answers 304 to If-Modified-Since at or after the last change', async () => {
    const created = await createPatient();
    const lastModified = new Date(created.meta?.lastUpdated ?? '').toUTCString();
    expect((await fhir('GET', `/Patient/${created.id}`, { headers: { 'if-modified-since': lastModified } })).status).toBe(304);
    const before = new Date(Date.parse(created.meta?.lastUpdated ?? '') - 60_000).toUTCString();
    expect((await fhir('GET', `/Patient/${created.id}`, { headers: { 'if-modified-since': before } })).status).toBe(200);
  });
});

describe('update', () => {
  it('makes a new version (200) with ETag, and keeps the old one', async () => {
    const created = await createPatient('Old');
    const updated = await fhir<Patient>('PUT', `/Patient/${created.id}`, { body: { ...newPatient('New'), id: created.id } });
    expect(updated.status).toBe(200);
    expect(updated.body.meta?.versionId).toBe('2');
    expect(updated.body.name?.[0]?.family).toBe('New');
    expect(updated.headers.get('etag')).toBe('W/"2"');
    expect(updated.headers.get('last-modified')).toBe(new Date(updated.body.meta?.lastUpdated ?? '').toUTCString());
    expect(updated.headers.get('location')).toBeNull();
  });

  it('makes no new version when nothing changed', async () => {
    const created = await createPatient();
    const again = await fhir<Patient>('PUT', `/Patient/${created.id}`, { body: { ...newPatient(), id: created.id } });
    expect(again.status).toBe(200);
    expect(again.body.meta?.versionId).toBe('1');
  });

  it('creates with the client id when there is no such resource (update-as-create, 201 with Location)', async () => {
    const answer = await fhir<Patient>('PUT', '/Patient/chosen-by-client.1', { body: { ...newPatient(), id: 'chosen-by-client.1' } });
    expect(answer.status).toBe(201);
    expect(answer.body.id).toBe('chosen-by-client.1');
    expect(answer.body.meta?.versionId).toBe('1');
    expect(answer.headers.get('location')).toBe(`${base}/Patient/chosen-by-client.1/_history/1`);
    expect(answer.headers.get('etag')).toBe('W/"1"');
    expect((await fhir<Patient>('GET', '/Patient/chosen-by-client.1')).body.id).toBe('chosen-by-client.1');
  });

  it('refuses an id in the body that differs from the URL (400, Patient.id)', async () => {
    const created = await createPatient();
    expectOutcome(await fhir('PUT', `/Patient/${created.id}`, { body: { ...newPatient(), id: 'another' } }), 400, 'invalid', 'Patient.id');
  });

  it('refuses an id that is not a valid FHIR id (400, id)', async () => {
    expectOutcome(await fhir('PUT', '/Patient/bad_id!', { body: { ...newPatient(), id: 'bad_id!' } }), 400, 'invalid', 'id');
    const long = 'a'.repeat(65);
    expectOutcome(await fhir('PUT', `/Patient/${long}`, { body: { ...newPatient(), id: long } }), 400, 'invalid', 'id');
  });

  it('refuses a body of another type than the URL (400, resourceType)', async () => {
    const created = await createPatient();
    expectOutcome(await fhir('PUT', `/Patient/${created.id}`, { body: { resourceType: 'Practitioner', id: created.id } }), 400, 'invalid', 'resourceType');
  });

  it('honours If-Match: 412 conflict when stale, 200 when current', async () => {
    const created = await createPatient();
    const first = await fhir<Patient>('PUT', `/Patient/${created.id}`, { body: { ...newPatient('Second'), id: created.id }, headers: { 'if-match': 'W/"1"' } });
    expect(first.status).toBe(200);
    const stale = await fhir('PUT', `/Patient/${created.id}`, { body: { ...newPatient('Third'), id: created.id }, headers: { 'if-match': 'W/"1"' } });
    expectOutcome(stale, 412, 'conflict');
    expect((await fhir<Patient>('GET', `/Patient/${created.id}`)).body.name?.[0]?.family).toBe('Second');
    expect((await fhir('PUT', `/Patient/${created.id}`, { body: { ...newPatient('Third'), id: created.id }, headers: { 'if-match': '"2"' } })).status).toBe(200);
  });

  it('refuses If-Match on a resource that does not exist (412)', async () => {
    expectOutcome(await fhir('PUT', '/Patient/not-there-yet', { body: { ...newPatient(), id: 'not-there-yet' }, headers: { 'if-match': 'W/"1"' } }), 412, 'conflict');
  });
});

describe('delete', () => {
  it('deletes (200 with an OperationOutcome); a read is then 410 gone, and the versions stay in history', async () => {
    const created = await createPatient();
    const deleted = await fhir<OperationOutcome>('DELETE', `/Patient/${created.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.resourceType).toBe('OperationOutcome');
    expect(deleted.body.issue?.[0]?.severity).toBe('information');
    expectOutcome(await fhir('GET', `/Patient/${created.id}`), 410, 'deleted');
    expectOutcome(await fhir('GET', `/Patient/${created.id}/_history/2`), 410, 'deleted');
    expect((await fhir('GET', `/Patient/${created.id}/_history/1`)).status).toBe(200);
    const history = await fhir<Bundle>('GET', `/Patient/${created.id}/_history`);
    expect(history.body.entry?.map((e) => e.request?.method)).toEqual(['DELETE', 'POST']);
    expect(history.body.entry?.[0]?.resource).toBeUndefined();
    expect(history.body.entry?.[0]?.response?.status).toBe('204');
  });

  it('is idempotent: deleting again is 200', async () => {
    const created = await createPatient();
    expect((await fhir('DELETE', `/Patient/${created.id}`)).status).toBe(200);
    expect((await fhir('DELETE', `/Patient/${created.id}`)).status).toBe(200);
  });

  it('answers 404 for a resource that never existed', async () => {
    expectOutcome(await fhir('DELETE', '/Patient/never-existed'), 404, 'not-found');
  });

  it('honours If-Match (412 when stale)', async () => {
    const created = await createPatient();
    expectOutcome(await fhir('DELETE', `/Patient/${created.id}`, { headers: { 'if-match': 'W/"9"' } }), 412, 'conflict');
    expect((await fhir('GET', `/Patient/${created.id}`)).status).toBe(200);
  });

  it('lets an update bring a deleted resource back (201, next version)', async () => {
    const created = await createPatient();
    await fhir('DELETE', `/Patient/${created.id}`);
    const back = await fhir<Patient>('PUT', `/Patient/${created.id}`, { body: { ...newPatient(), id: created.id } });
    expect(back.status).toBe(201);
    expect(back.body.meta?.versionId).toBe('3');
    expect((await fhir('GET', `/Patient/${created.id}`)).status).toBe(200);
  });
});

describe('patch', () => {
  const jsonPatch = { 'content-type': 'application/json-patch+json' };

  it('applies a JSON Patch as a new version', async () => {
    const created = await createPatient();
    const patched = await fhir<Patient>('PATCH', `/Patient/${created.id}`, {
      body: [{ op: 'replace', path: '/gender', value: 'male' }, { op: 'add', path: '/active', value: true }],
      headers: jsonPatch,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ gender: 'male', active: true, meta: { versionId: '2' } });
    expect(patched.headers.get('etag')).toBe('W/"2"');
    expect((await fhir<Patient>('GET', `/Patient/${created.id}`)).body.gender).toBe('male');
  });

  it('refuses any other patch format with 415', async () => {
    const created = await createPatient();
    expectOutcome(await fhir('PATCH', `/Patient/${created.id}`, { body: [{ op: 'replace', path: '/gender', value: 'male' }] }), 415, 'not-supported');
    expectOutcome(
      await fhir('PATCH', `/Patient/${created.id}`, { body: { resourceType: 'Parameters', parameter: [] }, headers: { 'content-type': 'application/fhir+json' } }),
      415,
      'not-supported',
    );
  });

  it('answers 422 when a test operation fails, 400 when a path is wrong, and changes nothing', async () => {
    const created = await createPatient();
    expectOutcome(await fhir('PATCH', `/Patient/${created.id}`, { body: [{ op: 'test', path: '/gender', value: 'male' }], headers: jsonPatch }), 422, 'processing', '[0]');
    expectOutcome(await fhir('PATCH', `/Patient/${created.id}`, { body: [{ op: 'remove', path: '/nothing/here' }], headers: jsonPatch }), 400, 'processing', '[0]');
    expectOutcome(await fhir('PATCH', `/Patient/${created.id}`, { body: { op: 'remove', path: '/gender' }, headers: jsonPatch }), 400, 'invalid');
    expect((await fhir<Patient>('GET', `/Patient/${created.id}`)).body.meta?.versionId).toBe('1');
  });

  it('refuses a patch that changes the id, or leaves an invalid resource', async () => {
    const created = await createPatient();
    expectOutcome(await fhir('PATCH', `/Patient/${created.id}`, { body: [{ op: 'replace', path: '/id', value: 'other' }], headers: jsonPatch }), 400, 'invalid');
    const broken = await fhir('PATCH', `/Patient/${created.id}`, { body: [{ op: 'replace', path: '/gender', value: 'woman' }], headers: jsonPatch });
    expect([400, 422]).toContain(broken.status);
    expect((broken.body as unknown as OperationOutcome).issue?.flatMap((i) => i.expression ?? [])).toContain('Patient.gender');
  });

  it('answers 404 for an unknown resource, 410 for a deleted one, 412 for a stale If-Match', async () => {
    const patch = [{ op: 'replace', path: '/gender', value: 'male' }];
    expectOutcome(await fhir('PATCH', '/Patient/no-such-patient', { body: patch, headers: jsonPatch }), 404, 'not-found');
    const created = await createPatient();
    expectOutcome(await fhir('PATCH', `/Patient/${created.id}`, { body: patch, headers: { ...jsonPatch, 'if-match': 'W/"5"' } }), 412, 'conflict');
    await fhir('DELETE', `/Patient/${created.id}`);
    expectOutcome(await fhir('PATCH', `/Patient/${created.id}`, { body: patch, headers: jsonPatch }), 410, 'deleted');
  });
});

describe('history', () => {
  it('lists an instance history newest first, with request and response of each entry', async () => {
    const created = await createPatient('One');
    await fhir('PUT', `/Patient/${created.id}`, { body: { ...newPatient('Two'), id: created.id } });
    await fhir('PATCH', `/Patient/${created.id}`, { body: [{ op: 'replace', path: '/gender', value: 'male' }], headers: { 'content-type': 'application/json-patch+json' } });
    const history = await fhir<Bundle<Patient>>('GET', `/Patient/${created.id}/_history`);
    expect(history.status).toBe(200);
    expect(history.body).toMatchObject({ resourceType: 'Bundle', type: 'history', total: 3 });
    expect(history.body.entry?.map((e) => e.resource?.meta?.versionId)).toEqual(['3', '2', '1']);
    expect(history.body.entry?.map((e) => e.request)).toEqual([
      { method: 'PATCH', url: `Patient/${created.id}` },
      { method: 'PUT', url: `Patient/${created.id}` },
      { method: 'POST', url: 'Patient' },
    ]);
    expect(history.body.entry?.[2]?.response).toMatchObject({ status: '201', etag: 'W/"1"' });
    expect(history.body.entry?.[0]?.fullUrl).toBe(`${base}/Patient/${created.id}`);
  });

  it('answers 404 for the history of an unknown instance', async () => {
    expectOutcome(await fhir('GET', '/Patient/nobody/_history'), 404, 'not-found');
  });

  it('pages with _count and next/previous links, and the links work', async () => {
    const created = await createPatient('V1');
    for (const family of ['V2', 'V3', 'V4', 'V5']) await fhir('PUT', `/Patient/${created.id}`, { body: { ...newPatient(family), id: created.id } });
    const first = await fhir<Bundle<Patient>>('GET', `/Patient/${created.id}/_history?_count=2`);
    expect(first.body.total).toBe(5);
    expect(first.body.entry?.map((e) => e.resource?.name?.[0]?.family)).toEqual(['V5', 'V4']);
    const link = (bundle: Bundle, relation: string): string | undefined => bundle.link?.find((l) => l.relation === relation)?.url;
    expect(link(first.body, 'self')).toContain('_count=2');
    expect(link(first.body, 'previous')).toBeUndefined();
    const next = link(first.body, 'next');
    expect(next).toMatch(new RegExp(`^${base}/Patient/${created.id}/_history\\?`));
    const second = await fhir<Bundle<Patient>>('GET', '', { root: next ?? '' });
    expect(second.body.entry?.map((e) => e.resource?.name?.[0]?.family)).toEqual(['V3', 'V2']);
    expect(link(second.body, 'previous')).toBeDefined();
    const last = await fhir<Bundle<Patient>>('GET', '', { root: link(second.body, 'next') ?? '' });
    expect(last.body.entry?.map((e) => e.resource?.name?.[0]?.family)).toEqual(['V1']);
    expect(link(last.body, 'next')).toBeUndefined();
  });

  it('filters by _since at instance, type and system level', async () => {
    const before = await createPatient('BeforeSince');
    await pause(20);
    const since = new Date().toISOString();
    await pause(20);
    const after = await createPatient('AfterSince');
    const org = await fhir<{ id: string }>('POST', '/Organization', { body: { resourceType: 'Organization', name: 'After since' } });
    expect(org.status).toBe(201);

    const typeLevel = await fhir<Bundle>('GET', `/Patient/_history?_since=${encodeURIComponent(since)}`);
    const typeIds = typeLevel.body.entry?.map((e) => e.resource?.id) ?? [];
    expect(typeIds).toContain(after.id);
    expect(typeIds).not.toContain(before.id);
    expect(typeLevel.body.entry?.every((e) => e.resource?.resourceType === 'Patient')).toBe(true);
    expect(typeLevel.body.link?.find((l) => l.relation === 'self')?.url).toContain('_since=');

    const systemLevel = await fhir<Bundle>('GET', `/_history?_since=${encodeURIComponent(since)}`);
    const systemRefs = systemLevel.body.entry?.map((e) => `${e.resource?.resourceType ?? ''}/${e.resource?.id ?? ''}`) ?? [];
    expect(systemRefs).toEqual(expect.arrayContaining([`Patient/${after.id}`, `Organization/${org.body.id}`]));
    expect(systemRefs).not.toContain(`Patient/${before.id}`);
    expect(systemLevel.body.total).toBe(systemRefs.length);

    const instance = await fhir<Bundle>('GET', `/Patient/${before.id}/_history?_since=${encodeURIComponent(since)}`);
    expect(instance.status).toBe(200);
    expect(instance.body.total).toBe(0);
  });

  it('lists the type history of one type only, and the system history of all', async () => {
    const patient = await createPatient();
    const org = await fhir<{ id: string }>('POST', '/Organization', { body: { resourceType: 'Organization', name: 'Typed' } });
    const typeLevel = await fhir<Bundle>('GET', '/Organization/_history?_count=1000');
    expect(typeLevel.body.entry?.every((e) => e.request?.url?.startsWith('Organization'))).toBe(true);
    expect(typeLevel.body.entry?.map((e) => e.resource?.id)).toContain(org.body.id);
    const systemLevel = await fhir<Bundle>('GET', '/_history?_count=1000');
    const ids = systemLevel.body.entry?.map((e) => e.resource?.id);
    expect(ids).toEqual(expect.arrayContaining([patient.id, org.body.id]));
  });

  it('refuses a malformed _since or _count (400, naming the parameter)', async () => {
    expectOutcome(await fhir('GET', '/_history?_since=yesterday'), 400, 'invalid', '_since');
    expectOutcome(await fhir('GET', '/Patient/_history?_count=-1'), 400, 'invalid', '_count');
    expectOutcome(await fhir('GET', '/Patient/_history?_count=many'), 400, 'invalid', '_count');
  });

  it('refuses the history of an unknown type (404)', async () => {
    expectOutcome(await fhir('GET', '/Spaceship/_history'), 404, 'not-supported');
  });
});

describe('conditional create, update and delete', () => {
  const withIdentifier = (system: string, value: string): Patient => ({ ...newPatient(), identifier: [{ system, value }] });

  it('create with If-None-Exist: 201 when nothing matches, 200 with the match when one does, 412 when several do', async () => {
    const system = 'urn:test:conditional-create';
    const first = await fhir<Patient>('POST', '/Patient', { body: withIdentifier(system, '1'), headers: { 'if-none-exist': `identifier=${system}|1` } });
    expect(first.status).toBe(201);
    const again = await fhir<Patient>('POST', '/Patient', { body: withIdentifier(system, '1'), headers: { 'if-none-exist': `identifier=${system}|1` } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    await fhir('POST', '/Patient', { body: withIdentifier(system, '2') });
    await fhir('POST', '/Patient', { body: withIdentifier(system, '2') });
    expectOutcome(await fhir('POST', '/Patient', { body: withIdentifier(system, '2'), headers: { 'if-none-exist': `identifier=${system}|2` } }), 412, 'multiple-matches');
  });

  it('update by criteria: creates when nothing matches, updates the one match, 412 when several match', async () => {
    const system = 'urn:test:conditional-update';
    const query = `identifier=${encodeURIComponent(`${system}|1`)}`;
    const created = await fhir<Patient>('PUT', `/Patient?${query}`, { body: withIdentifier(system, '1') });
    expect(created.status).toBe(201);
    const updated = await fhir<Patient>('PUT', `/Patient?${query}`, { body: { ...withIdentifier(system, '1'), gender: 'male' } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id: created.body.id, gender: 'male', meta: { versionId: '2' } });
    await fhir('POST', '/Patient', { body: withIdentifier(system, '1') });
    expectOutcome(await fhir('PUT', `/Patient?${query}`, { body: withIdentifier(system, '1') }), 412, 'multiple-matches');
  });

  it('delete by criteria: deletes the one match (then 410), 412 when several match, 404 when none does', async () => {
    const system = 'urn:test:conditional-delete';
    const one = await fhir<Patient>('POST', '/Patient', { body: withIdentifier(system, '1') });
    expect((await fhir('DELETE', `/Patient?identifier=${encodeURIComponent(`${system}|1`)}`)).status).toBe(200);
    expectOutcome(await fhir('GET', `/Patient/${one.body.id ?? ''}`), 410, 'deleted');
    await fhir('POST', '/Patient', { body: withIdentifier(system, '2') });
    await fhir('POST', '/Patient', { body: withIdentifier(system, '2') });
    expectOutcome(await fhir('DELETE', `/Patient?identifier=${encodeURIComponent(`${system}|2`)}`), 412, 'multiple-matches');
    expectOutcome(await fhir('DELETE', `/Patient?identifier=${encodeURIComponent(`${system}|3`)}`), 404, 'not-found');
  });
});

describe('Prefer return=', () => {
  it('minimal: no body, but Location and ETag', async () => {
    const answer = await fhir('POST', '/Patient', { body: newPatient(), headers: { prefer: 'return=minimal' } });
    expect(answer.status).toBe(201);
    expect(answer.text).toBe('');
    expect(answer.headers.get('location')).toMatch(new RegExp(`^${base}/Patient/[0-9a-f-]{36}/_history/1$`));
    expect(answer.headers.get('etag')).toBe('W/"1"');
  });

  it('representation: the resource (also the default)', async () => {
    const answer = await fhir<Patient>('POST', '/Patient', { body: newPatient(), headers: { prefer: 'return=representation' } });
    expect(answer.status).toBe(201);
    expect(answer.body.resourceType).toBe('Patient');
  });

  it('OperationOutcome: an informational outcome instead of the resource, on create and update', async () => {
    const answer = await fhir<OperationOutcome>('POST', '/Patient', { body: newPatient(), headers: { prefer: 'return=OperationOutcome' } });
    expect(answer.status).toBe(201);
    expect(answer.body.resourceType).toBe('OperationOutcome');
    expect(answer.body.issue?.[0]).toMatchObject({ severity: 'information', code: 'informational' });
    const id = /Patient\/([^/]+)\//.exec(answer.headers.get('location') ?? '')?.[1] ?? '';
    const update = await fhir<OperationOutcome>('PUT', `/Patient/${id}`, { body: { ...newPatient('Other'), id }, headers: { prefer: 'return=OperationOutcome' } });
    expect(update.status).toBe(200);
    expect(update.body.resourceType).toBe('OperationOutcome');
    expect(update.headers.get('etag')).toBe('W/"2"');
  });
});

describe('formats', () => {
  it('answers application/fhir+json by default, application/json when asked by Accept or _format', async () => {
    const created = await createPatient();
    expect((await fhir('GET', `/Patient/${created.id}`)).headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    expect((await fhir('GET', `/Patient/${created.id}`, { headers: { accept: 'application/json' } })).headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect((await fhir('GET', `/Patient/${created.id}?_format=json`)).headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect((await fhir('GET', `/Patient/${created.id}?_format=application/json`)).headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect((await fhir('GET', `/Patient/${created.id}?_format=application/fhir%2Bjson`)).headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    expect((await fhir('GET', `/Patient/${created.id}`, { headers: { accept: 'application/fhir+json' } })).status).toBe(200);
    expect((await fhir('GET', `/Patient/${created.id}`, { headers: { accept: '*/*' } })).status).toBe(200);
  });

  it('indents with _pretty=true and not otherwise', async () => {
    const created = await createPatient();
    const pretty = await fhir('GET', `/Patient/${created.id}?_pretty=true`);
    expect(pretty.text).toContain('\n  "resourceType": "Patient"');
    const plain = await fhir('GET', `/Patient/${created.id}`);
    expect(plain.text).not.toContain('\n');
    expect(JSON.parse(pretty.text)).toEqual(JSON.parse(plain.text));
  });

  it('refuses an XML body with 415', async () => {
    const answer = await fhir('POST', '/Patient', { body: '<Patient xmlns="http://hl7.org/fhir"/>', headers: { 'content-type': 'application/fhir+xml' } });
    expectOutcome(answer, 415, 'not-supported');
    expectOutcome(await fhir('POST', '/Patient', { body: 'name=Jones', headers: { 'content-type': 'text/plain' } }), 415, 'not-supported');
  });

  it('refuses to answer in XML with 406, whether asked by Accept or _format', async () => {
    const created = await createPatient();
    expectOutcome(await fhir('GET', `/Patient/${created.id}`, { headers: { accept: 'application/fhir+xml' } }), 406, 'not-supported');
    expectOutcome(await fhir('GET', `/Patient/${created.id}?_format=xml`), 406, 'not-supported');
    expectOutcome(await fhir('GET', `/Patient/${created.id}?_format=application/fhir%2Bxml`), 406, 'not-supported');
  });
});

describe('limits and unknown paths', () => {
  it('refuses a body over the limit with 413', async () => {
    const padding = 'x'.repeat(MAX_BODY_BYTES);
    const answer = await fhir('POST', '/Patient', { body: `{"resourceType":"Patient","text":{"status":"generated","div":"${padding}"}}` });
    expectOutcome(answer, 413, 'too-costly');
  });

  it('answers a path that is no FHIR interaction with 404 not-supported', async () => {
    expectOutcome(await fhir('GET', '/Patient/1/_history/1/more'), 404, 'not-supported');
  });

  it('keeps its OperationOutcome errors to /fhir: the rest of the platform answers as before', async () => {
    const response = await fetch(`${t.url}/no-such-thing`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).not.toMatch(/fhir/);
  });
});

/** The CapabilityStatement and $validate. */
describe('operations: metadata and $validate', () => {
  let opsBase: string;
  const op = <T = Record<string, unknown>>(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer<T>> =>
    fhir<T>(method, path, { ...options, root: opsBase });

  beforeAll(() => {
    opsBase = `${t.url}/fhir`;
  });

  describe('GET /metadata', () => {
    it('is an active instance CapabilityStatement for FHIR 4.0.1, JSON only, naming this server', async () => {
      const answer = await op<CapabilityStatement>('GET', '/metadata');
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
      const cs = answer.body;
      expect(cs).toMatchObject({ resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', implementation: { url: opsBase } });
      expect(cs.software?.name).toBe('OpenICS');
      expect(cs.format).toEqual(expect.arrayContaining(['json', 'application/fhir+json']));
      expect(cs.format?.some((f) => /xml|ttl/.test(f))).toBe(false);
      expect(Number.isNaN(Date.parse(cs.date ?? ''))).toBe(false);
      expect((await op<CapabilityStatement>('GET', '/metadata?mode=full')).body).toEqual(cs);
    });

    it('lists every resource type with the interactions the server answers', async () => {
      const rest = (await op<CapabilityStatement>('GET', '/metadata')).body.rest?.[0];
      expect(rest?.mode).toBe('server');
      expect(rest?.resource?.map((r) => r.type)).toEqual([...resourceTypes()]);
      for (const resource of rest?.resource ?? []) {
        expect(resource.interaction?.map((i) => i.code).sort()).toEqual(['create', 'delete', 'history-instance', 'history-type', 'patch', 'read', 'search-type', 'update', 'vread']);
        expect(resource).toMatchObject({ versioning: 'versioned-update', readHistory: true, updateCreate: true, conditionalCreate: true, conditionalUpdate: true, conditionalDelete: 'single' });
      }
      expect(rest?.interaction?.map((i) => i.code).sort()).toEqual(['batch', 'history-system', 'search-system', 'transaction']);
    });

    it('lists the search parameters search serves, with includes from reference parameters', async () => {
      const rest = (await op<CapabilityStatement>('GET', '/metadata')).body.rest?.[0];
      const patient = rest?.resource?.find((r) => r.type === 'Patient');
      const names = patient?.searchParam?.map((p) => p.name) ?? [];
      expect(names).toEqual(expect.arrayContaining(['_id', '_lastUpdated', 'identifier', 'family', 'birthdate', 'general-practitioner', 'organization']));
      for (const unserved of ['_text', '_content', '_query', '_filter']) expect(names).not.toContain(unserved);
      expect(patient?.searchParam?.find((p) => p.name === 'birthdate')).toMatchObject({ type: 'date', definition: 'http://hl7.org/fhir/SearchParameter/individual-birthdate' });
      expect(patient?.searchInclude).toEqual(expect.arrayContaining(['Patient:general-practitioner', 'Patient:organization', 'Patient:link']));
      expect(patient?.searchRevInclude).toEqual(expect.arrayContaining(['Observation:subject', 'Observation:patient', 'Encounter:patient']));
      // Every definition's parameter is either listed or one search does not serve.
      for (const resource of rest?.resource ?? []) {
        const listed = new Set(resource.searchParam?.map((p) => p.name));
        for (const def of searchParamsOf(resource.type ?? '').values()) {
          if (!listed.has(def.code)) expect({ type: resource.type, code: def.code, served: def.type !== 'special' && !['_text', '_content', '_query', '_filter'].includes(def.code) && def.expression !== undefined }).toMatchObject({ served: false });
        }
        expect(resource.searchParam?.some((p) => p.type === 'special')).toBe(false);
      }
      expect(rest?.searchParam?.map((p) => p.name)).toEqual(expect.arrayContaining(['_id', '_lastUpdated', '_tag', '_profile', '_security']));
    });

    it('lists $everything and $summary (the shared care record registers it) on Patient, $validate on every type, $export at system, Patient and Group level, and $import', async () => {
      const rest = (await op<CapabilityStatement>('GET', '/metadata')).body.rest?.[0];
      const opsOf = (type: string): string[] => rest?.resource?.find((r) => r.type === type)?.operation?.map((o) => o.name).sort() ?? [];
      expect(opsOf('Patient')).toEqual(['everything', 'export', 'summary', 'validate']);
      expect(opsOf('Group')).toEqual(['export', 'validate']);
      expect(opsOf('Observation')).toEqual(['validate']);
      expect(rest?.operation?.map((o) => o.name).sort()).toEqual(['export', 'import']);
      for (const o of [...(rest?.operation ?? []), ...(rest?.resource?.flatMap((r) => r.operation ?? []) ?? [])]) expect(o.definition).toMatch(/^https?:\/\//);
    });

    it('is valid R4 by the server own $validate, for the R4 resource types it lists', async () => {
      // definitions.ts also serves SubscriptionStatus (from R4B), which R4's resource-types value
      // set lacks; this case is about the rest of the statement.
      const r4Types = new Set(
        (JSON.parse(readFileSync(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/CodeSystem-resource-types.json'), 'utf8')) as CodeSystem).concept?.map((c) => c.code),
      );
      const cs = (await op<CapabilityStatement>('GET', '/metadata')).body;
      const rest: CapabilityStatementRest = cs.rest?.[0] ?? { mode: 'server' };
      const r4Only = { ...cs, rest: [{ ...rest, resource: rest.resource?.filter((r) => r4Types.has(r.type ?? '')) }] };
      const outcome = await op<OperationOutcome>('POST', '/CapabilityStatement/$validate', { body: r4Only });
      expect(outcome.status).toBe(200);
      expect(outcome.body.issue?.map((i) => i.severity)).toEqual(['information']);
    });

    it('refuses mode=terminology (no terminology service) and unknown modes with 400', async () => {
      expectOutcome(await op('GET', '/metadata?mode=terminology'), 400, 'not-supported');
      expectOutcome(await op('GET', '/metadata?mode=everything'), 400, 'invalid', 'mode');
    });

    it('names the base URL the client used', async () => {
      const viaLocalhost = opsBase.replace('127.0.0.1', 'localhost');
      const answer = await fetch(`${viaLocalhost}/metadata`);
      expect(((await answer.json()) as CapabilityStatement).implementation?.url).toBe(viaLocalhost);
      expect(((await (await fetch(`${opsBase}/metadata`)).json()) as CapabilityStatement).implementation?.url).toBe(opsBase);
    });
  });

  describe('$validate', () => {
    const allOk = (answer: Answer): void => {
      expect(answer.status).toBe(200);
      const issues = (answer.body as unknown as OperationOutcome).issue ?? [];
      expect(issues.map((i) => [i.severity, i.code, typeof i.diagnostics])).toEqual([['information', 'informational', 'string']]);
    };
    const issuesOf = (answer: Answer): Array<{ severity?: string; code?: string; expression?: string[] }> => {
      expect(answer.status).toBe(200);
      expect((answer.body as unknown as OperationOutcome).resourceType).toBe('OperationOutcome');
      return (answer.body as unknown as OperationOutcome).issue ?? [];
    };

    it('says a valid resource is valid, given as the body or in Parameters', async () => {
      allOk(await op('POST', '/Patient/$validate', { body: newPatient() }));
      allOk(await op('POST', '/Patient/$validate', { body: { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: newPatient() }, { name: 'mode', valueCode: 'create' }] } }));
    });

    it('lists what is wrong with 200, naming each element, and writes nothing', async () => {
      const before = await fhir<Bundle>('GET', '/Patient/_history?_count=0');
      const issues = issuesOf(await op('POST', '/Patient/$validate', { body: { resourceType: 'Patient', gender: 'woman', birthDate: 'soon' } }));
      expect(issues.every((i) => i.severity === 'error')).toBe(true);
      expect(issues.flatMap((i) => i.expression ?? [])).toEqual(expect.arrayContaining(['Patient.gender', 'Patient.birthDate']));
      const after = await fhir<Bundle>('GET', '/Patient/_history?_count=0');
      expect(after.body.total).toBe(before.body.total);
    });

    it('reports a body of another type than the URL as an issue', async () => {
      const issues = issuesOf(await op('POST', '/Patient/$validate', { body: { resourceType: 'Organization', name: 'x' } }));
      expect(issues[0]).toMatchObject({ severity: 'error', expression: ['resourceType'] });
    });

    it('mode update: the id must be there and match the URL', async () => {
      allOk(await op('POST', '/Patient/some-id/$validate?mode=update', { body: { ...newPatient(), id: 'some-id' } }));
      expect(issuesOf(await op('POST', '/Patient/$validate', { body: { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: newPatient() }, { name: 'mode', valueCode: 'update' }] } }))[0]).toMatchObject({
        severity: 'error',
        code: 'required',
        expression: ['Patient.id'],
      });
      expect(issuesOf(await op('POST', '/Patient/some-id/$validate?mode=update', { body: { ...newPatient(), id: 'other-id' } }))[0]).toMatchObject({ severity: 'error', expression: ['Patient.id'] });
      expect(issuesOf(await op('POST', '/Patient/some-id/$validate?mode=update', { body: newPatient() }))[0]).toMatchObject({ severity: 'error', code: 'required', expression: ['Patient.id'] });
    });

    it('mode delete: fine for a resource that is there, an issue for one that is not', async () => {
      const created = await createPatient();
      allOk(await op('POST', `/Patient/${created.id}/$validate?mode=delete`));
      expect(issuesOf(await op('POST', '/Patient/gone-or-never/$validate?mode=delete'))[0]).toMatchObject({ severity: 'error', code: 'not-found' });
      expectOutcome(await op('POST', '/Patient/$validate?mode=delete'), 400, 'invalid', 'mode');
    });

    it('answers 4xx when it cannot validate: no resource, unknown type, unknown mode, a profile, XML', async () => {
      expectOutcome(await op('POST', '/Patient/$validate'), 400, 'invalid');
      expectOutcome(await op('POST', '/Spaceship/$validate', { body: { resourceType: 'Spaceship' } }), 404, 'not-supported');
      expectOutcome(await op('POST', '/Patient/$validate?mode=sometimes', { body: newPatient() }), 400, 'invalid', 'mode');
      expectOutcome(await op('POST', '/Patient/$validate?profile=http://example.org/StructureDefinition/p', { body: newPatient() }), 400, 'not-supported', 'profile');
      expectOutcome(await op('POST', '/Patient/$validate', { body: { resourceType: 'Parameters', parameter: [{ name: 'colour', valueString: 'red' }] } }), 400, 'invalid');
      expectOutcome(await op('POST', '/Patient/$validate', { body: '<Patient/>', headers: { 'content-type': 'application/fhir+xml' } }), 415, 'not-supported');
    });

    it('validates a Parameters resource itself when it carries no resource parameter', async () => {
      allOk(await op('POST', '/Parameters/$validate', { body: { resourceType: 'Parameters', parameter: [{ name: 'x', valueString: 'y' }] } }));
    });

    it('does not clash with read, update, create and history routes', async () => {
      // $validate is a static segment, so it wins over :id; the other methods still reach their routes.
      const created = await op<Patient & { id: string }>('POST', '/Patient', { body: newPatient() });
      expect(created.status).toBe(201);
      allOk(await op('POST', `/Patient/${created.body.id}/$validate`, { body: created.body }));
      expect((await op('GET', `/Patient/${created.body.id}`)).status).toBe(200);
      expect((await op('GET', `/Patient/${created.body.id}/_history`)).status).toBe(200);
      // As a path for other methods, $validate is an id, and not a valid one.
      expectOutcome(await op('PUT', '/Patient/$validate', { body: { ...newPatient(), id: '$validate' } }), 400, 'invalid', 'id');
      expectOutcome(await op('GET', '/Patient/$validate'), 404, 'not-found');
    });
  });
});
