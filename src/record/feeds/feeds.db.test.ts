/**
 * Partner feeds on the real platform (app.ts), both engines: backend clients of two trusts (RLQ,
 * RWP) with their demo keys send transaction Bundles, REST writes and NDJSON; provenance, meta.source,
 * withdrawal, the dead-letter queue and its operator (an ICB administrator), and a feed cut off
 * mid-way then sent again.
 */
import fs from 'node:fs';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import { signIn, type SignedIn } from '../../../test/support/access.js';
import { SYSTEM_ACCESS } from '../../access/context.js';
import { requestBackendToken } from '../../access/oauth/backend-token.js';
import { demoKeyFile, loadOAuthDemo } from '../../access/oauth/demo.js';
import { fhirAccessFor } from '../../access/policy/fhir-policy.js';
import { importNdjson } from '../../fhir/bulk.js';
import { FhirStore } from '../../fhir/store.js';
import { r4Checks } from '../../fhir/store.js';
import { recordWriteHook } from '../write-hook.js';
import { FeedSession, MESSAGE_SYSTEM } from './session.js';

const ENGINE = process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const RLQ_SYSTEM = 'urn:openics:source:RLQ:openics-demo-rlq';

let app: TestApp;
let rlq: string;
let rwp: string;
let operator: SignedIn;
let clinician: SignedIn;

async function tokenFor(clientId: string): Promise<string> {
  const privateKey = JSON.parse(fs.readFileSync(demoKeyFile(clientId), 'utf8')) as JWK;
  return (await requestBackendToken({ tokenUrl: `${app.url}/oauth/token`, clientId, privateKey, scope: 'system/*.cruds' })).access_token;
}

type Json = Record<string, unknown>;
async function call(method: string, path: string, headers: Record<string, string>, body?: unknown, contentType = 'application/fhir+json'): Promise<{ status: number; body: Json; text: string }> {
  const response = await fetch(`${app.url}${path}`, {
    method,
    redirect: 'manual',
    headers: { accept: 'application/fhir+json, application/json, text/html', ...headers, ...(body !== undefined ? { 'content-type': contentType } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let parsed: Json = {};
  try {
    parsed = text ? (JSON.parse(text) as Json) : {};
  } catch {
    parsed = {};
  }
  return { status: response.status, body: parsed, text };
}
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

function patient(id: string, org = 'RLQ'): Json {
  return {
    resourceType: 'Patient',
    id,
    identifier: [{ system: `https://fhir.openics.example/Id/${org}/hospital-number`, value: `H-${id}` }],
    name: [{ family: 'Feedtest', given: ['Alex'] }],
    birthDate: '1960-01-01',
    managingOrganization: { identifier: { system: ODS, value: org } },
  };
}
function encounter(id: string, patientId: string, org = 'RLQ'): Json {
  return {
    resourceType: 'Encounter',
    id,
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: `Patient/${patientId}` },
    period: { start: '2026-10-01T09:00:00Z', end: '2026-10-01T09:30:00Z' },
    serviceProvider: { identifier: { system: ODS, value: org } },
  };
}
function observation(id: string, patientId: string, value: number): Json {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: 'http://snomed.info/sct', code: '27113001', display: 'Body weight' }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: '2026-10-01T09:00:00Z',
    valueQuantity: { value, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    performer: [{ identifier: { system: ODS, value: 'RLQ' } }],
  };
}
function transaction(resources: Json[]): Json {
  return { resourceType: 'Bundle', type: 'transaction', entry: resources.map((r) => ({ resource: r, request: { method: 'PUT', url: `${String(r.resourceType)}/${String(r.id)}` } })) };
}

async function feedProvenances(): Promise<Array<Json & { target: Array<{ reference: string }> }>> {
  const { rows } = await app.database.db.query<{ content: string }>(`SELECT content FROM fhir_patient_resource WHERE resource_type = 'Provenance' AND NOT deleted ORDER BY last_updated, resource_key`);
  return rows.map((r) => JSON.parse(r.content) as Json & { target: Array<{ reference: string }> }).filter((p) => JSON.stringify(p.entity ?? []).includes(MESSAGE_SYSTEM));
}
async function deadLetterCount(): Promise<number> {
  const { rows } = await app.database.db.query<{ n: number | string }>('SELECT count(*) AS n FROM record_feed_dead_letter');
  return Number(rows[0]?.n);
}
async function versionOf(type: string, id: string): Promise<number | undefined> {
  const { rows } = await app.database.db.query<{ version_id: number }>('SELECT version_id FROM fhir_patient_resource WHERE resource_type = $1 AND id = $2', [type, id]);
  return rows[0]?.version_id;
}

beforeAll(async () => {
  app = await startTestApp({ demo: 'structure' });
  await loadOAuthDemo(app.database.db, { appOrigin: app.url });
  rlq = await tokenFor('openics-demo-rlq');
  rwp = await tokenFor('openics-demo-rwp');
  operator = await signIn(app, 'gareth.wilson');
  clinician = await signIn(app, 'chidi.okafor');
}, 180_000);
afterAll(async () => app?.close());

describe(`partner feeds: provenance, withdrawal, dead letters (${ENGINE})`, () => {
  it('writes one Provenance per message, sets meta.source to the sending system, and nothing for a retry', async () => {
    const before = (await feedProvenances()).length;
    const message = transaction([patient('feed-p1'), encounter('feed-e1', 'feed-p1')]);
    const sent = await call('POST', '/fhir', bearer(rlq), message);
    expect(sent.status, sent.text.slice(0, 300)).toBe(200);
    const provenances = await feedProvenances();
    expect(provenances.length).toBe(before + 1);
    const provenance = provenances.at(-1) as Json & { target: Array<{ reference: string }> };
    expect(provenance.target.map((t) => t.reference).sort()).toEqual(['Encounter/feed-e1/_history/1', 'Patient/feed-p1/_history/1']);
    expect(JSON.stringify(provenance.agent)).toContain('"value":"RLQ"');
    expect(JSON.stringify(provenance.agent)).toContain('openics-demo-rlq');
    expect(r4Checks(provenance).filter((i) => i.severity === 'error')).toEqual([]);
    const read = await call('GET', '/fhir/Encounter/feed-e1', bearer(rlq));
    expect((read.body.meta as Json).source).toBe(RLQ_SYSTEM);

    // The same message again (a retry): no new version, no new Provenance.
    expect((await call('POST', '/fhir', bearer(rlq), message)).status).toBe(200);
    expect((await feedProvenances()).length).toBe(before + 1);
    expect(await versionOf('Encounter', 'feed-e1')).toBe(1);

    // A REST update is a message too: one Provenance, activity UPDATE.
    const changed = { ...encounter('feed-e1', 'feed-p1'), status: 'cancelled' };
    expect((await call('PUT', '/fhir/Encounter/feed-e1', bearer(rlq), changed)).status).toBe(200);
    const after = await feedProvenances();
    expect(after.length).toBe(before + 2);
    expect(JSON.stringify(after.at(-1)?.activity)).toContain('UPDATE');

    // Claiming another organisation's system is refused by the access policy.
    const claiming = { ...encounter('feed-e2', 'feed-p1'), meta: { source: 'urn:openics:source:RWP:pas' } };
    expect((await call('PUT', '/fhir/Encounter/feed-e2', bearer(rlq), claiming)).status).toBe(403);
  });

  it('lets only the holder withdraw a record, with a DELETE Provenance', async () => {
    await call('POST', '/fhir', bearer(rlq), transaction([patient('feed-p2'), encounter('feed-e3', 'feed-p2')]));
    // RWP sees the resident once it treats them too, but may not withdraw RLQ's record.
    const rwpEncounter = await call('PUT', '/fhir/Encounter/feed-rwp-e1', bearer(rwp), { ...encounter('feed-rwp-e1', 'feed-p2', 'RWP') });
    expect(rwpEncounter.status, rwpEncounter.text.slice(0, 300)).toBe(201);
    const refused = await call('DELETE', '/fhir/Encounter/feed-e3', bearer(rwp));
    expect(refused.status).toBe(403);
    expect(refused.body.resourceType).toBe('OperationOutcome');
    expect(await versionOf('Encounter', 'feed-e3')).toBe(1);

    const withdrawn = await call('DELETE', '/fhir/Encounter/feed-e3', bearer(rlq));
    expect(withdrawn.status).toBe(200);
    expect((await call('GET', '/fhir/Encounter/feed-e3', bearer(rlq))).status).toBe(410);
    const last = (await feedProvenances()).at(-1);
    expect(JSON.stringify(last?.activity)).toContain('DELETE');
    expect(last?.target.map((t) => t.reference)).toEqual(['Encounter/feed-e3/_history/2']);
  });

  it('keeps a feed’s refused messages as dead letters, never an interactive user’s', async () => {
    const start = await deadLetterCount();
    expect((await call('POST', '/fhir', bearer(rlq), '{"resourceType": "Bundle", ')).status).toBe(400);
    const invalid = await call('PUT', '/fhir/Patient/feed-p3', bearer(rlq), { ...patient('feed-p3'), gender: 'sometimes' });
    expect(invalid.status).toBeGreaterThanOrEqual(400);
    const ndjson = [JSON.stringify(observation('feed-o1', 'feed-p1', 70)), '{not json', JSON.stringify(observation('feed-o2', 'feed-p1', 71))].join('\n');
    const imported = await call('POST', '/fhir/$import', bearer(rlq), ndjson, 'application/fhir+ndjson');
    expect(imported.status).toBe(200);
    expect(await deadLetterCount()).toBe(start + 3);
    const { rows } = await app.database.db.query<{ client_id: string; organisation: string; endpoint: string; body: string; status: number; state: string }>(
      'SELECT client_id, organisation, endpoint, body, status, state FROM record_feed_dead_letter ORDER BY id DESC LIMIT 3',
    );
    expect(rows.every((r) => r.client_id === 'openics-demo-rlq' && r.organisation === 'RLQ' && r.state === 'open')).toBe(true);
    expect(rows[0]?.endpoint).toBe('/fhir/$import');
    expect(rows[0]?.body).toBe('{not json');
    expect(rows[2]?.body).toBe('{"resourceType": "Bundle", ');

    // A signed-in person's bad request is answered the same way and not kept.
    const mine = await call('POST', '/fhir', clinician.headers, '{"resourceType": ');
    expect(mine.status).toBe(400);
    expect(await deadLetterCount()).toBe(start + 3);
  });

  it('lets an ICB administrator list, correct, replay (once) and discard dead letters, and nobody else', async () => {
    // A transaction that fails: the Observation's value is not a number.
    const bad = transaction([patient('feed-p4'), { ...observation('feed-o4', 'feed-p4', 80), valueQuantity: { value: 'eighty', unit: 'kg' } }]);
    const refused = await call('POST', '/fhir', bearer(rlq), bad);
    expect(refused.status).toBe(400);
    expect(await versionOf('Patient', 'feed-p4')).toBeUndefined();

    expect((await call('GET', '/api/record/feeds/dead-letters', clinician.headers)).status).toBe(403);
    expect((await call('GET', '/api/record/feeds/dead-letters', bearer(rlq))).status).toBe(403);
    expect((await call('GET', '/record/feeds/dead-letters', clinician.headers)).status).toBe(403);
    const list = await call('GET', '/api/record/feeds/dead-letters', operator.headers);
    expect(list.status).toBe(200);
    const letters = list.body.deadLetters as Array<{ id: string; request: { endpoint: string }; state: string }>;
    const letter = letters[0] as { id: string };
    expect(letters[0]?.request.endpoint).toBe('/fhir');
    const page = await call('GET', '/record/feeds/dead-letters', operator.headers);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`/record/feeds/dead-letters/${letter.id}`);
    const detail = await call('GET', `/record/feeds/dead-letters/${letter.id}`, operator.headers);
    expect(detail.status).toBe(200);
    expect(detail.text).toContain('Replay the message');

    // The look is in the audit trail, naming the resident in the message.
    const audit = await app.database.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM access_audit_event WHERE action = 'feed-dead-letter-read' AND agent = $1`, ['demo-gareth-wilson']);
    expect(Number(audit.rows[0]?.n)).toBeGreaterThanOrEqual(1);

    // A correction that is still invalid is refused; a valid one is saved, then replayed.
    const stillBad = await call('PUT', `/api/record/feeds/dead-letters/${letter.id}/body`, operator.headers, { body: JSON.stringify(bad) }, 'application/json');
    expect(stillBad.status).toBe(422);
    const fixed = transaction([patient('feed-p4'), observation('feed-o4', 'feed-p4', 80)]);
    expect((await call('PUT', `/api/record/feeds/dead-letters/${letter.id}/body`, operator.headers, { body: JSON.stringify(fixed) }, 'application/json')).status).toBe(200);
    const before = (await feedProvenances()).length;
    const replayed = await call('POST', `/api/record/feeds/dead-letters/${letter.id}/replay`, operator.headers, {}, 'application/json');
    expect(replayed.status, replayed.text.slice(0, 400)).toBe(200);
    expect((await call('GET', '/fhir/Observation/feed-o4', bearer(rlq))).status).toBe(200);
    const provenance = (await feedProvenances()).slice(before);
    expect(provenance.length).toBe(1);
    expect(JSON.stringify(provenance[0]?.entity)).toContain(`replay of dead letter ${letter.id}`);
    expect(JSON.stringify(provenance[0]?.agent)).toContain('openics-demo-rlq');
    const state = await call('GET', `/api/record/feeds/dead-letters/${letter.id}`, operator.headers);
    expect(state.body.state).toBe('replayed');
    expect((await call('POST', `/api/record/feeds/dead-letters/${letter.id}/replay`, operator.headers, {}, 'application/json')).status).toBe(409);

    // Discarding needs a reason, through the page's form.
    const open = ((await call('GET', '/api/record/feeds/dead-letters?state=open', operator.headers)).body.deadLetters as Array<{ id: string }>)[0] as { id: string };
    const form = (fields: Record<string, string>): string => new URLSearchParams({ _csrf: operator.csrf, ...fields }).toString();
    const noReason = await call('POST', `/record/feeds/dead-letters/${open.id}/discard`, operator.headers, form({ reason: '' }), 'application/x-www-form-urlencoded');
    expect(noReason.status).toBe(422);
    expect(noReason.text).toContain('Enter why the message is discarded');
    const discarded = await call('POST', `/record/feeds/dead-letters/${open.id}/discard`, operator.headers, form({ reason: 'Sent again corrected by the trust' }), 'application/x-www-form-urlencoded');
    expect(discarded.status).toBe(303);
    const closed = await call('GET', `/api/record/feeds/dead-letters/${open.id}`, operator.headers);
    expect([closed.body.state, closed.body.reason]).toEqual(['discarded', 'Sent again corrected by the trust']);
    expect((await call('POST', `/api/record/feeds/dead-letters/${open.id}/replay`, operator.headers, {}, 'application/json')).status).toBe(409);
  });
});

describe(`a feed interrupted mid-way, then sent again (${ENGINE})`, () => {
  it('a transaction that fails at entry 600 writes nothing; sent again whole, it lands once', async () => {
    await call('POST', '/fhir', bearer(rlq), transaction([patient('feed-p5')]));
    const observations = Array.from({ length: 700 }, (_, i) => observation(`feed-t-${i}`, 'feed-p5', 60 + (i % 40)));
    const broken = observations.map((o, i) => (i === 600 ? { ...o, status: 'not-a-status' } : o));
    const failed = await call('POST', '/fhir', bearer(rlq), transaction(broken));
    expect(failed.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(failed.body)).toContain('Bundle.entry[600]');
    const written = async (): Promise<number> =>
      Number((await app.database.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM fhir_patient_resource WHERE resource_type = 'Observation' AND id LIKE 'feed-t-%'`)).rows[0]?.n);
    expect(await written()).toBe(0);

    const before = (await feedProvenances()).length;
    for (let attempt = 0; attempt < 2; attempt++) expect((await call('POST', '/fhir', bearer(rlq), transaction(observations))).status).toBe(200);
    expect(await written()).toBe(700);
    const versions = await app.database.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM fhir_patient_history WHERE resource_type = 'Observation' AND id LIKE 'feed-t-%'`);
    expect(Number(versions.rows[0]?.n)).toBe(700);
    expect((await feedProvenances()).length).toBe(before + 1);
  });

  it('an NDJSON feed cut off after some batches, sent again whole, ends as if sent once', async () => {
    const db = app.database.db;
    const lines = Array.from({ length: 1200 }, (_, i) => JSON.stringify(observation(`feed-n-${i}`, 'feed-p5', 50 + (i % 30))));
    const sender = { clientId: 'openics-demo-rlq', display: 'RLQ', organisation: 'RLQ' };
    const storeFor = (session: FeedSession): FhirStore =>
      new FhirStore(db, {
        access: fhirAccessFor(SYSTEM_ACCESS, db),
        onWrite: async (q, written) => {
          await recordWriteHook(q, written);
          await session.written(q, written);
        },
      });
    const request = { method: 'POST', endpoint: '/fhir/$import', contentType: 'application/fhir+ndjson', scopes: 'system/*.cruds' };
    async function* cutAfter(n: number): AsyncGenerator<string> {
      for (const [i, line] of lines.entries()) {
        if (i === n) throw new Error('connection reset');
        yield line;
      }
    }
    const before = (await feedProvenances()).length;
    const first = new FeedSession(db, sender, request);
    await expect(importNdjson(storeFor(first), cutAfter(700), { batchSize: 250, prepare: (r) => first.prepare(r) })).rejects.toThrow('connection reset');
    const landed = Number((await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM fhir_patient_resource WHERE id LIKE 'feed-n-%'`)).rows[0]?.n);
    // Whole batches only: what landed is a multiple of the batch size, and less than was sent.
    expect(landed % 250).toBe(0);
    expect(landed).toBeLessThan(700);

    const again = new FeedSession(db, sender, request);
    const result = await importNdjson(storeFor(again), lines, { batchSize: 250, prepare: (r) => again.prepare(r) });
    // (The batch being written when the source failed may still commit after importNdjson threw: at least what was counted landed.)
    expect(result.failed).toBe(0);
    expect(result.created + result.unchanged).toBe(1200);
    expect(result.unchanged % 250).toBe(0);
    expect(result.unchanged).toBeGreaterThanOrEqual(landed);
    expect(result.unchanged).toBeLessThan(700);
    const history = await db.query<{ n: string | number; v: number }>(`SELECT count(*) AS n, max(version_id) AS v FROM fhir_patient_history WHERE id LIKE 'feed-n-%'`);
    expect(Number(history.rows[0]?.n)).toBe(1200);
    expect(history.rows[0]?.v).toBe(1);
    // Each batch that wrote has one Provenance, and each resource is the target of exactly one.
    const targets = (await feedProvenances()).slice(before).flatMap((p) => p.target.map((t) => t.reference));
    expect(targets.length).toBe(1200);
    expect(new Set(targets).size).toBe(1200);
    const source = await db.query<{ content: string }>(`SELECT content FROM fhir_patient_resource WHERE id = 'feed-n-5'`);
    expect((JSON.parse(source.rows[0]?.content ?? '{}') as { meta: { source: string } }).meta.source).toBe(RLQ_SYSTEM);
  });
});
