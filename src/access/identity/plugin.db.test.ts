/**
 * The access plugin over real HTTP, on a small app with one route of each kind (as app.ts
 * registers it: before the routes), the demo's structure and users, on either engine: sign-in
 * and role choice, the rules per kind, CSRF, sign-out, rate limits, security headers, CORS,
 * and what reaches the log.
 */
import { Writable } from 'node:stream';
import fastifyFormbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppContext } from '../../app.js';
import { registerErrorHandling } from '../../core/http/errors.js';
import { loggerOptions } from '../../core/log.js';
import { loadDemoIcs } from '../../structure/commands.js';
import { HTML } from '../../web/page-errors.js';
import { createRenderer } from '../../web/render.js';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { DEMO_PASSWORD, loadAccessDemo } from './demo.js';
import { registerAccess, requireAccess } from './plugin.js';

interface Running {
  url: string;
  app: FastifyInstance;
  log: string[];
  close(): Promise<void>;
}

let t: TestDatabase;
let server: Running;

/** A small app: one route of each kind, behind the access plugin. */
async function start(env: Record<string, string> = {}): Promise<Running> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const log: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      log.push(chunk.toString());
      done();
    },
  });
  const context = new AppContext();
  context.setDatabase(t.db);
  const app = Fastify({ loggerInstance: pino(loggerOptions('info'), sink) }) as unknown as FastifyInstance;
  registerErrorHandling(app);
  await app.register(fastifyFormbody);
  await registerAccess(app, context);
  process.env = saved;
  const render = createRenderer([new URL('./views', import.meta.url).pathname]);
  app.get('/', async (_request, reply) => reply.type(HTML).send(render('error.njk', { title: 'Home', status: 200, message: 'Welcome' })));
  app.get('/public/:ics', async () => ({ public: true }));
  app.get('/ics/:ics', async (request, reply) => reply.type(HTML).send(render('error.njk', { title: 'Staff page', status: 200, message: `Hello ${request.access.display}` })));
  app.post('/ics/:ics/bodies/:id/settings', async () => ({ changed: 'structure' }));
  app.post('/api/ics/:ics/governance/meetings', async (request) => ({ changed: 'governance', by: request.access.subject }));
  app.put('/api/ics/:ics/finance/allocations/:id', async () => ({ changed: 'finance' }));
  app.get('/api/ics/:ics', async () => ({ read: true }));
  app.get('/privacy', { config: { access: { who: 'staff', roles: ['privacy_officer'], purpose: 'review access to records' } } }, async () => ({ privacy: true }));
  app.get('/checked-in-handler', async (request) => {
    requireAccess(request, { who: 'staff', roles: ['analyst'], purpose: 'see this' });
    return { ok: true };
  });
  app.post('/oauth/token', async () => ({ access_token: 'x' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, app, log, close: () => app.close() };
}

beforeAll(async () => {
  t = await openTestDatabase();
  await loadDemoIcs(t.db, 'test');
  await loadAccessDemo(t.db, { production: false });
  server = await start({ OPENICS_CORS_ORIGINS: 'https://app.example.org' });
});
afterAll(async () => {
  await server?.close();
  await t?.close();
});

const cookies = (response: Response): string[] => response.headers.getSetCookie();
const cookiePair = (setCookie: string): string => setCookie.split(';')[0] ?? '';
const hidden = (html: string, name: string): string => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';

interface Form {
  presession: string;
  csrf: string;
}
async function signInForm(base = server.url): Promise<Form> {
  const page = await fetch(`${base}/sign-in?return=/ics/QGH`);
  expect(page.status).toBe(200);
  const set = cookies(page).find((c) => c.startsWith('openics_presession='));
  expect(set).toMatch(/HttpOnly/i);
  expect(set).toMatch(/SameSite=Lax/i);
  return { presession: cookiePair(set ?? ''), csrf: hidden(await page.text(), '_csrf') };
}
async function postSignIn(fields: Record<string, string>, form: Form, base = server.url): Promise<Response> {
  return fetch(`${base}/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.presession },
    body: new URLSearchParams({ _csrf: form.csrf, return: '/ics/QGH', ...fields }).toString(),
  });
}
interface Session {
  cookie: string;
  csrf: string;
  location: string;
}
async function signIn(username: string, role?: string): Promise<Session> {
  const response = await postSignIn({ username, password: DEMO_PASSWORD }, await signInForm());
  expect(response.status).toBe(303);
  const set = cookies(response).find((c) => c.startsWith('openics_session='));
  expect(set).toBeDefined();
  const cookie = cookiePair(set ?? '');
  const rolePage = await fetch(`${server.url}/sign-in/role`, { headers: { cookie } });
  const csrf = hidden(await rolePage.text(), '_csrf');
  if (role) {
    const chosen = await fetch(`${server.url}/sign-in/role`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({ role, _csrf: csrf, return: '/ics/QGH' }).toString(),
    });
    expect(chosen.status).toBe(303);
    expect(chosen.headers.get('location')).toBe('/ics/QGH');
  }
  return { cookie, csrf, location: response.headers.get('location') ?? '' };
}
const json = (method: string, path: string, session?: Session, extra: Record<string, string> = {}): Promise<Response> =>
  fetch(`${server.url}${path}`, {
    method,
    redirect: 'manual',
    headers: { 'content-type': 'application/json', ...(session ? { cookie: session.cookie, 'x-csrf-token': session.csrf } : {}), ...extra },
    body: method === 'GET' ? null : '{}',
  });

describe('sign-in', () => {
  it('sends anyone not signed in from a staff page to sign in, and answers an API 401 with a Bearer challenge', async () => {
    const page = await fetch(`${server.url}/ics/QGH`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/sign-in?return=%2Fics%2FQGH&expired=1');
    const api = await json('GET', '/api/ics/QGH');
    expect(api.status).toBe(401);
    expect(api.headers.get('www-authenticate')).toBe('Bearer realm="OpenICS"');
    expect(((await api.json()) as { message: string }).message).toBe('Sign in to use the API');
    expect((await fetch(`${server.url}/public/QGH`)).status).toBe(200);
    expect((await fetch(`${server.url}/`)).status).toBe(200);
  });

  it('names the field to fix: empty fields, a wrong password, an expired form', async () => {
    const form = await signInForm();
    const empty = await postSignIn({ username: ' ', password: '' }, form);
    expect(empty.status).toBe(422);
    const emptyHtml = await empty.text();
    expect(emptyHtml).toContain('There is a problem');
    expect(emptyHtml).toMatch(/href="#username"[^>]*>\s*Enter your username/);
    expect(emptyHtml).toMatch(/href="#password"[^>]*>\s*Enter your password/);
    expect(emptyHtml).toMatch(/<title>\s*Error: Sign in/);

    const wrong = await postSignIn({ username: 'gareth.wilson', password: 'not the password' }, form);
    expect(wrong.status).toBe(401);
    const wrongHtml = await wrong.text();
    expect(wrongHtml).toContain('The username or password is not right. Check them and try again.');
    expect(wrongHtml).toContain('value="gareth.wilson"');
    expect(wrongHtml).not.toContain('not the password');
    expect(cookies(wrong).some((c) => c.startsWith('openics_session='))).toBe(false);

    const unknown = await postSignIn({ username: 'nobody.here', password: 'not the password' }, form);
    expect(unknown.status).toBe(401);
    expect(await unknown.text()).toContain('The username or password is not right.');

    const forged = await postSignIn({ username: 'gareth.wilson', password: DEMO_PASSWORD, _csrf: 'forged' }, form);
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('The sign-in page had expired');
  });

  it('signs a user with one role in at once, with an HttpOnly SameSite=Lax session cookie, and shows who in the header', async () => {
    const response = await postSignIn({ username: 'Gareth.Wilson', password: DEMO_PASSWORD }, await signInForm());
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/ics/QGH');
    const set = cookies(response).find((c) => c.startsWith('openics_session=')) ?? '';
    expect(set).toMatch(/HttpOnly/i);
    expect(set).toMatch(/SameSite=Lax/i);
    expect(set).toMatch(/Path=\//);
    expect(set).not.toMatch(/Secure/i); // plain http in this test; Secure over https and always in production
    const page = await fetch(`${server.url}/ics/QGH`, { headers: { cookie: cookiePair(set) } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Hello Gareth Wilson');
    expect(html).toContain('Gareth Wilson, Administrator, NHS Herefordshire and Worcestershire ICB');
    expect(html).toContain('action="/sign-out"');
  });

  it('asks a user holding several roles to choose one, and allows nothing else until they have', async () => {
    const session = await signIn('aisha.rahman');
    expect(session.location).toBe('/sign-in/role?return=%2Fics%2FQGH');
    const rolePage = await (await fetch(`${server.url}/sign-in/role`, { headers: { cookie: session.cookie } })).text();
    expect(rolePage).toContain('Choose the role you are acting in');
    expect(rolePage).toContain('Doctor at Hereford Medical Group (M81026)');
    expect(rolePage).toContain('value="leader|QGH"');

    const page = await fetch(`${server.url}/ics/QGH`, { headers: { cookie: session.cookie }, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/sign-in/role?return=%2Fics%2FQGH');
    const api = await json('POST', '/api/ics/QGH/governance/meetings', session);
    expect(api.status).toBe(403);
    expect(((await api.json()) as { message: string }).message).toBe('Choose the role you are acting in to change the governance records of an ICS');

    const none = await fetch(`${server.url}/sign-in/role`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session.cookie },
      body: new URLSearchParams({ role: 'doctor|RWP', _csrf: session.csrf }).toString(),
    });
    expect(none.status).toBe(422);
    expect(await none.text()).toMatch(/href="#role"[^>]*>\s*Choose the role you are acting in/);

    const chosen = await fetch(`${server.url}/sign-in/role`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session.cookie },
      body: new URLSearchParams({ role: 'leader|QGH', _csrf: session.csrf, return: '/ics/QGH' }).toString(),
    });
    expect(chosen.status).toBe(303);
    expect((await json('POST', '/ics/QGH/bodies/QGH-board/settings', session)).status).toBe(200);
    const header = await (await fetch(`${server.url}/ics/QGH`, { headers: { cookie: session.cookie } })).text();
    expect(header).toContain('Dr Aisha Rahman, Place or system leader');
    expect(header).toContain('href="/sign-in/role"');
  });

  it('never sends the user off the site after sign-in', async () => {
    for (const evil of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const response = await postSignIn({ username: 'gareth.wilson', password: DEMO_PASSWORD, return: evil }, await signInForm());
      expect(response.headers.get('location')).toBe('/');
    }
  });
});

describe('the rules per kind of endpoint', () => {
  it('lets each staff role do what its kind allows, at the ICS’s own ICB only', async () => {
    const admin = await signIn('gareth.wilson');
    const analyst = await signIn('li.chen');
    const placeLeader = await signIn('sam.taylor');
    const board = await signIn('jane.morris');
    const doctor = await signIn('chidi.okafor');

    expect((await json('POST', '/ics/QGH/bodies/QGH-board/settings', admin)).status).toBe(200);
    const analystStructure = await json('POST', '/ics/QGH/bodies/QGH-board/settings', analyst);
    expect(analystStructure.status).toBe(403);
    expect(((await analystStructure.json()) as { message: string }).message).toBe(
      'To change the structure of an ICS you need to act as administrator or place or system leader at QGH; you are acting as analyst',
    );
    expect((await json('PUT', '/api/ics/QGH/finance/allocations/a1', analyst)).status).toBe(200);
    expect((await json('PUT', '/api/ics/QGH/finance/allocations/a1', board)).status).toBe(403);
    expect((await json('POST', '/api/ics/QGH/governance/meetings', board)).status).toBe(200);
    const elsewhere = await json('PUT', '/api/ics/QGH/finance/allocations/a1', placeLeader);
    expect(elsewhere.status).toBe(403);
    expect(((await elsewhere.json()) as { message: string }).message).toBe('To change the finances of an ICS you need the role at QGH; you hold it at E06000019');
    expect((await json('POST', '/api/ics/QHM/governance/meetings', admin)).status).toBe(403);
    // Reads: any staff role.
    expect((await json('GET', '/api/ics/QGH', doctor)).status).toBe(200);
    expect((await fetch(`${server.url}/ics/QGH`, { headers: { cookie: doctor.cookie } })).status).toBe(200);
    // A route's own rule, and a check inside a handler.
    expect((await json('GET', '/privacy', admin)).status).toBe(403);
    expect((await json('GET', '/privacy', await signIn('imran.khan'))).status).toBe(200);
    expect((await json('GET', '/checked-in-handler', analyst)).status).toBe(200);
    expect((await json('GET', '/checked-in-handler', admin)).status).toBe(403);
    expect((await json('GET', '/checked-in-handler')).status).toBe(401);
  });

  it('keeps citizens out of staff pages and the staff API', async () => {
    const citizen = await signIn('keith.clarke');
    const page = await fetch(`${server.url}/ics/QGH`, { headers: { cookie: citizen.cookie } });
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('This is for staff of the ICS: you cannot see the staff pages as a citizen');
    expect((await json('GET', '/api/ics/QGH', citizen)).status).toBe(403);
    expect((await fetch(`${server.url}/public/QGH`, { headers: { cookie: citizen.cookie } })).status).toBe(200);
  });

  it('treats an unknown bearer token as nobody, saying the token is not valid', async () => {
    const response = await json('GET', '/api/ics/QGH', undefined, { authorization: 'Bearer not-a-token' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="OpenICS", error="invalid_token"');
  });
});

describe('CSRF', () => {
  it('refuses a cookie-authenticated change without the session’s token, in the header or the form', async () => {
    const admin = await signIn('gareth.wilson');
    const other = await signIn('rebecca.harris');
    const post = (headers: Record<string, string>, body: string, type = 'application/json'): Promise<Response> =>
      fetch(`${server.url}/api/ics/QGH/governance/meetings`, { method: 'POST', headers: { 'content-type': type, cookie: admin.cookie, ...headers }, body });
    const missing = await post({}, '{}');
    expect(missing.status).toBe(403);
    expect(((await missing.json()) as { problems: unknown[] }).problems).toEqual([{ field: '_csrf', message: 'is missing or does not match this session' }]);
    expect((await post({ 'x-csrf-token': other.csrf }, '{}')).status).toBe(403);
    expect((await post({ 'x-csrf-token': admin.csrf }, '{}')).status).toBe(200);
    expect((await post({}, new URLSearchParams({ _csrf: admin.csrf }).toString(), 'application/x-www-form-urlencoded')).status).toBe(200);
    expect((await post({}, new URLSearchParams({ _csrf: 'x' }).toString(), 'application/x-www-form-urlencoded')).status).toBe(403);
  });

  it('signs out only with the token; the session then ends', async () => {
    const session = await signIn('li.chen');
    const forged = await fetch(`${server.url}/sign-out`, { method: 'POST', redirect: 'manual', headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(forged.status).toBe(403);
    expect((await json('GET', '/api/ics/QGH', session)).status).toBe(200);
    const out = await fetch(`${server.url}/sign-out`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: session.csrf }).toString(),
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/sign-in?signed-out=1');
    expect(cookies(out).some((c) => /^openics_session=;/.test(c))).toBe(true);
    expect((await json('GET', '/api/ics/QGH', session)).status).toBe(401);
    expect(await (await fetch(`${server.url}/sign-in?signed-out=1`)).text()).toContain('You have signed out.');
  });
});

describe('rate limits', () => {
  it('refuses sign-in after too many failures for one username (429, said on the form), and from one address', async () => {
    const limited = await start({ OPENICS_SIGN_IN_LIMIT_PER_USERNAME: '3', OPENICS_SIGN_IN_LIMIT_PER_IP: '5', OPENICS_TOKEN_LIMIT_PER_IP: '2' });
    try {
      const form = await signInForm(limited.url);
      for (let i = 0; i < 3; i++) expect((await postSignIn({ username: 'li.chen', password: 'wrong password' }, form, limited.url)).status).toBe(401);
      const refused = await postSignIn({ username: 'li.chen', password: DEMO_PASSWORD }, form, limited.url);
      expect(refused.status).toBe(429);
      expect(await refused.text()).toMatch(/Too many failed sign-in attempts for this username\. Wait 15 minutes, then try again\./);
      // Another username from the same address still signs in (failures count, successes do not)…
      expect((await postSignIn({ username: 'gareth.wilson', password: DEMO_PASSWORD }, form, limited.url)).status).toBe(303);
      expect((await postSignIn({ username: 'gareth.wilson', password: DEMO_PASSWORD }, form, limited.url)).status).toBe(303);
      // …until the address has failed too often.
      for (let i = 0; i < 2; i++) expect((await postSignIn({ username: `someone${i}`, password: 'wrong password' }, form, limited.url)).status).toBe(401);
      const blocked = await postSignIn({ username: 'rebecca.harris', password: DEMO_PASSWORD }, form, limited.url);
      expect(blocked.status).toBe(429);
      expect(await blocked.text()).toContain('Too many failed sign-in attempts from your network.');

      const token = (): Promise<Response> => fetch(`${limited.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
      expect((await token()).status).toBe(200);
      expect((await token()).status).toBe(200);
      const slow = await token();
      expect(slow.status).toBe(429);
      expect(Number(slow.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await slow.json()) as { error: string }).error).toBe('too_many_requests');
    } finally {
      await limited.close();
    }
  });
});

describe('security headers and CORS', () => {
  it('sends a Content Security Policy whose nonce is the page’s inline script’s, and the other headers', async () => {
    const response = await fetch(`${server.url}/`);
    const csp = response.headers.get('content-security-policy') ?? '';
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain(`script-src 'self' 'nonce-${nonce ?? ''}'`);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'self'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await response.text();
    expect(html).toContain(`<script type="module" nonce="${nonce ?? ''}">`);
    expect(html).toContain(`<script nonce="${nonce ?? ''}">document.body.className`);
    const again = (await fetch(`${server.url}/`)).headers.get('content-security-policy');
    expect(again).not.toBe(csp); // a new nonce every response
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    // Sign-in may end at a registered app's redirect URI on another site.
    expect((await fetch(`${server.url}/sign-in`)).headers.get('content-security-policy')).toContain("form-action 'self' https: http:");
  });

  it('answers CORS for registered origins only', async () => {
    const allowed = await fetch(`${server.url}/public/QGH`, { headers: { origin: 'https://app.example.org' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.org');
    const other = await fetch(`${server.url}/public/QGH`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${server.url}/api/ics/QGH`, { method: 'OPTIONS', headers: { origin: 'https://app.example.org', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('logs', () => {
  it('hold no passwords, session tokens, CSRF tokens or NHS numbers from queries', async () => {
    const session = await signIn('gareth.wilson');
    await postSignIn({ username: 'gareth.wilson', password: 'a secret that is wrong' }, await signInForm());
    await fetch(`${server.url}/public/QGH?identifier=https://fhir.nhs.uk/Id/nhs-number|9990224544&nhs=9998224012`, { headers: { cookie: session.cookie } });
    const text = server.log.join('');
    expect(text).toContain('"path":"/public/QGH"');
    for (const secret of [DEMO_PASSWORD, 'a secret that is wrong', session.cookie.split('=')[1] ?? '', session.csrf, '9990224544', '9998224012']) {
      expect(secret.length).toBeGreaterThan(5);
      expect(text).not.toContain(secret);
    }
  });
});
