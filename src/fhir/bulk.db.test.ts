import type { Resource } from '@medplum/fhirtypes';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, openTestDatabase } from '../../test/support/database.js';
import { AppContext } from '../app.js';
import { type ExportManifest, bulkRoutes, importNdjson } from './bulk.js';
import { loadFhirDefinitions } from './definitions.js';
import { registerFhirApi } from './http.js';
import { FhirStore } from './store.js';

let t: TestDatabase;
let app: FastifyInstance;
let url: string;
let store: FhirStore;

const lines = (resources: readonly unknown[]): string => resources.map((r) => JSON.stringify(r)).join('\n');

const feed: Resource[] = [
  { resourceType: 'Organization', id: 'org1', name: 'Riverside Surgery' },
  { resourceType: 'Organization', id: 'org-unused', name: 'Nobody points here' },
  { resourceType: 'Practitioner', id: 'dr1', name: [{ family: 'Khan' }] },
  { resourceType: 'Patient', id: 'p1', name: [{ family: 'Jones' }], managingOrganization: { reference: 'Organization/org1' } },
  { resourceType: 'Patient', id: 'p2', name: [{ family: 'Smith' }] },
  { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p1' }, participant: [{ individual: { reference: 'Practitioner/dr1' } }] },
  { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' }, code: { text: 'Asthma' } },
  { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'Peak flow' }, subject: { reference: 'Patient/p1' } },
  { resourceType: 'Observation', id: 'o2', status: 'final', code: { text: 'Weight' }, subject: { reference: 'Patient/p1' } },
  { resourceType: 'Observation', id: 'o3', status: 'final', code: { text: 'Weight' }, subject: { reference: 'Patient/p2' } },
  // In no patient's compartment: exported at system level only.
  { resourceType: 'Observation', id: 'o-nobody', status: 'final', code: { text: 'Water quality' } },
  { resourceType: 'MedicationRequest', id: 'mr1', status: 'active', intent: 'order', subject: { reference: 'Patient/p2' }, medicationCodeableConcept: { text: 'Salbutamol' } },
  { resourceType: 'Group', id: 'g1', type: 'person', actual: true, member: [{ entity: { reference: 'Patient/p1' } }, { entity: { reference: 'Patient/p2' }, inactive: true }] },
];

beforeAll(async () => {
  loadFhirDefinitions();
  t = await openTestDatabase();
  store = new FhirStore(t.db);
  const context = new AppContext();
  context.setDatabase(t.db);
  app = Fastify({ logger: false });
  // Tiny files and batches, so splitting, parts and keyset paging all happen on a handful of resources.
  await registerFhirApi(app, context, { operations: [bulkRoutes({ fileLimit: 3, batchSize: 2, groupChunk: 1, staleAfterMs: 1000 })] });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/fhir`;
});
afterAll(async () => {
  await app.close();
  await t.close();
});

async function versions(type: string, id: string): Promise<number> {
  const { rows } = await t.db.query<{ n: number }>('SELECT count(*) AS n FROM fhir_patient_history WHERE resource_type = $1 AND id = $2', [type, id]);
  return rows[0]?.n ?? 0;
}

describe(`NDJSON import (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  it('imports valid lines in batches, reports each invalid line by number, and keeps going', async () => {
    const input = [
      lines(feed.slice(0, 3)),
      '{"resourceType": "Patient", "id": "broken"', // line 4: not JSON
      '',
      JSON.stringify({ resourceType: 'Observation', id: 'no-status', code: { text: 'x' } }), // line 6: invalid
      JSON.stringify({ resourceType: 'Spaceship', id: 's1' }), // line 7: not a type
      JSON.stringify({ resourceType: 'Patient', id: 'bad id!' }), // line 8: bad id
      lines(feed.slice(3)),
    ].join('\n');
    const result = await importNdjson(store, input, { batchSize: 4 });
    expect(result).toMatchObject({ created: feed.length, updated: 0, unchanged: 0, failed: 4 });
    expect(result.errors.map((e) => e.line)).toEqual([4, 6, 7, 8]);
    expect(result.errors[1]?.issues[0]).toMatchObject({ code: 'required', expression: 'Observation.status' });
    expect(((await store.read('Observation', 'o1')) as { code: { text: string } }).code.text).toBe('Peak flow');
    expect(await store.exists('Observation', 'no-status')).toBe(false);
    // Written by the batch path, found by the index like any other write.
    const { rows } = await t.db.query<{ n: number }>(`SELECT count(*) AS n FROM fhir_patient_reference WHERE param = 'subject' AND target_id = 'p1'`);
    expect(rows[0]?.n).toBe(4);
    // The planner has statistics for what the import wrote (the embedded engine gathers none itself).
    const stats = await t.db.query<{ reltuples: number }>(`SELECT reltuples FROM pg_class WHERE oid = to_regclass('fhir_patient_reference')`);
    expect(stats.rows[0]?.reltuples).toBeGreaterThan(0);
  });

  it('is idempotent: importing the same lines again makes no new versions, a changed line makes one', async () => {
    const again = await importNdjson(store, lines(feed), { batchSize: 5 });
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: feed.length, failed: 0 });
    expect(await versions('Observation', 'o1')).toBe(1);
    // Key order and the meta an export adds do not count as a change.
    const exported = { meta: { versionId: '1', lastUpdated: '2020-01-01T00:00:00Z' }, subject: { reference: 'Patient/p1' }, code: { text: 'Peak flow' }, status: 'final', id: 'o1', resourceType: 'Observation' };
    expect(await importNdjson(store, JSON.stringify(exported))).toMatchObject({ unchanged: 1 });
    const changed = await importNdjson(store, lines([{ ...feed[7], valueString: '420 L/min' }]));
    expect(changed).toMatchObject({ created: 0, updated: 1, unchanged: 0 });
    expect(await versions('Observation', 'o1')).toBe(2);
    expect((await store.read('Observation', 'o1')).meta.versionId).toBe('2');
  });

  it('gives a line without an id a server id, and writes the same id twice in one input as two versions', async () => {
    const result = await importNdjson(store, [
      JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'No id' }, subject: { reference: 'Patient/p2' } }),
      JSON.stringify({ resourceType: 'Observation', id: 'twice', status: 'preliminary', code: { text: 'Pulse' }, subject: { reference: 'Patient/p2' } }),
      JSON.stringify({ resourceType: 'Observation', id: 'twice', status: 'final', code: { text: 'Pulse' }, subject: { reference: 'Patient/p2' } }),
    ]);
    expect(result).toMatchObject({ created: 2, updated: 1, failed: 0 });
    expect(((await store.read('Observation', 'twice')) as { status: string }).status).toBe('final');
    expect(await versions('Observation', 'twice')).toBe(2);
    const { rows } = await t.db.query<{ n: number }>(`SELECT count(*) AS n FROM fhir_patient_resource r WHERE r.content LIKE '%No id%' AND r.id ~ '^[0-9a-f-]{36}$'`);
    expect(rows[0]?.n).toBe(1);
  });

  it('writes a batch whole or not at all', async () => {
    // Fails after the patient family of the batch is written, before the shared family is.
    class FailingStore extends FhirStore {
      override async writeVersions(versions: Parameters<FhirStore['writeVersions']>[0], q?: Parameters<FhirStore['writeVersions']>[1]): Promise<void> {
        await super.writeVersions(versions.filter((v) => v.family === 'fhir_patient'), q);
        throw new Error('the database went away');
      }
    }
    const failing = new FailingStore(t.db);
    const batch = [
      { resourceType: 'Patient', id: 'atomic-p', name: [{ family: 'Atom' }] },
      { resourceType: 'Practitioner', id: 'atomic-dr', name: [{ family: 'Atom' }] },
    ];
    await expect(importNdjson(failing, lines(batch))).rejects.toThrow('the database went away');
    expect(await store.exists('Patient', 'atomic-p')).toBe(false);
    expect(await store.exists('Practitioner', 'atomic-dr')).toBe(false);
  });

  it('reads lines from any async source, such as a file stream', async () => {
    async function* source(): AsyncGenerator<string> {
      yield JSON.stringify({ resourceType: 'Practitioner', id: 'streamed', name: [{ family: 'Stream' }] });
      yield '';
      yield JSON.stringify({ resourceType: 'Practitioner', id: 'streamed-2', name: [{ family: 'Stream' }] });
    }
    expect(await importNdjson(store, source())).toMatchObject({ created: 2, failed: 0 });
    await store.delete('Practitioner', 'streamed');
    await store.delete('Practitioner', 'streamed-2');
  });

  it('moves a resource whose patient changed to the new patient, under the same key', async () => {
    await importNdjson(store, lines([{ resourceType: 'Observation', id: 'moving', status: 'final', code: { text: 'BP' }, subject: { reference: 'Patient/p1' } }]));
    await importNdjson(store, lines([{ resourceType: 'Observation', id: 'moving', status: 'final', code: { text: 'BP' }, subject: { reference: 'Patient/p2' } }]));
    const { rows } = await t.db.query<{ n: number }>(`SELECT count(*) AS n FROM fhir_patient_resource WHERE resource_type = 'Observation' AND id = 'moving'`);
    expect(rows[0]?.n).toBe(1);
    const moved = await t.db.query<{ n: number }>(`SELECT count(*) AS n FROM fhir_patient_reference WHERE param = 'subject' AND target_id = 'p2' AND resource_key = (SELECT resource_key FROM fhir_patient_resource WHERE id = 'moving')`);
    expect(moved.rows[0]?.n).toBe(1);
    await store.delete('Observation', 'moving');
  });

  it('answers POST $import with an OperationOutcome of counts and numbered failures', async () => {
    const body = [JSON.stringify({ resourceType: 'Patient', id: 'p9', name: [{ family: 'New' }] }), 'not json', JSON.stringify(feed[3])].join('\n');
    const response = await fetch(`${url}/$import`, { method: 'POST', headers: { 'content-type': 'application/fhir+ndjson' }, body });
    expect(response.status).toBe(200);
    const outcome = (await response.json()) as { resourceType: string; issue: Array<{ severity: string; diagnostics: string }> };
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]?.diagnostics).toBe('Imported 2 resources: 1 created, 0 updated, 1 unchanged; 1 line failed');
    expect(outcome.issue[1]).toMatchObject({ severity: 'error' });
    expect(outcome.issue[1]?.diagnostics).toMatch(/^Line 2: Not valid JSON/);
    const json = await fetch(`${url}/$import`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(feed[3]) });
    expect(json.status).toBe(415);
    await store.delete('Patient', 'p9');
  });
});

// ---------------------------------------------------------------------------------------------

async function kickOff(path: string, headers: Record<string, string> = { prefer: 'respond-async' }): Promise<Response> {
  return fetch(`${url}${path}`, { headers: { accept: 'application/fhir+json', ...headers } });
}

async function exportOf(path: string): Promise<{ manifest: ExportManifest; files: Map<string, Resource[]>; statusUrl: string }> {
  const started = await kickOff(path);
  expect(started.status).toBe(202);
  const statusUrl = started.headers.get('content-location') as string;
  expect(statusUrl).toMatch(/\/fhir\/\$bulk-status\/[0-9a-f-]{36}$/);
  let response: Response;
  for (let i = 0; ; i++) {
    response = await fetch(statusUrl);
    if (response.status !== 202) break;
    expect(response.headers.get('x-progress')).toBeTruthy();
    if (i > 300) throw new Error('the export did not finish');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const manifest = (await response.json()) as ExportManifest;
  const files = new Map<string, Resource[]>();
  for (const output of manifest.output) {
    const file = await fetch(output.url);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toMatch(/^application\/fhir\+ndjson/);
    const text = await file.text();
    expect(text.endsWith('\n')).toBe(true);
    const resources = text.trimEnd().split('\n').map((line) => JSON.parse(line) as Resource);
    expect(resources.length).toBe(output.count);
    expect(resources.every((r) => r.resourceType === output.type)).toBe(true);
    files.set(output.type, [...(files.get(output.type) ?? []), ...resources]);
  }
  return { manifest, files, statusUrl };
}

const ids = (files: Map<string, Resource[]>): string[] => [...files.values()].flat().map((r) => `${r.resourceType}/${r.id}`).sort();

describe(`Bulk Data $export (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  it('needs Prefer: respond-async, and refuses formats and parameters it does not support', async () => {
    expect((await kickOff('/$export', {})).status).toBe(400);
    expect((await kickOff('/$export?_outputFormat=text/csv')).status).toBe(400);
    expect((await kickOff('/$export?_typeFilter=Patient%3Fname%3Dx')).status).toBe(400);
    expect((await kickOff('/$export?_type=Spaceship')).status).toBe(400);
    expect((await kickOff('/Group/nope/$export')).status).toBe(404);
  });

  it('exports every current resource at system level, split into files of at most fileLimit, with a manifest as the IG shapes it', async () => {
    const before = Date.now();
    const { manifest, files } = await exportOf('/$export?_outputFormat=application%2Ffhir%2Bndjson');
    expect(manifest.request).toBe(`${url}/$export?_outputFormat=application%2Ffhir%2Bndjson`);
    expect(manifest.requiresAccessToken).toBe(false);
    expect(manifest.error).toEqual([]);
    expect(Date.parse(manifest.transactionTime)).toBeGreaterThanOrEqual(before - 1000);
    const observations = manifest.output.filter((o) => o.type === 'Observation');
    expect(observations.map((o) => o.count)).toEqual([3, 3]);
    expect(ids(files)).toContain('Observation/o-nobody');
    expect(ids(files)).toContain('Organization/org-unused');
    expect(ids(files)).not.toContain('Observation/moving'); // deleted
    expect(files.get('Patient')?.map((p) => p.id).sort()).toEqual(['p1', 'p2']);
    const o1 = files.get('Observation')?.find((o) => o.id === 'o1');
    expect(o1?.meta?.versionId).toBe('2');
  });

  it('exports only the _type types, and only what changed since _since', async () => {
    const { files } = await exportOf('/$export?_type=Patient,Condition');
    expect(ids(files)).toEqual(['Condition/c1', 'Patient/p1', 'Patient/p2']);
    const since = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.update('Condition', 'c1', { ...(feed[6] as Resource), clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] } } as Resource);
    const changed = await exportOf(`/$export?_since=${encodeURIComponent(since)}`);
    expect(ids(changed.files)).toEqual(['Condition/c1']);
  });

  it('exports at patient level the compartment resources of every patient and the shared resources they point at', async () => {
    const { files } = await exportOf('/Patient/$export');
    const all = ids(files);
    expect(all).toEqual(expect.arrayContaining(['Patient/p1', 'Patient/p2', 'Encounter/e1', 'Observation/o1', 'Observation/o3', 'MedicationRequest/mr1', 'Group/g1', 'Practitioner/dr1', 'Organization/org1']));
    expect(all).not.toContain('Observation/o-nobody');
    expect(all).not.toContain('Organization/org-unused');
  });

  it("exports for a Group only its active members' data", async () => {
    const { manifest, files } = await exportOf('/Group/g1/$export');
    expect(manifest.request).toBe(`${url}/Group/g1/$export`);
    const all = ids(files);
    expect(all).toEqual(expect.arrayContaining(['Patient/p1', 'Encounter/e1', 'Condition/c1', 'Observation/o1', 'Observation/o2', 'Practitioner/dr1', 'Organization/org1', 'Group/g1']));
    expect(all.filter((r) => r.includes('p2') || r === 'Observation/o3' || r === 'MedicationRequest/mr1' || r === 'Observation/twice')).toEqual([]);
    expect(new Set(all).size).toBe(all.length);
    const typed = await exportOf('/Group/g1/$export?_type=Observation');
    expect(ids(typed.files)).toEqual(['Observation/o1', 'Observation/o2']);
  });

  it('cancels on DELETE: the status and the files are gone', async () => {
    const { manifest, statusUrl } = await exportOf('/$export?_type=Patient');
    const deleted = await fetch(statusUrl, { method: 'DELETE' });
    expect(deleted.status).toBe(202);
    expect((await fetch(statusUrl)).status).toBe(404);
    expect((await fetch(manifest.output[0]?.url as string)).status).toBe(404);
    expect((await fetch(statusUrl, { method: 'DELETE' })).status).toBe(404);
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*) AS n FROM fhir_bulk_file_part WHERE job_id = $1', [statusUrl.split('/').pop()]);
    expect(rows[0]?.n).toBe(0);
  });

  it('starts again a job whose process died, when it is next polled', async () => {
    const id = '00000000-0000-4000-8000-000000000001';
    const parameters = { level: 'system', types: ['Practitioner'], base: url };
    await t.db.query(
      `INSERT INTO fhir_bulk_job (id, kind, request_url, status, progress, created_at, heartbeat_at, parameters)
       VALUES ($1, 'export', $2, 'in-progress', 'half way', now(), now() - interval '1 hour', $3)`,
      [id, `${url}/$export?_type=Practitioner`, JSON.stringify(parameters)],
    );
    let status = 202;
    let body: unknown;
    for (let i = 0; i < 100 && status === 202; i++) {
      const response = await fetch(`${url}/$bulk-status/${id}`);
      status = response.status;
      body = await response.json();
      if (status === 202) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe(200);
    expect((body as ExportManifest).output).toEqual([{ type: 'Practitioner', url: `${url}/$bulk-file/${id}/1`, count: 1 }]);
  });
});
