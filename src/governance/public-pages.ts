/**
 * Governance in the open: the public website of an ICS, read-only and without signing in, at
 * stable addresses under /public/:ics. Meetings with their public agendas, papers, attendance,
 * declarations, decisions and minutes; the decisions log; the registers of interests and of
 * gifts and hospitality; and how people's views informed decisions.
 *
 * What the public may see is decided by the governance repository, in its queries: every read
 * here asks for the 'public' audience and shows what comes back. These pages never filter
 * private things themselves.
 *
 * Times are UK times (Europe/London) written the NHS way: "Thursday 12 March 2026, 10am to 1pm".
 */
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import MarkdownIt from 'markdown-it';
import type { AppContext } from '../app.js';
import type { Queryable } from '../core/db/database.js';
import { NotFoundError, UserError } from '../core/errors.js';
import { type BarDatum, barChartSvg } from '../web/chart.js';
import { type Renderer, createRenderer } from '../web/render.js';
import { BODY_KINDS, type BodyKind, COMMITTEE_TYPES, type IcsStructure, ROLES, isCurrent, today } from '../structure/model.js';
import { listIcs, loadStructure } from '../structure/repository.js';
import { checkRules } from '../structure/rules.js';
import { bodyView, icsSummary } from '../structure/views.js';
import { quorum } from './checks.js';
import {
  type AttendanceStatus,
  DECISION_METHODS,
  type Decision,
  HANDLING,
  INTEREST_KINDS,
  INVOLVEMENT_KINDS,
  ITEM_PURPOSES,
  type InvolvementKind,
  MEETING_STATUSES,
  type Meeting,
  OUTCOMES,
  type Outcome,
  type Paper,
  type PaperVersion,
  VOTES,
} from './model.js';
import {
  type DecisionLogEntry,
  type DecisionSearch,
  type MeetingRecord,
  getDecision,
  listInvolvement,
  listMeetings,
  loadMeeting,
  paperFile,
  registerOfGifts,
  registerOfInterests,
  searchDecisions,
} from './repository.js';

const VIEWS = fileURLToPath(new URL('./views', import.meta.url));
const HTML = 'text/html; charset=utf-8';
const hidden = { schema: { hide: true } } as const;
/** Decisions per page of the decisions log. */
export const PAGE_SIZE = 20;
/** The longest search words accepted, so a pasted essay does not become a database scan. */
const MAX_QUERY = 200;

// ---- UK time, written the NHS way ---------------------------------------------------------------

const LONDON = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

interface LondonParts {
  weekday: string;
  day: number;
  month: string;
  year: number;
  hour: number;
  minute: number;
}

function londonParts(moment: Date): LondonParts {
  const parts = LONDON.formatToParts(moment);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return { weekday: part('weekday'), day: Number(part('day')), month: part('month'), year: Number(part('year')), hour: Number(part('hour')) % 24, minute: Number(part('minute')) };
}

/** The time of day in the UK: "10am", "2:30pm", "midday", "midnight". */
export function ukTime(moment: Date): string {
  const { hour, minute } = londonParts(moment);
  if (minute === 0 && hour === 0) return 'midnight';
  if (minute === 0 && hour === 12) return 'midday';
  const h = hour % 12 === 0 ? 12 : hour % 12;
  const suffix = hour < 12 ? 'am' : 'pm';
  return minute === 0 ? `${h}${suffix}` : `${h}:${String(minute).padStart(2, '0')}${suffix}`;
}

/** The day in the UK: "Thursday 12 March 2026". */
export function ukDay(moment: Date): string {
  const p = londonParts(moment);
  return `${p.weekday} ${p.day} ${p.month} ${p.year}`;
}

/** The date in the UK as an ISO date, "2026-03-12", for the `date` filter and for comparing. */
export function londonDate(moment: Date): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(moment);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** When a meeting is: "Thursday 12 March 2026, 10am to 1pm" (or across days, or with no end time). */
export function meetingWhen(start: Date, end: Date | null): string {
  const from = `${ukDay(start)}, ${ukTime(start)}`;
  if (!end) return from;
  if (londonDate(start) === londonDate(end)) return `${from} to ${ukTime(end)}`;
  return `${from} to ${ukDay(end)}, ${ukTime(end)}`;
}

const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/**
 * A date as people type it: "2026-03-12", "12/3/2026", "12 March 2026" or "12 Mar 2026".
 * Returns the ISO date, or null when it is not a real date.
 */
export function parseUkDate(text: string): string | null {
  const value = text.trim().toLowerCase().replace(/\s+/g, ' ');
  let year: number;
  let month: number;
  let day: number;
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(value))) {
    [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  } else if ((m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(value))) {
    [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  } else if ((m = /^(\d{1,2}) ([a-z]+)\.? (\d{4})$/.exec(value))) {
    const name = m[2] ?? '';
    const index = name.length >= 3 ? MONTH_NAMES.findIndex((n) => n.startsWith(name) || (name === 'sept' && n === 'september')) : -1;
    if (index < 0) return null;
    [day, month, year] = [Number(m[1]), index + 1, Number(m[3])];
  } else {
    return null;
  }
  if (year < 1900 || year > 2100 || month < 1 || month > 12 || day < 1) return null;
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return d.toISOString().slice(0, 10);
}

/** A file's size as people read it: "850 bytes", "2 KB", "1.4 MB". */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toLocaleString('en-GB', { maximumFractionDigits: 1 })} MB`;
}

/** Pounds and pence when there are pence: "£25", "£12.50", "£1,250". */
export function poundsAndPence(value: number): string {
  const pence = Math.round(value * 100) % 100 !== 0;
  return `£${value.toLocaleString('en-GB', { minimumFractionDigits: pence ? 2 : 0, maximumFractionDigits: 2 })}`;
}

export interface PageWindow {
  page: number;
  pages: number;
  /** Index of the first and one past the last entry on the page. */
  start: number;
  end: number;
}

/** Which entries a page shows; a page beyond the last shows the last. */
export function pageWindow(total: number, requested: number, size = PAGE_SIZE): PageWindow {
  const pages = Math.max(1, Math.ceil(total / size));
  const page = Math.min(Math.max(1, Number.isInteger(requested) ? requested : 1), pages);
  return { page, pages, start: (page - 1) * size, end: Math.min(total, page * size) };
}

/**
 * Whether the search words start a word somewhere in the texts: "merge" finds "merger" but not
 * "emergency". The repository finds the words anywhere; this keeps what a reader would expect.
 */
export function startsAWord(q: string | undefined, texts: string[]): boolean {
  if (q === undefined || q.trim() === '') return true;
  const escaped = q.trim().replace(/\s+/g, ' ').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`(^|[^\\p{L}\\p{N}])${escaped}`, 'iu');
  return texts.some((t) => pattern.test(t.replace(/\s+/g, ' ')));
}

// ---- Markdown, without raw HTML ---------------------------------------------------------------

const markdown = new MarkdownIt({ html: false, linkify: true });

/**
 * Minutes and Markdown papers as HTML. Raw HTML in the text is shown as text, never run, and
 * links may not use javascript: and the like (markdown-it refuses them). Headings move down by
 * `shift` levels so they sit under the page's own headings.
 */
export function renderMarkdown(text: string, shift = 0): string {
  const tokens = markdown.parse(text, {});
  for (const token of tokens) {
    if (token.type === 'heading_open' || token.type === 'heading_close') {
      const level = Math.min(6, Number(token.tag.slice(1)) + shift);
      token.tag = `h${level}`;
    }
  }
  return markdown.renderer.render(tokens, markdown.options, {});
}

/** A paper's text without its first heading when that only repeats the title the page already shows. */
export function withoutTitle(text: string, title: string): string {
  const match = /^\s*#\s+(.+?)\s*#*\s*(?:\r?\n|$)/.exec(text);
  return match && match[1]?.trim().toLowerCase() === title.trim().toLowerCase() ? text.slice(match[0].length) : text;
}

// ---- navigation --------------------------------------------------------------------------------

type Section = 'home' | 'meetings' | 'decisions' | 'interests' | 'involvement' | 'bodies';
type Crumb = { href: string; text: string };
type Form = Record<string, unknown>;

interface FieldError {
  text: string;
  href: string;
}

function publicHome(code: string): string {
  return `/public/${encodeURIComponent(code)}`;
}

function navigation(code: string, section: Section | undefined, exact: boolean): { href: string; text: string; current?: boolean; active?: boolean }[] {
  const home = publicHome(code);
  const items: [Section, string, string][] = [
    ['home', home, 'Home'],
    ['meetings', `${home}/meetings`, 'Meetings'],
    ['decisions', `${home}/decisions`, 'Decisions'],
    ['interests', `${home}/interests`, 'Interests'],
    ['involvement', `${home}/involvement`, 'Involvement'],
    ['bodies', `${home}/bodies`, 'Bodies'],
  ];
  return items.map(([key, href, text]) => (key === section ? (exact ? { href, text, current: true } : { href, text, active: true }) : { href, text }));
}

/** What every public page of one ICS needs: its name, navigation, breadcrumbs and feed addresses. */
function base(ics: { code: string; name: string }, section: Section | undefined, exact: boolean, title: string, crumbs: Crumb[] = []): Record<string, unknown> {
  const home = publicHome(ics.code);
  const trail: Crumb[] = section === 'home' && exact ? [] : [{ href: home, text: 'Home' }, ...crumbs];
  return {
    title,
    nav: navigation(ics.code, section, exact),
    crumbs: trail,
    ics,
    home,
    feeds: { calendar: `${home}/meetings.ics`, decisions: `${home}/decisions.atom` },
  };
}

/** One value of a query string, trimmed; blank is undefined. */
function field(form: Form | undefined, name: string): string | undefined {
  const raw = form?.[name];
  const value = Array.isArray(raw) ? (raw[0] as unknown) : raw;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

const byName = <T extends { name: string }>(a: T, b: T): number => a.name.localeCompare(b.name);

/** Section headings on the bodies page: the kinds of body in the order people look for them. */
const BODY_GROUPS: { kind: BodyKind; heading: string }[] = [
  { kind: 'icb_board', heading: 'ICB board' },
  { kind: 'committee', heading: 'Committees of the ICB board' },
  { kind: 'icp', heading: 'Integrated care partnership' },
  { kind: 'place_partnership', heading: 'Place-based partnerships' },
  { kind: 'provider_collaborative', heading: 'Provider collaboratives' },
  { kind: 'clinical_network', heading: 'Clinical networks' },
];

/** Short names of the kinds of involvement, for the chart's axis (the table gives the full names). */
const INVOLVEMENT_SHORT: Record<InvolvementKind, string> = {
  citizens_panel: "Citizens' panel",
  survey: 'Survey',
  healthwatch: 'Healthwatch report',
  engagement_event: 'Engagement event',
  co_production: 'Co-production',
  consultation: 'Consultation',
};

const OUTCOME_COLOURS: Record<Outcome, string> = { approved: 'green', rejected: 'red', deferred: 'yellow' };

// ---- view models -------------------------------------------------------------------------------

interface MeetingRow {
  id: string;
  href: string;
  title: string;
  bodyId: string;
  bodyName: string;
  /** Whether the title already says which body meets (so the body need not be repeated). */
  titleNamesBody: boolean;
  when: string;
  date: string;
  venue: string | null;
  online: boolean;
  onlineUrl: string | null;
  status: Meeting['status'];
  statusLabel: string;
  upcoming: boolean;
}

function meetingRow(home: string, m: Meeting & { bodyName: string }, now: Date): MeetingRow {
  return {
    id: m.id,
    href: `${home}/meetings/${encodeURIComponent(m.id)}`,
    title: m.title,
    bodyId: m.bodyId,
    bodyName: m.bodyName,
    titleNamesBody: m.title.toLowerCase().includes(m.bodyName.toLowerCase()),
    when: meetingWhen(m.startsAt, m.endsAt),
    date: londonDate(m.startsAt),
    venue: m.venue,
    online: m.onlineUrl !== null,
    onlineUrl: webLink(m.onlineUrl),
    status: m.status,
    statusLabel: MEETING_STATUSES[m.status],
    upcoming: (m.endsAt ?? m.startsAt).getTime() >= now.getTime() && m.status !== 'held',
  };
}

interface VersionView {
  version: number;
  format: PaperVersion['format'];
  formatLabel: string;
  size: string;
  publishedOn: string | null;
  reason: string | null;
  href: string;
  viewHref: string | null;
}

interface PaperView {
  id: string;
  title: string;
  latest: VersionView;
  /** Every published version, newest first (the latest included). */
  history: VersionView[];
}

function paperView(home: string, paper: Paper): PaperView | null {
  const versions = [...paper.versions].sort((a, b) => b.version - a.version).map((v) => versionView(home, v));
  const latest = versions[0];
  return latest ? { id: paper.id, title: paper.title, latest, history: versions } : null;
}

function versionView(home: string, v: PaperVersion): VersionView {
  const href = `${home}/papers/${encodeURIComponent(v.paperId)}/versions/${v.version}`;
  return {
    version: v.version,
    format: v.format,
    formatLabel: v.format === 'pdf' ? 'PDF' : 'Markdown',
    size: fileSize(v.sizeBytes),
    publishedOn: v.publishedAt ? londonDate(v.publishedAt) : null,
    reason: v.changeReason,
    href,
    viewHref: v.format === 'markdown' ? `${href}/view` : null,
  };
}

interface DecisionView {
  id: string;
  href: string;
  title: string;
  text: string;
  outcome: string;
  outcomeColour: string;
  method: string;
  byVote: boolean;
  topic: string | null;
  decidedOn: string;
  authorityOk: boolean;
  authorityNote: string | null;
  counts: { for: number; against: number; abstain: number };
  votes: { name: string; role: string | null; vote: string }[];
  /** People who declared an interest and took no part in the decision. */
  notVoting: { name: string; handling: string }[];
}

/** A link for the page only when it is a web address: never javascript: or the like, whatever was stored. */
function webLink(url: string | null): string | null {
  return url !== null && /^https?:\/\/[^\s"<>]+$/i.test(url) ? url : null;
}

function personName(s: IcsStructure, id: string): string {
  return s.people.get(id)?.name ?? id;
}

/** The role a person held on a body on a date: "Chair", "Partner member", or null. */
function roleOn(s: IcsStructure, bodyId: string, personId: string, onDate: string): string | null {
  const m = s.memberships.find((x) => x.bodyId === bodyId && x.personId === personId && isCurrent(x, onDate));
  return m ? ROLES[m.role] : null;
}

function decisionView(home: string, s: IcsStructure, bodyId: string, d: Decision, declarations: MeetingRecord['declarations']): DecisionView {
  const onDate = londonDate(d.decidedAt);
  const count = (kind: keyof typeof VOTES): number => d.votes.filter((v) => v.vote === kind).length;
  return {
    id: d.id,
    href: `${home}/decisions/${encodeURIComponent(d.id)}`,
    title: d.title,
    text: d.text,
    outcome: OUTCOMES[d.outcome],
    outcomeColour: OUTCOME_COLOURS[d.outcome],
    method: DECISION_METHODS[d.method],
    byVote: d.method === 'vote',
    topic: d.topic,
    decidedOn: onDate,
    authorityOk: d.authorityOk,
    authorityNote: d.authorityNote,
    counts: { for: count('for'), against: count('against'), abstain: count('abstain') },
    votes: d.votes
      .map((v) => ({ name: personName(s, v.personId), role: roleOn(s, bodyId, v.personId, onDate), vote: VOTES[v.vote] }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    notVoting: declarations
      .filter((x) => x.agendaItemId === d.agendaItemId && x.handling !== 'noted')
      .map((x) => ({ name: personName(s, x.personId), handling: HANDLING[x.handling] })),
  };
}

// ---- the pages ---------------------------------------------------------------------------------

interface IcsParams {
  ics: string;
}

type Send = (reply: FastifyReply, template: string, context: Record<string, unknown>, status?: number) => FastifyReply;

export async function registerGovernancePublicPages(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const render = createRenderer([VIEWS]);
  const send: Send = (reply, template, context, status = 200) => reply.status(status).type(HTML).send(render(template, context));

  await app.register(
    async (scope) => {
      scope.setErrorHandler(publicErrorHandler(ctx, render));
      scope.setNotFoundHandler(async (request, reply) => {
        const ics = await knownIcs(ctx, request.url.split('?')[0]?.split('/')[2]);
        return reply.status(404).type(HTML).send(render('public/not-found.njk', { ...(ics ? base(ics, undefined, false, 'Page not found') : { title: 'Page not found' }) }));
      });
      registerRoutes(scope, ctx, send);
    },
    { prefix: '/public' },
  );
}

/** The ICS a public address names, if OpenICS holds it (for the navigation of error pages). */
async function knownIcs(ctx: AppContext, code: string | undefined): Promise<{ code: string; name: string } | undefined> {
  if (!code || !ctx.ready) return undefined;
  try {
    const wanted = decodeURIComponent(code).toUpperCase();
    return (await listIcs(ctx.db)).find((i) => i.code === wanted);
  } catch {
    return undefined;
  }
}

/** Errors on public pages are pages: "Page not found" for anything unknown, a plain apology for our own faults. */
function publicErrorHandler(ctx: AppContext, render: Renderer) {
  return async (error: unknown, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    let status = 500;
    let message: string | undefined;
    if (error instanceof UserError) {
      status = error.status;
      message = error.message;
    } else {
      const code = (error as { statusCode?: unknown }).statusCode;
      if (typeof code === 'number' && code >= 400 && code < 500) status = code;
    }
    if (status >= 500 && !(error instanceof UserError)) request.log.error({ err: error }, 'public page failed');
    const ics = status < 500 ? await knownIcs(ctx, (request.params as { ics?: string } | undefined)?.ics) : undefined;
    if (status === 404) {
      return reply
        .status(404)
        .type(HTML)
        .send(render('public/not-found.njk', { ...(ics ? base(ics, undefined, false, 'Page not found') : { title: 'Page not found' }), what: message }));
    }
    const title = status >= 500 ? 'Sorry, there is a problem with the service' : 'There is a problem with your request';
    return reply
      .status(status)
      .type(HTML)
      .send(render('public/error.njk', { ...(ics ? base(ics, undefined, false, title) : { title }), status, message }));
  };
}

/** The people who attended, by how they attended, with the role each held on the body. */
function attendanceView(s: IcsStructure, record: MeetingRecord): { status: string; label: string; people: { name: string; role: string | null }[] }[] {
  const onDate = londonDate(record.meeting.startsAt);
  const order: (AttendanceStatus)[] = ['present', 'apologies', 'absent', 'in_attendance'];
  const labels: Record<AttendanceStatus, string> = { present: 'Present', apologies: 'Apologies', absent: 'Absent', in_attendance: 'In attendance' };
  return order
    .map((status) => ({
      status,
      label: labels[status],
      people: record.attendance
        .filter((a) => a.status === status)
        .map((a) => ({ name: personName(s, a.personId), role: roleOn(s, record.meeting.bodyId, a.personId, onDate) }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    }))
    .filter((g) => g.people.length > 0);
}

/** The meeting a paper belongs to. Asked only once paperFile has said the public may see the paper. */
async function meetingOfPaper(db: Queryable, paperId: string): Promise<string> {
  const { rows } = await db.query<{ meeting_id: string }>('SELECT i.meeting_id FROM paper p JOIN agenda_item i ON i.id = p.agenda_item_id WHERE p.id = $1', [paperId]);
  const row = rows[0];
  if (!row) throw new NotFoundError(`Paper ${paperId}`);
  return row.meeting_id;
}

function registerRoutes(app: FastifyInstance, ctx: AppContext, send: Send): void {
  const load = (code: string): Promise<IcsStructure> => loadStructure(ctx.db, code.toUpperCase());

  // ---- home --------------------------------------------------------------------------------
  app.get<{ Params: IcsParams }>('/:ics', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const home = publicHome(s.ics.code);
    const now = new Date();
    const asOf = today();
    const summary = icsSummary(s, checkRules(s, asOf));
    const [meetings, decisions, involvement] = await Promise.all([
      listMeetings(ctx.db, s.ics.code),
      searchDecisions(ctx.db, s.ics.code, {}, 'public'),
      listInvolvement(ctx.db, s.ics.code, 'public'),
    ]);
    const rows = meetings.map((m) => meetingRow(home, m, now));
    const meetingBodies = new Set(meetings.map((m) => m.bodyId));
    const board = s.bodies.find((b) => b.kind === 'icb_board');
    const icp = s.bodies.find((b) => b.kind === 'icp');
    return send(reply, 'public/home.njk', {
      ...base(s.ics, 'home', true, s.ics.name),
      summary,
      icb: s.icb,
      board,
      icp,
      bodies: s.bodies
        .filter((b) => meetingBodies.has(b.id))
        .map((b) => ({ id: b.id, name: b.name, kind: BODY_KINDS[b.kind], description: b.description }))
        .sort((a, b) => BODY_GROUPS.findIndex((g) => BODY_KINDS[g.kind] === a.kind) - BODY_GROUPS.findIndex((g) => BODY_KINDS[g.kind] === b.kind) || a.name.localeCompare(b.name)),
      bodyCount: s.bodies.length,
      upcoming: rows.filter((r) => r.upcoming).slice(0, 5),
      decisions: decisions.slice(0, 5).map((d) => ({ ...decisionView(home, s, d.bodyId, d, []), bodyName: d.bodyName })),
      decisionCount: decisions.length,
      involvementCount: involvement.length,
    });
  });

  // ---- bodies ------------------------------------------------------------------------------
  app.get<{ Params: IcsParams }>('/:ics/bodies', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const home = publicHome(s.ics.code);
    const now = new Date();
    const meetings = (await listMeetings(ctx.db, s.ics.code)).map((m) => meetingRow(home, m, now));
    const groups = BODY_GROUPS.map((g) => ({
      ...g,
      bodies: s.bodies
        .filter((b) => b.kind === g.kind)
        .map((b) => ({
          id: b.id,
          name: b.name,
          description: b.description,
          committeeType: b.committeeType ? COMMITTEE_TYPES[b.committeeType] : null,
          members: s.memberships.filter((m) => m.bodyId === b.id && isCurrent(m, today())).length,
          next: meetings.find((m) => m.bodyId === b.id && m.upcoming) ?? null,
          meetings: meetings.filter((m) => m.bodyId === b.id).length,
        }))
        .sort(byName),
    })).filter((g) => g.bodies.length > 0);
    return send(reply, 'public/bodies.njk', { ...base(s.ics, 'bodies', true, 'Bodies'), groups });
  });

  app.get<{ Params: IcsParams & { bodyId: string } }>('/:ics/bodies/:bodyId', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const body = s.bodies.find((b) => b.id === request.params.bodyId);
    if (!body) throw new NotFoundError(`Body ${request.params.bodyId}`);
    const home = publicHome(s.ics.code);
    const asOf = today();
    const now = new Date();
    const view = bodyView(s, body, checkRules(s, asOf), asOf);
    const meetings = (await listMeetings(ctx.db, s.ics.code, { bodyId: body.id })).map((m) => meetingRow(home, m, now));
    return send(reply, 'public/body.njk', {
      ...base(s.ics, 'bodies', false, body.name, [{ href: `${home}/bodies`, text: 'Bodies' }]),
      body: view,
      kind: BODY_KINDS[body.kind],
      committeeType: body.committeeType ? COMMITTEE_TYPES[body.committeeType] : null,
      members: view.members
        .filter((m) => m.current)
        .map((m) => ({ ...m, roleLabel: ROLES[m.role] }))
        .sort((a, b) => Object.keys(ROLES).indexOf(a.role) - Object.keys(ROLES).indexOf(b.role) || a.name.localeCompare(b.name)),
      upcoming: meetings.filter((m) => m.upcoming),
      past: meetings.filter((m) => !m.upcoming).reverse(),
    });
  });

  // ---- meetings ----------------------------------------------------------------------------
  app.get<{ Params: IcsParams; Querystring: Form }>('/:ics/meetings', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const home = publicHome(s.ics.code);
    const now = new Date();
    const all = await listMeetings(ctx.db, s.ics.code);
    const bodyId = field(request.query, 'body');
    const errors: FieldError[] = [];
    if (bodyId !== undefined && !s.bodies.some((b) => b.id === bodyId)) errors.push({ text: 'Choose a body from the list', href: '#body' });
    const withMeetings = new Set(all.map((m) => m.bodyId));
    const bodyOptions = s.bodies.filter((b) => withMeetings.has(b.id) || b.id === bodyId).sort(byName);
    const rows = errors.length > 0 ? [] : all.filter((m) => bodyId === undefined || m.bodyId === bodyId).map((m) => meetingRow(home, m, now));
    const chosen = s.bodies.find((b) => b.id === bodyId);
    return send(
      reply,
      'public/meetings.njk',
      {
        ...base(s.ics, 'meetings', true, chosen ? `Meetings of ${chosen.name}` : 'Meetings'),
        bodyOptions: [{ value: '', text: 'All bodies' }, ...bodyOptions.map((b) => ({ value: b.id, text: b.name }))],
        values: { body: bodyId },
        chosen,
        errors,
        upcoming: rows.filter((r) => r.upcoming),
        past: rows.filter((r) => !r.upcoming).reverse(),
      },
      errors.length > 0 ? 422 : 200,
    );
  });

  app.get<{ Params: IcsParams & { meetingId: string } }>('/:ics/meetings/:meetingId', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const home = publicHome(s.ics.code);
    const record = await loadMeeting(ctx.db, s.ics.code, request.params.meetingId, 'public');
    const { meeting } = record;
    const body = s.bodies.find((b) => b.id === meeting.bodyId);
    const now = new Date();
    const all = await listMeetings(ctx.db, s.ics.code);
    const titleOf = (id: string | null): { id: string; title: string; date: string; href: string } | null => {
      const m = id ? all.find((x) => x.id === id) : undefined;
      return m ? { id: m.id, title: m.title, date: londonDate(m.startsAt), href: `${home}/meetings/${encodeURIComponent(m.id)}` } : null;
    };
    const onDate = londonDate(meeting.startsAt);
    const papers = record.papers.map((p) => ({ agendaItemId: p.agendaItemId, view: paperView(home, p) }));
    const items = record.items.map((i) => ({
      id: i.id,
      position: i.position,
      title: i.title,
      purpose: ITEM_PURPOSES[i.purpose],
      presenter: i.presenter,
      description: i.description,
      papers: papers.filter((p) => p.agendaItemId === i.id).map((p) => p.view).filter((p): p is PaperView => p !== null),
      decision: record.decisions.find((d) => d.agendaItemId === i.id)?.id ?? null,
    }));
    const itemById = new Map(items.map((i) => [i.id, i]));
    const held = meeting.status === 'held';
    return send(reply, 'public/meeting.njk', {
      ...base(s.ics, 'meetings', false, meeting.title, [{ href: `${home}/meetings`, text: 'Meetings' }]),
      meeting: meetingRow(home, { ...meeting, bodyName: body?.name ?? meeting.bodyId }, now),
      body: body ? { id: body.id, name: body.name } : null,
      held,
      items,
      anyPapers: items.some((i) => i.papers.length > 0),
      privateItems: record.privateItems,
      attendance: attendanceView(s, record),
      quorum: held && body ? quorum(s, body, record.attendance, onDate) : null,
      declarations: record.declarations.map((d) => ({
        name: personName(s, d.personId),
        item: itemById.get(d.agendaItemId) ?? null,
        description: d.description,
        handling: HANDLING[d.handling],
      })),
      decisions: record.decisions.map((d) => ({ ...decisionView(home, s, meeting.bodyId, d, record.declarations), item: itemById.get(d.agendaItemId) ?? null })),
      actions: record.actionsRaised.map((a) => ({
        description: a.description,
        owner: personName(s, a.ownerPersonId),
        due: a.dueDate,
        item: a.agendaItemId ? (itemById.get(a.agendaItemId) ?? null) : null,
        closedAt: titleOf(a.closedAtMeeting),
        closedNote: a.closedNote,
      })),
      minutes: record.minutes
        ? {
            html: renderMarkdown(record.minutes.content, 2),
            approvedAt: titleOf(record.minutes.approvedAtMeeting),
            approvedOn: record.minutes.approvedAt ? londonDate(record.minutes.approvedAt) : null,
            publishedOn: record.minutes.publishedAt ? londonDate(record.minutes.publishedAt) : null,
          }
        : null,
    });
  });

  // ---- papers ------------------------------------------------------------------------------
  const version = (text: string): number => {
    if (!/^[1-9]\d{0,5}$/.test(text)) throw new NotFoundError(`Paper version ${text}`);
    return Number(text);
  };

  app.get<{ Params: IcsParams & { paperId: string; version: string } }>('/:ics/papers/:paperId/versions/:version', hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const file = await paperFile(ctx.db, code, request.params.paperId, version(request.params.version), 'public');
    return reply
      .status(200)
      .type(file.format === 'pdf' ? 'application/pdf' : 'text/markdown; charset=utf-8')
      .header('content-disposition', `inline; filename="${file.filename.replaceAll('"', '')}"`)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'public, max-age=300')
      .send(file.content);
  });

  app.get<{ Params: IcsParams & { paperId: string; version: string } }>('/:ics/papers/:paperId/versions/:version/view', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const home = publicHome(s.ics.code);
    const wanted = version(request.params.version);
    const file = await paperFile(ctx.db, s.ics.code, request.params.paperId, wanted, 'public');
    const fileHref = `${home}/papers/${encodeURIComponent(file.paperId)}/versions/${file.version}`;
    if (file.format !== 'markdown') return reply.redirect(fileHref, 303);
    const record = await loadMeeting(ctx.db, s.ics.code, await meetingOfPaper(ctx.db, file.paperId), 'public');
    const paper = record.papers.find((p) => p.id === file.paperId);
    const item = record.items.find((i) => i.id === paper?.agendaItemId);
    const meetingHref = `${home}/meetings/${encodeURIComponent(record.meeting.id)}`;
    return send(reply, 'public/paper.njk', {
      ...base(s.ics, 'meetings', false, file.title, [
        { href: `${home}/meetings`, text: 'Meetings' },
        { href: meetingHref, text: record.meeting.title },
      ]),
      paper: { title: file.title, version: versionView(home, file), html: renderMarkdown(withoutTitle(file.content.toString('utf8'), file.title), 1) },
      history: paper ? (paperView(home, paper)?.history ?? []) : [],
      meeting: { title: record.meeting.title, href: meetingHref, when: meetingWhen(record.meeting.startsAt, record.meeting.endsAt) },
      item: item ? { position: item.position, title: item.title } : null,
    });
  });

  // ---- decisions ---------------------------------------------------------------------------
  app.get<{ Params: IcsParams; Querystring: Form }>('/:ics/decisions', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const home = publicHome(s.ics.code);
    const q = request.query;
    const values = { q: field(q, 'q'), body: field(q, 'body'), topic: field(q, 'topic'), org: field(q, 'org'), from: field(q, 'from'), to: field(q, 'to') };
    const everything = await searchDecisions(ctx.db, s.ics.code, {}, 'public');
    const topics = [...new Set(everything.map((d) => d.topic).filter((t): t is string => t !== null))].sort((a, b) => a.localeCompare(b));
    const orgCodes = [...new Set(everything.flatMap((d) => d.concerns))];
    const orgOptions = orgCodes.map((c) => ({ value: c, text: s.organisations.get(c)?.name ?? c })).sort((a, b) => a.text.localeCompare(b.text));
    const decidingBodies = new Set(everything.map((d) => d.bodyId));
    const bodyOptions = s.bodies.filter((b) => decidingBodies.has(b.id) || b.id === values.body).sort(byName).map((b) => ({ value: b.id, text: b.name }));

    const errors: FieldError[] = [];
    const fieldErrors: Record<string, string> = {};
    const problem = (id: string, text: string): void => {
      fieldErrors[id] = text;
      errors.push({ text, href: `#${id}` });
    };
    if (values.q !== undefined && values.q.length > MAX_QUERY) problem('q', `Search words must be ${MAX_QUERY} characters or fewer`);
    if (values.body !== undefined && !s.bodies.some((b) => b.id === values.body)) problem('body', 'Choose a body from the list');
    if (values.topic !== undefined && !topics.some((t) => t.toLowerCase() === values.topic?.toLowerCase())) problem('topic', 'Choose a topic from the list');
    if (values.org !== undefined && !orgCodes.includes(values.org)) problem('org', 'Choose an organisation from the list');
    const from = values.from === undefined ? undefined : parseUkDate(values.from);
    const to = values.to === undefined ? undefined : parseUkDate(values.to);
    if (from === null) problem('from', 'Date from must be a real date, for example 1 April 2025');
    if (to === null) problem('to', 'Date to must be a real date, for example 31 March 2026');
    if (from && to && to < from) problem('to', 'Date to must be the same as or after date from');

    const search: DecisionSearch = { q: values.q, bodyId: values.body, topic: values.topic, orgCode: values.org, from: from ?? undefined, to: to ?? undefined };
    const filtered = Object.values(values).some((v) => v !== undefined);
    const found: DecisionLogEntry[] =
      errors.length > 0 ? [] : filtered ? (await searchDecisions(ctx.db, s.ics.code, search, 'public')).filter((d) => startsAWord(values.q, [d.title, d.text, d.topic ?? '', d.itemTitle])) : everything;
    const pageNumber = Number(field(q, 'page') ?? '1');
    const window = pageWindow(found.length, pageNumber);
    const link = (page: number): string => {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(values)) if (value !== undefined) params.set(key, value);
      if (page > 1) params.set('page', String(page));
      const query = params.toString();
      return `${home}/decisions${query ? `?${query}` : ''}`;
    };
    return send(
      reply,
      'public/decisions.njk',
      {
        ...base(s.ics, 'decisions', true, 'Decisions'),
        values,
        errors,
        fieldErrors,
        filtered,
        bodyOptions: [{ value: '', text: 'All bodies' }, ...bodyOptions],
        topicOptions: [{ value: '', text: 'All topics' }, ...topics.map((t) => ({ value: t, text: t }))],
        orgOptions: [{ value: '', text: 'All organisations' }, ...orgOptions],
        total: found.length,
        window,
        decisions: found.slice(window.start, window.end).map((d) => ({ ...decisionView(home, s, d.bodyId, d, []), bodyName: d.bodyName, bodyId: d.bodyId, meetingTitle: d.meetingTitle })),
        pager:
          window.pages > 1
            ? {
                previous: window.page > 1 ? { href: link(window.page - 1) } : undefined,
                next: window.page < window.pages ? { href: link(window.page + 1) } : undefined,
                items: Array.from({ length: window.pages }, (_, i) => ({ number: i + 1, href: link(i + 1), current: i + 1 === window.page })),
              }
            : null,
        clearHref: `${home}/decisions`,
      },
      errors.length > 0 ? 422 : 200,
    );
  });

  app.get<{ Params: IcsParams & { decisionId: string } }>('/:ics/decisions/:decisionId', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const home = publicHome(s.ics.code);
    const decision = await getDecision(ctx.db, s.ics.code, request.params.decisionId, 'public');
    const record = await loadMeeting(ctx.db, s.ics.code, decision.meetingId, 'public');
    const item = record.items.find((i) => i.id === decision.agendaItemId);
    const view = decisionView(home, s, decision.bodyId, decision, record.declarations);
    return send(reply, 'public/decision.njk', {
      ...base(s.ics, 'decisions', false, decision.title, [{ href: `${home}/decisions`, text: 'Decisions' }]),
      decision: view,
      body: { id: decision.bodyId, name: decision.bodyName, href: `${home}/bodies/${encodeURIComponent(decision.bodyId)}` },
      meeting: { title: record.meeting.title, href: `${home}/meetings/${encodeURIComponent(record.meeting.id)}`, when: meetingWhen(record.meeting.startsAt, record.meeting.endsAt) },
      item: item ? { position: item.position, title: item.title, purpose: ITEM_PURPOSES[item.purpose], presenter: item.presenter } : { position: null, title: decision.itemTitle, purpose: null, presenter: null },
      organisations: decision.concerns.map((c) => s.organisations.get(c)?.name ?? c),
      involvement: decision.involvement.map((v) => ({ ...v, kind: INVOLVEMENT_KINDS[v.kind], href: `${home}/involvement#${encodeURIComponent(v.id)}` })),
      declarations: record.declarations
        .filter((d) => d.agendaItemId === decision.agendaItemId)
        .map((d) => ({ name: personName(s, d.personId), description: d.description, handling: HANDLING[d.handling] })),
    });
  });

  // ---- registers ---------------------------------------------------------------------------
  app.get<{ Params: IcsParams }>('/:ics/interests', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const asOf = today();
    const [interests, gifts] = await Promise.all([registerOfInterests(ctx.db, s.ics.code), registerOfGifts(ctx.db, s.ics.code)]);
    const bodies = new Map(s.bodies.map((b) => [b.id, b]));
    const kindOrder = (bodyId: string): number => BODY_GROUPS.findIndex((g) => g.kind === bodies.get(bodyId)?.kind);
    const rolesOf = (personId: string): string[] => {
      const onBodies = s.memberships
        .filter((m) => m.personId === personId && isCurrent(m, asOf))
        .sort((a, b) => kindOrder(a.bodyId) - kindOrder(b.bodyId) || (bodies.get(a.bodyId)?.name ?? '').localeCompare(bodies.get(b.bodyId)?.name ?? ''))
        .map((m) => `${ROLES[m.role]}, ${bodies.get(m.bodyId)?.name ?? m.bodyId}`);
      if (onBodies.length > 0) return onBodies;
      return s.organisationRoles.filter((r) => r.personId === personId && isCurrent(r, asOf)).map((r) => `${ROLES[r.role]}, ${s.organisations.get(r.orgCode)?.name ?? r.orgCode}`);
    };
    const rows = interests.map((i) => ({
      id: i.id,
      name: personName(s, i.personId),
      roles: rolesOf(i.personId),
      kind: INTEREST_KINDS[i.kind],
      description: i.description,
      organisations: i.orgCodes.map((c) => s.organisations.get(c)?.name ?? c),
      startDate: i.startDate,
      endDate: i.endDate,
      declaredOn: i.declaredOn,
      current: isCurrent({ startDate: i.startDate.slice(0, 10), endDate: i.endDate?.slice(0, 10) ?? null }, asOf),
    }));
    return send(reply, 'public/interests.njk', {
      ...base(s.ics, 'interests', true, 'Registers of interests, gifts and hospitality'),
      current: rows.filter((r) => r.current),
      ended: rows.filter((r) => !r.current),
      gifts: gifts.map((g) => ({
        name: personName(s, g.personId),
        roles: rolesOf(g.personId),
        kind: g.kind === 'gift' ? 'Gift' : 'Hospitality',
        description: g.description,
        offeredBy: g.offeredBy,
        value: poundsAndPence(g.valuePounds),
        offeredOn: g.offeredOn,
        accepted: g.accepted,
      })),
    });
  });

  app.get<{ Params: IcsParams }>('/:ics/involvement', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const home = publicHome(s.ics.code);
    const involvement = await listInvolvement(ctx.db, s.ics.code, 'public');
    const byKind = (Object.keys(INVOLVEMENT_KINDS) as InvolvementKind[])
      .map((kind) => ({
        kind,
        label: INVOLVEMENT_KINDS[kind],
        short: INVOLVEMENT_SHORT[kind],
        count: involvement.filter((v) => v.kind === kind).length,
        participants: involvement.filter((v) => v.kind === kind).reduce((t, v) => t + (v.participants ?? 0), 0),
      }))
      .filter((k) => k.count > 0)
      .sort((a, b) => b.participants - a.participants);
    const data: BarDatum[] = byKind.map((k) => ({ label: k.short, value: k.participants }));
    const description = `People taking part, by kind of involvement, in ${s.ics.name}`;
    const chart =
      data.length > 0
        ? {
            wide: await barChartSvg(data, { description, valueTitle: 'People taking part', labelTitle: '', width: 460 }),
            narrow: await barChartSvg(data, { description, valueTitle: 'People taking part', labelTitle: '', width: 150 }),
          }
        : null;
    return send(reply, 'public/involvement.njk', {
      ...base(s.ics, 'involvement', true, 'Involvement: how people’s views shaped decisions'),
      entries: involvement.map((v) => ({
        id: v.id,
        kind: INVOLVEMENT_KINDS[v.kind],
        title: v.title,
        summary: v.summary,
        heldOn: v.heldOn,
        participants: v.participants,
        organisation: v.orgCode ? (s.organisations.get(v.orgCode)?.name ?? v.orgCode) : null,
        url: webLink(v.url),
        decisions: v.decisions.map((d) => ({ ...d, href: `${home}/decisions/${encodeURIComponent(d.id)}` })),
      })),
      byKind,
      totalParticipants: byKind.reduce((t, k) => t + k.participants, 0),
      chart,
    });
  });
}
