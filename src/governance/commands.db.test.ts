import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { ConflictError, ValidationError } from '../core/errors.js';
import { isCurrent } from '../structure/model.js';
import { loadDemoIcs } from '../structure/commands.js';
import { loadStructure } from '../structure/repository.js';
import { conflicts } from './checks.js';
import {
  addAction,
  addAgendaItem,
  addGift,
  addInterest,
  addInvolvement,
  addPaper,
  addPaperVersion,
  approveMinutes,
  closeAction,
  linkInvolvement,
  publishMinutes,
  publishPaper,
  recordAttendance,
  recordDeclaration,
  recordDecision,
  saveMinutesDraft,
  scheduleMeeting,
  setMeetingStatus,
} from './commands.js';
import { getDecision, listInvolvement, listMeetings, loadMeeting, paperFile, registerOfGifts, registerOfInterests, searchDecisions } from './repository.js';

const ICS = 'QGH';
const ACTOR = 'test';
const BOARD = 'QGH-board';
const PRIMARY_CARE = 'QGH-committee-primary-care';
const ONE_HEREFORDSHIRE = 'QGH-place-E06000019';
const p = (slug: string): string => `QGH-p-${slug}`;

/** The board's current voting members in 2026 (quorum 7). */
const BOARD_VOTERS = [
  'eleanor-whitcombe',
  'rajesh-patel',
  'margaret-o-neill',
  'samuel-adeyemi',
  'simon-trevelyan',
  'priya-shah',
  'catherine-bowen',
  'owen-hughes',
  'paul-robinson',
  'aisha-rahman',
  'sarah-collins',
  'jonathan-price',
].map(p);

const GOVERNANCE_TABLES = [
  'meeting',
  'agenda_item',
  'paper',
  'paper_version',
  'attendance',
  'interest',
  'gift',
  'declaration',
  'decision',
  'vote',
  'action_item',
  'minutes',
  'involvement',
  'involvement_decision',
  'change_log',
];

async function pdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText(text);
  return Buffer.from(await doc.save());
}

describe(`governance commands (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  let t: TestDatabase;

  /** Row counts of every governance table and the change log, to prove a refusal wrote nothing. */
  const snapshot = async (): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {};
    for (const table of GOVERNANCE_TABLES) counts[table] = (await t.db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n ?? 0;
    return counts;
  };

  /** The fields a refused command names; fails if it was not refused, and if it wrote anything. */
  const refused = async (command: () => Promise<unknown>): Promise<string[]> => {
    const before = await snapshot();
    let fields: string[] | null = null;
    try {
      await command();
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      fields = error.problems.map((x) => x.field).sort();
    }
    expect(await snapshot()).toEqual(before);
    if (!fields) throw new Error('expected a ValidationError');
    return fields;
  };

  const conflicted = async (command: () => Promise<unknown>): Promise<ConflictError> => {
    const before = await snapshot();
    const error = await command().then(
      () => null,
      (e: unknown) => e,
    );
    expect(await snapshot()).toEqual(before);
    expect(error).toBeInstanceOf(ConflictError);
    return error as ConflictError;
  };

  const meeting = (bodyId: string, startsAt: string, title?: string): Promise<string> =>
    scheduleMeeting(t.db, ICS, { bodyId, startsAt, venue: 'Kindred Centre, Worcester', ...(title ? { title } : {}) }, ACTOR);

  const attend = (meetingId: string, present: string[], others: { personId: string; status: string }[] = []): Promise<void> =>
    recordAttendance(t.db, ICS, meetingId, [...present.map((personId) => ({ personId, status: 'present' })), ...others], ACTOR);

  beforeAll(async () => {
    t = await openTestDatabase();
    expect(await loadDemoIcs(t.db, 'test')).toBe(true);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('meetings and agendas', () => {
    it('refuses a meeting without a venue or link, an http link, an end before the start, an unknown body, naming each field', async () => {
      const base = { bodyId: BOARD, startsAt: '2026-05-14T10:00', venue: 'Kindred Centre' };
      expect(await refused(() => scheduleMeeting(t.db, ICS, { bodyId: BOARD, startsAt: '2026-05-14T10:00' }, ACTOR))).toEqual(['venue']);
      expect(await refused(() => scheduleMeeting(t.db, ICS, { bodyId: BOARD, startsAt: '2026-05-14T10:00', venue: '   ', onlineUrl: ' ' }, ACTOR))).toEqual(['venue']);
      expect(await refused(() => scheduleMeeting(t.db, ICS, { ...base, onlineUrl: 'http://teams.example/meet' }, ACTOR))).toEqual(['onlineUrl']);
      expect(await refused(() => scheduleMeeting(t.db, ICS, { ...base, onlineUrl: 'javascript:alert(1)' }, ACTOR))).toEqual(['onlineUrl']);
      expect(await refused(() => scheduleMeeting(t.db, ICS, { ...base, endsAt: '2026-05-14T09:00' }, ACTOR))).toEqual(['endsAt']);
      expect(await refused(() => scheduleMeeting(t.db, ICS, { ...base, endsAt: '2026-05-14T10:00' }, ACTOR))).toEqual(['endsAt']);
      expect(await refused(() => scheduleMeeting(t.db, ICS, { ...base, bodyId: 'QGH-no-such-body' }, ACTOR))).toEqual(['bodyId']);
      expect(await refused(() => scheduleMeeting(t.db, 'QJK', base, ACTOR))).toEqual(['bodyId']);
      expect(await refused(() => scheduleMeeting(t.db, ICS, { ...base, startsAt: 'next Thursday' }, ACTOR))).toEqual(['startsAt']);
      expect(await refused(() => scheduleMeeting(t.db, ICS, { bodyId: 'x', startsAt: '14/05/2026', endsAt: 'soon', onlineUrl: 'ftp://x' }, ACTOR))).toEqual(['bodyId', 'endsAt', 'onlineUrl', 'startsAt']);
    });

    it('schedules a meeting in UK local time, online only or in person, titled after the body by default', async () => {
      const summer = await scheduleMeeting(t.db, ICS, { bodyId: BOARD, startsAt: '2026-06-18T10:00', onlineUrl: 'https://teams.example/board' }, ACTOR);
      const winter = await scheduleMeeting(t.db, ICS, { bodyId: BOARD, startsAt: '2026-12-03T10:00', endsAt: '2026-12-03T12:30', venue: 'The Kindred Centre', title: 'Board in public' }, ACTOR);
      const zoned = await scheduleMeeting(t.db, ICS, { bodyId: BOARD, startsAt: '2026-06-19T10:00:00Z', venue: 'Hereford' }, ACTOR);
      const s = await loadMeeting(t.db, ICS, summer, 'staff');
      const boardName = (await t.db.query<{ name: string }>('SELECT name FROM body WHERE id = $1', [BOARD])).rows[0]?.name;
      expect(s.meeting).toMatchObject({ bodyId: BOARD, title: `${boardName ?? ''} meeting`, venue: null, onlineUrl: 'https://teams.example/board', status: 'scheduled', endsAt: null });
      expect(s.meeting.startsAt.toISOString()).toBe('2026-06-18T09:00:00.000Z'); // BST
      const w = await loadMeeting(t.db, ICS, winter, 'staff');
      expect(w.meeting).toMatchObject({ title: 'Board in public', venue: 'The Kindred Centre', onlineUrl: null });
      expect(w.meeting.startsAt.toISOString()).toBe('2026-12-03T10:00:00.000Z'); // GMT
      expect(w.meeting.endsAt?.toISOString()).toBe('2026-12-03T12:30:00.000Z');
      expect((await loadMeeting(t.db, ICS, zoned, 'staff')).meeting.startsAt.toISOString()).toBe('2026-06-19T10:00:00.000Z');
      const listed = await listMeetings(t.db, ICS, { bodyId: BOARD, from: new Date('2026-06-18T00:00:00Z'), to: new Date('2026-06-19T00:00:00Z') });
      expect(listed.map((m) => m.id)).toEqual([summer]);
    });

    it('marks a meeting held only once it has started, and refuses an unknown status', async () => {
      const past = await meeting(BOARD, '2026-01-15T10:00');
      const future = await meeting(BOARD, '2099-01-15T10:00');
      expect(await refused(() => setMeetingStatus(t.db, ICS, future, 'held', ACTOR))).toEqual(['status']);
      expect(await refused(() => setMeetingStatus(t.db, ICS, past, 'adjourned', ACTOR))).toEqual(['status']);
      await setMeetingStatus(t.db, ICS, past, 'held', ACTOR);
      await setMeetingStatus(t.db, ICS, future, 'cancelled', ACTOR);
      expect((await loadMeeting(t.db, ICS, past, 'staff')).meeting.status).toBe('held');
      expect(await refused(() => addAgendaItem(t.db, ICS, future, { part: 'public', title: 'Anything', purpose: 'information' }, ACTOR))).toEqual(['meetingId']);
    });

    it('needs a reason to take an item in private, and the schema holds that rule too', async () => {
      const id = await meeting(BOARD, '2026-02-12T10:00');
      expect(await refused(() => addAgendaItem(t.db, ICS, id, { part: 'private', title: 'Estates disposal', purpose: 'decision' }, ACTOR))).toEqual(['privateReason']);
      expect(await refused(() => addAgendaItem(t.db, ICS, id, { part: 'private', title: 'Estates disposal', purpose: 'decision', privateReason: '   ' }, ACTOR))).toEqual(['privateReason']);
      expect(
        await refused(() => addAgendaItem(t.db, ICS, id, { part: 'secret', title: ' ', purpose: 'gossip', concerns: ['RLQ', 'NOPE'], functionId: 'QGH-fn-nothing' }, ACTOR)),
      ).toEqual(['concerns', 'functionId', 'part', 'purpose', 'title']);
      // Names of Object.prototype's members are not parts or purposes either.
      expect(await refused(() => addAgendaItem(t.db, ICS, id, { part: 'constructor', title: 'Item', purpose: 'toString' }, ACTOR))).toEqual(['part', 'purpose']);

      const first = await addAgendaItem(t.db, ICS, id, { part: 'public', title: 'Welcome and apologies', purpose: 'information' }, ACTOR);
      const second = await addAgendaItem(t.db, ICS, id, { part: 'private', title: 'Estates disposal', purpose: 'decision', privateReason: 'Commercially sensitive: negotiations are under way', concerns: ['RLQ', 'RLQ'] }, ACTOR);
      const items = (await loadMeeting(t.db, ICS, id, 'staff')).items;
      expect(items.map((i) => [i.id, i.position, i.part])).toEqual([
        [first, 1, 'public'],
        [second, 2, 'private'],
      ]);
      expect(items[1]).toMatchObject({ privateReason: 'Commercially sensitive: negotiations are under way', concerns: ['RLQ'] });

      // The schema holds the rule too. (Each probe in a transaction of its own, rolled back.)
      const violates = (sql: string, params: unknown[]): Promise<unknown> => t.db.transaction((tx) => tx.query(sql, params));
      await expect(violates("INSERT INTO agenda_item (id, meeting_id, position, part, title, purpose) VALUES ('x-item', $1, 9, 'private', 'No reason', 'decision')", [id])).rejects.toThrow(/check constraint/);
      await expect(
        violates("INSERT INTO agenda_item (id, meeting_id, position, part, title, purpose, private_reason) VALUES ('x-item', $1, 9, 'private', 'Blank reason', 'decision', '  ')", [id]),
      ).rejects.toThrow(/check constraint/);
      await expect(violates("INSERT INTO meeting (id, ics_code, body_id, title, starts_at) VALUES ('x-mtg', 'QGH', $1, 'Nowhere', now())", [BOARD])).rejects.toThrow(/check constraint/);
      await expect(
        violates("INSERT INTO meeting (id, ics_code, body_id, title, starts_at, ends_at, venue) VALUES ('x-mtg', 'QGH', $1, 'Backwards', now(), now() - interval '1 hour', 'Here')", [BOARD]),
      ).rejects.toThrow(/check constraint/);
      expect((await t.db.query("SELECT count(*) AS n FROM agenda_item WHERE id = 'x-item'")).rows).toEqual([{ n: 0 }]);
    });
  });

  describe('papers', () => {
    let itemId: string;
    beforeAll(async () => {
      const id = await meeting(BOARD, '2026-03-12T10:00');
      itemId = await addAgendaItem(t.db, ICS, id, { part: 'public', title: 'Finance report', purpose: 'assurance' }, ACTOR);
    });

    it('accepts a PDF and a Markdown paper, and refuses any other file naming `file`', async () => {
      const pdfBytes = await pdf('Month 11 finance report');
      const pdfId = await addPaper(t.db, ICS, itemId, { title: 'Finance report month 11', file: { filename: '../Finance report.pdf', bytes: pdfBytes } }, ACTOR);
      const mdId = await addPaper(t.db, ICS, itemId, { title: 'Cover note', file: { filename: 'cover.md', bytes: Buffer.from('# Cover note\n\nThe board is asked to note the report.') } }, ACTOR);
      const pdfFile = await paperFile(t.db, ICS, pdfId, 1, 'staff');
      expect(pdfFile).toMatchObject({ format: 'pdf', filename: 'Finance report.pdf', sizeBytes: pdfBytes.length, title: 'Finance report month 11', uploadedBy: ACTOR, publishedAt: null });
      expect(Buffer.compare(pdfFile.content, pdfBytes)).toBe(0);
      expect((await paperFile(t.db, ICS, mdId, 1, 'staff')).content.toString('utf8')).toContain('asked to note');

      expect(await refused(() => addPaper(t.db, ICS, itemId, { title: 'Report', file: { filename: 'report.docx', bytes: Buffer.from('PK\u0003\u0004 word document') } }, ACTOR))).toEqual(['file']);
      expect(await refused(() => addPaper(t.db, ICS, itemId, { title: 'Report', file: { filename: 'report.pdf', bytes: Buffer.from('%PDF-1.7 not really') } }, ACTOR))).toEqual(['file']);
      expect(await refused(() => addPaper(t.db, ICS, itemId, { title: ' ', file: { filename: 'report.html', bytes: Buffer.from('<script>alert(1)</script>') } }, ACTOR))).toEqual(['file', 'title']);
    });

    it('needs a reason to replace a published paper, keeps every version readable, and never overwrites one', async () => {
      const v1 = await pdf('Version one');
      const paperId = await addPaper(t.db, ICS, itemId, { title: 'Operating plan', file: { filename: 'plan.pdf', bytes: v1 } }, ACTOR);
      // Before publication a paper may be replaced freely.
      expect(await addPaperVersion(t.db, ICS, paperId, { file: { filename: 'plan.pdf', bytes: await pdf('Version two') } }, ACTOR)).toBe(2);
      await expect(paperFile(t.db, ICS, paperId, 2, 'public')).rejects.toThrow(/not found/);
      expect(await publishPaper(t.db, ICS, paperId, ACTOR)).toBe(2);
      expect((await paperFile(t.db, ICS, paperId, 2, 'public')).publishedAt).toBeInstanceOf(Date);
      // Version 1 was never published; the public never see it.
      await expect(paperFile(t.db, ICS, paperId, 1, 'public')).rejects.toThrow(/not found/);

      const v3 = Buffer.from('# Operating plan\n\nCorrected table 4.');
      expect(await refused(() => addPaperVersion(t.db, ICS, paperId, { file: { filename: 'plan.md', bytes: v3 } }, ACTOR))).toEqual(['reason']);
      expect(await refused(() => addPaperVersion(t.db, ICS, paperId, { file: { filename: 'plan.md', bytes: v3 }, reason: '  ' }, ACTOR))).toEqual(['reason']);
      expect(await refused(() => addPaperVersion(t.db, ICS, paperId, { file: { filename: 'plan.exe', bytes: Buffer.from('MZ') }, reason: 'Corrected' }, ACTOR))).toEqual(['file']);
      expect(await addPaperVersion(t.db, ICS, paperId, { file: { filename: 'plan.md', bytes: v3 }, reason: 'Table 4 corrected' }, ACTOR)).toBe(3);

      const staff = await Promise.all([1, 2, 3].map((v) => paperFile(t.db, ICS, paperId, v, 'staff')));
      expect(staff.map((f) => [f.version, f.format, f.changeReason])).toEqual([
        [1, 'pdf', null],
        [2, 'pdf', null],
        [3, 'markdown', 'Table 4 corrected'],
      ]);
      expect(Buffer.compare(staff[0]?.content ?? Buffer.alloc(0), v1)).toBe(0);
      // Publishing version 3 leaves version 2 published too: both readable by the public.
      const publishedV2 = staff[1]?.publishedAt?.toISOString();
      await publishPaper(t.db, ICS, paperId, ACTOR);
      expect((await paperFile(t.db, ICS, paperId, 2, 'public')).publishedAt?.toISOString()).toBe(publishedV2);
      expect((await paperFile(t.db, ICS, paperId, 3, 'public')).content.toString('utf8')).toContain('Corrected table 4');
      // Publishing again changes nothing.
      const before = await snapshot();
      expect(await publishPaper(t.db, ICS, paperId, ACTOR)).toBe(3);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('decisions', () => {
    let b1: string;
    let itemA: string;
    let itemPrivate: string;
    let itemMh: string;
    beforeAll(async () => {
      b1 = await meeting(BOARD, '2026-05-14T10:00', 'Board meeting in public, May 2026');
      itemA = await addAgendaItem(t.db, ICS, b1, { part: 'public', title: 'Wye Valley elective hub business case', purpose: 'decision', concerns: ['RLQ'] }, ACTOR);
      itemPrivate = await addAgendaItem(t.db, ICS, b1, { part: 'private', title: 'Premises dispute', purpose: 'decision', privateReason: 'Legal advice is privileged' }, ACTOR);
      itemMh = await addAgendaItem(t.db, ICS, b1, { part: 'public', title: 'Mental health investment standard', purpose: 'decision', functionId: 'QGH-fn-mental-health' }, ACTOR);
    });

    const vote = (personIds: string[], kind: string): { personId: string; vote: string }[] => personIds.map((personId) => ({ personId, vote: kind }));
    const decide = (meetingId: string, agendaItemId: string, extra: Record<string, unknown>) =>
      recordDecision(t.db, ICS, meetingId, { agendaItemId, title: 'Approve the business case', text: 'The board approved the business case.', method: 'vote', outcome: 'approved', ...extra }, ACTOR);

    it('refuses a decision without a quorum', async () => {
      expect(await refused(() => decide(b1, itemA, { method: 'consensus' }))).toEqual(['quorum']);
      // Six voting members and a non-voting member present: the board needs seven.
      await attend(b1, [...BOARD_VOTERS.slice(0, 6), p('hayley-morgan')]);
      expect(await refused(() => decide(b1, itemA, { method: 'consensus' }))).toEqual(['quorum']);
    });

    it('refuses votes by non-members, non-voting and past members, members not present, the excluded and duplicates', async () => {
      // Eight voting members present (quorate); Jonathan Price sends apologies; Naomi Clarke attends.
      await attend(b1, BOARD_VOTERS.slice(0, 8), [
        { personId: p('jonathan-price'), status: 'apologies' },
        { personId: p('naomi-clarke'), status: 'in_attendance' },
        { personId: p('geoffrey-lane'), status: 'present' },
      ]);
      await recordDeclaration(t.db, ICS, b1, { agendaItemId: itemA, personId: p('rajesh-patel'), description: 'Spouse works at Wye Valley NHS Trust', handling: 'excluded_from_decision' }, ACTOR);
      const six = vote(BOARD_VOTERS.slice(2, 8), 'for');
      expect(await refused(() => decide(b1, itemA, { votes: [...six, ...vote([p('naomi-clarke')], 'for')] }))).toEqual(['votes.6.personId']);
      expect(await refused(() => decide(b1, itemA, { votes: [...six, ...vote([p('hayley-morgan')], 'for')] }))).toEqual(['votes.6.personId']);
      expect(await refused(() => decide(b1, itemA, { votes: [...six, ...vote([p('geoffrey-lane')], 'for')] }))).toEqual(['votes.6.personId']);
      expect(await refused(() => decide(b1, itemA, { votes: [...six, ...vote([p('jonathan-price')], 'for')] }))).toEqual(['votes.6.personId']);
      expect(await refused(() => decide(b1, itemA, { votes: [...six, ...vote([p('rajesh-patel')], 'for')] }))).toEqual(['votes.6.personId']);
      expect(await refused(() => decide(b1, itemA, { votes: [...six, ...vote([p('priya-shah')], 'against')] }))).toEqual(['votes.6.personId']);
      expect(await refused(() => decide(b1, itemA, { votes: [...six, { personId: p('eleanor-whitcombe'), vote: 'maybe' }] }))).toEqual(['votes.6.vote']);
      expect(await refused(() => decide(b1, itemA, { votes: [] }))).toEqual(['outcome', 'votes']);
    });

    it('refuses an outcome the votes do not give, consensus with votes, and bad methods', async () => {
      const against = vote(BOARD_VOTERS.slice(2, 5), 'against');
      expect(await refused(() => decide(b1, itemA, { votes: [...vote(BOARD_VOTERS.slice(5, 8), 'for'), ...against] }))).toEqual(['outcome']); // a tie does not carry
      expect(await refused(() => decide(b1, itemA, { outcome: 'rejected', votes: vote(BOARD_VOTERS.slice(2, 8), 'for') }))).toEqual(['outcome']);
      expect(await refused(() => decide(b1, itemA, { votes: vote(BOARD_VOTERS.slice(2, 8), 'abstain') }))).toEqual(['outcome']);
      expect(await refused(() => decide(b1, itemA, { method: 'consensus', votes: vote(BOARD_VOTERS.slice(2, 4), 'for') }))).toEqual(['votes']);
      expect(await refused(() => decide(b1, itemA, { method: 'acclamation', outcome: 'carried', title: ' ', text: '' }))).toEqual(['method', 'outcome', 'text', 'title']);
      expect(await refused(() => decide(b1, itemA, { method: 'constructor', outcome: 'valueOf' }))).toEqual(['method', 'outcome']);
      expect(await refused(() => decide(b1, 'QGH-item-elsewhere', { method: 'consensus' }))).toEqual(['agendaItemId']);
    });

    it('records a quorate vote with its votes, and only one decision per item', async () => {
      const votes = [...vote(BOARD_VOTERS.slice(2, 7), 'for'), ...vote([p('owen-hughes')], 'against'), ...vote([p('eleanor-whitcombe')], 'abstain')];
      const recorded = await decide(b1, itemA, { votes, topic: 'Elective care' });
      expect(recorded).toMatchObject({ authorityOk: true });
      const found = await getDecision(t.db, ICS, recorded.id, 'staff');
      expect(found).toMatchObject({ outcome: 'approved', method: 'vote', topic: 'Elective care', bodyId: BOARD, concerns: ['RLQ'], authorityOk: true });
      expect(found.decidedAt.toISOString()).toBe('2026-05-14T09:00:00.000Z');
      expect(found.votes.map((v) => `${v.personId}:${v.vote}`).sort()).toEqual(votes.map((v) => `${v.personId}:${v.vote}`).sort());
      const again = await conflicted(() => decide(b1, itemA, { method: 'consensus' }));
      expect(again.problems.map((x) => x.field)).toEqual(['agendaItemId']);

      await decide(b1, itemPrivate, { method: 'consensus', title: 'Settle the premises dispute', text: 'The board agreed to settle.', topic: 'Estates' });
    });

    it('records whether the body held the authority: the board always does', async () => {
      const onBoard = await decide(b1, itemMh, { method: 'consensus', title: 'Mental health investment', text: 'The board confirmed the Mental Health Investment Standard.', topic: 'Mental health' });
      expect(onBoard.authorityOk).toBe(true);
      expect(onBoard.authorityNote).toContain('accountable');
    });

    it('records a decision outside delegated authority, flagged with who holds it', async () => {
      const s = await loadStructure(t.db, ICS);
      const voters = s.memberships.filter((m) => m.bodyId === ONE_HEREFORDSHIRE && m.voting && isCurrent(m, '2026-06-02')).map((m) => m.personId);
      expect(voters.length).toBeGreaterThanOrEqual(4);
      const oh = await meeting(ONE_HEREFORDSHIRE, '2026-06-02T14:00');
      const mhItem = await addAgendaItem(t.db, ICS, oh, { part: 'public', title: 'Crisis café for Hereford', purpose: 'decision', functionId: 'QGH-fn-mental-health' }, ACTOR);
      const communityItem = await addAgendaItem(t.db, ICS, oh, { part: 'public', title: 'Community services plan', purpose: 'decision', functionId: 'QGH-fn-community' }, ACTOR);
      expect(await refused(() => decide(oh, mhItem, { method: 'consensus' }))).toEqual(['quorum']);
      await attend(oh, voters.slice(0, 4));

      const outside = await decide(oh, mhItem, { method: 'consensus', title: 'Fund a crisis café', text: 'The partnership agreed to fund a crisis café in Hereford.' });
      expect(outside.authorityOk).toBe(false);
      expect(outside.authorityNote).toContain('One Herefordshire Partnership has no delegated authority');
      expect(outside.authorityNote).toContain('Mental Health, Learning Disability and Autism Provider Collaborative');
      const stored = await getDecision(t.db, ICS, outside.id, 'public');
      expect(stored).toMatchObject({ authorityOk: false, authorityNote: outside.authorityNote });

      const inside = await decide(oh, communityItem, { method: 'consensus', title: 'Community services plan', text: 'Agreed.' });
      expect(inside).toMatchObject({ authorityOk: true, authorityNote: expect.stringContaining('delegated to One Herefordshire Partnership') as unknown });
      const log = await t.db.query<{ summary: string }>("SELECT summary FROM change_log WHERE module = 'governance' AND summary LIKE '%Fund a crisis café%'");
      expect(log.rows[0]?.summary).toContain('outside delegated authority');
    });

    it('refuses a decision at a cancelled meeting', async () => {
      const id = await meeting(PRIMARY_CARE, '2026-04-02T10:00');
      const item = await addAgendaItem(t.db, ICS, id, { part: 'public', title: 'Practice merger', purpose: 'decision' }, ACTOR);
      await attend(id, [p('margaret-o-neill'), p('owen-hughes'), p('priya-shah')]);
      await setMeetingStatus(t.db, ICS, id, 'cancelled', ACTOR);
      expect(await refused(() => decide(id, item, { method: 'consensus' }))).toEqual(['meetingId']);
    });
  });

  describe('interests and conflicts', () => {
    it('registers interests and gifts, refusing bad input field by field', async () => {
      expect(
        await refused(() => addInterest(t.db, ICS, { personId: p('nobody'), kind: 'hobby', description: ' ', orgCodes: ['NOPE'], startDate: '2026-02-30', endDate: '2020-01-01', declaredOn: 'yesterday' }, ACTOR)),
      ).toEqual(['declaredOn', 'description', 'kind', 'orgCodes', 'personId', 'startDate']);
      expect(await refused(() => addInterest(t.db, ICS, { personId: p('rajesh-patel'), kind: 'financial', description: 'Shares', startDate: '2026-01-01', endDate: '2025-01-01' }, ACTOR))).toEqual(['endDate']);
      expect(
        await refused(() => addGift(t.db, ICS, { personId: p('nobody'), kind: 'bribe', description: '', offeredBy: '', valuePounds: -5, offeredOn: '2026-13-01', accepted: false }, ACTOR)),
      ).toEqual(['description', 'kind', 'offeredBy', 'offeredOn', 'personId', 'valuePounds']);
      const gift = await addGift(t.db, ICS, { personId: p('priya-shah'), kind: 'hospitality', description: 'Conference dinner', offeredBy: 'A supplier', valuePounds: 45.5, offeredOn: '2026-03-01', accepted: false }, ACTOR);
      expect((await registerOfGifts(t.db, ICS)).find((g) => g.id === gift)).toMatchObject({ valuePounds: 45.5, accepted: false, offeredOn: '2026-03-01', kind: 'hospitality' });
    });

    it('flags an attending member with a current interest in an organisation an item concerns, and shows the handling once declared', async () => {
      const current = await addInterest(t.db, ICS, { personId: p('sarah-collins'), kind: 'financial', description: 'Chief executive of the Health and Care Trust', orgCodes: ['R1A'], startDate: '2022-07-01' }, ACTOR);
      await addInterest(t.db, ICS, { personId: p('owen-hughes'), kind: 'non_financial_professional', description: 'Former honorary consultant at the Health and Care Trust', orgCodes: ['R1A'], startDate: '2019-01-01', endDate: '2025-12-31' }, ACTOR);
      await addInterest(t.db, ICS, { personId: p('jonathan-price'), kind: 'indirect', description: 'Brother is a governor of the Health and Care Trust', orgCodes: ['R1A'], startDate: '2020-01-01' }, ACTOR);
      await addInterest(t.db, ICS, { personId: p('naomi-clarke'), kind: 'financial', description: 'Trustee of a charity funded by the trust', orgCodes: ['R1A'], startDate: '2020-01-01' }, ACTOR);
      await addInterest(t.db, ICS, { personId: p('paul-robinson'), kind: 'financial', description: 'Worcestershire County Council', orgCodes: ['E10000034'], startDate: '2020-01-01' }, ACTOR);
      expect((await registerOfInterests(t.db, ICS)).some((i) => i.id === current && i.endDate === null && i.orgCodes.includes('R1A'))).toBe(true);

      const id = await meeting(BOARD, '2026-04-16T10:00');
      const item = await addAgendaItem(t.db, ICS, id, { part: 'public', title: 'Community contract with the Health and Care Trust', purpose: 'decision', concerns: ['R1A'] }, ACTOR);
      await addAgendaItem(t.db, ICS, id, { part: 'public', title: 'Chair’s report', purpose: 'information' }, ACTOR);
      await attend(id, BOARD_VOTERS.slice(0, 11), [{ personId: p('jonathan-price'), status: 'apologies' }]);

      const flagsNow = async () => {
        const record = await loadMeeting(t.db, ICS, id, 'staff');
        const s = await loadStructure(t.db, ICS);
        const body = s.bodies.find((b) => b.id === BOARD);
        if (!body) throw new Error('no board');
        return conflicts(s, body, record.items, record.attendance, record.interests, record.declarations, '2026-04-16');
      };
      // Sarah Collins (a member expected to attend) is flagged; Owen Hughes' interest has ended;
      // Jonathan Price sent apologies; Naomi Clarke is not attending; Paul Robinson's interest is elsewhere.
      const before = await flagsNow();
      expect(before.map((f) => [f.agendaItemId, f.personId, f.handling])).toEqual([[item, p('sarah-collins'), null]]);
      expect(before[0]?.organisations).toEqual([{ code: 'R1A', name: 'Herefordshire and Worcestershire Health and Care NHS Trust' }]);

      expect(await refused(() => recordDeclaration(t.db, ICS, id, { agendaItemId: item, personId: p('sarah-collins'), interestId: current, handling: 'left the room' }, ACTOR))).toEqual(['handling']);
      const others = (await registerOfInterests(t.db, ICS)).find((i) => i.personId === p('paul-robinson'));
      expect(await refused(() => recordDeclaration(t.db, ICS, id, { agendaItemId: item, personId: p('sarah-collins'), interestId: others?.id, description: 'Council', handling: 'noted' }, ACTOR))).toEqual(['interestId']);
      expect(await refused(() => recordDeclaration(t.db, ICS, id, { agendaItemId: 'nope', personId: p('sarah-collins'), handling: 'noted' }, ACTOR))).toEqual(['agendaItemId', 'description']);
      await recordDeclaration(t.db, ICS, id, { agendaItemId: item, personId: p('sarah-collins'), interestId: current, handling: 'excluded_from_discussion' }, ACTOR);
      const declared = await loadMeeting(t.db, ICS, id, 'staff');
      expect(declared.declarations[0]).toMatchObject({ personId: p('sarah-collins'), description: 'Chief executive of the Health and Care Trust', handling: 'excluded_from_discussion' });
      expect((await flagsNow()).map((f) => f.handling)).toEqual(['excluded_from_discussion']);
      await conflicted(() => recordDeclaration(t.db, ICS, id, { agendaItemId: item, personId: p('sarah-collins'), description: 'Again', handling: 'noted' }, ACTOR));

      // An excluded member cannot vote on the item; the others can.
      const votes = BOARD_VOTERS.slice(0, 11).filter((x) => x !== p('sarah-collins')).map((personId) => ({ personId, vote: 'for' }));
      expect(await refused(() => recordDecision(t.db, ICS, id, { agendaItemId: item, title: 'Award', text: 'Awarded.', method: 'vote', outcome: 'approved', votes: [...votes, { personId: p('sarah-collins'), vote: 'for' }] }, ACTOR))).toEqual([
        `votes.${votes.length}.personId`,
      ]);
      await recordDecision(t.db, ICS, id, { agendaItemId: item, title: 'Award', text: 'Awarded.', method: 'vote', outcome: 'approved', votes }, ACTOR);
    });
  });

  describe('minutes and actions', () => {
    let m1: string;
    let m0: string;
    let m2: string;
    let m3: string;
    let committee: string;
    beforeAll(async () => {
      m0 = await meeting(BOARD, '2026-07-02T10:00');
      m1 = await meeting(BOARD, '2026-07-09T10:00');
      m2 = await meeting(BOARD, '2026-09-10T10:00');
      m3 = await meeting(BOARD, '2026-11-05T10:00');
      committee = await meeting(PRIMARY_CARE, '2026-09-17T10:00');
      await attend(committee, [p('margaret-o-neill'), p('owen-hughes'), p('priya-shah')]);
      await attend(m0, BOARD_VOTERS);
    });

    it('drafts minutes, approves them only at a later quorate meeting of the same body, then publishes them', async () => {
      expect(await refused(() => saveMinutesDraft(t.db, ICS, m1, '   ', ACTOR))).toEqual(['content']);
      expect(await refused(() => publishMinutes(t.db, ICS, m1, ACTOR))).toEqual(['status']);
      expect(await refused(() => approveMinutes(t.db, ICS, m1, m2, ACTOR))).toEqual(['content']);
      await saveMinutesDraft(t.db, ICS, m1, 'Present: the chair and members.', ACTOR);
      await saveMinutesDraft(t.db, ICS, m1, 'Present: the chair and eight members.', ACTOR);
      expect((await loadMeeting(t.db, ICS, m1, 'staff')).minutes).toMatchObject({ status: 'draft', content: 'Present: the chair and eight members.' });
      expect(await refused(() => publishMinutes(t.db, ICS, m1, ACTOR))).toEqual(['status']);

      await attend(m1, BOARD_VOTERS);
      expect(await refused(() => approveMinutes(t.db, ICS, m1, m1, ACTOR))).toEqual(['atMeetingId']); // the same meeting
      expect(await refused(() => approveMinutes(t.db, ICS, m1, m0, ACTOR))).toEqual(['atMeetingId']); // an earlier one, though quorate
      expect(await refused(() => approveMinutes(t.db, ICS, m1, committee, ACTOR))).toEqual(['atMeetingId']); // another body, though later and quorate
      expect(await refused(() => approveMinutes(t.db, ICS, m1, m2, ACTOR))).toEqual(['quorum']); // later, but nobody recorded
      await attend(m2, BOARD_VOTERS.slice(0, 6));
      expect(await refused(() => approveMinutes(t.db, ICS, m1, m2, ACTOR))).toEqual(['quorum']); // six of seven
      await attend(m2, BOARD_VOTERS.slice(6, 7));
      await approveMinutes(t.db, ICS, m1, m2, ACTOR);
      const approved = (await loadMeeting(t.db, ICS, m1, 'staff')).minutes;
      expect(approved).toMatchObject({ status: 'approved', approvedAtMeeting: m2, content: 'Present: the chair and eight members.' });
      expect(approved?.approvedAt?.toISOString()).toBe('2026-09-10T09:00:00.000Z');
      expect((await loadMeeting(t.db, ICS, m1, 'public')).minutes).toBeNull();

      const edit = await conflicted(() => saveMinutesDraft(t.db, ICS, m1, 'Rewritten after approval', ACTOR));
      expect(edit.problems.map((x) => x.field)).toEqual(['content']);
      await conflicted(() => approveMinutes(t.db, ICS, m1, m3, ACTOR));
      await publishMinutes(t.db, ICS, m1, ACTOR);
      const published = await loadMeeting(t.db, ICS, m1, 'public');
      expect(published.minutes).toMatchObject({ status: 'published', content: 'Present: the chair and eight members.', approvedAtMeeting: m2 });
      expect(published.minutes?.publishedAt).toBeInstanceOf(Date);
      await conflicted(() => saveMinutesDraft(t.db, ICS, m1, 'Rewritten after publication', ACTOR));
    });

    it('carries an open action forward to each later meeting of the body until it is closed', async () => {
      expect(await refused(() => addAction(t.db, ICS, m1, { description: ' ', ownerPersonId: p('nobody'), dueDate: '2026-09-31', agendaItemId: 'not-on-this-agenda' }, ACTOR))).toEqual([
        'agendaItemId',
        'description',
        'dueDate',
        'ownerPersonId',
      ]);
      const item = await addAgendaItem(t.db, ICS, m1, { part: 'public', title: 'Winter plan', purpose: 'discussion' }, ACTOR);
      const action = await addAction(t.db, ICS, m1, { description: 'Bring the winter plan back with costs', ownerPersonId: p('simon-trevelyan'), dueDate: '2026-09-10', agendaItemId: item }, ACTOR);
      const other = await addAction(t.db, ICS, m1, { description: 'Circulate the risk register', ownerPersonId: p('priya-shah'), dueDate: '2026-08-01' }, ACTOR);

      const atM1 = await loadMeeting(t.db, ICS, m1, 'staff');
      expect(atM1.actionsRaised.map((a) => a.id).sort()).toEqual([action, other].sort());
      expect(atM1.actionsCarried.map((a) => a.id)).not.toContain(action);
      expect((await loadMeeting(t.db, ICS, m0, 'staff')).actionsCarried.map((a) => a.id)).not.toContain(action);
      expect((await loadMeeting(t.db, ICS, m2, 'staff')).actionsCarried.map((a) => a.id)).toEqual(expect.arrayContaining([action, other]));
      expect((await loadMeeting(t.db, ICS, committee, 'staff')).actionsCarried.map((a) => a.id)).not.toContain(action);

      expect(await refused(() => closeAction(t.db, ICS, action, { meetingId: committee, note: 'Done' }, ACTOR))).toEqual(['meetingId']); // another body
      expect(await refused(() => closeAction(t.db, ICS, action, { meetingId: m0, note: 'Done' }, ACTOR))).toEqual(['meetingId']); // before it was raised
      expect(await refused(() => closeAction(t.db, ICS, action, { meetingId: m2, note: '  ' }, ACTOR))).toEqual(['note']);
      await closeAction(t.db, ICS, action, { meetingId: m2, note: 'Winter plan presented with costs' }, ACTOR);
      await conflicted(() => closeAction(t.db, ICS, action, { meetingId: m3, note: 'Again' }, ACTOR));

      // Shown at the meeting that closed it (with how), gone from the next; the other stays open.
      const atM2 = (await loadMeeting(t.db, ICS, m2, 'staff')).actionsCarried.find((a) => a.id === action);
      expect(atM2).toMatchObject({ closedAtMeeting: m2, closedNote: 'Winter plan presented with costs' });
      const atM3 = (await loadMeeting(t.db, ICS, m3, 'staff')).actionsCarried.map((a) => a.id);
      expect(atM3).not.toContain(action);
      expect(atM3).toContain(other);
      // An action may also be closed at the meeting that raised it.
      await closeAction(t.db, ICS, other, { meetingId: m1, note: 'Circulated during the meeting' }, ACTOR);
      expect((await loadMeeting(t.db, ICS, m2, 'staff')).actionsCarried.map((a) => a.id)).not.toContain(other);
    });
  });

  describe('what the public see, and the decisions log', () => {
    let id: string;
    let publicItem: string;
    let privateItem: string;
    let publicDecision: string;
    let privateDecision: string;
    let committeeDecision: string;
    beforeAll(async () => {
      id = await meeting(BOARD, '2026-10-08T10:00', 'Board meeting in public, October 2026');
      await attend(id, BOARD_VOTERS);
      publicItem = await addAgendaItem(t.db, ICS, id, { part: 'public', title: 'Stroke services reconfiguration', purpose: 'decision', concerns: ['RWP', 'RLQ'] }, ACTOR);
      privateItem = await addAgendaItem(t.db, ICS, id, { part: 'private', title: 'Redundancy proposals', purpose: 'decision', privateReason: 'Information about individual staff', concerns: ['RWP'] }, ACTOR);
      await addAgendaItem(t.db, ICS, id, { part: 'private', title: 'Contract negotiation', purpose: 'discussion', privateReason: 'Commercially sensitive' }, ACTOR);
      const published = await addPaper(t.db, ICS, publicItem, { title: 'Stroke options appraisal', file: { filename: 'stroke.md', bytes: Buffer.from('# Options\n\nOption B.') } }, ACTOR);
      await publishPaper(t.db, ICS, published, ACTOR);
      await addPaperVersion(t.db, ICS, published, { file: { filename: 'stroke.md', bytes: Buffer.from('# Options\n\nOption B, revised.') }, reason: 'Revised after the consultation' }, ACTOR);
      await addPaper(t.db, ICS, publicItem, { title: 'Draft equality impact assessment', file: { filename: 'eia.md', bytes: Buffer.from('Draft') } }, ACTOR);
      const secret = await addPaper(t.db, ICS, privateItem, { title: 'Redundancy list', file: { filename: 'list.md', bytes: Buffer.from('Names') } }, ACTOR);
      await publishPaper(t.db, ICS, secret, ACTOR);
      await recordDeclaration(t.db, ICS, id, { agendaItemId: privateItem, personId: p('priya-shah'), description: 'Partner affected', handling: 'noted' }, ACTOR);
      publicDecision = (
        await recordDecision(
          t.db,
          ICS,
          id,
          { agendaItemId: publicItem, title: 'Hyperacute stroke unit at Worcestershire Royal', text: 'The board agreed Option B: one hyperacute stroke unit.', method: 'consensus', outcome: 'approved', topic: 'Stroke', decidedAt: '2026-10-08T11:30' },
          ACTOR,
        )
      ).id;
      privateDecision = (
        await recordDecision(t.db, ICS, id, { agendaItemId: privateItem, title: 'Redundancy proposals', text: 'Agreed the stroke team redundancy consultation.', method: 'consensus', outcome: 'approved', topic: 'Workforce' }, ACTOR)
      ).id;
      await saveMinutesDraft(t.db, ICS, id, 'Draft minutes, not for the public yet', ACTOR);

      const pc = await meeting(PRIMARY_CARE, '2026-10-22T10:00');
      await attend(pc, [p('margaret-o-neill'), p('owen-hughes'), p('priya-shah')]);
      const pcItem = await addAgendaItem(t.db, ICS, pc, { part: 'public', title: 'Practice merger in Malvern', purpose: 'decision', functionId: 'QGH-fn-primary-medical', concerns: ['M81039'] }, ACTOR);
      committeeDecision = (await recordDecision(t.db, ICS, pc, { agendaItemId: pcItem, title: 'Approve the Malvern practice merger', text: 'Approved from 1 April 2027.', method: 'consensus', outcome: 'approved', topic: 'Primary care' }, ACTOR)).id;
    });

    it('hides private items (showing their count and reasons), unpublished versions, draft minutes and private decisions from the public', async () => {
      const staff = await loadMeeting(t.db, ICS, id, 'staff');
      expect(staff.items).toHaveLength(3);
      expect(staff.papers).toHaveLength(3);
      expect(staff.decisions.map((d) => d.id).sort()).toEqual([publicDecision, privateDecision].sort());
      expect(staff.minutes?.status).toBe('draft');

      const pub = await loadMeeting(t.db, ICS, id, 'public');
      expect(pub.items.map((i) => i.id)).toEqual([publicItem]);
      expect(pub.privateItems).toEqual({ count: 2, reasons: ['Information about individual staff', 'Commercially sensitive'] });
      expect(JSON.stringify(pub)).not.toContain('Redundancy');
      expect(pub.papers.map((x) => [x.title, x.versions.map((v) => v.version)])).toEqual([['Stroke options appraisal', [1]]]);
      expect(pub.decisions.map((d) => d.id)).toEqual([publicDecision]);
      expect(pub.declarations).toEqual([]);
      expect(pub.minutes).toBeNull();
      expect(pub.actionsCarried).toEqual([]);
    });

    it('finds decisions by words, body, date range, organisation and topic; the public never see private items', async () => {
      const ids = async (search: Parameters<typeof searchDecisions>[2], audience: 'public' | 'staff' = 'staff'): Promise<string[]> =>
        (await searchDecisions(t.db, ICS, search, audience)).map((d) => d.id);
      expect(await ids({ q: 'HYPERACUTE' })).toEqual([publicDecision]);
      expect(await ids({ q: 'stroke' })).toEqual(expect.arrayContaining([publicDecision, privateDecision]));
      expect(await ids({ q: 'stroke' }, 'public')).toEqual([publicDecision]);
      expect(await ids({ q: '%' })).toEqual([]);
      expect(await ids({ q: 'malvern' })).toEqual([committeeDecision]);
      expect(await ids({ bodyId: PRIMARY_CARE, from: '2026-10-01' })).toEqual([committeeDecision]);
      expect(await ids({ from: '2026-10-08', to: '2026-10-08' })).toEqual(expect.arrayContaining([publicDecision, privateDecision]));
      expect(await ids({ from: '2026-10-08', to: '2026-10-08' })).toHaveLength(2);
      expect(await ids({ from: '2026-10-09', to: '2026-10-21' })).toEqual([]);
      expect(await ids({ to: '2026-10-07', q: 'stroke' })).toEqual([]);
      expect(await ids({ from: '2026-10-01' })).toEqual([committeeDecision, publicDecision, privateDecision]); // newest first
      expect(await ids({ orgCode: 'RWP' })).toEqual(expect.arrayContaining([publicDecision, privateDecision]));
      expect(await ids({ orgCode: 'RWP' }, 'public')).toEqual([publicDecision]);
      expect(await ids({ orgCode: 'M81039' })).toEqual([committeeDecision]);
      expect(await ids({ topic: 'workforce' })).toEqual([privateDecision]);
      expect(await ids({ topic: 'workforce' }, 'public')).toEqual([]);
      await expect(getDecision(t.db, ICS, privateDecision, 'public')).rejects.toThrow(/not found/);
      const entry = await getDecision(t.db, ICS, publicDecision, 'public');
      expect(entry).toMatchObject({ bodyId: BOARD, meetingTitle: 'Board meeting in public, October 2026', itemTitle: 'Stroke services reconfiguration', part: 'public', concerns: ['RWP', 'RLQ'] });
      expect(entry.decidedAt.toISOString()).toBe('2026-10-08T10:30:00.000Z');
    });

    it('links public involvement to the decisions it informed, and shows how it was used', async () => {
      expect(
        await refused(() => addInvolvement(t.db, ICS, { kind: 'rumour', title: ' ', summary: '', heldOn: '2026-02-30', participants: -1, orgCode: 'NOPE', url: 'ftp://x' }, ACTOR)),
      ).toEqual(['heldOn', 'kind', 'orgCode', 'participants', 'summary', 'title', 'url']);
      const panel = await addInvolvement(
        t.db,
        ICS,
        { kind: 'citizens_panel', title: 'Stroke services citizens’ panel', summary: 'People asked for faster ambulance transfers.', heldOn: '2026-08-20', participants: 42, orgCode: 'L-HW-WORCESTERSHIRE', url: 'https://example.org/panel' },
        ACTOR,
      );
      expect(await refused(() => linkInvolvement(t.db, ICS, panel, 'no-such-decision', ' ', ACTOR))).toEqual(['decisionId', 'howUsed']);
      expect(await refused(() => linkInvolvement(t.db, ICS, 'no-such-involvement', publicDecision, 'Used', ACTOR))).toEqual(['involvementId']);
      await linkInvolvement(t.db, ICS, panel, publicDecision, 'The panel’s priority on transfer times chose Option B', ACTOR);
      await linkInvolvement(t.db, ICS, panel, privateDecision, 'Informed the consultation', ACTOR);

      const entry = await getDecision(t.db, ICS, publicDecision, 'public');
      expect(entry.involvement).toEqual([{ id: panel, title: 'Stroke services citizens’ panel', kind: 'citizens_panel', howUsed: 'The panel’s priority on transfer times chose Option B' }]);
      const listed = (await listInvolvement(t.db, ICS, 'public')).find((i) => i.id === panel);
      expect(listed).toMatchObject({ participants: 42, heldOn: '2026-08-20', orgCode: 'L-HW-WORCESTERSHIRE' });
      expect(listed?.decisions.map((d) => d.id)).toEqual([publicDecision]);
      expect((await listInvolvement(t.db, ICS, 'staff')).find((i) => i.id === panel)?.decisions.map((d) => d.id).sort()).toEqual([publicDecision, privateDecision].sort());
    });
  });
});
