/**
 * Reads governance records. What the public may see is decided here, in the queries, not in
 * the pages: for the public audience, private agenda items show only their reason, papers only
 * their published versions, minutes only once published, decisions only on public items.
 */
import type { Queryable } from '../core/db/database.js';
import { NotFoundError } from '../core/errors.js';
import type {
  ActionItem,
  AgendaItem,
  Attendance,
  Audience,
  Declaration,
  Decision,
  Gift,
  Interest,
  Involvement,
  Meeting,
  Minutes,
  Paper,
  PaperVersion,
} from './model.js';

type Row = Record<string, unknown>;
const s = (v: unknown): string => (typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : JSON.stringify(v));
const sn = (v: unknown): string | null => (v === null || v === undefined ? null : s(v));
const d = (v: unknown): Date => (v instanceof Date ? v : new Date(s(v)));
const dn = (v: unknown): Date | null => (v === null || v === undefined ? null : d(v));

export function toMeeting(r: Row): Meeting {
  return {
    id: s(r.id),
    icsCode: s(r.ics_code),
    bodyId: s(r.body_id),
    title: s(r.title),
    startsAt: d(r.starts_at),
    endsAt: dn(r.ends_at),
    venue: sn(r.venue),
    onlineUrl: sn(r.online_url),
    status: s(r.status) as Meeting['status'],
  };
}

function toItem(r: Row): AgendaItem {
  return {
    id: s(r.id),
    meetingId: s(r.meeting_id),
    position: Number(r.position),
    part: s(r.part) as AgendaItem['part'],
    title: s(r.title),
    purpose: s(r.purpose) as AgendaItem['purpose'],
    privateReason: sn(r.private_reason),
    presenter: sn(r.presenter),
    description: sn(r.description),
    concerns: (r.concerns as string[] | null) ?? [],
    functionId: sn(r.function_id),
  };
}

function toVersion(r: Row): PaperVersion {
  return {
    paperId: s(r.paper_id),
    version: Number(r.version),
    format: s(r.format) as PaperVersion['format'],
    filename: s(r.filename),
    sizeBytes: Number(r.size_bytes),
    sha256: s(r.sha256),
    uploadedAt: d(r.uploaded_at),
    uploadedBy: s(r.uploaded_by),
    changeReason: sn(r.change_reason),
    publishedAt: dn(r.published_at),
  };
}

function toDecision(r: Row, votes: Decision['votes']): Decision {
  return {
    id: s(r.id),
    meetingId: s(r.meeting_id),
    agendaItemId: s(r.agenda_item_id),
    title: s(r.title),
    text: s(r.text),
    method: s(r.method) as Decision['method'],
    outcome: s(r.outcome) as Decision['outcome'],
    topic: sn(r.topic),
    decidedAt: d(r.decided_at),
    authorityOk: Boolean(r.authority_ok),
    authorityNote: sn(r.authority_note),
    votes,
  };
}

export function toInterest(r: Row): Interest {
  return {
    id: s(r.id),
    icsCode: s(r.ics_code),
    personId: s(r.person_id),
    kind: s(r.kind) as Interest['kind'],
    description: s(r.description),
    orgCodes: (r.org_codes as string[] | null) ?? [],
    startDate: s(r.start_date),
    endDate: sn(r.end_date),
    declaredOn: s(r.declared_on),
  };
}

function toAction(r: Row): ActionItem {
  return {
    id: s(r.id),
    bodyId: s(r.body_id),
    meetingId: s(r.meeting_id),
    agendaItemId: sn(r.agenda_item_id),
    description: s(r.description),
    ownerPersonId: s(r.owner_person_id),
    dueDate: s(r.due_date),
    closedAtMeeting: sn(r.closed_at_meeting),
    closedNote: sn(r.closed_note),
  };
}

function toMinutes(r: Row): Minutes {
  return {
    meetingId: s(r.meeting_id),
    status: s(r.status) as Minutes['status'],
    content: s(r.content),
    draftedAt: d(r.drafted_at),
    approvedAtMeeting: sn(r.approved_at_meeting),
    approvedAt: dn(r.approved_at),
    publishedAt: dn(r.published_at),
  };
}

export function toInvolvement(r: Row): Involvement {
  return {
    id: s(r.id),
    icsCode: s(r.ics_code),
    kind: s(r.kind) as Involvement['kind'],
    title: s(r.title),
    summary: s(r.summary),
    heldOn: s(r.held_on),
    participants: r.participants === null || r.participants === undefined ? null : Number(r.participants),
    orgCode: sn(r.org_code),
    url: sn(r.url),
  };
}

export interface MeetingRecord {
  meeting: Meeting;
  items: AgendaItem[];
  /** For the public: how many private items there were, with their stated reasons. */
  privateItems: { count: number; reasons: string[] };
  papers: Paper[];
  attendance: Attendance[];
  declarations: Declaration[];
  decisions: Decision[];
  /** Actions raised at this meeting. */
  actionsRaised: ActionItem[];
  /** Actions of the body still open when this meeting starts, carried forward from earlier meetings. */
  actionsCarried: ActionItem[];
  minutes: Minutes | null;
  /** Interests of anyone who might attend, current on the meeting date (for the conflict flags). */
  interests: Interest[];
}

export async function loadMeeting(db: Queryable, icsCode: string, meetingId: string, audience: Audience): Promise<MeetingRecord> {
  const found = await db.query<Row>('SELECT * FROM meeting WHERE id = $1 AND ics_code = $2', [meetingId, icsCode]);
  const row = found.rows[0];
  if (!row) throw new NotFoundError(`Meeting ${meetingId}`);
  const meeting = toMeeting(row);
  const onDate = meeting.startsAt.toISOString().slice(0, 10);
  const isPublic = audience === 'public';

  const [items, papers, versions, attendance, declarations, decisions, votes, raised, carried, minutes, interests] = await Promise.all([
    db.query<Row>('SELECT * FROM agenda_item WHERE meeting_id = $1 ORDER BY position', [meetingId]),
    db.query<Row>('SELECT p.* FROM paper p JOIN agenda_item i ON i.id = p.agenda_item_id WHERE i.meeting_id = $1 ORDER BY p.created_at, p.id', [meetingId]),
    db.query<Row>(
      `SELECT v.paper_id, v.version, v.format, v.filename, v.size_bytes, v.sha256, v.uploaded_at, v.uploaded_by, v.change_reason, v.published_at
         FROM paper_version v JOIN paper p ON p.id = v.paper_id JOIN agenda_item i ON i.id = p.agenda_item_id
        WHERE i.meeting_id = $1 ${isPublic ? 'AND v.published_at IS NOT NULL' : ''} ORDER BY v.paper_id, v.version`,
      [meetingId],
    ),
    db.query<Row>('SELECT * FROM attendance WHERE meeting_id = $1', [meetingId]),
    db.query<Row>('SELECT * FROM declaration WHERE meeting_id = $1', [meetingId]),
    db.query<Row>('SELECT * FROM decision WHERE meeting_id = $1 ORDER BY decided_at, id', [meetingId]),
    db.query<Row>('SELECT v.* FROM vote v JOIN decision d ON d.id = v.decision_id WHERE d.meeting_id = $1', [meetingId]),
    db.query<Row>('SELECT * FROM action_item WHERE meeting_id = $1 ORDER BY due_date, id', [meetingId]),
    db.query<Row>(
      `SELECT a.* FROM action_item a JOIN meeting m ON m.id = a.meeting_id LEFT JOIN meeting c ON c.id = a.closed_at_meeting
        WHERE a.body_id = $1 AND m.starts_at < $2 AND (c.id IS NULL OR c.starts_at >= $2) ORDER BY a.due_date, a.id`,
      [meeting.bodyId, meeting.startsAt],
    ),
    db.query<Row>(`SELECT * FROM minutes WHERE meeting_id = $1 ${isPublic ? "AND status = 'published'" : ''}`, [meetingId]),
    db.query<Row>(
      `SELECT * FROM interest WHERE ics_code = $1 AND start_date <= $2::date AND (end_date IS NULL OR end_date >= $2::date) ORDER BY person_id, start_date`,
      [icsCode, onDate],
    ),
  ]);

  const allItems = items.rows.map(toItem);
  const visible = isPublic ? allItems.filter((i) => i.part === 'public') : allItems;
  const visibleIds = new Set(visible.map((i) => i.id));
  const privateItems = allItems.filter((i) => i.part === 'private');
  const versionsByPaper = new Map<string, PaperVersion[]>();
  for (const v of versions.rows.map(toVersion)) versionsByPaper.set(v.paperId, [...(versionsByPaper.get(v.paperId) ?? []), v]);
  const votesByDecision = new Map<string, Decision['votes']>();
  for (const v of votes.rows) votesByDecision.set(s(v.decision_id), [...(votesByDecision.get(s(v.decision_id)) ?? []), { personId: s(v.person_id), vote: s(v.vote) as Decision['votes'][number]['vote'] }]);

  return {
    meeting,
    items: visible,
    privateItems: { count: privateItems.length, reasons: [...new Set(privateItems.map((i) => i.privateReason ?? ''))] },
    papers: papers.rows
      .map((r) => ({ id: s(r.id), agendaItemId: s(r.agenda_item_id), title: s(r.title), versions: versionsByPaper.get(s(r.id)) ?? [] }))
      .filter((p) => visibleIds.has(p.agendaItemId) && (!isPublic || p.versions.length > 0)),
    attendance: attendance.rows.map((r) => ({ meetingId: s(r.meeting_id), personId: s(r.person_id), status: s(r.status) as Attendance['status'] })),
    declarations: declarations.rows
      .map((r) => ({
        id: s(r.id),
        meetingId: s(r.meeting_id),
        agendaItemId: s(r.agenda_item_id),
        personId: s(r.person_id),
        interestId: sn(r.interest_id),
        description: s(r.description),
        handling: s(r.handling) as Declaration['handling'],
      }))
      .filter((dcl) => visibleIds.has(dcl.agendaItemId)),
    decisions: decisions.rows.map((r) => toDecision(r, votesByDecision.get(s(r.id)) ?? [])).filter((dec) => visibleIds.has(dec.agendaItemId)),
    actionsRaised: raised.rows.map(toAction).filter((a) => !isPublic || a.agendaItemId === null || visibleIds.has(a.agendaItemId)),
    actionsCarried: isPublic ? [] : carried.rows.map(toAction),
    minutes: minutes.rows[0] ? toMinutes(minutes.rows[0]) : null,
    interests: interests.rows.map(toInterest),
  };
}

export interface MeetingFilter {
  bodyId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export async function listMeetings(db: Queryable, icsCode: string, filter: MeetingFilter = {}): Promise<(Meeting & { bodyName: string })[]> {
  const params: unknown[] = [icsCode];
  const where = ['m.ics_code = $1'];
  if (filter.bodyId) where.push(`m.body_id = $${params.push(filter.bodyId)}`);
  if (filter.from) where.push(`m.starts_at >= $${params.push(filter.from)}`);
  if (filter.to) where.push(`m.starts_at < $${params.push(filter.to)}`);
  const { rows } = await db.query<Row>(`SELECT m.*, b.name AS body_name FROM meeting m JOIN body b ON b.id = m.body_id WHERE ${where.join(' AND ')} ORDER BY m.starts_at, m.id`, params);
  return rows.map((r) => ({ ...toMeeting(r), bodyName: s(r.body_name) }));
}

export interface DecisionSearch {
  bodyId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** Words to find in the title, text or topic. */
  q?: string | undefined;
  topic?: string | undefined;
  /** Decisions on items concerning this organisation. */
  orgCode?: string | undefined;
}

export interface DecisionLogEntry extends Decision {
  meetingTitle: string;
  bodyId: string;
  bodyName: string;
  itemTitle: string;
  part: AgendaItem['part'];
  concerns: string[];
  involvement: { id: string; title: string; kind: Involvement['kind']; howUsed: string }[];
}

/** The decisions log. The public see decisions on public items only. */
export async function searchDecisions(db: Queryable, icsCode: string, search: DecisionSearch, audience: Audience): Promise<DecisionLogEntry[]> {
  const params: unknown[] = [icsCode];
  const where = ['m.ics_code = $1'];
  if (audience === 'public') where.push("i.part = 'public'");
  if (search.bodyId) where.push(`m.body_id = $${params.push(search.bodyId)}`);
  if (search.from) where.push(`d.decided_at >= $${params.push(search.from)}::date`);
  if (search.to) where.push(`d.decided_at < ($${params.push(search.to)}::date + 1)`);
  if (search.topic) where.push(`lower(d.topic) = lower($${params.push(search.topic)})`);
  if (search.orgCode) where.push(`$${params.push(search.orgCode)} = ANY(i.concerns)`);
  if (search.q) {
    const n = params.push(`%${search.q.toLowerCase().replaceAll('\\', '\\\\').replaceAll('%', '\\%').replaceAll('_', '\\_')}%`);
    where.push(`(lower(d.title) LIKE $${n} OR lower(d.text) LIKE $${n} OR lower(coalesce(d.topic, '')) LIKE $${n} OR lower(i.title) LIKE $${n})`);
  }
  const { rows } = await db.query<Row>(
    `SELECT d.*, m.title AS meeting_title, m.body_id, b.name AS body_name, i.title AS item_title, i.part, i.concerns
       FROM decision d JOIN meeting m ON m.id = d.meeting_id JOIN body b ON b.id = m.body_id JOIN agenda_item i ON i.id = d.agenda_item_id
      WHERE ${where.join(' AND ')} ORDER BY d.decided_at DESC, d.id`,
    params,
  );
  if (rows.length === 0) return [];
  const ids = rows.map((r) => s(r.id));
  const [votes, involvement] = await Promise.all([
    db.query<Row>('SELECT * FROM vote WHERE decision_id = ANY($1::text[])', [ids]),
    db.query<Row>('SELECT l.decision_id, l.how_used, v.id, v.title, v.kind FROM involvement_decision l JOIN involvement v ON v.id = l.involvement_id WHERE l.decision_id = ANY($1::text[]) ORDER BY v.held_on', [ids]),
  ]);
  return rows.map((r) => ({
    ...toDecision(
      r,
      votes.rows.filter((v) => s(v.decision_id) === s(r.id)).map((v) => ({ personId: s(v.person_id), vote: s(v.vote) as Decision['votes'][number]['vote'] })),
    ),
    meetingTitle: s(r.meeting_title),
    bodyId: s(r.body_id),
    bodyName: s(r.body_name),
    itemTitle: s(r.item_title),
    part: s(r.part) as AgendaItem['part'],
    concerns: (r.concerns as string[] | null) ?? [],
    involvement: involvement.rows
      .filter((v) => s(v.decision_id) === s(r.id))
      .map((v) => ({ id: s(v.id), title: s(v.title), kind: s(v.kind) as Involvement['kind'], howUsed: s(v.how_used) })),
  }));
}

export async function getDecision(db: Queryable, icsCode: string, decisionId: string, audience: Audience): Promise<DecisionLogEntry> {
  const all = await searchDecisions(db, icsCode, {}, audience);
  const found = all.find((x) => x.id === decisionId);
  if (!found) throw new NotFoundError(`Decision ${decisionId}`);
  return found;
}

/** The register of interests: everyone's declared interests, current first. */
export async function registerOfInterests(db: Queryable, icsCode: string): Promise<Interest[]> {
  const { rows } = await db.query<Row>('SELECT * FROM interest WHERE ics_code = $1 ORDER BY (end_date IS NULL) DESC, end_date DESC, start_date DESC, id', [icsCode]);
  return rows.map(toInterest);
}

export async function registerOfGifts(db: Queryable, icsCode: string): Promise<Gift[]> {
  const { rows } = await db.query<Row>('SELECT * FROM gift WHERE ics_code = $1 ORDER BY offered_on DESC, id', [icsCode]);
  return rows.map((r) => ({
    id: s(r.id),
    icsCode: s(r.ics_code),
    personId: s(r.person_id),
    kind: s(r.kind) as Gift['kind'],
    description: s(r.description),
    offeredBy: s(r.offered_by),
    valuePounds: Number(r.value_pounds),
    offeredOn: s(r.offered_on),
    accepted: Boolean(r.accepted),
  }));
}

export interface InvolvementWithDecisions extends Involvement {
  decisions: { id: string; title: string; howUsed: string; part: AgendaItem['part'] }[];
}

export async function listInvolvement(db: Queryable, icsCode: string, audience: Audience): Promise<InvolvementWithDecisions[]> {
  const [involvement, links] = await Promise.all([
    db.query<Row>('SELECT * FROM involvement WHERE ics_code = $1 ORDER BY held_on DESC, id', [icsCode]),
    db.query<Row>(
      `SELECT l.involvement_id, l.how_used, d.id, d.title, i.part FROM involvement_decision l JOIN decision d ON d.id = l.decision_id JOIN agenda_item i ON i.id = d.agenda_item_id
        JOIN involvement v ON v.id = l.involvement_id WHERE v.ics_code = $1`,
      [icsCode],
    ),
  ]);
  return involvement.rows.map((r) => ({
    ...toInvolvement(r),
    decisions: links.rows
      .filter((l) => s(l.involvement_id) === s(r.id) && (audience === 'staff' || s(l.part) === 'public'))
      .map((l) => ({ id: s(l.id), title: s(l.title), howUsed: s(l.how_used), part: s(l.part) as AgendaItem['part'] })),
  }));
}

/** A paper's file. The public may fetch published versions only. */
export async function paperFile(db: Queryable, icsCode: string, paperId: string, version: number, audience: Audience): Promise<PaperVersion & { content: Buffer; title: string }> {
  const { rows } = await db.query<Row>(
    `SELECT v.*, p.title, i.part FROM paper_version v JOIN paper p ON p.id = v.paper_id JOIN agenda_item i ON i.id = p.agenda_item_id JOIN meeting m ON m.id = i.meeting_id
      WHERE v.paper_id = $1 AND v.version = $2 AND m.ics_code = $3 ${audience === 'public' ? "AND v.published_at IS NOT NULL AND i.part = 'public'" : ''}`,
    [paperId, version, icsCode],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError(`Paper ${paperId} version ${version}`);
  return { ...toVersion(row), content: row.content as Buffer, title: s(row.title) };
}
