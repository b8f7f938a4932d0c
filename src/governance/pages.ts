/**
 * The board secretary's pages for governance, under /ics/:ics/governance: every meeting of every
 * body with its agenda, papers, conflict-of-interest flags, attendance and quorum, declarations,
 * decisions and votes (with the delegated-authority flag), actions and minutes; the registers of
 * interests and of gifts and hospitality; and public involvement.
 *
 * Server-rendered in the NHS design system, like the structure pages: every change is a plain
 * HTML form that posts and redirects with a success banner (post/redirect/get). The commands
 * check the input; a mistake comes back as the same page, status 422, with the NHS error summary
 * linking to each field, the message on the field, and what the user typed kept. Papers are
 * uploaded as multipart/form-data; a file that is not a PDF or Markdown, or too large, is a
 * message on the file field, never a failure of the page.
 *
 * These pages read with the 'staff' audience: they show everything, private items included.
 * What the public see is at /public/:ics (public-pages.ts), linked from each meeting.
 */
import { HTML, pageErrorHandler } from '../web/page-errors.js';
import { type NavItem, icsNavigation, registerIcsSection } from '../web/navigation.js';
import { fileURLToPath } from 'node:url';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app.js';
import { ConflictError, type FieldProblem, NotFoundError, ValidationError } from '../core/errors.js';
import { ANONYMOUS_ACTOR } from '../structure/api.js';
import { BODY_KINDS, type Body, type BodyKind, type IcsStructure, ORGANISATION_KINDS, type Organisation, type OrganisationKind, ROLES, isCurrent, today } from '../structure/model.js';
import { loadStructure } from '../structure/repository.js';
import { createRenderer, formatDate } from '../web/render.js';
import { type QuorumResult, authority, conflicts, quorum, votingMembers } from './checks.js';
import {
  type Upload,
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
import {
  AGENDA_PARTS,
  ATTENDANCE_STATUSES,
  type ActionItem,
  DECISION_METHODS,
  type Decision,
  HANDLING,
  INTEREST_KINDS,
  INVOLVEMENT_KINDS,
  ITEM_PURPOSES,
  MEETING_STATUSES,
  MINUTES_STATUSES,
  type Meeting,
  OUTCOMES,
  type Outcome,
  VOTES,
  type Vote,
} from './model.js';
import { MAX_PAPER_BYTES } from './papers.js';
import { fileSize, londonDate, meetingWhen, poundsAndPence, renderMarkdown } from './public-pages.js';
import { type MeetingRecord, listInvolvement, listMeetings, loadMeeting, registerOfGifts, registerOfInterests, searchDecisions } from './repository.js';

const VIEWS = fileURLToPath(new URL('./views', import.meta.url));
const hidden = { schema: { hide: true } } as const;
/** How many past meetings the governance home page lists when no body is chosen. */
const RECENT_MEETINGS = 12;
const MB = MAX_PAPER_BYTES / 1024 / 1024;

/** Labels the templates show instead of codes. */
const LABELS = {
  parts: AGENDA_PARTS,
  purposes: ITEM_PURPOSES,
  statuses: MEETING_STATUSES,
  attendance: ATTENDANCE_STATUSES,
  interestKinds: INTEREST_KINDS,
  handling: HANDLING,
  methods: DECISION_METHODS,
  outcomes: OUTCOMES,
  votes: VOTES,
  minutes: MINUTES_STATUSES,
  involvementKinds: INVOLVEMENT_KINDS,
  roles: ROLES,
};

/** A success banner: what was done, and a link to the part of the page it changed (the banner takes the focus). */
interface Done {
  text: string;
  anchor?: string;
  link?: string;
}

/** The success messages a redirect may ask for (`?done=`); anything else shows nothing. */
const DONE: Record<string, Done> = {
  scheduled: { text: 'Meeting scheduled.', anchor: 'add-item', link: 'Add the items of its agenda' },
  'status-changed': { text: 'Status changed.' },
  'item-added': { text: 'Item added to the agenda.', anchor: 'agenda', link: 'See the agenda' },
  'paper-uploaded': { text: 'Paper uploaded. It is not public until you publish it.', anchor: 'agenda', link: 'See the papers' },
  'version-uploaded': { text: 'New version uploaded. It is not public until you publish it.', anchor: 'agenda', link: 'See the papers' },
  'paper-published': { text: 'Paper published. The public can read it on the meeting’s public page.', anchor: 'agenda', link: 'See the papers' },
  'attendance-recorded': { text: 'Attendance recorded.', anchor: 'attendance', link: 'See the quorum' },
  'declaration-recorded': { text: 'Declaration recorded.', anchor: 'declarations', link: 'See the declarations' },
  'decision-recorded': { text: 'Decision recorded.', anchor: 'decisions', link: 'See the decision' },
  'action-added': { text: 'Action added.', anchor: 'actions', link: 'See the actions' },
  'action-closed': { text: 'Action closed.', anchor: 'actions', link: 'See the actions' },
  'minutes-saved': { text: 'Draft minutes saved.', anchor: 'minutes', link: 'See the minutes' },
  'minutes-approved': { text: 'Minutes approved. They are not public until you publish them.', anchor: 'minutes', link: 'See the minutes' },
  'minutes-published': { text: 'Minutes published. The public can read them on the meeting’s public page.', anchor: 'minutes', link: 'See the minutes' },
  'interest-added': { text: 'Interest added to the register.', anchor: 'interests', link: 'See the register' },
  'gift-added': { text: 'Gift or hospitality added to the register.', anchor: 'gifts', link: 'See the register' },
  'involvement-added': { text: 'Involvement recorded.', anchor: 'records', link: 'See the involvement' },
  'involvement-linked': { text: 'Involvement linked to the decision.', anchor: 'records', link: 'See the involvement' },
};

/** Section headings for choosing a body: the kinds of body in the order people look for them. */
const BODY_ORDER: BodyKind[] = ['icb_board', 'committee', 'icp', 'place_partnership', 'provider_collaborative', 'clinical_network'];

/** Organisations shown inside "GP practices and primary care networks", not in the first list. */
const PRIMARY_CARE: OrganisationKind[] = ['pcn', 'gp_practice'];

const OUTCOME_COLOURS: Record<Outcome, string> = { approved: 'green', rejected: 'red', deferred: 'yellow' };
const STATUS_COLOURS: Record<Meeting['status'], string> = { scheduled: 'blue', held: 'green', cancelled: 'red' };

type Crumb = { href: string; text: string };
type Form = Record<string, unknown>;
type Values = Record<string, unknown>;
type Option = { value: string; text: string };

interface FormErrors {
  /** For the error summary at the top of the page. */
  errors: { text: string; href: string }[];
  /** Message by field id, shown on the field. */
  fieldErrors: Record<string, string>;
}

/** A form to show again with what the user typed and what is wrong with it. */
interface Rerender {
  form?: string;
  values?: Values;
  formErrors?: FormErrors;
  done?: Done | undefined;
}

const NO_ERRORS: FormErrors = { errors: [], fieldErrors: {} };

// ---- form helpers ---------------------------------------------------------------------------

/** One value of a form, trimmed; blank is undefined. */
function field(form: Form | undefined, name: string): string | undefined {
  const raw = form?.[name];
  const value = Array.isArray(raw) ? (raw[0] as unknown) : raw;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** Every value of a repeated field (checkboxes), trimmed, blanks dropped. */
function list(form: Form | undefined, name: string): string[] {
  const raw = form?.[name];
  const all: unknown[] = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return all.filter((v): v is string => typeof v === 'string').map((v) => v.trim()).filter((v) => v !== '');
}

function fields(form: Form | undefined, names: string[]): Record<string, string | undefined> {
  return Object.fromEntries(names.map((n) => [n, field(form, n)]));
}

/**
 * The problems a command found, or null when the error is not about the input (then it is
 * thrown on to the error page). A conflict with no field named is put on `fallback`.
 */
function problemsOf(error: unknown, fallback: string): FieldProblem[] | null {
  if (error instanceof ValidationError) return error.problems;
  if (error instanceof ConflictError) return error.problems.length > 0 ? error.problems : [{ field: fallback, message: error.message }];
  return null;
}

/**
 * Turns problems into the error summary and field messages. `id` names the field id of each
 * problem's field; `blank` holds plain-English messages for fields left empty (the commands'
 * messages also suit API clients and may name codes).
 */
function formErrors(problems: FieldProblem[], id: (field: string) => string, values: Values = {}, blank: Record<string, string> = {}): FormErrors {
  const result: FormErrors = { errors: [], fieldErrors: {} };
  for (const p of problems) {
    const target = id(p.field);
    const empty = values[p.field] === undefined || (Array.isArray(values[p.field]) && (values[p.field] as unknown[]).length === 0);
    const text = (empty ? blank[p.field] : undefined) ?? p.message;
    if (result.fieldErrors[target]) continue;
    result.fieldErrors[target] = text;
    result.errors.push({ text, href: `#${target}` });
  }
  return result;
}

/** Field ids `<form>-<field>`, with some fields sent elsewhere. */
const ids =
  (form: string, known: string[], elsewhere: Record<string, string> = {}, fallback?: string) =>
  (name: string): string =>
    elsewhere[name] ?? (known.includes(name) || !fallback ? `${form}-${name}` : fallback);

/** A sum of money as people type it: "£1,250", "12.50". Blank or nonsense is NaN (the command says so). */
function pounds(text: string | undefined): number {
  if (text === undefined) return Number.NaN;
  const cleaned = text.replace(/[£,\s]/g, '');
  return /^\d+(\.\d{1,2})?$/.test(cleaned) ? Number(cleaned) : Number.NaN;
}

/** A whole number as people type it, "1,200"; blank is undefined, nonsense NaN. */
function count(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const cleaned = text.replace(/[,\s]/g, '');
  return /^\d+$/.test(cleaned) ? Number(cleaned) : Number.NaN;
}

// ---- shared view helpers ----------------------------------------------------------------------

const byName = <T extends { name: string }>(a: T, b: T): number => a.name.localeCompare(b.name);

function personName(s: IcsStructure, id: string): string {
  return s.people.get(id)?.name ?? id;
}

function orgName(s: IcsStructure, code: string): string {
  return s.organisations.get(code)?.name ?? code;
}

/** The date the checks use for a meeting (as the commands do). */
function meetingDate(m: Meeting): string {
  return m.startsAt.toISOString().slice(0, 10);
}

function bodyOrder(b: Body): number {
  return BODY_ORDER.indexOf(b.kind);
}

/** Bodies as select options, in the order people look for them, each saying its kind. */
function bodyOptions(s: IcsStructure): Option[] {
  return [...s.bodies].sort((a, b) => bodyOrder(a) - bodyOrder(b) || a.name.localeCompare(b.name)).map((b) => ({ value: b.id, text: `${b.name} (${BODY_KINDS[b.kind]})` }));
}

function peopleOptions(s: IcsStructure): Option[] {
  return [...s.people.values()].sort(byName).map((p) => ({ value: p.id, text: p.name }));
}

/** The organisations of the ICS as checkboxes: most in one list, GP practices and PCNs in a second. */
function organisationChoices(s: IcsStructure): { main: Option[]; primaryCare: Option[] } {
  const kinds = Object.keys(ORGANISATION_KINDS) as OrganisationKind[];
  const sorted = [...s.organisations.values()].sort((a, b) => kinds.indexOf(a.kind) - kinds.indexOf(b.kind) || a.name.localeCompare(b.name));
  const option = (o: Organisation): Option => ({ value: o.code, text: o.name });
  return { main: sorted.filter((o) => !PRIMARY_CARE.includes(o.kind)).map(option), primaryCare: sorted.filter((o) => PRIMARY_CARE.includes(o.kind)).map(option) };
}

function navigation(code: string): NavItem[] {
  return icsNavigation(code, { key: 'governance' });
}

export function governanceHome(code: string): string {
  return `/ics/${encodeURIComponent(code)}/governance`;
}

function meetingHref(code: string, meetingId: string): string {
  return `${governanceHome(code)}/meetings/${encodeURIComponent(meetingId)}`;
}

// ---- registration -------------------------------------------------------------------------------

interface IcsParams {
  ics: string;
}
interface MeetingParams extends IcsParams {
  meetingId: string;
}

type Send = (reply: FastifyReply, template: string, context: Record<string, unknown>, status?: number) => FastifyReply;

/** An uploaded file, or what was wrong with it before it could be read. */
interface Uploaded extends Upload {
  tooLarge: boolean;
}

export async function registerGovernancePages(app: FastifyInstance, ctx: AppContext): Promise<void> {
  registerIcsSection({ key: 'governance', text: 'Governance', path: '/governance', order: 70 });
  const render = createRenderer([VIEWS]);
  const send: Send = (reply, template, context, status = 200) => reply.status(status).type(HTML).send(render(template, { labels: LABELS, ...context }));

  await app.register(async (scope) => {
    const uploads = new WeakMap<FastifyRequest, Uploaded>();
    await scope.register(fastifyMultipart, {
      attachFieldsToBody: 'keyValues',
      // A file over the limit is cut short and marked, so the page can say so on the field.
      throwFileSizeLimit: false,
      limits: { fileSize: MAX_PAPER_BYTES, files: 1, fields: 10, parts: 12 },
      async onFile(part) {
        const bytes = await part.toBuffer();
        if (part.fieldname === 'file') uploads.set(this, { filename: part.filename, bytes, tooLarge: part.file.truncated });
        (part as unknown as { value: string }).value = part.filename;
      },
    });
    scope.setErrorHandler(pageErrorHandler(render, { notFound: 'staff/not-found.njk', error: 'staff/error.njk' }));
    registerRoutes(scope, ctx, send, (request) => uploads.get(request));
  });
}


// ---- view models ----------------------------------------------------------------------------------

interface MeetingRow {
  id: string;
  href: string;
  title: string;
  bodyName: string;
  titleNamesBody: boolean;
  when: string;
  status: Meeting['status'];
  statusLabel: string;
  statusColour: string;
  papers: number;
  published: number;
  quorum: QuorumResult | null;
  openActions: number;
  flags: number;
}

/** A meeting in the lists of the governance home page, with the counts a secretary checks. */
function meetingRow(s: IcsStructure, m: Meeting & { bodyName: string }, record: MeetingRecord): MeetingRow {
  const body = s.bodies.find((b) => b.id === m.bodyId);
  const onDate = meetingDate(m);
  const open = new Map<string, ActionItem>();
  for (const a of [...record.actionsRaised, ...record.actionsCarried]) if (a.closedAtMeeting === null) open.set(a.id, a);
  return {
    id: m.id,
    href: meetingHref(s.ics.code, m.id),
    title: m.title,
    bodyName: m.bodyName,
    titleNamesBody: m.title.toLowerCase().includes(m.bodyName.toLowerCase()),
    when: meetingWhen(m.startsAt, m.endsAt),
    status: m.status,
    statusLabel: MEETING_STATUSES[m.status],
    statusColour: STATUS_COLOURS[m.status],
    papers: record.papers.length,
    published: record.papers.filter((p) => p.versions.some((v) => v.publishedAt !== null)).length,
    quorum: body && record.attendance.length > 0 ? quorum(s, body, record.attendance, onDate) : null,
    openActions: open.size,
    flags: body ? conflicts(s, body, record.items, record.attendance, record.interests, record.declarations, onDate).length : 0,
  };
}

interface DecisionView {
  title: string;
  text: string;
  outcome: string;
  outcomeColour: string;
  method: string;
  byVote: boolean;
  topic: string | null;
  counts: Record<Vote, number>;
  votes: { name: string; vote: string }[];
  authorityOk: boolean;
  authorityNote: string | null;
}

function decisionView(s: IcsStructure, d: Decision): DecisionView {
  const tally = (kind: Vote): number => d.votes.filter((v) => v.vote === kind).length;
  return {
    title: d.title,
    text: d.text,
    outcome: OUTCOMES[d.outcome],
    outcomeColour: OUTCOME_COLOURS[d.outcome],
    method: DECISION_METHODS[d.method],
    byVote: d.method === 'vote',
    topic: d.topic,
    counts: { for: tally('for'), against: tally('against'), abstain: tally('abstain') },
    votes: d.votes.map((v) => ({ name: personName(s, v.personId), vote: VOTES[v.vote] })).sort((a, b) => a.name.localeCompare(b.name)),
    authorityOk: d.authorityOk,
    authorityNote: d.authorityNote,
  };
}

function actionView(s: IcsStructure, code: string, a: ActionItem, titles: Map<string, string>): Record<string, unknown> {
  return {
    id: a.id,
    description: a.description,
    owner: personName(s, a.ownerPersonId),
    due: a.dueDate,
    raisedAt: { title: titles.get(a.meetingId) ?? a.meetingId, href: meetingHref(code, a.meetingId) },
    closedAt: a.closedAtMeeting ? { title: titles.get(a.closedAtMeeting) ?? a.closedAtMeeting, href: meetingHref(code, a.closedAtMeeting) } : null,
    closedNote: a.closedNote,
    overdue: a.closedAtMeeting === null && a.dueDate.slice(0, 10) < today(),
  };
}

// ---- routes ---------------------------------------------------------------------------------------

function registerRoutes(app: FastifyInstance, ctx: AppContext, send: Send, uploadOf: (request: FastifyRequest) => Uploaded | undefined): void {
  const load = (code: string): Promise<IcsStructure> => loadStructure(ctx.db, code.toUpperCase());
  const flash = (request: FastifyRequest): Done | undefined => {
    const done = (request.query as { done?: unknown } | undefined)?.done;
    return typeof done === 'string' ? DONE[done] : undefined;
  };
  /** What every governance page needs: header navigation, breadcrumbs, the ICS. */
  const base = (s: IcsStructure, title: string, crumbs: Crumb[] = []): Record<string, unknown> => {
    const home = `/ics/${encodeURIComponent(s.ics.code)}`;
    return {
      title,
      nav: navigation(s.ics.code),
      crumbs: [{ href: '/', text: 'Home' }, { href: home, text: s.ics.name }, ...crumbs],
      ics: s.ics,
      home,
      governance: governanceHome(s.ics.code),
      publicHome: `/public/${encodeURIComponent(s.ics.code)}`,
    };
  };
  const governanceCrumb = (s: IcsStructure): Crumb => ({ href: governanceHome(s.ics.code), text: 'Governance' });
  const with422 = (fe: FormErrors | undefined): { errors: FormErrors['errors']; fieldErrors: FormErrors['fieldErrors'] } => fe ?? NO_ERRORS;

  // ---- the governance home page ---------------------------------------------------------------
  const homePage = async (reply: FastifyReply, code: string, bodyFilter: string | undefined, extra: Rerender = {}, status = 200): Promise<FastifyReply> => {
    const s = await load(code);
    const now = new Date();
    const filterErrors: FormErrors = { errors: [], fieldErrors: {} };
    if (bodyFilter !== undefined && !s.bodies.some((b) => b.id === bodyFilter)) {
      filterErrors.errors.push({ text: 'Choose a body from the list', href: '#filter-body' });
      filterErrors.fieldErrors['filter-body'] = 'Choose a body from the list';
    }
    const chosen = filterErrors.errors.length === 0 ? s.bodies.find((b) => b.id === bodyFilter) : undefined;
    const meetings = await listMeetings(ctx.db, s.ics.code, { bodyId: chosen?.id });
    const upcoming = meetings.filter((m) => (m.endsAt ?? m.startsAt) >= now && m.status !== 'held');
    const upcomingIds = new Set(upcoming.map((m) => m.id));
    const past = meetings.filter((m) => !upcomingIds.has(m.id)).reverse();
    const recent = chosen ? past : past.slice(0, RECENT_MEETINGS);
    const rows = async (ms: (Meeting & { bodyName: string })[]): Promise<MeetingRow[]> => {
      const out: MeetingRow[] = [];
      for (const m of ms) out.push(meetingRow(s, m, await loadMeeting(ctx.db, s.ics.code, m.id, 'staff')));
      return out;
    };
    const fe = extra.formErrors ?? filterErrors;
    return send(
      reply,
      'staff/home.njk',
      {
        ...base(s, chosen ? `Governance: ${chosen.name}` : 'Governance'),
        crumbsCurrent: 'Governance',
        chosen,
        filterOptions: [{ value: '', text: 'All bodies' }, ...bodyOptions(s)],
        bodyOptions: [{ value: '', text: 'Choose a body' }, ...bodyOptions(s)],
        filterValue: bodyFilter,
        upcoming: await rows(upcoming),
        recent: await rows(recent),
        olderCount: past.length - recent.length,
        form: extra.form,
        values: extra.values ?? {},
        errors: fe.errors,
        fieldErrors: fe.fieldErrors,
        done: extra.done,
      },
      status !== 200 ? status : filterErrors.errors.length > 0 ? 422 : 200,
    );
  };

  app.get<{ Params: IcsParams; Querystring: Form }>('/ics/:ics/governance', hidden, async (request, reply) =>
    homePage(reply, request.params.ics, field(request.query, 'body'), { done: flash(request) }),
  );

  app.post<{ Params: IcsParams; Body: Form }>('/ics/:ics/governance/meetings', hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['bodyId', 'title', 'startsAt', 'endsAt', 'venue', 'onlineUrl']);
    let meetingId: string;
    try {
      meetingId = await scheduleMeeting(
        ctx.db,
        code,
        { bodyId: values.bodyId ?? '', title: values.title, startsAt: values.startsAt ?? '', endsAt: values.endsAt, venue: values.venue, onlineUrl: values.onlineUrl },
        ANONYMOUS_ACTOR,
      );
    } catch (error) {
      const problems = problemsOf(error, 'bodyId');
      if (!problems) throw error;
      const fe = formErrors(problems, ids('schedule', []), values, {
        bodyId: 'Choose the body that is meeting',
        startsAt: 'Enter when the meeting starts, for example 2026-12-03T10:00',
      });
      return homePage(reply, code, undefined, { form: 'schedule', values, formErrors: fe }, 422);
    }
    return reply.redirect(`${meetingHref(code, meetingId)}?done=scheduled`, 303);
  });

  // ---- one meeting --------------------------------------------------------------------------------
  const meetingPage = async (reply: FastifyReply, code: string, meetingId: string, extra: Rerender = {}, status = 200): Promise<FastifyReply> => {
    const s = await load(code);
    const record = await loadMeeting(ctx.db, s.ics.code, meetingId, 'staff');
    const { meeting } = record;
    const body = s.bodies.find((b) => b.id === meeting.bodyId);
    if (!body) throw new NotFoundError(`Body ${meeting.bodyId}`);
    const onDate = meetingDate(meeting);
    const now = new Date();
    const apiBase = `/api/ics/${encodeURIComponent(s.ics.code)}/governance`;
    const bodyMeetings = await listMeetings(ctx.db, s.ics.code, { bodyId: body.id });
    const titles = new Map(bodyMeetings.map((m) => [m.id, m.title]));

    // Who sits on the body on the meeting date, and who is recorded.
    const roleOrder = Object.keys(ROLES);
    const memberships = s.memberships
      .filter((m) => m.bodyId === body.id && isCurrent(m, onDate))
      .sort((a, b) => roleOrder.indexOf(a.role) - roleOrder.indexOf(b.role) || personName(s, a.personId).localeCompare(personName(s, b.personId)));
    const memberIds = new Set<string>();
    const members = memberships
      .filter((m) => !memberIds.has(m.personId) && memberIds.add(m.personId))
      .map((m) => ({ personId: m.personId, name: personName(s, m.personId), role: ROLES[m.role], voting: m.voting }));
    const statusOf = new Map(record.attendance.map((a) => [a.personId, a.status]));
    const others = record.attendance
      .filter((a) => !memberIds.has(a.personId))
      .map((a) => ({ personId: a.personId, name: personName(s, a.personId), status: a.status }))
      .sort(byName);
    const q = record.attendance.length > 0 ? quorum(s, body, record.attendance, onDate) : null;
    const voters = votingMembers(s, body, onDate);
    const present = members.filter((m) => voters.has(m.personId) && statusOf.get(m.personId) === 'present');
    const attendees = new Set([...memberIds, ...record.attendance.filter((a) => a.status === 'present' || a.status === 'in_attendance').map((a) => a.personId)]);

    // The agenda, with papers, decisions and the authority check for each item.
    const flags = conflicts(s, body, record.items, record.attendance, record.interests, record.declarations, onDate);
    const positionOf = new Map(record.items.map((i) => [i.id, i.position]));
    const paperIndex = new Map(record.papers.map((p, index) => [p.id, index + 1]));
    const items = record.items.map((i) => {
      const decision = record.decisions.find((d) => d.agendaItemId === i.id);
      const excluded = record.declarations.filter((d) => d.agendaItemId === i.id && d.handling !== 'noted').map((d) => d.personId);
      return {
        id: i.id,
        position: i.position,
        part: i.part,
        title: i.title,
        purpose: i.purpose,
        privateReason: i.privateReason,
        presenter: i.presenter,
        description: i.description,
        concerns: i.concerns.map((c) => orgName(s, c)),
        functionName: i.functionId ? (s.functions.find((f) => f.id === i.functionId)?.name ?? i.functionId) : null,
        authority: authority(s, body, i.functionId, onDate),
        papers: record.papers
          .filter((p) => p.agendaItemId === i.id)
          .map((p) => {
            const versions = [...p.versions].sort((a, b) => b.version - a.version);
            return {
              id: p.id,
              index: paperIndex.get(p.id) ?? 0,
              title: p.title,
              published: versions.some((v) => v.publishedAt !== null),
              latestPublished: versions[0]?.publishedAt !== null,
              versions: versions.map((v) => ({
                version: v.version,
                format: v.format === 'pdf' ? 'PDF' : 'Markdown',
                size: fileSize(v.sizeBytes),
                uploadedAt: v.uploadedAt,
                publishedAt: v.publishedAt,
                reason: v.changeReason,
                href: `${apiBase}/papers/${encodeURIComponent(p.id)}/versions/${v.version}`,
              })),
            };
          }),
        decision: decision ? decisionView(s, decision) : null,
        voters: present.filter((m) => !excluded.includes(m.personId)),
        notVoting: present.filter((m) => excluded.includes(m.personId)),
      };
    });

    const minutes = record.minutes;
    const later = bodyMeetings.filter((m) => m.startsAt > meeting.startsAt && m.status !== 'cancelled');
    const fe = with422(extra.formErrors);
    return send(
      reply,
      'staff/meeting.njk',
      {
        ...base(s, meeting.title, [governanceCrumb(s)]),
        meeting: {
          ...meeting,
          when: meetingWhen(meeting.startsAt, meeting.endsAt),
          statusLabel: MEETING_STATUSES[meeting.status],
          statusColour: STATUS_COLOURS[meeting.status],
          started: meeting.startsAt <= now,
          titleNamesBody: meeting.title.toLowerCase().includes(body.name.toLowerCase()),
          upcoming: meeting.startsAt > now,
          date: londonDate(meeting.startsAt),
        },
        body: { id: body.id, name: body.name, kind: BODY_KINDS[body.kind], quorum: body.quorum, href: `/ics/${encodeURIComponent(s.ics.code)}/bodies/${encodeURIComponent(body.id)}` },
        publicHref: `/public/${encodeURIComponent(s.ics.code)}/meetings/${encodeURIComponent(meeting.id)}`,
        items,
        decisionItems: items.filter((i) => i.purpose === 'decision'),
        flags: flags.map((f) => ({ ...f, position: positionOf.get(f.agendaItemId) ?? null, handlingLabel: f.handling ? HANDLING[f.handling] : null })),
        members,
        others,
        quorum: q,
        attendanceRecorded: record.attendance.length > 0,
        statusOf: Object.fromEntries(statusOf),
        addableOptions: [{ value: '', text: 'Nobody else' }, ...peopleOptions(s).filter((p) => !memberIds.has(p.value) && !statusOf.has(p.value))],
        declarations: record.declarations
          .map((d) => ({ name: personName(s, d.personId), position: positionOf.get(d.agendaItemId) ?? 0, item: record.items.find((i) => i.id === d.agendaItemId)?.title ?? '', description: d.description, handling: HANDLING[d.handling] }))
          .sort((a, b) => a.position - b.position || a.name.localeCompare(b.name)),
        itemOptions: [{ value: '', text: 'Choose an item' }, ...record.items.map((i) => ({ value: i.id, text: `${i.position}. ${i.title}` }))],
        attendeeOptions: [{ value: '', text: 'Choose a person' }, ...peopleOptions(s).filter((p) => attendees.has(p.value))],
        interestOptions: [
          { value: '', text: 'Not on the register' },
          ...record.interests.filter((i) => attendees.has(i.personId)).map((i) => ({ value: i.id, text: `${personName(s, i.personId)}: ${i.description}` })).sort((a, b) => a.text.localeCompare(b.text)),
        ],
        ownerOptions: [{ value: '', text: 'Choose a person' }, ...peopleOptions(s)],
        functionOptions: [{ value: '', text: 'None' }, ...[...s.functions].sort(byName).map((f) => ({ value: f.id, text: f.name }))],
        organisations: organisationChoices(s),
        actionsRaised: record.actionsRaised.map((a) => actionView(s, s.ics.code, a, titles)),
        actionsCarried: record.actionsCarried.filter((a) => a.meetingId !== meeting.id).map((a) => actionView(s, s.ics.code, a, titles)),
        minutes: minutes
          ? {
              status: minutes.status,
              statusLabel: MINUTES_STATUSES[minutes.status],
              content: minutes.content,
              html: renderMarkdown(minutes.content, 2),
              draftedAt: minutes.draftedAt,
              approvedAt: minutes.approvedAtMeeting ? { title: titles.get(minutes.approvedAtMeeting) ?? minutes.approvedAtMeeting, href: meetingHref(s.ics.code, minutes.approvedAtMeeting) } : null,
              publishedAt: minutes.publishedAt,
            }
          : null,
        laterOptions: [{ value: '', text: 'Choose a meeting' }, ...later.map((m) => ({ value: m.id, text: `${m.title} (${meetingWhen(m.startsAt, null)})` }))],
        maxMb: MB,
        form: extra.form,
        values: extra.values ?? {},
        errors: fe.errors,
        fieldErrors: fe.fieldErrors,
        done: extra.done,
      },
      status,
    );
  };

  const back = (reply: FastifyReply, code: string, meetingId: string, done: string): FastifyReply => reply.redirect(`${meetingHref(code, meetingId)}?done=${done}`, 303);

  app.get<{ Params: MeetingParams }>('/ics/:ics/governance/meetings/:meetingId', hidden, async (request, reply) =>
    meetingPage(reply, request.params.ics, request.params.meetingId, { done: flash(request) }),
  );

  /**
   * A POST about one meeting: runs the command, redirects back with the banner, or shows the
   * page again with the problems. `ids` names the field id of each problem's field.
   */
  const meetingForm = async (
    request: FastifyRequest<{ Params: MeetingParams }>,
    reply: FastifyReply,
    form: { name: string; values: Values; idOf: (field: string) => string; blank?: Record<string, string>; fallback: string; done: string },
    run: (code: string) => Promise<unknown>,
  ): Promise<FastifyReply> => {
    const code = request.params.ics.toUpperCase();
    try {
      await run(code);
    } catch (error) {
      const problems = problemsOf(error, form.fallback);
      if (!problems) throw error;
      const fe = formErrors(problems, form.idOf, form.values, form.blank);
      return meetingPage(reply, code, request.params.meetingId, { form: form.name, values: form.values, formErrors: fe }, 422);
    }
    return back(reply, code, request.params.meetingId, form.done);
  };

  app.post<{ Params: MeetingParams; Body: Form }>('/ics/:ics/governance/meetings/:meetingId/status', hidden, async (request, reply) => {
    const values = fields(request.body, ['status']);
    return meetingForm(request, reply, { name: 'status', values, idOf: ids('status', ['status']), blank: { status: 'Choose the status of the meeting' }, fallback: 'status', done: 'status-changed' }, (code) =>
      setMeetingStatus(ctx.db, code, request.params.meetingId, values.status ?? '', ANONYMOUS_ACTOR),
    );
  });

  app.post<{ Params: MeetingParams; Body: Form }>('/ics/:ics/governance/meetings/:meetingId/items', hidden, async (request, reply) => {
    const values: Values = { ...fields(request.body, ['part', 'title', 'purpose', 'privateReason', 'presenter', 'description', 'functionId']), concerns: list(request.body, 'concerns') };
    const str = (name: string): string | undefined => values[name] as string | undefined;
    return meetingForm(
      request,
      reply,
      {
        name: 'item',
        values,
        idOf: ids('item', ['part', 'title', 'purpose', 'privateReason', 'presenter', 'description', 'concerns', 'functionId'], {}, 'item-title'),
        blank: { part: 'Choose whether the item is taken in public or in private', title: 'Enter the title of the item', purpose: 'Choose what the item is for', privateReason: 'Say why the public must be excluded for this item' },
        fallback: 'title',
        done: 'item-added',
      },
      (code) =>
        addAgendaItem(
          ctx.db,
          code,
          request.params.meetingId,
          {
            part: str('part') ?? '',
            title: str('title') ?? '',
            purpose: str('purpose') ?? '',
            privateReason: str('privateReason'),
            presenter: str('presenter'),
            description: str('description'),
            concerns: values.concerns as string[],
            functionId: str('functionId'),
          },
          ANONYMOUS_ACTOR,
        ),
    );
  });

  /** The uploaded file of a multipart form, or the problem with it, named on `file`. */
  const fileOf = (request: FastifyRequest): { file?: Upload; problem?: FieldProblem } => {
    const upload = uploadOf(request);
    if (!upload || (upload.bytes.length === 0 && upload.filename === '')) return { problem: { field: 'file', message: 'Choose a PDF or Markdown (.md) file to upload' } };
    if (upload.tooLarge) return { problem: { field: 'file', message: `The file must be smaller than ${MB} MB` } };
    return { file: { filename: upload.filename, bytes: upload.bytes } };
  };

  app.post<{ Params: MeetingParams & { itemId: string }; Body: Form }>('/ics/:ics/governance/meetings/:meetingId/items/:itemId/papers', hidden, async (request, reply) => {
    const values = fields(request.body, ['title']);
    const position = (await loadMeeting(ctx.db, request.params.ics.toUpperCase(), request.params.meetingId, 'staff')).items.find((i) => i.id === request.params.itemId)?.position;
    if (position === undefined) throw new NotFoundError(`Agenda item ${request.params.itemId}`);
    const name = `paper-${position}`;
    const { file, problem } = fileOf(request);
    return meetingForm(
      request,
      reply,
      { name, values, idOf: ids(name, ['title', 'file'], {}, `${name}-file`), blank: { title: 'Enter the title of the paper' }, fallback: 'file', done: 'paper-uploaded' },
      async (code) => {
        if (!file) {
          // Say everything at once: the file's problem, and the title's if it is missing too.
          throw new ValidationError([...(values.title ? [] : [{ field: 'title', message: 'Enter the title of the paper' }]), ...(problem ? [problem] : [])]);
        }
        return addPaper(ctx.db, code, request.params.itemId, { title: values.title ?? '', file }, ANONYMOUS_ACTOR);
      },
    );
  });

  /** The paper's number on the meeting page (its form ids); not found unless it belongs to the meeting. */
  const paperOn = async (code: string, meetingId: string, paperId: string): Promise<{ index: number }> => {
    const record = await loadMeeting(ctx.db, code, meetingId, 'staff');
    const index = record.papers.findIndex((p) => p.id === paperId);
    const paper = record.papers[index];
    if (!paper) throw new NotFoundError(`Paper ${paperId}`);
    return { index: index + 1 };
  };

  app.post<{ Params: MeetingParams & { paperId: string }; Body: Form }>('/ics/:ics/governance/meetings/:meetingId/papers/:paperId/versions', hidden, async (request, reply) => {
    const values = fields(request.body, ['reason']);
    const { index } = await paperOn(request.params.ics.toUpperCase(), request.params.meetingId, request.params.paperId);
    const name = `version-${index}`;
    const { file, problem } = fileOf(request);
    return meetingForm(request, reply, { name, values, idOf: ids(name, ['file', 'reason'], {}, `${name}-file`), fallback: 'file', done: 'version-uploaded' }, async (code) => {
      if (!file) throw new ValidationError(problem ? [problem] : []);
      return addPaperVersion(ctx.db, code, request.params.paperId, { file, reason: values.reason }, ANONYMOUS_ACTOR);
    });
  });

  app.post<{ Params: MeetingParams & { paperId: string } }>('/ics/:ics/governance/meetings/:meetingId/papers/:paperId/publish', hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    await paperOn(code, request.params.meetingId, request.params.paperId);
    await publishPaper(ctx.db, code, request.params.paperId, ANONYMOUS_ACTOR);
    return back(reply, code, request.params.meetingId, 'paper-published');
  });

  app.post<{ Params: MeetingParams; Body: Form }>('/ics/:ics/governance/meetings/:meetingId/attendance', hidden, async (request, reply) => {
    const body = request.body;
    const entries: { personId: string; status: string }[] = [];
    const values: Values = {};
    for (const name of Object.keys(body)) {
      if (!name.startsWith('att-')) continue;
      const status = field(body, name);
      if (status === undefined) continue;
      values[name] = status;
      entries.push({ personId: name.slice(4), status });
    }
    const added = field(body, 'addPersonId');
    values.addPersonId = added;
    const addedIndex = added !== undefined && !entries.some((e) => e.personId === added) ? entries.push({ personId: added, status: 'in_attendance' }) - 1 : -1;
    // The first radio of the form, for a problem with the attendance as a whole.
    const firstId = field(body, 'first') ?? 'attendance-add';
    const idOf = (name: string): string => {
      const match = /^attendance\.(\d+)\./.exec(name);
      const index = match ? Number(match[1]) : -1;
      const entry = entries[index];
      if (!entry) return firstId;
      return index === addedIndex ? 'attendance-add' : `att-${entry.personId}`;
    };
    return meetingForm(
      request,
      reply,
      { name: 'attendance', values, idOf, blank: { attendance: 'Choose present, apologies or absent for at least one member' }, fallback: 'attendance', done: 'attendance-recorded' },
      (code) => recordAttendance(ctx.db, code, request.params.meetingId, entries, ANONYMOUS_ACTOR),
    );
  });

  app.post<{ Params: MeetingParams; Body: Form }>('/ics/:ics/governance/meetings/:meetingId/declarations', hidden, async (request, reply) => {
    const values = fields(request.body, ['agendaItemId', 'personId', 'interestId', 'description', 'handling']);
    return meetingForm(
      request,
      reply,
      {
        name: 'declaration',
        values,
        idOf: ids('declaration', ['agendaItemId', 'personId', 'interestId', 'description', 'handling'], {}, 'declaration-agendaItemId'),
        blank: {
          agendaItemId: 'Choose the item the interest was declared on',
          personId: 'Choose who declared the interest',
          description: 'Choose their registered interest, or describe the interest declared',
          handling: 'Choose how the interest was handled',
        },
        fallback: 'personId',
        done: 'declaration-recorded',
      },
      (code) =>
        recordDeclaration(
          ctx.db,
          code,
          request.params.meetingId,
          { agendaItemId: values.agendaItemId ?? '', personId: values.personId ?? '', interestId: values.interestId, description: values.description, handling: values.handling ?? '' },
          ANONYMOUS_ACTOR,
        ),
    );
  });

  app.post<{ Params: MeetingParams & { itemId: string }; Body: Form }>('/ics/:ics/governance/meetings/:meetingId/items/:itemId/decision', hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const record = await loadMeeting(ctx.db, code, request.params.meetingId, 'staff');
    const item = record.items.find((i) => i.id === request.params.itemId);
    if (!item) throw new NotFoundError(`Agenda item ${request.params.itemId}`);
    const name = `decision-${item.position}`;
    const values: Values = fields(request.body, ['title', 'text', 'method', 'outcome', 'topic']);
    const votes: { personId: string; vote: string }[] = [];
    for (const key of Object.keys(request.body)) {
      if (!key.startsWith('vote-')) continue;
      const vote = field(request.body, key);
      values[key] = vote;
      if (vote !== undefined && vote !== 'none' && values.method === 'vote') votes.push({ personId: key.slice(5), vote });
    }
    const idOf = (fieldName: string): string => {
      const match = /^votes\.(\d+)\./.exec(fieldName);
      const vote = match ? votes[Number(match[1])] : undefined;
      if (vote) return `${name}-vote-${vote.personId}`;
      if (fieldName === 'votes') return `${name}-votes`;
      if (fieldName === 'quorum') return `${name}-quorum`;
      return ['title', 'text', 'method', 'outcome', 'topic'].includes(fieldName) ? `${name}-${fieldName}` : `${name}-title`;
    };
    const str = (key: string): string | undefined => values[key] as string | undefined;
    return meetingForm(
      request,
      reply,
      {
        name,
        values,
        idOf,
        blank: { title: 'Give the decision a short title', text: 'Write what was decided', method: 'Choose how the decision was taken', outcome: 'Choose the outcome' },
        fallback: 'title',
        done: 'decision-recorded',
      },
      (c) =>
        recordDecision(
          ctx.db,
          c,
          request.params.meetingId,
          { agendaItemId: item.id, title: str('title') ?? '', text: str('text') ?? '', method: str('method') ?? '', outcome: str('outcome') ?? '', topic: str('topic'), votes },
          ANONYMOUS_ACTOR,
        ),
    );
  });

  app.post<{ Params: MeetingParams; Body: Form }>('/ics/:ics/governance/meetings/:meetingId/actions', hidden, async (request, reply) => {
    const values = fields(request.body, ['description', 'ownerPersonId', 'dueDate', 'agendaItemId']);
    return meetingForm(
      request,
      reply,
      {
        name: 'action',
        values,
        idOf: ids('action', ['description', 'ownerPersonId', 'dueDate', 'agendaItemId'], {}, 'action-description'),
        blank: { description: 'Describe the action', ownerPersonId: 'Choose who owns the action', dueDate: 'Enter the date the action is due, for example 2026-12-31' },
        fallback: 'description',
        done: 'action-added',
      },
      (code) =>
        addAction(ctx.db, code, request.params.meetingId, { description: values.description ?? '', ownerPersonId: values.ownerPersonId ?? '', dueDate: values.dueDate ?? '', agendaItemId: values.agendaItemId }, ANONYMOUS_ACTOR),
    );
  });

  app.post<{ Params: MeetingParams & { actionId: string }; Body: Form }>('/ics/:ics/governance/meetings/:meetingId/actions/:actionId/close', hidden, async (request, reply) => {
    const note = field(request.body, 'note');
    const name = `close-${request.params.actionId}`;
    return meetingForm(
      request,
      reply,
      { name, values: { note }, idOf: () => `${name}-note`, blank: { note: 'Say how the action was completed' }, fallback: 'note', done: 'action-closed' },
      (code) => closeAction(ctx.db, code, request.params.actionId, { meetingId: request.params.meetingId, note: note ?? '' }, ANONYMOUS_ACTOR),
    );
  });

  app.post<{ Params: MeetingParams; Body: Form }>('/ics/:ics/governance/meetings/:meetingId/minutes', hidden, async (request, reply) => {
    // The text as written: Markdown cares about leading spaces, so only blank text counts as empty.
    const raw = request.body.content;
    const content = typeof raw === 'string' && raw.trim() !== '' ? raw.replace(/\r\n/g, '\n') : undefined;
    return meetingForm(
      request,
      reply,
      { name: 'minutes', values: { content }, idOf: () => 'minutes-content', blank: { content: 'Write the minutes' }, fallback: 'content', done: 'minutes-saved' },
      (code) => saveMinutesDraft(ctx.db, code, request.params.meetingId, content ?? '', ANONYMOUS_ACTOR),
    );
  });

  app.post<{ Params: MeetingParams; Body: Form }>('/ics/:ics/governance/meetings/:meetingId/minutes/approve', hidden, async (request, reply) => {
    const values = fields(request.body, ['atMeetingId']);
    return meetingForm(
      request,
      reply,
      { name: 'approve', values, idOf: () => 'approve-atMeetingId', blank: { atMeetingId: 'Choose the meeting that approved the minutes' }, fallback: 'atMeetingId', done: 'minutes-approved' },
      async (code) => {
        if (!values.atMeetingId) throw ValidationError.field('atMeetingId', 'Choose the meeting that approved the minutes');
        return approveMinutes(ctx.db, code, request.params.meetingId, values.atMeetingId, ANONYMOUS_ACTOR);
      },
    );
  });

  app.post<{ Params: MeetingParams }>('/ics/:ics/governance/meetings/:meetingId/minutes/publish', hidden, async (request, reply) =>
    meetingForm(request, reply, { name: 'publish-minutes', values: {}, idOf: () => 'publish-minutes', fallback: 'status', done: 'minutes-published' }, (code) =>
      publishMinutes(ctx.db, code, request.params.meetingId, ANONYMOUS_ACTOR),
    ),
  );

  // ---- registers of interests and of gifts and hospitality ---------------------------------------
  const interestsPage = async (reply: FastifyReply, code: string, extra: Rerender = {}, status = 200): Promise<FastifyReply> => {
    const s = await load(code);
    const asOf = today();
    const [interests, gifts] = await Promise.all([registerOfInterests(ctx.db, s.ics.code), registerOfGifts(ctx.db, s.ics.code)]);
    const rows = interests.map((i) => ({
      name: personName(s, i.personId),
      kind: INTEREST_KINDS[i.kind],
      description: i.description,
      organisations: i.orgCodes.map((c) => orgName(s, c)),
      startDate: i.startDate,
      endDate: i.endDate,
      declaredOn: i.declaredOn,
      current: isCurrent({ startDate: i.startDate.slice(0, 10), endDate: i.endDate?.slice(0, 10) ?? null }, asOf),
    }));
    const fe = with422(extra.formErrors);
    return send(
      reply,
      'staff/interests.njk',
      {
        ...base(s, 'Registers of interests, gifts and hospitality', [governanceCrumb(s)]),
        current: rows.filter((r) => r.current).sort(byName),
        ended: rows.filter((r) => !r.current).sort(byName),
        gifts: gifts.map((g) => ({ name: personName(s, g.personId), kind: g.kind === 'gift' ? 'Gift' : 'Hospitality', description: g.description, offeredBy: g.offeredBy, value: poundsAndPence(g.valuePounds), offeredOn: g.offeredOn, accepted: g.accepted })),
        personOptions: [{ value: '', text: 'Choose a person' }, ...peopleOptions(s)],
        organisations: organisationChoices(s),
        form: extra.form,
        values: extra.values ?? {},
        errors: fe.errors,
        fieldErrors: fe.fieldErrors,
        done: extra.done,
      },
      status,
    );
  };

  app.get<{ Params: IcsParams }>('/ics/:ics/governance/interests', hidden, async (request, reply) => interestsPage(reply, request.params.ics, { done: flash(request) }));

  app.post<{ Params: IcsParams; Body: Form }>('/ics/:ics/governance/interests', hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values: Values = { ...fields(request.body, ['personId', 'kind', 'description', 'startDate', 'endDate']), orgCodes: list(request.body, 'orgCodes') };
    const str = (key: string): string | undefined => values[key] as string | undefined;
    try {
      await addInterest(
        ctx.db,
        code,
        { personId: str('personId') ?? '', kind: str('kind') ?? '', description: str('description') ?? '', orgCodes: values.orgCodes as string[], startDate: str('startDate') ?? '', endDate: str('endDate') },
        ANONYMOUS_ACTOR,
      );
    } catch (error) {
      const problems = problemsOf(error, 'personId');
      if (!problems) throw error;
      const fe = formErrors(problems, ids('interest', ['personId', 'kind', 'description', 'orgCodes', 'startDate', 'endDate'], { declaredOn: 'interest-startDate' }, 'interest-personId'), values, {
        personId: 'Choose whose interest it is',
        kind: 'Choose the kind of interest',
        description: 'Describe the interest',
        startDate: 'Enter the date the interest began, for example 2025-04-01',
      });
      return interestsPage(reply, code, { form: 'interest', values, formErrors: fe }, 422);
    }
    return reply.redirect(`${governanceHome(code)}/interests?done=interest-added`, 303);
  });

  app.post<{ Params: IcsParams; Body: Form }>('/ics/:ics/governance/gifts', hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['personId', 'kind', 'description', 'offeredBy', 'valuePounds', 'offeredOn', 'accepted']);
    const blank: Record<string, string> = {
      personId: 'Choose who was offered it',
      kind: 'Choose gift or hospitality',
      description: 'Describe the gift or hospitality',
      offeredBy: 'Say who offered it',
      valuePounds: 'Enter its value in pounds, for example 25 or 12.50',
      offeredOn: 'Enter the date it was offered, for example 2026-03-12',
      accepted: 'Choose whether it was accepted or declined',
    };
    const idOf = ids('gift', Object.keys(blank), {}, 'gift-personId');
    try {
      if (values.accepted !== 'yes' && values.accepted !== 'no') {
        // The command takes accepted as true or false, so a missing answer is caught here, with any other blank field.
        const missing = Object.keys(blank).filter((k) => values[k] === undefined || (k === 'accepted' && values.accepted !== 'yes' && values.accepted !== 'no'));
        throw new ValidationError(missing.map((k) => ({ field: k, message: blank[k] ?? '' })));
      }
      await addGift(
        ctx.db,
        code,
        {
          personId: values.personId ?? '',
          kind: values.kind ?? '',
          description: values.description ?? '',
          offeredBy: values.offeredBy ?? '',
          valuePounds: pounds(values.valuePounds),
          offeredOn: values.offeredOn ?? '',
          accepted: values.accepted === 'yes',
        },
        ANONYMOUS_ACTOR,
      );
    } catch (error) {
      const problems = problemsOf(error, 'personId');
      if (!problems) throw error;
      return interestsPage(reply, code, { form: 'gift', values, formErrors: formErrors(problems, idOf, values, blank) }, 422);
    }
    return reply.redirect(`${governanceHome(code)}/interests?done=gift-added`, 303);
  });

  // ---- public involvement ----------------------------------------------------------------------------
  const involvementPage = async (reply: FastifyReply, code: string, extra: Rerender = {}, status = 200): Promise<FastifyReply> => {
    const s = await load(code);
    const [involvement, decisions] = await Promise.all([listInvolvement(ctx.db, s.ics.code, 'staff'), searchDecisions(ctx.db, s.ics.code, {}, 'staff')]);
    const kinds = Object.keys(ORGANISATION_KINDS) as OrganisationKind[];
    const fe = with422(extra.formErrors);
    return send(
      reply,
      'staff/involvement.njk',
      {
        ...base(s, 'Public involvement', [governanceCrumb(s)]),
        entries: involvement.map((v) => ({
          id: v.id,
          kind: INVOLVEMENT_KINDS[v.kind],
          title: v.title,
          summary: v.summary,
          heldOn: v.heldOn,
          participants: v.participants,
          organisation: v.orgCode ? orgName(s, v.orgCode) : null,
          url: v.url !== null && /^https?:\/\/[^\s"<>]+$/i.test(v.url) ? v.url : null,
          decisions: v.decisions,
        })),
        involvementOptions: [{ value: '', text: 'Choose the involvement' }, ...involvement.map((v) => ({ value: v.id, text: `${v.title} (${formatDate(v.heldOn)})` }))],
        decisionOptions: [{ value: '', text: 'Choose the decision' }, ...decisions.map((d) => ({ value: d.id, text: `${d.title} (${d.bodyName}, ${formatDate(londonDate(d.decidedAt))})` }))],
        orgOptions: [
          { value: '', text: 'None' },
          ...[...s.organisations.values()]
            .filter((o) => !PRIMARY_CARE.includes(o.kind))
            .sort((a, b) => kinds.indexOf(a.kind) - kinds.indexOf(b.kind) || a.name.localeCompare(b.name))
            .map((o) => ({ value: o.code, text: o.name })),
        ],
        form: extra.form,
        values: extra.values ?? {},
        errors: fe.errors,
        fieldErrors: fe.fieldErrors,
        done: extra.done,
      },
      status,
    );
  };

  app.get<{ Params: IcsParams }>('/ics/:ics/governance/involvement', hidden, async (request, reply) => involvementPage(reply, request.params.ics, { done: flash(request) }));

  app.post<{ Params: IcsParams; Body: Form }>('/ics/:ics/governance/involvement', hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['kind', 'title', 'summary', 'heldOn', 'participants', 'orgCode', 'url']);
    try {
      await addInvolvement(
        ctx.db,
        code,
        { kind: values.kind ?? '', title: values.title ?? '', summary: values.summary ?? '', heldOn: values.heldOn ?? '', participants: count(values.participants), orgCode: values.orgCode, url: values.url },
        ANONYMOUS_ACTOR,
      );
    } catch (error) {
      const problems = problemsOf(error, 'title');
      if (!problems) throw error;
      const fe = formErrors(problems, ids('involvement', ['kind', 'title', 'summary', 'heldOn', 'participants', 'orgCode', 'url'], {}, 'involvement-title'), values, {
        kind: 'Choose the kind of involvement',
        title: 'Give the involvement a title',
        summary: 'Summarise what people said',
        heldOn: 'Enter the date it took place, for example 2026-03-12',
      });
      return involvementPage(reply, code, { form: 'involvement', values, formErrors: fe }, 422);
    }
    return reply.redirect(`${governanceHome(code)}/involvement?done=involvement-added`, 303);
  });

  app.post<{ Params: IcsParams; Body: Form }>('/ics/:ics/governance/involvement/links', hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['involvementId', 'decisionId', 'howUsed']);
    try {
      await linkInvolvement(ctx.db, code, values.involvementId ?? '', values.decisionId ?? '', values.howUsed ?? '', ANONYMOUS_ACTOR);
    } catch (error) {
      const problems = problemsOf(error, 'decisionId');
      if (!problems) throw error;
      const fe = formErrors(problems, ids('link', ['involvementId', 'decisionId', 'howUsed'], {}, 'link-decisionId'), values, {
        involvementId: 'Choose the involvement that informed the decision',
        decisionId: 'Choose the decision it informed',
        howUsed: 'Say how people’s views shaped the decision',
      });
      return involvementPage(reply, code, { form: 'link', values, formErrors: fe }, 422);
    }
    return reply.redirect(`${governanceHome(code)}/involvement?done=involvement-linked`, 303);
  });
}
