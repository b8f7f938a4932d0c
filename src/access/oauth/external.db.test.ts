/**
 * External sign-in end to end over real HTTP: a second oidc-provider in this process plays an
 * NHS CIS2-shaped staff provider and an NHS login-shaped citizen provider (its own sign-in
 * pages), and OpenICS signs people in through it with openid-client.
 */
import http from 'node:http';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { type OAuthTestApp, startOAuthApp, TestBrowser } from '../../../test/support/oauth.js';
import { FhirStore } from '../../fhir/store.js';
import { loadDemoIcs } from '../../structure/commands.js';
import { findSession } from '../identity/sessions.js';
import { findUserByExternalSubject } from '../identity/users.js';
import type { ExternalProviderConfig } from './config.js';
import { externalUserId, rolesFromClaims } from './external.js';

/** What the test provider knows about each person who signs in there (by the login they type). */
const PEOPLE: Record<string, Record<string, unknown>> = {
  'dr-cis2': {
    name: 'Dr Kemi Adeyemi',
    nhsid_nrbac_roles: [
      { person_roleid: '555021935107', org_code: 'RWP', role_code: 'S8000:G8000:R8000', role_name: '"Clinical":"Clinical Provision":"Clinical Practitioner Access Role"' },
      { person_roleid: '555021935108', org_code: 'RLQ', role_code: 'S8000:G8000:R8001', role_name: '"Clinical":"Clinical Provision":"Nurse Access Role"' },
      { person_roleid: '555021935109', org_code: 'RLQ', role_code: 'S8000:G8000:R9999', role_name: 'Something OpenICS does not map' },
    ],
  },
  'clerk-cis2': { name: 'A Clerk', nhsid_nrbac_roles: [{ org_code: 'RWP', role_code: 'S8000:G8000:R8010' }] },
  'citizen-p9': { given_name: 'Ann', family_name: 'Example', nhs_number: '9434765919', identity_proofing_level: 'P9' },
  'citizen-p5': { given_name: 'Pat', family_name: 'Lowlevel', nhs_number: '9434765870', identity_proofing_level: 'P5' },
};

let database: TestDatabase;
let server: OAuthTestApp;
let idp: http.Server;
let idpUrl: string;
let patientId: string;

function providerConfig(audience: 'staff' | 'citizen'): ExternalProviderConfig {
  return {
    audience,
    id: audience,
    label: audience === 'staff' ? 'Sign in with NHS CIS2 (test)' : 'Continue to NHS login (test)',
    issuer: idpUrl,
    clientId: `openics-${audience}`,
    clientSecret: `secret-${audience}-0123456789abcdef`,
    scope: audience === 'staff' ? 'openid profile nationalrbacaccess' : 'openid profile nhs_number',
    roleMap: {},
    claims: { roles: 'nhsid_nrbac_roles', nhsNumber: 'nhs_number', proofingLevel: 'identity_proofing_level', name: 'name' },
  };
}

beforeAll(async () => {
  database = await openTestDatabase();
  await loadDemoIcs(database.db, 'test');
  patientId = (await new FhirStore(database.db).create({ resourceType: 'Patient', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' }], name: [{ family: 'Example' }] })).id;

  // The identity provider's address must be known before OpenICS is configured with it, and
  // OpenICS's before the provider registers it as a client: listen first, answer later.
  let handler: http.RequestListener = (_request, response) => response.writeHead(503).end();
  idp = http.createServer((request, response) => handler(request, response));
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  const address = idp.address();
  idpUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  server = await startOAuthApp(database.db, { config: { publicUrl: undefined, signingKey: undefined, external: [providerConfig('staff'), providerConfig('citizen')] } });
  const provider = new Provider(idpUrl, {
    clients: (['staff', 'citizen'] as const).map((audience) => ({
      client_id: `openics-${audience}`,
      client_secret: `secret-${audience}-0123456789abcdef`,
      redirect_uris: [`${server.url}/sign-in/external/${audience}/callback`],
      token_endpoint_auth_method: 'client_secret_post',
    })),
    claims: { openid: ['sub'], profile: ['name', 'given_name', 'family_name'], nationalrbacaccess: ['nhsid_nrbac_roles'], nhs_number: ['nhs_number', 'identity_proofing_level'] },
    async findAccount(_ctx, sub) {
      const person = PEOPLE[sub];
      return person ? { accountId: sub, claims: async () => ({ sub, ...person }) } : undefined;
    },
    features: { devInteractions: { enabled: true }, userinfo: { enabled: true } },
    pkce: { required: () => true },
  });
  const callback = provider.callback();
  handler = (request, response) => void callback(request, response);
});

afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => idp?.close(resolve));
  await database?.close();
});

/** Clicks the provider's button on OpenICS's sign-in page and signs in at the provider as `login`. */
async function signInThrough(browser: TestBrowser, audience: 'staff' | 'citizen', login: string): Promise<{ status: number; location: string | undefined; text: string }> {
  const signInPage = await browser.request('GET', `${server.url}/sign-in`);
  expect(signInPage.text).toContain(providerConfig(audience).label);
  let response = await browser.request('GET', `${server.url}/sign-in/external/${audience}?return=/ics`);
  expect(response.status).toBe(303);
  expect(response.location?.startsWith(`${idpUrl}/auth?`)).toBe(true);
  // The provider's own pages: sign in, then allow.
  response = await browser.follow('GET', response.location ?? '', idpUrl);
  for (let step = 0; step < 3 && response.status === 200; step++) {
    const action = /<form[^>]*action="([^"]+)"/.exec(response.text)?.[1] ?? '';
    const prompt = /name="prompt" value="([^"]+)"/.exec(response.text)?.[1] ?? '';
    response = await browser.follow('POST', new URL(action, idpUrl).href, idpUrl, prompt === 'login' ? { prompt, login, password: 'anything' } : { prompt });
  }
  expect(response.location?.startsWith(`${server.url}/sign-in/external/${audience}/callback?`)).toBe(true);
  return browser.request('GET', response.location ?? '');
}

function sessionToken(browser: TestBrowser): string | undefined {
  return (browser as unknown as { jar: Map<string, Map<string, string>> }).jar.get(server.url)?.get('openics_session');
}

describe('rolesFromClaims', () => {
  it('maps national RBAC role codes to OpenICS roles at each organisation, ignoring unknown codes', () => {
    expect(rolesFromClaims(PEOPLE['dr-cis2']?.nhsid_nrbac_roles, {})).toEqual([
      { role: 'doctor', organisation: 'RWP', nationalCode: 'R8000' },
      { role: 'nurse', organisation: 'RLQ', nationalCode: 'R8001' },
    ]);
    expect(rolesFromClaims([{ org_code: 'E06000019', role_code: 'S0:G0:R9999' }], { R9999: 'social_worker' })).toEqual([{ role: 'social_worker', organisation: 'E06000019', nationalCode: 'R9999' }]);
    expect(rolesFromClaims('not a list', {})).toEqual([]);
    expect(rolesFromClaims([{ org_code: 'bad code!', role_code: 'R8000' }], {})).toEqual([]);
  });
});

describe('external sign-in', () => {
  it('signs a CIS2 user in with the roles their claims give, and follows role changes', async () => {
    const browser = new TestBrowser();
    const done = await signInThrough(browser, 'staff', 'dr-cis2');
    expect(done.status).toBe(303);
    // Two roles: OpenICS asks which one to act in, then goes where the user was going.
    expect(done.location).toBe(`${server.url}/sign-in/role?return=%2Fics`);
    const user = await findUserByExternalSubject(database.db, idpUrl, 'dr-cis2');
    expect(user).toMatchObject({ id: externalUserId(idpUrl, 'dr-cis2'), kind: 'staff', displayName: 'Dr Kemi Adeyemi' });
    expect(user?.roles.map((r) => `${r.role}@${r.organisation}`).sort()).toEqual(['doctor@RWP', 'nurse@RLQ']);
    const token = sessionToken(browser);
    expect(token && (await findSession(database.db, token))?.user.id).toBe(user?.id);

    // The provider takes a role away: the next sign-in follows it.
    const roles = PEOPLE['dr-cis2']?.nhsid_nrbac_roles as unknown[];
    const saved = [...roles];
    roles.splice(1, 1);
    try {
      const again = await signInThrough(new TestBrowser(), 'staff', 'dr-cis2');
      expect(again.location).toBe(`${server.url}/ics`);
      expect((await findUserByExternalSubject(database.db, idpUrl, 'dr-cis2'))?.roles.map((r) => r.role)).toEqual(['doctor']);
    } finally {
      roles.splice(0, roles.length, ...saved);
    }
  });

  it('refuses a CIS2 user whose roles OpenICS does not recognise', async () => {
    const browser = new TestBrowser();
    const done = await signInThrough(browser, 'staff', 'clerk-cis2');
    expect(done.status).toBe(403);
    expect(done.text).toContain('None of your roles');
    expect(sessionToken(browser)).toBeUndefined();
  });

  it('gives an NHS login P9 citizen their own record', async () => {
    const browser = new TestBrowser();
    const done = await signInThrough(browser, 'citizen', 'citizen-p9');
    expect(done.status).toBe(303);
    const session = await findSession(database.db, sessionToken(browser) ?? '');
    expect(session?.user).toMatchObject({ kind: 'citizen', nhsNumber: '9434765919', displayName: 'Ann Example' });
    expect(session?.ownPatients).toEqual([patientId]);
  });

  it('signs an NHS login P5 citizen in without their record', async () => {
    const browser = new TestBrowser();
    const done = await signInThrough(browser, 'citizen', 'citizen-p5');
    expect(done.status).toBe(303);
    const session = await findSession(database.db, sessionToken(browser) ?? '');
    expect(session?.user).toMatchObject({ kind: 'citizen', nhsNumber: '9434765870' });
    expect(session?.ownPatients).toEqual([]);
  });

  it('refuses a callback that this browser did not start', async () => {
    const response = await new TestBrowser().request('GET', `${server.url}/sign-in/external/staff/callback?code=forged&state=forged`);
    expect(response.status).toBe(400);
    expect(response.text).toContain('This sign-in has expired');
  });
});
