/**
 * Delegating a function through the form on the functions and decisions map, in Chromium: the
 * delegation appears on the map, and one whose budget is more than the function's shows up on
 * the rules page as a breach.
 */
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStructure } from '../../src/structure/repository.js';
import { ADMINISTRATOR, signInBrowser } from '../support/access.js';
import { type TestApp, startTestApp } from '../support/app.js';
import { CHROMIUM, DESKTOP, PHONE, axeViolations, cspViolations, describeViolations, horizontalOverflow, launchBrowser, screenshot } from '../support/browser.js';

const FUNCTIONS = '/ics/QGH/functions';

describe.skipIf(!CHROMIUM)('the functions and decisions map in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    page = await browser.newPage({ viewport: DESKTOP });
    cspViolations(page);
    await signInBrowser(page, app, ADMINISTRATOR);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function submit(): Promise<Response> {
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Delegate function' }).click()]);
    await page.waitForLoadState('load');
    return response;
  }

  async function expectAccessible(label: string): Promise<void> {
    const violations = await axeViolations(page);
    expect(violations, `${label}:\n${describeViolations(violations)}`).toEqual([]);
    expect(cspViolations(page), 'Content Security Policy violations').toEqual([]);
  }

  async function delegationsOf(functionId: string): Promise<number> {
    const s = await loadStructure(app.database.db, 'QGH');
    return s.delegations.filter((d) => d.functionId === functionId).length;
  }

  it('a delegation made with the form appears on the map', async () => {
    await page.goto(`${app.url}${FUNCTIONS}`);
    const specialised = page.locator('#function-QGH-fn-specialised');
    expect(await specialised.innerText()).toContain('Retained by NHS Herefordshire and Worcestershire ICB board: not delegated.');

    await page.locator('#delegate-functionId').selectOption('QGH-fn-specialised');
    await page.locator('#delegate-toBodyId').selectOption('QGH-collaborative-acute');
    await page.locator('#delegate-placeId').selectOption({ label: 'Herefordshire' });
    await page.locator('#delegate-budgetPounds').fill('12,500,000');
    await page.locator('#delegate-decisions').fill('Agree the joint work plan for specialised acute services with neighbouring ICBs.');
    await page.locator('#delegate-startDate').fill('2025-04-01');
    const made = await submit();
    expect(made.status()).toBe(303);
    expect(page.url()).toBe(`${app.url}${FUNCTIONS}?done=delegated`);
    expect(await page.locator('.nhsuk-notification-banner--success').innerText()).toContain('Function delegated');

    const text = (await specialised.innerText()).replace(/\s+/g, ' ');
    expect(text).not.toContain('not delegated');
    expect(text).toContain('Herefordshire and Worcestershire Acute Provider Collaborative');
    expect(text).toContain('£12,500,000');
    expect(text).toContain('Agree the joint work plan for specialised acute services');
    expect(text).toContain('1 April 2025');
    expect(text).toContain('Accountable NHS Herefordshire and Worcestershire ICB');
    expect(await specialised.locator('a', { hasText: 'Acute Provider Collaborative' }).getAttribute('href')).toBe('/ics/QGH/bodies/QGH-collaborative-acute');
    await expectAccessible('functions map after a delegation');

    // The CSV download says the same (fetched with the browser's session: the API needs sign-in).
    const csv = await (await page.request.get(`${app.url}/api/ics/QGH/functions?format=csv`)).text();
    expect(csv).toContain('Agree the joint work plan for specialised acute services');
  });

  it('a delegation over the function’s budget shows as a breach on the rules page', async () => {
    await page.goto(`${app.url}${FUNCTIONS}`);
    await page.locator('#delegate-functionId').selectOption('QGH-fn-safeguarding');
    await page.locator('#delegate-toPersonId').selectOption({ label: 'Catherine Bowen' });
    await page.locator('#delegate-budgetPounds').fill('5000000');
    await page.locator('#delegate-decisions').fill('Commission the safeguarding training programme.');
    await page.locator('#delegate-startDate').fill('2025-04-01');
    expect((await submit()).status()).toBe(303);
    const safeguarding = (await page.locator('#function-QGH-fn-safeguarding').innerText()).replace(/\s+/g, ' ');
    expect(safeguarding).toContain('Catherine Bowen (person)');
    expect(safeguarding).toContain('Delegations total £5,000,000 against a budget of £4,500,000.');

    await page.goto(`${app.url}/ics/QGH/rules`);
    const rule = page.locator('#rule-delegated-budget-within-function-budget');
    const text = (await rule.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('1 breach');
    expect(text).toContain('Safeguarding, children in care and SEND: Delegations total £5,000,000 against a budget of £4,500,000.');
    expect(text).toContain('The budgets delegated for a function add up to no more than the function’s budget.');
    expect(await rule.locator('a').getAttribute('href')).toBe('/ics/QGH/functions#function-QGH-fn-safeguarding');
    expect(await page.locator('main').innerText()).toContain('Rules not met');
    await expectAccessible('rules page with a breach');
    await page.setViewportSize(PHONE);
    await expectAccessible('rules page with a breach at phone width');
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(1);
    await screenshot(page, 'rules-breach-phone');
    await page.setViewportSize(DESKTOP);
    await screenshot(page, 'rules-breach-desktop');
  });

  it('a delegation form with mistakes comes back with the errors and writes nothing', async () => {
    const before = await delegationsOf('QGH-fn-uec');
    await page.goto(`${app.url}${FUNCTIONS}`);
    await page.locator('#delegate-functionId').selectOption('QGH-fn-uec');
    await page.locator('#delegate-toBodyId').selectOption('QGH-collaborative-uec');
    await page.locator('#delegate-toPersonId').selectOption({ label: 'Catherine Bowen' });
    await page.locator('#delegate-budgetPounds').fill('lots');
    const refused = await submit();
    expect(refused.status()).toBe(422);
    const summary = page.locator('.nhsuk-error-summary');
    const hrefs = await Promise.all((await summary.locator('a').all()).map((a) => a.getAttribute('href')));
    expect(hrefs).toEqual(['#delegate-toBodyId', '#delegate-budgetPounds', '#delegate-decisions', '#delegate-startDate']);
    expect(await summary.innerText()).toContain('Delegate to exactly one body or one person');
    expect(await page.locator('#delegate-budgetPounds-error').innerText()).toContain('The budget must be a number of pounds');
    expect(await page.locator('#delegate-functionId').inputValue()).toBe('QGH-fn-uec');
    expect(await page.locator('#delegate-budgetPounds').inputValue()).toBe('lots');
    await expectAccessible('delegation errors');
    expect(await delegationsOf('QGH-fn-uec')).toBe(before);
  });
});
