/**
 * The public governance website in a real Chromium against the real server and the demo ICS,
 * without signing in: every page loads with real demo content, has no WCAG 2.2 AA violations
 * (axe-core) at desktop and phone width, does not scroll sideways on a phone, and shows the
 * public nothing that is private or unpublished.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPaperVersion, publishPaper } from '../../src/governance/commands.js';
import { type Meeting } from '../../src/governance/model.js';
import { londonDate, meetingWhen } from '../../src/governance/public-pages.js';
import { listMeetings, paperFile, searchDecisions } from '../../src/governance/repository.js';
import { type IcsStructure, isCurrent, today } from '../../src/structure/model.js';
import { loadStructure } from '../../src/structure/repository.js';
import { type TestApp, startTestApp } from '../support/app.js';
import { CHROMIUM, DESKTOP, PHONE, axeViolations, cspViolations, describeViolations, horizontalOverflow, launchBrowser, screenshot } from '../support/browser.js';

const ICS = '/public/QGH';
const PRIVATE_TITLE = 'Community equipment service: contract award';
const REVISION = 'Corrected the month 6 figures in table 2.';
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "2026-03-03" → "3 March 2026". */
function nhsDate(iso: string): string {
  const [y, m, d] = iso.split('-').map(Number);
  return `${d} ${MONTHS[(m ?? 1) - 1]} ${y}`;
}

describe.skipIf(!CHROMIUM)('the public governance site in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let s: IcsStructure;
  let meetings: (Meeting & { bodyName: string })[];
  /** A published PDF paper given a second, corrected version, and the meeting it belongs to. */
  let revised: { paperId: string; meetingId: string; title: string };

  const one = async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T> => {
    const { rows } = await app.database.db.query<T>(sql, params);
    const row = rows[0];
    if (!row) throw new Error(`the demo has nothing for: ${sql}`);
    return row;
  };

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    page = await browser.newPage({ viewport: DESKTOP });
    cspViolations(page);
    s = await loadStructure(app.database.db, 'QGH');
    meetings = await listMeetings(app.database.db, 'QGH');
    // The board secretary corrects a published PDF paper: version 2 is published with its reason.
    const paper = await one<{ paper_id: string; meeting_id: string }>(
      `SELECT v.paper_id, i.meeting_id FROM paper_version v JOIN paper p ON p.id = v.paper_id JOIN agenda_item i ON i.id = p.agenda_item_id JOIN meeting m ON m.id = i.meeting_id
        WHERE v.format = 'pdf' AND v.published_at IS NOT NULL AND i.part = 'public' AND m.status = 'held' AND m.body_id = 'QGH-board' ORDER BY m.starts_at DESC LIMIT 1`,
    );
    const first = await paperFile(app.database.db, 'QGH', paper.paper_id, 1, 'staff');
    await addPaperVersion(app.database.db, 'QGH', paper.paper_id, { file: { filename: first.filename, bytes: first.content }, reason: REVISION }, 'browser test');
    await publishPaper(app.database.db, 'QGH', paper.paper_id, 'browser test');
    revised = { paperId: paper.paper_id, meetingId: paper.meeting_id, title: first.title };
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
    await page.setViewportSize(DESKTOP);
    return text[0] ?? '';
  }

  const meetingOf = (id: string): Meeting & { bodyName: string } => {
    const found = meetings.find((m) => m.id === id);
    if (!found) throw new Error(`no meeting ${id}`);
    return found;
  };

  it('home says what the ICS is, lists its next meetings and latest decisions, and links to the registers and feeds', async () => {
    const main = await visit(ICS, { shot: 'public-home' });
    expect(await page.locator('h1').innerText()).toContain('Herefordshire and Worcestershire');
    expect(main).toContain('Integrated Care System brings together the NHS, local councils');
    expect(main).toContain('812,712 people registered with its 80 GP practices');
    const now = Date.now();
    const next = meetings.filter((m) => m.startsAt.getTime() > now && m.status === 'scheduled').slice(0, 5);
    expect(next.length).toBeGreaterThan(2);
    for (const m of next) {
      expect(main).toContain(meetingWhen(m.startsAt, m.endsAt));
      expect(await page.locator(`main a[href="${ICS}/meetings/${m.id}"]`).count(), m.title).toBe(1);
      if (m.venue) expect(main).toContain(m.venue);
    }
    const [latest] = await searchDecisions(app.database.db, 'QGH', {}, 'public');
    expect(await page.locator(`main a[href="${ICS}/decisions/${latest?.id ?? ''}"]`).count()).toBe(1);
    for (const href of [`${ICS}/interests`, `${ICS}/interests#gifts`, `${ICS}/involvement`, `${ICS}/bodies`, `${ICS}/meetings.ics`, `${ICS}/decisions.atom`]) {
      expect(await page.locator(`main a[href="${href}"]`).count(), href).toBeGreaterThan(0);
    }
    expect(await page.locator('link[rel="alternate"][type="application/atom+xml"]').getAttribute('href')).toBe(`${ICS}/decisions.atom`);
    // The subscription links lead to the calendar and the feed (served by the feeds module).
    for (const [path, type] of [[`${ICS}/meetings.ics`, 'text/calendar'], [`${ICS}/decisions.atom`, 'application/atom+xml']] as const) {
      const response = await fetch(`${app.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toContain(type);
    }
    for (const item of ['Home', 'Meetings', 'Decisions', 'Interests', 'Involvement', 'Bodies']) {
      expect(await page.locator('header nav a', { hasText: item }).count(), item).toBeGreaterThan(0);
    }
  });

  it('bodies are listed with their purpose, members and next meeting; a body shows its members and meetings', async () => {
    const main = await visit(`${ICS}/bodies`);
    for (const body of s.bodies) expect(await page.locator(`main a[href="${ICS}/bodies/${body.id}"]`).count(), body.name).toBe(1);
    expect(main).toContain('Primary medical, pharmaceutical, optometry and dental services delegated by NHS England.');

    const board = await visit(`${ICS}/bodies/QGH-board`);
    const members = s.memberships.filter((m) => m.bodyId === 'QGH-board' && isCurrent(m, today()));
    expect(await page.locator('#members ~ div table tbody tr, #members + table tbody tr').count()).toBe(members.length);
    const nurse = (await page.locator('tr', { hasText: 'Catherine Bowen' }).first().innerText()).replace(/\s+/g, ' ');
    expect(nurse).toContain('Director of nursing');
    expect(nurse).toContain('NHS Herefordshire and Worcestershire ICB');
    expect(nurse).toContain('Yes');
    expect((await page.locator('tr', { hasText: 'Hayley Morgan' }).first().innerText()).replace(/\s+/g, ' ')).toContain('No');
    expect(board).not.toContain('Geoffrey Lane');
    expect(board).toContain('Upcoming meetings');
    const boardMeetings = meetings.filter((m) => m.bodyId === 'QGH-board');
    for (const m of boardMeetings) expect(await page.locator(`main a[href="${ICS}/meetings/${m.id}"]`).count(), m.title).toBe(1);
  });

  it('meetings are listed upcoming and past, and filtered by body with a select and a button', async () => {
    const main = await visit(`${ICS}/meetings`);
    for (const m of meetings) expect(main).toContain(m.title);
    await page.selectOption('#body', 'QGH-committee-audit');
    await page.getByRole('button', { name: 'Show meetings' }).click();
    await page.waitForURL(/body=QGH-committee-audit/);
    const links = await page.locator('main table a').allInnerTexts();
    const audit = meetings.filter((m) => m.bodyId === 'QGH-committee-audit');
    expect(links.length).toBe(audit.length);
    for (const text of links) expect(text).toContain('Audit and Risk Committee');
    expect(await page.locator('h1').innerText()).toBe('Meetings of Audit and Risk Committee');

    await visit(`${ICS}/meetings?body=no-such-body`, { status: 422 });
    expect(await page.locator('.nhsuk-error-summary a[href="#body"]').innerText()).toBe('Choose a body from the list');
  });

  it('a held meeting shows its public agenda, papers, attendance, declarations, decisions and actions, and only the reason for its private items', async () => {
    const row = await one<{ meeting_id: string }>(
      `SELECT i.meeting_id FROM agenda_item i JOIN meeting m ON m.id = i.meeting_id JOIN minutes n ON n.meeting_id = m.id
        WHERE i.part = 'private' AND i.title = $1 AND m.status = 'held' AND n.status = 'published' ORDER BY m.starts_at LIMIT 1`,
      [PRIVATE_TITLE],
    );
    const meeting = meetingOf(row.meeting_id);
    const main = await visit(`${ICS}/meetings/${meeting.id}`, { shot: 'public-meeting' });
    expect(main).toContain(meetingWhen(meeting.startsAt, meeting.endsAt));
    expect(main).toMatch(/(Monday|Tuesday|Wednesday|Thursday|Friday) \d{1,2} \w+ 20\d\d, \d{1,2}(:\d\d)?(am|pm) to \d{1,2}(:\d\d)?(am|pm)/);
    expect(main).toContain(meeting.venue ?? 'a venue');
    // The private item: never its title, but how many and why.
    expect(await page.content()).not.toContain(PRIVATE_TITLE);
    expect(main).toContain('1 item was taken in private (part 2), with the public excluded, for this reason:');
    expect(main).toContain('Commercially confidential information');
    // The public agenda, numbered, with purpose, presenter and papers.
    expect(await page.locator('.openics-agenda__item').count()).toBeGreaterThan(3);
    expect(main).toContain('1. Welcome, apologies and quorum');
    expect(main).toMatch(/For (information|assurance|decision|discussion)\. Presented by /);
    expect(main).toMatch(/\((PDF|web page)/);
    // Attendance, the quorum, actions, and the minutes once published.
    for (const heading of ['Present', 'Apologies']) expect(await page.locator('#attendance ~ div h3', { hasText: heading }).count(), heading).toBeGreaterThan(0);
    expect(main).toMatch(/Quorate \d+ voting members present; 7 needed/);
    expect(await page.locator('#actions ~ table tbody tr, #actions + table tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('.openics-minutes').count()).toBe(1);
  });

  it('a meeting with a decision by vote shows the outcome, the counts, each member’s vote and any declarations', async () => {
    const row = await one<{ meeting_id: string; id: string }>(
      `SELECT d.meeting_id, d.id FROM decision d JOIN declaration x ON x.agenda_item_id = d.agenda_item_id JOIN agenda_item i ON i.id = d.agenda_item_id
        WHERE d.method = 'vote' AND i.part = 'public' AND x.handling = 'excluded_from_decision' ORDER BY d.decided_at LIMIT 1`,
    );
    const main = await visit(`${ICS}/meetings/${row.meeting_id}`);
    expect(main).toMatch(/Approved By vote: \d+ for, 0 against, \d+ abstained\./);
    expect(await page.locator('#declarations ~ table tbody tr, #declarations + table tbody tr').count()).toBeGreaterThan(0);
    expect(main).toContain('Took part in the discussion but not the decision');
    await page.locator('details summary', { hasText: 'How each member voted' }).first().click();
    const votes = await page.locator('details table tbody tr').first().innerText();
    expect(votes).toMatch(/For|Abstained/);
    expect(await page.locator('details').first().innerText()).toContain('Did not vote, having declared an interest');
  });

  it('a meeting with draft minutes shows no minutes; one with published minutes shows them with their approval', async () => {
    const draft = await one<{ meeting_id: string; content: string }>("SELECT meeting_id, content FROM minutes WHERE status = 'draft' ORDER BY drafted_at LIMIT 1");
    const draftMain = await visit(`${ICS}/meetings/${draft.meeting_id}`);
    expect(await page.locator('.openics-minutes').count()).toBe(0);
    expect(draftMain).toContain('The minutes are published once');
    expect(draftMain).not.toContain('**Present:**');
    expect(await page.locator('#minutes ~ h3', { hasText: 'Minutes:' }).count()).toBe(0);

    const published = await one<{ meeting_id: string; approved_at_meeting: string }>(
      "SELECT meeting_id, approved_at_meeting FROM minutes WHERE status = 'published' ORDER BY published_at DESC, meeting_id LIMIT 1",
    );
    const approving = meetingOf(published.approved_at_meeting);
    const main = await visit(`${ICS}/meetings/${published.meeting_id}`);
    expect(await page.locator('.openics-minutes').count()).toBe(1);
    expect(await page.locator('.openics-minutes h3').first().innerText()).toContain('Minutes:');
    expect(main).toContain(`Approved at ${approving.title} on ${nhsDate(londonDate(approving.startsAt))}.`);
    expect(await page.locator(`#minutes ~ p a[href="${ICS}/meetings/${approving.id}"]`).count()).toBe(1);
  });

  it('a corrected paper lists each published version with the reason for the change', async () => {
    const main = await visit(`${ICS}/meetings/${revised.meetingId}`);
    const versions = (await page.locator('.openics-versions').innerText()).replace(/\s+/g, ' ').replace(/ ,/g, ',');
    // Each version link also names the paper, for screen readers.
    expect(versions).toContain(`Version 2 of ${revised.title}, published ${nhsDate(londonDate(new Date()))} — ${REVISION}`);
    expect(versions).toMatch(/Version 1 of .+, published \d{1,2} \w+ 20\d\d$/);
    expect(main).toContain(`${revised.title} (PDF, 1 KB)`);
    expect(await page.locator(`a[href="${ICS}/papers/${revised.paperId}/versions/2"]`).count()).toBeGreaterThan(0);
    expect(await page.locator(`a[href="${ICS}/papers/${revised.paperId}/versions/1"]`).count()).toBe(1);
  });

  it('an upcoming meeting more than a week away says its papers are not yet published', async () => {
    const far = meetings.find((m) => m.startsAt.getTime() - Date.now() > 8 * 86_400_000);
    if (!far) throw new Error('no meeting more than a week away in the demo');
    const main = await visit(`${ICS}/meetings/${far.id}`);
    expect(main).toContain('Papers for this meeting are published a week before it.');
    expect(main).toContain('Attendance is recorded once the meeting has been held.');
    expect(main).toContain('Minutes are published after the meeting');
    expect(await page.locator('main a[href*="/papers/"]').count()).toBe(0);
    if (far.onlineUrl) expect(await page.locator(`a[href="${far.onlineUrl}"]`).innerText()).toBe('Join the meeting online');
  });

  it('the decisions log finds "merge", filters by body, and lists newest first', async () => {
    const main = await visit(`${ICS}/decisions`, { shot: 'public-decisions' });
    const all = await searchDecisions(app.database.db, 'QGH', {}, 'public');
    expect(main).toContain(`${all.length} decisions`);
    const titles = await page.locator('.openics-decision-list h3').allInnerTexts();
    expect(titles).toEqual(all.map((d) => d.title));
    for (const id of ['q', 'body', 'topic', 'org', 'from', 'to']) expect(await page.locator(`label[for="${id}"]`).count(), id).toBe(1);

    await page.fill('#q', 'merge');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=merge/);
    expect(await page.locator('.openics-decision-list h3').allInnerTexts()).toEqual(['Application to merge Spring Gardens and Farrier House practices']);
    expect(await page.locator('#results').innerText()).toBe('1 decision');

    await page.goto(`${app.url}${ICS}/decisions`);
    await page.selectOption('#body', 'QGH-committee-primary-care');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/body=QGH-committee-primary-care/);
    const found = await page.locator('.openics-decision-list > li').allInnerTexts();
    const expected = all.filter((d) => d.bodyId === 'QGH-committee-primary-care');
    expect(found.length).toBe(expected.length);
    for (const text of found) expect(text).toContain('Primary Care Commissioning Committee');

    const byTopic = await visit(`${ICS}/decisions?topic=Dental&from=1/1/2020&to=${encodeURIComponent('31 December 2099')}`);
    expect(byTopic).toContain('Urgent dental care sessions');
    expect(await page.locator('.openics-decision-list > li').count()).toBe(all.filter((d) => d.topic === 'Dental').length);
    // A page past the last shows the last page rather than failing.
    await page.goto(`${app.url}${ICS}/decisions?page=99`);
    expect(await page.locator('.openics-decision-list > li').count()).toBe(Math.min(all.length, 20));
    await visit(`${ICS}/decisions?org=U32349`);
    expect(await page.locator('.openics-decision-list h3').allInnerTexts()).toContain('Application to merge Spring Gardens and Farrier House practices');
  });

  it('bad search input comes back as the page with an NHS error summary naming the field, status 422', async () => {
    const main = await visit(`${ICS}/decisions?q=merge&from=2025-13-45`, { status: 422 });
    expect(await page.locator('.nhsuk-error-summary a[href="#from"]').innerText()).toBe('Date from must be a real date, for example 1 April 2025');
    expect(await page.locator('#from').inputValue()).toBe('2025-13-45');
    expect(await page.locator('#q').inputValue()).toBe('merge');
    expect(await page.title()).toMatch(/^Error: /);
    expect(main).toContain('Correct the search to see decisions');
    for (const bad of ['to=31/02/2026', 'from=2026-03-01&to=2026-01-01', 'body=nobody', 'topic=Astrology', 'org=ZZZ', `q=${'x'.repeat(201)}`]) {
      const response = await page.goto(`${app.url}${ICS}/decisions?${bad}`);
      expect(response?.status(), bad).toBe(422);
      expect(await page.locator('.nhsuk-error-summary').count(), bad).toBe(1);
    }
  });

  it('the decision taken outside delegated authority says so, names who holds it, and shows how people’s views were used', async () => {
    const decision = (await searchDecisions(app.database.db, 'QGH', { q: 'crisis café' }, 'public')).find((d) => d.title === 'Mental health crisis café in Hereford');
    if (!decision) throw new Error('no crisis café decision in the demo');
    const main = await visit(`${ICS}/decisions/${decision.id}`, { shot: 'public-decision' });
    const warning = (await page.locator('.nhsuk-card--warning').innerText()).replace(/\s+/g, ' ');
    expect(warning).toContain('Taken outside delegated authority: One Herefordshire Partnership has no delegated authority');
    expect(warning).toContain('Mental Health, Learning Disability and Autism Provider Collaborative');
    expect(main).toContain('One Herefordshire Partnership: ');
    expect(main).toMatch(/Item \d+: Mental health crisis café in Hereford/);
    expect(main).toContain('How people’s views were used');
    expect(main).toContain('Hereford community conversation on mental health');
    expect(main).toContain('The crisis café proposal came directly from this conversation');
    expect(await page.locator('#votes ~ table tbody tr, #votes + table tbody tr').count()).toBe(decision.votes.length);

    // And the log flags it too.
    await page.goto(`${app.url}${ICS}/decisions?q=${encodeURIComponent('crisis café')}`);
    expect(await page.locator('.openics-decision-list').innerText()).toContain('Outside delegated authority');
  });

  it('the registers of interests and of gifts and hospitality say who, what, with whom and when', async () => {
    const main = await visit(`${ICS}/interests`, { shot: 'public-interests' });
    expect(main).toContain("Margaret O'Neill");
    expect(main).toContain('Spouse is a consultant anaesthetist at Worcestershire Acute Hospitals NHS Trust');
    expect(main).toContain('Indirect interest');
    expect(main).toContain('Trustee of Age UK Herefordshire and Worcestershire');
    expect(main).toContain('Non-executive director, NHS Herefordshire and Worcestershire ICB board');
    expect(main).toContain('From 1 March 2021');
    const gifts = (await page.locator('#gifts ~ table').innerText()).replace(/\s+/g, ' ');
    expect(gifts).toContain('A professional services firm bidding for ICB work');
    expect(gifts).toContain('£250');
    expect(gifts).toContain('Declined');
    expect(gifts).toContain('Accepted');
  });

  it('involvement shows each piece with the decisions it informed, and a chart with the same numbers in a table', async () => {
    const main = await visit(`${ICS}/involvement`, { shot: 'public-involvement' });
    expect(main).toContain("Citizens' panel on urgent care");
    expect(main).toContain('How the views were used: The winter plan added a rural ambulance response trial');
    expect(main).toContain('Healthwatch Worcestershire');
    expect(await page.locator('figure.openics-chart svg:visible').count()).toBe(1);
    expect(await page.locator('figure.openics-chart svg[role="graphics-document document"]').first().getAttribute('aria-label')).toContain('People taking part');
    const survey = await page.locator('#by-kind ~ table tr', { hasText: 'Survey' }).innerText();
    expect(survey).toContain('2,300');
    expect(main).toContain('4,149 people took part in 5 pieces of involvement.');
    const informed = await page.locator('main a[href*="/decisions/"]').count();
    expect(informed).toBe(5);
  });

  it('serves a published PDF paper inline as application/pdf, and a Markdown paper as text and as a page', async () => {
    const pdf = await fetch(`${app.url}${ICS}/papers/${revised.paperId}/versions/2`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.headers.get('x-content-type-options')).toBe('nosniff');
    expect(pdf.headers.get('content-disposition')).toMatch(/^inline; filename="[A-Za-z0-9._ -]+\.pdf"$/);
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString('latin1')).toBe('%PDF-');

    const md = await one<{ paper_id: string; version: number; title: string }>(
      `SELECT v.paper_id, v.version, p.title FROM paper_version v JOIN paper p ON p.id = v.paper_id JOIN agenda_item i ON i.id = p.agenda_item_id
        WHERE v.format = 'markdown' AND v.published_at IS NOT NULL AND i.part = 'public' LIMIT 1`,
    );
    const text = await fetch(`${app.url}${ICS}/papers/${md.paper_id}/versions/${md.version}`);
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(text.headers.get('x-content-type-options')).toBe('nosniff');
    expect(text.headers.get('content-disposition')).toMatch(/^inline; filename=".+\.md"$/);
    expect(await text.text()).toContain(`# ${md.title}`);

    const main = await visit(`${ICS}/papers/${md.paper_id}/versions/${md.version}/view`);
    expect(await page.locator('h1').innerText()).toContain(md.title);
    expect(main).toContain('Recommendation');
    // The paper's own headings sit under the page's: its title is the page's h1, its sections h3.
    expect(await page.locator('.openics-paper h3', { hasText: 'Purpose' }).count()).toBe(1);
    expect(await page.locator('h1').count()).toBe(1);
  });

  it('an unpublished paper, a private paper, and unknown addresses answer with an NHS "Page not found" page', async () => {
    const unpublished = await one<{ paper_id: string }>(
      `SELECT p.id AS paper_id FROM paper p JOIN agenda_item i ON i.id = p.agenda_item_id JOIN meeting m ON m.id = i.meeting_id
        WHERE m.starts_at > now() + interval '8 days' AND i.part = 'public' AND NOT EXISTS (SELECT 1 FROM paper_version v WHERE v.paper_id = p.id AND v.published_at IS NOT NULL) LIMIT 1`,
    );
    const secret = await one<{ paper_id: string }>(
      `SELECT p.id AS paper_id FROM paper p JOIN agenda_item i ON i.id = p.agenda_item_id JOIN paper_version v ON v.paper_id = p.id
        WHERE i.part = 'private' AND v.published_at IS NOT NULL LIMIT 1`,
    );
    const decision = await one<{ id: string }>("SELECT d.id FROM decision d JOIN agenda_item i ON i.id = d.agenda_item_id WHERE i.part = 'private' LIMIT 1");
    for (const path of [
      `${ICS}/papers/${unpublished.paper_id}/versions/1`,
      `${ICS}/papers/${unpublished.paper_id}/versions/1/view`,
      `${ICS}/papers/${secret.paper_id}/versions/1`,
      `${ICS}/papers/${revised.paperId}/versions/3`,
      `${ICS}/papers/${revised.paperId}/versions/abc`,
      `${ICS}/decisions/${decision.id}`,
      `${ICS}/decisions/no-such-decision`,
      `${ICS}/meetings/no-such-meeting`,
      `${ICS}/bodies/no-such-body`,
      `${ICS}/no-such-page`,
      '/public/ZZZ',
      '/public/ZZZ/decisions',
    ]) {
      const response = await page.goto(`${app.url}${path}`);
      expect(response?.status(), path).toBe(404);
      expect(response?.headers()['content-type'], path).toContain('text/html');
      expect(await page.locator('h1').innerText(), path).toBe('Page not found');
    }
    await visit(`${ICS}/meetings/no-such-meeting`, { status: 404 });
    expect(await page.locator('header nav a', { hasText: 'Decisions' }).count()).toBeGreaterThan(0);
  });
});
