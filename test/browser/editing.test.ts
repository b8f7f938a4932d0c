/**
 * Editing the structure as a user would, in Chromium: the forms on a body's page post, redirect
 * back with a success banner, and the rules check on the page shows at once what the edit
 * caused. A form with mistakes comes back with the NHS error summary and writes nothing.
 */
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCurrent, today } from '../../src/structure/model.js';
import { loadStructure } from '../../src/structure/repository.js';
import { ADMINISTRATOR, signInBrowser } from '../support/access.js';
import { type TestApp, startTestApp } from '../support/app.js';
import { CHROMIUM, DESKTOP, PHONE, axeViolations, cspViolations, describeViolations, horizontalOverflow, launchBrowser, screenshot } from '../support/browser.js';

const BOARD = '/ics/QGH/bodies/QGH-board';
const BROMSGROVE = '/ics/QGH/bodies/QGH-place-E07000234';

describe.skipIf(!CHROMIUM)('editing bodies in Chromium', () => {
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

  /** Clicks a submit button and returns the answer to the form's POST (before any redirect is followed). */
  async function submit(button: ReturnType<Page['locator']>): Promise<Response> {
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), button.click()]);
    await page.waitForLoadState('load');
    return response;
  }

  async function expectAccessible(label: string): Promise<void> {
    const violations = await axeViolations(page);
    expect(violations, `${label}:\n${describeViolations(violations)}`).toEqual([]);
    expect(cspViolations(page), 'Content Security Policy violations').toEqual([]);
  }

  const breaches = (): ReturnType<Page['locator']> => page.locator('main .openics-breach');
  const mainText = async (): Promise<string> => (await page.locator('main').innerText()).replace(/\s+/g, ' ');

  async function boardMembers(): Promise<number> {
    const s = await loadStructure(app.database.db, 'QGH');
    return s.memberships.filter((m) => m.bodyId === 'QGH-board').length;
  }

  it('ending the director of nursing’s term shows the breach; appointing a new one clears it', async () => {
    await page.goto(`${app.url}${BOARD}`);
    expect(await breaches().count()).toBe(0);

    const nurse = page.locator('table.openics-members tbody tr', { hasText: 'Catherine Bowen' });
    expect(await nurse.innerText()).toContain('Director of nursing');
    await nurse.getByLabel('End date').fill('2025-03-31');
    const ended = await submit(nurse.getByRole('button', { name: 'End term of Catherine Bowen' }));
    expect(ended.status()).toBe(303);
    expect(page.url()).toBe(`${app.url}${BOARD}?done=term-ended`);

    expect(await page.locator('.nhsuk-notification-banner--success').innerText()).toContain('Term ended');
    expect(await breaches().count()).toBe(1);
    const breach = (await breaches().innerText()).replace(/\s+/g, ' ');
    expect(breach).toContain('The board has no director of nursing in post.');
    expect(breach).toContain('“Executives (employed by NHS Body): Chief Nursing Officer”');
    expect(breach).toContain('ICS Body minimum membership');
    expect(breach).toContain('icb-board-director-of-nursing');
    expect(await page.locator('table.openics-members tr', { hasText: 'Catherine Bowen' }).count()).toBe(0);
    expect(await page.locator('details', { hasText: 'Catherine Bowen' }).textContent()).toContain('1 July 2022 to 31 March 2025');
    await expectAccessible('board with a breach');
    await page.setViewportSize(PHONE);
    await expectAccessible('board with a breach at phone width');
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(1);
    await screenshot(page, 'board-breach-phone');
    await page.setViewportSize(DESKTOP);

    // The rules check of the whole ICS says the same.
    await page.goto(`${app.url}/ics/QGH/rules`);
    expect(await page.locator('#rule-icb-board-director-of-nursing').innerText()).toContain('The board has no director of nursing in post.');
    expect(await page.locator('#rule-icb-board-director-of-nursing a').getAttribute('href')).toBe(BOARD);
    await page.goto(`${app.url}/ics/QGH`);
    expect(await mainText()).toContain('1 breach');

    await page.goto(`${app.url}${BOARD}`);
    await page.locator('#member-personName').fill('Ruth Okonedo');
    await page.locator('#member-role').selectOption('director_of_nursing');
    await page.locator('#member-orgCode').selectOption('QGH');
    await page.locator('#member-startDate').fill('2025-04-01');
    const added = await submit(page.getByRole('button', { name: 'Add member' }));
    expect(added.status()).toBe(303);
    expect(page.url()).toBe(`${app.url}${BOARD}?done=member-added`);
    expect(await page.locator('.nhsuk-notification-banner--success').innerText()).toContain('Member added');
    expect(await breaches().count()).toBe(0);
    expect(await mainText()).toContain('meets every rule that applies');
    const ruth = await page.locator('table.openics-members tr', { hasText: 'Ruth Okonedo' }).innerText();
    expect(ruth).toContain('Director of nursing');
    expect(ruth).toContain('From 1 April 2025');
    await expectAccessible('board after adding a member');
  });

  it('choosing the lead provider form without a lead provider shows the breach; naming one clears it', async () => {
    await page.goto(`${app.url}${BROMSGROVE}`);
    expect(await breaches().count()).toBe(0);
    expect(await page.locator('input[name="form"][value="consultative_forum"]').isChecked()).toBe(true);

    await page.getByLabel('Lead provider at place').check();
    await page.locator('#settings-leadOrgCode').selectOption('');
    const saved = await submit(page.getByRole('button', { name: 'Save changes' }));
    expect(saved.status()).toBe(303);
    expect(await page.locator('.nhsuk-notification-banner--success').innerText()).toContain('Changes saved');
    expect(await breaches().count()).toBe(1);
    const breach = (await breaches().innerText()).replace(/\s+/g, ' ');
    expect(breach).toContain('The partnership takes the lead provider form but names no lead provider.');
    expect(breach).toContain('Lead provider at Place.');
    expect(await page.locator('input[name="form"][value="lead_provider"]').isChecked()).toBe(true);
    await expectAccessible('place partnership with a breach');
    await screenshot(page, 'place-partnership-breach-desktop');

    await page.locator('#settings-leadOrgCode').selectOption('R1A');
    await submit(page.getByRole('button', { name: 'Save changes' }));
    expect(await breaches().count()).toBe(0);
    const summary = await page.locator('main .nhsuk-summary-list').first().innerText();
    expect(summary).toContain('Lead provider at place');
    expect(summary).toContain('Herefordshire and Worcestershire Health and Care NHS Trust');
  });

  it('a provider collaborative’s model can be changed, and a lead provider outside it is a breach', async () => {
    await page.goto(`${app.url}/ics/QGH/bodies/QGH-collaborative-acute`);
    expect(await page.locator('input[name="model"]').count()).toBe(3);
    await page.locator('input[name="model"][value="lead_provider"]').check();
    await page.locator('#settings-leadOrgCode').selectOption('R1A');
    expect((await submit(page.getByRole('button', { name: 'Save changes' }))).status()).toBe(303);
    expect((await breaches().innerText()).replace(/\s+/g, ' ')).toContain('The collaborative uses the lead provider model but its lead provider is not named among its members.');

    await page.locator('#settings-leadOrgCode').selectOption('RLQ');
    await submit(page.getByRole('button', { name: 'Save changes' }));
    expect(await breaches().count()).toBe(0);
    await page.goto(`${app.url}/ics/QGH/collaboratives`);
    const acute = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
    expect(acute).toContain('Governance model Lead provider Lead provider Wye Valley NHS Trust');
  });

  it('an add-member form with no name and no start date shows the error summary, keeps what was typed, and writes nothing', async () => {
    const before = await boardMembers();
    await page.goto(`${app.url}${BOARD}`);
    const rowsBefore = await page.locator('table.openics-members tbody tr').count();
    await page.locator('#member-role').selectOption('non_executive_director');
    await page.locator('#member-voting-2').check();
    await page.locator('#member-endDate').fill('2029-06-30');
    const refused = await submit(page.getByRole('button', { name: 'Add member' }));
    expect(refused.status()).toBe(422);
    expect(await page.title()).toMatch(/^Error: /);

    const summary = page.locator('.nhsuk-error-summary');
    expect(await summary.locator('h2').innerText()).toBe('There is a problem');
    const links = summary.locator('a');
    const hrefs = await Promise.all((await links.all()).map((a) => a.getAttribute('href')));
    expect(hrefs).toEqual(['#member-personName', '#member-startDate']);
    expect(await summary.innerText()).toContain('Enter the name of the member, or choose an existing person');
    expect(await summary.innerText()).toContain('Enter the date the term starts');
    expect(await page.locator('#member-personName-error').innerText()).toContain('Enter the name of the member');
    expect(await page.locator('#member-startDate-error').innerText()).toContain('Enter the date the term starts');
    // Each link in the summary leads to its field.
    await links.first().click();
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('member-personName');
    // What the user chose is still there.
    expect(await page.locator('#member-role').inputValue()).toBe('non_executive_director');
    expect(await page.locator('#member-endDate').inputValue()).toBe('2029-06-30');
    expect(await page.locator('input[name="voting"][value="no"]').isChecked()).toBe(true);
    await expectAccessible('add-member errors');
    await page.setViewportSize(PHONE);
    await expectAccessible('add-member errors at phone width');
    await screenshot(page, 'board-errors-phone');
    await page.setViewportSize(DESKTOP);

    expect(await boardMembers()).toBe(before);
    expect(await page.locator('table.openics-members tbody tr').count()).toBe(rowsBefore);
  });

  it('an end date before the term started is refused on that row', async () => {
    await page.goto(`${app.url}${BOARD}`);
    const chair = page.locator('table.openics-members tbody tr', { hasText: 'Eleanor Whitcombe' });
    await chair.getByLabel('End date').fill('2020-01-01');
    const refused = await submit(chair.getByRole('button', { name: /End term/ }));
    expect(refused.status()).toBe(422);
    const summary = await page.locator('.nhsuk-error-summary').innerText();
    expect(summary).toContain('The end of the term must be on or after its start');
    const href = await page.locator('.nhsuk-error-summary a').getAttribute('href');
    expect(href).toMatch(/^#end-/);
    expect(await page.locator(`${href ?? ''}`).inputValue()).toBe('2020-01-01');
    const s = await loadStructure(app.database.db, 'QGH');
    const chairTerm = s.memberships.find((m) => m.bodyId === 'QGH-board' && m.role === 'chair');
    expect(chairTerm?.endDate).toBe('2029-06-30');
    expect(chairTerm && isCurrent(chairTerm, today())).toBe(true);
  });

  it('organisations can be added to and removed from a body', async () => {
    await page.goto(`${app.url}${BROMSGROVE}`);
    await page.locator('#organisation-orgCode').selectOption('L-VCSE-AGE-UK-HW');
    await submit(page.getByRole('button', { name: 'Add organisation' }));
    expect(await page.locator('.nhsuk-notification-banner--success').innerText()).toContain('Organisation added');
    expect(await page.locator('#organisations + table, #organisations ~ table').first().innerText()).toContain('Age UK Herefordshire and Worcestershire');

    const removed = await submit(page.getByRole('button', { name: 'Remove Age UK Herefordshire and Worcestershire' }));
    expect(removed.status()).toBe(303);
    expect(await page.locator('.nhsuk-notification-banner--success').innerText()).toContain('Organisation removed');
    expect(await page.getByRole('button', { name: 'Remove Age UK Herefordshire and Worcestershire' }).count()).toBe(0);
  });

  it('a PCN clinical director can be appointed', async () => {
    await page.goto(`${app.url}/ics/QGH/pcns/U32349`);
    await page.locator('#cd-personName').fill('Dr Femi Adebayo');
    await page.locator('#cd-startDate').fill('2025-10-01');
    const appointed = await submit(page.getByRole('button', { name: 'Appoint clinical director' }));
    expect(appointed.status()).toBe(303);
    expect(await page.locator('.nhsuk-notification-banner--success').innerText()).toContain('Clinical director appointed');
    const cd = await page.locator('main .nhsuk-summary-list').innerText();
    expect(cd).toContain('Dr Femi Adebayo');
    expect(cd).toContain('Since 1 October 2025');
    expect(await page.locator('details', { hasText: 'Clinical directors over time' }).textContent()).toContain('Dr Aisha Rahman');
  });
});
