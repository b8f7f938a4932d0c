/**
 * The finance module's JSON API under /api/ics/:ics/finance (and /api/finance for the need
 * indices of any of the 42 ICBs, stored or not). Input is validated by JSON schema at the edge
 * (described in the OpenAPI document, tag 'finance'), then by the commands. Money is in pounds
 * in JSON (numbers with at most two decimals); rates and shares are fractions (0.035 is 3.5%).
 * Tables can be exported as CSV or .xlsx and imported from either, with the row and column of
 * every problem.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app.js';
import { NotFoundError, UserError, ValidationError } from '../core/errors.js';
import { loadStructure } from '../structure/repository.js';
import { needIndices } from './allocation.js';
import {
  assignPractices,
  createPlaceSet,
  deleteAllocation,
  deletePlaceSet,
  deleteScenario,
  deleteStandardLine,
  importDataset,
  renamePlace,
  saveAllocation,
  saveFigures,
  savePolicy,
  saveRiskShare,
  saveScenario,
  saveStandardLine,
  setPlaceBudgets,
  setStandardTarget,
  setSystemTarget,
  unassignPractices,
} from './commands.js';
import { DATASETS, DATASET_KEYS, type Dataset } from './datasets.js';
import { type TableData, convergenceTable, datasetTable, monthlyTable, needIndexTable, positionTable, riskShareTable, standardsTable, targetTable, toSheets } from './exports.js';
import {
  COMPONENTS,
  COMPONENT_KEYS,
  CORE_PARTS,
  type ComponentKey,
  FIGURE_KINDS,
  type FinancialYear,
  type NeedWeights,
  PLACE_SET_BASES,
  PLACE_STREAMS,
  RISK_RULE_KINDS,
  STANDARDS,
  STANDARD_CATEGORIES,
  STREAMS,
  type Scenario,
  penceToPounds,
  yearLabel,
} from './model.js';
import { financeYears, getPlaceSet, listAllocations, listPlaceBudgets, listPlaceSets, listPolicies } from './repository.js';
import { UNASSIGNED } from './scenario.js';
import { csvGrid, toCsv } from './tabular.js';
import { type NeedPractice, needIcbs, needPracticesOf } from './weighted-populations.js';
import { looksLikeXlsx, readXlsx, SpreadsheetError, writeXlsx } from './xlsx.js';
import { type ScenarioView, findScenario, positionView, riskShareView, scenarioView, scenariosOrDefault, singlePot, standardsView } from './views.js';

/** Until sign-in arrives (the access module), changes are recorded against this actor. */
export const ANONYMOUS_ACTOR = 'unauthenticated user';

const tags = ['finance'];
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
/** Imports may be larger than ordinary JSON bodies. */
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

const year = { type: 'integer', minimum: 2000, maximum: 2100, description: 'The financial year by the year it starts: 2025 is 2025/26' } as const;
const pounds = { type: 'number', description: 'Pounds, at most two decimals' } as const;
const rate = { type: 'number', description: 'A fraction: 0.035 is 3.5%' } as const;
const icsParams = { type: 'object', required: ['ics'], properties: { ics: { type: 'string', description: 'The ICB ODS code, e.g. QGH' } } } as const;
const withId = (name: string) => ({ type: 'object', required: ['ics', name], properties: { ics: { type: 'string' }, [name]: { type: 'string' } } }) as const;
/** Query strings are text: a year is four digits there. */
const yearParam = { type: 'string', pattern: '^\\d{4}$', description: 'The financial year by the year it starts: 2025 is 2025/26' } as const;
const yearQuery = { type: 'object', additionalProperties: false, properties: { year: yearParam } } as const;
const errorResponse = {
  type: 'object',
  description: 'What went wrong, with each field (or row and column of an imported file) to fix',
  properties: { error: { type: 'string' }, message: { type: 'string' }, problems: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } } },
} as const;
const errors = { 404: errorResponse, 409: errorResponse, 422: errorResponse } as const;
const anyObject = { type: 'object', additionalProperties: true } as const;

const weightsSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Null members mean NHS England’s own weighted populations',
  properties: {
    core: { type: ['object', 'null'], additionalProperties: false, required: [...CORE_PARTS], properties: Object.fromEntries(CORE_PARTS.map((p) => [p, { type: 'number', minimum: 0, maximum: 1 }])) },
    pmcInequalitiesShare: { type: ['number', 'null'], minimum: 0, maximum: 1 },
  },
} as const;
const policySchema = {
  type: 'object',
  required: ['name', 'years', 'icbGrowth', 'minGrowth', 'maxGrowth', 'gapClosure', 'protectionBand'],
  additionalProperties: false,
  properties: { name: { type: 'string', maxLength: 100 }, years: { type: 'integer' }, icbGrowth: rate, minGrowth: rate, maxGrowth: rate, gapClosure: rate, protectionBand: rate },
} as const;

interface IcsParams {
  ics: string;
}

const toPence = (p: number): number => Math.round(p * 100);
const money = (pence: number | null): number | null => (pence === null ? null : penceToPounds(pence));
const weighted = (w: Record<ComponentKey, number>): Record<string, number> => Object.fromEntries(COMPONENT_KEYS.map((k) => [k, Math.round(w[k] * 1000) / 1000]));

/** A worked scenario as JSON: pounds, not pence; every place's need, target, current budget and path. */
export function scenarioJson(view: ScenarioView): Record<string, unknown> {
  const { scenario, result } = view;
  return {
    scenario: {
      id: scenario.id,
      name: scenario.name,
      description: scenario.description,
      year: scenario.year,
      yearLabel: yearLabel(scenario.year),
      placeSet: { id: view.placeSet.id, name: view.placeSet.name, basis: view.placeSet.basis },
      policy: view.policy,
      weights: scenario.weights,
    },
    icb: { practices: result.need.icb.totals.practices, population: result.need.icb.totals.population, weightedPopulation: weighted(result.need.icb.weighted), index: result.need.icb.index },
    places: result.need.places.map((p) => ({ key: p.key, name: p.name, unassigned: p.key === UNASSIGNED, practices: p.totals.practices, population: p.totals.population, weightedPopulation: weighted(p.weighted), index: p.index })),
    streams: result.streams.map((s) => ({
      stream: s.stream,
      label: STREAMS[s.stream],
      distributedBy: PLACE_STREAMS[s.stream],
      potSource: s.potSource,
      pot: money(s.pot),
      places: s.places.map((p) => ({ key: p.key, name: p.name, weightedPopulation: Math.round(p.weight * 1000) / 1000, share: p.share, target: money(p.target), current: money(p.current), distance: p.distance })),
      path: s.path?.map((y) => ({
        year: scenario.year + y.offset,
        yearLabel: yearLabel(scenario.year + y.offset),
        total: money(y.total),
        places: s.places.map((p, i) => ({ key: p.key, budget: money(y.budgets[i] ?? 0), growth: y.offset === 0 ? null : (y.growth[i] ?? 0), target: money(y.targets[i] ?? 0), distance: y.distance[i] ?? 0 })),
      })) ?? null,
      pathNote: s.pathNote,
    })),
    unknownPractices: result.unknownPractices,
  };
}

/** One place of a scenario, down to its practices: how each index is made. */
export function placeDrillDown(view: ScenarioView, key: string): Record<string, unknown> {
  const place = view.result.need.places.find((p) => p.key === key);
  if (!place) throw new NotFoundError(`Place ${key} in scenario ${view.scenario.name}`);
  const group = view.groups.find((g) => g.key === key);
  const assigned = new Set(view.groups.flatMap((g) => g.practiceCodes));
  const practices: NeedPractice[] = key === UNASSIGNED ? [...view.practices.values()].filter((p) => !assigned.has(p.code)) : (group?.practiceCodes ?? []).map((c) => view.practices.get(c)).filter((p): p is NeedPractice => p !== undefined);
  const icb = view.result.need.icb;
  return {
    key,
    name: place.name,
    practices: practices
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((p) => ({ code: p.code, name: p.name, pcnCode: p.pcnCode, pcnName: p.pcnName, district: p.ladName, population: p.population, weightedPopulation: weighted(p.wp), filledWithOne: p.filled })),
    totals: { practices: place.totals.practices, population: place.totals.population, weightedPopulation: weighted(place.weighted) },
    icb: { population: icb.totals.population, weightedPopulation: weighted(icb.weighted) },
    index: COMPONENTS.map((c) => ({
      component: c.key,
      label: c.label,
      placeWeightedPopulation: Math.round(place.weighted[c.key] * 1000) / 1000,
      placePopulation: place.totals.population,
      icbWeightedPopulation: Math.round(icb.weighted[c.key] * 1000) / 1000,
      icbPopulation: icb.totals.population,
      unrounded: place.totals.population > 0 ? place.weighted[c.key] / place.totals.population / (icb.weighted[c.key] / icb.totals.population) : null,
      index: place.index[c.key],
    })),
    streams: view.result.streams.map((s) => {
      const p = s.places.find((x) => x.key === key);
      return { stream: s.stream, share: p?.share ?? 0, target: money(p?.target ?? 0), current: money(p?.current ?? null), distance: p?.distance ?? null };
    }),
  };
}

/** Sends a table as CSV or a spreadsheet. */
export function sendTables(reply: FastifyReply, filename: string, format: 'csv' | 'xlsx', tables: TableData[]): FastifyReply {
  if (format === 'xlsx') return reply.type(XLSX_TYPE).header('content-disposition', `attachment; filename="${filename}.xlsx"`).send(writeXlsx(toSheets(tables)));
  const csv = tables.map((t, i) => (tables.length > 1 ? `${i > 0 ? '\n' : ''}${t.name}\n` : '') + toCsv(t.header, t.rows)).join('');
  return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${filename}.csv"`).send(csv);
}

/** An uploaded table (CSV text or .xlsx bytes) as a grid; a file that cannot be read is a 422 naming the file. */
export function gridOf(body: Buffer | string): string[][] {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  if (looksLikeXlsx(bytes)) {
    try {
      return readXlsx(bytes);
    } catch (error) {
      if (error instanceof SpreadsheetError) throw ValidationError.field('file', error.message);
      throw ValidationError.field('file', 'The spreadsheet cannot be read; save it again as .xlsx or as CSV UTF-8');
    }
  }
  if (bytes.includes(0)) throw ValidationError.field('file', 'The file is neither CSV nor a spreadsheet (.xlsx); save it as CSV UTF-8 or .xlsx');
  const { grid, problems } = csvGrid(bytes.toString('utf8'));
  if (problems.length > 0) throw new ValidationError(problems);
  return grid;
}

export async function registerFinanceApi(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(async (api) => {
    api.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'buffer', bodyLimit: MAX_IMPORT_BYTES }, (_request, body, done) => done(null, body));
    api.addContentTypeParser([XLSX_TYPE, 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: MAX_IMPORT_BYTES }, (_request, body, done) => done(null, body));

    const icsOf = async (request: FastifyRequest<{ Params: IcsParams }>): Promise<string> => {
      const code = request.params.ics.toUpperCase();
      if ((await ctx.db.query('SELECT 1 FROM ics WHERE code = $1', [code])).rowCount === 0) throw new NotFoundError(`ICS ${request.params.ics}`);
      return code;
    };
    const yearOf = async (ics: string, query: { year?: string }): Promise<FinancialYear> => (query.year === undefined ? (await singlePot(ctx.db, ics)).year : Number(query.year));
    const optionalYear = (query: { year?: string }): FinancialYear | undefined => (query.year === undefined ? undefined : Number(query.year));

    // ---- any ICB ------------------------------------------------------------------------------
    api.get('/api/finance/icbs', { schema: { tags, summary: 'The 42 ICBs in NHS England’s 2025/26 practice data, with their practices and population' } }, async () => ({
      icbs: needIcbs().map((i) => ({ ...i, population: Math.round(needPracticesOf(i.code).reduce((a, p) => a + p.population, 0)) })),
    }));

    api.post<{ Body: { icb: string; places: { name: string; practices: string[] }[]; weights?: NeedWeights } }>(
      '/api/finance/need-indices',
      {
        schema: {
          tags,
          summary: 'Need indices of any places (sets of practices) of any of the 42 ICBs, exactly as NHS England’s place-based allocation tool computes them',
          body: {
            type: 'object',
            required: ['icb', 'places'],
            additionalProperties: false,
            properties: {
              icb: { type: 'string', pattern: '^[A-Za-z0-9]{3}$' },
              places: { type: 'array', minItems: 1, maxItems: 2000, items: { type: 'object', required: ['name', 'practices'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, practices: { type: 'array', minItems: 1, items: { type: 'string' } } } } },
              weights: weightsSchema,
            },
          },
          response: { 200: anyObject, ...errors },
        },
      },
      async (request) => {
        const practices = needPracticesOf(request.body.icb);
        const byCode = new Map(practices.map((p) => [p.code, p]));
        const problems: { field: string; message: string }[] = [];
        request.body.places.forEach((place, i) =>
          place.practices.forEach((code, j) => {
            if (!byCode.has(code.toUpperCase())) problems.push({ field: `places.${i}.practices.${j}`, message: `${code} is not a practice of ${request.body.icb.toUpperCase()} in NHS England’s 2025/26 data` });
          }),
        );
        if (problems.length > 0) throw new ValidationError(problems);
        const weights: NeedWeights = { core: request.body.weights?.core ?? null, pmcInequalitiesShare: request.body.weights?.pmcInequalitiesShare ?? null };
        const result = needIndices(
          request.body.places.map((p, i) => ({ key: String(i), name: p.name, practices: p.practices.map((c) => byCode.get(c.toUpperCase())).filter((x): x is NeedPractice => x !== undefined) })),
          practices,
          weights,
        );
        return {
          icb: { code: request.body.icb.toUpperCase(), practices: result.icb.totals.practices, population: result.icb.totals.population, weightedPopulation: weighted(result.icb.weighted), index: result.icb.index },
          places: result.places.map((p) => ({ name: p.name, practices: p.totals.practices, population: p.totals.population, weightedPopulation: weighted(p.weighted), index: p.index })),
          method: 'Each column summed over the practices and rounded half up to a whole number; index = (place WP / place population) / (ICB WP / ICB population), rounded half up to 0.001.',
        };
      },
    );

    // ---- the single pot -------------------------------------------------------------------------
    api.get<{ Params: IcsParams; Querystring: { year?: string } }>('/api/ics/:ics/finance', { schema: { tags, summary: 'The single pot: the ICB’s allocation by stream for a year, totals and pounds per head', params: icsParams, querystring: yearQuery } }, async (request) => {
      const ics = await icsOf(request);
      const pot = await singlePot(ctx.db, ics, optionalYear(request.query));
      return {
        year: pot.year,
        yearLabel: yearLabel(pot.year),
        years: pot.years,
        population: pot.population,
        revenueTotal: money(pot.revenueTotal),
        revenuePerHead: money(pot.revenuePerHead),
        capitalTotal: money(pot.capitalTotal),
        streams: pot.streams.map((s) => ({ stream: s.stream, label: s.label, total: money(s.total), perHead: money(s.perHead), growth: s.growth, revenue: s.revenue, lines: s.lines.map((l) => ({ ...l, amount: money(l.amount) })) })),
      };
    });

    const allocationBody = {
      type: 'object',
      required: ['year', 'stream', 'name', 'amount', 'source'],
      additionalProperties: false,
      properties: { year, stream: { type: 'string', enum: Object.keys(STREAMS) }, name: { type: 'string', minLength: 1, maxLength: 200 }, amount: pounds, source: { type: 'string', minLength: 1, maxLength: 500 }, conditions: { type: ['string', 'null'], maxLength: 2000 }, recurrent: { type: 'boolean' } },
    } as const;
    type AllocationBody = { year: number; stream: string; name: string; amount: number; source: string; conditions?: string | null; recurrent?: boolean };

    api.get<{ Params: IcsParams; Querystring: { year?: string } }>('/api/ics/:ics/finance/allocations', { schema: { tags, summary: 'Allocation lines, with their sources and conditions', params: icsParams, querystring: yearQuery } }, async (request) => {
      const ics = await icsOf(request);
      return { allocations: (await listAllocations(ctx.db, ics, optionalYear(request.query))).map((l) => ({ ...l, amount: money(l.amount) })) };
    });

    api.post<{ Params: IcsParams; Body: AllocationBody }>('/api/ics/:ics/finance/allocations', { schema: { tags, summary: 'Add an allocation line (or replace the one with the same year, stream and name)', params: icsParams, body: allocationBody, response: { 201: anyObject, ...errors } } }, async (request, reply) => {
      const ics = await icsOf(request);
      const id = await saveAllocation(ctx.db, ics, { ...request.body, amount: toPence(request.body.amount) }, ANONYMOUS_ACTOR);
      return reply.status(201).send({ id });
    });

    api.put<{ Params: IcsParams & { id: string }; Body: AllocationBody }>('/api/ics/:ics/finance/allocations/:id', { schema: { tags, summary: 'Change an allocation line', params: withId('id'), body: allocationBody, response: { 200: anyObject, ...errors } } }, async (request) => {
      const ics = await icsOf(request);
      return { id: await saveAllocation(ctx.db, ics, { ...request.body, amount: toPence(request.body.amount) }, ANONYMOUS_ACTOR, request.params.id) };
    });

    api.delete<{ Params: IcsParams & { id: string } }>('/api/ics/:ics/finance/allocations/:id', { schema: { tags, summary: 'Remove an allocation line', params: withId('id'), response: { 204: { type: 'null' }, ...errors } } }, async (request, reply) => {
      const ics = await icsOf(request);
      await deleteAllocation(ctx.db, ics, request.params.id, ANONYMOUS_ACTOR);
      return reply.status(204).send();
    });

    // ---- current place budgets ------------------------------------------------------------------
    api.get<{ Params: IcsParams; Querystring: { year?: string } }>('/api/ics/:ics/finance/place-budgets', { schema: { tags, summary: 'Current budgets of the ICS’s places, by stream', params: icsParams, querystring: yearQuery } }, async (request) => {
      const ics = await icsOf(request);
      return { budgets: (await listPlaceBudgets(ctx.db, ics, optionalYear(request.query))).map((b) => ({ ...b, amount: money(b.amount) })) };
    });

    api.put<{ Params: IcsParams & { year: string; stream: string }; Body: { budgets: { placeId: string; amount: number }[] } }>(
      '/api/ics/:ics/finance/place-budgets/:year/:stream',
      {
        schema: {
          tags,
          summary: 'Set the current budgets of the ICS’s places for a year and stream (places not named keep theirs)',
          params: { type: 'object', required: ['ics', 'year', 'stream'], properties: { ics: { type: 'string' }, year: { type: 'string', pattern: '^\\d{4}$' }, stream: { type: 'string', enum: Object.keys(PLACE_STREAMS) } } },
          body: { type: 'object', required: ['budgets'], additionalProperties: false, properties: { budgets: { type: 'array', items: { type: 'object', required: ['placeId', 'amount'], additionalProperties: false, properties: { placeId: { type: 'string' }, amount: pounds } } } } },
          response: { 204: { type: 'null' }, ...errors },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        await setPlaceBudgets(ctx.db, ics, Number(request.params.year), request.params.stream, request.body.budgets.map((b) => ({ placeId: b.placeId, amount: toPence(b.amount) })), ANONYMOUS_ACTOR);
        return reply.status(204).send();
      },
    );

    // ---- place definitions ----------------------------------------------------------------------
    const placeSetJson = async (ics: string, id: string): Promise<Record<string, unknown>> => {
      const set = await getPlaceSet(ctx.db, ics, id);
      const s = await loadStructure(ctx.db, ics);
      const places = new Map<string, string[]>();
      if (set.basis === 'structure') {
        for (const p of s.practices) {
          const name = s.places.find((pl) => pl.id === p.placeId)?.name;
          if (name) places.set(name, [...(places.get(name) ?? []), p.orgCode]);
        }
      } else {
        for (const [code, name] of set.assignments) places.set(name, [...(places.get(name) ?? []), code]);
      }
      return { id: set.id, name: set.name, description: set.description, basis: set.basis, editable: set.basis !== 'structure', places: [...places.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([name, practices]) => ({ name, practices: practices.sort() })) };
    };

    api.get<{ Params: IcsParams }>('/api/ics/:ics/finance/place-definitions', { schema: { tags, summary: 'Place definitions: named sets of practice-to-place assignments', params: icsParams } }, async (request) => {
      const ics = await icsOf(request);
      const sets = await listPlaceSets(ctx.db, ics);
      return { placeDefinitions: sets.map((s) => ({ id: s.id, name: s.name, description: s.description, basis: s.basis, places: s.basis === 'structure' ? null : new Set(s.assignments.values()).size, practices: s.basis === 'structure' ? null : s.assignments.size })) };
    });

    api.post<{ Params: IcsParams; Body: { name: string; description?: string; basis: string; assignments?: { practiceCode: string; place: string }[]; copyOf?: string } }>(
      '/api/ics/:ics/finance/place-definitions',
      {
        schema: {
          tags,
          summary: 'Add place definitions: drawn from the data (districts, upper_tier, pcns) or given (custom, with assignments or copyOf)',
          params: icsParams,
          body: {
            type: 'object',
            required: ['name', 'basis'],
            additionalProperties: false,
            properties: {
              name: { type: 'string', minLength: 1, maxLength: 100 },
              description: { type: 'string', maxLength: 1000 },
              basis: { type: 'string', enum: Object.keys(PLACE_SET_BASES).filter((b) => b !== 'structure') },
              assignments: { type: 'array', items: { type: 'object', required: ['practiceCode', 'place'], additionalProperties: false, properties: { practiceCode: { type: 'string' }, place: { type: 'string', minLength: 1, maxLength: 100 } } } },
              copyOf: { type: 'string' },
            },
          },
          response: { 201: anyObject, ...errors },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        const id = await createPlaceSet(ctx.db, ics, request.body, ANONYMOUS_ACTOR);
        return reply.status(201).send(await placeSetJson(ics, id));
      },
    );

    api.get<{ Params: IcsParams & { id: string } }>('/api/ics/:ics/finance/place-definitions/:id', { schema: { tags, summary: 'One set of place definitions, with the practices of each place', params: withId('id') } }, async (request) => placeSetJson(await icsOf(request), request.params.id));

    api.patch<{ Params: IcsParams & { id: string }; Body: { assignments?: { practiceCode: string; place: string }[]; unassign?: string[]; rename?: { from: string; to: string } } }>(
      '/api/ics/:ics/finance/place-definitions/:id',
      {
        schema: {
          tags,
          summary: 'Move practices between places (a new name makes a new place), take practices out of their places, or rename a place (renaming to another place’s name merges them)',
          params: withId('id'),
          body: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: {
              assignments: { type: 'array', items: { type: 'object', required: ['practiceCode', 'place'], additionalProperties: false, properties: { practiceCode: { type: 'string' }, place: { type: 'string', minLength: 1, maxLength: 100 } } } },
              unassign: { type: 'array', items: { type: 'string' } },
              rename: { type: 'object', required: ['from', 'to'], additionalProperties: false, properties: { from: { type: 'string' }, to: { type: 'string', maxLength: 100 } } },
            },
          },
          response: { 200: anyObject, ...errors },
        },
      },
      async (request) => {
        const ics = await icsOf(request);
        const { id } = request.params;
        if (request.body.assignments) await assignPractices(ctx.db, ics, id, request.body.assignments, ANONYMOUS_ACTOR);
        if (request.body.unassign) await unassignPractices(ctx.db, ics, id, request.body.unassign, ANONYMOUS_ACTOR);
        if (request.body.rename) await renamePlace(ctx.db, ics, id, request.body.rename.from, request.body.rename.to, ANONYMOUS_ACTOR);
        return placeSetJson(ics, id);
      },
    );

    api.delete<{ Params: IcsParams & { id: string } }>('/api/ics/:ics/finance/place-definitions/:id', { schema: { tags, summary: 'Remove place definitions no scenario uses', params: withId('id'), response: { 204: { type: 'null' }, ...errors } } }, async (request, reply) => {
      await deletePlaceSet(ctx.db, await icsOf(request), request.params.id, ANONYMOUS_ACTOR);
      return reply.status(204).send();
    });

    // ---- policies and scenarios -----------------------------------------------------------------
    api.get<{ Params: IcsParams }>('/api/ics/:ics/finance/policies', { schema: { tags, summary: 'Convergence (pace of change) policies', params: icsParams } }, async (request) => ({ policies: await listPolicies(ctx.db, await icsOf(request)) }));

    api.post<{ Params: IcsParams; Body: { name: string; years: number; icbGrowth: number; minGrowth: number; maxGrowth: number; gapClosure: number; protectionBand: number } }>(
      '/api/ics/:ics/finance/policies',
      { schema: { tags, summary: 'Add a convergence policy', params: icsParams, body: policySchema, response: { 201: anyObject, ...errors } } },
      async (request, reply) => reply.status(201).send({ id: await savePolicy(ctx.db, await icsOf(request), request.body, ANONYMOUS_ACTOR) }),
    );

    api.put<{ Params: IcsParams & { id: string }; Body: { name: string; years: number; icbGrowth: number; minGrowth: number; maxGrowth: number; gapClosure: number; protectionBand: number } }>(
      '/api/ics/:ics/finance/policies/:id',
      { schema: { tags, summary: 'Change a convergence policy (every scenario that uses it changes with it)', params: withId('id'), body: policySchema, response: { 200: anyObject, ...errors } } },
      async (request) => ({ id: await savePolicy(ctx.db, await icsOf(request), request.body, ANONYMOUS_ACTOR, request.params.id) }),
    );

    const scenarioBody = {
      type: 'object',
      required: ['name', 'year', 'placeSetId', 'weights'],
      additionalProperties: false,
      properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, description: { type: ['string', 'null'], maxLength: 1000 }, year, placeSetId: { type: 'string' }, policyId: { type: 'string' }, policy: policySchema, weights: weightsSchema },
    } as const;
    type ScenarioBody = { name: string; description?: string | null; year: number; placeSetId: string; policyId?: string; policy?: { name: string; years: number; icbGrowth: number; minGrowth: number; maxGrowth: number; gapClosure: number; protectionBand: number }; weights: { core?: NeedWeights['core']; pmcInequalitiesShare?: number | null } };
    const scenarioInput = (body: ScenarioBody) => ({ ...body, weights: { core: body.weights.core ?? null, pmcInequalitiesShare: body.weights.pmcInequalitiesShare ?? null } });

    api.get<{ Params: IcsParams }>('/api/ics/:ics/finance/scenarios', { schema: { tags, summary: 'Allocation scenarios (the ICS’s places with NHS England’s weights until one is saved)', params: icsParams } }, async (request) => {
      const ics = await icsOf(request);
      const { scenarios, saved } = await scenariosOrDefault(ctx.db, ics);
      return { saved, scenarios: scenarios.map((s: Scenario) => ({ id: s.id, name: s.name, description: s.description, year: s.year, placeSetId: s.placeSetId, policyId: s.policyId, weights: s.weights })) };
    });

    api.post<{ Params: IcsParams; Body: ScenarioBody }>('/api/ics/:ics/finance/scenarios', { schema: { tags, summary: 'Save a scenario: place definitions, need weights and a policy (an existing policyId, or a policy of its own)', params: icsParams, body: scenarioBody, response: { 201: anyObject, ...errors } } }, async (request, reply) => {
      const ics = await icsOf(request);
      const id = await saveScenario(ctx.db, ics, scenarioInput(request.body), ANONYMOUS_ACTOR);
      return reply.status(201).send(scenarioJson(await scenarioView(ctx.db, ics, await findScenario(ctx.db, ics, id))));
    });

    api.get<{ Params: IcsParams & { id: string } }>('/api/ics/:ics/finance/scenarios/:id', { schema: { tags, summary: 'A scenario worked through: need indices, targets, current budgets, distance from target and the convergence path', params: withId('id') } }, async (request) => {
      const ics = await icsOf(request);
      return scenarioJson(await scenarioView(ctx.db, ics, await findScenario(ctx.db, ics, request.params.id)));
    });

    api.put<{ Params: IcsParams & { id: string }; Body: ScenarioBody }>('/api/ics/:ics/finance/scenarios/:id', { schema: { tags, summary: 'Change a scenario', params: withId('id'), body: scenarioBody, response: { 200: anyObject, ...errors } } }, async (request) => {
      const ics = await icsOf(request);
      await saveScenario(ctx.db, ics, scenarioInput(request.body), ANONYMOUS_ACTOR, request.params.id);
      return scenarioJson(await scenarioView(ctx.db, ics, await findScenario(ctx.db, ics, request.params.id)));
    });

    api.delete<{ Params: IcsParams & { id: string } }>('/api/ics/:ics/finance/scenarios/:id', { schema: { tags, summary: 'Remove a scenario', params: withId('id'), response: { 204: { type: 'null' }, ...errors } } }, async (request, reply) => {
      await deleteScenario(ctx.db, await icsOf(request), request.params.id, ANONYMOUS_ACTOR);
      return reply.status(204).send();
    });

    api.get<{ Params: IcsParams & { id: string; place: string } }>(
      '/api/ics/:ics/finance/scenarios/:id/places/:place',
      { schema: { tags, summary: 'One place of a scenario down to its practices and their weighted populations, with how each index is made', params: { type: 'object', required: ['ics', 'id', 'place'], properties: { ics: { type: 'string' }, id: { type: 'string' }, place: { type: 'string' } } } } },
      async (request) => {
        const ics = await icsOf(request);
        return placeDrillDown(await scenarioView(ctx.db, ics, await findScenario(ctx.db, ics, request.params.id)), request.params.place);
      },
    );

    api.get<{ Params: IcsParams; Querystring: { scenarios: string } }>(
      '/api/ics/:ics/finance/compare',
      { schema: { tags, summary: 'Scenarios side by side (comma-separated ids)', params: icsParams, querystring: { type: 'object', required: ['scenarios'], additionalProperties: false, properties: { scenarios: { type: 'string', minLength: 1 } } } } },
      async (request) => {
        const ics = await icsOf(request);
        const ids = [...new Set(request.query.scenarios.split(',').map((s) => s.trim()).filter(Boolean))];
        if (ids.length > 4) throw ValidationError.field('querystring.scenarios', 'Compare at most four scenarios at a time');
        const s = await loadStructure(ctx.db, ics);
        const views = await Promise.all(ids.map(async (id) => scenarioView(ctx.db, ics, await findScenario(ctx.db, ics, id), s)));
        return { scenarios: views.map(scenarioJson) };
      },
    );

    api.get<{ Params: IcsParams & { id: string }; Querystring: { format?: 'csv' | 'xlsx'; table?: 'need' | 'targets' | 'convergence' | 'all' } }>(
      '/api/ics/:ics/finance/scenarios/:id/export',
      {
        schema: {
          tags,
          summary: 'A scenario’s tables for a spreadsheet: need indices, targets against current budgets, and the convergence path',
          params: withId('id'),
          querystring: { type: 'object', additionalProperties: false, properties: { format: { type: 'string', enum: ['csv', 'xlsx'] }, table: { type: 'string', enum: ['need', 'targets', 'convergence', 'all'] } } },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        const view = await scenarioView(ctx.db, ics, await findScenario(ctx.db, ics, request.params.id));
        const table = request.query.table ?? 'all';
        const tables = [...(table === 'need' || table === 'all' ? [needIndexTable(view)] : []), ...(table === 'targets' || table === 'all' ? [targetTable(view)] : []), ...(table === 'convergence' || table === 'all' ? [convergenceTable(view)] : [])];
        const slug = view.scenario.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
        return sendTables(reply, `${ics}-${slug}-${table}`, request.query.format ?? 'csv', tables);
      },
    );

    // ---- investment standards -------------------------------------------------------------------
    const lineBody = {
      type: 'object',
      required: ['year', 'standard', 'category', 'description', 'plan'],
      additionalProperties: false,
      properties: {
        year,
        standard: { type: 'string', enum: Object.keys(STANDARDS) },
        category: { type: 'string', description: `One of: ${Object.entries(STANDARD_CATEGORIES).map(([s, c]) => `${s}: ${Object.keys(c).join(', ')}`).join('; ')}` },
        description: { type: 'string', minLength: 1, maxLength: 300 },
        plan: pounds,
        outturn: { type: ['number', 'null'] },
        excluded: { type: 'boolean', description: 'Absent: excluded if NHS England excludes the category' },
        reason: { type: ['string', 'null'], maxLength: 1000 },
      },
    } as const;
    type LineBody = { year: number; standard: string; category: string; description: string; plan: number; outturn?: number | null; excluded?: boolean; reason?: string | null };
    const lineInput = (b: LineBody) => ({ ...b, plan: toPence(b.plan), outturn: b.outturn === undefined || b.outturn === null ? null : toPence(b.outturn) });

    api.get<{ Params: IcsParams; Querystring: { year?: string } }>('/api/ics/:ics/finance/standards', { schema: { tags, summary: 'The Mental Health Investment Standard and the primary medical and community services guarantee: compliance, shortfall and reason', params: icsParams, querystring: yearQuery } }, async (request) => {
      const ics = await icsOf(request);
      const y = await yearOf(ics, request.query);
      const checks = await standardsView(ctx.db, ics, y);
      return {
        year: y,
        standards: checks.map((c) => ({
          ...c,
          base: c.base ? { ...c.base, counted: money(c.base.counted) } : null,
          minimum: money(c.minimum),
          plan: { ...c.plan, counted: money(c.plan.counted), excluded: money(c.plan.excluded), shortfall: money(c.plan.shortfall), headroom: money(c.plan.headroom) },
          outturn: c.outturn ? { ...c.outturn, counted: money(c.outturn.counted), excluded: money(c.outturn.excluded), shortfall: money(c.outturn.shortfall), headroom: money(c.outturn.headroom) } : null,
          lines: c.lines.map((l) => ({ ...l, plan: money(l.plan), outturn: money(l.outturn) })),
          exclusions: c.exclusions.map((e) => ({ ...e, amount: money(e.amount) })),
        })),
      };
    });

    api.post<{ Params: IcsParams; Body: LineBody }>('/api/ics/:ics/finance/standards/lines', { schema: { tags, summary: 'Add a spending line to a standard (or replace the one with the same year, standard and description)', params: icsParams, body: lineBody, response: { 201: anyObject, ...errors } } }, async (request, reply) =>
      reply.status(201).send({ id: await saveStandardLine(ctx.db, await icsOf(request), lineInput(request.body), ANONYMOUS_ACTOR) }),
    );

    api.put<{ Params: IcsParams & { id: string }; Body: LineBody }>('/api/ics/:ics/finance/standards/lines/:id', { schema: { tags, summary: 'Change a spending line (for example, enter its outturn)', params: withId('id'), body: lineBody, response: { 200: anyObject, ...errors } } }, async (request) => ({
      id: await saveStandardLine(ctx.db, await icsOf(request), lineInput(request.body), ANONYMOUS_ACTOR, request.params.id),
    }));

    api.delete<{ Params: IcsParams & { id: string } }>('/api/ics/:ics/finance/standards/lines/:id', { schema: { tags, summary: 'Remove a spending line', params: withId('id'), response: { 204: { type: 'null' }, ...errors } } }, async (request, reply) => {
      await deleteStandardLine(ctx.db, await icsOf(request), request.params.id, ANONYMOUS_ACTOR);
      return reply.status(204).send();
    });

    api.put<{ Params: IcsParams & { standard: string; year: string }; Body: { requiredGrowth: number; basis: string } }>(
      '/api/ics/:ics/finance/standards/:standard/:year/target',
      {
        schema: {
          tags,
          summary: 'Set the growth a standard requires in a year, and what it is (for MHIS, the programme allocation growth before convergence)',
          params: { type: 'object', required: ['ics', 'standard', 'year'], properties: { ics: { type: 'string' }, standard: { type: 'string', enum: Object.keys(STANDARDS) }, year: { type: 'string', pattern: '^\\d{4}$' } } },
          body: { type: 'object', required: ['requiredGrowth', 'basis'], additionalProperties: false, properties: { requiredGrowth: rate, basis: { type: 'string', minLength: 1, maxLength: 500 } } },
          response: { 204: { type: 'null' }, ...errors },
        },
      },
      async (request, reply) => {
        await setStandardTarget(ctx.db, await icsOf(request), { year: Number(request.params.year), standard: request.params.standard, ...request.body }, ANONYMOUS_ACTOR);
        return reply.status(204).send();
      },
    );

    // ---- the system position --------------------------------------------------------------------
    api.get<{ Params: IcsParams; Querystring: { year?: string } }>('/api/ics/:ics/finance/position', { schema: { tags, summary: 'The system financial position: each organisation’s plan, year to date, variance and forecast; the system target; spend against delegated budgets', params: icsParams, querystring: yearQuery } }, async (request) => {
      const ics = await icsOf(request);
      const y = await yearOf(ics, request.query);
      const view = await positionView(ctx.db, ics, y);
      const amounts = (a: { income: number; pay: number; nonPay: number; surplus: number }) => ({ income: money(a.income), pay: money(a.pay), nonPay: money(a.nonPay), surplus: money(a.surplus) });
      const months = (ms: { month: number; label: string; plan: number; actual: number | null; cumulativePlan: number; cumulativeActual: number | null }[]) =>
        ms.map((m) => ({ ...m, plan: money(m.plan), actual: money(m.actual), cumulativePlan: money(m.cumulativePlan), cumulativeActual: money(m.cumulativeActual) }));
      const p = view.position;
      return {
        year: p.year,
        yearLabel: yearLabel(p.year),
        month: p.month,
        monthLabel: p.monthLabel,
        target: p.target ? { surplus: money(p.target.surplus), description: p.target.description } : null,
        planAgainstTarget: money(p.planAgainstTarget),
        forecastAgainstTarget: money(p.forecastAgainstTarget),
        organisations: p.organisations.map((o) => ({ ...o, plan: amounts(o.plan), ytdPlan: amounts(o.ytdPlan), ytdActual: amounts(o.ytdActual), ytdVariance: amounts(o.ytdVariance), forecast: amounts(o.forecast), forecastVariance: money(o.forecastVariance), runRateSurplus: money(o.runRateSurplus), months: months(o.months) })),
        totals: { ...p.totals, plan: amounts(p.totals.plan), ytdPlan: amounts(p.totals.ytdPlan), ytdActual: amounts(p.totals.ytdActual), ytdVariance: amounts(p.totals.ytdVariance), forecast: amounts(p.totals.forecast), forecastVariance: money(p.totals.forecastVariance), runRateSurplus: money(p.totals.runRateSurplus), months: months(p.totals.months) },
        delegatedBudgets: view.delegated.map((d) => ({ ...d, budget: money(d.budget), ytdSpend: money(d.ytdSpend), ytdBudget: money(d.ytdBudget), forecast: money(d.forecast), forecastVariance: money(d.forecastVariance) })),
      };
    });

    api.put<{ Params: IcsParams; Body: { figures: { orgCode: string; year: number; kind: string; month: number; income: number; pay: number; nonPay: number }[] } }>(
      '/api/ics/:ics/finance/position/figures',
      {
        schema: {
          tags,
          summary: 'Record plans and actuals by month (1 April … 12 March) and full-year forecasts (month 0), replacing what is held for the same organisation, year, kind and month',
          params: icsParams,
          body: {
            type: 'object',
            required: ['figures'],
            additionalProperties: false,
            properties: {
              figures: {
                type: 'array',
                minItems: 1,
                maxItems: 5000,
                items: { type: 'object', required: ['orgCode', 'year', 'kind', 'month', 'income', 'pay', 'nonPay'], additionalProperties: false, properties: { orgCode: { type: 'string' }, year, kind: { type: 'string', enum: Object.keys(FIGURE_KINDS) }, month: { type: 'integer', minimum: 0, maximum: 12 }, income: pounds, pay: pounds, nonPay: pounds } },
              },
            },
          },
          response: { 204: { type: 'null' }, ...errors },
        },
      },
      async (request, reply) => {
        await saveFigures(ctx.db, await icsOf(request), request.body.figures.map((f) => ({ ...f, kind: f.kind as keyof typeof FIGURE_KINDS, income: toPence(f.income), pay: toPence(f.pay), nonPay: toPence(f.nonPay) })), ANONYMOUS_ACTOR);
        return reply.status(204).send();
      },
    );

    api.put<{ Params: IcsParams & { year: string }; Body: { surplus: number; description?: string | null } }>(
      '/api/ics/:ics/finance/position/:year/target',
      {
        schema: {
          tags,
          summary: 'Set the system financial target the organisations share (surplus; negative for a deficit; 0 for breakeven)',
          params: { type: 'object', required: ['ics', 'year'], properties: { ics: { type: 'string' }, year: { type: 'string', pattern: '^\\d{4}$' } } },
          body: { type: 'object', required: ['surplus'], additionalProperties: false, properties: { surplus: pounds, description: { type: ['string', 'null'], maxLength: 1000 } } },
          response: { 204: { type: 'null' }, ...errors },
        },
      },
      async (request, reply) => {
        await setSystemTarget(ctx.db, await icsOf(request), { year: Number(request.params.year), surplus: toPence(request.body.surplus), description: request.body.description }, ANONYMOUS_ACTOR);
        return reply.status(204).send();
      },
    );

    // ---- risk share -----------------------------------------------------------------------------
    api.get<{ Params: IcsParams; Querystring: { year?: string } }>('/api/ics/:ics/finance/risk-share', { schema: { tags, summary: 'The risk-share agreement, its rules in words, and what it does to the forecast position', params: icsParams, querystring: yearQuery } }, async (request) => {
      const ics = await icsOf(request);
      const y = await yearOf(ics, request.query);
      const view = await riskShareView(ctx.db, ics, y);
      return {
        year: y,
        agreement: view.agreement ? { name: view.agreement.name, description: view.agreement.description, residualOrgCode: view.agreement.residualOrgCode } : null,
        rules: view.rules.map((r) => ({ ...r, value: r.kind === 'retain_own_variance' || r.kind === 'cap' ? money(r.value) : r.value })),
        applied: view.applied
          ? { ...view.applied, pool: money(view.applied.pool), residual: money(view.applied.residual), partners: view.applied.partners.map((p) => ({ ...p, plan: money(p.plan), forecast: money(p.forecast), variance: money(p.variance), retained: money(p.retained), poolShare: money(p.poolShare), after: money(p.after), transfer: money(p.transfer) })) }
          : null,
      };
    });

    api.put<{ Params: IcsParams & { year: string }; Body: { name: string; description?: string | null; residualOrgCode: string; rules: { kind: string; orgCode?: string | null; value: number }[] } }>(
      '/api/ics/:ics/finance/risk-share/:year',
      {
        schema: {
          tags,
          summary: 'Set the risk-share agreement for a year. Rules: retain_own_variance (pounds), share_overspend and share_underspend (fractions adding up to 1), cap (pounds)',
          params: { type: 'object', required: ['ics', 'year'], properties: { ics: { type: 'string' }, year: { type: 'string', pattern: '^\\d{4}$' } } },
          body: {
            type: 'object',
            required: ['name', 'residualOrgCode', 'rules'],
            additionalProperties: false,
            properties: {
              name: { type: 'string', minLength: 1, maxLength: 200 },
              description: { type: ['string', 'null'], maxLength: 2000 },
              residualOrgCode: { type: 'string' },
              rules: { type: 'array', maxItems: 100, items: { type: 'object', required: ['kind', 'value'], additionalProperties: false, properties: { kind: { type: 'string', enum: Object.keys(RISK_RULE_KINDS) }, orgCode: { type: ['string', 'null'] }, value: { type: 'number', minimum: 0 } } } },
            },
          },
          response: { 204: { type: 'null' }, ...errors },
        },
      },
      async (request, reply) => {
        const rules = request.body.rules.map((r) => ({ ...r, value: r.kind === 'retain_own_variance' || r.kind === 'cap' ? toPence(r.value) : r.value }));
        await saveRiskShare(ctx.db, await icsOf(request), Number(request.params.year), { ...request.body, rules }, ANONYMOUS_ACTOR);
        return reply.status(204).send();
      },
    );

    // ---- import and export ----------------------------------------------------------------------
    api.get<{ Params: IcsParams & { dataset: string }; Querystring: { year?: string; format?: 'csv' | 'xlsx'; placeSet?: string } }>(
      '/api/ics/:ics/finance/export/:dataset',
      {
        schema: {
          tags,
          summary: 'Export a table as CSV or .xlsx, in the columns it is imported in (datasets: allocations, place-budgets, place-definitions, standards, figures), or a report (standards-check, position, risk-share)',
          params: { type: 'object', required: ['ics', 'dataset'], properties: { ics: { type: 'string' }, dataset: { type: 'string', enum: [...DATASET_KEYS, 'standards-check', 'position', 'risk-share'] } } },
          querystring: { type: 'object', additionalProperties: false, properties: { year: yearParam, format: { type: 'string', enum: ['csv', 'xlsx'] }, placeSet: { type: 'string', description: 'For place-definitions: the place set (default: the ICS’s places)' } } },
        },
      },
      async (request, reply) => {
        const ics = await icsOf(request);
        const format = request.query.format ?? 'csv';
        const dataset = request.params.dataset;
        const y = optionalYear(request.query);
        if (dataset === 'standards-check') return sendTables(reply, `${ics}-investment-standards`, format, [standardsTable(await standardsView(ctx.db, ics, await yearOf(ics, request.query)))]);
        if (dataset === 'position' || dataset === 'risk-share') {
          const view = await positionView(ctx.db, ics, await yearOf(ics, request.query));
          if (dataset === 'position') return sendTables(reply, `${ics}-system-position`, format, [positionTable(view), monthlyTable(view)]);
          return sendTables(reply, `${ics}-risk-share`, format, [riskShareTable(await riskShareView(ctx.db, ics, view.position.year, view))]);
        }
        const s = await loadStructure(ctx.db, ics);
        const structureSet = (await listPlaceSets(ctx.db, ics)).find((p) => p.basis === 'structure');
        let placeSetId = request.query.placeSet;
        if (dataset === 'place-definitions' && (!placeSetId || placeSetId === structureSet?.id)) {
          // The ICS's own places, written out as assignments so they can be edited and imported as a new set.
          const rows = s.practices.filter((p) => p.placeId).map((p) => [p.orgCode, s.places.find((pl) => pl.id === p.placeId)?.name ?? '']);
          return sendTables(reply, `${ics}-place-definitions`, format, [{ name: 'Place definitions', header: ['practice', 'place'], rows: rows.sort((a, b) => String(a[1]).localeCompare(String(b[1])) || String(a[0]).localeCompare(String(b[0]))) }]);
        }
        placeSetId ??= '';
        const table = await datasetTable(ctx.db, ics, dataset as Dataset, { year: y, placeSetId, placeNames: new Map(s.places.map((p) => [p.id, p.name])) });
        return sendTables(reply, `${ics}-${DATASETS[dataset as Dataset].file}${y === undefined ? '' : `-${yearLabel(y).replace('/', '-')}`}`, format, [table]);
      },
    );

    api.post<{ Params: IcsParams & { dataset: string }; Querystring: { placeSet?: string; name?: string }; Body: Buffer }>(
      '/api/ics/:ics/finance/import/:dataset',
      {
        schema: {
          tags,
          summary: 'Import a table: send the file as the body (text/csv, or an .xlsx spreadsheet). Nothing is written unless every row is right; each problem names its row and column.',
          params: { type: 'object', required: ['ics', 'dataset'], properties: { ics: { type: 'string' }, dataset: { type: 'string', enum: DATASET_KEYS } } },
          querystring: { type: 'object', additionalProperties: false, properties: { placeSet: { type: 'string', description: 'place-definitions: replace this place set' }, name: { type: 'string', maxLength: 100, description: 'place-definitions: the name of a new place set' } } },
          consumes: ['text/csv', XLSX_TYPE],
          response: { 200: anyObject, ...errors },
        },
      },
      async (request) => {
        const ics = await icsOf(request);
        if (!Buffer.isBuffer(request.body) || request.body.length === 0) throw new UserError(415, 'Send the file as the body, as text/csv or an .xlsx spreadsheet', [{ field: 'file', message: 'Send the file as text/csv or .xlsx' }]);
        return importDataset(ctx.db, ics, request.params.dataset as Dataset, gridOf(request.body), ANONYMOUS_ACTOR, { placeSetId: request.query.placeSet, placeSetName: request.query.name });
      },
    );

    api.get<{ Params: IcsParams }>('/api/ics/:ics/finance/years', { schema: { tags, summary: 'Financial years with finance data', params: icsParams } }, async (request) => {
      const years = await financeYears(ctx.db, await icsOf(request));
      return { years: years.map((y) => ({ year: y, label: yearLabel(y) })) };
    });
  });
}
