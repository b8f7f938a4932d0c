/**
 * The authorisation matrix: every role (one demo user each, plus nobody) against every kind of
 * endpoint of the real platform (app.ts as `npm start` builds it), over HTTP. The expected cells
 * are the rules of rules.ts and docs/access.md, written out as a table; a route that slipped out
 * of its rule, or a rule that changed, shows as the cell that differs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessWriteHook } from '../policy/write-hook.js';
import { FhirStore } from '../../fhir/store.js';
import { loadFhirDefinitions } from '../../fhir/definitions.js';
import { signIn, type SignedIn } from '../../../test/support/access.js';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import type { RoleCode } from '../context.js';

const ENGINE = process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

/** One demo user per role (src/access/identity/demo.ts); `nobody` is not signed in. */
const USERS: Record<RoleCode | 'nobody', string | undefined> = {
  doctor: 'chidi.okafor', // RWP, no relationship with the test patient
  nurse: 'priya.patel', // M81001, the test patient's practice
  allied_health_professional: 'tom.fletcher',
  social_worker: 'claire.brown',
  care_coordinator: 'yasmin.ahmed',
  administrator: 'gareth.wilson',
  analyst: 'li.chen',
  leader: 'rebecca.harris',
  board_member: 'jane.morris',
  privacy_officer: 'imran.khan',
  citizen: 'keith.clarke', // the test patient himself
  nobody: undefined,
};
type Who = keyof typeof USERS;
const STAFF: Who[] = ['doctor', 'nurse', 'allied_health_professional', 'social_worker', 'care_coordinator', 'administrator', 'analyst', 'leader', 'board_member', 'privacy_officer'];

interface Endpoint {
  name: string;
  method: 'GET' | 'POST';
  path: string | (() => string);
  body?: unknown;
  /** Who passes; everyone else is refused (401 for nobody, 403 otherwise; 404 where FHIR hides a row). */
  allowed: readonly Who[];
}

let patientId = '';
const ENDPOINTS: Endpoint[] = [
  { name: 'public page', method: 'GET', path: '/', allowed: [...STAFF, 'citizen', 'nobody'] },
  { name: 'public API (OpenAPI)', method: 'GET', path: '/api/openapi.json', allowed: [...STAFF, 'citizen', 'nobody'] },
  { name: 'staff page', method: 'GET', path: '/ics/QGH', allowed: STAFF },
  { name: 'API read', method: 'GET', path: '/api/ics/QGH', allowed: STAFF },
  { name: 'structure write', method: 'POST', path: '/api/ics/QGH/pcns/U99999/clinical-director', body: {}, allowed: ['administrator', 'leader'] },
  { name: 'governance write', method: 'POST', path: '/api/ics/QGH/governance/meetings', body: {}, allowed: ['administrator', 'leader', 'board_member'] },
  { name: 'finance write', method: 'POST', path: '/api/ics/QGH/finance/allocations', body: {}, allowed: ['analyst', 'leader', 'administrator'] },
  { name: 'analytics counts', method: 'GET', path: '/api/analytics/counts?resourceType=Patient&by=sex', allowed: ['analyst', 'leader', 'board_member'] },
  { name: 'audit trail API', method: 'GET', path: '/api/access/audit', allowed: ['privacy_officer'] },
  { name: 'privacy officer’s page', method: 'GET', path: '/access/privacy', allowed: ['privacy_officer'] },
  { name: 'citizen’s access log', method: 'GET', path: '/my/record/access-log', allowed: ['citizen'] },
  { name: 'FHIR read of a resident', method: 'GET', path: () => `/fhir/Patient/${patientId}`, allowed: ['nurse', 'citizen'] },
  { name: 'FHIR $everything of a resident', method: 'GET', path: () => `/fhir/Patient/${patientId}/$everything`, allowed: ['nurse', 'citizen'] },
];

let app: TestApp;
const sessions = new Map<Who, SignedIn>();

beforeAll(async () => {
  loadFhirDefinitions();
  app = await startTestApp({ demo: 'structure' });
  // A resident registered at M81001 (Priya Patel's practice), whose NHS number is Keith Clarke's.
  const store = new FhirStore(app.database.db, { onWrite: accessWriteHook });
  const resource = await store.create({
    resourceType: 'Patient',
    meta: { source: 'urn:openics:source:M81001:emis' },
    identifier: [{ system: NHS, value: '9995354209' }],
    name: [{ family: 'Clarke', given: ['Keith'] }],
    birthDate: '1950-03-02',
    generalPractitioner: [{ reference: 'Organization/M81001', identifier: { system: ODS, value: 'M81001' } }],
  } as never);
  patientId = resource.id ?? '';
  for (const [who, username] of Object.entries(USERS) as Array<[Who, string | undefined]>) {
    if (username) sessions.set(who, await signIn(app, username));
  }
}, 120_000);

afterAll(async () => app?.close());

describe(`the role matrix on the whole platform (${ENGINE})`, () => {
  it.each(ENDPOINTS.map((e) => [e.name, e] as const))('%s', async (_name, endpoint) => {
    const path = typeof endpoint.path === 'function' ? endpoint.path() : endpoint.path;
    const cells: string[] = [];
    for (const who of Object.keys(USERS) as Who[]) {
      const headers: Record<string, string> = { ...(sessions.get(who)?.headers ?? {}), accept: 'application/json' };
      if (endpoint.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${app.url}${path}`, { method: endpoint.method, headers, redirect: 'manual', ...(endpoint.body !== undefined ? { body: JSON.stringify(endpoint.body) } : {}) });
      const text = await response.text();
      const status = response.status;
      expect(status, `${who} on ${endpoint.name}: ${text.slice(0, 200)}`).toBeLessThan(500);
      const refused = status === 401 || status === 403 || (status === 303 && (response.headers.get('location') ?? '').startsWith('/sign-in')) || (path.startsWith('/fhir/') && status === 404);
      const expected = endpoint.allowed.includes(who);
      if (refused === expected) cells.push(`${who}: ${expected ? 'should pass' : 'should be refused'} but got ${status}`);
      // Nobody signed in is asked to sign in, never told more.
      if (who === 'nobody' && !expected) expect([401, 303]).toContain(status);
      // A refused look at a resident's record says nothing of them.
      if (refused && path.startsWith('/fhir/')) expect(text).not.toContain('9995354209');
    }
    expect(cells).toEqual([]);
  });
});
