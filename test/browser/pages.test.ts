/**
 * Every page of the structure module in a real Chromium against the real server and the demo
 * ICS: it loads, says what the data says, has no WCAG 2.2 AA violations (axe-core) at desktop
 * and phone width, and does not scroll sideways on a phone.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IcsStructure, isCurrent, today } from '../../src/structure/model.js';
import { loadStructure, recentChanges } from '../../src/structure/repository.js';
import { RULES } from '../../src/structure/rules.js';
import { pcnSummaries, practiceSummaries } from '../../src/structure/views.js';
import { ADMINISTRATOR, signInBrowser } from '../support/access.js';
import { type TestApp, startTestApp } from '../support/app.js';
import { CHROMIUM, DESKTOP, PHONE, axeViolations, cspViolations, describeViolations, horizontalOverflow, launchBrowser, screenshot } from '../support/browser.js';

const ICS = '/ics/QGH';

describe.skipIf(!CHROMIUM)('structure pages in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let s: IcsStructure;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    page = await browser.newPage({ viewport: DESKTOP });
    cspViolations(page);
    await signInBrowser(page, app, ADMINISTRATOR);
    s = await loadStructure(app.database.db, 'QGH');
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** Opens a page at desktop then phone width; checks status, accessibility and fit; screenshots if named. */
  async function visit(path: string, options: { status?: number; shot?: string } = {}): Promise<string> {
    const text: string[] = [];
    for (const [width, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
      await page.setViewportSize(viewport);
      const response = await page.goto(`${app.url}${path}`);
      expect(response?.status(), `${path} status`).toBe(options.status ?? 200);
      expect(response?.headers()['content-type']).toContain('text/html');
      const violations = await axeViolations(page);
      expect(violations, `${path} at ${width} width:\n${describeViolations(violations)}`).toEqual([]);
      expect(cspViolations(page), 'Content Security Policy violations').toEqual([]);
      if (width === 'phone') expect(await horizontalOverflow(page), `${path} scrolls sideways at 375px`).toBeLessThanOrEqual(1);
      if (options.shot) await screenshot(page, `${options.shot}-${width}`);
      text.push((await page.locator('main').innerText()).replace(/\s+/g, ' '));
    }
    return text[0] ?? '';
  }

  it('home lists the ICSs held, linked, with practices and patients', async () => {
    const main = await visit('/');
    expect(main).toContain('OpenICS is an open-source platform');
    expect(main).toContain('Herefordshire and Worcestershire');
    expect(main).toContain('812,712');
    expect(await page.locator('main a[href="/ics/QGH"]').count()).toBe(1);
  });

  it('overview shows the system at a glance, its rules status, a chart and its table', async () => {
    const main = await visit(ICS, { shot: 'overview' });
    expect(await page.locator('h1').innerText()).toContain('Herefordshire and Worcestershire');
    expect(main).toContain('7 places, 15 primary care networks (PCNs) and 80 GP practices, with 812,712 registered patients');
    expect(main).toContain('NHS Herefordshire and Worcestershire ICB (QGH)');
    expect(main).toContain(`Passes all ${RULES.length} rules`);
    expect(await page.locator('figure.openics-chart svg:visible').count()).toBe(1);
    expect(await page.locator('figure.openics-chart figcaption').innerText()).toContain('Registered patients by place');
    // The chart's numbers are in a table too, right-aligned.
    const row = page.locator('table tr', { hasText: 'Herefordshire' }).first();
    expect(await row.innerText()).toContain('192,218');
    expect(await page.locator('td.nhsuk-table__cell--numeric').count()).toBeGreaterThan(7 * 3 - 1);
    for (const link of ['places', 'bodies', 'collaboratives', 'functions', 'organisations', 'rules']) {
      expect(await page.locator(`main a[href="${ICS}/${link}"]`).count(), link).toBeGreaterThan(0);
    }
    expect(main).toContain('Recent changes');
    const [latest] = await recentChanges(app.database.db, 'QGH', 1);
    expect(main).toContain(latest?.summary ?? 'a change');
  });

  it('places lists every place with its councils, partnership and numbers', async () => {
    const main = await visit(`${ICS}/places`);
    for (const place of s.places) expect(main).toContain(place.name);
    expect(main).toContain('Worcestershire County Council');
    expect(main).toContain('One Herefordshire Partnership');
    expect(main).toContain('Joint committee of the ICB with one or more partners');
    expect(await page.locator('tbody tr').count()).toBe(7);
  });

  it('a place shows its council, partnership, PCNs with clinical directors, practices and a chart', async () => {
    const place = s.places.find((p) => p.name === 'Herefordshire');
    if (!place) throw new Error('no Herefordshire place in the demo');
    const main = await visit(`${ICS}/places/${place.id}`);
    expect(main).toContain('Herefordshire Council');
    expect(main).toContain('One Herefordshire Partnership');
    const pcns = pcnSummaries(s, today(), (placeId) => placeId === place.id);
    expect(pcns.length).toBe(5);
    for (const pcn of pcns) {
      expect(main).toContain(pcn.name);
      expect(main).toContain(pcn.clinicalDirector?.name ?? 'a clinical director');
    }
    const practices = practiceSummaries(s, (p) => p.placeId === place.id);
    expect(practices.length).toBe(19);
    for (const p of practices) expect(main).toContain(p.name);
    expect(await page.locator('figure.openics-chart svg:visible').count()).toBe(1);
  });

  it('a PCN shows its clinical director and practices with list sizes', async () => {
    const main = await visit(`${ICS}/pcns/U32349`);
    expect(main).toContain('Dr Aisha Rahman');
    const practices = practiceSummaries(s, (p) => p.pcnCode === 'U32349');
    expect(practices.length).toBeGreaterThan(0);
    for (const p of practices) {
      expect(main).toContain(p.name);
      expect(main).toContain((p.registeredPatients ?? 0).toLocaleString('en-GB'));
    }
    expect(await page.locator('form[action$="/clinical-director"] label[for="cd-startDate"]').count()).toBe(1);
  });

  it('a practice shows its summary', async () => {
    const practice = practiceSummaries(s).find((p) => p.pcnCode && p.placeId);
    if (!practice) throw new Error('no practice');
    const main = await visit(`${ICS}/practices/${practice.code}`);
    expect(await page.locator('h1').innerText()).toContain(practice.name);
    for (const value of [practice.code, practice.pcnName ?? '', practice.placeName ?? '', (practice.registeredPatients ?? 0).toLocaleString('en-GB')]) expect(main).toContain(value);
    expect(main).toContain('Weighted population (2025/26)');
  });

  it('organisations are grouped by kind with ODS codes, and trusts say their services', async () => {
    const main = await visit(`${ICS}/organisations`);
    for (const heading of ['NHS trust', 'NHS foundation trust', 'GP practice', 'Primary care network', 'Healthwatch']) {
      expect(await page.locator('h2', { hasText: heading }).count(), heading).toBeGreaterThan(0);
    }
    const wyeValley = await page.locator('tr', { hasText: 'Wye Valley NHS Trust' }).innerText();
    expect(wyeValley).toContain('RLQ');
    expect(wyeValley).toContain('Acute, Community');
    expect(main).toContain('West Midlands Ambulance Service University NHS Foundation Trust');
  });

  it('bodies are grouped by kind with members and breaches', async () => {
    const main = await visit(`${ICS}/bodies`);
    for (const body of s.bodies) expect(await page.locator(`main a[href="${ICS}/bodies/${body.id}"]`).count(), body.name).toBe(1);
    for (const heading of ['ICB board', 'Committees of the ICB board', 'Integrated care partnership', 'Place-based partnerships', 'Provider collaboratives', 'Clinical networks']) {
      expect(await page.locator('h2').getByText(heading, { exact: true }).count(), heading).toBe(1);
    }
    const boardMembers = s.memberships.filter((m) => m.bodyId === 'QGH-board' && isCurrent(m, today())).length;
    expect(boardMembers).toBeGreaterThan(10);
    const board = await page.locator('tbody tr').filter({ has: page.locator(`a[href="${ICS}/bodies/QGH-board"]`) }).innerText();
    expect(board).toContain(String(boardMembers));
    expect(main).toContain('Lead provider at place (lead provider: Herefordshire and Worcestershire Health and Care NHS Trust)');
    expect(await page.locator('.nhsuk-tag--red').count()).toBe(0);
  });

  it('the ICB board page shows its members, committees, rules check and edit forms', async () => {
    const main = await visit(`${ICS}/bodies/QGH-board`, { shot: 'board' });
    expect(main).toContain('meets every rule that applies');
    const nurse = await page.locator('tr', { hasText: 'Catherine Bowen' }).innerText();
    expect(nurse).toContain('Director of nursing');
    expect(nurse).toContain('NHS Herefordshire and Worcestershire ICB');
    expect(main).toContain('Audit and Risk Committee');
    expect(main).toContain('Remuneration Committee');
    // Geoffrey Lane's term ended in 2025: he is a past member, not a current one.
    expect(await page.locator('table.openics-members tr', { hasText: 'Geoffrey Lane' }).count()).toBe(0);
    expect(await page.locator('details', { hasText: 'Geoffrey Lane' }).count()).toBe(1);
    for (const id of ['member-personId', 'member-personName', 'member-role', 'member-orgCode', 'member-voting', 'member-startDate', 'member-endDate', 'organisation-orgCode']) {
      expect(await page.locator(`label[for="${id}"]`).count(), id).toBe(1);
    }
  });

  it('a place partnership page shows its form, lead provider and the form to change it', async () => {
    const main = await visit(`${ICS}/bodies/QGH-place-E07000237`, { shot: 'place-partnership' });
    expect(main).toContain('Worcester Place Partnership');
    expect(main).toContain('Lead provider at place');
    expect(main).toContain('Herefordshire and Worcestershire Health and Care NHS Trust');
    expect(await page.locator('input[name="form"][type="radio"]').count()).toBe(5);
    expect(await page.locator('input[name="form"][value="lead_provider"]').isChecked()).toBe(true);
    expect(await page.locator('#settings-leadOrgCode').inputValue()).toBe('R1A');
  });

  it('collaboratives show their model, lead provider, members, and the trusts in none', async () => {
    const main = await visit(`${ICS}/collaboratives`);
    expect(main).toContain('Mental Health, Learning Disability and Autism Provider Collaborative');
    expect(main).toContain('Lead provider');
    expect(main).toContain('Birmingham and Solihull Mental Health NHS Foundation Trust');
    expect(main).toContain('Provider leadership board');
    expect(main).toContain('Shared leadership or group');
    expect(main).toContain('Every NHS trust');
  });

  it('the rules page lists every rule with its words, source and result', async () => {
    const main = await visit(`${ICS}/rules`, { shot: 'rules' });
    expect(main).toContain(`Passes all ${RULES.length} rules`);
    for (const rule of RULES) {
      const section = page.locator(`#rule-${rule.id}`);
      expect(await section.count(), rule.id).toBe(1);
      const text = (await section.innerText()).replace(/\s+/g, ' ');
      expect(text).toContain(rule.words.replace(/\s+/g, ' '));
      expect(text).toContain(rule.source.section);
      expect(text).toContain('Passed');
    }
  });

  it('the functions map shows every function, who is accountable, its budget and delegations', async () => {
    const main = await visit(`${ICS}/functions`, { shot: 'functions' });
    expect(main).toContain('Delegation never moves accountability: the ICB remains accountable for every function');
    for (const f of s.functions) expect(await page.locator(`#function-${f.id} h3`).innerText()).toBe(f.name);
    const primary = (await page.locator('#function-QGH-fn-primary-medical').innerText()).replace(/\s+/g, ' ');
    expect(primary).toContain('NHS England');
    expect(primary).toContain('Accountable NHS Herefordshire and Worcestershire ICB');
    expect(primary).toContain('£112,000,000');
    expect(primary).toContain('Primary Care Commissioning Committee');
    expect(primary).toContain('1 April 2025');
    expect(await page.locator('#function-QGH-fn-specialised').innerText()).toContain('Retained by NHS Herefordshire and Worcestershire ICB board');
    expect(await page.locator('a', { hasText: 'Download as CSV' }).getAttribute('href')).toBe('/api/ics/QGH/functions?format=csv');
    expect(await page.locator('a', { hasText: 'Download as JSON' }).getAttribute('href')).toBe('/api/ics/QGH/functions');
    expect(await page.locator('figure.openics-chart svg:visible').count()).toBe(1);
  });

  it('keeps the pages out of the OpenAPI document', async () => {
    const openapi = (await (await fetch(`${app.url}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
    const paths = Object.keys(openapi.paths);
    expect(paths).toContain('/api/ics/{ics}/functions');
    expect(paths.filter((p) => p === '/' || p.startsWith('/ics'))).toEqual([]);
  });

  it('answers an unknown ICS, body, place or page with an NHS "Page not found" page', async () => {
    for (const path of ['/ics/ZZZ', '/ics/ZZZ/rules', `${ICS}/bodies/no-such-body`, `${ICS}/places/nowhere`, `${ICS}/pcns/U00000`, `${ICS}/practices/Z99999`, `${ICS}/no-such-page`]) {
      const response = await page.goto(`${app.url}${path}`);
      expect(response?.status(), path).toBe(404);
      expect(response?.headers()['content-type'], path).toContain('text/html');
      expect(await page.locator('h1').innerText(), path).toBe('Page not found');
    }
    await visit('/ics/ZZZ', { status: 404 });
  });
});
