/**
 * The web pages of the ICS structure module: server-rendered in the NHS design system from the
 * same read models as the JSON API (views.ts, functions-map.ts, rules.ts), so the page and the
 * API never disagree.
 *
 * Edits are plain HTML forms that POST and redirect (post/redirect/get). Input is checked by the
 * commands, not by JSON schemas, so a mistake comes back as the page itself with the NHS error
 * summary and a message on each field (status 422), keeping what the user typed. A page that
 * names something the ICS does not hold answers with an NHS "Page not found" page.
 */
import { HTML, pageErrorHandler } from '../web/page-errors.js';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app.js';
import { type FieldProblem, NotFoundError, ValidationError } from '../core/errors.js';
import { type NavItem, icsNavigation, registerIcsSection } from '../web/navigation.js';
import { responsiveBarChart } from '../web/chart.js';
import { createRenderer } from '../web/render.js';
import { ANONYMOUS_ACTOR } from './api.js';
import { addBodyOrganisation, addMember, appointClinicalDirector, delegateFunction, endMembership, removeBodyOrganisation, updateBody } from './commands.js';
import { functionsMap } from './functions-map.js';
import {
  BODY_KINDS,
  type Body,
  type BodyKind,
  COLLABORATIVE_MODELS,
  COMMITTEE_TYPES,
  type IcsStructure,
  ORGANISATION_KINDS,
  type Organisation,
  type OrganisationKind,
  PLACE_FORMS,
  ROLES,
  SERVICES,
  isCurrent,
  today,
} from './model.js';
import { listIcs, loadStructure, recentChanges } from './repository.js';
import { type Breach, type Rule, RULES, type RulesReport, type Subject, checkRules } from './rules.js';
import { bodyView, icsSummary, pcnSummaries, placeSummaries, practiceSummaries, practiceSummary } from './views.js';

const VIEWS = fileURLToPath(new URL('./views', import.meta.url));
const hidden = { schema: { hide: true } } as const;

/** Labels the templates show instead of codes. */
const LABELS = {
  roles: ROLES,
  bodyKinds: BODY_KINDS,
  placeForms: PLACE_FORMS,
  models: COLLABORATIVE_MODELS,
  organisationKinds: ORGANISATION_KINDS,
  services: SERVICES,
  committeeTypes: COMMITTEE_TYPES,
};

/** Section headings: the kinds of body in the order people look for them. */
const BODY_GROUPS: { kind: BodyKind; heading: string }[] = [
  { kind: 'icb_board', heading: 'ICB board' },
  { kind: 'committee', heading: 'Committees of the ICB board' },
  { kind: 'icp', heading: 'Integrated care partnership' },
  { kind: 'place_partnership', heading: 'Place-based partnerships' },
  { kind: 'provider_collaborative', heading: 'Provider collaboratives' },
  { kind: 'clinical_network', heading: 'Clinical networks' },
];

/** Which rules of the rules check speak about a kind of body. */
const RULES_FOR_KIND: Record<BodyKind, Rule['concerns'][]> = {
  icb_board: ['icb_board', 'committee'],
  icp: ['icp'],
  committee: [],
  place_partnership: ['place_partnership'],
  provider_collaborative: ['provider_collaborative'],
  clinical_network: [],
};

/** Organisations that can lead: a place partnership's lead provider, a collaborative's lead provider. */
const PROVIDER_KINDS: OrganisationKind[] = ['nhs_trust', 'foundation_trust', 'gp_federation', 'independent_provider', 'social_care_provider', 'vcse'];

/** The success messages a redirect may ask for (`?done=`); anything else shows nothing. */
const DONE: Record<string, string> = {
  'member-added': 'Member added. The rules check on this page includes the change.',
  'term-ended': 'Term ended. The rules check on this page includes the change.',
  'organisation-added': 'Organisation added. The rules check on this page includes the change.',
  'organisation-removed': 'Organisation removed. The rules check on this page includes the change.',
  'settings-changed': 'Changes saved. The rules check on this page includes the change.',
  delegated: 'Function delegated. The map below includes the new delegation.',
  'clinical-director-appointed': 'Clinical director appointed.',
};

type Section = 'overview' | 'places' | 'bodies' | 'collaboratives' | 'rules' | 'functions';
type Crumb = { href: string; text: string };
type Values = Record<string, string | undefined>;
type Form = Record<string, unknown>;

interface FormErrors {
  /** For the error summary at the top of the page. */
  errors: { text: string; href: string }[];
  /** Message by field id, shown on the field. */
  fieldErrors: Record<string, string>;
}

const NO_ERRORS: FormErrors = { errors: [], fieldErrors: {} };

/** One value of an urlencoded form, trimmed; blank is undefined. */
function field(form: Form | undefined, name: string): string | undefined {
  const raw = form?.[name];
  const value = Array.isArray(raw) ? (raw[0] as unknown) : raw;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function fields(form: Form | undefined, names: string[]): Values {
  return Object.fromEntries(names.map((n) => [n, field(form, n)]));
}

/**
 * Turns the problems a command found into the error summary and field messages. Field ids are
 * `<form>-<field>`; `blank` holds plain-English messages for fields left empty (the commands'
 * messages also suit API clients, and may name codes).
 */
function formErrors(form: string, problems: FieldProblem[], values: Values, blank: Record<string, string> = {}, ids: Record<string, string> = {}): FormErrors {
  const result: FormErrors = { errors: [], fieldErrors: {} };
  for (const p of problems) {
    const id = ids[p.field] ?? `${form}-${p.field}`;
    const text = (values[p.field] === undefined ? blank[p.field] : undefined) ?? p.message;
    if (result.fieldErrors[id]) continue;
    result.fieldErrors[id] = text;
    result.errors.push({ text, href: `#${id}` });
  }
  return result;
}

const byName = <T extends { name: string }>(a: T, b: T): number => a.name.localeCompare(b.name);

function kindOrder(kind: OrganisationKind): number {
  return Object.keys(ORGANISATION_KINDS).indexOf(kind);
}

/** Organisations as select options, grouped by kind, each saying its kind. */
function organisationOptions(orgs: Organisation[]): { value: string; text: string }[] {
  return [...orgs]
    .sort((a, b) => kindOrder(a.kind) - kindOrder(b.kind) || a.name.localeCompare(b.name))
    .map((o) => ({ value: o.code, text: `${o.name} (${ORGANISATION_KINDS[o.kind]})` }));
}

// ---- charts ---------------------------------------------------------------------------------


export function subjectHref(icsCode: string, subject: Pick<Subject, 'kind' | 'id'>): string {
  const base = `/ics/${encodeURIComponent(icsCode)}`;
  const id = encodeURIComponent(subject.id);
  switch (subject.kind) {
    case 'ics':
      return base;
    case 'body':
      return `${base}/bodies/${id}`;
    case 'place':
      return `${base}/places/${id}`;
    case 'pcn':
      return `${base}/pcns/${id}`;
    case 'practice':
      return `${base}/practices/${id}`;
    case 'organisation':
      return `${base}/organisations#org-${id}`;
    case 'function':
      return `${base}/functions#function-${id}`;
  }
}

const SECTIONS: [Section, string, string, number][] = [
  ['overview', '', 'Overview', 10],
  ['places', '/places', 'Places', 20],
  ['bodies', '/bodies', 'Bodies', 30],
  ['collaboratives', '/collaboratives', 'Collaboratives', 40],
  ['rules', '/rules', 'Rules check', 50],
  ['functions', '/functions', 'Functions map', 60],
];

function navigation(code: string, section?: Section, exact = false): NavItem[] {
  return icsNavigation(code, section ? { key: section, exact } : undefined);
}

export async function registerStructurePages(app: FastifyInstance, ctx: AppContext): Promise<void> {
  for (const [key, path, text, order] of SECTIONS) registerIcsSection({ key, path, text, order });
  const render = createRenderer([VIEWS]);
  const send = (reply: FastifyReply, template: string, context: Record<string, unknown>, status = 200): FastifyReply =>
    reply.status(status).type(HTML).send(render(template, { labels: LABELS, ...context }));

  await app.register(async (scope) => {
    scope.setErrorHandler(pageErrorHandler(render, { notFound: 'not-found.njk', error: 'error.njk' }));
    scope.get('/', hidden, async (_request, reply) => {
      const icss = await listIcs(ctx.db);
      return send(reply, 'home.njk', { title: 'Integrated care systems', icss });
    });
  });

  await app.register(
    async (scope) => {
      scope.setErrorHandler(pageErrorHandler(render, { notFound: 'not-found.njk', error: 'error.njk' }));
      scope.setNotFoundHandler((request, reply) => {
        void reply.status(404).type(HTML).send(render('not-found.njk', { title: 'Page not found' }));
        request.log.debug({ path: request.url.split('?')[0] }, 'page not found');
      });
      registerIcsPages(scope, ctx, send);
    },
    { prefix: '/ics' },
  );
}


interface IcsParams {
  ics: string;
}
interface BodyParams extends IcsParams {
  bodyId: string;
}

function registerIcsPages(app: FastifyInstance, ctx: AppContext, send: (reply: FastifyReply, template: string, context: Record<string, unknown>, status?: number) => FastifyReply): void {
  const load = (code: string): Promise<IcsStructure> => loadStructure(ctx.db, code.toUpperCase());
  const flash = (request: FastifyRequest): string | undefined => {
    const done = (request.query as { done?: unknown }).done;
    return typeof done === 'string' ? DONE[done] : undefined;
  };
  /** What every page of one ICS needs: header navigation, breadcrumbs from the home page, the ICS. */
  const base = (s: IcsStructure, section: Section | undefined, exact: boolean, title: string, crumbs: Crumb[] = []): Record<string, unknown> => {
    const home = `/ics/${encodeURIComponent(s.ics.code)}`;
    const trail: Crumb[] = [{ href: '/', text: 'Home' }];
    if (!(section === 'overview' && exact)) trail.push({ href: home, text: s.ics.name });
    return { title, nav: navigation(s.ics.code, section, exact), crumbs: [...trail, ...crumbs], ics: s.ics, icb: s.icb, home, asOf: today() };
  };

  app.get('', hidden, async (_request, reply) => reply.redirect('/', 301));

  // ---- overview ----------------------------------------------------------------------------
  app.get<{ Params: IcsParams }>('/:ics', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const report = checkRules(s);
    const summary = icsSummary(s, report);
    const places = placeSummaries(s).sort((a, b) => b.registeredPatients - a.registeredPatients);
    const chart = await responsiveBarChart(
      places.map((p) => ({ label: p.name, value: p.registeredPatients, group: p.upperTierCouncil?.name ?? 'No council' })),
      { description: `Registered patients by place in ${s.ics.name}, coloured by upper-tier council`, valueTitle: 'Registered patients', labelTitle: 'Place', groupTitle: 'Upper-tier council', width: 520, narrowWidth: 180 },
    );
    const changes = await recentChanges(ctx.db, s.ics.code, 10);
    return send(reply, 'overview.njk', { ...base(s, 'overview', true, s.ics.name), summary, places, chart, changes, rules: RULES.length });
  });

  // ---- places, PCNs and practices -----------------------------------------------------------
  app.get<{ Params: IcsParams }>('/:ics/places', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    return send(reply, 'places.njk', { ...base(s, 'places', true, 'Places'), places: placeSummaries(s) });
  });

  app.get<{ Params: IcsParams & { placeId: string } }>('/:ics/places/:placeId', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const place = placeSummaries(s).find((p) => p.id === request.params.placeId);
    if (!place) throw new NotFoundError(`Place ${request.params.placeId}`);
    const asOf = today();
    const pcns = pcnSummaries(s, asOf, (placeId) => placeId === place.id);
    const practices = practiceSummaries(s, (p) => p.placeId === place.id);
    const chart =
      pcns.length > 0
        ? await responsiveBarChart(
            pcns.map((p) => ({ label: p.name, value: p.registeredPatients })),
            { description: `Registered patients by primary care network in ${place.name}`, valueTitle: 'Registered patients', labelTitle: '', width: 440, narrowWidth: 140 },
          )
        : null;
    const councils = [place.council, place.upperTierCouncil].filter((c, i, all): c is { code: string; name: string } => c !== null && all.findIndex((o) => o?.code === c.code) === i);
    return send(reply, 'place.njk', {
      ...base(s, 'places', false, place.name, [{ href: `/ics/${s.ics.code}/places`, text: 'Places' }]),
      place,
      councils,
      pcns,
      practices,
      chart,
    });
  });

  const pcnPage = async (reply: FastifyReply, code: string, pcnCode: string, extra: { values?: Values; formErrors?: FormErrors; flash?: string | undefined } = {}, status = 200): Promise<FastifyReply> => {
    const s = await load(code);
    const asOf = today();
    const pcn = pcnSummaries(s, asOf).find((p) => p.code === pcnCode);
    if (!pcn) throw new NotFoundError(`PCN ${pcnCode}`);
    const practices = practiceSummaries(s, (p) => p.pcnCode === pcn.code);
    const history = s.organisationRoles
      .filter((r) => r.orgCode === pcn.code && r.role === 'pcn_clinical_director')
      .map((r) => ({ name: s.people.get(r.personId)?.name ?? r.personId, startDate: r.startDate, endDate: r.endDate, current: isCurrent(r, asOf) }))
      .sort((a, b) => b.startDate.localeCompare(a.startDate));
    const crumbs: Crumb[] = [{ href: `/ics/${s.ics.code}/places`, text: 'Places' }];
    if (pcn.placeId && pcn.placeName) crumbs.push({ href: `/ics/${s.ics.code}/places/${encodeURIComponent(pcn.placeId)}`, text: pcn.placeName });
    const fe = extra.formErrors ?? NO_ERRORS;
    return send(
      reply,
      'pcn.njk',
      { ...base(s, 'places', false, pcn.name, crumbs), pcn, practices, history, values: extra.values ?? {}, errors: fe.errors, fieldErrors: fe.fieldErrors, flash: extra.flash, people: [...s.people.values()].sort(byName) },
      status,
    );
  };

  app.get<{ Params: IcsParams & { pcnCode: string } }>('/:ics/pcns/:pcnCode', hidden, async (request, reply) =>
    pcnPage(reply, request.params.ics, request.params.pcnCode, { flash: flash(request) }),
  );

  app.post<{ Params: IcsParams & { pcnCode: string }; Body: Form }>('/:ics/pcns/:pcnCode/clinical-director', hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['personId', 'personName', 'startDate']);
    try {
      await appointClinicalDirector(ctx.db, code, request.params.pcnCode, { personId: values.personId, personName: values.personName, startDate: values.startDate ?? '' }, ANONYMOUS_ACTOR);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const fe = formErrors('cd', error.problems, values, { personName: 'Enter the name of the clinical director, or choose an existing person', startDate: 'Enter the date the clinical director starts' });
      return pcnPage(reply, code, request.params.pcnCode, { values, formErrors: fe }, 422);
    }
    return reply.redirect(`/ics/${code}/pcns/${encodeURIComponent(request.params.pcnCode)}?done=clinical-director-appointed`, 303);
  });

  app.get<{ Params: IcsParams & { code: string } }>('/:ics/practices/:code', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const found = s.practices.find((p) => p.orgCode === request.params.code);
    if (!found) throw new NotFoundError(`Practice ${request.params.code}`);
    const practice = practiceSummary(s, found);
    const crumbs: Crumb[] = [{ href: `/ics/${s.ics.code}/places`, text: 'Places' }];
    if (practice.placeId && practice.placeName) crumbs.push({ href: `/ics/${s.ics.code}/places/${encodeURIComponent(practice.placeId)}`, text: practice.placeName });
    if (practice.pcnCode && practice.pcnName) crumbs.push({ href: `/ics/${s.ics.code}/pcns/${encodeURIComponent(practice.pcnCode)}`, text: practice.pcnName });
    return send(reply, 'practice.njk', { ...base(s, 'places', false, practice.name, crumbs), practice });
  });

  // ---- organisations ------------------------------------------------------------------------
  app.get<{ Params: IcsParams }>('/:ics/organisations', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const all = [...s.organisations.values()];
    const groups = (Object.keys(ORGANISATION_KINDS) as OrganisationKind[])
      .map((kind) => ({ kind, label: ORGANISATION_KINDS[kind], organisations: all.filter((o) => o.kind === kind).sort(byName) }))
      .filter((g) => g.organisations.length > 0);
    const pcns = new Set(s.pcns.map((p) => p.orgCode));
    const practices = new Set(s.practices.map((p) => p.orgCode));
    return send(reply, 'organisations.njk', { ...base(s, 'overview', false, 'Organisations'), groups, pcns: [...pcns], practices: [...practices] });
  });

  // ---- bodies -------------------------------------------------------------------------------
  app.get<{ Params: IcsParams }>('/:ics/bodies', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const asOf = today();
    const report = checkRules(s, asOf);
    const views = s.bodies.map((b) => bodyView(s, b, report, asOf));
    const groups = BODY_GROUPS.map((g) => ({
      ...g,
      bodies: views
        .filter((v) => v.kind === g.kind)
        .map((v) => ({ ...v, currentMembers: v.members.filter((m) => m.current).length }))
        .sort(byName),
    })).filter((g) => g.bodies.length > 0);
    return send(reply, 'bodies.njk', { ...base(s, 'bodies', true, 'Bodies'), groups });
  });

  app.get<{ Params: IcsParams }>('/:ics/collaboratives', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const asOf = today();
    const report = checkRules(s, asOf);
    const collaboratives = s.bodies
      .filter((b) => b.kind === 'provider_collaborative')
      .map((b) => {
        const v = bodyView(s, b, report, asOf);
        return { ...v, currentMembers: v.members.filter((m) => m.current) };
      })
      .sort(byName);
    const outside = report.breaches.filter((b) => b.ruleId === 'trust-in-provider-collaborative');
    return send(reply, 'collaboratives.njk', { ...base(s, 'collaboratives', true, 'Provider collaboratives'), collaboratives, outside, rule: RULES.find((r) => r.id === 'trust-in-provider-collaborative') });
  });

  /** The body page, also re-rendered (status 422) with the problems of a form the user sent. */
  const bodyPage = async (reply: FastifyReply, code: string, bodyId: string, extra: { form?: string; values?: Values; formErrors?: FormErrors; flash?: string | undefined } = {}, status = 200): Promise<FastifyReply> => {
    const s = await load(code);
    const body = s.bodies.find((b) => b.id === bodyId);
    if (!body) throw new NotFoundError(`Body ${bodyId}`);
    const asOf = today();
    const report = checkRules(s, asOf);
    const view = bodyView(s, body, report, asOf);
    const applicable = RULES.filter((r) => RULES_FOR_KIND[body.kind].includes(r.concerns));
    const memberOrgCodes = new Set(view.organisations.map((o) => o.code));
    const all = [...s.organisations.values()];
    const fe = extra.formErrors ?? NO_ERRORS;
    const crumbs: Crumb[] = [{ href: `/ics/${s.ics.code}/bodies`, text: 'Bodies' }];
    if (view.parent) crumbs.push({ href: `/ics/${s.ics.code}/bodies/${encodeURIComponent(view.parent.id)}`, text: view.parent.name });
    return send(
      reply,
      'body.njk',
      {
        ...base(s, body.kind === 'provider_collaborative' ? 'collaboratives' : 'bodies', false, view.name, crumbs),
        body: view,
        applicable,
        current: view.members.filter((m) => m.current),
        past: view.members.filter((m) => !m.current && m.endDate !== null && m.endDate < asOf),
        future: view.members.filter((m) => !m.current && m.startDate > asOf),
        people: [...s.people.values()].sort(byName),
        organisationOptions: organisationOptions(all),
        addableOrganisations: organisationOptions(all.filter((o) => !memberOrgCodes.has(o.code))),
        leadOptions: organisationOptions(all.filter((o) => PROVIDER_KINDS.includes(o.kind) || memberOrgCodes.has(o.code) || o.code === body.leadOrgCode)),
        form: extra.form,
        values: extra.values ?? {},
        errors: fe.errors,
        fieldErrors: fe.fieldErrors,
        flash: extra.flash,
      },
      status,
    );
  };

  app.get<{ Params: BodyParams }>('/:ics/bodies/:bodyId', hidden, async (request, reply) => bodyPage(reply, request.params.ics, request.params.bodyId, { flash: flash(request) }));

  const backToBody = (reply: FastifyReply, code: string, bodyId: string, done: string): FastifyReply =>
    reply.redirect(`/ics/${code}/bodies/${encodeURIComponent(bodyId)}?done=${done}`, 303);

  app.post<{ Params: BodyParams; Body: Form }>('/:ics/bodies/:bodyId/members', hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['personId', 'personName', 'role', 'orgCode', 'voting', 'startDate', 'endDate']);
    try {
      await addMember(
        ctx.db,
        code,
        request.params.bodyId,
        { personId: values.personId, personName: values.personName, role: values.role ?? '', orgCode: values.orgCode, voting: values.voting !== 'no', startDate: values.startDate ?? '', endDate: values.endDate },
        ANONYMOUS_ACTOR,
      );
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const fe = formErrors('member', error.problems, values, {
        personName: 'Enter the name of the member, or choose an existing person',
        role: 'Choose the role the member holds',
        startDate: 'Enter the date the term starts',
      });
      return bodyPage(reply, code, request.params.bodyId, { form: 'member', values, formErrors: fe }, 422);
    }
    return backToBody(reply, code, request.params.bodyId, 'member-added');
  });

  app.post<{ Params: BodyParams & { membershipId: string }; Body: Form }>('/:ics/bodies/:bodyId/members/:membershipId/end', hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const { membershipId } = request.params;
    const values = fields(request.body, ['endDate']);
    try {
      await endMembership(ctx.db, code, request.params.bodyId, membershipId, values.endDate ?? '', ANONYMOUS_ACTOR);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const fe = formErrors('end', error.problems, values, { endDate: 'Enter the date the term ends' }, { endDate: `end-${membershipId}` });
      return bodyPage(reply, code, request.params.bodyId, { form: `end-${membershipId}`, values: { [`end-${membershipId}`]: values.endDate }, formErrors: fe }, 422);
    }
    return backToBody(reply, code, request.params.bodyId, 'term-ended');
  });

  app.post<{ Params: BodyParams; Body: Form }>('/:ics/bodies/:bodyId/organisations', hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['orgCode']);
    try {
      await addBodyOrganisation(ctx.db, code, request.params.bodyId, values.orgCode ?? '', ANONYMOUS_ACTOR);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const fe = formErrors('organisation', error.problems, values, { orgCode: 'Choose the organisation to add' });
      return bodyPage(reply, code, request.params.bodyId, { form: 'organisation', values, formErrors: fe }, 422);
    }
    return backToBody(reply, code, request.params.bodyId, 'organisation-added');
  });

  app.post<{ Params: BodyParams & { code: string } }>('/:ics/bodies/:bodyId/organisations/:code/remove', hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    await removeBodyOrganisation(ctx.db, code, request.params.bodyId, request.params.code, ANONYMOUS_ACTOR);
    return backToBody(reply, code, request.params.bodyId, 'organisation-removed');
  });

  app.post<{ Params: BodyParams; Body: Form }>('/:ics/bodies/:bodyId/settings', hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['form', 'model', 'leadOrgCode']);
    const s = await load(code);
    const body: Body | undefined = s.bodies.find((b) => b.id === request.params.bodyId);
    if (!body) throw new NotFoundError(`Body ${request.params.bodyId}`);
    try {
      await updateBody(
        ctx.db,
        code,
        body.id,
        {
          ...(body.kind === 'place_partnership' ? { form: values.form ?? null } : {}),
          ...(body.kind === 'provider_collaborative' ? { model: values.model ?? null } : {}),
          leadOrgCode: values.leadOrgCode ?? null,
        },
        ANONYMOUS_ACTOR,
      );
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const fe = formErrors('settings', error.problems, values, {}, { body: 'settings-form' });
      return bodyPage(reply, code, body.id, { form: 'settings', values, formErrors: fe }, 422);
    }
    return backToBody(reply, code, body.id, 'settings-changed');
  });

  // ---- rules check --------------------------------------------------------------------------
  app.get<{ Params: IcsParams }>('/:ics/rules', hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const report: RulesReport = checkRules(s);
    const failing = report.rules.filter((r) => r.breaches.length > 0);
    const passing = report.rules.filter((r) => r.breaches.length === 0);
    const href = (b: Breach): string => subjectHref(s.ics.code, b.subject);
    return send(reply, 'rules.njk', {
      ...base(s, 'rules', true, 'Rules check'),
      report,
      failing: failing.map((r) => ({ ...r, breaches: r.breaches.map((b) => ({ ...b, href: href(b) })) })),
      passing,
    });
  });

  // ---- functions and decisions map -----------------------------------------------------------
  const functionsPage = async (reply: FastifyReply, code: string, extra: { values?: Values; formErrors?: FormErrors; flash?: string | undefined } = {}, status = 200): Promise<FastifyReply> => {
    const s = await load(code);
    const asOf = today();
    const map = functionsMap(s, asOf);
    const report = checkRules(s, asOf);
    const board = s.bodies.find((b) => b.kind === 'icb_board');
    const chartData = map
      .filter((f) => f.budgetPounds !== null)
      .map((f) => ({ label: f.name, value: f.budgetPounds ?? 0, group: f.delegations.some((d) => d.current) ? 'Delegated in part or in whole' : `Retained by the board` }));
    const chart = chartData.length > 0 ? await responsiveBarChart(chartData, { description: `Budget by function, 2025/26, in ${s.ics.name}`, valueTitle: 'Budget (pounds)', labelTitle: '', groupTitle: 'Delegation', width: 440, narrowWidth: 140 }) : null;
    const fe = extra.formErrors ?? NO_ERRORS;
    return send(
      reply,
      'functions.njk',
      {
        ...base(s, 'functions', true, 'Functions and decisions map'),
        functions: map.map((f) => ({
          ...f,
          breaches: report.breaches.filter((b) => b.subject.kind === 'function' && b.subject.id === f.id),
          delegations: f.delegations.map((d) => ({ ...d, href: d.delegateKind === 'body' ? subjectHref(s.ics.code, { kind: 'body', id: d.delegateId }) : null })),
        })),
        totals: { budget: map.reduce((t, f) => t + (f.budgetPounds ?? 0), 0), delegated: map.reduce((t, f) => t + f.delegatedPounds, 0) },
        board,
        chart,
        chartRows: chartData,
        delegateBodies: s.bodies.filter((b) => b.kind !== 'icp').sort(byName),
        people: [...s.people.values()].sort(byName),
        places: s.places,
        values: extra.values ?? {},
        errors: fe.errors,
        fieldErrors: fe.fieldErrors,
        flash: extra.flash,
      },
      status,
    );
  };

  app.get<{ Params: IcsParams }>('/:ics/functions', hidden, async (request, reply) => functionsPage(reply, request.params.ics, { flash: flash(request) }));

  app.post<{ Params: IcsParams; Body: Form }>('/:ics/functions/delegations', hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['functionId', 'toBodyId', 'toPersonId', 'placeId', 'budgetPounds', 'decisions', 'startDate', 'endDate']);
    const budget = values.budgetPounds === undefined ? undefined : Number(values.budgetPounds.replace(/[£,\s]/g, ''));
    try {
      await delegateFunction(
        ctx.db,
        code,
        {
          functionId: values.functionId ?? '',
          toBodyId: values.toBodyId,
          toPersonId: values.toPersonId,
          placeId: values.placeId,
          budgetPounds: budget,
          decisions: values.decisions ?? '',
          startDate: values.startDate ?? '',
          endDate: values.endDate,
        },
        ANONYMOUS_ACTOR,
      );
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const fe = formErrors('delegate', error.problems, values, {
        functionId: 'Choose the function to delegate',
        toBodyId: 'Choose the body or the person the function is delegated to',
        decisions: 'Enter what the delegate may decide',
        startDate: 'Enter the date the delegation starts',
      });
      return functionsPage(reply, code, { values, formErrors: fe }, 422);
    }
    return reply.redirect(`/ics/${code}/functions?done=delegated`, 303);
  });
}
