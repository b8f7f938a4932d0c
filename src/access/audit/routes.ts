/**
 * Reading the audit trail over HTTP:
 *
 *   GET  /api/access/audit                          privacy officers: AuditEvents by resident, user and time (JSON, paged)
 *   GET  /my/record/access-log                      a citizen: who has looked at my record
 *   GET  /access/privacy                            privacy officers: break-glass to review, unusual access
 *   GET  /access/privacy/break-glass/:id            one break-glass grant, with the review form
 *   POST /access/privacy/break-glass/:id            the review (kept on the grant, and itself audited)
 *
 * The AuditEvents are served from the trail's own table, never written to the FHIR store (that
 * would audit the audit). Reading the trail is itself recorded ("Audit Log Used").
 */
import { fileURLToPath } from 'node:url';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../app.js';
import { type FieldProblem, UserError, ValidationError } from '../../core/errors.js';
import { errorResponseSchema } from '../../core/http/errors.js';
import { renderVegaLite } from '../../web/chart.js';
import { registerRoleTask } from '../../web/navigation.js';
import { HTML, pageErrorHandler, SHARED_ERROR_PAGES } from '../../web/page-errors.js';
import { createRenderer } from '../../web/render.js';
import type { AccessContext } from '../context.js';
import { type UnusualAccessConfig, loadUnusualAccessConfig } from './config.js';
import { requireRole } from './guard.js';
import { MAX_NOTE, type BreakGlassGrant, accessLogOf, breakGlassGrant, breakGlassGrants, organisationNames, reviewBreakGlass, searchAuditEvents } from './queries.js';
import { recordAccess } from './trail.js';
import { type DailyAccesses, type UnusualAccess, agentNames, dailyAccesses, unusualAccess } from './unusual.js';
import { ROLE_WORDS, describeEvent } from './words.js';

const VIEWS = fileURLToPath(new URL('./views', import.meta.url));
const hidden = { schema: { hide: true } } as const;
const PER_PAGE = 20;
const FHIR_ID = '^[A-Za-z0-9\\-.]{1,64}$';
const DATE_OR_INSTANT = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2}))?$';

export interface AuditRoutesOptions {
  /** Thresholds of unusual-access detection; from the environment by default. */
  unusual?: UnusualAccessConfig;
  /** Today's date in the UK (YYYY-MM-DD); tests pass one in. */
  today?: () => string;
}

/** Today's date as the clock in England shows it. */
export function todayInEngland(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

function addDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** "2026-03-01" → the start of that day in UK time; a full instant as given. */
function instant(value: string, field: string, endOfDay = false): Date {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${endOfDay ? addDays(value, 1) : value}T00:00:00Z`) : new Date(value);
  if (Number.isNaN(date.getTime())) throw ValidationError.field(field, 'must be a date (YYYY-MM-DD) or an instant');
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    // Midnight in London, not in UTC: shift by the UK offset of that day.
    const offset = londonOffsetMinutes(date);
    return new Date(date.getTime() - offset * 60_000);
  }
  return date;
}

function londonOffsetMinutes(at: Date): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', timeZoneName: 'shortOffset' }).formatToParts(at);
  const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /GMT([+-]\d+)(?::(\d+))?/.exec(name);
  return match ? Number(match[1]) * 60 + Math.sign(Number(match[1])) * Number(match[2] ?? 0) : 0;
}

function patientsOf(events: readonly { event: AuditEvent }[]): string[] {
  const ids = new Set<string>();
  for (const { event } of events) for (const e of event.entity ?? []) if (e.role?.code === '1' && e.what?.reference?.startsWith('Patient/')) ids.add(e.what.reference.slice(8));
  return [...ids];
}

/** Records that someone read the audit trail; a failure fails the request (closed). */
async function auditRead(ctx: AppContext, request: FastifyRequest, access: AccessContext, what: string, patients: string[]): Promise<void> {
  await recordAccess(ctx.db, { context: access, action: 'audit-read', outcome: 'success', patients, what, at: new Date(), network: request.ip });
}

export async function registerAuditRoutes(app: FastifyInstance, ctx: AppContext, options: AuditRoutesOptions = {}): Promise<void> {
  registerRoleTask({ href: '/my/record/access-log', text: 'Who has looked at your record', description: 'Every time someone looked at or changed your health and care record, who it was and why.', roles: ['citizen'] });
  registerRoleTask({ href: '/access/privacy', text: 'Access to residents’ records', description: 'Emergency (break-glass) access to review, and unusual patterns of access.', roles: ['privacy_officer'] });
  const unusualConfig = options.unusual ?? loadUnusualAccessConfig();
  const today = options.today ?? todayInEngland;
  registerAuditApi(app, ctx);
  const render = createRenderer([VIEWS]);
  await app.register(async (scope) => {
    scope.setErrorHandler(pageErrorHandler(render, SHARED_ERROR_PAGES));
    const send = (reply: FastifyReply, template: string, context: Record<string, unknown>, status = 200): FastifyReply => reply.status(status).type(HTML).send(render(template, context));
    registerCitizenPage(scope, ctx, send);
    registerPrivacyPages(scope, ctx, send, unusualConfig, today);
  });
}

// ---- the JSON API ----------------------------------------------------------------------------

interface AuditQuery {
  patient?: string;
  agent?: string;
  from?: string;
  to?: string;
  before?: string;
  _count?: string;
}

function registerAuditApi(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Querystring: AuditQuery }>(
    '/api/access/audit',
    {
      schema: {
        tags: ['access'],
        summary: 'The audit trail: who looked at which resident’s record, when and why (privacy officers only)',
        description:
          'FHIR R4 AuditEvents from the tamper-evident audit trail, newest first. Filter by resident (a FHIR Patient id), by user or client id, and by time (dates are UK days; `to` is inclusive). Page with `next`. Reading the trail is itself recorded.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            patient: { type: 'string', pattern: FHIR_ID, description: 'A FHIR Patient id' },
            agent: { type: 'string', minLength: 1, maxLength: 200, description: 'A user or client id' },
            from: { type: 'string', pattern: DATE_OR_INSTANT, description: 'From this date (YYYY-MM-DD, UK) or instant' },
            to: { type: 'string', pattern: DATE_OR_INSTANT, description: 'To this date (inclusive) or instant (exclusive)' },
            before: { type: 'string', pattern: '^[1-9][0-9]{0,15}$', description: 'Only events numbered below this (the next page)' },
            _count: { type: 'string', pattern: '^([1-9]|[1-9][0-9]|1[0-9][0-9]|200)$', description: 'Events per page, 1 to 200 (50 by default)' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              events: { type: 'array', items: { type: 'object', additionalProperties: true } },
              next: { type: ['string', 'null'] },
            },
          },
          401: errorResponseSchema,
          403: errorResponseSchema,
          422: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const access = requireRole(request, ['privacy_officer']);
      const q = request.query;
      const from = q.from ? instant(q.from, 'querystring.from') : undefined;
      const to = q.to ? instant(q.to, 'querystring.to', true) : undefined;
      const count = q._count ? Number(q._count) : 50;
      const page = await searchAuditEvents(ctx.db, { patient: q.patient, agent: q.agent, from, to, before: q.before ? Number(q.before) : undefined, count });
      await auditRead(ctx, request, access, `AuditEvent?${Object.keys(q).sort().join(',')}`, patientsOf(page.events));
      let next: string | null = null;
      if (page.next !== undefined) {
        const params = new URLSearchParams(Object.entries(q).filter(([k, v]) => k !== 'before' && typeof v === 'string') as [string, string][]);
        params.set('before', String(page.next));
        next = `/api/access/audit?${params.toString()}`;
      }
      return { events: page.events.map((e) => e.event), next };
    },
  );
}

// ---- the citizen's access log ----------------------------------------------------------------

type Send = (reply: FastifyReply, template: string, context: Record<string, unknown>, status?: number) => FastifyReply;

function registerCitizenPage(app: FastifyInstance, ctx: AppContext, send: Send): void {
  app.get<{ Querystring: { page?: string } }>('/my/record/access-log', hidden, async (request, reply) => {
    const access = requireRole(request, ['citizen']);
    const page = request.query.page === undefined ? 1 : /^[1-9]\d{0,5}$/.test(request.query.page) ? Number(request.query.page) : Number.NaN;
    if (Number.isNaN(page)) throw new UserError(404, 'That page of your access log');
    const patients = access.ownPatients ?? [];
    const { events, total } = await accessLogOf(ctx.db, patients, access.subject, page, PER_PAGE);
    const pages = Math.max(1, Math.ceil(total / PER_PAGE));
    if (page > pages) throw new UserError(404, 'That page of your access log');
    const organisations = await organisationNames(ctx.db, events.flatMap(({ event }) => organisationsOf(event)));
    await auditRead(ctx, request, access, '/my/record/access-log', patients);
    const rows = events.map(({ sequence, event }) => describeEvent(sequence, event, organisations, access.subject));
    return send(reply, 'access-log.njk', {
      title: 'Who has looked at your record',
      crumbs: [{ href: '/', text: 'Home' }],
      rows,
      total,
      page,
      pages,
      hasRecord: patients.length > 0,
      previousUrl: page > 1 ? `/my/record/access-log?page=${page - 1}` : undefined,
      nextUrl: page < pages ? `/my/record/access-log?page=${page + 1}` : undefined,
      first: (page - 1) * PER_PAGE + 1,
      last: (page - 1) * PER_PAGE + rows.length,
    });
  });
}

function organisationsOf(event: AuditEvent): string[] {
  return event.agent.flatMap((a) => (a.type?.coding?.[0]?.code === 'PROV' && a.who?.identifier?.value ? [a.who.identifier.value] : []));
}

// ---- the privacy officer's pages -------------------------------------------------------------

const RULE_WORDS: Record<UnusualAccess['rule'], string> = {
  'break-glass': 'Many records opened by break glass',
  'above-norm': 'Far more records than usual for their organisation',
  night: 'Many records looked at during the night',
};

interface ChartSeries {
  wide: string;
  narrow: string;
  days: string[];
  users: { name: string; counts: number[] }[];
}

async function dailyChart(daily: DailyAccesses[], names: ReadonlyMap<string, string>, flagged: ReadonlySet<string>, window: { from: string; to: string }): Promise<ChartSeries | undefined> {
  if (daily.length === 0) return undefined;
  const totals = new Map<string, number>();
  for (const d of daily) totals.set(d.agent, (totals.get(d.agent) ?? 0) + d.residents);
  // Flagged users first, then the busiest, eight at most: a chart of every user would be unreadable.
  const shown = [...totals.keys()].sort((a, b) => Number(flagged.has(b)) - Number(flagged.has(a)) || (totals.get(b) ?? 0) - (totals.get(a) ?? 0) || a.localeCompare(b)).slice(0, 8);
  const days: string[] = [];
  for (let day = window.from; day <= window.to; day = addDays(day, 1)) days.push(day);
  const label = (agent: string): string => names.get(agent) ?? agent;
  const counts = new Map(daily.map((d) => [`${d.agent} ${d.day}`, d.residents]));
  const users = shown.map((agent) => ({ name: label(agent), counts: days.map((day) => counts.get(`${agent} ${day}`) ?? 0) }));
  const values = users.flatMap((u) => u.counts.map((value, i) => ({ day: days[i], user: u.name, value })));
  const description = `Residents’ records opened each day from ${window.from} to ${window.to}, for ${users.length} user${users.length === 1 ? '' : 's'}`;
  const spec = (width: number): Record<string, unknown> => ({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width,
    height: 240,
    data: { values },
    mark: { type: 'line', point: { filled: true, size: 36 }, strokeWidth: 2.5 },
    encoding: {
      x: { field: 'day', type: 'ordinal', sort: days, title: 'Day', axis: { labelAngle: -60, labelFontSize: width < 300 ? 10 : 12, labelExpr: "utcFormat(toDate(datum.value + 'T00:00:00Z'), '%-d %b')" } },
      y: { field: 'value', type: 'quantitative', title: 'Residents’ records opened', axis: { format: ',.0f', tickMinStep: 1 } },
      color: {
        field: 'user',
        type: 'nominal',
        title: 'User',
        sort: users.map((u) => u.name),
        scale: { range: ['#005eb8', '#d5281b', '#007f3b', '#7c2855', '#003087', '#ed8b00', '#330072', '#768692'] },
        legend: { orient: 'bottom', direction: 'vertical', columns: width < 300 ? 1 : 2, labelLimit: 260 },
      },
      tooltip: [
        { field: 'user', type: 'nominal', title: 'User' },
        { field: 'day', type: 'ordinal', title: 'Day' },
        { field: 'value', type: 'quantitative', title: 'Residents' },
      ],
    },
    config: { font: 'Frutiger W01, Arial, sans-serif', axis: { labelColor: '#212b32', titleColor: '#212b32', labelFontSize: 12, titleFontSize: 14 }, legend: { labelFontSize: 13, titleFontSize: 14 }, view: { stroke: null } },
  });
  const [wide, narrow] = await Promise.all([renderVegaLite(spec(620), description), renderVegaLite(spec(260), description)]);
  return { wide, narrow, days, users };
}

/** A grant as the pages show it. */
function grantWords(g: BreakGlassGrant, organisations: ReadonlyMap<string, string>, names: ReadonlyMap<string, string>): Record<string, unknown> {
  return {
    ...g,
    role: [ROLE_WORDS[g.role] ?? g.role, organisations.get(g.organisation) ?? g.organisation].join(', '),
    reviewerName: g.review ? names.get(g.review.reviewer) ?? g.review.reviewer : undefined,
  };
}

function registerPrivacyPages(app: FastifyInstance, ctx: AppContext, send: Send, config: UnusualAccessConfig, today: () => string): void {
  const crumbs = [{ href: '/', text: 'Home' }];

  app.get<{ Querystring: { to?: string; reviewed?: string } }>('/access/privacy', hidden, async (request, reply) => {
    const access = requireRole(request, ['privacy_officer']);
    const to = request.query.to && /^\d{4}-\d{2}-\d{2}$/.test(request.query.to) && !Number.isNaN(Date.parse(request.query.to)) ? request.query.to : today();
    const window = { from: addDays(to, -(config.windowDays - 1)), to };
    const [grants, unusual, daily] = await Promise.all([breakGlassGrants(ctx.db), unusualAccess(ctx.db, window, config), dailyAccesses(ctx.db, window)]);
    const allGrants = [...grants.pending, ...grants.reviewed];
    const agents = new Set([...unusual.map((u) => u.agent), ...daily.map((d) => d.agent), ...grants.reviewed.flatMap((g) => (g.review ? [g.review.reviewer] : []))]);
    const [names, organisations] = await Promise.all([
      agentNames(ctx.db, agents),
      organisationNames(ctx.db, [...allGrants.map((g) => g.organisation), ...unusual.flatMap((u) => (u.organisation ? [u.organisation] : []))]),
    ]);
    const chart = await dailyChart(daily, names, new Set(unusual.map((u) => u.agent)), window);
    await auditRead(ctx, request, access, '/access/privacy', []);
    const reviewed = request.query.reviewed && /^[A-Za-z0-9\-.]{1,64}$/.test(request.query.reviewed) ? request.query.reviewed : undefined;
    return send(reply, 'privacy.njk', {
      title: 'Access to residents’ records',
      crumbs,
      pending: grants.pending.map((g) => grantWords(g, organisations, names)),
      reviewed: grants.reviewed.map((g) => grantWords(g, organisations, names)),
      unusual: unusual.map((u) => ({
        ...u,
        name: names.get(u.agent) ?? u.agent,
        roleWords: [u.role ? ROLE_WORDS[u.role] ?? u.role : undefined, u.organisation ? organisations.get(u.organisation) ?? u.organisation : undefined].filter(Boolean).join(', '),
        ruleWords: RULE_WORDS[u.rule],
        normText: u.norm === undefined ? '' : u.norm.toLocaleString('en-GB', { maximumFractionDigits: 1 }),
      })),
      chart,
      window,
      config,
      normFactorText: config.normFactor.toLocaleString('en-GB', { maximumFractionDigits: 1 }),
      flash: reviewed !== undefined ? 'Review recorded.' : undefined,
    });
  });

  const idOf = (raw: string): string => {
    if (!/^[A-Za-z0-9\-.]{1,64}$/.test(raw)) throw new UserError(404, 'That break-glass access');
    return raw;
  };

  const reviewPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    access: AccessContext,
    id: string,
    extra: { values?: Record<string, string>; problems?: FieldProblem[] } = {},
    status = 200,
  ): Promise<FastifyReply> => {
    const found = await breakGlassGrant(ctx.db, id);
    const [organisations, names] = await Promise.all([organisationNames(ctx.db, [found.organisation]), agentNames(ctx.db, found.review ? [found.review.reviewer] : [])]);
    await auditRead(ctx, request, access, `break-glass/${id}`, [found.patientId]);
    const ids: Record<string, string> = { verdict: 'review-verdict', note: 'review-note' };
    const problems = extra.problems ?? [];
    return send(
      reply,
      'break-glass.njk',
      {
        title: 'Review a break-glass access',
        crumbs: [...crumbs, { href: '/access/privacy', text: 'Access to residents’ records' }],
        grant: grantWords(found, organisations, names),
        values: extra.values ?? {},
        errors: problems.map((p) => ({ text: p.message, href: `#${ids[p.field] ?? p.field}` })),
        fieldErrors: Object.fromEntries(problems.map((p) => [p.field, p.message])),
        maxNote: MAX_NOTE,
      },
      status,
    );
  };

  app.get<{ Params: { id: string } }>('/access/privacy/break-glass/:id', hidden, async (request, reply) => {
    const access = requireRole(request, ['privacy_officer']);
    return reviewPage(request, reply, access, idOf(request.params.id));
  });

  app.post<{ Params: { id: string }; Body: Record<string, unknown> | undefined }>('/access/privacy/break-glass/:id', hidden, async (request, reply) => {
    const access = requireRole(request, ['privacy_officer']);
    const id = idOf(request.params.id);
    const body = request.body ?? {};
    const text = (name: string): string | undefined => (typeof body[name] === 'string' ? body[name] : undefined);
    const values = { verdict: text('verdict') ?? '', note: text('note') ?? '' };
    try {
      await reviewBreakGlass(ctx.db, id, { verdict: text('verdict'), note: text('note') }, access, request.ip);
    } catch (error) {
      if (error instanceof ValidationError) return reviewPage(request, reply, access, id, { values, problems: error.problems }, 422);
      throw error;
    }
    return reply.redirect(`/access/privacy?reviewed=${encodeURIComponent(id)}`, 303);
  });
}
