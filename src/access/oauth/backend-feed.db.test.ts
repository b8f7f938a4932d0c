/**
 * A partner organisation's system sends its feed with its own token, as issue 5's "done when"
 * asks: the real platform (app.ts), the demo's backend client for Wye Valley NHS Trust (RLQ)
 * with its published demo key, SMART Backend Services (client credentials, private_key_jwt),
 * a transaction Bundle to /fhir, and then what each party may see of it and what the audit
 * trail says. Both engines.
 */
import fs from 'node:fs';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import { verifyAuditChain } from '../audit/trail.js';
import { requestBackendToken } from './backend-token.js';
import { demoKeyFile, loadOAuthDemo } from './demo.js';

const ENGINE = process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

let app: TestApp;

async function tokenFor(clientId: string, scope = 'system/*.cruds'): Promise<string> {
  const privateKey = JSON.parse(fs.readFileSync(demoKeyFile(clientId), 'utf8')) as JWK;
  const response = await requestBackendToken({ tokenUrl: `${app.url}/oauth/token`, clientId, privateKey, scope });
  return response.access_token;
}

async function fhir(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${app.url}/fhir${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json', ...(body ? { 'content-type': 'application/fhir+json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** RLQ's PAS feed for one patient: the Patient (managed by RLQ) and an outpatient Encounter at RLQ. */
const FEED = {
  resourceType: 'Bundle',
  type: 'transaction',
  entry: [
    {
      fullUrl: 'urn:uuid:6f1c2a8e-0000-4000-8000-000000000001',
      resource: {
        resourceType: 'Patient',
        meta: { source: 'urn:openics:source:RLQ:pas' },
        identifier: [
          { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990224544' },
          { system: 'https://fhir.openics.example/Id/RLQ/hospital-number', value: 'H1234567' },
        ],
        name: [{ family: 'Morgan', given: ['Linda'] }],
        birthDate: '1952-07-14',
        managingOrganization: { reference: 'Organization/RLQ', identifier: { system: ODS, value: 'RLQ' } },
      },
      request: { method: 'POST', url: 'Patient' },
    },
    {
      fullUrl: 'urn:uuid:6f1c2a8e-0000-4000-8000-000000000002',
      resource: {
        resourceType: 'Encounter',
        meta: { source: 'urn:openics:source:RLQ:pas' },
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: 'urn:uuid:6f1c2a8e-0000-4000-8000-000000000001' },
        period: { start: '2026-10-01T09:00:00Z', end: '2026-10-01T09:30:00Z' },
        serviceProvider: { reference: 'Organization/RLQ', identifier: { system: ODS, value: 'RLQ' } },
      },
      request: { method: 'POST', url: 'Encounter' },
    },
  ],
};

beforeAll(async () => {
  app = await startTestApp({ demo: 'structure' });
  await loadOAuthDemo(app.database.db, { appOrigin: app.url });
}, 120_000);
afterAll(async () => app?.close());

describe(`a backend client ingests its feed with its own token (${ENGINE})`, () => {
  it('writes the feed, reads back what its organisation holds, and no other organisation sees it', async () => {
    const rlq = await tokenFor('openics-demo-rlq');
    expect((await fhir('POST', '', 'not-a-token', FEED)).status).toBe(401);

    const written = await fhir('POST', '', rlq, FEED);
    expect(written.status, JSON.stringify(written.body).slice(0, 300)).toBe(200);
    const locations = (written.body.entry as Array<{ response: { status: string; location: string } }>).map((e) => e.response);
    expect(locations.map((l) => l.status.slice(0, 3))).toEqual(['201', '201']);
    const patientId = /Patient\/([^/]+)/.exec(locations[0]?.location ?? '')?.[1] ?? '';
    const encounterId = /Encounter\/([^/]+)/.exec(locations[1]?.location ?? '')?.[1] ?? '';

    // RLQ reads what it sent: the encounter refers to the Patient it made.
    const encounter = await fhir('GET', `/Encounter/${encounterId}`, rlq);
    expect(encounter.status).toBe(200);
    expect(encounter.body.subject).toEqual({ reference: `Patient/${patientId}` });

    // Worcestershire Acute Hospitals' system has no relationship with this patient: as if absent.
    const rwp = await tokenFor('openics-demo-rwp');
    expect((await fhir('GET', `/Patient/${patientId}`, rwp)).status).toBe(404);
    const search = await fhir('GET', '/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990224544&_total=accurate', rwp);
    expect(search.body.total).toBe(0);

    // A read-only token may not write.
    const readOnly = await tokenFor('openics-demo-rlq', 'system/*.rs');
    expect((await fhir('POST', '/Patient', readOnly, FEED.entry[0]?.resource)).status).toBe(403);

    // Every one of those accesses is in the audit trail under the client, and the chain holds.
    const { rows } = await app.database.db.query<{ action: string; outcome: string; agent: string }>(
      `SELECT action, outcome, agent FROM access_audit_event WHERE agent IN ('openics-demo-rlq', 'openics-demo-rwp') ORDER BY sequence`,
    );
    expect(rows.filter((r) => r.agent === 'openics-demo-rlq' && r.outcome === 'success').length).toBeGreaterThanOrEqual(2);
    expect(rows.some((r) => r.agent === 'openics-demo-rwp' && r.outcome === 'refused')).toBe(true);
    expect(rows.some((r) => r.agent === 'openics-demo-rlq' && r.outcome === 'refused')).toBe(true);
    const chain = await verifyAuditChain(app.database.db);
    expect(chain.ok).toBe(true);
  });
});
