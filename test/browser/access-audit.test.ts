/**
 * The audit trail's pages in Chromium: a citizen reads who has looked at their record (two pages
 * of it), and a privacy officer reads the break-glass accesses and unusual access, makes a
 * mistake in a review, then records it. Every page gets `checkPage`: axe at desktop and phone
 * width, no sideways scrolling on a phone, screenshots, and no Content Security Policy violations.
 */
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAccess } from '../../src/access/audit/trail.js';
import type { AccessContext, AccessRecord, RoleCode } from '../../src/access/context.js';
import { patientKey } from '../../src/fhir/indexer.js';
import { type AuditTestApp, accessHeader, startAuditTestApp } from '../support/audit-app.js';
import { CHROMIUM, DESKTOP, checkPage, cspViolations, launchBrowser } from '../support/browser.js';

const staff = (subject: string, display: string, role: RoleCode, organisation: string, purpose: AccessContext['purpose'] = 'TREAT'): AccessContext => ({ kind: 'user', subject, display, role, organisation, scopes: [], purpose });
const GP = staff('u-patel', 'Dr Nisha Patel', 'doctor', 'M81001');
const NURSE = staff('u-okafor', 'Sam Okafor', 'nurse', 'RWP');
const ED_DOCTOR = staff('u-price', 'Dr Tom Price', 'doctor', 'RLQ', 'ETREAT');
const SOCIAL = staff('u-hughes', 'Gareth Hughes', 'social_worker', 'E10000034');
const CURIOUS = staff('u-curious', 'Alex Curious', 'administrator', 'RWP');
const OFFICER = staff('u-privacy', 'Priya Shah', 'privacy_officer', 'QGH', 'HSYSADMIN');
const CITIZEN: AccessContext = { kind: 'user', subject: 'c-jane', display: 'Jane Example', role: 'citizen', scopes: [], ownPatients: ['jane-gp', 'jane-rwp'], purpose: 'PATRQT' };
const FEED: AccessContext = { kind: 'client', subject: 'rwp-pas-feed', display: 'Worcestershire Acute PAS feed', organisation: 'RWP', scopes: [], purpose: 'HSYSADMIN' };

describe.skipIf(!CHROMIUM)('the audit trail’s pages in Chromium', () => {
  let t: AuditTestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [t, browser] = await Promise.all([startAuditTestApp({ today: '2026-03-10' }), launchBrowser()]);
    page = await browser.newPage({ viewport: DESKTOP });
    cspViolations(page);
    const db = t.database.db;
    const at = (day: number, hour: number, minute = 0): Date => new Date(Date.UTC(2026, 2, day, hour, minute));
    const record = (context: AccessContext, patient: string, when: Date, extra: Partial<AccessRecord> = {}): AccessRecord => ({ context, action: 'read', outcome: 'success', patients: [patient], what: `Patient/${patient}`, at: when, ...extra });
    const records: AccessRecord[] = [];
    // A month of ordinary care: the GP, the hospital's nurse, the hospital's feed, the council.
    for (let day = 1; day <= 9; day++) {
      records.push(record(GP, 'jane-gp', at(day, 9, 10), { action: 'search', what: 'Condition?patient' }));
      records.push(record(NURSE, 'jane-rwp', at(day, 14, 30), { action: 'search', what: 'Observation?code,patient' }));
      records.push(record(FEED, 'jane-rwp', at(day, 2, 5), { action: 'transaction', what: 'Bundle' }));
    }
    records.push(record(SOCIAL, 'jane-gp', at(5, 11), { action: 'read', what: 'CarePlan/cp-1' }));
    records.push(record(ED_DOCTOR, 'jane-gp', at(7, 23, 40), { action: 'break-glass', detail: 'Brought in unconscious by ambulance; no care relationship yet' }));
    records.push(record(ED_DOCTOR, 'jane-gp', at(7, 23, 42), { action: 'operation', what: 'Patient/jane-gp/$everything' }));
    records.push(record(NURSE, 'jane-rwp', at(8, 10), { outcome: 'refused', detail: 'sensitive record withheld', what: 'DocumentReference/d-9' }));
    records.push(record(CITIZEN, 'jane-gp', at(9, 20)));
    // Someone who opens thirty residents' records in one afternoon.
    for (let p = 0; p < 30; p++) records.push(record(CURIOUS, `resident-${p}`, at(8, 13, p)));
    for (const r of records) await recordAccess(db, r);
    await db.query(
      `INSERT INTO access_break_glass (id, user_subject, user_display, role, organisation, patient_id, patient_key, person_key, reason, granted_at, expires_at)
       VALUES ('bg-7', $1, $2, $3, $4, 'jane-gp', $5, $5, 'Brought in unconscious by ambulance; no care relationship yet', '2026-03-07T23:40:00Z', '2026-03-08T07:40:00Z')`,
      [ED_DOCTOR.subject, ED_DOCTOR.display, ED_DOCTOR.role, ED_DOCTOR.organisation, patientKey('jane-gp')],
    );
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function as(access: AccessContext): Promise<void> {
    await page.setExtraHTTPHeaders(accessHeader(access));
  }

  const check = (name: string): Promise<void> => checkPage(page, `audit-${name}`);

  const text = async (selector: string): Promise<string> => (await page.locator(selector).first().innerText()).replace(/\s+/g, ' ');

  async function submit(button: string): Promise<Response> {
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: button }).click()]);
    await page.waitForLoadState('load');
    return response;
  }

  it('shows a citizen who has looked at their record, newest first, two pages of it', async () => {
    await as(CITIZEN);
    const response = await page.goto(`${t.url}/my/record/access-log`);
    expect(response?.status()).toBe(200);
    const main = await text('main');
    expect(main).toContain('Who has looked at your record');
    expect(main).toContain('Accesses 1 to 20 of 32');
    // Newest first: Jane herself on the 9th, then the 9th's nurse and GP.
    const firstRows = (await page.locator('tbody tr').allInnerTexts()).map((r) => r.replace(/\s+/g, ' '));
    expect(firstRows[0]).toContain('You');
    expect(firstRows[0]).toContain('9 March 2026 at 8:00pm');
    expect(main).toContain('Dr Tom Price');
    expect(main).toContain('Doctor, Wye Valley NHS Trust');
    expect(main).toContain('Emergency access');
    expect(main).toContain('Brought in unconscious by ambulance; no care relationship yet');
    expect(main).toContain('Looked at your whole record');
    expect(main).toContain('Tried: looked at your letters and documents (refused)');
    expect(main).toContain('Worcestershire Acute PAS feed');
    expect(main).toContain('Gareth Hughes Social worker, Worcestershire County Council');
    expect(main).not.toContain('Alex Curious');
    await check('citizen-access-log');

    await page.getByRole('link', { name: /Page 2 of 2/ }).click();
    await page.waitForLoadState('load');
    expect(await text('main')).toContain('Accesses 21 to 32 of 32');
    expect(await text('main')).toContain('1 March 2026 at 2:05am Worcestershire Acute PAS feed');
    await check('citizen-access-log-page-2');
  });

  it('shows a privacy officer break-glass access to review and unusual access, with a chart', async () => {
    await as(OFFICER);
    const response = await page.goto(`${t.url}/access/privacy`);
    expect(response?.status()).toBe(200);
    const main = await text('main');
    expect(main).toContain('Break-glass access to review (1)');
    expect(main).toContain('Dr Tom Price');
    expect(main).toContain('Alex Curious');
    expect(main).toContain('Far more records than usual for their organisation');
    expect(await page.locator('figure.openics-chart svg[role="graphics-document document"]').count()).toBeGreaterThan(0);
    await check('privacy');
  });

  it('takes a privacy officer’s review of a break-glass access, mistakes first', async () => {
    await as(OFFICER);
    await page.goto(`${t.url}/access/privacy`);
    await page.getByRole('link', { name: /Review the access by Dr Tom Price/ }).click();
    await page.waitForLoadState('load');
    expect(await text('main')).toContain('Brought in unconscious by ambulance');
    await check('break-glass-review');

    await page.locator('#review-verdict-2').check();
    expect((await submit('Record the review')).status()).toBe(422);
    expect(await text('.nhsuk-error-summary')).toContain('Say why the access was inappropriate and what happens next');
    await check('break-glass-review-error');

    await page.locator('#review-verdict').check();
    await page.locator('#review-note').fill('ED attendance confirmed in the PAS; appropriate.');
    expect((await submit('Record the review')).status()).toBe(303);
    expect(await text('.nhsuk-notification-banner--success')).toContain('Review recorded.');
    expect(await text('main')).toContain('Break-glass access to review (0)');
    expect(await text('main')).toContain('by Priya Shah');
    await check('privacy-after-review');
  });

  it('refuses a citizen the privacy officer’s pages, and staff the citizen’s page', async () => {
    await as(CITIZEN);
    expect((await page.goto(`${t.url}/access/privacy`))?.status()).toBe(403);
    expect(await text('main')).toContain('You cannot see this page');
    await as(GP);
    expect((await page.goto(`${t.url}/my/record/access-log`))?.status()).toBe(403);
  });
});
