/**
 * The shared care record in Chromium, as a clinician uses it in the demo: Dr Chidi Okafor
 * (consultant physician at Worcestershire Acute, RWP) finds Keith Clarke, whose records come from
 * his practice, both acute trusts, the mental health trust, the ambulance service and the county
 * council (whose copy has no NHS number), opens the joined record, sees each item's source and
 * date, filters it by setting and time; mistakes in the search form are named; someone RWP has
 * no relationship with is offered break-glass; and Keith sees Dr Okafor's look in his own audit
 * view. Every page is checked with axe (WCAG 2.2 AA) at desktop and phone width.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoResidents } from '../../src/demo.js';
import { FhirStore } from '../../src/fhir/store.js';
import { recordWriteHook } from '../../src/record/write-hook.js';
import { signInBrowser } from '../support/access.js';
import { type TestApp, startTestApp } from '../support/app.js';
import { CHROMIUM, DESKTOP, checkPage, cspViolations, launchBrowser } from '../support/browser.js';

const CLINICIAN = 'chidi.okafor';
const KEITH = { nhsNumber: '9995354209', shown: '999 535 4209', username: 'keith.clarke' };

describe.skipIf(!CHROMIUM)('the shared care record in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let stranger: string;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    await loadDemoResidents(app.database.db);
    // Someone known only to Wye Valley (RLQ): RWP's staff have no relationship with them.
    stranger = (await new FhirStore(app.database.db, { onWrite: recordWriteHook }).create({
      resourceType: 'Patient',
      meta: { source: 'urn:openics:source:RLQ:pas' },
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' }],
      name: [{ family: 'Pryce', given: ['Harold'] }],
      birthDate: '1950-02-01',
      managingOrganization: { reference: 'Organization/RLQ' },
    })).id;
    context = await browser.newContext({ viewport: DESKTOP });
    page = await context.newPage();
    cspViolations(page);
    await signInBrowser(page, app, CLINICIAN);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const main = async (): Promise<string> => (await page.locator('main').innerText()).replace(/\s+/g, ' ');

  const check = (name: string): Promise<void> => checkPage(page, `record-${name}`);

  it('names the mistakes in a search: an NHS number failing Modulus 11, a date that is not a date', async () => {
    await page.goto(`${app.url}/record`);
    expect(await page.locator('h1').innerText()).toBe('Find a resident’s record');
    await check('find');
    await page.getByLabel('NHS number').fill('999 535 4208');
    await Promise.all([page.waitForURL(/nhsNumber=/), page.getByRole('button', { name: 'Search by NHS number' }).click()]);
    const summary = page.locator('.nhsuk-error-summary');
    expect(await summary.innerText()).toContain('Modulus 11');
    expect(await summary.locator('a').getAttribute('href')).toBe('#nhsNumber');
    await check('find-error-nhs-number');

    await page.getByLabel('Family name').fill('Clarke');
    await page.getByLabel('Day').fill('31');
    await page.getByLabel('Month').fill('2');
    await page.getByLabel('Year').fill('1950');
    await Promise.all([page.waitForURL(/by=name/), page.getByRole('button', { name: 'Search by name and date of birth' }).click()]);
    expect(await page.locator('.nhsuk-error-summary').innerText()).toContain('Date of birth must be a real date');
    expect(await page.title()).toMatch(/^Error: /);
    // What was typed stays in the form to be corrected.
    expect(await page.getByLabel('Family name').inputValue()).toBe('Clarke');
    expect(await page.getByLabel('Day').inputValue()).toBe('31');
    await check('find-error-date');
  });

  it('finds Keith Clarke by NHS number: one row, with the organisations holding his records', async () => {
    await page.goto(`${app.url}/record`);
    await page.getByLabel('NHS number').fill(KEITH.shown);
    await Promise.all([page.waitForURL(/nhsNumber=/), page.getByRole('button', { name: 'Search by NHS number' }).click()]);
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(1);
    const row = (await rows.first().innerText()).replace(/\s+/g, ' ');
    expect(row).toContain('Keith');
    expect(row).toContain(KEITH.shown);
    expect(row).toContain('Worcestershire Acute Hospitals NHS Trust (RWP)');
    // The council's copy has no NHS number: the master patient index says it is his.
    expect(row).toContain('Worcestershire County Council (E10000034)');
    // The search is audited with the Patients found, never with what was searched for.
    const { rows: audited } = await app.database.db.query<{ event: string; patients: string[] }>("SELECT event, patients FROM access_audit_event WHERE action = 'search' AND agent_kind = 'user' ORDER BY sequence DESC LIMIT 1");
    expect(audited[0]?.patients.length).toBeGreaterThan(0);
    expect(audited[0]?.event).not.toContain(KEITH.nhsNumber);
    expect(audited[0]?.event).not.toContain('Clarke');
    await check('find-results');
  });

  it('opens one joined record with every source, each item’s organisation and date', async () => {
    await page.goto(`${app.url}/record?nhsNumber=${KEITH.nhsNumber}`);
    await Promise.all([page.waitForURL(/\/record\/patients\//), page.locator('tbody tr a').first().click()]);
    expect(await page.locator('h1').innerText()).toMatch(/^Keith( \w+)* Clarke$/);
    const text = await main();
    expect(text).toContain(KEITH.shown);
    // The sources: practice, acute trust and the council, whose copy has no NHS number.
    const sources = (await page.locator('table', { has: page.locator('caption', { hasText: /organisations hold records/ }) }).innerText()).replace(/\s+/g, ' ');
    expect(sources).toContain('GP practice');
    expect(sources).toContain('Worcestershire Acute Hospitals NHS Trust (RWP)');
    expect(sources).toMatch(/Worcestershire County Council \(E10000034\) Social care .*No NHS number/);
    // Items carry their source and date, on one timeline across settings.
    const timeline = (await page.locator('table', { has: page.locator('caption', { hasText: /Encounters and admissions/ }) }).innerText()).replace(/\s+/g, ' ');
    expect(timeline).toMatch(/\d{1,2} [A-Z][a-z]+ \d{4}/);
    expect(timeline).toContain('Worcestershire County Council (E10000034)');
    expect(timeline).toContain('(RWP)');
    expect(text).toContain('Social care involvement');
    expect(text).toContain('No allergies recorded');
    // Documents held elsewhere open through the record (audited there), never straight from the holder's address.
    const documents = page.locator('#documents ~ ul a[href^="/record/documents/"]');
    expect(await documents.count()).toBeGreaterThan(0);
    expect(await documents.first().innerText()).toMatch(/^Discharge summary, \d{1,2} [A-Z][a-z]+ \d{4}$/);
    await check('joined-record');
    const record = page.url();
    await Promise.all([page.waitForURL(/\/demo-repository\//), documents.first().click()]);
    expect(await page.locator('body').innerText()).toContain('Discharge summary');
    await page.goto(record);
  });

  it('filters the record by setting and time', async () => {
    await page.getByLabel('Social care', { exact: true }).check();
    await page.getByLabel('Time', { exact: true }).selectOption('all');
    await Promise.all([page.waitForURL(/setting=social-care/), page.getByRole('button', { name: 'Apply filters' }).click()]);
    const timeline = page.locator('table', { has: page.locator('caption', { hasText: /Encounters and admissions/ }) });
    const sources = await timeline.locator('tbody tr td:last-child').allInnerTexts();
    expect(sources.length).toBeGreaterThan(0);
    for (const s of sources) expect(s).toContain('Worcestershire County Council');
    expect(await main()).toContain('No current problems recorded with these filters.');
    await check('joined-record-filtered');

    const url = new URL(page.url());
    url.search = '?period=3m&setting=acute';
    await page.goto(url.href);
    expect(await page.getByLabel('Time', { exact: true }).inputValue()).toBe('3m');
    expect(await page.getByLabel('Hospital (acute)').isChecked()).toBe(true);
  });

  it('offers break-glass, in a clinician’s words, for someone RWP has no relationship with', async () => {
    await page.goto(`${app.url}/record?nhsNumber=9434765919`);
    const text = await main();
    expect(text).toContain('You do not have a care relationship with this person');
    expect(await page.getByRole('link', { name: /break the glass/ }).getAttribute('href')).toBe(`/access/break-glass?patient=${stranger}`);
    await check('find-no-relationship');

    const response = await page.goto(`${app.url}/record/patients/${stranger}`);
    expect(response?.status()).toBe(403);
    expect(await main()).toContain('Neither you nor Worcestershire Acute Hospitals NHS Trust has a care relationship with this person');
    expect(await main()).not.toContain('/api/access');
    await check('record-refused');
  });

  it('shows Keith that Dr Chidi Okafor looked at his record', async () => {
    const his = await browser.newContext({ viewport: DESKTOP });
    const keithPage = await his.newPage();
    await signInBrowser(keithPage, app, KEITH.username);
    await keithPage.goto(`${app.url}/my/record/access-log`);
    expect((await keithPage.locator('main').innerText()).replace(/\s+/g, ' ')).toContain('Dr Chidi Okafor');
    await his.close();
  });
});
