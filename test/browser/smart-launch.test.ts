/**
 * The EHR launch in Chromium, as a clinician does it: sign in, open a patient's page, "Launch"
 * the demo SMART app, allow it on OpenICS's consent page; the app (a separate client, no cookies)
 * gets a token bound to that patient, reads them, and is refused another patient's record.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessFromBearerToken } from '../../src/access/oauth/tokens.js';
import { signInBrowser } from '../support/access.js';
import { CHROMIUM, DESKTOP, PHONE, axeViolations, describeViolations, horizontalOverflow, launchBrowser, screenshot } from '../support/browser.js';
import { type SmartTestApp, startSmartTestApp } from '../support/smart-app.js';

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
/** Dr Chidi Okafor, consultant physician at RWP (a demo user). */
const CLINICIAN = 'chidi.okafor';

describe.skipIf(!CHROMIUM)('launching a SMART app from a patient in Chromium', () => {
  let app: SmartTestApp;
  let browser: Browser;
  let page: Page;
  let ours: string;
  let theirs: string;
  const csp: string[] = [];
  const tokens: string[] = [];

  beforeAll(async () => {
    [app, browser] = await Promise.all([startSmartTestApp(), launchBrowser()]);
    // One patient registered with RWP (a legitimate relationship for RWP's staff), one with RLQ only.
    ours = (await app.store.create({ resourceType: 'Patient', identifier: [{ system: NHS, value: '9434765919' }], name: [{ given: ['Olivia'], family: 'Bennett' }], birthDate: '1958-04-11', managingOrganization: { reference: 'Organization/RWP' } })).id;
    theirs = (await app.store.create({ resourceType: 'Patient', identifier: [{ system: NHS, value: '9434765870' }], name: [{ given: ['Harold'], family: 'Pryce' }], managingOrganization: { reference: 'Organization/RLQ' } })).id;
    await app.store.create({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://snomed.info/sct', code: '27113001', display: 'Body weight' }] }, subject: { reference: `Patient/${ours}` }, valueQuantity: { value: 72, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' } });
    page = await browser.newPage({ viewport: DESKTOP });
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) csp.push(`${page.url()}: ${message.text()}`);
    });
    // The access tokens the app receives, to check what they are bound to.
    page.on('response', (response) => {
      if (response.url().endsWith('/oauth/token') && response.status() === 200) {
        void response.json().then((body: { access_token?: string }) => body.access_token && tokens.push(body.access_token));
      }
    });
    await signInBrowser(page, app, CLINICIAN);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function expectAccessible(label: string): Promise<void> {
    const violations = await axeViolations(page);
    expect(violations, `${label}:\n${describeViolations(violations)}`).toEqual([]);
    expect(csp, 'Content Security Policy violations').toEqual([]);
  }

  it('shows the patient’s page with the apps to launch', async () => {
    await page.goto(`${app.url}/record/patients/${ours}`);
    expect(await page.locator('h1').innerText()).toBe('Olivia Bennett');
    expect(await page.locator('main').innerText()).toContain('943 476 5919');
    await expectAccessible('patient page');
    await screenshot(page, 'smart-patient-page');
    await page.setViewportSize(PHONE);
    expect(await horizontalOverflow(page)).toBe(0);
    await expectAccessible('patient page, phone');
    await page.setViewportSize(DESKTOP);
  });

  it('launches the demo app, which gets a token for that patient only', async () => {
    await page.goto(`${app.url}/record/patients/${ours}`);
    await Promise.all([page.waitForURL(/\/oauth\/interaction\//), page.getByRole('button', { name: 'Launch OpenICS demo SMART app' }).click()]);
    // OpenICS's consent page: who, in which role, which patient, what the app asks for.
    const consent = await page.locator('main').innerText();
    expect(consent).toContain('Allow OpenICS demo SMART app to use OpenICS');
    expect(consent).toContain('Dr Chidi Okafor');
    expect(consent).toContain('Olivia Bennett');
    await expectAccessible('consent page');
    await screenshot(page, 'smart-consent');

    await Promise.all([page.waitForURL(/\/smart-demo\/app\.html/), page.getByRole('button', { name: 'Allow', exact: true }).click()]);
    await page.locator('#status', { hasText: 'Done.' }).waitFor();
    expect(await page.locator('#patient-name').innerText()).toBe('Olivia Bennett');
    expect(await page.locator('#token-patient').innerText()).toBe(ours);
    expect(await page.locator('#observations').innerText()).toBe('1');
    expect((await page.locator('#token-scope').innerText()).split(' ')).toEqual(expect.arrayContaining(['launch', 'patient/*.rs', 'openid', 'fhirUser']));

    // The token the app holds is bound to that patient, in the role the clinician acts in.
    expect(tokens).toHaveLength(1);
    const access = await accessFromBearerToken(app.database.db, tokens[0] ?? '');
    expect(access).toMatchObject({ kind: 'user', subject: 'demo-chidi-okafor', role: 'doctor', organisation: 'RWP', patient: ours, clientId: 'openics-demo-smart-app' });

    // Another patient's record is refused.
    await page.getByLabel('Patient id').fill(theirs);
    await page.getByRole('button', { name: 'Try to read' }).click();
    await page.locator('#other-result', { hasText: 'Could not read' }).waitFor();
    expect(await page.locator('#other-result').innerText()).toMatch(new RegExp(`Could not read Patient/${theirs}: (403|404)`));
    await expectAccessible('demo app');
    await screenshot(page, 'smart-demo-app');

    // And the same refusal straight from the FHIR API with the app's token.
    const direct = await fetch(`${app.url}/fhir/Patient/${theirs}`, { headers: { authorization: `Bearer ${tokens[0] ?? ''}` } });
    expect([403, 404]).toContain(direct.status);
    const allowed = await fetch(`${app.url}/fhir/Patient/${ours}`, { headers: { authorization: `Bearer ${tokens[0] ?? ''}` } });
    expect(allowed.status).toBe(200);
  });
});
