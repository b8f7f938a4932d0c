/**
 * Signing in and out as people do, in Chromium: the sign-in page in the NHS design system, its
 * mistakes named per field, the role choice for someone holding several roles, coming back to
 * the page that asked, the header saying who is signed in, signing out, and a citizen kept out
 * of the staff pages. Every page passes axe-core at desktop and phone width, fits a phone, and
 * raises no Content Security Policy violation.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../../src/access/identity/demo.js';
import { ensureDemoUsers, hasSignIn } from '../support/access.js';
import { type TestApp, startTestApp } from '../support/app.js';
import { CHROMIUM, DESKTOP, checkPage, cspViolations, launchBrowser } from '../support/browser.js';

describe.skipIf(!CHROMIUM)('signing in and out in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp({ demo: 'structure' }), launchBrowser()]);
    await ensureDemoUsers(app);
    page = await browser.newPage({ viewport: DESKTOP });
    cspViolations(page);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const check = (name: string): Promise<void> => checkPage(page, name);

  const header = async (): Promise<string> => (await page.locator('.nhsuk-header__account').innerText()).replace(/\s+/g, ' ');

  it('sends someone not signed in from a staff page to sign in, names each mistake, and brings them back after choosing a role', async (ctx) => {
    if (!hasSignIn(app)) ctx.skip();
    await page.goto(`${app.url}/ics/QGH/bodies`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(await page.locator('h1').innerText()).toBe('Sign in to OpenICS');
    expect(await page.locator('main').innerText()).toContain('Sign in to continue.');
    await check('sign-in');

    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState('load');
    expect(await page.title()).toMatch(/^Error: Sign in/);
    const summary = page.locator('.nhsuk-error-summary');
    expect(await summary.innerText()).toContain('Enter your username');
    expect(await summary.innerText()).toContain('Enter your password');
    expect(await page.locator('#username-error').innerText()).toContain('Enter your username');
    expect(await page.locator('#password-error').innerText()).toContain('Enter your password');
    await check('sign-in-errors');

    await page.getByLabel('Username').fill('aisha.rahman');
    await page.getByLabel('Password').fill('not her password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState('load');
    expect(await page.locator('#username-error').innerText()).toContain('The username or password is not right');
    expect(await page.getByLabel('Username').inputValue()).toBe('aisha.rahman');
    expect(await page.getByLabel('Password').inputValue()).toBe('');

    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await Promise.all([page.waitForURL((url) => url.pathname === '/sign-in/role'), page.getByRole('button', { name: 'Sign in' }).click()]);
    expect(await page.locator('legend').innerText()).toBe('Choose the role you are acting in');
    expect(await page.getByLabel('Doctor at Hereford Medical Group (M81026)').count()).toBe(1);
    await check('choose-role');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForLoadState('load');
    expect(await page.locator('.nhsuk-error-summary').innerText()).toContain('Choose the role you are acting in');
    await page.getByLabel('Place or system leader at NHS Herefordshire and Worcestershire ICB (QGH)').check();
    await Promise.all([page.waitForURL((url) => url.pathname === '/ics/QGH/bodies'), page.getByRole('button', { name: 'Continue' }).click()]);
    expect(await header()).toContain('Dr Aisha Rahman, Place or system leader, NHS Herefordshire and Worcestershire ICB');
    expect(await page.locator('.nhsuk-header__account a', { hasText: 'Change role' }).count()).toBe(1);
    await check('signed-in');
  });

  it('changes role, then signs out from the header', async (ctx) => {
    if (!hasSignIn(app)) ctx.skip();
    await page.locator('.nhsuk-header__account a', { hasText: 'Change role' }).click();
    await page.waitForLoadState('load');
    expect(await page.getByLabel('Place or system leader at NHS Herefordshire and Worcestershire ICB (QGH)').isChecked()).toBe(true);
    await page.getByLabel('Doctor at Hereford Medical Group (M81026)').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForLoadState('load');
    expect(await header()).toContain('Dr Aisha Rahman, Doctor, Hereford Medical Group');

    await page.goto(`${app.url}/ics/QGH`);
    await Promise.all([page.waitForURL((url) => url.pathname === '/sign-in'), page.getByRole('button', { name: 'Sign out' }).click()]);
    expect(await page.locator('main').innerText()).toContain('You have signed out.');
    // The sign-in page names nobody and has no "Sign in" link to itself; other pages offer it again.
    expect(await page.locator('.nhsuk-header__account').count()).toBe(0);
    await page.goto(`${app.url}/`);
    expect(await header()).toContain('Sign in');
    expect(await header()).not.toContain('Aisha Rahman');
    await page.goto(`${app.url}/ics/QGH`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
  });

  it('keeps a citizen out of the staff pages, saying why', async (ctx) => {
    if (!hasSignIn(app)) ctx.skip();
    await page.goto(`${app.url}/sign-in`);
    await page.getByLabel('Username').fill('janet.clarke');
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.getByRole('button', { name: 'Sign in' }).click()]);
    expect(await header()).toContain('Janet Clarke, Citizen');
    const response = await page.goto(`${app.url}/ics/QGH`);
    expect(response?.status()).toBe(403);
    expect(await page.locator('main').innerText()).toContain('This is for staff of the ICS: you cannot see the staff pages as a citizen');
    await check('citizen-refused');
  });
});
