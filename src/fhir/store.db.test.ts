import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, openTestDatabase } from '../../test/support/database.js';
import { loadFhirDefinitions } from './definitions.js';
import { FhirError } from './outcome.js';
import { FhirStore } from './store.js';
import type { Observation, Patient } from '@medplum/fhirtypes';

let t: TestDatabase;
let store: FhirStore;

beforeAll(async () => {
  loadFhirDefinitions();
  t = await openTestDatabase();
  store = new FhirStore(t.db);
});
afterAll(async () => t.close());

const patient = { resourceType: 'Patient' as const, name: [{ family: 'Jones', given: ['Ann'] }], birthDate: '1950-02-03' };

async function statusOf(work: Promise<unknown>): Promise<number> {
  try {
    await work;
    return 200;
  } catch (error) {
    if (error instanceof FhirError) return error.status;
    throw error;
  }
}

async function indexCount(resourceType: string, id: string): Promise<number> {
  const r = await t.db.query<{ n: number }>(
    `SELECT count(*) AS n FROM fhir_patient_string s JOIN fhir_patient_resource r USING (resource_key) WHERE r.resource_type = $1 AND r.id = $2`,
    [resourceType, id],
  );
  return r.rows[0]?.n ?? 0;
}

describe('FhirStore', () => {
  it('creates with a server id, version 1 and lastUpdated, and reads it back', async () => {
    const created = await store.create(patient);
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.meta.versionId).toBe('1');
    expect(Date.parse(created.meta.lastUpdated)).toBeGreaterThan(Date.now() - 60_000);
    const read = await store.read('Patient', created.id);
    expect(read).toEqual(created);
    expect(await indexCount('Patient', created.id)).toBeGreaterThan(0);
  });

  it('updates to a new version, keeps the old one for vread, and replaces the index rows', async () => {
    const created = await store.create(patient);
    const { resource: v2, changed } = await store.update('Patient', created.id, { ...patient, id: created.id, name: [{ family: 'Smith' }] });
    expect(changed).toBe(true);
    expect(v2.meta.versionId).toBe('2');
    expect(((await store.vread('Patient', created.id, '1')) as Patient).name?.[0]?.family).toBe('Jones');
    expect(((await store.read('Patient', created.id)) as Patient).name?.[0]?.family).toBe('Smith');
    const families = await t.db.query<{ normalized: string }>(
      `SELECT normalized FROM fhir_patient_string s JOIN fhir_patient_resource r USING (resource_key) WHERE r.id = $1 AND s.param = 'family'`,
      [created.id],
    );
    expect(families.rows.map((r) => r.normalized)).toEqual(['smith']);
  });

  it('makes no new version when an update changes nothing', async () => {
    const created = await store.create(patient);
    const again = await store.update('Patient', created.id, { ...patient, id: created.id });
    expect(again.changed).toBe(false);
    expect(again.resource.meta.versionId).toBe('1');
  });

  it('creates with the client id on update of an unknown id', async () => {
    const result = await store.update('Patient', 'client-chosen-1', { ...patient, id: 'client-chosen-1' });
    expect(result.created).toBe(true);
    expect(result.resource.meta.versionId).toBe('1');
  });

  it('refuses an update whose If-Match is stale with 412, and accepts the current version', async () => {
    const created = await store.create(patient);
    await store.update('Patient', created.id, { ...patient, id: created.id, gender: 'female' }, { ifMatch: 'W/"1"' });
    expect(await statusOf(store.update('Patient', created.id, { ...patient, id: created.id, gender: 'male' }, { ifMatch: 'W/"1"' }))).toBe(412);
    expect(((await store.read('Patient', created.id)) as Patient).gender).toBe('female');
  });

  it('deletes: a later read is 410, history keeps the versions, index rows are gone', async () => {
    const created = await store.create(patient);
    expect(await store.delete('Patient', created.id)).toBe(true);
    expect(await statusOf(store.read('Patient', created.id))).toBe(410);
    expect((await store.vread('Patient', created.id, '1')).id).toBe(created.id);
    expect(await indexCount('Patient', created.id)).toBe(0);
    const history = await store.history({ type: 'Patient', id: created.id, count: 10, offset: 0 });
    expect(history.entries.map((e) => [e.versionId, e.method])).toEqual([['2', 'DELETE'], ['1', 'POST']]);
    expect(await store.delete('Patient', 'never-existed')).toBe(false);
  });

  it('applies a JSON Patch, and refuses a failed test operation with 422 leaving the resource unchanged', async () => {
    const created = await store.create(patient);
    const patched = await store.patch('Patient', created.id, [{ op: 'replace', path: '/birthDate', value: '1951-01-01' }]);
    expect((patched as Patient).birthDate).toBe('1951-01-01');
    expect(patched.meta.versionId).toBe('2');
    const failing = [{ op: 'test', path: '/birthDate', value: '2000-01-01' }, { op: 'replace', path: '/gender', value: 'male' }];
    expect(await statusOf(store.patch('Patient', created.id, failing))).toBe(422);
    expect(((await store.read('Patient', created.id)) as Patient).gender).toBeUndefined();
  });

  it('moves an Observation with its patient when the subject changes', async () => {
    const a = await store.create(patient);
    const b = await store.create(patient);
    const obs = await store.create({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${a.id}` } });
    const key = async (): Promise<number | undefined> =>
      (await t.db.query<{ patient_key: number }>(`SELECT patient_key FROM fhir_patient_resource WHERE id = $1`, [obs.id])).rows[0]?.patient_key;
    const before = await key();
    await store.update('Observation', obs.id, { ...(obs as Observation), subject: { reference: `Patient/${b.id}` } });
    const after = await key();
    expect(after).not.toBe(before);
    const rows = await t.db.query<{ n: number }>(`SELECT count(*) AS n FROM fhir_patient_reference WHERE patient_key = $1 AND target_id = $2`, [after, b.id]);
    expect(rows.rows[0]?.n).toBeGreaterThan(0);
  });

  it('stores each version’s text once: the current one in the resource row, older ones in history, through updates, a move and a delete', async () => {
    const a = await store.create(patient);
    const b = await store.create(patient);
    const obs = await store.create({ resourceType: 'Observation', status: 'preliminary', code: { text: 'v1' }, subject: { reference: `Patient/${a.id}` } });
    const historyText = async (): Promise<Array<[number, boolean]>> =>
      (await t.db.query<{ version_id: number; stored: boolean }>(`SELECT version_id, content IS NOT NULL AS stored FROM fhir_patient_history WHERE id = $1 ORDER BY version_id`, [obs.id])).rows.map((r) => [r.version_id, r.stored]);
    expect(await historyText()).toEqual([[1, false]]);

    await store.update('Observation', obs.id, { ...(obs as Observation), status: 'final', code: { text: 'v2' } });
    // A new subject moves the resource to another Patient's rows (a delete and insert, not an update).
    await store.update('Observation', obs.id, { ...(obs as Observation), status: 'final', code: { text: 'v3' }, subject: { reference: `Patient/${b.id}` } });
    await store.delete('Observation', obs.id);
    expect(await historyText()).toEqual([[1, true], [2, true], [3, true], [4, false]]);

    const texts = await Promise.all(['1', '2', '3'].map(async (v) => ((await store.vread('Observation', obs.id, v)) as Observation).code.text));
    expect(texts).toEqual(['v1', 'v2', 'v3']);
    await expect(store.vread('Observation', obs.id, '4')).rejects.toMatchObject({ status: 410 });
    const { entries } = await store.history({ type: 'Observation', id: obs.id, count: 10, offset: 0 });
    expect(entries.map((e) => [e.versionId, e.method, (e.resource as Observation | undefined)?.code.text])).toEqual([
      ['4', 'DELETE', undefined],
      ['3', 'PUT', 'v3'],
      ['2', 'PUT', 'v2'],
      ['1', 'POST', 'v1'],
    ]);

    // The current version's history entry reads the resource row's text.
    const c = await store.create({ resourceType: 'Observation', status: 'final', code: { text: 'only' }, subject: { reference: `Patient/${a.id}` } });
    expect(((await store.vread('Observation', c.id, '1')) as Observation).code.text).toBe('only');
    expect((await store.history({ type: 'Observation', id: c.id, count: 10, offset: 0 })).entries.map((e) => (e.resource as Observation).code.text)).toEqual(['only']);
  });

  it('refuses unknown types, wrong types and ids that do not match', async () => {
    expect(await statusOf(store.read('Nonsense', 'x'))).toBe(404);
    expect(await statusOf(store.create({ resourceType: 'Nonsense' } as never))).toBe(400);
    expect(await statusOf(store.update('Patient', 'abc', { ...patient, id: 'xyz' }))).toBe(400);
    expect(await statusOf(store.update('Observation', 'abc', { ...patient, id: 'abc' }))).toBe(400);
    expect(await statusOf(store.update('Patient', 'bad id!', patient))).toBe(400);
  });

  it('writes a whole transaction or nothing', async () => {
    const before = await store.history({ type: 'Patient', count: 1, offset: 0 });
    await expect(
      store.inTransaction(async (tx) => {
        await tx.create(patient);
        throw new Error('stop');
      }),
    ).rejects.toThrow('stop');
    const after = await store.history({ type: 'Patient', count: 1, offset: 0 });
    expect(after.total).toBe(before.total);
  });
});
