/**
 * Signing in for tests, the way a person does: the real sign-in page and form over HTTP (or in
 * Chromium), as one of the demo users (src/access/identity/demo.ts, all sharing DEMO_PASSWORD).
 *
 *   const dr = await signIn(app, 'chidi.okafor');
 *   await sendJson('POST', url, body, dr.headers);      // cookie + x-csrf-token
 *
 * Until the access plugin is wired into app.ts (registerAccess), the app has no sign-in: these
 * helpers then do nothing and return empty headers, so tests run the same before and after.
 */
import type { Page } from 'playwright-core';
import type { RoleCode } from '../../src/access/context.js';
import { DEMO_PASSWORD, loadAccessDemo } from '../../src/access/identity/demo.js';
import { hashPassword } from '../../src/access/identity/passwords.js';
import { createUser, findUser } from '../../src/access/identity/users.js';
import type { TestApp } from './app.js';

export interface SignedIn {
  /** The `cookie` request header carrying the session. */
  cookie: string;
  /** The session's CSRF token (the forms' hidden `_csrf`). */
  csrf: string;
  /** cookie and x-csrf-token: what a signed-in browser's script would send. */
  headers: Record<string, string>;
}

const NOT_SIGNED_IN: SignedIn = { cookie: '', csrf: '', headers: {} };

/** Whether the app under test has the access plugin (and so sign-in). */
export function hasSignIn(app: TestApp): boolean {
  return app.app.hasDecorator('accessExternalSignIn');
}

const ensured = new WeakSet<TestApp>();
/** Makes sure the demo users exist (a test app with only the structure demo has none). */
export async function ensureDemoUsers(app: TestApp): Promise<void> {
  if (ensured.has(app)) return;
  await loadAccessDemo(app.database.db, { production: false });
  ensured.add(app);
}

function cookiesFrom(response: Response): string[] {
  return response.headers.getSetCookie().map((c) => c.split(';')[0] ?? '');
}

function hiddenField(html: string, name: string): string {
  const match = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(html);
  if (!match) throw new Error(`no hidden ${name} field on the page`);
  return match[1] ?? '';
}

/**
 * Signs in as a demo user through the sign-in form; for a user with several roles, chooses the
 * given one (or the first). Fails the test if sign-in does not succeed.
 */
export async function signIn(app: TestApp, username: string, acting?: { role: RoleCode; organisation: string }, password = DEMO_PASSWORD): Promise<SignedIn> {
  if (!hasSignIn(app)) return NOT_SIGNED_IN;
  await ensureDemoUsers(app);
  return signInAt(app.url, username, acting, password);
}

/** Signs in at a running OpenICS (any process) whose users already exist; as signIn. */
export async function signInAt(url: string, username: string, acting?: { role: RoleCode; organisation: string }, password = DEMO_PASSWORD): Promise<SignedIn> {
  const app = { url };
  const form = await fetch(`${app.url}/sign-in`);
  const presession = cookiesFrom(form).join('; ');
  const csrf = hiddenField(await form.text(), '_csrf');
  const posted = await fetch(`${app.url}/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: presession },
    body: new URLSearchParams({ username, password, _csrf: csrf, return: '/' }).toString(),
  });
  if (posted.status !== 303) throw new Error(`signing in as ${username} answered ${posted.status}`);
  const session = cookiesFrom(posted).find((c) => /openics_session=/.test(c));
  if (!session) throw new Error(`signing in as ${username} set no session cookie`);
  // The role page shows the session's CSRF token, and lets a user with several roles choose.
  const rolePage = await fetch(`${app.url}/sign-in/role`, { headers: { cookie: session } });
  const html = await rolePage.text();
  const token = hiddenField(html, '_csrf');
  if (posted.headers.get('location')?.startsWith('/sign-in/role') || acting) {
    const choice = acting ? `${acting.role}|${acting.organisation}` : (/name="role" type="radio" value="([^"]+)"/.exec(html)?.[1] ?? '');
    const chosen = await fetch(`${app.url}/sign-in/role`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session },
      body: new URLSearchParams({ role: choice, _csrf: token, return: '/' }).toString(),
    });
    if (chosen.status !== 303) throw new Error(`choosing the role ${choice} for ${username} answered ${chosen.status}`);
  }
  return { cookie: session, csrf: token, headers: { cookie: session, 'x-csrf-token': token } };
}

/** Signs in in Chromium through the sign-in page, choosing a role when asked. */
export async function signInBrowser(page: Page, app: TestApp, username: string, acting?: { role: RoleCode; organisation: string }): Promise<void> {
  if (!hasSignIn(app)) return;
  await ensureDemoUsers(app);
  await page.goto(`${app.url}/sign-in`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await Promise.all([page.waitForURL((url) => url.pathname !== '/sign-in'), page.getByRole('button', { name: 'Sign in' }).click()]);
  if (new URL(page.url()).pathname === '/sign-in/role') {
    const value = acting ? `${acting.role}|${acting.organisation}` : undefined;
    if (value) await page.locator(`input[name="role"][value="${value}"]`).check();
    else await page.locator('input[name="role"]').first().check();
    await Promise.all([page.waitForURL((url) => url.pathname !== '/sign-in/role'), page.getByRole('button', { name: 'Continue' }).click()]);
  }
}

/**
 * A staff user of the test's own (for roles the demo users do not hold, e.g. at another ICB),
 * with DEMO_PASSWORD; created once per app.
 */
export async function ensureTestUser(app: TestApp, username: string, roles: { role: RoleCode; organisation: string }[]): Promise<void> {
  const id = `test-${username.replaceAll(/[^a-z0-9]/g, '-')}`;
  if (await findUser(app.database.db, id)) return;
  await createUser(app.database.db, { id, username, displayName: `Test user ${username}`, kind: 'staff', roles, passwordHash: await hashPassword(DEMO_PASSWORD) });
}

/** The staff user the existing tests act as: the ICB's administrator, who may change structure and governance. */
export const ADMINISTRATOR = 'gareth.wilson';
/** A user who may change the ICB's finances (and structure): its director of strategy. */
export const LEADER = 'rebecca.harris';
