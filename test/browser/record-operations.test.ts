/**
 * The shared care record's operator pages in Chromium, as an ICB administrator (Gareth Wilson)
 * uses them: his home page offers the matching review queue and the refused feed messages; he
 * compares a possible match field by field and links it, sees the resident's link history, and
 * inspects then discards a partner's malformed message. Every page is checked with axe (WCAG 2.2
 * AA) at desktop and phone width, without sideways scrolling or Content Security Policy
 * violations, and screenshotted.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirStore } from '../../src/fhir/store.js';
import { keepDeadLetter } from '../../src/record/feeds/dead-letters.js';
import { recordWriteHook } from '../../src/record/write-hook.js';
import { signInBrowser } from '../support/access.js';
import { type TestApp, startTestApp } from '../support/app.js';
import { CHROMIUM, DESKTOP, checkPage, cspViolations, launchBrowser } from '../support/browser.js';

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';

/** One woman as her practice knows her and as the hospital does after her marriage and move, without an NHS number. */
function zara(id: string, holder: string, family: string, line: string, postcode: string, nhsNumber?: string): Patient {
  return {
    resourceType: 'Patient',
    id,
    meta: { source: `urn:openics:source:${holder}:test` },
    ...(nhsNumber ? { identifier: [{ system: NHS, value: nhsNumber }] } : {}),
    name: [{ family, given: ['Zara'] }],
    gender: 'female',
    birthDate: '1972-05-09',
    address: [{ line: [line], postalCode: postcode }],
  };
}

describe.skipIf(!CHROMIUM)('the shared care record’s operator pages in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    const store = new FhirStore(app.database.db, { onWrite: recordWriteHook });
    await store.update('Patient', 'gp-zara', zara('gp-zara', 'M81001', 'Whitlock', '3 Lark Rise', 'HR2 7PL', '9990000034'));
    await store.update('Patient', 'acute-zara', zara('acute-zara', 'RWP', 'Mortimer', '18 Bridge Street', 'WR1 3NF'));
    await keepDeadLetter(app.database.db, {
      sender: { clientId: 'rwp-pas-feed', display: 'Worcestershire Acute PAS feed', organisation: 'RWP' },
      request: { method: 'POST', endpoint: '/fhir/Patient', contentType: 'application/fhir+json', scopes: 'system/*.cruds' },
      body: '{"resourceType":"Patient","birthDate":"1972-13-40"}',
      status: 400,
      outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'value', diagnostics: 'Invalid date', expression: ['Patient.birthDate'] }] },
    });
    page = await (await browser.newContext({ viewport: DESKTOP })).newPage();
    cspViolations(page);
    await signInBrowser(page, app, 'gareth.wilson');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const main = async (): Promise<string> => (await page.locator('main').innerText()).replace(/\s+/g, ' ');

  const check = (name: string): Promise<void> => checkPage(page, `record-operations-${name}`);

  it('offers an administrator the review queue and the refused messages on the home page', async () => {
    await page.goto(`${app.url}/`);
    expect(await page.locator('h1').first().innerText()).toBe('Your work');
    const tasks = page.locator('.nhsuk-card__heading');
    expect(await tasks.allInnerTexts()).toEqual(['Possible matches to review', 'Refused feed messages']);
    await check('home');
  });

  it('compares a possible match field by field, links it with a reason, and shows the resident’s history', async () => {
    await page.goto(`${app.url}/`);
    await Promise.all([page.waitForURL(/\/record\/matching$/), page.getByRole('link', { name: 'Possible matches to review' }).click()]);
    const text = await main();
    expect(text).toContain('1 possible match waiting');
    expect(text).toContain('Whitlock');
    expect(text).toContain('Mortimer');
    await check('matching');
    // A decision needs a reason: the error names the field and keeps the choice.
    await page.getByLabel('Yes, link them').check();
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Record the decision' }).click()]);
    expect(await page.locator('.nhsuk-error-summary').innerText()).toMatch(/Say why/);
    expect(await page.getByLabel('Yes, link them').isChecked()).toBe(true);
    await check('matching-error');
    await page.getByLabel('Reason').fill('Same date of birth and given name; married surname confirmed with the practice.');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Record the decision' }).click()]);
    expect(await main()).toContain('There are no possible matches waiting for review.');
    const { rows } = await app.database.db.query<{ resident_id: string }>("SELECT resident_id FROM mpi_source_patient WHERE patient_id IN ('gp-zara', 'acute-zara')");
    expect(new Set(rows.map((r) => r.resident_id)).size).toBe(1);
    await page.goto(`${app.url}/record/matching/residents/${encodeURIComponent(rows[0]?.resident_id ?? '')}`);
    const history = await main();
    expect(history).toContain('acute-zara');
    expect(history).toMatch(/married surname confirmed/);
    await check('resident-history');
  });

  it('shows a partner’s refused message with what was wrong, and discards it with a reason', async () => {
    await page.goto(`${app.url}/`);
    await Promise.all([page.waitForURL(/\/record\/feeds\/dead-letters/), page.getByRole('link', { name: 'Refused feed messages' }).click()]);
    expect(await main()).toContain('Worcestershire Acute PAS feed');
    await check('dead-letters');
    await Promise.all([page.waitForURL(/\/record\/feeds\/dead-letters\/[^/]+$/), page.locator('main a[href^="/record/feeds/dead-letters/"]').first().click()]);
    const letter = await main();
    expect(letter).toContain('Patient.birthDate');
    expect(letter).toContain('Invalid date');
    await check('dead-letter');
    await page.getByLabel('Why discard it').fill('The hospital resent this patient with a corrected date of birth.');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Discard the message' }).click()]);
    expect(await main()).toMatch(/discarded/i);
    const { rows } = await app.database.db.query<{ state: string }>('SELECT state FROM record_feed_dead_letter');
    expect(rows.map((r) => r.state)).toEqual(['discarded']);
  });
});
