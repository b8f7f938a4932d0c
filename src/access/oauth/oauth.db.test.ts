/**
 * The authorisation server over real HTTP on both engines: discovery and SMART configuration,
 * the authorisation code flow with PKCE through the sign-in, consent and patient picker pages,
 * the token response (patient, fhirUser, scope, id_token, refresh token), introspection,
 * refresh and revocation, and SMART Backend Services with private_key_jwt (RS384 and ES384).
 */
import { decodeJwt, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { interactionUid, type OAuthTestApp, pkcePair, startOAuthApp, TestBrowser } from '../../../test/support/oauth.js';
import { FhirStore } from '../../fhir/store.js';
import { loadDemoIcs } from '../../structure/commands.js';
import { createUser } from '../identity/users.js';
import { accessWriteHook } from '../policy/write-hook.js';
import { clientAssertion, requestBackendToken, TokenRequestError } from './backend-token.js';
import { registerClient } from './clients.js';
import { createLaunch } from './launch.js';
import { accessFromBearerToken } from './tokens.js';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'https://app.example.org/callback';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';

let database: TestDatabase;
let server: OAuthTestApp;
let patientId: string;
let otherPatientId: string;
const keys: { rs: JWK; es: JWK } = { rs: {}, es: {} };

beforeAll(async () => {
  database = await openTestDatabase();
  const db = database.db;
  await loadDemoIcs(db, 'test');
  await createUser(db, { id: 'dr-test', username: 'dr.test', displayName: 'Dr Test', kind: 'staff', roles: [{ role: 'doctor', organisation: 'RWP' }], password: PASSWORD });
  await createUser(db, {
    id: 'multi-role',
    username: 'multi.role',
    displayName: 'Nurse Multi',
    kind: 'staff',
    roles: [
      { role: 'nurse', organisation: 'RWP' },
      { role: 'care_coordinator', organisation: 'RLQ' },
    ],
    password: PASSWORD,
  });
  // Ann is a patient of Worcestershire Acute Hospitals (RWP), where the test users work; Bob is not.
  const store = new FhirStore(db, { onWrite: accessWriteHook });
  patientId = (
    await store.create({
      resourceType: 'Patient',
      identifier: [{ system: NHS, value: '9434765919' }],
      name: [{ given: ['Ann'], family: 'Example' }],
      birthDate: '1980-02-03',
      managingOrganization: { reference: 'Organization/RWP', identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RWP' } },
    })
  ).id;
  otherPatientId = (await store.create({ resourceType: 'Patient', identifier: [{ system: NHS, value: '9434765870' }], name: [{ given: ['Bob'], family: 'Other' }] })).id;
  await registerClient(db, {
    clientId: 'demo-app',
    name: 'Demo app',
    kind: 'public_app',
    redirectUris: [REDIRECT],
    launchUri: 'https://app.example.org/launch',
    origins: ['https://app.example.org'],
    scope: 'openid fhirUser launch launch/patient offline_access patient/*.rs user/*.rs',
  });
  const rs = await generateKeyPair('RS384', { extractable: true });
  const es = await generateKeyPair('ES384', { extractable: true });
  keys.rs = { ...(await exportJWK(rs.privateKey)), kid: 'rs-1' };
  keys.es = { ...(await exportJWK(es.privateKey)), kid: 'es-1' };
  await registerClient(db, {
    clientId: 'rwp-feed',
    name: 'RWP PAS feed',
    kind: 'backend_service',
    organisation: 'RWP',
    redirectUris: [],
    origins: [],
    jwks: { keys: [{ ...(await exportJWK(rs.publicKey)), kid: 'rs-1' }, { ...(await exportJWK(es.publicKey)), kid: 'es-1' }] },
    scope: 'system/*.cruds',
  });
  server = await startOAuthApp(db);
});

afterAll(async () => {
  await server?.close();
  await database?.close();
});

interface Authorised {
  code: string;
  verifier: string;
  callback: URL;
}

/** Walks the browser part: authorize → sign in → consent (→ patient) → back at the app with a code. */
async function authorise(browser: TestBrowser, options: { scope: string; username?: string; launch?: string; role?: string; pickNhs?: string; state?: string }): Promise<Authorised> {
  const { verifier, challenge } = pkcePair();
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: 'demo-app',
    redirect_uri: REDIRECT,
    scope: options.scope,
    state: options.state ?? 'xyz',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    aud: `${server.url}/fhir`,
    ...(options.launch ? { launch: options.launch } : {}),
  });
  let page = await browser.follow('GET', `${server.url}/oauth/authorize?${params.toString()}`, server.url);
  expect(page.status).toBe(200);
  expect(page.text).toContain('Sign in to OpenICS');
  page = await browser.follow('POST', `${server.url}/oauth/interaction/${interactionUid(page.text)}/login`, server.url, { username: options.username ?? 'dr.test', password: PASSWORD });
  expect(page.status).toBe(200);
  expect(page.text).toContain('Allow Demo app to use OpenICS');
  const uid = interactionUid(page.text);
  const form: Record<string, string> = { decision: 'allow' };
  if (options.pickNhs) {
    page = await browser.follow('GET', `${server.url}/oauth/interaction/${uid}?nhsNumber=${options.pickNhs}`, server.url);
    const match = /name="patient" type="radio" value="([^"]+)"/.exec(page.text);
    expect(match?.[1]).toBeDefined();
    form.patient = match?.[1] ?? '';
    form.nhsNumber = options.pickNhs;
  }
  if (options.role) form.role = options.role;
  const done = await browser.follow('POST', `${server.url}/oauth/interaction/${uid}/consent`, server.url, form);
  expect(done.status).toBe(303);
  const callback = new URL(done.location ?? '');
  expect(callback.origin + callback.pathname).toBe(REDIRECT);
  return { code: callback.searchParams.get('code') ?? '', verifier, callback };
}

async function postForm(path: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function exchange(authorised: Authorised): Promise<{ status: number; body: Record<string, unknown> }> {
  return postForm('/oauth/token', { grant_type: 'authorization_code', code: authorised.code, redirect_uri: REDIRECT, client_id: 'demo-app', code_verifier: authorised.verifier });
}

describe('discovery', () => {
  it('serves OpenID Connect discovery at the issuer and SMART configuration at the root and the FHIR base', async () => {
    const discovery = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery.issuer).toBe(server.url);
    expect(discovery.token_endpoint).toBe(`${server.url}/oauth/token`);
    expect(discovery.authorization_endpoint).toBe(`${server.url}/oauth/authorize`);
    expect(discovery.code_challenge_methods_supported).toEqual(['S256']);
    for (const path of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration']) {
      const smart = (await (await fetch(`${server.url}${path}`)).json()) as Record<string, unknown>;
      expect(smart.token_endpoint).toBe(discovery.token_endpoint);
      expect(smart.capabilities).toEqual(expect.arrayContaining(['launch-ehr', 'launch-standalone', 'client-public', 'permission-v2', 'context-ehr-patient']));
      expect(smart.token_endpoint_auth_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS384', 'ES384']));
    }
    const jwks = (await (await fetch(`${server.url}/oauth/jwks`)).json()) as { keys: JWK[] };
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', use: 'sig' });
    expect(jwks.keys[0]?.d).toBeUndefined();
  });
});

describe('authorisation code with PKCE', () => {
  it('the patient picker finds only patients the user may see: no name or date of birth of anyone else by NHS number', async () => {
    const browser = new TestBrowser();
    const { challenge } = pkcePair();
    const params = new URLSearchParams({ response_type: 'code', client_id: 'demo-app', redirect_uri: REDIRECT, scope: 'openid launch/patient patient/*.rs', state: 's', code_challenge: challenge, code_challenge_method: 'S256', aud: `${server.url}/fhir` });
    let page = await browser.follow('GET', `${server.url}/oauth/authorize?${params.toString()}`, server.url);
    page = await browser.follow('POST', `${server.url}/oauth/interaction/${interactionUid(page.text)}/login`, server.url, { username: 'dr.test', password: PASSWORD });
    const uid = interactionUid(page.text);
    const ann = await browser.follow('GET', `${server.url}/oauth/interaction/${uid}?nhsNumber=9434765919`, server.url);
    expect(ann.text).toContain('Ann Example');
    const bob = await browser.follow('GET', `${server.url}/oauth/interaction/${uid}?nhsNumber=9434765870`, server.url);
    expect(bob.status).toBe(200);
    expect(bob.text).not.toContain('Bob');
    expect(bob.text).not.toMatch(/name="patient" type="radio"/);
    // Choosing Bob by his id anyway is refused too.
    const chosen = await browser.follow('POST', `${server.url}/oauth/interaction/${uid}/consent`, server.url, { decision: 'allow', patient: otherPatientId, nhsNumber: '9434765870' });
    expect(chosen.status).toBe(422);
  });

  it('standalone launch: sign in, pick the patient, get a token bound to them with an ID token and a refresh token', async () => {
    const browser = new TestBrowser();
    const authorised = await authorise(browser, { scope: 'openid fhirUser launch/patient patient/*.rs offline_access', pickNhs: '9434765919', state: 'standalone-1' });
    expect(authorised.callback.searchParams.get('state')).toBe('standalone-1');
    expect(authorised.callback.searchParams.get('iss')).toBe(server.url);
    const { status, body } = await exchange(authorised);
    expect(status).toBe(200);
    expect(body.patient).toBe(patientId);
    expect(body.fhirUser).toBe(`${server.url}/fhir/Practitioner/dr-test`);
    expect(String(body.scope).split(' ').sort()).toEqual(['fhirUser', 'launch/patient', 'offline_access', 'openid', 'patient/*.rs']);
    expect(body.token_type).toBe('Bearer');
    expect(typeof body.refresh_token).toBe('string');
    const idToken = decodeJwt(String(body.id_token));
    expect(idToken).toMatchObject({ iss: server.url, sub: 'dr-test', aud: 'demo-app', fhirUser: `${server.url}/fhir/Practitioner/dr-test` });

    const access = await accessFromBearerToken(database.db, String(body.access_token));
    expect(access).toMatchObject({ kind: 'user', subject: 'dr-test', role: 'doctor', organisation: 'RWP', patient: patientId, purpose: 'TREAT', clientId: 'demo-app', fhirUser: 'Practitioner/dr-test' });
    expect(access?.scopes).toEqual([{ context: 'patient', type: '*', actions: 'rs' }]);

    const introspection = await postForm('/oauth/introspect', { token: String(body.access_token), client_id: 'demo-app' });
    expect(introspection.body).toMatchObject({ active: true, patient: patientId, client_id: 'demo-app', sub: 'dr-test', aud: `${server.url}/fhir` });

    // A refresh keeps the patient; the old refresh token is rotated.
    const refreshed = await postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: String(body.refresh_token), client_id: 'demo-app' });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.patient).toBe(patientId);
    expect((await accessFromBearerToken(database.db, String(refreshed.body.access_token)))?.patient).toBe(patientId);

    // Revoking the token ends it at once.
    const revoked = await fetch(`${server.url}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: String(refreshed.body.access_token), client_id: 'demo-app' }) });
    expect(revoked.status).toBe(200);
    expect(await accessFromBearerToken(database.db, String(refreshed.body.access_token))).toBeUndefined();
    expect((await postForm('/oauth/introspect', { token: String(refreshed.body.access_token), client_id: 'demo-app' })).body).toEqual({ active: false });
  });

  it('EHR launch: the launch context decides the patient, and a code is used once', async () => {
    const launch = await createLaunch(database.db, { clientId: 'demo-app', userId: 'dr-test', patient: otherPatientId });
    const browser = new TestBrowser();
    const authorised = await authorise(browser, { scope: 'openid fhirUser launch patient/Observation.rs', launch: launch.id });
    const { body } = await exchange(authorised);
    expect(body.patient).toBe(otherPatientId);
    expect(String(body.scope).split(' ').sort()).toEqual(['fhirUser', 'launch', 'openid', 'patient/Observation.rs']);
    expect(body.refresh_token).toBeUndefined();
    const again = await exchange(authorised);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
  });

  it('a user with several roles chooses one, and the token carries it', async () => {
    const browser = new TestBrowser();
    const authorised = await authorise(browser, { scope: 'openid user/*.rs', username: 'multi.role', role: 'care_coordinator@RLQ' });
    const { body } = await exchange(authorised);
    const access = await accessFromBearerToken(database.db, String(body.access_token));
    expect(access).toMatchObject({ subject: 'multi-role', role: 'care_coordinator', organisation: 'RLQ' });
    expect(access?.patient).toBeUndefined();
    expect(access?.scopes).toEqual([{ context: 'user', type: '*', actions: 'rs' }]);
  });

  it('grants only what the client is registered for', async () => {
    const browser = new TestBrowser();
    const authorised = await authorise(browser, { scope: 'openid patient/*.cruds patient/Condition.rs', pickNhs: '9434765919' });
    const { body } = await exchange(authorised);
    expect(String(body.scope).split(' ').sort()).toEqual(['openid', 'patient/Condition.rs']);
  });

  it('refuses a wrong password on the sign-in page, keeping the username', async () => {
    const browser = new TestBrowser();
    const { challenge } = pkcePair();
    const params = new URLSearchParams({ response_type: 'code', client_id: 'demo-app', redirect_uri: REDIRECT, scope: 'openid', state: 's', code_challenge: challenge, code_challenge_method: 'S256' });
    const page = await browser.follow('GET', `${server.url}/oauth/authorize?${params.toString()}`, server.url);
    const wrong = await browser.request('POST', `${server.url}/oauth/interaction/${interactionUid(page.text)}/login`, { username: 'dr.test', password: 'not the password' });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('The username or password is not right');
    expect(wrong.text).toContain('value="dr.test"');
  });

  it('refuses requests without PKCE S256, with a foreign aud, or with an unknown launch', async () => {
    const base = { response_type: 'code', client_id: 'demo-app', redirect_uri: REDIRECT, scope: 'openid launch', state: 's' };
    const noPkce = await new TestBrowser().request('GET', `${server.url}/oauth/authorize?${new URLSearchParams({ ...base, launch: 'x' }).toString()}`);
    expect(new URL(noPkce.location ?? '').searchParams.get('error')).toBe('invalid_request');
    const plain = await new TestBrowser().request('GET', `${server.url}/oauth/authorize?${new URLSearchParams({ ...base, code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }).toString()}`);
    expect(new URL(plain.location ?? '').searchParams.get('error')).toBe('invalid_request');
    const { challenge } = pkcePair();
    const pkce = { code_challenge: challenge, code_challenge_method: 'S256' };
    const foreign = await new TestBrowser().request('GET', `${server.url}/oauth/authorize?${new URLSearchParams({ ...base, ...pkce, launch: 'x', aud: 'https://elsewhere.example/fhir' }).toString()}`);
    expect(new URL(foreign.location ?? '').searchParams.get('error_description')).toMatch(/aud must be this server's FHIR base URL/);
    const unknown = await new TestBrowser().request('GET', `${server.url}/oauth/authorize?${new URLSearchParams({ ...base, ...pkce, launch: 'not-a-launch' }).toString()}`);
    expect(new URL(unknown.location ?? '').searchParams.get('error_description')).toMatch(/launch is unknown/);
  });

  it('sends the user back to the app when they do not allow it', async () => {
    const browser = new TestBrowser();
    const { challenge } = pkcePair();
    const params = new URLSearchParams({ response_type: 'code', client_id: 'demo-app', redirect_uri: REDIRECT, scope: 'openid user/*.rs', state: 's', code_challenge: challenge, code_challenge_method: 'S256' });
    let page = await browser.follow('GET', `${server.url}/oauth/authorize?${params.toString()}`, server.url);
    page = await browser.follow('POST', `${server.url}/oauth/interaction/${interactionUid(page.text)}/login`, server.url, { username: 'dr.test', password: PASSWORD });
    const denied = await browser.follow('POST', `${server.url}/oauth/interaction/${interactionUid(page.text)}/consent`, server.url, { decision: 'deny' });
    expect(new URL(denied.location ?? '').searchParams.get('error')).toBe('access_denied');
  });
});

describe('SMART Backend Services', () => {
  it.each([
    ['RS384', () => keys.rs],
    ['ES384', () => keys.es],
  ])('issues a client_credentials token for a %s client assertion, bound to the client’s organisation', async (_alg, key) => {
    const token = await requestBackendToken({ tokenUrl: `${server.url}/oauth/token`, clientId: 'rwp-feed', privateKey: key(), scope: 'system/*.cruds' });
    expect(token.scope).toBe('system/*.cruds');
    expect(token.expires_in).toBeLessThanOrEqual(900);
    const access = await accessFromBearerToken(database.db, token.access_token);
    expect(access).toEqual({ kind: 'client', subject: 'rwp-feed', display: 'RWP PAS feed', organisation: 'RWP', scopes: [{ context: 'system', type: '*', actions: 'cruds' }], purpose: 'HSYSADMIN', clientId: 'rwp-feed' });
  });

  it('refuses a replayed assertion, a key it does not know, and scopes it is not registered for', async () => {
    const tokenUrl = `${server.url}/oauth/token`;
    const assertion = await clientAssertion(tokenUrl, 'rwp-feed', keys.rs);
    const form = { grant_type: 'client_credentials', scope: 'system/*.rs', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
    expect((await postForm('/oauth/token', form)).status).toBe(200);
    const replay = await postForm('/oauth/token', form);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('invalid_client');

    const stranger = await generateKeyPair('RS384', { extractable: true });
    await expect(requestBackendToken({ tokenUrl, clientId: 'rwp-feed', privateKey: { ...(await exportJWK(stranger.privateKey)), kid: 'rs-1' }, scope: 'system/*.rs' })).rejects.toMatchObject({ status: 401, error: 'invalid_client' });
    await expect(requestBackendToken({ tokenUrl, clientId: 'rwp-feed', privateKey: keys.rs, scope: 'patient/*.rs' })).rejects.toThrow(TokenRequestError);
    await expect(requestBackendToken({ tokenUrl, clientId: 'rwp-feed', privateKey: keys.rs, scope: 'patient/*.rs' })).rejects.toMatchObject({ error: 'invalid_scope' });
  });

  it('does not honour a token that was never issued, or one for a removed client', async () => {
    expect(await accessFromBearerToken(database.db, 'made-up-token-value-of-the-right-shape')).toBeUndefined();
    expect(await accessFromBearerToken(database.db, 'no spaces allowed')).toBeUndefined();
  });
});
