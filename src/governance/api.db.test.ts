import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMINISTRATOR, hasSignIn, signIn } from '../../test/support/access.js';
import { getJson, sendJson, startTestApp, type TestApp } from '../../test/support/app.js';
import { MAX_PAPER_BYTES } from './papers.js';

interface Problems {
  error: string;
  problems: { field: string; message: string }[];
}
interface MeetingView {
  meeting: { id: string; title: string; status: string; startsAt: string };
  items: { id: string; title: string; part: string }[];
  privateItems: { count: number; reasons: string[] };
  papers: { id: string; title: string; versions: { version: number; publishedAt: string | null; changeReason: string | null }[] }[];
  decisions: { id: string; title: string }[];
  minutes: { status: string; content: string } | null;
  actionsCarried: { id: string }[];
  quorum: { required: number; present: number; met: boolean };
  conflicts?: { agendaItemId: string; personId: string; handling: string | null }[];
  interests?: unknown[];
}
interface DecisionEntry {
  id: string;
  title: string;
  authorityOk: boolean;
  votes: { personId: string; vote: string }[];
  involvement: { id: string; howUsed: string }[];
}

const p = (slug: string): string => `QGH-p-${slug}`;
const BOARD_VOTERS = ['eleanor-whitcombe', 'rajesh-patel', 'margaret-o-neill', 'samuel-adeyemi', 'simon-trevelyan', 'priya-shah', 'catherine-bowen', 'owen-hughes', 'paul-robinson', 'aisha-rahman', 'sarah-collins', 'jonathan-price'].map(p);

async function pdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText(text);
  return Buffer.from(await doc.save());
}

describe(`governance API over HTTP (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  let t: TestApp;
  let api: string;
  /** The ICB's head of corporate governance, signed in: the user these calls are made as. */
  let auth: Record<string, string> = {};
  beforeAll(async () => {
    // The demo's structure only, so every meeting and decision here is one this test made.
    t = await startTestApp({ demo: 'structure' });
    api = `${t.url}/api/ics/QGH/governance`;
    auth = (await signIn(t, ADMINISTRATOR)).headers;
  });
  afterAll(async () => {
    await t.close();
  });

  /** Posts a multipart form: text fields, and files as [name, bytes, type]. */
  const upload = async (url: string, fields: Record<string, string>, files: [string, Buffer, string][] = []): Promise<{ status: number; body: Problems & Record<string, unknown> }> => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    for (const [name, bytes, type] of files) form.append('file', new Blob([bytes], { type }), name);
    const response = await fetch(url, { method: 'POST', body: form, headers: auth });
    return { status: response.status, body: (await response.json()) as Problems & Record<string, unknown> };
  };
  const fields = (body: Problems): string[] => body.problems.map((x) => x.field).sort();

  it('describes the governance operations in the OpenAPI document, under their own tag', async () => {
    const { body } = await getJson<{ tags: { name: string }[]; paths: Record<string, Record<string, { tags?: string[]; requestBody?: { content: Record<string, unknown> } }>> }>(`${t.url}/api/openapi.json`);
    const declared = body.tags.map((x) => x.name);
    expect(declared).toEqual(expect.arrayContaining(['structure', 'governance']));
    // Every operation's tag is declared at the top of the document, with its description.
    const used = new Set(Object.values(body.paths).flatMap((ops) => Object.values(ops).flatMap((op) => op.tags ?? [])));
    expect([...used].filter((tag) => !declared.includes(tag))).toEqual([]);
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining([
        '/api/ics/{ics}/governance/meetings',
        '/api/ics/{ics}/governance/meetings/{meetingId}',
        '/api/ics/{ics}/governance/items/{itemId}/papers',
        '/api/ics/{ics}/governance/papers/{paperId}/versions/{version}',
        '/api/ics/{ics}/governance/meetings/{meetingId}/decisions',
        '/api/ics/{ics}/governance/decisions',
        '/api/ics/{ics}/governance/involvement/{involvementId}/decisions',
      ]),
    );
    expect(body.paths['/api/ics/{ics}/governance/meetings']?.post?.tags).toEqual(['governance']);
    expect(Object.keys(body.paths['/api/ics/{ics}/governance/items/{itemId}/papers']?.post?.requestBody?.content ?? {})).toEqual(['multipart/form-data']);
    expect(body.paths['/api/ics/{ics}/governance/meetings/{meetingId}/attendance']?.post?.requestBody).toBeDefined();
    // The public feeds are not part of the JSON API.
    expect(Object.keys(body.paths).some((path) => !path.startsWith('/api/'))).toBe(false);
  });

  it('takes changes only from someone signed in who acts in a governance role at the ICB', async (ctx) => {
    if (!hasSignIn(t)) ctx.skip();
    const anonymous = await sendJson<Problems>('POST', `${api}/meetings`, {});
    expect(anonymous.status).toBe(401);
    expect((await getJson(`${api}/meetings`)).status).toBe(401);
    const doctor = await signIn(t, 'chidi.okafor');
    expect((await getJson(`${api}/meetings`, doctor.headers)).status).toBe(200);
    const refused = await sendJson<Problems & { message: string }>('POST', `${api}/meetings`, {}, doctor.headers);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('To change the governance records of an ICS you need to act as administrator, place or system leader or board member at QGH; you are acting as doctor');
    // A board member's request reaches the operation itself, which names what is missing.
    const board = await signIn(t, 'jane.morris');
    expect((await sendJson('POST', `${api}/meetings`, {}, board.headers)).status).toBe(422);
  });

  it('runs a board meeting from scheduling to a recorded decision the public can find', async () => {
    // Schedule, refusing bad input field by field.
    const bad = await sendJson<Problems>('POST', `${api}/meetings`, { bodyId: 'QGH-board', startsAt: '2026-05-14T10:00', onlineUrl: 'http://teams.example/x', colour: 'blue' }, auth);
    expect(bad.status).toBe(422);
    expect(fields(bad.body)).toEqual(['colour']);
    const domain = await sendJson<Problems>('POST', `${api}/meetings`, { bodyId: 'QGH-board', startsAt: '2026-05-14T10:00', endsAt: '2026-05-14T09:00', onlineUrl: 'http://teams.example/x' }, auth);
    expect(domain.status).toBe(422);
    expect(fields(domain.body)).toEqual(['endsAt', 'onlineUrl']);
    expect((await getJson(`${t.url}/api/ics/XYZ/governance/meetings`, auth)).status).toBe(404);
    // Nobody holds a role at an ICS that does not exist, so nobody may write to it.
    expect((await sendJson('POST', `${t.url}/api/ics/XYZ/governance/meetings`, { bodyId: 'QGH-board', startsAt: '2026-05-14T10:00', venue: 'x' }, auth)).status).toBe(hasSignIn(t) ? 403 : 404);

    const scheduled = await sendJson<{ id: string; meeting: MeetingView }>('POST', `${api}/meetings`, {
      bodyId: 'QGH-board',
      title: 'Board meeting in public, May 2026',
      startsAt: '2026-05-14T10:00',
      endsAt: '2026-05-14T13:00',
      venue: 'Kindred Centre, Worcester',
      onlineUrl: 'https://teams.example/board',
    }, auth);
    expect(scheduled.status).toBe(201);
    const meetingId = scheduled.body.id;
    expect(scheduled.body.meeting.meeting).toMatchObject({ id: meetingId, status: 'scheduled', startsAt: '2026-05-14T09:00:00.000Z' });
    expect(scheduled.body.meeting.quorum).toEqual({ required: 7, present: 0, met: false, counted: [] });

    // The agenda: a public decision item concerning Wye Valley NHS Trust, and a private item.
    const noReason = await sendJson<Problems>('POST', `${api}/meetings/${meetingId}/items`, { part: 'private', title: 'Estates', purpose: 'decision' }, auth);
    expect(noReason.status).toBe(422);
    expect(fields(noReason.body)).toEqual(['privateReason']);
    const item = await sendJson<{ id: string }>('POST', `${api}/meetings/${meetingId}/items`, { part: 'public', title: 'Elective hub at Hereford', purpose: 'decision', concerns: ['RLQ'] }, auth);
    expect(item.status).toBe(201);
    const privateItem = await sendJson<{ id: string }>('POST', `${api}/meetings/${meetingId}/items`, { part: 'private', title: 'Land sale negotiations', purpose: 'decision', privateReason: 'Commercially sensitive' }, auth);
    expect(privateItem.status).toBe(201);

    // Papers: a Markdown cover note and a PDF business case; refuse a Word document.
    const md = await upload(`${api}/items/${item.body.id}/papers`, { title: 'Cover note' }, [['cover.md', Buffer.from('# Cover note\n\nThe board is asked to approve.'), 'text/markdown']]);
    expect(md.status).toBe(201);
    const businessCase = await pdf('Elective hub business case');
    const pdfPaper = await upload(`${api}/items/${item.body.id}/papers`, { title: 'Business case' }, [['../../Business case.pdf', businessCase, 'application/pdf']]);
    expect(pdfPaper.status).toBe(201);
    const draftPaper = await upload(`${api}/items/${item.body.id}/papers`, { title: 'Draft appendix' }, [['appendix.md', Buffer.from('Not yet'), 'text/markdown']]);
    expect(draftPaper.status).toBe(201);
    const docx = await upload(`${api}/items/${item.body.id}/papers`, { title: 'Word version' }, [['case.docx', Buffer.from('PK\u0003\u0004word'), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document']]);
    expect(docx.status).toBe(422);
    expect(fields(docx.body)).toEqual(['file']);
    const noFile = await upload(`${api}/items/${item.body.id}/papers`, { title: 'Nothing attached' });
    expect(noFile.status).toBe(422);
    expect(fields(noFile.body)).toEqual(['file']);

    for (const paper of [md, pdfPaper]) {
      const published = await sendJson<{ version: number }>('POST', `${api}/papers/${String(paper.body.id)}/publish`, {}, auth);
      expect(published).toEqual({ status: 200, body: { paperId: paper.body.id, version: 1 } });
    }
    const download = await fetch(`${api}/papers/${String(pdfPaper.body.id)}/versions/1?audience=public`, { headers: auth });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/pdf');
    expect(download.headers.get('content-disposition')).toBe('inline; filename="Business case.pdf"');
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.compare(Buffer.from(await download.arrayBuffer()), businessCase)).toBe(0);
    const mdDownload = await fetch(`${api}/papers/${String(md.body.id)}/versions/1`, { headers: auth });
    expect(mdDownload.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(mdDownload.headers.get('content-disposition')).toBe('attachment; filename="cover.md"');
    expect(mdDownload.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await mdDownload.text()).toContain('asked to approve');
    expect((await fetch(`${api}/papers/${String(draftPaper.body.id)}/versions/1?audience=public`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${api}/papers/${String(draftPaper.body.id)}/versions/1`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${api}/papers/${String(md.body.id)}/versions/0`, { headers: auth })).status).toBe(404);

    // Replacing a published paper needs a reason; both versions stay readable.
    const noReasonVersion = await upload(`${api}/papers/${String(md.body.id)}/versions`, {}, [['cover.md', Buffer.from('# Cover note v2'), 'text/markdown']]);
    expect(noReasonVersion.status).toBe(422);
    expect(fields(noReasonVersion.body)).toEqual(['reason']);
    const v2 = await upload(`${api}/papers/${String(md.body.id)}/versions`, { reason: 'Corrected the recommendation' }, [['cover.md', Buffer.from('# Cover note v2'), 'text/markdown']]);
    expect(v2).toEqual({ status: 201, body: { paperId: md.body.id, version: 2 } });
    expect(await (await fetch(`${api}/papers/${String(md.body.id)}/versions/1`, { headers: auth })).text()).toContain('asked to approve');
    expect(await (await fetch(`${api}/papers/${String(md.body.id)}/versions/2`, { headers: auth })).text()).toBe('# Cover note v2');

    // Attendance: eight voting members present makes the board (quorum 7) quorate.
    const attendance = await sendJson<{ meeting: MeetingView }>('POST', `${api}/meetings/${meetingId}/attendance`, {
      attendance: [...BOARD_VOTERS.slice(0, 8).map((personId) => ({ personId, status: 'present' })), { personId: p('jonathan-price'), status: 'apologies' }],
    }, auth);
    expect(attendance.status).toBe(200);
    expect(attendance.body.meeting.quorum).toMatchObject({ required: 7, present: 8, met: true });
    const badAttendance = await sendJson<Problems>('POST', `${api}/meetings/${meetingId}/attendance`, { attendance: [{ personId: p('nobody'), status: 'present' }, { personId: p('priya-shah'), status: 'asleep' }] }, auth);
    expect(badAttendance.status).toBe(422);
    expect(fields(badAttendance.body)).toEqual(['attendance.1.status']);

    // An interest in the organisation the item concerns is flagged; a declaration records its handling.
    const interest = await sendJson<{ id: string }>('POST', `${api}/interests`, {
      personId: p('catherine-bowen'),
      kind: 'indirect',
      description: 'Husband is a consultant at Wye Valley NHS Trust',
      orgCodes: ['RLQ'],
      startDate: '2024-01-01',
    }, auth);
    expect(interest.status).toBe(201);
    const flagged = await getJson<MeetingView>(`${api}/meetings/${meetingId}`, auth);
    expect(flagged.body.conflicts).toEqual([expect.objectContaining({ agendaItemId: item.body.id, personId: p('catherine-bowen'), handling: null })]);
    const declared = await sendJson<{ meeting: MeetingView }>('POST', `${api}/meetings/${meetingId}/declarations`, {
      agendaItemId: item.body.id,
      personId: p('catherine-bowen'),
      interestId: interest.body.id,
      handling: 'excluded_from_decision',
    }, auth);
    expect(declared.status).toBe(201);
    expect(declared.body.meeting.conflicts?.[0]?.handling).toBe('excluded_from_decision');
    expect((await getJson<{ interests: { id: string }[] }>(`${api}/interests`, auth)).body.interests.map((i) => i.id)).toContain(interest.body.id);

    // The vote: the excluded member may not vote; then the decision is recorded.
    const votes = [p('eleanor-whitcombe'), p('rajesh-patel'), p('margaret-o-neill'), p('samuel-adeyemi'), p('simon-trevelyan')].map((personId) => ({ personId, vote: 'for' }));
    const decision = { agendaItemId: item.body.id, title: 'Approve the elective hub', text: 'The board approved the elective hub business case.', method: 'vote', outcome: 'approved', topic: 'Elective care' };
    const excluded = await sendJson<Problems>('POST', `${api}/meetings/${meetingId}/decisions`, { ...decision, votes: [...votes, { personId: p('catherine-bowen'), vote: 'for' }] }, auth);
    expect(excluded.status).toBe(422);
    expect(fields(excluded.body)).toEqual(['votes.5.personId']);
    const recorded = await sendJson<{ id: string; authorityOk: boolean; decision: DecisionEntry }>('POST', `${api}/meetings/${meetingId}/decisions`, {
      ...decision,
      votes: [...votes, { personId: p('priya-shah'), vote: 'against' }, { personId: p('owen-hughes'), vote: 'abstain' }],
    }, auth);
    expect(recorded.status).toBe(201);
    expect(recorded.body.authorityOk).toBe(true);
    expect(recorded.body.decision.votes).toHaveLength(7);
    expect((await sendJson('POST', `${api}/meetings/${meetingId}/decisions`, { ...decision, method: 'consensus' }, auth)).status).toBe(409);
    const privateDecision = await sendJson<{ id: string }>('POST', `${api}/meetings/${meetingId}/decisions`, {
      agendaItemId: privateItem.body.id,
      title: 'Agree the elective hub land price',
      text: 'Agreed.',
      method: 'consensus',
      outcome: 'approved',
    }, auth);
    expect(privateDecision.status).toBe(201);

    // What the public see: no private item (its reason instead), only published papers, no private decision.
    const pub = await getJson<MeetingView>(`${api}/meetings/${meetingId}?audience=public`, auth);
    expect(pub.status).toBe(200);
    expect(pub.body.items.map((i) => i.title)).toEqual(['Elective hub at Hereford']);
    expect(pub.body.privateItems).toEqual({ count: 1, reasons: ['Commercially sensitive'] });
    expect(pub.body.papers.map((x) => [x.title, x.versions.map((v) => v.version)])).toEqual([
      ['Cover note', [1]],
      ['Business case', [1]],
    ]);
    expect(pub.body.decisions.map((d) => d.id)).toEqual([recorded.body.id]);
    expect(pub.body.conflicts).toBeUndefined();
    expect(JSON.stringify(pub.body)).not.toContain('Land sale');
    const staff = await getJson<MeetingView>(`${api}/meetings/${meetingId}`, auth);
    expect(staff.body.items).toHaveLength(2);
    expect(staff.body.decisions).toHaveLength(2);

    // The decisions log finds it by words, body, organisation and dates; the public never see the private one.
    const search = async (query: string): Promise<string[]> => (await getJson<{ decisions: { id: string }[] }>(`${api}/decisions?${query}`, auth)).body.decisions.map((d) => d.id);
    expect(await search('q=ELECTIVE%20HUB')).toEqual(expect.arrayContaining([recorded.body.id, privateDecision.body.id]));
    expect(await search('q=elective%20hub&audience=public')).toEqual([recorded.body.id]);
    expect(await search('org=RLQ&body=QGH-board&from=2026-05-14&to=2026-05-14')).toEqual([recorded.body.id]);
    expect(await search('from=2026-05-15')).toEqual([]);
    expect(await search('topic=elective%20care&audience=public')).toEqual([recorded.body.id]);
    const badDate = await getJson<Problems>(`${api}/decisions?from=2026-02-30`, auth);
    expect(badDate.status).toBe(422);
    expect(fields(badDate.body)).toEqual(['from']);
    expect((await getJson(`${api}/decisions?audience=everyone`, auth)).status).toBe(422);
    expect((await getJson(`${api}/decisions/${privateDecision.body.id}?audience=public`, auth)).status).toBe(404);
    expect((await getJson<DecisionEntry>(`${api}/decisions/${recorded.body.id}?audience=public`, auth)).body.title).toBe('Approve the elective hub');

    // Listing meetings by body and dates (inclusive).
    const listed = await getJson<{ meetings: { id: string; bodyName: string }[] }>(`${api}/meetings?body=QGH-board&from=2026-05-14&to=2026-05-14`, auth);
    expect(listed.body.meetings.map((m) => m.id)).toEqual([meetingId]);
    expect((await getJson(`${api}/meetings?to=2026-13-01`, auth)).status).toBe(422);
  });

  it('refuses an oversized upload with a 413 naming the file, and a second file', async () => {
    const meeting = await sendJson<{ id: string }>('POST', `${api}/meetings`, { bodyId: 'QGH-committee-audit', startsAt: '2026-06-04T14:00', venue: 'Wildwood' }, auth);
    const item = await sendJson<{ id: string }>('POST', `${api}/meetings/${meeting.body.id}/items`, { part: 'public', title: 'Annual accounts', purpose: 'decision' }, auth);
    const before = await t.database.db.query<{ n: number }>('SELECT count(*) AS n FROM paper_version');
    const big = await upload(`${api}/items/${item.body.id}/papers`, { title: 'Too big' }, [['big.md', Buffer.alloc(MAX_PAPER_BYTES + 1, 0x61), 'text/markdown']]);
    expect(big.status).toBe(413);
    expect(fields(big.body)).toEqual(['file']);
    const two = await upload(`${api}/items/${item.body.id}/papers`, { title: 'Two files' }, [
      ['a.md', Buffer.from('a'), 'text/markdown'],
      ['b.md', Buffer.from('b'), 'text/markdown'],
    ]);
    expect(two.status).toBe(413);
    expect(fields(two.body)).toEqual(['file']);
    const notMultipart = await sendJson<Problems>('POST', `${api}/items/${item.body.id}/papers`, { title: 'JSON', file: 'a.md' }, auth);
    expect(notMultipart.status).toBe(422);
    expect(fields(notMultipart.body)).toEqual(['file']);
    expect((await t.database.db.query<{ n: number }>('SELECT count(*) AS n FROM paper_version')).rows).toEqual(before.rows);
    // The server is still well after refusing.
    const ok = await upload(`${api}/items/${item.body.id}/papers`, { title: 'Accounts' }, [['accounts.md', Buffer.from('# Accounts'), 'text/markdown']]);
    expect(ok.status).toBe(201);
  });

  it('keeps minutes, actions and involvement through the API', async () => {
    const schedule = async (startsAt: string): Promise<string> => (await sendJson<{ id: string }>('POST', `${api}/meetings`, { bodyId: 'QGH-committee-primary-care', startsAt, venue: 'Wildwood' }, auth)).body.id;
    const first = await schedule('2026-07-02T10:00');
    const second = await schedule('2026-09-03T10:00');
    const members = [p('margaret-o-neill'), p('owen-hughes'), p('priya-shah')].map((personId) => ({ personId, status: 'present' }));
    await sendJson('POST', `${api}/meetings/${first}/attendance`, { attendance: members }, auth);

    const saved = await sendJson<{ meeting: MeetingView }>('PUT', `${api}/meetings/${first}/minutes`, { content: 'The committee met.' }, auth);
    expect(saved.status).toBe(200);
    expect(saved.body.meeting.minutes).toMatchObject({ status: 'draft' });
    const notQuorate = await sendJson<Problems>('POST', `${api}/meetings/${first}/minutes/approve`, { atMeetingId: second }, auth);
    expect(notQuorate.status).toBe(422);
    expect(fields(notQuorate.body)).toEqual(['quorum']);
    await sendJson('POST', `${api}/meetings/${second}/attendance`, { attendance: members }, auth);
    expect((await sendJson('POST', `${api}/meetings/${first}/minutes/approve`, { atMeetingId: second }, auth)).status).toBe(200);
    expect((await sendJson('PUT', `${api}/meetings/${first}/minutes`, { content: 'Changed' }, auth)).status).toBe(409);
    expect((await getJson<MeetingView>(`${api}/meetings/${first}?audience=public`, auth)).body.minutes).toBeNull();
    expect((await sendJson('POST', `${api}/meetings/${first}/minutes/publish`, {}, auth)).status).toBe(200);
    expect((await getJson<MeetingView>(`${api}/meetings/${first}?audience=public`, auth)).body.minutes).toMatchObject({ status: 'published', content: 'The committee met.' });

    const action = await sendJson<{ id: string }>('POST', `${api}/meetings/${first}/actions`, { description: 'Review dental access', ownerPersonId: p('owen-hughes'), dueDate: '2026-09-03' }, auth);
    expect(action.status).toBe(201);
    expect((await getJson<MeetingView>(`${api}/meetings/${second}`, auth)).body.actionsCarried.map((a) => a.id)).toContain(action.body.id);
    const elsewhere = await sendJson<Problems>('POST', `${api}/actions/${action.body.id}/close`, { meetingId: (await sendJson<{ id: string }>('POST', `${api}/meetings`, { bodyId: 'QGH-board', startsAt: '2026-09-10T10:00', venue: 'x' })).body.id, note: 'Done' }, auth);
    expect(elsewhere.status).toBe(422);
    expect(fields(elsewhere.body)).toEqual(['meetingId']);
    expect((await sendJson('POST', `${api}/actions/${action.body.id}/close`, { meetingId: second, note: 'Reviewed' }, auth)).status).toBe(200);
    expect((await sendJson('POST', `${api}/actions/${action.body.id}/close`, { meetingId: second, note: 'Again' }, auth)).status).toBe(409);

    const item = await sendJson<{ id: string }>('POST', `${api}/meetings/${second}/items`, { part: 'public', title: 'Dental access plan', purpose: 'decision', functionId: 'QGH-fn-pod' }, auth);
    const decided = await sendJson<{ id: string; authorityOk: boolean }>('POST', `${api}/meetings/${second}/decisions`, { agendaItemId: item.body.id, title: 'Dental access plan', text: 'Approved.', method: 'consensus', outcome: 'approved' }, auth);
    expect(decided.body.authorityOk).toBe(true);
    const involvement = await sendJson<{ id: string }>('POST', `${api}/involvement`, { kind: 'survey', title: 'Dental access survey', summary: 'People struggle to find an NHS dentist.', heldOn: '2026-06-01', participants: 812 }, auth);
    expect(involvement.status).toBe(201);
    const linked = await sendJson<DecisionEntry>('POST', `${api}/involvement/${involvement.body.id}/decisions`, { decisionId: decided.body.id, howUsed: 'Set the priority areas' }, auth);
    expect(linked.status).toBe(200);
    expect(linked.body.involvement).toEqual([expect.objectContaining({ id: involvement.body.id, howUsed: 'Set the priority areas' })]);
    const listed = await getJson<{ involvement: { id: string; decisions: { id: string }[] }[] }>(`${api}/involvement?audience=public`, auth);
    expect(listed.body.involvement.find((i) => i.id === involvement.body.id)?.decisions.map((d) => d.id)).toEqual([decided.body.id]);
    const gift = await sendJson<{ id: string }>('POST', `${api}/gifts`, { personId: p('owen-hughes'), kind: 'gift', description: 'Book', offeredBy: 'A publisher', valuePounds: 20, offeredOn: '2026-06-01', accepted: false }, auth);
    expect(gift.status).toBe(201);
    expect((await getJson<{ gifts: { id: string }[] }>(`${api}/gifts`, auth)).body.gifts.map((g) => g.id)).toContain(gift.body.id);
  });

  it('publishes a calendar of meetings and an Atom feed of public decisions, without sign-in', async () => {
    const calendar = await fetch(`${t.url}/public/QGH/meetings.ics`);
    expect(calendar.status).toBe(200);
    expect(calendar.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    const ics = await calendar.text();
    expect(ics.startsWith('BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:')).toBe(true);
    expect(ics.endsWith('END:VCALENDAR\r\n')).toBe(true);
    expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(ics.split('\r\n').every((line) => Buffer.byteLength(line) <= 75)).toBe(true);
    const meetings = (await getJson<{ meetings: { id: string }[] }>(`${api}/meetings`, auth)).body.meetings;
    expect(ics.match(/BEGIN:VEVENT/g)).toHaveLength(meetings.length);
    const may = (await getJson<{ meetings: { id: string }[] }>(`${api}/meetings?body=QGH-board&from=2026-05-14&to=2026-05-14`, auth)).body.meetings[0]?.id ?? '';
    const unfolded = ics.replace(/\r\n /g, '');
    expect(unfolded).toContain(`UID:${may}@openics\r\n`);
    expect(unfolded).toContain('DTSTART:20260514T090000Z\r\nDTEND:20260514T120000Z\r\n');
    expect(unfolded).toContain('LOCATION:Kindred Centre\\, Worcester (online: https://teams.example/board)');
    expect(unfolded).toContain(`URL:${t.url}/public/QGH/meetings/${may}\r\nSTATUS:CONFIRMED`);

    const atom = await fetch(`${t.url}/public/qgh/decisions.atom`);
    expect(atom.status).toBe(200);
    expect(atom.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    const xml = await atom.text();
    expect(xml.startsWith('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">')).toBe(true);
    expect(xml).toContain(`<link rel="self" type="application/atom+xml" href="${t.url}/public/QGH/decisions.atom"/>`);
    const publicDecisions = (await getJson<{ decisions: { id: string }[] }>(`${api}/decisions?audience=public`, auth)).body.decisions;
    expect(xml.match(/<entry>/g)).toHaveLength(publicDecisions.length);
    expect(xml).toContain('<title>Approve the elective hub</title>');
    expect(xml).not.toContain('land price');
    for (const d of publicDecisions) expect(xml).toContain(`<id>urn:openics:decision:${d.id}</id>`);

    expect((await fetch(`${t.url}/public/XYZ/meetings.ics`)).status).toBe(404);
    expect((await fetch(`${t.url}/public/XYZ/decisions.atom`)).status).toBe(404);
  });
});

describe(`governance feeds over the full demo (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  let t: TestApp;
  let auth: Record<string, string> = {};
  beforeAll(async () => {
    t = await startTestApp();
    auth = (await signIn(t, ADMINISTRATOR)).headers;
  });
  afterAll(async () => {
    await t.close();
  });

  it('gives a calendar event for every meeting, folded to 75 octets, and an Atom entry for every public decision only', async () => {
    const api = `${t.url}/api/ics/QGH/governance`;
    const meetings = (await getJson<{ meetings: { id: string; status: string }[] }>(`${api}/meetings`, auth)).body.meetings;
    expect(meetings.length).toBeGreaterThan(10);
    const ics = await (await fetch(`${t.url}/public/QGH/meetings.ics`)).text();
    expect(ics.split('\r\n').every((line) => Buffer.byteLength(line) <= 75)).toBe(true);
    expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const unfolded = ics.replace(/\r\n /g, '');
    expect(unfolded.match(/^BEGIN:VEVENT$/gm)).toHaveLength(meetings.length);
    for (const m of meetings) expect(unfolded).toContain(`UID:${m.id}@openics\r\n`);
    expect(unfolded.match(/^STATUS:CANCELLED\r?$/gm)?.length ?? 0).toBe(meetings.filter((m) => m.status === 'cancelled').length);

    const all = (await getJson<{ decisions: { id: string; title: string; part: string }[] }>(`${api}/decisions`, auth)).body.decisions;
    const xml = await (await fetch(`${t.url}/public/QGH/decisions.atom`)).text();
    const publicOnes = all.filter((d) => d.part === 'public');
    const privateOnes = all.filter((d) => d.part === 'private');
    expect(privateOnes.length).toBeGreaterThan(0);
    expect(xml.match(/<entry>/g)).toHaveLength(Math.min(publicOnes.length, 100));
    for (const d of privateOnes) expect(xml).not.toContain(`urn:openics:decision:${d.id}<`);
    expect(xml).not.toMatch(/&(?!amp;|lt;|gt;|quot;|apos;)/);
  });
});
