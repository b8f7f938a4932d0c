/**
 * A finance lead's journey through the finance pages, in Chromium: read the single pot, define
 * places for Herefordshire and Worcestershire, see their need indices and target budgets, set a
 * convergence policy in a scenario, compare scenarios, check the MHIS, read the system position,
 * and import a file with a mistake in it. Every page gets `checkPage`: axe at desktop and phone
 * width, no sideways scrolling on a phone, screenshots, and no Content Security Policy violations.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEADER, type SignedIn, signIn, signInBrowser } from '../support/access.js';
import { type TestApp, startTestApp } from '../support/app.js';
import { CHROMIUM, DESKTOP, checkPage, cspViolations, launchBrowser } from '../support/browser.js';

const FINANCE = '/ics/QGH/finance';

describe.skipIf(!CHROMIUM)('the finance lead’s journey in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  /** The finance lead's session for the API calls the test makes itself (the API needs sign-in). */
  let leader: SignedIn;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    page = await browser.newPage({ viewport: DESKTOP });
    cspViolations(page);
    await signInBrowser(page, app, LEADER);
    leader = await signIn(app, LEADER);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const check = (name: string): Promise<void> => checkPage(page, `finance-${name}`);

  async function submit(button: string): Promise<Response> {
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: button }).click()]);
    await page.waitForLoadState('load');
    return response;
  }

  const text = async (selector: string): Promise<string> => (await page.locator(selector).first().innerText()).replace(/\s+/g, ' ');
  /** The text of the table whose caption says this. */
  const table = async (caption: string): Promise<string> => (await page.locator('table', { has: page.locator('caption', { hasText: caption }) }).first().innerText()).replace(/\s+/g, ' ');

  it('reads the single pot: every stream, per head, with sources and conditions', async () => {
    const response = await page.goto(`${app.url}${FINANCE}`);
    expect(response?.status()).toBe(200);
    const main = await text('main');
    expect(main).toContain('The single pot');
    expect(main).toContain('£2,048,500,000');
    expect(main).toContain('Core services £1,512,400,000 £1,806 +4.3% Revenue');
    expect(main).toContain('Specialised services (delegated from April 2025)');
    expect(main).toContain('The money in the demo ICS is illustrative');
    await check('pot');
  });

  it('defines places for Herefordshire and Worcestershire and moves a practice between them', async () => {
    await page.goto(`${app.url}${FINANCE}/scenarios`);
    await page.locator('#placeset-name').fill('Herefordshire and Worcestershire');
    await page.locator('#placeset-basis').check();
    expect((await submit('Make place definitions')).status()).toBe(303);
    expect(await text('.nhsuk-notification-banner--success')).toContain('Place definitions made');
    const places = await table('Places of Herefordshire and Worcestershire');
    expect(places).toContain('Herefordshire 18 196,788 1.022');
    expect(places).toContain('Worcestershire 61');
    await check('place-definitions');

    // A practice moves to a new place, then the new place is merged back by renaming it.
    await page.locator('#move-newPlace').fill('Tenbury');
    await page.locator('#place-M81033').selectOption('__new');
    expect((await submit('Save places of practices')).status()).toBe(303);
    expect(await table('Places of Herefordshire and Worcestershire')).toContain('Tenbury 1');
    await page.locator('#rename-from').selectOption('Tenbury');
    await page.locator('#rename-to').fill('Worcestershire');
    expect((await submit('Rename place')).status()).toBe(303);
    expect(await table('Places of Herefordshire and Worcestershire')).not.toContain('Tenbury');
  });

  it('refuses a scenario whose policy cannot work, keeping what was typed', async () => {
    await page.goto(`${app.url}${FINANCE}/scenarios/new`);
    await page.locator('#scenario-name').fill('Two counties');
    await page.locator('#scenario-placeSetId').selectOption({ label: 'Herefordshire and Worcestershire' });
    await page.locator('#scenario-minGrowth').fill('5');
    const refused = await submit('Save scenario');
    expect(refused.status()).toBe(422);
    expect(await text('.nhsuk-error-summary')).toContain('The minimum growth (5%) cannot be more than the growth of the pot (3%)');
    expect(await page.locator('#scenario-name').inputValue()).toBe('Two counties');
    await check('scenario-mistake');
  });

  it('sets a convergence policy in a scenario, and sees the two places’ need indices, targets and path', async () => {
    await page.locator('#scenario-policyName').fill('Four years to target');
    await page.locator('#scenario-years').fill('4');
    await page.locator('#scenario-minGrowth').fill('1.5');
    await page.locator('#scenario-maxGrowth').fill('6');
    await page.locator('#scenario-gapClosure').fill('30');
    const saved = await submit('Save scenario');
    expect(saved.status()).toBe(303);
    expect(page.url()).toContain(`${FINANCE}/places?scenario=`);
    expect(await text('.nhsuk-notification-banner--success')).toContain('Scenario saved');
    const main = await text('main');
    expect(main).toContain('Scenario: Two counties');
    expect(main).toContain('Four years to target: over 4 years the pot grows 3.0% a year; each place grows by 1.5% to 6.0%; 30% of the gap to target is closed each year');

    // Need indices and target budgets, as the API computes them.
    const id = new URL(page.url()).searchParams.get('scenario') ?? '';
    const api = (await (await fetch(`${app.url}/api/ics/QGH/finance/scenarios/${encodeURIComponent(id)}`, { headers: leader.headers })).json()) as {
      places: { name: string; index: Record<string, number> }[];
      streams: { stream: string; places: { name: string; target: number; current: number }[] }[];
    };
    expect(api.places.map((p) => p.name)).toEqual(['Herefordshire', 'Worcestershire']);
    const need = await table('Need index by place and component');
    expect(need).toContain(`Herefordshire 196,788 ${api.places[0]?.index.ga?.toFixed(3)}`);
    expect(need).toContain(`${api.places[0]?.index.core?.toFixed(3)} ${api.places[0]?.index.pmc?.toFixed(3)}`);
    const core = api.streams.find((s) => s.stream === 'core_services');
    const targets = core?.places ?? [];
    expect(Math.round(targets.reduce((a, p) => a + p.target * 100, 0))).toBe(151_240_000_000);
    const pounds = (n: number): string => `£${Math.round(n).toLocaleString('en-GB')}`;
    expect(main).toContain(`Herefordshire`);
    expect(main).toContain(pounds(targets[0]?.target ?? 0));
    expect(main).toContain(pounds(targets[1]?.current ?? 0));
    expect(await page.locator('figure.openics-chart svg:visible').count()).toBe(3);
    expect(main).toContain('Core services: budget by year (£000)');
    await check('allocation');
  });

  it('drills down from a place to its practices and how each index is made', async () => {
    await page.locator('table', { has: page.locator('caption', { hasText: 'Need index by place' }) }).getByRole('link', { name: 'Herefordshire', exact: true }).click();
    await page.waitForLoadState('load');
    const main = await text('main');
    expect(main).toContain('How each need index is made');
    expect(main).toContain('Overall core 201,090 196,788 837,129 837,510');
    expect(main).toContain('1.022');
    expect(await page.locator('table', { has: page.locator('caption', { hasText: 'GP practices of Herefordshire' }) }).locator('tbody tr').count()).toBe(19);
    await check('place-drill-down');
  });

  it('compares scenarios side by side', async () => {
    await page.goto(`${app.url}${FINANCE}/scenarios`);
    await page.locator('#compare-scenario-3').check();
    await page.locator('#compare-scenario-2').uncheck();
    await Promise.all([page.waitForURL(/compare/), page.getByRole('button', { name: 'Compare scenarios' }).click()]);
    const main = await text('main');
    expect(main).toContain('Districts Two counties');
    expect(main).toContain('Places 7 2');
    await check('compare');
  });

  it('checks MHIS compliance, and sees the shortfall and the reason for the other guarantee', async () => {
    await page.goto(`${app.url}${FINANCE}/standards`);
    const mhis = await text('#mhis');
    expect(mhis).toContain('Met');
    expect(mhis).toContain('at least £185,582,800');
    expect(mhis).toContain('ADHD £3,900,000');
    const pmcs = await text('#pmcs');
    expect(pmcs).toContain('Shortfall of £2,480,040');
    expect(pmcs).toContain('growth of 3.29% on 2024/25');
    await check('standards');
  });

  it('reads the system position at month 7 with its trend, delegated budgets and the risk share', async () => {
    await page.goto(`${app.url}${FINANCE}/position`);
    const main = await text('main');
    expect(main).toContain('Finance, 2025/26, to October 2025');
    expect(main).toContain('Breakeven across the ICB and its three NHS trusts');
    expect(main).toContain('The system forecasts to miss its target');
    expect(main).toContain('Worcestershire Acute Hospitals NHS Trust −£6.5m');
    expect(main).toContain('One Herefordshire Partnership');
    expect(await page.locator('figure.openics-chart svg:visible').count()).toBe(1);
    await check('position');
    await page.getByRole('link', { name: 'See the risk share applied to this position' }).click();
    await page.waitForLoadState('load');
    const risk = await text('main');
    expect(risk).toContain('Each partner keeps its own overspend or underspend up to £2,000,000');
    expect(risk).toContain('All partners');
    await check('risk-share');

    // Shares that do not add up are refused, naming the problem; nothing changes.
    await page.locator('#risk-over-RWP').fill('50');
    const refused = await submit('Save risk-share agreement');
    expect(refused.status()).toBe(422);
    expect(await text('.nhsuk-error-summary')).toContain('The shares of a net overspend add up to 120%; they must add up to 100%');
    await page.locator('#risk-over-RWP').fill('30');
    await page.locator('#risk-retain').fill('1,000,000');
    expect((await submit('Save risk-share agreement')).status()).toBe(303);
    expect(await text('main')).toContain('Each partner keeps its own overspend or underspend up to £1,000,000');
  });

  it('imports a spreadsheet with a mistake: the row and column are named and nothing is written', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'openics-finance-')), 'budgets.csv');
    fs.writeFileSync(file, 'Year,Stream,Place,Amount\n2025/26,Core services,Herefordshire,"£380,000,000"\n2025/26,Core services,Atlantis,12\n');
    await page.goto(`${app.url}${FINANCE}/data`);
    await page.locator('#import-dataset').selectOption('place-budgets');
    await page.locator('#import-file').setInputFiles(file);
    const refused = await submit('Import file');
    expect(refused.status()).toBe(422);
    expect(await text('.nhsuk-error-summary')).toContain('Row 3, column C (place): “Atlantis” is not one of the ICS’s places');
    await check('import-mistake');
    const budgets = (await (await fetch(`${app.url}/api/ics/QGH/finance/place-budgets?year=2025`, { headers: leader.headers })).json()) as { budgets: { placeId: string; stream: string; amount: number }[] };
    expect(budgets.budgets.find((b) => b.placeId === 'QGH-E06000019' && b.stream === 'core_services')?.amount).not.toBe(380_000_000);
  });

  it('answers an unknown page, scenario or place with an NHS "Page not found" page', async () => {
    for (const p of [`${FINANCE}/places?scenario=nope`, `${FINANCE}/places/nowhere`, `${FINANCE}/place-definitions/nope`, '/ics/ZZZ/finance']) {
      const response = await page.goto(`${app.url}${p}`);
      expect(response?.status(), p).toBe(404);
      expect(await page.locator('h1').innerText()).toBe('Page not found');
    }
  });
});
