/**
 * Every change a board secretary makes. Each command checks its input and names each wrong
 * field, writes in one transaction, and records the change in the change log. Some problems
 * refuse the change (a decision without a quorum, a vote by someone who may not vote); others
 * are flags kept with the record (a decision outside the body's delegated authority).
 */
import { Problems, isCalendarDate } from '../core/validation.js';
import { randomUUID } from 'node:crypto';
import { recordChange } from '../core/change-log.js';
import type { Database, Queryable } from '../core/db/database.js';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import type { Body } from '../structure/model.js';
import { loadStructure } from '../structure/repository.js';
import { authority, quorum, votingMembers } from './checks.js';
import {
  AGENDA_PARTS,
  ATTENDANCE_STATUSES,
  type AttendanceStatus,
  DECISION_METHODS,
  HANDLING,
  INTEREST_KINDS,
  INVOLVEMENT_KINDS,
  ITEM_PURPOSES,
  OUTCOMES,
  VOTES,
  type Vote,
} from './model.js';
import { checkPaper } from './papers.js';
import { toMeeting } from './repository.js';

const MODULE = 'governance';

/** Accepts an ISO date-time with a zone, or a local "YYYY-MM-DDTHH:MM" read as UK time. */
function parseDateTime(value: string | undefined): Date | null {
  if (!value || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return null;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(value);
  const d = new Date(hasZone ? value : `${value}${ukOffset(value)}`);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** UK local time: GMT in winter, BST (+01:00) from the last Sunday of March to the last Sunday of October. */
function ukOffset(local: string): string {
  const year = Number(local.slice(0, 4));
  const lastSunday = (month: number): string => {
    const d = new Date(Date.UTC(year, month + 1, 0));
    d.setUTCDate(d.getUTCDate() - d.getUTCDay());
    return d.toISOString().slice(0, 10);
  };
  const day = local.slice(0, 10);
  return day >= lastSunday(2) && day < lastSunday(9) ? '+01:00' : 'Z';
}

const text = (v: string | undefined | null): string => (v ?? '').trim();

/** Is the value one of the choices' keys? (`in` would also accept `toString`, `constructor`...) */
const isOneOf = (choices: object, value: unknown): boolean => typeof value === 'string' && Object.hasOwn(choices, value);

async function meetingIn(db: Queryable, icsCode: string, meetingId: string): Promise<ReturnType<typeof toMeeting>> {
  const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM meeting WHERE id = $1 AND ics_code = $2', [meetingId, icsCode]);
  const row = rows[0];
  if (!row) throw new NotFoundError(`Meeting ${meetingId}`);
  return toMeeting(row);
}

async function personIn(db: Queryable, icsCode: string, personId: string): Promise<string | null> {
  const { rows } = await db.query<{ name: string }>('SELECT name FROM person WHERE id = $1 AND ics_code = $2', [personId, icsCode]);
  return rows[0]?.name ?? null;
}

async function missingOrganisations(db: Queryable, codes: string[]): Promise<string[]> {
  if (codes.length === 0) return [];
  const { rows } = await db.query<{ code: string }>('SELECT code FROM organisation WHERE code = ANY($1::text[])', [codes]);
  const found = new Set(rows.map((r) => r.code));
  return codes.filter((c) => !found.has(c));
}

const dateOf = (d: Date): string => d.toISOString().slice(0, 10);

// ---- meetings and agendas -------------------------------------------------------------------

export interface NewMeeting {
  bodyId: string;
  title?: string | undefined;
  startsAt: string;
  endsAt?: string | undefined;
  venue?: string | undefined;
  onlineUrl?: string | undefined;
}

export async function scheduleMeeting(db: Database, icsCode: string, input: NewMeeting, actor: string): Promise<string> {
  return db.transaction(async (tx) => {
    const problems = new Problems();
    const body = (await tx.query<{ name: string }>('SELECT name FROM body WHERE id = $1 AND ics_code = $2', [input.bodyId, icsCode])).rows[0];
    if (!body) problems.add('bodyId', `Choose a body of this ICS; there is no ${input.bodyId || 'body with no id'}`);
    const startsAt = parseDateTime(input.startsAt);
    if (!startsAt) problems.add('startsAt', 'Enter the start as a date and time, for example 2026-12-03T10:00');
    const endsAt = input.endsAt ? parseDateTime(input.endsAt) : null;
    if (input.endsAt && !endsAt) problems.add('endsAt', 'Enter the end as a date and time, for example 2026-12-03T12:30');
    if (startsAt && endsAt && endsAt <= startsAt) problems.add('endsAt', 'The meeting must end after it starts');
    if (!text(input.venue) && !text(input.onlineUrl)) problems.add('venue', 'Give a venue, an online link, or both, so the public can attend');
    if (text(input.onlineUrl) && !/^https:\/\/\S+$/.test(text(input.onlineUrl))) problems.add('onlineUrl', 'The online link must start with https://');
    problems.throwIfAny();
    const id = `${icsCode}-mtg-${randomUUID()}`;
    const title = text(input.title) || `${body?.name ?? ''} meeting`;
    await tx.query('INSERT INTO meeting (id, ics_code, body_id, title, starts_at, ends_at, venue, online_url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      id,
      icsCode,
      input.bodyId,
      title,
      startsAt,
      endsAt,
      text(input.venue) || null,
      text(input.onlineUrl) || null,
    ]);
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Scheduled ${title} for ${startsAt?.toISOString() ?? ''}`, detail: { meetingId: id } });
    return id;
  });
}

export async function setMeetingStatus(db: Database, icsCode: string, meetingId: string, status: string, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const meeting = await meetingIn(tx, icsCode, meetingId);
    if (status !== 'scheduled' && status !== 'held' && status !== 'cancelled') throw ValidationError.field('status', 'Choose scheduled, held or cancelled');
    if (status === 'held' && meeting.startsAt > new Date()) throw ValidationError.field('status', 'A meeting cannot be marked held before it starts');
    await tx.query('UPDATE meeting SET status = $1 WHERE id = $2', [status, meetingId]);
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Marked ${meeting.title} as ${status}`, detail: { meetingId } });
  });
}

export interface NewAgendaItem {
  part: string;
  title: string;
  purpose: string;
  privateReason?: string | undefined;
  presenter?: string | undefined;
  description?: string | undefined;
  concerns?: string[] | undefined;
  functionId?: string | undefined;
}

export async function addAgendaItem(db: Database, icsCode: string, meetingId: string, input: NewAgendaItem, actor: string): Promise<string> {
  return db.transaction(async (tx) => {
    const meeting = await meetingIn(tx, icsCode, meetingId);
    const problems = new Problems();
    if (meeting.status === 'cancelled') problems.add('meetingId', 'The meeting is cancelled');
    if (!isOneOf(AGENDA_PARTS, input.part)) problems.add('part', 'Choose public or private');
    if (!text(input.title)) problems.add('title', 'Enter the title of the item');
    if (!isOneOf(ITEM_PURPOSES, input.purpose)) problems.add('purpose', `Choose one of: ${Object.keys(ITEM_PURPOSES).join(', ')}`);
    if (input.part === 'private' && !text(input.privateReason)) problems.add('privateReason', 'Say why the public must be excluded for this item');
    const concerns = [...new Set((input.concerns ?? []).map((c) => c.trim()).filter(Boolean))];
    const missing = await missingOrganisations(tx, concerns);
    if (missing.length > 0) problems.add('concerns', `No organisation has the code ${missing.join(', ')}`);
    if (input.functionId && (await tx.query('SELECT 1 FROM ics_function WHERE id = $1 AND ics_code = $2', [input.functionId, icsCode])).rowCount === 0) {
      problems.add('functionId', `No function ${input.functionId} in the functions and decisions map`);
    }
    problems.throwIfAny();
    const next = (await tx.query<{ n: number }>('SELECT coalesce(max(position), 0) + 1 AS n FROM agenda_item WHERE meeting_id = $1', [meetingId])).rows[0]?.n ?? 1;
    const id = `${icsCode}-item-${randomUUID()}`;
    await tx.query(
      'INSERT INTO agenda_item (id, meeting_id, position, part, title, purpose, private_reason, presenter, description, concerns, function_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
      [id, meetingId, next, input.part, text(input.title), input.purpose, input.part === 'private' ? text(input.privateReason) : null, text(input.presenter) || null, text(input.description) || null, concerns, input.functionId || null],
    );
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Added item ${next} "${text(input.title)}" to ${meeting.title}`, detail: { meetingId, itemId: id } });
    return id;
  });
}

// ---- papers ---------------------------------------------------------------------------------

export interface Upload {
  filename: string;
  bytes: Buffer;
}

async function itemIn(db: Queryable, icsCode: string, itemId: string): Promise<{ meetingId: string; title: string }> {
  const { rows } = await db.query<{ meeting_id: string; title: string }>(
    'SELECT i.meeting_id, i.title FROM agenda_item i JOIN meeting m ON m.id = i.meeting_id WHERE i.id = $1 AND m.ics_code = $2',
    [itemId, icsCode],
  );
  const item = rows[0];
  if (!item) throw new NotFoundError(`Agenda item ${itemId}`);
  return { meetingId: item.meeting_id, title: item.title };
}

export async function addPaper(db: Database, icsCode: string, itemId: string, input: { title: string; file: Upload }, actor: string): Promise<string> {
  const problems = new Problems();
  if (!text(input.title)) problems.add('title', 'Enter the title of the paper');
  let checked;
  try {
    checked = await checkPaper(input.file.filename, input.file.bytes);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    problems.list.push(...error.problems);
  }
  problems.throwIfAny();
  if (!checked) throw new Error('unreachable: paper checked');
  const paper = checked;
  return db.transaction(async (tx) => {
    const item = await itemIn(tx, icsCode, itemId);
    const id = `${icsCode}-paper-${randomUUID()}`;
    await tx.query('INSERT INTO paper (id, agenda_item_id, title) VALUES ($1, $2, $3)', [id, itemId, text(input.title)]);
    await tx.query(
      'INSERT INTO paper_version (paper_id, version, format, filename, size_bytes, sha256, content, uploaded_by) VALUES ($1, 1, $2, $3, $4, $5, $6, $7)',
      [id, paper.format, paper.filename, paper.bytes.length, paper.sha256, paper.bytes, actor],
    );
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Added paper "${text(input.title)}" to item "${item.title}"`, detail: { paperId: id, sha256: paper.sha256 } });
    return id;
  });
}

/** A new version of a paper. Once a version is published, a replacement must say why. */
export async function addPaperVersion(db: Database, icsCode: string, paperId: string, input: { file: Upload; reason?: string | undefined }, actor: string): Promise<number> {
  const paper = await checkPaper(input.file.filename, input.file.bytes);
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ title: string; latest: number; published: number }>(
      `SELECT p.title, max(v.version) AS latest, count(v.published_at) AS published FROM paper p JOIN paper_version v ON v.paper_id = p.id
         JOIN agenda_item i ON i.id = p.agenda_item_id JOIN meeting m ON m.id = i.meeting_id
        WHERE p.id = $1 AND m.ics_code = $2 GROUP BY p.title`,
      [paperId, icsCode],
    );
    const current = rows[0];
    if (!current) throw new NotFoundError(`Paper ${paperId}`);
    if (Number(current.published) > 0 && !text(input.reason)) {
      throw ValidationError.field('reason', 'This paper has been published: say why it is being replaced; the reason is shown with the new version');
    }
    const version = Number(current.latest) + 1;
    await tx.query(
      'INSERT INTO paper_version (paper_id, version, format, filename, size_bytes, sha256, content, uploaded_by, change_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [paperId, version, paper.format, paper.filename, paper.bytes.length, paper.sha256, paper.bytes, actor, text(input.reason) || null],
    );
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Uploaded version ${version} of "${current.title}"`, detail: { paperId, version, reason: text(input.reason) || null } });
    return version;
  });
}

/** Publishes the latest version of a paper. Earlier published versions stay published. */
/** `at` records when an imported historical paper was published; it defaults to now. */
export async function publishPaper(db: Database, icsCode: string, paperId: string, actor: string, at: Date = new Date()): Promise<number> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ version: number; published_at: Date | null; title: string }>(
      `SELECT v.version, v.published_at, p.title FROM paper_version v JOIN paper p ON p.id = v.paper_id JOIN agenda_item i ON i.id = p.agenda_item_id JOIN meeting m ON m.id = i.meeting_id
        WHERE p.id = $1 AND m.ics_code = $2 ORDER BY v.version DESC LIMIT 1`,
      [paperId, icsCode],
    );
    const latest = rows[0];
    if (!latest) throw new NotFoundError(`Paper ${paperId}`);
    if (!latest.published_at) {
      await tx.query('UPDATE paper_version SET published_at = $3 WHERE paper_id = $1 AND version = $2', [paperId, latest.version, at]);
      await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Published version ${latest.version} of "${latest.title}"`, detail: { paperId } });
    }
    return Number(latest.version);
  });
}

// ---- attendance, interests, declarations ------------------------------------------------------

export async function recordAttendance(db: Database, icsCode: string, meetingId: string, entries: { personId: string; status: string }[], actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const meeting = await meetingIn(tx, icsCode, meetingId);
    const problems = new Problems();
    if (entries.length === 0) problems.add('attendance', 'Record at least one person');
    for (const [i, entry] of entries.entries()) {
      if (!isOneOf(ATTENDANCE_STATUSES, entry.status)) problems.add(`attendance.${i}.status`, `Choose one of: ${Object.keys(ATTENDANCE_STATUSES).join(', ')}`);
      if (!(await personIn(tx, icsCode, entry.personId))) problems.add(`attendance.${i}.personId`, `No person ${entry.personId} in this ICS`);
    }
    problems.throwIfAny();
    for (const entry of entries) {
      await tx.query('INSERT INTO attendance (meeting_id, person_id, status) VALUES ($1, $2, $3) ON CONFLICT (meeting_id, person_id) DO UPDATE SET status = EXCLUDED.status', [
        meetingId,
        entry.personId,
        entry.status as AttendanceStatus,
      ]);
    }
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Recorded attendance of ${entries.length} people at ${meeting.title}`, detail: { meetingId } });
  });
}

export interface NewInterest {
  personId: string;
  kind: string;
  description: string;
  orgCodes?: string[] | undefined;
  startDate: string;
  endDate?: string | undefined;
  declaredOn?: string | undefined;
}

export async function addInterest(db: Database, icsCode: string, input: NewInterest, actor: string): Promise<string> {
  return db.transaction(async (tx) => {
    const problems = new Problems();
    const name = await personIn(tx, icsCode, input.personId);
    if (!name) problems.add('personId', `No person ${input.personId || '(blank)'} in this ICS`);
    if (!isOneOf(INTEREST_KINDS, input.kind)) problems.add('kind', `Choose one of: ${Object.keys(INTEREST_KINDS).join(', ')}`);
    if (!text(input.description)) problems.add('description', 'Describe the interest');
    const orgCodes = [...new Set((input.orgCodes ?? []).map((c) => c.trim()).filter(Boolean))];
    const missing = await missingOrganisations(tx, orgCodes);
    if (missing.length > 0) problems.add('orgCodes', `No organisation has the code ${missing.join(', ')}`);
    if (!isCalendarDate(input.startDate)) problems.add('startDate', 'Enter the date the interest began, YYYY-MM-DD');
    if (input.endDate && !isCalendarDate(input.endDate)) problems.add('endDate', 'Enter the date the interest ended, YYYY-MM-DD');
    if (isCalendarDate(input.startDate) && isCalendarDate(input.endDate) && input.endDate < input.startDate) problems.add('endDate', 'The interest must end on or after it began');
    if (input.declaredOn && !isCalendarDate(input.declaredOn)) problems.add('declaredOn', 'Enter the date it was declared, YYYY-MM-DD');
    problems.throwIfAny();
    const id = `${icsCode}-int-${randomUUID()}`;
    await tx.query('INSERT INTO interest (id, ics_code, person_id, kind, description, org_codes, start_date, end_date, declared_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
      id,
      icsCode,
      input.personId,
      input.kind,
      text(input.description),
      orgCodes,
      input.startDate,
      input.endDate || null,
      input.declaredOn || dateOf(new Date()),
    ]);
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Registered an interest of ${name ?? ''}`, detail: { interestId: id } });
    return id;
  });
}

export interface NewGift {
  personId: string;
  kind: string;
  description: string;
  offeredBy: string;
  valuePounds: number;
  offeredOn: string;
  accepted: boolean;
}

export async function addGift(db: Database, icsCode: string, input: NewGift, actor: string): Promise<string> {
  return db.transaction(async (tx) => {
    const problems = new Problems();
    const name = await personIn(tx, icsCode, input.personId);
    if (!name) problems.add('personId', `No person ${input.personId || '(blank)'} in this ICS`);
    if (input.kind !== 'gift' && input.kind !== 'hospitality') problems.add('kind', 'Choose gift or hospitality');
    if (!text(input.description)) problems.add('description', 'Describe the gift or hospitality');
    if (!text(input.offeredBy)) problems.add('offeredBy', 'Say who offered it');
    if (!Number.isFinite(input.valuePounds) || input.valuePounds < 0) problems.add('valuePounds', 'Give its value in pounds, zero or more');
    if (!isCalendarDate(input.offeredOn)) problems.add('offeredOn', 'Enter the date it was offered, YYYY-MM-DD');
    problems.throwIfAny();
    const id = `${icsCode}-gift-${randomUUID()}`;
    await tx.query('INSERT INTO gift (id, ics_code, person_id, kind, description, offered_by, value_pounds, offered_on, accepted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
      id,
      icsCode,
      input.personId,
      input.kind,
      text(input.description),
      text(input.offeredBy),
      input.valuePounds,
      input.offeredOn,
      input.accepted,
    ]);
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Registered ${input.kind} offered to ${name ?? ''}`, detail: { giftId: id } });
    return id;
  });
}

export interface NewDeclaration {
  agendaItemId: string;
  personId: string;
  interestId?: string | undefined;
  description?: string | undefined;
  handling: string;
}

export async function recordDeclaration(db: Database, icsCode: string, meetingId: string, input: NewDeclaration, actor: string): Promise<string> {
  return db.transaction(async (tx) => {
    const meeting = await meetingIn(tx, icsCode, meetingId);
    const problems = new Problems();
    const item = (await tx.query<{ title: string }>('SELECT title FROM agenda_item WHERE id = $1 AND meeting_id = $2', [input.agendaItemId, meetingId])).rows[0];
    if (!item) problems.add('agendaItemId', 'Choose an item on this meeting’s agenda');
    const name = await personIn(tx, icsCode, input.personId);
    if (!name) problems.add('personId', `No person ${input.personId || '(blank)'} in this ICS`);
    let description = text(input.description);
    if (input.interestId) {
      const interest = (await tx.query<{ person_id: string; description: string }>('SELECT person_id, description FROM interest WHERE id = $1 AND ics_code = $2', [input.interestId, icsCode])).rows[0];
      if (!interest || interest.person_id !== input.personId) problems.add('interestId', 'Choose one of this person’s registered interests');
      else description ||= interest.description;
    }
    if (!description) problems.add('description', 'Describe the interest declared');
    if (!isOneOf(HANDLING, input.handling)) problems.add('handling', `Choose how it was handled: ${Object.keys(HANDLING).join(', ')}`);
    problems.throwIfAny();
    const existing = await tx.query('SELECT 1 FROM declaration WHERE agenda_item_id = $1 AND person_id = $2', [input.agendaItemId, input.personId]);
    if (existing.rowCount > 0) throw new ConflictError(`${name ?? ''} has already declared an interest on this item`, [{ field: 'personId', message: 'Already declared on this item' }]);
    const id = `${icsCode}-decl-${randomUUID()}`;
    await tx.query('INSERT INTO declaration (id, meeting_id, agenda_item_id, person_id, interest_id, description, handling) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      id,
      meetingId,
      input.agendaItemId,
      input.personId,
      input.interestId || null,
      description,
      input.handling,
    ]);
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Recorded ${name ?? ''}'s declaration on "${item?.title ?? ''}" at ${meeting.title}`, detail: { declarationId: id } });
    return id;
  });
}

// ---- decisions ------------------------------------------------------------------------------

export interface NewDecision {
  agendaItemId: string;
  title: string;
  text: string;
  method: string;
  outcome: string;
  topic?: string | undefined;
  votes?: { personId: string; vote: string }[] | undefined;
  /** When the decision was taken; defaults to the meeting's start. */
  decidedAt?: string | undefined;
}

export interface DecisionRecorded {
  id: string;
  authorityOk: boolean;
  authorityNote: string;
}

export async function recordDecision(db: Database, icsCode: string, meetingId: string, input: NewDecision, actor: string): Promise<DecisionRecorded> {
  return db.transaction(async (tx) => {
    const meeting = await meetingIn(tx, icsCode, meetingId);
    const s = await loadStructure(tx, icsCode);
    const body = s.bodies.find((b) => b.id === meeting.bodyId) as Body;
    const onDate = dateOf(meeting.startsAt);
    const problems = new Problems();
    const item = (await tx.query<{ title: string; function_id: string | null }>('SELECT title, function_id FROM agenda_item WHERE id = $1 AND meeting_id = $2', [input.agendaItemId, meetingId])).rows[0];
    if (!item) problems.add('agendaItemId', 'Choose an item on this meeting’s agenda');
    if (meeting.status === 'cancelled') problems.add('meetingId', 'The meeting was cancelled');
    if (!text(input.title)) problems.add('title', 'Give the decision a short title');
    if (!text(input.text)) problems.add('text', 'Write what was decided');
    if (!isOneOf(DECISION_METHODS, input.method)) problems.add('method', 'Choose vote or consensus');
    if (!isOneOf(OUTCOMES, input.outcome)) problems.add('outcome', 'Choose approved, rejected or deferred');
    const decidedAt = input.decidedAt ? parseDateTime(input.decidedAt) : meeting.startsAt;
    if (!decidedAt) problems.add('decidedAt', 'Enter when it was decided as a date and time');

    const attendance = (await tx.query<{ person_id: string; status: string }>('SELECT person_id, status FROM attendance WHERE meeting_id = $1', [meetingId])).rows.map((r) => ({
      meetingId,
      personId: r.person_id,
      status: r.status as AttendanceStatus,
    }));
    const q = quorum(s, body, attendance, onDate);
    if (!q.met) {
      problems.add('quorum', `The meeting is not quorate: ${q.present} voting member(s) recorded as present, ${q.required ?? 1} needed. Record attendance first.`);
    }

    const votes = input.votes ?? [];
    if (input.method === 'vote') {
      if (votes.length === 0) problems.add('votes', 'Record the vote of each voting member present');
      const voters = votingMembers(s, body, onDate);
      const present = new Set(attendance.filter((a) => a.status === 'present').map((a) => a.personId));
      const excluded = new Set(
        (await tx.query<{ person_id: string }>("SELECT person_id FROM declaration WHERE agenda_item_id = $1 AND handling IN ('excluded_from_discussion', 'excluded_from_decision')", [input.agendaItemId])).rows.map(
          (r) => r.person_id,
        ),
      );
      const seen = new Set<string>();
      for (const [i, v] of votes.entries()) {
        const name = s.people.get(v.personId)?.name ?? v.personId;
        if (!isOneOf(VOTES, v.vote)) problems.add(`votes.${i}.vote`, 'Choose for, against or abstain');
        if (seen.has(v.personId)) problems.add(`votes.${i}.personId`, `${name} has already voted`);
        seen.add(v.personId);
        if (!voters.has(v.personId)) problems.add(`votes.${i}.personId`, `${name} is not a voting member of ${body.name}`);
        else if (!present.has(v.personId)) problems.add(`votes.${i}.personId`, `${name} is not recorded as present`);
        if (excluded.has(v.personId)) problems.add(`votes.${i}.personId`, `${name} declared an interest and was excluded from this decision`);
      }
      const count = (kind: Vote): number => votes.filter((v) => v.vote === kind).length;
      if (input.outcome === 'approved' && count('for') <= count('against')) problems.add('outcome', 'The votes do not carry the motion: more must vote for than against');
      if (input.outcome === 'rejected' && count('for') > count('against')) problems.add('outcome', 'The votes carry the motion, so it cannot be recorded as rejected');
    } else if (votes.length > 0) {
      problems.add('votes', 'A decision by consensus has no individual votes');
    }
    problems.throwIfAny();

    const existing = await tx.query('SELECT 1 FROM decision WHERE agenda_item_id = $1', [input.agendaItemId]);
    if (existing.rowCount > 0) throw new ConflictError('A decision is already recorded on this item', [{ field: 'agendaItemId', message: 'This item already has a decision' }]);

    const check = authority(s, body, item?.function_id ?? null, onDate);
    const id = `${icsCode}-dec-${randomUUID()}`;
    await tx.query(
      'INSERT INTO decision (id, meeting_id, agenda_item_id, title, text, method, outcome, topic, decided_at, authority_ok, authority_note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
      [id, meetingId, input.agendaItemId, text(input.title), text(input.text), input.method, input.outcome, text(input.topic) || null, decidedAt, check.ok, check.note],
    );
    for (const v of votes) await tx.query('INSERT INTO vote (decision_id, person_id, vote) VALUES ($1, $2, $3)', [id, v.personId, v.vote]);
    await recordChange(tx, {
      icsCode,
      module: MODULE,
      actor,
      summary: `Recorded decision "${text(input.title)}" (${input.outcome}) at ${meeting.title}${check.ok ? '' : ' — outside delegated authority'}`,
      detail: { decisionId: id, authorityOk: check.ok },
    });
    return { id, authorityOk: check.ok, authorityNote: check.note };
  });
}

// ---- actions and minutes ----------------------------------------------------------------------

export async function addAction(
  db: Database,
  icsCode: string,
  meetingId: string,
  input: { description: string; ownerPersonId: string; dueDate: string; agendaItemId?: string | undefined },
  actor: string,
): Promise<string> {
  return db.transaction(async (tx) => {
    const meeting = await meetingIn(tx, icsCode, meetingId);
    const problems = new Problems();
    if (!text(input.description)) problems.add('description', 'Describe the action');
    if (!(await personIn(tx, icsCode, input.ownerPersonId))) problems.add('ownerPersonId', 'Choose who owns the action');
    if (!isCalendarDate(input.dueDate)) problems.add('dueDate', 'Enter the due date, YYYY-MM-DD');
    if (input.agendaItemId && (await tx.query('SELECT 1 FROM agenda_item WHERE id = $1 AND meeting_id = $2', [input.agendaItemId, meetingId])).rowCount === 0) {
      problems.add('agendaItemId', 'Choose an item on this meeting’s agenda');
    }
    problems.throwIfAny();
    const id = `${icsCode}-act-${randomUUID()}`;
    await tx.query('INSERT INTO action_item (id, body_id, meeting_id, agenda_item_id, description, owner_person_id, due_date) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      id,
      meeting.bodyId,
      meetingId,
      input.agendaItemId || null,
      text(input.description),
      input.ownerPersonId,
      input.dueDate,
    ]);
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Added an action at ${meeting.title}`, detail: { actionId: id } });
    return id;
  });
}

/** Closes an action at a meeting of the same body held on or after the one that raised it. */
export async function closeAction(db: Database, icsCode: string, actionId: string, input: { meetingId: string; note: string }, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const action = (
      await tx.query<{ body_id: string; meeting_id: string; closed_at_meeting: string | null; starts_at: Date }>(
        'SELECT a.body_id, a.meeting_id, a.closed_at_meeting, m.starts_at FROM action_item a JOIN meeting m ON m.id = a.meeting_id WHERE a.id = $1 AND m.ics_code = $2',
        [actionId, icsCode],
      )
    ).rows[0];
    if (!action) throw new NotFoundError(`Action ${actionId}`);
    if (action.closed_at_meeting) throw new ConflictError('The action is already closed');
    const meeting = await meetingIn(tx, icsCode, input.meetingId);
    const problems = new Problems();
    if (meeting.bodyId !== action.body_id) problems.add('meetingId', 'Close the action at a meeting of the body that raised it');
    else if (meeting.startsAt < action.starts_at) problems.add('meetingId', 'Close the action at the meeting that raised it or a later one');
    if (!text(input.note)) problems.add('note', 'Say how the action was completed');
    problems.throwIfAny();
    await tx.query('UPDATE action_item SET closed_at_meeting = $1, closed_note = $2 WHERE id = $3', [input.meetingId, text(input.note), actionId]);
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Closed an action at ${meeting.title}`, detail: { actionId } });
  });
}

export async function saveMinutesDraft(db: Database, icsCode: string, meetingId: string, content: string, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const meeting = await meetingIn(tx, icsCode, meetingId);
    if (!text(content)) throw ValidationError.field('content', 'Write the minutes');
    const existing = (await tx.query<{ status: string }>('SELECT status FROM minutes WHERE meeting_id = $1', [meetingId])).rows[0];
    if (existing && existing.status !== 'draft') throw new ConflictError('These minutes are approved and cannot be changed', [{ field: 'content', message: 'Approved minutes cannot be changed' }]);
    await tx.query(
      "INSERT INTO minutes (meeting_id, status, content) VALUES ($1, 'draft', $2) ON CONFLICT (meeting_id) DO UPDATE SET content = EXCLUDED.content, drafted_at = now()",
      [meetingId, content],
    );
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Drafted the minutes of ${meeting.title}`, detail: { meetingId } });
  });
}

/** Minutes are approved at a later, quorate meeting of the same body. */
export async function approveMinutes(db: Database, icsCode: string, meetingId: string, atMeetingId: string, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const meeting = await meetingIn(tx, icsCode, meetingId);
    const minutes = (await tx.query<{ status: string }>('SELECT status FROM minutes WHERE meeting_id = $1', [meetingId])).rows[0];
    if (!minutes) throw ValidationError.field('content', 'There are no draft minutes to approve');
    if (minutes.status !== 'draft') throw new ConflictError('These minutes are already approved');
    const at = await meetingIn(tx, icsCode, atMeetingId);
    const problems = new Problems();
    if (at.bodyId !== meeting.bodyId) problems.add('atMeetingId', 'Minutes are approved by a meeting of the same body');
    else if (at.startsAt <= meeting.startsAt) problems.add('atMeetingId', 'Minutes are approved at a later meeting');
    else {
      const s = await loadStructure(tx, icsCode);
      const body = s.bodies.find((b) => b.id === at.bodyId) as Body;
      const attendance = (await tx.query<{ person_id: string; status: string }>('SELECT person_id, status FROM attendance WHERE meeting_id = $1', [atMeetingId])).rows.map((r) => ({
        meetingId: atMeetingId,
        personId: r.person_id,
        status: r.status as AttendanceStatus,
      }));
      const q = quorum(s, body, attendance, dateOf(at.startsAt));
      if (!q.met) problems.add('quorum', `The approving meeting is not quorate: ${q.present} voting member(s) present, ${q.required ?? 1} needed`);
    }
    problems.throwIfAny();
    await tx.query("UPDATE minutes SET status = 'approved', approved_at_meeting = $1, approved_at = $2 WHERE meeting_id = $3", [atMeetingId, at.startsAt, meetingId]);
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Minutes of ${meeting.title} approved at ${at.title}`, detail: { meetingId, atMeetingId } });
  });
}

/** `at` records when imported historical minutes were published; it defaults to now. */
export async function publishMinutes(db: Database, icsCode: string, meetingId: string, actor: string, at: Date = new Date()): Promise<void> {
  await db.transaction(async (tx) => {
    const meeting = await meetingIn(tx, icsCode, meetingId);
    const minutes = (await tx.query<{ status: string }>('SELECT status FROM minutes WHERE meeting_id = $1', [meetingId])).rows[0];
    if (!minutes || minutes.status === 'draft') throw ValidationError.field('status', 'Only approved minutes can be published');
    if (minutes.status === 'published') return;
    await tx.query("UPDATE minutes SET status = 'published', published_at = $2 WHERE meeting_id = $1", [meetingId, at]);
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Published the minutes of ${meeting.title}`, detail: { meetingId } });
  });
}

// ---- public involvement ------------------------------------------------------------------------

export interface NewInvolvement {
  kind: string;
  title: string;
  summary: string;
  heldOn: string;
  participants?: number | undefined;
  orgCode?: string | undefined;
  url?: string | undefined;
}

export async function addInvolvement(db: Database, icsCode: string, input: NewInvolvement, actor: string): Promise<string> {
  return db.transaction(async (tx) => {
    const problems = new Problems();
    if (!isOneOf(INVOLVEMENT_KINDS, input.kind)) problems.add('kind', `Choose one of: ${Object.keys(INVOLVEMENT_KINDS).join(', ')}`);
    if (!text(input.title)) problems.add('title', 'Give the involvement a title');
    if (!text(input.summary)) problems.add('summary', 'Summarise what people said');
    if (!isCalendarDate(input.heldOn)) problems.add('heldOn', 'Enter when it took place, YYYY-MM-DD');
    if (input.participants !== undefined && (!Number.isInteger(input.participants) || input.participants < 0)) problems.add('participants', 'Give the number of people who took part');
    if (input.orgCode && (await missingOrganisations(tx, [input.orgCode])).length > 0) problems.add('orgCode', `No organisation has the code ${input.orgCode}`);
    if (input.url && !/^https?:\/\/\S+$/.test(input.url)) problems.add('url', 'The link must start with https://');
    problems.throwIfAny();
    const id = `${icsCode}-inv-${randomUUID()}`;
    await tx.query('INSERT INTO involvement (id, ics_code, kind, title, summary, held_on, participants, org_code, url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
      id,
      icsCode,
      input.kind,
      text(input.title),
      text(input.summary),
      input.heldOn,
      input.participants ?? null,
      input.orgCode || null,
      input.url || null,
    ]);
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: `Recorded public involvement "${text(input.title)}"`, detail: { involvementId: id } });
    return id;
  });
}

/** Links involvement to a decision it informed, saying how people's views were used. */
export async function linkInvolvement(db: Database, icsCode: string, involvementId: string, decisionId: string, howUsed: string, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const problems = new Problems();
    if ((await tx.query('SELECT 1 FROM involvement WHERE id = $1 AND ics_code = $2', [involvementId, icsCode])).rowCount === 0) problems.add('involvementId', 'Choose recorded involvement');
    if ((await tx.query('SELECT 1 FROM decision d JOIN meeting m ON m.id = d.meeting_id WHERE d.id = $1 AND m.ics_code = $2', [decisionId, icsCode])).rowCount === 0) problems.add('decisionId', 'Choose a recorded decision');
    if (!text(howUsed)) problems.add('howUsed', 'Say how people’s views shaped the decision');
    problems.throwIfAny();
    await tx.query('INSERT INTO involvement_decision (involvement_id, decision_id, how_used) VALUES ($1, $2, $3) ON CONFLICT (involvement_id, decision_id) DO UPDATE SET how_used = EXCLUDED.how_used', [
      involvementId,
      decisionId,
      text(howUsed),
    ]);
    await recordChange(tx, { icsCode, module: MODULE, actor, summary: 'Linked public involvement to a decision', detail: { involvementId, decisionId } });
  });
}
