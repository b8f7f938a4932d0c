/**
 * The finance pages under /ics/:ics/finance, server-rendered in the NHS design system from the
 * same read models as the JSON API (views.ts), so a page and the API never disagree: the single
 * pot; allocation to places with need index, target and convergence charts and tables; the
 * drill-down from a place to its practices; the scenario editor and side-by-side comparison;
 * place definitions; the investment standards; the system position; the risk share; import and
 * export. Forms post and redirect; a mistake comes back as the page with status 422, the NHS
 * error summary and what the user typed.
 */
import fs from 'node:fs';
import { HTML, pageErrorHandler } from '../web/page-errors.js';
import { fileURLToPath } from 'node:url';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app.js';
import { type FieldProblem, NotFoundError, ValidationError } from '../core/errors.js';
import { DEMO_ICS } from '../structure/demo.js';
import type { IcsStructure } from '../structure/model.js';
import { loadStructure } from '../structure/repository.js';
import { type NavItem, icsNavigation, registerIcsSection } from '../web/navigation.js';
import { createRenderer } from '../web/render.js';
import { ANONYMOUS_ACTOR, MAX_IMPORT_BYTES, gridOf, placeDrillDown } from './api.js';
import { groupedBarChart, lineChart } from './charts.js';
import { assignPractices, createPlaceSet, deleteScenario, importDataset, positionOrganisations, renamePlace, saveAllocation, saveRiskShare, saveScenario, saveStandardLine, setPlaceBudgets, setStandardTarget, setSystemTarget } from './commands.js';
import { DATASETS, DATASET_KEYS, type Dataset } from './datasets.js';
import {
  COMPONENTS,
  CORE_PARTS,
  COMPONENT_LABELS,
  type CorePart,
  FITTED_CORE_WEIGHTS,
  NHSE_PMC_INEQUALITIES_SHARE,
  PLACE_SET_BASES,
  PLACE_STREAMS,
  PLACE_STREAM_KEYS,
  type PlaceStream,
  STANDARDS,
  STANDARD_CATEGORIES,
  STREAMS,
  type Scenario,
  type Standard,
  isPlaceStream,
  monthLabel,
  yearLabel,
} from './model.js';
import { defaultPolicy, getPlaceSet, listPlaceBudgets, listPlaceSets, listPolicies, structurePlaceSetId } from './repository.js';
import { UNASSIGNED, UNASSIGNED_NAME } from './scenario.js';
import { parseMoney } from './tabular.js';
import { type RiskShareView, type ScenarioView, findScenario, placeGroups, positionView, riskShareView, scenarioView, scenariosOrDefault, singlePot, standardsView } from './views.js';

const VIEWS = fileURLToPath(new URL('./views', import.meta.url));
const CSS = fileURLToPath(new URL('./static/finance.css', import.meta.url));
const hidden = { schema: { hide: true } } as const;

/** Column heads of the need index table, short enough for eleven columns. */
const SHORT_HEADS: Partial<Record<string, string>> = {
  ga: '<abbr title="General and acute">G&amp;A</abbr>',
  community: 'Commun&shy;ity',
  maternity: 'Mater&shy;nity',
  prescribing: 'Pre&shy;scribing',
  mentalHealth: 'Mental health',
  inequalities: 'Inequal&shy;ities',
  core: 'Overall core',
  pmc: '<abbr title="Primary medical care">PMC</abbr>',
};

type Section = 'pot' | 'places' | 'scenarios' | 'standards' | 'position' | 'risk' | 'data';
type Form = Record<string, unknown>;
type Values = Record<string, string | undefined>;
type Send = (reply: FastifyReply, template: string, context: Record<string, unknown>, status?: number) => FastifyReply;

interface FormErrors {
  errors: { text: string; href: string }[];
  fieldErrors: Record<string, string>;
}
const NO_ERRORS: FormErrors = { errors: [], fieldErrors: {} };

const DONE: Record<string, string> = {
  'allocation-saved': 'Allocation line saved.',
  'budgets-saved': 'Current place budgets saved. The targets and the convergence path below use them.',
  'scenario-saved': 'Scenario saved. The page below shows it worked through.',
  'scenario-deleted': 'Scenario removed.',
  'place-set-created': 'Place definitions made. Move practices between places below, then use them in a scenario.',
  'practices-moved': 'Practices moved. Every scenario that uses these place definitions now shows the change.',
  'place-renamed': 'Place renamed.',
  'line-saved': 'Spending line saved. The check above includes it.',
  'target-saved': 'Required growth saved. The check above uses it.',
  'risk-share-saved': 'Risk-share agreement saved. The shares below apply it to the forecast.',
  'system-target-saved': 'System target saved. The position above is measured against it.',
};

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

function formErrors(form: string, problems: FieldProblem[], ids: Record<string, string> = {}): FormErrors {
  const result: FormErrors = { errors: [], fieldErrors: {} };
  for (const p of problems) {
    const id = ids[p.field] ?? `${form}-${p.field.replaceAll('.', '-')}`;
    if (result.fieldErrors[id]) continue;
    result.fieldErrors[id] = p.message;
    result.errors.push({ text: p.message, href: `#${id}` });
  }
  return result;
}

/** Pounds typed in a form ("£1,234,567", "1.2m") to pence; undefined if blank; NaN if not money. */
function penceFrom(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const cell = parseMoney(text);
  return cell.ok ? cell.value : Number.NaN;
}

/** A percentage typed in a form ("3.5" or "3.5%") to a fraction; NaN if not a number. */
function percentFrom(text: string | undefined): number {
  if (text === undefined) return Number.NaN;
  const n = Number(text.replace(/%\s*$/, '').trim());
  return Number.isFinite(n) ? n / 100 : Number.NaN;
}

const percent = (x: number | null | undefined, digits = 1): string => (x === null || x === undefined ? '' : `${(x * 100).toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits })}%`);
const signedPercent = (x: number | null | undefined, digits = 1): string => (x === null || x === undefined ? '' : `${x > 0 ? '+' : x < 0 ? '−' : ''}${percent(Math.abs(x), digits)}`);
const pounds = (pence: number | null | undefined): string => (pence === null || pence === undefined ? '' : `${pence < 0 ? '−' : ''}£${Math.round(Math.abs(pence) / 100).toLocaleString('en-GB')}`);
const thousands = (pence: number): string => Math.round(pence / 100_000).toLocaleString('en-GB');
/** £000 with a true minus sign: "−8,850". */
const signedThousands = (pence: number): string => {
  const text = Math.round(Math.abs(pence) / 100_000).toLocaleString('en-GB');
  return pence < 0 && text !== '0' ? `−${text}` : text;
};
const millions = (pence: number | null | undefined): string => {
  if (pence === null || pence === undefined) return '';
  const text = (Math.abs(pence) / 1e8).toLocaleString('en-GB', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return `${pence < 0 && text !== '0.0' ? '−' : ''}£${text}m`;
};
/** "a surplus of £4.0m", "a deficit of £6.5m", "breakeven". */
const surplusWords = (pence: number): string => (Math.abs(pence) < 50_000 ? 'breakeven' : pence > 0 ? `a surplus of ${millions(pence)}` : `a deficit of ${millions(-pence)}`);
/** Against a target: "on target", "£1.2m better than the target", "£4.5m short of the target". */
const againstWords = (pence: number): string => (Math.abs(pence) < 50_000 ? 'on target' : pence > 0 ? `${millions(pence)} better than the target` : `${millions(-pence)} short of the target`);

/** The ICS header, with Finance marked: the finance overview is its own page, the rest are within it. */
function navigation(code: string, section: Section): NavItem[] {
  return icsNavigation(code, { key: 'finance', exact: section === 'pot' });
}

const SECTIONS: [Section, string, string][] = [
  ['pot', '', 'The single pot'],
  ['places', '/places', 'Allocation to places'],
  ['scenarios', '/scenarios', 'Scenarios'],
  ['standards', '/standards', 'Investment standards'],
  ['position', '/position', 'System position'],
  ['risk', '/risk-share', 'Risk share'],
  ['data', '/data', 'Import and export'],
];


interface IcsParams {
  ics: string;
}

export async function registerFinancePages(app: FastifyInstance, ctx: AppContext): Promise<void> {
  registerIcsSection({ key: 'finance', text: 'Finance', path: '/finance', order: 80 });
  const render = createRenderer([VIEWS]);
  const css = fs.readFileSync(CSS, 'utf8');
  app.get('/static/finance/finance.css', hidden, async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css));

  await app.register(async (scope) => {
    scope.setErrorHandler(pageErrorHandler(render, { notFound: 'finance-not-found.njk', error: 'finance-error.njk' }));
    // File uploads for imports: one file, kept in memory, up to the import limit.
    const uploads = new WeakMap<FastifyRequest, { filename: string; bytes: Buffer }>();
    await scope.register(fastifyMultipart, {
      attachFieldsToBody: 'keyValues',
      limits: { fileSize: MAX_IMPORT_BYTES, files: 1, fields: 10, parts: 12 },
      async onFile(part) {
        const bytes = await part.toBuffer();
        if (part.fieldname === 'file') uploads.set(this, { filename: part.filename || 'upload', bytes });
        (part as unknown as { value: string }).value = part.filename || 'upload';
      },
    });
    const send: Send = (reply, template, context, status = 200) => reply.status(status).type(HTML).send(render(template, context));
    registerRoutes(scope, ctx, send, uploads);
  });
}

function registerRoutes(app: FastifyInstance, ctx: AppContext, send: Send, uploads: WeakMap<FastifyRequest, { filename: string; bytes: Buffer }>): void {
  const load = (code: string): Promise<IcsStructure> => loadStructure(ctx.db, code.toUpperCase());
  const flash = (request: FastifyRequest): string | undefined => {
    const done = (request.query as { done?: unknown }).done;
    return typeof done === 'string' ? DONE[done] : undefined;
  };
  const queryYear = (request: FastifyRequest): number | undefined => {
    const y = (request.query as { year?: unknown }).year;
    if (y === undefined) return undefined;
    const n = typeof y === 'string' && /^\d{4}$/.test(y) ? Number(y) : Number.NaN;
    if (!(n >= 2000 && n <= 2100)) throw new NotFoundError('That financial year');
    return n;
  };
  const base = (s: IcsStructure, section: Section, title: string, crumbs: { href: string; text: string }[] = []): Record<string, unknown> => {
    const home = `/ics/${encodeURIComponent(s.ics.code)}`;
    const financeHome = `${home}/finance`;
    return {
      title,
      nav: navigation(s.ics.code, section),
      crumbs: [{ href: '/', text: 'Home' }, { href: home, text: s.ics.name }, ...(section === 'pot' && crumbs.length === 0 ? [] : [{ href: financeHome, text: 'Finance' }]), ...crumbs],
      ics: s.ics,
      icb: s.icb,
      home,
      financeHome,
      apiBase: `/api/ics/${encodeURIComponent(s.ics.code)}/finance`,
      section,
      sections: SECTIONS.map(([key, path, text]) => ({ key, href: `${financeHome}${path}`, text, current: key === section })),
      demo: s.ics.code === DEMO_ICS,
    };
  };
  const prefix = '/ics/:ics/finance';

  // ---- the single pot ---------------------------------------------------------------------------
  const potPage = async (reply: FastifyReply, code: string, year: number | undefined, extra: { values?: Values; formErrors?: FormErrors; flash?: string | undefined } = {}, status = 200): Promise<FastifyReply> => {
    const s = await load(code);
    const pot = await singlePot(ctx.db, s.ics.code, year);
    const [standards, position] = await Promise.all([standardsView(ctx.db, s.ics.code, pot.year), positionView(ctx.db, s.ics.code, pot.year, s)]);
    const fe = extra.formErrors ?? NO_ERRORS;
    return send(
      reply,
      'pot.njk',
      {
        ...base(s, 'pot', 'Finance: the single pot'),
        pot,
        yearLabel: yearLabel(pot.year),
        years: pot.years.map((y) => ({ value: y, text: yearLabel(y), selected: y === pot.year })),
        streams: pot.streams.map((st) => ({ ...st, totalText: pounds(st.total), perHeadText: pounds(st.perHead), growthText: signedPercent(st.growth), lines: st.lines.map((l) => ({ ...l, amountText: pounds(l.amount) })) })),
        totals: { revenue: pounds(pot.revenueTotal), revenuePerHead: pounds(pot.revenuePerHead), capital: pounds(pot.capitalTotal) },
        standards: standards.map((c) => ({ name: c.name, status: c.status, standard: c.standard })),
        position: position.position.month > 0 ? { month: position.position.monthLabel, forecast: surplusWords(position.position.totals.forecast.surplus) } : null,
        positionAgainstTarget: position.position.forecastAgainstTarget === null ? null : againstWords(position.position.forecastAgainstTarget),
        streamOptions: Object.entries(STREAMS).map(([value, text]) => ({ value, text })),
        values: extra.values ?? { year: String(pot.year) },
        errors: fe.errors,
        fieldErrors: fe.fieldErrors,
        flash: extra.flash,
      },
      status,
    );
  };

  app.get<{ Params: IcsParams }>(prefix, hidden, async (request, reply) => potPage(reply, request.params.ics, queryYear(request), { flash: flash(request) }));

  app.post<{ Params: IcsParams; Body: Form }>(`${prefix}/allocations`, hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['year', 'stream', 'name', 'amount', 'source', 'conditions', 'recurrent']);
    try {
      await saveAllocation(
        ctx.db,
        code,
        { year: Number(values.year), stream: values.stream ?? '', name: values.name ?? '', amount: penceFrom(values.amount) ?? Number.NaN, source: values.source ?? '', conditions: values.conditions ?? null, recurrent: values.recurrent !== 'no' },
        ANONYMOUS_ACTOR,
      );
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return potPage(reply, code, Number(values.year) || undefined, { values, formErrors: formErrors('allocation', error.problems) }, 422);
    }
    return reply.redirect(`/ics/${code}/finance?year=${values.year ?? ''}&done=allocation-saved#add-allocation`, 303);
  });

  // ---- allocation to places ---------------------------------------------------------------------
  const scenarioOptions = (scenarios: Scenario[], current: string): { value: string; text: string; selected: boolean }[] => scenarios.map((sc) => ({ value: sc.id, text: sc.name, selected: sc.id === current }));

  const placesPage = async (reply: FastifyReply, code: string, scenarioId: string | undefined, streamKey: string | undefined, extra: { values?: Values; formErrors?: FormErrors; flash?: string | undefined } = {}, status = 200): Promise<FastifyReply> => {
    const s = await load(code);
    const { scenarios, saved } = await scenariosOrDefault(ctx.db, s.ics.code);
    const scenario = await findScenario(ctx.db, s.ics.code, scenarioId);
    const view = await scenarioView(ctx.db, s.ics.code, scenario, s);
    const stream: PlaceStream = streamKey && isPlaceStream(streamKey) ? streamKey : 'core_services';
    const result = view.result.streams.find((st) => st.stream === stream);
    if (!result) throw new NotFoundError(`Stream ${stream}`);
    const places = view.result.need.places;
    const shown = COMPONENTS.filter((c) => c.key !== 'pmcNeed');
    const needChart = await groupedBarChart(
      places.filter((p) => p.key !== UNASSIGNED).flatMap((p) => shown.map((c) => ({ label: p.name, series: c.label, value: p.index[c.key] }))),
      { description: `Need index by place and component, relative to ${s.icb.name} (1.00), scenario ${scenario.name}`, valueTitle: 'Need index (ICB = 1.00)', seriesTitle: 'Component', format: '.2f', reference: 1, series: shown.map((c) => c.label), width: 560, narrowWidth: 190, step: 6 },
    );
    const hasCurrent = result.places.some((p) => p.current !== null);
    const targetChart =
      result.pot > 0
        ? await groupedBarChart(
            result.places.flatMap((p) => [...(p.current === null ? [] : [{ label: p.name, series: 'Current budget', value: p.current / 1e8 }]), { label: p.name, series: 'Target', value: p.target / 1e8 }]),
            { description: `${STREAMS[stream]}: target against current budget by place, £ millions, ${yearLabel(scenario.year)}`, valueTitle: '£ millions', seriesTitle: 'Budget', format: ',.0f', series: hasCurrent ? ['Current budget', 'Target'] : ['Target'], width: 560, narrowWidth: 190, step: 14 },
          )
        : null;
    const path = result.path;
    const yearLabels = path ? path.map((y) => yearLabel(scenario.year + y.offset)) : [];
    const pathChart = path
      ? await lineChart(
          path.flatMap((y) => result.places.map((p, i) => ({ x: yearLabel(scenario.year + y.offset), series: p.name, value: y.distance[i] ?? 0 }))),
          { description: `${STREAMS[stream]}: distance from target by place, year by year, under ${view.policy.name}`, xTitle: 'Financial year', valueTitle: 'Distance from target', seriesTitle: 'Place', format: '+.1%', xOrder: yearLabels, reference: 0, width: 560, narrowWidth: 220 },
        )
      : null;
    const budgets = await listPlaceBudgets(ctx.db, s.ics.code, scenario.year);
    const fe = extra.formErrors ?? NO_ERRORS;
    const placeHref = (key: string): string => `/ics/${s.ics.code}/finance/places/${encodeURIComponent(key)}?scenario=${encodeURIComponent(scenario.id)}`;
    return send(
      reply,
      'places.njk',
      {
        ...base(s, 'places', 'Allocation to places'),
        scenario,
        saved,
        scenarioOptions: scenarioOptions(scenarios, scenario.id),
        placeSet: view.placeSet,
        placeSetHref: view.placeSet.basis === 'structure' ? `/ics/${s.ics.code}/places` : `/ics/${s.ics.code}/finance/place-definitions/${encodeURIComponent(view.placeSet.id)}`,
        policy: view.policy,
        policyText: policyWords(view.policy),
        weightsText: weightsWords(scenario),
        yearLabel: yearLabel(scenario.year),
        stream,
        streamLabel: STREAMS[stream],
        streamTabs: PLACE_STREAM_KEYS.map((k) => ({ key: k, text: STREAMS[k], href: `?scenario=${encodeURIComponent(scenario.id)}&stream=${k}`, current: k === stream })),
        component: COMPONENT_LABELS[PLACE_STREAMS[stream]],
        pot: result.pot,
        potText: pounds(result.pot),
        potSource: result.potSource,
        components: shown.map((c) => ({ ...c, head: SHORT_HEADS[c.key] ?? c.label })),
        needRows: places.map((p) => ({ key: p.key, name: p.name, href: placeHref(p.key), unassigned: p.key === UNASSIGNED, practices: p.totals.practices, population: p.totals.population, index: p.index })),
        icbRow: { practices: view.result.need.icb.totals.practices, population: view.result.need.icb.totals.population, index: view.result.need.icb.index },
        needChart,
        targetChart,
        targetRows: result.places.map((p) => ({
          name: p.name,
          href: placeHref(p.key),
          weight: p.weight,
          share: percent(p.share, 2),
          target: pounds(p.target),
          current: pounds(p.current),
          perHead: p.current === null ? '' : pounds(Math.round(p.target / Math.max(1, places.find((x) => x.key === p.key)?.totals.population ?? 1))),
          distance: p.distance,
          distanceText: signedPercent(p.distance),
        })),
        hasCurrent,
        pathChart,
        pathNote: result.pathNote,
        yearLabels,
        pathRows: path
          ? result.places.map((p, i) => ({
              name: p.name,
              budgets: path.map((y) => thousands(y.budgets[i] ?? 0)),
              growth: path.map((y) => (y.offset === 0 ? '' : signedPercent(y.growth[i] ?? 0))),
              distance: path.map((y) => signedPercent(y.distance[i] ?? 0)),
            }))
          : [],
        pathTotals: path ? path.map((y) => thousands(y.total)) : [],
        unknownPractices: view.result.unknownPractices,
        budgetPlaces: s.places.map((p) => ({ id: p.id, name: p.name, amount: budgets.find((b) => b.placeId === p.id && b.stream === stream) })),
        values: extra.values ?? {},
        errors: fe.errors,
        fieldErrors: fe.fieldErrors,
        flash: extra.flash,
        exportBase: `/api/ics/${s.ics.code}/finance/scenarios/${encodeURIComponent(scenario.id)}/export`,
      },
      status,
    );
  };

  app.get<{ Params: IcsParams; Querystring: { scenario?: string; stream?: string } }>(`${prefix}/places`, hidden, async (request, reply) =>
    placesPage(reply, request.params.ics, typeof request.query.scenario === 'string' ? request.query.scenario : undefined, request.query.stream, { flash: flash(request) }),
  );

  app.post<{ Params: IcsParams; Body: Form }>(`${prefix}/budgets`, hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const s = await load(code);
    const values = fields(request.body, ['year', 'stream', 'scenario', ...s.places.map((p) => `budget-${p.id}`)]);
    const budgets = s.places.filter((p) => values[`budget-${p.id}`] !== undefined).map((p) => ({ placeId: p.id, amount: penceFrom(values[`budget-${p.id}`]) ?? Number.NaN }));
    try {
      await setPlaceBudgets(ctx.db, code, Number(values.year), values.stream ?? '', budgets, ANONYMOUS_ACTOR);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const ids = Object.fromEntries(budgets.map((b, i) => [`budgets.${i}.amount`, `budget-${b.placeId}`]));
      return placesPage(reply, code, values.scenario, values.stream, { values, formErrors: formErrors('budgets', error.problems, ids) }, 422);
    }
    return reply.redirect(`/ics/${code}/finance/places?scenario=${encodeURIComponent(values.scenario ?? '')}&stream=${values.stream ?? ''}&done=budgets-saved`, 303);
  });

  app.get<{ Params: IcsParams & { place: string }; Querystring: { scenario?: string } }>(`${prefix}/places/:place`, hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const scenario = await findScenario(ctx.db, s.ics.code, typeof request.query.scenario === 'string' ? request.query.scenario : undefined);
    const view = await scenarioView(ctx.db, s.ics.code, scenario, s);
    const drill = placeDrillDown(view, request.params.place) as {
      name: string;
      practices: { code: string; name: string; pcnName: string | null; district: string; population: number; weightedPopulation: Record<string, number>; filledWithOne: string[] }[];
      totals: { practices: number; population: number; weightedPopulation: Record<string, number> };
      index: { component: string; label: string; placeWeightedPopulation: number; placePopulation: number; icbWeightedPopulation: number; icbPopulation: number; unrounded: number | null; index: number }[];
    };
    const back = `/ics/${s.ics.code}/finance/places?scenario=${encodeURIComponent(scenario.id)}`;
    const streams = view.result.streams.map((st) => {
      const p = st.places.find((x) => x.key === request.params.place);
      return { label: STREAMS[st.stream], component: COMPONENT_LABELS[PLACE_STREAMS[st.stream]], share: percent(p?.share ?? 0, 3), target: pounds(p?.target ?? 0), current: pounds(p?.current ?? null), distance: signedPercent(p?.distance ?? null), pot: pounds(st.pot) };
    });
    return send(reply, 'place.njk', {
      ...base(s, 'places', drill.name, [{ href: back, text: `Allocation to places: ${scenario.name}` }]),
      scenario,
      back,
      drill,
      components: COMPONENTS,
      streams,
      corePart: CORE_PARTS,
      practiceRows: drill.practices.map((p) => ({ ...p, filled: p.filledWithOne.length > 0 ? p.filledWithOne.join(', ') : '' })),
    });
  });

  // ---- scenarios --------------------------------------------------------------------------------
  app.get<{ Params: IcsParams }>(`${prefix}/scenarios`, hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const { scenarios, saved } = await scenariosOrDefault(ctx.db, s.ics.code);
    const [sets, policies] = await Promise.all([listPlaceSets(ctx.db, s.ics.code), listPolicies(ctx.db, s.ics.code)]);
    return send(reply, 'scenarios.njk', {
      ...base(s, 'scenarios', 'Scenarios'),
      saved,
      scenarios: scenarios.map((sc) => ({
        ...sc,
        yearLabel: yearLabel(sc.year),
        placeSet: sets.find((x) => x.id === sc.placeSetId)?.name ?? sc.placeSetId,
        policy: policies.find((p) => p.id === sc.policyId)?.name ?? defaultPolicy(s.ics.code).name,
        weights: weightsWords(sc),
      })),
      placeSets: sets.map((x) => ({ ...x, basisLabel: PLACE_SET_BASES[x.basis], places: x.basis === 'structure' ? s.places.length : new Set(x.assignments.values()).size, practices: x.basis === 'structure' ? s.practices.length : x.assignments.size, href: x.basis === 'structure' ? `/ics/${s.ics.code}/places` : `/ics/${s.ics.code}/finance/place-definitions/${encodeURIComponent(x.id)}` })),
      flash: flash(request),
      values: {},
      errors: [],
      fieldErrors: {},
      copyOptions: sets.map((x) => ({ value: x.id, text: x.name })),
    });
  });

  const editorPage = async (reply: FastifyReply, code: string, scenarioId: string | undefined, extra: { values?: Values; formErrors?: FormErrors } = {}, status = 200): Promise<FastifyReply> => {
    const s = await load(code);
    const sets = await listPlaceSets(ctx.db, s.ics.code);
    const existing = scenarioId ? await findScenario(ctx.db, s.ics.code, scenarioId) : undefined;
    let values = extra.values;
    if (!values) {
      const pot = await singlePot(ctx.db, s.ics.code);
      const policy = existing ? (await scenarioView(ctx.db, s.ics.code, existing, s)).policy : defaultPolicy(s.ics.code);
      const w = existing?.weights;
      values = {
        name: existing?.name,
        description: existing?.description ?? undefined,
        year: String(existing?.year ?? pot.year),
        placeSetId: existing?.placeSetId ?? structurePlaceSetId(s.ics.code),
        weights: w?.core || (w?.pmcInequalitiesShare ?? null) !== null ? 'custom' : 'nhse',
        ...Object.fromEntries(CORE_PARTS.map((p) => [`w-${p}`, String(Math.round((w?.core?.[p] ?? FITTED_CORE_WEIGHTS[p]) * 1000) / 10)])),
        'w-pmc': String(Math.round((w?.pmcInequalitiesShare ?? NHSE_PMC_INEQUALITIES_SHARE) * 1000) / 10),
        policyName: existing ? policy.name : `Pace of change`,
        years: String(policy.years),
        icbGrowth: String(Math.round(policy.icbGrowth * 10000) / 100),
        minGrowth: String(Math.round(policy.minGrowth * 10000) / 100),
        maxGrowth: String(Math.round(policy.maxGrowth * 10000) / 100),
        gapClosure: String(Math.round(policy.gapClosure * 10000) / 100),
        protectionBand: String(Math.round(policy.protectionBand * 10000) / 100),
      };
    }
    const fe = extra.formErrors ?? NO_ERRORS;
    const title = existing && existing.id !== `${s.ics.code}-scenario-default` ? `Change the scenario ${existing.name}` : 'New scenario';
    return send(
      reply,
      'scenario-edit.njk',
      {
        ...base(s, 'scenarios', title, [{ href: `/ics/${s.ics.code}/finance/scenarios`, text: 'Scenarios' }]),
        scenarioId: existing && existing.id !== `${s.ics.code}-scenario-default` ? existing.id : undefined,
        setOptions: sets.map((x) => ({ value: x.id, text: x.name })),
        coreParts: CORE_PARTS.map((p) => ({ key: p, label: COMPONENT_LABELS[p] })),
        values,
        errors: fe.errors,
        fieldErrors: fe.fieldErrors,
      },
      status,
    );
  };

  app.get<{ Params: IcsParams }>(`${prefix}/scenarios/new`, hidden, async (request, reply) => editorPage(reply, request.params.ics, undefined));
  app.get<{ Params: IcsParams & { id: string } }>(`${prefix}/scenarios/:id/edit`, hidden, async (request, reply) => editorPage(reply, request.params.ics, request.params.id));

  const saveFromForm = async (request: FastifyRequest<{ Params: IcsParams & { id?: string }; Body: Form }>, reply: FastifyReply): Promise<FastifyReply> => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['name', 'description', 'year', 'placeSetId', 'weights', ...CORE_PARTS.map((p) => `w-${p}`), 'w-pmc', 'policyName', 'years', 'icbGrowth', 'minGrowth', 'maxGrowth', 'gapClosure', 'protectionBand']);
    const custom = values.weights === 'custom';
    const core = custom ? (Object.fromEntries(CORE_PARTS.map((p) => [p, percentFrom(values[`w-${p}`] ?? '0')])) as Record<CorePart, number>) : null;
    const id = request.params.id;
    try {
      const saved = await saveScenario(
        ctx.db,
        code,
        {
          name: values.name ?? '',
          description: values.description ?? null,
          year: Number(values.year),
          placeSetId: values.placeSetId ?? '',
          policy: {
            name: values.policyName ?? '',
            years: Number(values.years),
            icbGrowth: percentFrom(values.icbGrowth),
            minGrowth: percentFrom(values.minGrowth),
            maxGrowth: percentFrom(values.maxGrowth),
            gapClosure: percentFrom(values.gapClosure),
            protectionBand: percentFrom(values.protectionBand),
          },
          weights: { core, pmcInequalitiesShare: custom ? percentFrom(values['w-pmc']) : null },
        },
        ANONYMOUS_ACTOR,
        id,
      );
      return await reply.redirect(`/ics/${code}/finance/places?scenario=${encodeURIComponent(saved)}&done=scenario-saved`, 303);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const ids: Record<string, string> = {
        'policy.name': 'scenario-policyName',
        'policy.years': 'scenario-years',
        'policy.icbGrowth': 'scenario-icbGrowth',
        'policy.minGrowth': 'scenario-minGrowth',
        'policy.maxGrowth': 'scenario-maxGrowth',
        'policy.gapClosure': 'scenario-gapClosure',
        'policy.protectionBand': 'scenario-protectionBand',
        'weights.core': 'scenario-w-ga',
        'weights.pmcInequalitiesShare': 'scenario-w-pmc',
        ...Object.fromEntries(CORE_PARTS.map((p) => [`weights.core.${p}`, `scenario-w-${p}`])),
      };
      return editorPage(reply, code, id, { values, formErrors: formErrors('scenario', error.problems, ids) }, 422);
    }
  };
  app.post<{ Params: IcsParams; Body: Form }>(`${prefix}/scenarios`, hidden, saveFromForm);
  app.post<{ Params: IcsParams & { id: string }; Body: Form }>(`${prefix}/scenarios/:id`, hidden, saveFromForm);

  app.post<{ Params: IcsParams & { id: string } }>(`${prefix}/scenarios/:id/delete`, hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    await deleteScenario(ctx.db, code, request.params.id, ANONYMOUS_ACTOR);
    return reply.redirect(`/ics/${code}/finance/scenarios?done=scenario-deleted`, 303);
  });

  app.get<{ Params: IcsParams; Querystring: { scenario?: string | string[] } }>(`${prefix}/compare`, hidden, async (request, reply) => {
    const s = await load(request.params.ics);
    const { scenarios } = await scenariosOrDefault(ctx.db, s.ics.code);
    const asked = request.query.scenario === undefined ? [] : Array.isArray(request.query.scenario) ? request.query.scenario : [request.query.scenario];
    const ids = asked.length > 0 ? [...new Set(asked)].slice(0, 4) : scenarios.slice(0, 2).map((x) => x.id);
    const views: ScenarioView[] = [];
    for (const id of ids) views.push(await scenarioView(ctx.db, s.ics.code, await findScenario(ctx.db, s.ics.code, id), s));
    const columns = await Promise.all(
      views.map(async (v) => {
        const core = v.result.streams.find((st) => st.stream === 'core_services');
        const path = core?.path ?? null;
        const last = path ? path[path.length - 1] : undefined;
        const maxAbs = (list: (number | null)[]): number | null => (list.some((x) => x !== null) ? Math.max(...list.filter((x): x is number => x !== null).map(Math.abs)) : null);
        const growths = path ? path.slice(1).flatMap((y) => y.growth) : [];
        const chart = core && core.pot > 0
          ? await groupedBarChart(
              core.places.flatMap((p, i) => [...(p.distance === null ? [] : [{ label: p.name, series: 'Today', value: p.distance }]), ...(last ? [{ label: p.name, series: `After ${path ? path.length - 1 : 0} years`, value: last.distance[i] ?? 0 }] : [])]),
              { description: `Core services: distance from target by place, today and after the path, scenario ${v.scenario.name}`, valueTitle: 'Distance from target', seriesTitle: 'When', format: '+.0%', reference: 0, series: ['Today', `After ${path ? path.length - 1 : 0} years`], width: 420, narrowWidth: 190, step: 12 },
            )
          : null;
        return {
          id: v.scenario.id,
          name: v.scenario.name,
          href: `/ics/${s.ics.code}/finance/places?scenario=${encodeURIComponent(v.scenario.id)}`,
          placeSet: v.placeSet.name,
          places: v.result.rows.length,
          weights: weightsWords(v.scenario),
          policy: policyWords(v.policy),
          pot: pounds(core?.pot ?? 0),
          largestToday: percent(maxAbs(core?.places.map((p) => p.distance) ?? []) ?? null),
          largestAfter: last ? percent(maxAbs(last.distance)) : '',
          growthRange: growths.length > 0 ? `${signedPercent(Math.min(...growths))} to ${signedPercent(Math.max(...growths))}` : '',
          moved: last && core ? pounds(core.places.reduce((a, p, i) => a + Math.abs((last.budgets[i] ?? 0) - (p.current ?? 0) * (last.total / (path?.[0]?.total || 1))), 0) / 2) : '',
          rows: (core?.places ?? []).map((p, i) => ({
            name: p.name,
            index: v.result.need.places.find((n) => n.key === p.key)?.index.core ?? 0,
            target: pounds(p.target),
            current: pounds(p.current),
            distance: signedPercent(p.distance),
            after: last ? signedPercent(last.distance[i] ?? 0) : '',
          })),
          chart,
        };
      }),
    );
    return send(reply, 'compare.njk', {
      ...base(s, 'scenarios', 'Scenarios side by side', [{ href: `/ics/${s.ics.code}/finance/scenarios`, text: 'Scenarios' }]),
      columns,
      options: scenarios.map((x) => ({ value: x.id, text: x.name, checked: ids.includes(x.id) })),
    });
  });

  // ---- place definitions ------------------------------------------------------------------------
  app.post<{ Params: IcsParams; Body: Form }>(`${prefix}/place-definitions`, hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['name', 'description', 'basis', 'copyOf']);
    const basis = values.basis === 'copy' ? 'custom' : (values.basis ?? '');
    let id: string;
    try {
      id = await createPlaceSet(ctx.db, code, { name: values.name ?? '', description: values.description ?? null, basis, copyOf: values.basis === 'copy' ? values.copyOf : undefined }, ANONYMOUS_ACTOR);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const s = await load(code);
      const { scenarios, saved } = await scenariosOrDefault(ctx.db, s.ics.code);
      const [sets, policies] = await Promise.all([listPlaceSets(ctx.db, s.ics.code), listPolicies(ctx.db, s.ics.code)]);
      const fe = formErrors('placeset', error.problems);
      return send(
        reply,
        'scenarios.njk',
        {
          ...base(s, 'scenarios', 'Scenarios'),
          saved,
          scenarios: scenarios.map((sc) => ({ ...sc, yearLabel: yearLabel(sc.year), placeSet: sets.find((x) => x.id === sc.placeSetId)?.name ?? sc.placeSetId, policy: policies.find((p) => p.id === sc.policyId)?.name ?? '', weights: weightsWords(sc) })),
          placeSets: sets.map((x) => ({ ...x, basisLabel: PLACE_SET_BASES[x.basis], places: x.basis === 'structure' ? s.places.length : new Set(x.assignments.values()).size, practices: x.basis === 'structure' ? s.practices.length : x.assignments.size, href: x.basis === 'structure' ? `/ics/${s.ics.code}/places` : `/ics/${s.ics.code}/finance/place-definitions/${encodeURIComponent(x.id)}` })),
          values,
          errors: fe.errors,
          fieldErrors: fe.fieldErrors,
          copyOptions: sets.map((x) => ({ value: x.id, text: x.name })),
        },
        422,
      );
    }
    return reply.redirect(`/ics/${code}/finance/place-definitions/${encodeURIComponent(id)}?done=place-set-created`, 303);
  });

  const placeSetPage = async (reply: FastifyReply, code: string, id: string, extra: { formErrors?: FormErrors; values?: Values; flash?: string | undefined } = {}, status = 200): Promise<FastifyReply> => {
    const s = await load(code);
    const set = await getPlaceSet(ctx.db, s.ics.code, id);
    if (set.basis === 'structure') throw new NotFoundError('Editable place definitions');
    const groups = placeGroups(set, s);
    const view = await scenarioView(ctx.db, s.ics.code, { ...(await findScenario(ctx.db, s.ics.code, undefined)), placeSetId: set.id, id: `${s.ics.code}-scenario-preview` }, s);
    const names = groups.map((g) => g.name);
    const practices = [...view.practices.values()].sort((a, b) => (set.assignments.get(a.code) ?? '~').localeCompare(set.assignments.get(b.code) ?? '~') || a.name.localeCompare(b.name));
    const fe = extra.formErrors ?? NO_ERRORS;
    return send(
      reply,
      'place-set.njk',
      {
        ...base(s, 'scenarios', set.name, [{ href: `/ics/${s.ics.code}/finance/scenarios`, text: 'Scenarios' }]),
        set,
        basisLabel: PLACE_SET_BASES[set.basis],
        places: view.result.need.places.map((p) => ({ name: p.name, unassigned: p.key === UNASSIGNED, practices: p.totals.practices, population: p.totals.population, core: p.index.core, pmc: p.index.pmc })),
        placeNames: names,
        practices: practices.map((p) => ({ code: p.code, name: p.name, pcn: p.pcnName ?? 'No PCN in the data', district: p.ladName, population: Math.round(p.population), place: set.assignments.get(p.code) ?? '' })),
        values: extra.values ?? {},
        errors: fe.errors,
        fieldErrors: fe.fieldErrors,
        flash: extra.flash,
        unassignedName: UNASSIGNED_NAME,
      },
      status,
    );
  };

  app.get<{ Params: IcsParams & { id: string } }>(`${prefix}/place-definitions/:id`, hidden, async (request, reply) => placeSetPage(reply, request.params.ics, request.params.id, { flash: flash(request) }));

  app.post<{ Params: IcsParams & { id: string }; Body: Form }>(`${prefix}/place-definitions/:id/practices`, hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const set = await getPlaceSet(ctx.db, code, request.params.id);
    const newPlace = field(request.body, 'newPlace');
    const changes: { practiceCode: string; place: string }[] = [];
    const problems: FieldProblem[] = [];
    for (const [key, raw] of Object.entries(request.body ?? {})) {
      if (!key.startsWith('place-')) continue;
      const practiceCode = key.slice('place-'.length);
      const value = typeof raw === 'string' ? raw.trim() : '';
      if (value === '__new') {
        if (!newPlace) problems.push({ field: 'newPlace', message: 'Enter the name of the new place, or choose an existing place for each practice' });
        else if ((set.assignments.get(practiceCode) ?? '') !== newPlace) changes.push({ practiceCode, place: newPlace });
      } else if (value !== '' && value !== (set.assignments.get(practiceCode) ?? '')) changes.push({ practiceCode, place: value });
    }
    try {
      if (problems.length > 0) throw new ValidationError(problems);
      if (changes.length > 0) await assignPractices(ctx.db, code, set.id, changes, ANONYMOUS_ACTOR);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return placeSetPage(reply, code, set.id, { formErrors: formErrors('move', error.problems, { newPlace: 'move-newPlace' }), values: { newPlace } }, 422);
    }
    return reply.redirect(`/ics/${code}/finance/place-definitions/${encodeURIComponent(set.id)}?done=practices-moved`, 303);
  });

  app.post<{ Params: IcsParams & { id: string }; Body: Form }>(`${prefix}/place-definitions/:id/rename`, hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['from', 'to']);
    try {
      await renamePlace(ctx.db, code, request.params.id, values.from ?? '', values.to ?? '', ANONYMOUS_ACTOR);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return placeSetPage(reply, code, request.params.id, { formErrors: formErrors('rename', error.problems), values }, 422);
    }
    return reply.redirect(`/ics/${code}/finance/place-definitions/${encodeURIComponent(request.params.id)}?done=place-renamed`, 303);
  });

  // ---- investment standards ---------------------------------------------------------------------
  const standardsPage = async (reply: FastifyReply, code: string, year: number | undefined, extra: { values?: Values; formErrors?: FormErrors; flash?: string | undefined; form?: string } = {}, status = 200): Promise<FastifyReply> => {
    const s = await load(code);
    const pot = await singlePot(ctx.db, s.ics.code, year);
    const checks = await standardsView(ctx.db, s.ics.code, pot.year);
    const fe = extra.formErrors ?? NO_ERRORS;
    return send(
      reply,
      'standards.njk',
      {
        ...base(s, 'standards', 'Investment standards'),
        yearLabel: yearLabel(pot.year),
        year: pot.year,
        lastYearLabel: yearLabel(pot.year - 1),
        years: pot.years.map((y) => ({ value: y, text: yearLabel(y), selected: y === pot.year })),
        checks: checks.map((c) => ({
          ...c,
          requiredText: c.requiredGrowth === null ? 'Not entered' : percent(c.requiredGrowth, 2),
          baseText: c.base ? `${pounds(c.base.counted)} (${yearLabel(c.base.year)} ${c.base.source})` : 'None',
          minimumText: pounds(c.minimum),
          plan: { ...c.plan, countedText: pounds(c.plan.counted), excludedText: pounds(c.plan.excluded), growthText: signedPercent(c.plan.growth, 2), shortfallText: pounds(c.plan.shortfall), headroomText: pounds(c.plan.headroom) },
          outturn: c.outturn ? { ...c.outturn, countedText: pounds(c.outturn.counted), growthText: signedPercent(c.outturn.growth, 2), shortfallText: pounds(c.outturn.shortfall), headroomText: pounds(c.outturn.headroom) } : null,
          lines: [...c.lines].sort((a, b) => Number(b.counted) - Number(a.counted) || b.plan - a.plan).map((l) => ({ ...l, planText: pounds(l.plan), outturnText: l.outturn === null ? 'Not yet' : pounds(l.outturn) })),
          exclusions: c.exclusions.map((e) => ({ ...e, amountText: pounds(e.amount) })),
        })),
        standardOptions: Object.entries(STANDARDS).map(([value, text]) => ({ value, text })),
        categoryGroups: Object.entries(STANDARD_CATEGORIES).map(([standard, cats]) => ({ standard, label: STANDARDS[standard as Standard], options: Object.entries(cats).map(([value, text]) => ({ value: `${standard}:${value}`, text })) })),
        values: extra.values ?? {},
        form: extra.form,
        errors: fe.errors,
        fieldErrors: fe.fieldErrors,
        flash: extra.flash,
      },
      status,
    );
  };

  app.get<{ Params: IcsParams }>(`${prefix}/standards`, hidden, async (request, reply) => standardsPage(reply, request.params.ics, queryYear(request), { flash: flash(request) }));

  app.post<{ Params: IcsParams; Body: Form }>(`${prefix}/standards/lines`, hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['year', 'category', 'description', 'plan', 'outturn', 'counted', 'reason']);
    const [standard = '', category = ''] = (values.category ?? '').split(':');
    try {
      await saveStandardLine(
        ctx.db,
        code,
        {
          year: Number(values.year),
          standard,
          category,
          description: values.description ?? '',
          plan: penceFrom(values.plan) ?? Number.NaN,
          outturn: penceFrom(values.outturn) ?? null,
          excluded: values.counted === 'yes' ? false : values.counted === 'no' ? true : undefined,
          reason: values.reason ?? null,
        },
        ANONYMOUS_ACTOR,
      );
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return standardsPage(reply, code, Number(values.year) || undefined, { values, form: 'line', formErrors: formErrors('line', error.problems, { standard: 'line-category', excluded: 'line-counted' }) }, 422);
    }
    return reply.redirect(`/ics/${code}/finance/standards?year=${values.year ?? ''}&done=line-saved`, 303);
  });

  app.post<{ Params: IcsParams; Body: Form }>(`${prefix}/standards/target`, hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['year', 'standard', 'requiredGrowth', 'basis']);
    try {
      await setStandardTarget(ctx.db, code, { year: Number(values.year), standard: values.standard ?? '', requiredGrowth: percentFrom(values.requiredGrowth), basis: values.basis ?? '' }, ANONYMOUS_ACTOR);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return standardsPage(reply, code, Number(values.year) || undefined, { values, form: 'target', formErrors: formErrors('target', error.problems) }, 422);
    }
    return reply.redirect(`/ics/${code}/finance/standards?year=${values.year ?? ''}&done=target-saved`, 303);
  });

  // ---- the system position and the risk share ---------------------------------------------------
  const positionPage = async (reply: FastifyReply, code: string, year: number | undefined, extra: { values?: Values; formErrors?: FormErrors; flash?: string | undefined } = {}, status = 200): Promise<FastifyReply> => {
    const s = await load(code);
    const pot = await singlePot(ctx.db, s.ics.code, year);
    const view = await positionView(ctx.db, s.ics.code, pot.year, s);
    const p = view.position;
    const months = p.totals.months;
    const xOrder = months.map((m) => monthLabel(p.year, m.month).slice(0, 3));
    const forecastFrom = p.month;
    const monthlyForecast = p.organisations.reduce((sum, o) => sum + (o.forecast.surplus - o.plan.surplus), 0);
    const trend =
      p.organisations.length > 0
        ? await lineChart(
            [
              ...months.map((m) => ({ x: xOrder[m.month - 1] ?? '', series: 'Plan', value: m.cumulativePlan / 1e8 })),
              ...months.filter((m) => m.cumulativeActual !== null).map((m) => ({ x: xOrder[m.month - 1] ?? '', series: 'Actual', value: (m.cumulativeActual ?? 0) / 1e8 })),
              ...(forecastFrom > 0
                ? months
                    .filter((m) => m.month >= forecastFrom)
                    .map((m) => {
                      const actualToDate = months[forecastFrom - 1]?.cumulativeActual ?? 0;
                      const planToDate = months[forecastFrom - 1]?.cumulativePlan ?? 0;
                      const remainingVariance = monthlyForecast - (actualToDate - planToDate);
                      const share = forecastFrom === 12 ? 1 : (m.month - forecastFrom) / (12 - forecastFrom);
                      return { x: xOrder[m.month - 1] ?? '', series: 'Forecast', value: (m.cumulativePlan + (actualToDate - planToDate) + remainingVariance * share) / 1e8, dashed: true };
                    })
                : []),
            ],
            { description: `Cumulative surplus or deficit of the system, ${yearLabel(p.year)}: plan, actual to ${p.monthLabel ?? 'date'} and forecast, £ millions`, xTitle: `Month of ${yearLabel(p.year)}`, valueTitle: 'Cumulative surplus (deficit), £m', seriesTitle: 'Series', format: ',.1f', xOrder, reference: 0, width: 560, narrowWidth: 240 },
          )
        : null;
    const money = (x: number): string => millions(x);
    const fe = extra.formErrors ?? NO_ERRORS;
    return send(reply, 'position.njk', {
      ...base(s, 'position', 'System financial position'),
      values: extra.values ?? { surplus: p.target ? String(p.target.surplus / 100) : '0', description: p.target?.description ?? undefined },
      errors: fe.errors,
      fieldErrors: fe.fieldErrors,
      flash: extra.flash,
      yearLabel: yearLabel(p.year),
      years: pot.years.map((y) => ({ value: y, text: yearLabel(y), selected: y === pot.year })),
      position: p,
      target: p.target ? { surplus: surplusWords(p.target.surplus), description: p.target.description } : null,
      headline: {
        plan: surplusWords(p.totals.plan.surplus),
        planAgainstTarget: p.planAgainstTarget === null ? null : againstWords(p.planAgainstTarget),
        ytdActual: surplusWords(p.totals.ytdActual.surplus),
        ytdVariance: Math.abs(p.totals.ytdVariance.surplus) < 50_000 ? 'on plan' : p.totals.ytdVariance.surplus > 0 ? `${millions(p.totals.ytdVariance.surplus)} better than plan` : `${millions(-p.totals.ytdVariance.surplus)} worse than plan`,
        ytdVarianceValue: p.totals.ytdVariance.surplus,
        forecast: surplusWords(p.totals.forecast.surplus),
        forecastAgainstTarget: p.forecastAgainstTarget === null ? null : againstWords(p.forecastAgainstTarget),
        forecastAgainstTargetValue: p.forecastAgainstTarget,
        runRate: surplusWords(p.totals.runRateSurplus),
      },
      icbCode: s.icb.code,
      orgs: p.organisations.map((o) => ({
        ...o,
        t: {
          planIncome: money(o.plan.income),
          planPay: money(o.plan.pay),
          planNonPay: money(o.plan.nonPay),
          plan: money(o.plan.surplus),
          ytdPlan: money(o.ytdPlan.surplus),
          ytdActual: money(o.ytdActual.surplus),
          ytdVariance: money(o.ytdVariance.surplus),
          ytdIncome: money(o.ytdVariance.income),
          ytdPay: money(o.ytdVariance.pay),
          ytdNonPay: money(o.ytdVariance.nonPay),
          forecast: money(o.forecast.surplus),
          forecastVariance: money(o.forecastVariance),
          runRate: money(o.runRateSurplus),
        },
      })),
      totals: {
        planIncome: money(p.totals.plan.income),
        planPay: money(p.totals.plan.pay),
        planNonPay: money(p.totals.plan.nonPay),
        plan: money(p.totals.plan.surplus),
        ytdPlan: money(p.totals.ytdPlan.surplus),
        ytdActual: surplusWords(p.totals.ytdActual.surplus),
        ytdVariance: Math.abs(p.totals.ytdVariance.surplus) < 50_000 ? 'on plan' : p.totals.ytdVariance.surplus > 0 ? `${millions(p.totals.ytdVariance.surplus)} better than plan` : `${millions(-p.totals.ytdVariance.surplus)} worse than plan`,
        ytdIncome: money(p.totals.ytdVariance.income),
        ytdPay: money(p.totals.ytdVariance.pay),
        ytdNonPay: money(p.totals.ytdVariance.nonPay),
        forecast: money(p.totals.forecast.surplus),
        forecastVariance: money(p.totals.forecastVariance),
        runRate: money(p.totals.runRateSurplus),
      },
      monthRows: months.map((m) => ({ label: monthLabel(p.year, m.month), plan: money(m.plan), actual: m.actual === null ? '' : money(m.actual), cumulativePlan: money(m.cumulativePlan), cumulativeActual: m.cumulativeActual === null ? '' : money(m.cumulativeActual) })),
      trend,
      delegated: view.delegated.map((d) => ({
        ...d,
        functionHref: `/ics/${s.ics.code}/functions#function-${d.functionId}`,
        delegateHref: d.delegateKind === 'body' ? `/ics/${s.ics.code}/bodies/${encodeURIComponent(d.delegateId)}` : null,
        t: { budget: money(d.budget), ytdBudget: money(d.ytdBudget), ytdSpend: money(d.ytdSpend), forecast: money(d.forecast), variance: money(d.forecastVariance) },
      })),
    }, status);
  };

  app.get<{ Params: IcsParams }>(`${prefix}/position`, hidden, async (request, reply) => positionPage(reply, request.params.ics, queryYear(request), { flash: flash(request) }));

  const riskPage = async (reply: FastifyReply, code: string, year: number | undefined, extra: { values?: Values; formErrors?: FormErrors; flash?: string | undefined } = {}, status = 200): Promise<FastifyReply> => {
    const s = await load(code);
    const pot = await singlePot(ctx.db, s.ics.code, year);
    const position = await positionView(ctx.db, s.ics.code, pot.year, s);
    const view = await riskShareView(ctx.db, s.ics.code, pot.year, position, s);
    const partners = [...(await positionOrganisations(ctx.db, s.ics.code))].map(([orgCode, name]) => ({ orgCode, name }));
    const rule = (kind: string, org: string): RiskShareView['rules'][number] | undefined => view.rules.find((r) => r.kind === kind && r.orgCode === org);
    const percentText = (x: number | undefined): string => (x === undefined ? '' : String(Math.round(x * 10000) / 100));
    const values: Values = extra.values ?? {
      name: view.agreement?.name ?? `Risk-share agreement ${yearLabel(pot.year)}`,
      description: view.agreement?.description ?? undefined,
      residual: view.agreement?.residualOrgCode ?? s.icb.code,
      retain: view.rules.find((r) => r.kind === 'retain_own_variance') ? String((view.rules.find((r) => r.kind === 'retain_own_variance')?.value ?? 0) / 100) : undefined,
      ...Object.fromEntries(
        partners.flatMap((p) => [
          [`over-${p.orgCode}`, percentText(rule('share_overspend', p.orgCode)?.value)],
          [`under-${p.orgCode}`, percentText(rule('share_underspend', p.orgCode)?.value)],
          [`cap-${p.orgCode}`, rule('cap', p.orgCode) ? String((rule('cap', p.orgCode)?.value ?? 0) / 100) : undefined],
        ]),
      ),
    };
    const fe = extra.formErrors ?? NO_ERRORS;
    return send(
      reply,
      'risk-share.njk',
      {
        ...base(s, 'risk', 'Risk share'),
        year: pot.year,
        yearLabel: yearLabel(pot.year),
        years: pot.years.map((y) => ({ value: y, text: yearLabel(y), selected: y === pot.year })),
        monthLabel: position.position.monthLabel,
        view,
        partners,
        residual: view.agreement ? (s.organisations.get(view.agreement.residualOrgCode)?.name ?? view.agreement.residualOrgCode) : null,
        rows: (view.applied?.partners ?? []).map((p) => ({ ...p, t: { plan: signedThousands(p.plan), forecast: signedThousands(p.forecast), variance: signedThousands(p.variance), retained: signedThousands(p.retained), poolShare: signedThousands(p.poolShare), after: signedThousands(p.after), transfer: signedThousands(p.transfer) } })),
        total: view.applied
          ? (() => {
              const sum = (pick: (p: { plan: number; forecast: number; variance: number; retained: number; poolShare: number; after: number; transfer: number }) => number): string => signedThousands((view.applied?.partners ?? []).reduce((a, p) => a + pick(p), 0));
              return { plan: sum((p) => p.plan), forecast: sum((p) => p.forecast), variance: sum((p) => p.variance), retained: sum((p) => p.retained), poolShare: sum((p) => p.poolShare), after: sum((p) => p.after), transfer: sum((p) => p.transfer) };
            })()
          : null,
        pool: view.applied ? millions(view.applied.pool) : null,
        values,
        errors: fe.errors,
        fieldErrors: fe.fieldErrors,
        flash: extra.flash,
      },
      status,
    );
  };

  app.get<{ Params: IcsParams }>(`${prefix}/risk-share`, hidden, async (request, reply) => riskPage(reply, request.params.ics, queryYear(request), { flash: flash(request) }));

  app.post<{ Params: IcsParams; Body: Form }>(`${prefix}/risk-share`, hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const partners = [...(await positionOrganisations(ctx.db, code)).keys()];
    const values = fields(request.body, ['year', 'name', 'description', 'residual', 'retain', ...partners.flatMap((p) => [`over-${p}`, `under-${p}`, `cap-${p}`])]);
    const problems: FieldProblem[] = [];
    const rules: { kind: string; orgCode?: string | null; value: number }[] = [];
    const retain = penceFrom(values.retain);
    if (retain !== undefined) {
      if (Number.isNaN(retain) || retain < 0) problems.push({ field: 'retain', message: 'Enter the variance each partner keeps in pounds, or leave it empty' });
      else rules.push({ kind: 'retain_own_variance', value: retain });
    }
    for (const [kind, prefixName] of [
      ['share_overspend', 'over'],
      ['share_underspend', 'under'],
    ] as const) {
      for (const p of partners) {
        const raw = values[`${prefixName}-${p}`];
        if (raw === undefined) continue;
        const share = percentFrom(raw);
        if (!(share >= 0 && share <= 1)) problems.push({ field: `${prefixName}-${p}`, message: 'Enter a share between 0% and 100%' });
        else if (share > 0) rules.push({ kind, orgCode: p, value: share });
      }
    }
    for (const p of partners) {
      const cap = penceFrom(values[`cap-${p}`]);
      if (cap === undefined) continue;
      if (Number.isNaN(cap) || cap < 0) problems.push({ field: `cap-${p}`, message: 'Enter the cap in pounds, or leave it empty' });
      else rules.push({ kind: 'cap', orgCode: p, value: cap });
    }
    const ids = (field: string): string => (field === 'name' || field === 'residualOrgCode' || field === 'retain' || /^(over|under|cap)-/.test(field) ? `risk-${field === 'residualOrgCode' ? 'residual' : field}` : 'risk-shares');
    try {
      if (problems.length > 0) throw new ValidationError(problems);
      await saveRiskShare(ctx.db, code, Number(values.year), { name: values.name ?? '', description: values.description ?? null, residualOrgCode: values.residual ?? '', rules }, ANONYMOUS_ACTOR);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const fe: FormErrors = { errors: [], fieldErrors: {} };
      for (const p of error.problems) {
        const id = ids(p.field);
        fe.errors.push({ text: p.message, href: `#${id}` });
        fe.fieldErrors[id] ??= p.message;
      }
      return riskPage(reply, code, Number(values.year) || undefined, { values, formErrors: fe }, 422);
    }
    return reply.redirect(`/ics/${code}/finance/risk-share?year=${values.year ?? ''}&done=risk-share-saved`, 303);
  });

  app.post<{ Params: IcsParams; Body: Form }>(`${prefix}/position/target`, hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['year', 'surplus', 'description']);
    try {
      await setSystemTarget(ctx.db, code, { year: Number(values.year), surplus: penceFrom(values.surplus) ?? Number.NaN, description: values.description ?? null }, ANONYMOUS_ACTOR);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const fe = formErrors('target', error.problems);
      return positionPage(reply, code, Number(values.year) || undefined, { values, formErrors: fe }, 422);
    }
    return reply.redirect(`/ics/${code}/finance/position?year=${values.year ?? ''}&done=system-target-saved#system-target`, 303);
  });

  // ---- import and export ------------------------------------------------------------------------
  const dataPage = async (reply: FastifyReply, code: string, extra: { formErrors?: FormErrors; values?: Values; imported?: string } = {}, status = 200): Promise<FastifyReply> => {
    const s = await load(code);
    const [sets, pot] = await Promise.all([listPlaceSets(ctx.db, s.ics.code), singlePot(ctx.db, s.ics.code)]);
    const { scenarios } = await scenariosOrDefault(ctx.db, s.ics.code);
    const fe = extra.formErrors ?? NO_ERRORS;
    return send(
      reply,
      'data.njk',
      {
        ...base(s, 'data', 'Import and export'),
        year: pot.year,
        yearLabel: yearLabel(pot.year),
        yearParam: pot.year,
        datasets: DATASET_KEYS.map((k) => ({ key: k, label: DATASETS[k].label })),
        placeSets: sets,
        scenarios,
        values: extra.values ?? {},
        imported: extra.imported,
        errors: fe.errors,
        fieldErrors: fe.fieldErrors,
        setOptions: [{ value: '', text: 'Make new place definitions' }, ...sets.filter((x) => x.basis !== 'structure').map((x) => ({ value: x.id, text: `Replace ${x.name}` }))],
      },
      status,
    );
  };

  app.get<{ Params: IcsParams }>(`${prefix}/data`, hidden, async (request, reply) => dataPage(reply, request.params.ics));

  app.post<{ Params: IcsParams; Body: Form }>(`${prefix}/data/import`, hidden, async (request, reply) => {
    const code = request.params.ics.toUpperCase();
    const values = fields(request.body, ['dataset', 'placeSet', 'name']);
    const upload = uploads.get(request);
    try {
      const problems: FieldProblem[] = [];
      if (!values.dataset || !(DATASET_KEYS as string[]).includes(values.dataset)) problems.push({ field: 'dataset', message: 'Choose what the file holds' });
      if (!upload || upload.bytes.length === 0) problems.push({ field: 'file', message: 'Choose a CSV or spreadsheet (.xlsx) file to import' });
      if (problems.length > 0) throw new ValidationError(problems);
      const result = await importDataset(ctx.db, code, values.dataset as Dataset, gridOf(upload?.bytes ?? Buffer.alloc(0)), ANONYMOUS_ACTOR, { placeSetId: values.placeSet, placeSetName: values.name });
      return await dataPage(reply, code, { imported: `${upload?.filename ?? 'The file'}: ${result.summary}.`, values: {} });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const fe: FormErrors = { errors: [], fieldErrors: {} };
      for (const p of error.problems) {
        const id = p.field === 'dataset' ? 'import-dataset' : 'import-file';
        fe.errors.push({ text: p.message, href: `#${id}` });
        fe.fieldErrors[id] ??= p.field === 'dataset' ? p.message : error.problems.length > 1 && p.field !== 'file' ? `The file has ${error.problems.filter((x) => x.field !== 'dataset').length} problems, listed at the top of the page. Nothing was imported.` : p.message;
      }
      return dataPage(reply, code, { values, formErrors: fe }, 422);
    }
  });
}

function policyWords(p: { name: string; years: number; icbGrowth: number; minGrowth: number; maxGrowth: number; gapClosure: number; protectionBand: number }): string {
  return `${p.name}: over ${p.years} years the pot grows ${percent(p.icbGrowth)} a year; each place grows by ${percent(p.minGrowth)} to ${percent(p.maxGrowth)}; ${percent(p.gapClosure, 0)} of the gap to target is closed each year${p.protectionBand > 0 ? `; places up to ${percent(p.protectionBand)} above target are protected` : ''}.`;
}

function weightsWords(s: Scenario): string {
  const core = s.weights.core ? `custom core weights (${CORE_PARTS.map((p) => `${COMPONENT_LABELS[p].toLowerCase()} ${percent(s.weights.core?.[p] ?? 0, 1)}`).join(', ')})` : 'NHS England’s core weighted population';
  const pmc = s.weights.pmcInequalitiesShare === null ? 'NHS England’s primary medical care weighted population' : `primary medical care with ${percent(s.weights.pmcInequalitiesShare, 1)} for health inequalities`;
  return `${core}; ${pmc}`;
}
