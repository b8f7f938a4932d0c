/**
 * The board secretary's journey through governance, in Chromium, as a new user would take it:
 * schedule two ICB board meetings (yesterday and tomorrow), build the agenda (an item in private
 * with its reason; a decision item concerning Wye Valley NHS Trust on urgent and emergency care),
 * upload and publish a Markdown paper and a PDF, see the conflict flag for Wye Valley's chief
 * executive before attendance is taken, record attendance (quorate), his declaration, a vote and
 * the decision, draft the minutes, approve them at the next meeting and publish them; then read
 * the meeting on the public site. Also: the delegated-authority flag, the quorum refusal, the
 * file-type error, and the registers and involvement pages. Every staff page is checked with axe
 * (WCAG 2.2 AA) at desktop and phone width and must not scroll sideways on a phone.
 */
import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { Browser, Locator, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAgendaItem, recordAttendance, scheduleMeeting } from '../../src/governance/commands.js';
import { type IcsStructure, isCurrent } from '../../src/structure/model.js';
import { loadStructure } from '../../src/structure/repository.js';
import { ADMINISTRATOR, signInBrowser } from '../support/access.js';
import { type TestApp, startTestApp } from '../support/app.js';
import { CHROMIUM, DESKTOP, PHONE, axeViolations, cspViolations, describeViolations, horizontalOverflow, launchBrowser, screenshot } from '../support/browser.js';

const GOVERNANCE = '/ics/QGH/governance';
const BOARD = 'QGH-board';
const ONE_HEREFORDSHIRE = 'QGH-place-E06000019';
const PRIVATE_TITLE = 'Ambulance handover contract: preferred bidder';
const PRIVATE_REASON = 'Commercially confidential information (Freedom of Information Act 2000, section 43).';
const DECISION_ITEM = 'Urgent and emergency care: winter surge plan';
const MARKDOWN_PAPER = 'Winter surge plan 2026/27';
const PDF_PAPER = 'Urgent care finance annex';
const REVISION = 'Corrected the number of virtual ward beds.';
const MINUTES = 'The board met in public.\n\n## Urgent and emergency care\n\nThe board approved the winter surge plan by vote.';

/** A local UK date and time, `days` from today: "2026-11-22T10:00". */
function localDateTime(days: number, time: string): string {
  return `${new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10)}T${time}`;
}

async function pdfBytes(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([595, 842]).drawText(text, { x: 50, y: 780, size: 16, font });
  return Buffer.from(await doc.save());
}

describe.skipIf(!CHROMIUM)('a board secretary runs governance in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let s: IcsStructure;
  /** The two board meetings the journey schedules: yesterday's, then tomorrow's. */
  const board = { first: '', second: '' };

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

  const person = (name: string): string => {
    const found = [...s.people.values()].find((p) => p.name === name);
    if (!found) throw new Error(`no ${name} in the demo`);
    return found.id;
  };
  const votingMembers = (bodyId: string): string[] => [
    ...new Set(s.memberships.filter((m) => m.bodyId === bodyId && m.voting && isCurrent(m, new Date(Date.now() - 86_400_000).toISOString().slice(0, 10))).map((m) => m.personId)),
  ];
  const meetingUrl = (id: string): string => `${app.url}${GOVERNANCE}/meetings/${id}`;
  const mainText = async (): Promise<string> => (await page.locator('main').innerText()).replace(/\s+/g, ' ');
  const banner = async (): Promise<string> => (await page.locator('.nhsuk-notification-banner--success').innerText()).replace(/\s+/g, ' ');
  const errorSummary = async (): Promise<string> => (await page.locator('.nhsuk-error-summary').innerText()).replace(/\s+/g, ' ');
  /** The table with this caption. */
  const table = (caption: string): Locator => page.locator('table', { has: page.locator('caption', { hasText: caption }) });

  /** Clicks a submit button and returns the answer to the form's POST (before any redirect is followed). */
  async function submit(button: Locator): Promise<Response> {
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), button.click()]);
    await page.waitForLoadState('load');
    return response;
  }

  /** The page as it is now passes axe at desktop and phone width and fits a phone; screenshots if named. */
  async function expectAccessible(label: string, shot?: string): Promise<void> {
    for (const [width, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
      await page.setViewportSize(viewport);
      const violations = await axeViolations(page);
      expect(violations, `${label} at ${width} width:\n${describeViolations(violations)}`).toEqual([]);
      expect(cspViolations(page), 'Content Security Policy violations').toEqual([]);
      if (width === 'phone') expect(await horizontalOverflow(page), `${label} scrolls sideways at 375px`).toBeLessThanOrEqual(1);
      if (shot) await screenshot(page, `${shot}-${width}`);
    }
    await page.setViewportSize(DESKTOP);
  }

  /** The number of rows of a table, to show a refused form wrote nothing. */
  async function count(table: string): Promise<number> {
    const { rows } = await app.database.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    return Number(rows[0]?.n ?? 0);
  }

  it('schedules two ICB board meetings, yesterday and tomorrow; a form with mistakes says what to fix', async () => {
    const response = await page.goto(`${app.url}${GOVERNANCE}`);
    expect(response?.status()).toBe(200);
    expect(await page.locator('h1').innerText()).toBe('Governance');
    expect(await page.locator('header a[href="/ics/QGH/governance"]').count()).toBeGreaterThanOrEqual(1);
    expect(await mainText()).toContain('Upcoming meetings');
    await expectAccessible('governance home', 'governance-home');

    const meetings = await count('meeting');
    const refused = await submit(page.getByRole('button', { name: 'Schedule meeting' }));
    expect(refused.status()).toBe(422);
    const problems = await errorSummary();
    expect(problems).toContain('Choose the body that is meeting');
    expect(problems).toContain('Enter when the meeting starts, for example 2026-12-03T10:00');
    expect(problems).toContain('Give a venue, an online link, or both');
    expect(await page.locator('.nhsuk-error-summary a[href="#schedule-startsAt"]').count()).toBe(1);
    expect(await page.locator('#schedule-startsAt-error').innerText()).toContain('Enter when the meeting starts');
    expect(await count('meeting')).toBe(meetings);
    await expectAccessible('governance home with errors');
    const missing = await page.goto(`${app.url}${GOVERNANCE}/meetings/no-such-meeting`);
    expect(missing?.status()).toBe(404);
    expect(await page.locator('h1').innerText()).toBe('Page not found');

    for (const [key, days] of [['first', -1], ['second', 1]] as const) {
      await page.goto(`${app.url}${GOVERNANCE}`);
      await page.locator('#schedule-bodyId').selectOption(BOARD);
      await page.locator('#schedule-title').fill(`ICB board (browser test, ${key} meeting)`);
      await page.locator('#schedule-startsAt').fill(localDateTime(days, '10:00'));
      await page.locator('#schedule-endsAt').fill(localDateTime(days, '12:30'));
      await page.locator('#schedule-venue').fill('County Hall, Spetchley Road, Worcester WR5 2NP');
      await page.locator('#schedule-onlineUrl').fill('https://meet.example.org/board');
      const scheduled = await submit(page.getByRole('button', { name: 'Schedule meeting' }));
      expect(scheduled.status()).toBe(303);
      const match = /\/meetings\/([^?]+)\?done=scheduled$/.exec(page.url());
      expect(match, page.url()).not.toBeNull();
      board[key] = match?.[1] ?? '';
      expect(await banner()).toContain('Meeting scheduled');
      expect(await page.locator('h1').innerText()).toContain(`ICB board (browser test, ${key} meeting)`);
    }
    await page.goto(`${app.url}${GOVERNANCE}`);
    const upcoming = await table('Upcoming meetings').innerText();
    expect(upcoming).toContain('ICB board (browser test, second meeting)');
    expect(await table('Recent meetings').innerText()).toContain('ICB board (browser test, first meeting)');

    // Only the board's meetings, once chosen.
    await page.locator('#filter-body').selectOption(BOARD);
    await Promise.all([page.waitForURL(/\?body=QGH-board$/), page.getByRole('button', { name: 'Show meetings' }).click()]);
    expect(await page.locator('h1').innerText()).toContain('NHS Herefordshire and Worcestershire ICB board');
    const boardOnly = await table('Upcoming meetings').innerText();
    expect(boardOnly).toContain('ICB board (browser test, second meeting)');
    expect(boardOnly).not.toContain('One Herefordshire');
  });

  it('adds an item in private (with its reason) and a public decision item concerning Wye Valley on urgent and emergency care', async () => {
    await page.goto(meetingUrl(board.first));
    // In private without a reason: refused, with the reason's field named.
    await page.locator('#item-part-2').check();
    await page.locator('#item-title').fill(PRIVATE_TITLE);
    await page.locator('input[name="purpose"][value="discussion"]').check();
    const refused = await submit(page.getByRole('button', { name: 'Add item' }));
    expect(refused.status()).toBe(422);
    expect(await errorSummary()).toContain('Say why the public must be excluded for this item');
    expect(await page.locator('.nhsuk-error-summary a[href="#item-privateReason"]').count()).toBe(1);
    expect(await page.locator('#item-title').inputValue()).toBe(PRIVATE_TITLE);
    expect(await page.locator('#item-part-2').isChecked()).toBe(true);
    await expectAccessible('meeting page with an item error');

    await page.locator('#item-privateReason').fill(PRIVATE_REASON);
    const added = await submit(page.getByRole('button', { name: 'Add item' }));
    expect(added.status()).toBe(303);
    expect(await banner()).toContain('Item added to the agenda');

    await page.locator('#item-title').fill(DECISION_ITEM);
    await page.locator('input[name="purpose"][value="decision"]').check();
    await page.locator('#item-presenter').fill('Dr Owen Hughes');
    await page.getByLabel('Wye Valley NHS Trust', { exact: true }).check();
    await page.locator('#item-functionId').selectOption({ label: 'Urgent and emergency care' });
    expect((await submit(page.getByRole('button', { name: 'Add item' }))).status()).toBe(303);

    const agenda = (await page.locator('.openics-agenda').innerText()).replace(/\s+/g, ' ');
    expect(agenda).toContain(`1. ${PRIVATE_TITLE}`);
    expect(agenda).toContain(`Why the public are excluded: ${PRIVATE_REASON}`);
    expect(agenda).toContain(`2. ${DECISION_ITEM}`);
    expect(agenda).toContain('Concerns: Wye Valley NHS Trust');
    expect(agenda).toContain('Function: Urgent and emergency care');
  });

  it('uploads a Markdown paper and a PDF and publishes them; a .txt or a .docx gets the file error and nothing is stored', async () => {
    await page.goto(meetingUrl(board.first));
    const item = page.locator('#item-2');
    const upload = async (title: string, file: { name: string; mimeType: string; buffer: Buffer }): Promise<Response> => {
      const details = item.locator('details', { hasText: 'Upload a paper for item 2' });
      if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
      await details.getByLabel('Title of the paper').fill(title);
      await details.locator('input[type="file"]').setInputFiles(file);
      return submit(details.getByRole('button', { name: 'Upload paper' }));
    };

    const papers = await count('paper_version');
    for (const file of [
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Plain text notes') },
      { name: 'plan.docx', mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', buffer: Buffer.from('PK\u0003\u0004 word/document.xml') },
    ]) {
      const refused = await upload('Notes', file);
      expect(refused.status(), file.name).toBe(422);
      expect(await errorSummary()).toContain('The file must be a PDF or a Markdown (.md) document');
      expect(await page.locator('.nhsuk-error-summary a[href="#paper-2-file"]').count()).toBe(1);
      expect(await page.locator('#paper-2-file-error').innerText()).toContain('The file must be a PDF or a Markdown (.md) document');
      expect(await page.locator('#paper-2-title').inputValue()).toBe('Notes');
    }
    const tooLarge = await upload('Notes', { name: 'huge.md', mimeType: 'text/markdown', buffer: Buffer.alloc(10 * 1024 * 1024 + 1, 'a') });
    expect(tooLarge.status()).toBe(422);
    expect(await page.locator('#paper-2-file-error').innerText()).toContain('The file must be smaller than 10 MB');
    expect(await count('paper_version')).toBe(papers);
    await expectAccessible('meeting page with a file error');

    const markdown = `# ${MARKDOWN_PAPER}\n\nForty extra virtual ward beds from December, and a handover target of 30 minutes.\n`;
    expect((await upload(MARKDOWN_PAPER, { name: 'winter-surge-plan.md', mimeType: 'text/markdown', buffer: Buffer.from(markdown) })).status()).toBe(303);
    expect(await banner()).toContain('Paper uploaded');
    expect((await upload(PDF_PAPER, { name: 'finance-annex.pdf', mimeType: 'application/pdf', buffer: await pdfBytes('Urgent care finance annex: £2.4m') })).status()).toBe(303);

    const text = (await page.locator('#item-2').innerText()).replace(/\s+/g, ' ');
    expect(text).toContain(MARKDOWN_PAPER);
    expect(text).toContain(PDF_PAPER);
    expect(text).toContain('Markdown,');
    expect(text).toContain('PDF,');
    expect(await page.locator('#item-2 .nhsuk-tag', { hasText: 'Not published' }).count()).toBe(2);
    // The staff download links serve each file.
    const pdfLink = await page.locator('#item-2 .openics-paper', { hasText: PDF_PAPER }).getByRole('link', { name: /Version 1/ }).getAttribute('href');
    expect(pdfLink).toMatch(/^\/api\/ics\/QGH\/governance\/papers\/[^/]+\/versions\/1$/);
    // Fetched with the browser's own session, as following the link is: the API needs sign-in.
    const pdf = await page.request.get(`${app.url}${pdfLink ?? ''}`);
    expect(pdf.headers()['content-type']).toBe('application/pdf');
    expect((await pdf.body()).subarray(0, 5).toString('latin1')).toBe('%PDF-');

    for (const title of [MARKDOWN_PAPER, PDF_PAPER]) {
      const published = await submit(page.getByRole('button', { name: `Publish ${title}, version 1` }));
      expect(published.status()).toBe(303);
      expect(await banner()).toContain('Paper published');
    }
    expect(await page.locator('#item-2 .nhsuk-tag', { hasText: 'Not published' }).count()).toBe(0);
    expect(await page.locator('#item-2 .nhsuk-tag', { hasText: 'Published' }).count()).toBe(2);

    // A correction to a published paper must say why; the public see the reason.
    const paper = page.locator('#item-2 .openics-paper', { hasText: MARKDOWN_PAPER });
    const versionForm = paper.locator('details', { hasText: 'Upload a new version' });
    await versionForm.locator('summary').click();
    await versionForm.locator('input[type="file"]').setInputFiles({ name: 'winter-surge-plan-v2.md', mimeType: 'text/markdown', buffer: Buffer.from(`${markdown}\nForty-two beds, not forty.\n`) });
    const unexplained = await submit(versionForm.getByRole('button', { name: 'Upload new version' }));
    expect(unexplained.status()).toBe(422);
    expect(await errorSummary()).toContain('This paper has been published: say why it is being replaced');
    const reopened = page.locator('#item-2 .openics-paper', { hasText: MARKDOWN_PAPER }).locator('details', { hasText: 'Upload a new version' });
    expect(await reopened.getAttribute('open')).not.toBeNull();
    await reopened.locator('input[type="file"]').setInputFiles({ name: 'winter-surge-plan-v2.md', mimeType: 'text/markdown', buffer: Buffer.from(`${markdown}\nForty-two beds, not forty.\n`) });
    await reopened.getByLabel('Why is it changing?').fill(REVISION);
    expect((await submit(reopened.getByRole('button', { name: 'Upload new version' }))).status()).toBe(303);
    expect(await banner()).toContain('New version uploaded');
    expect(await page.locator('#item-2 .nhsuk-tag', { hasText: 'New version not published' }).count()).toBe(1);
    expect((await submit(page.getByRole('button', { name: `Publish ${MARKDOWN_PAPER}, version 2` }))).status()).toBe(303);
    expect((await page.locator('#item-2').innerText()).replace(/\s+/g, ' ')).toContain(REVISION);
  });

  it('flags Jonathan Price’s interest in Wye Valley before attendance is taken', async () => {
    await page.goto(meetingUrl(board.first));
    const flags = page.locator('#conflicts');
    expect(await flags.count()).toBe(1);
    const text = (await flags.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('Jonathan Price has declared “Chief executive of Wye Valley NHS Trust” in Wye Valley NHS Trust, which item 2 concerns');
    expect(text).toContain('No declaration recorded yet');
    expect(await mainText()).toContain('Attendance has not been recorded');
    // The warning comes before the agenda and the attendance form.
    const order = await Promise.all(['#conflicts', '#agenda', '#attendance'].map(async (selector) => (await page.locator(selector).boundingBox())?.y ?? -1));
    expect(order[0]).toBeGreaterThanOrEqual(0);
    expect(order[0]).toBeLessThan(order[1] ?? 0);
    expect(order[1]).toBeLessThan(order[2] ?? 0);
  });

  it('refuses a decision without a quorum and says so', async () => {
    await page.goto(meetingUrl(board.first));
    const decisions = await count('decision');
    const form = page.locator('#decision-2 form');
    await form.getByLabel('Title of the decision').fill('Winter surge plan approved');
    await form.getByLabel('What was decided').fill('The board approved the winter surge plan.');
    await form.getByLabel('By consensus').check();
    await form.getByLabel('Approved').check();
    const refused = await submit(form.getByRole('button', { name: 'Record decision' }));
    expect(refused.status()).toBe(422);
    expect(await errorSummary()).toContain('The meeting is not quorate: 0 voting member(s) recorded as present, 7 needed');
    expect(await page.locator('.nhsuk-error-summary a[href="#decision-2-quorum"]').count()).toBe(1);
    expect(await page.locator('#decision-2-quorum').innerText()).toContain('The meeting is not quorate');
    expect(await page.locator('#decision-2-title').inputValue()).toBe('Winter surge plan approved');
    expect(await count('decision')).toBe(decisions);
    await expectAccessible('meeting page with the quorum error');
  });

  it('records attendance: the meeting is quorate; the page with its flag and decision form', async () => {
    await page.goto(meetingUrl(board.first));
    const members = s.memberships.filter((m) => m.bodyId === BOARD && isCurrent(m, localDateTime(-1, '').slice(0, 10)));
    const apologies = person("Margaret O'Neill");
    for (const m of members) {
      await page.locator(`input[name="att-${m.personId}"][value="${m.personId === apologies ? 'apologies' : 'present'}"]`).check();
    }
    await page.locator('#attendance-add').selectOption({ label: 'Janet Fielding' });
    const recorded = await submit(page.getByRole('button', { name: 'Record attendance' }));
    expect(recorded.status()).toBe(303);
    expect(await banner()).toContain('Attendance recorded');
    const voting = votingMembers(BOARD).filter((id) => id !== apologies).length;
    const quorum = (await page.locator('#quorum').innerText()).replace(/\s+/g, ' ');
    expect(quorum).toContain('Quorate');
    expect(quorum).toContain(`${voting} voting members present; 7 needed`);
    expect(await page.locator(`input[name="att-${apologies}"][value="apologies"]`).isChecked()).toBe(true);
    expect(await page.locator(`input[name="att-${person('Janet Fielding')}"][value="in_attendance"]`).isChecked()).toBe(true);
    // The meeting has taken place: mark it held.
    await page.locator('#status-status-2').check();
    expect((await submit(page.getByRole('button', { name: 'Change status' }))).status()).toBe(303);
    expect(await page.locator('main .nhsuk-summary-list').innerText()).toContain('Held');
    await expectAccessible('meeting page with flags and the decision form', 'governance-meeting');
  });

  it('records Jonathan Price’s declaration (noted), then the vote and the decision', async () => {
    await page.goto(meetingUrl(board.first));
    const declarations = await count('declaration');
    const refused = await submit(page.getByRole('button', { name: 'Record declaration' }));
    expect(refused.status()).toBe(422);
    expect(await errorSummary()).toContain('Choose the item the interest was declared on');
    expect(await count('declaration')).toBe(declarations);

    await page.locator('#declaration-agendaItemId').selectOption({ label: `2. ${DECISION_ITEM}` });
    await page.locator('#declaration-personId').selectOption({ label: 'Jonathan Price' });
    await page.locator('#declaration-interestId').selectOption({ label: 'Jonathan Price: Chief executive of Wye Valley NHS Trust' });
    await page.getByLabel('Noted; took part').check();
    expect((await submit(page.getByRole('button', { name: 'Record declaration' }))).status()).toBe(303);
    expect(await banner()).toContain('Declaration recorded');
    const declared = (await table('Interests declared at the meeting').innerText()).replace(/\s+/g, ' ');
    expect(declared).toContain('Jonathan Price');
    expect(declared).toContain('Noted; took part');
    expect((await page.locator('#conflicts').innerText()).replace(/\s+/g, ' ')).toContain('Declared at the meeting: Noted; took part.');

    const form = page.locator('#decision-2 form');
    await form.getByLabel('Title of the decision').fill('Winter surge plan approved');
    await form.getByLabel('What was decided').fill('The board approved the winter surge plan, with forty extra virtual ward beds from December.');
    await form.getByLabel('By vote').check();
    await form.getByLabel('Approved').check();
    await form.getByLabel('Topic (optional)').fill('Urgent and emergency care');
    const against = person('Rajesh Patel');
    const abstains = person('Sarah Collins');
    const voters = votingMembers(BOARD).filter((id) => id !== person("Margaret O'Neill"));
    for (const id of voters) {
      await form.locator(`input[name="vote-${id}"][value="${id === against ? 'against' : id === abstains ? 'abstain' : 'for'}"]`).check();
    }
    const recorded = await submit(form.getByRole('button', { name: 'Record decision' }));
    expect(recorded.status()).toBe(303);
    expect(await banner()).toContain('Decision recorded');
    const decision = (await page.locator('#decision-2').innerText()).replace(/\s+/g, ' ');
    expect(decision).toContain('Winter surge plan approved');
    expect(decision).toContain(`Approved By vote: ${voters.length - 2} for, 1 against, 1 abstained.`);
    expect(decision).toContain('Authority: NHS Herefordshire and Worcestershire ICB board is accountable for Urgent and emergency care.');
    expect(await page.locator('#decision-2 .nhsuk-card--warning').count()).toBe(0);
  });

  it('raises an action at the first meeting; it is carried forward to the second and closed there', async () => {
    await page.goto(meetingUrl(board.first));
    const refused = await submit(page.getByRole('button', { name: 'Add action' }));
    expect(refused.status()).toBe(422);
    const problems = await errorSummary();
    expect(problems).toContain('Describe the action');
    expect(problems).toContain('Choose who owns the action');
    expect(problems).toContain('Enter the date the action is due');

    await page.locator('#action-description').fill('Report ambulance handover times to the next meeting');
    await page.locator('#action-ownerPersonId').selectOption({ label: 'Dr Owen Hughes' });
    await page.locator('#action-dueDate').fill(localDateTime(1, '').slice(0, 10));
    await page.locator('#action-agendaItemId').selectOption({ label: `2. ${DECISION_ITEM}` });
    expect((await submit(page.getByRole('button', { name: 'Add action' }))).status()).toBe(303);
    expect(await banner()).toContain('Action added');

    await page.goto(meetingUrl(board.second));
    const action = page.locator('.openics-record', { hasText: 'Report ambulance handover times to the next meeting' });
    expect((await action.innerText()).replace(/\s+/g, ' ')).toContain('Owner: Dr Owen Hughes.');
    await action.locator('summary').click();
    await action.getByLabel('How was it completed?').fill('Handover times reported: median 24 minutes.');
    expect((await submit(action.getByRole('button', { name: /^Close/ }))).status()).toBe(303);
    expect(await banner()).toContain('Action closed');
    expect((await page.locator('.openics-record', { hasText: 'Report ambulance handover times' }).innerText()).replace(/\s+/g, ' ')).toContain('Closed at ICB board (browser test, second meeting): Handover times reported');
  });

  it('drafts the minutes; at the second meeting records attendance, approves the first meeting’s minutes there and publishes them', async () => {
    await page.goto(meetingUrl(board.first));
    await page.locator('#minutes-content').fill(MINUTES);
    expect((await submit(page.getByRole('button', { name: 'Save draft minutes' }))).status()).toBe(303);
    expect(await banner()).toContain('Draft minutes saved');
    expect(await page.locator('#minutes-content').inputValue()).toBe(MINUTES);

    // Not quorate at the second meeting yet: approving is refused, naming the quorum.
    await page.locator('#approve-atMeetingId').selectOption(board.second);
    const refused = await submit(page.getByRole('button', { name: 'Approve minutes' }));
    expect(refused.status()).toBe(422);
    expect(await errorSummary()).toContain('The approving meeting is not quorate');
    await expectAccessible('meeting page with the approval error');

    await page.goto(meetingUrl(board.second));
    for (const id of votingMembers(BOARD)) await page.locator(`input[name="att-${id}"][value="present"]`).check();
    expect((await submit(page.getByRole('button', { name: 'Record attendance' }))).status()).toBe(303);
    expect(await page.locator('#quorum').innerText()).toContain('Quorate');
    // The first meeting's open business is carried to the second.
    expect(await mainText()).toContain('Carried forward from earlier meetings');

    await page.goto(meetingUrl(board.first));
    await page.locator('#approve-atMeetingId').selectOption(board.second);
    expect((await submit(page.getByRole('button', { name: 'Approve minutes' }))).status()).toBe(303);
    expect(await banner()).toContain('Minutes approved');
    expect(await page.locator('#minutes ~ .nhsuk-grid-row').first().innerText()).toContain('Approved at ICB board (browser test, second meeting)');
    expect((await submit(page.getByRole('button', { name: 'Publish minutes' }))).status()).toBe(303);
    expect(await banner()).toContain('Minutes published');
    await expectAccessible('meeting page with published minutes');
  });

  it('the public see the public items, papers, attendance, declaration, decision with votes and minutes, but not the private item', async () => {
    await page.goto(meetingUrl(board.first));
    await Promise.all([page.waitForURL(/\/public\/QGH\/meetings\//), page.getByRole('link', { name: 'See what the public see' }).click()]);
    expect(page.url()).toBe(`${app.url}/public/QGH/meetings/${board.first}`);
    const text = await mainText();
    expect(text).toContain(DECISION_ITEM);
    expect(text).toContain(MARKDOWN_PAPER);
    expect(text).toContain(PDF_PAPER);
    expect(text).toContain(PRIVATE_REASON);
    expect(text).not.toContain(PRIVATE_TITLE);
    expect(text).toContain('Eleanor Whitcombe');
    expect(text).toContain("Margaret O'Neill");
    expect(text).toContain('Jonathan Price');
    expect(text).toContain('Noted; took part');
    expect(text).toContain('Winter surge plan approved');
    expect(text).toContain(`By vote: ${votingMembers(BOARD).length - 3} for, 1 against, 1 abstained.`);
    expect(text).toContain('The board approved the winter surge plan by vote.');
    expect(text).toContain('Approved at ICB board (browser test, second meeting)');
    expect(text).toContain(REVISION);
    await page.locator('summary', { hasText: 'How each member voted' }).first().click();
    expect((await page.locator('main').innerText()).replace(/\s+/g, ' ')).toContain('Rajesh Patel');
  });

  it('a decision outside the body’s delegated authority is flagged with who holds it', async () => {
    // One Herefordshire Partnership meets; mental health is delegated to the mental health collaborative.
    const db = app.database.db;
    const meetingId = await scheduleMeeting(db, 'QGH', { bodyId: ONE_HEREFORDSHIRE, title: 'One Herefordshire (browser test)', startsAt: localDateTime(-1, '14:00'), venue: 'Plough Lane, Hereford' }, 'browser test');
    await addAgendaItem(db, 'QGH', meetingId, { part: 'public', title: 'Crisis café in Leominster', purpose: 'decision', functionId: 'QGH-fn-mental-health' }, 'browser test');
    await recordAttendance(db, 'QGH', meetingId, votingMembers(ONE_HEREFORDSHIRE).map((personId) => ({ personId, status: 'present' })), 'browser test');

    await page.goto(meetingUrl(meetingId));
    const before = (await page.locator('#decision-1').innerText()).replace(/\s+/g, ' ');
    expect(before).toContain('Outside delegated authority');
    expect(before).toContain('One Herefordshire Partnership has no delegated authority for Mental health, learning disability and autism services');
    const form = page.locator('#decision-1 form');
    await form.getByLabel('Title of the decision').fill('Crisis café funded');
    await form.getByLabel('What was decided').fill('The partnership agreed to fund a crisis café in Leominster for two years.');
    await form.getByLabel('By consensus').check();
    await form.getByLabel('Approved').check();
    expect((await submit(form.getByRole('button', { name: 'Record decision' }))).status()).toBe(303);
    const flag = (await page.locator('#decision-1 .nhsuk-card--warning').innerText()).replace(/\s+/g, ' ');
    expect(flag).toContain('Taken outside delegated authority');
    expect(flag).toContain(
      'One Herefordshire Partnership has no delegated authority for Mental health, learning disability and autism services; it is held by NHS Herefordshire and Worcestershire ICB board and Mental Health, Learning Disability and Autism Provider Collaborative.',
    );
    await expectAccessible('meeting page with the authority flag', 'governance-meeting-authority');
  });

  it('the registers: adds an interest (mistakes named first) and a gift; the new interest is flagged on a meeting', async () => {
    await page.goto(`${app.url}${GOVERNANCE}/interests`);
    expect(await page.locator('h1').innerText()).toBe('Registers of interests, gifts and hospitality');
    expect(await mainText()).toContain('Chief executive of Wye Valley NHS Trust');
    await expectAccessible('registers', 'governance-registers');

    const interests = await count('interest');
    const refused = await submit(page.getByRole('button', { name: 'Add interest' }));
    expect(refused.status()).toBe(422);
    const problems = await errorSummary();
    expect(problems).toContain('Choose whose interest it is');
    expect(problems).toContain('Describe the interest');
    expect(problems).toContain('Enter the date the interest began');
    expect(await count('interest')).toBe(interests);
    await expectAccessible('registers with errors');

    await page.locator('#interest-personId').selectOption({ label: 'Dr Owen Hughes' });
    await page.getByLabel('Indirect interest').check();
    await page.locator('#interest-description').fill('Spouse is a ward manager at Wye Valley NHS Trust');
    await page.locator('input[name="orgCodes"][value="RLQ"]').check();
    await page.locator('#interest-startDate').fill('2024-01-01');
    expect((await submit(page.getByRole('button', { name: 'Add interest' }))).status()).toBe(303);
    expect(await banner()).toContain('Interest added');
    expect(await mainText()).toContain('Spouse is a ward manager at Wye Valley NHS Trust');

    // A gift without saying whether it was accepted: named, with the value kept.
    await page.locator('#gift-personId').selectOption({ label: 'Priya Shah' });
    await page.getByLabel('Hospitality', { exact: true }).check();
    await page.locator('#gift-description').fill('Lunch at a digital health conference');
    await page.locator('#gift-offeredBy').fill('A software supplier');
    await page.locator('#gift-valuePounds').fill('35.50');
    await page.locator('#gift-offeredOn').fill('2026-10-01');
    const gift = await submit(page.getByRole('button', { name: 'Add gift or hospitality' }));
    expect(gift.status()).toBe(422);
    expect(await errorSummary()).toContain('Choose whether it was accepted or declined');
    expect(await page.locator('.nhsuk-error-summary li').count()).toBe(1);
    expect(await page.locator('#gift-valuePounds').inputValue()).toBe('35.50');
    await page.getByLabel('Declined').check();
    expect((await submit(page.getByRole('button', { name: 'Add gift or hospitality' }))).status()).toBe(303);
    expect(await banner()).toContain('Gift or hospitality added');
    expect(await mainText()).toContain('£35.50');

    // Dr Owen Hughes sits on the board: the new interest is flagged on the tomorrow's meeting once it concerns Wye Valley.
    await addAgendaItem(app.database.db, 'QGH', board.second, { part: 'public', title: 'Wye Valley stroke pathway', purpose: 'discussion', concerns: ['RLQ'] }, 'browser test');
    await page.goto(meetingUrl(board.second));
    expect(await page.locator('#conflicts').innerText()).toContain('Dr Owen Hughes has declared “Spouse is a ward manager at Wye Valley NHS Trust”');
  });

  it('involvement: records involvement and links it to the decision', async () => {
    await page.goto(`${app.url}${GOVERNANCE}/involvement`);
    expect(await page.locator('h1').innerText()).toBe('Public involvement');
    await expectAccessible('involvement', 'governance-involvement');

    await page.getByLabel('Healthwatch report').check();
    await page.locator('#involvement-title').fill('What people told us about A&E waits this autumn');
    await page.locator('#involvement-summary').fill('People waited too long for ambulances and wanted more urgent treatment centres.');
    await page.locator('#involvement-heldOn').fill('2026-10-15');
    await page.locator('#involvement-participants').fill('1,240');
    expect((await submit(page.getByRole('button', { name: 'Record involvement' }))).status()).toBe(303);
    expect(await banner()).toContain('Involvement recorded');

    await page.locator('#link-involvementId').selectOption({ label: 'What people told us about A&E waits this autumn (15 October 2026)' });
    const decision = await app.database.db.query<{ id: string }>("SELECT id FROM decision WHERE title = 'Winter surge plan approved'");
    await page.locator('#link-decisionId').selectOption(decision.rows[0]?.id ?? '');
    const refused = await submit(page.getByRole('button', { name: 'Link to the decision' }));
    expect(refused.status()).toBe(422);
    expect(await errorSummary()).toContain('Say how people’s views shaped the decision');
    expect(await page.locator('#link-decisionId').inputValue()).toBe(decision.rows[0]?.id);
    await expectAccessible('involvement with an error');

    await page.locator('#link-howUsed').fill('The plan adds an urgent treatment centre pilot in Worcester because people asked for one.');
    expect((await submit(page.getByRole('button', { name: 'Link to the decision' }))).status()).toBe(303);
    expect(await banner()).toContain('Involvement linked to the decision');
    const entry = (await page.locator('section', { hasText: 'What people told us about A&E waits this autumn' }).innerText()).replace(/\s+/g, ' ');
    expect(entry).toContain('1,240 people took part');
    expect(entry).toContain('Winter surge plan approved: The plan adds an urgent treatment centre pilot in Worcester');
  });
});
