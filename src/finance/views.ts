/**
 * Read models of the finance module, shared by the JSON API and the pages so they never
 * disagree: the single pot, a scenario worked through (with the place definitions and policy it
 * uses), scenarios side by side, the investment standards, the system position and the
 * risk share applied to it.
 */
import type { Queryable } from '../core/db/database.js';
import { NotFoundError } from '../core/errors.js';
import { functionsMap } from '../structure/functions-map.js';
import type { IcsStructure } from '../structure/model.js';
import { loadStructure } from '../structure/repository.js';
import { type StandardCheck, checkStandard } from './mhis.js';
import {
  type AllocationLine,
  type ConvergencePolicy,
  type FinancialYear,
  NHSE_WEIGHTS,
  type PlaceSet,
  PLACE_STREAMS,
  type PlaceStream,
  type RiskShareAgreement,
  STREAMS,
  STREAM_KEYS,
  type Scenario,
  STANDARDS,
  type Standard,
  type Stream,
  isRevenue,
} from './model.js';
import { type DelegatedBudget, type SystemPosition, delegatedBudgets, systemPosition } from './position.js';
import {
  defaultPolicy,
  financeYears,
  getPolicy,
  getRiskShare,
  getSystemTarget,
  listAllocations,
  listDelegatedSpend,
  listFigures,
  listPlaceBudgets,
  listPlaceSets,
  listScenarios,
  listStandardLines,
  listStandardTargets,
  structurePlaceSetId,
} from './repository.js';
import { type RiskShareResult, applyRiskShare, describeRule } from './risk-share.js';
import { type CurrentBudgets, type PlaceGroup, type ScenarioResult, groupsFromAssignments, workScenario } from './scenario.js';
import { type NeedPractice, needPracticesOf } from './weighted-populations.js';

/** The year pages open on: the latest with an allocation, else the year of NHS England's data. */
export const DATA_YEAR: FinancialYear = 2025;

export function defaultYear(years: FinancialYear[]): FinancialYear {
  return years.length > 0 ? Math.max(...years.filter((y) => y <= DATA_YEAR + 1), Math.min(...years)) : DATA_YEAR;
}

// ---- the single pot -----------------------------------------------------------------------------

export interface StreamTotal {
  stream: Stream;
  label: string;
  lines: AllocationLine[];
  total: number;
  /** Pence per head of the ICB's 2025/26 allocation population. */
  perHead: number;
  /** Growth on the year before, when both years are held. */
  growth: number | null;
  revenue: boolean;
}

export interface SinglePot {
  year: FinancialYear;
  years: FinancialYear[];
  population: number;
  streams: StreamTotal[];
  revenueTotal: number;
  capitalTotal: number;
  revenuePerHead: number;
}

export async function singlePot(db: Queryable, icsCode: string, year?: FinancialYear): Promise<SinglePot> {
  const years = await financeYears(db, icsCode);
  const y = year ?? defaultYear(years);
  const [lines, before] = await Promise.all([listAllocations(db, icsCode, y), listAllocations(db, icsCode, y - 1)]);
  const population = icbPopulation(icsCode);
  const streams = STREAM_KEYS.map((stream): StreamTotal => {
    const mine = lines.filter((l) => l.stream === stream);
    const total = mine.reduce((a, l) => a + l.amount, 0);
    const last = before.filter((l) => l.stream === stream).reduce((a, l) => a + l.amount, 0);
    return { stream, label: STREAMS[stream], lines: mine, total, perHead: population > 0 ? Math.round(total / population) : 0, growth: last > 0 && total > 0 ? total / last - 1 : null, revenue: isRevenue(stream) };
  }).filter((s) => s.lines.length > 0);
  const revenueTotal = streams.filter((s) => s.revenue).reduce((a, s) => a + s.total, 0);
  return {
    year: y,
    years: [...new Set([...years, y])].sort(),
    population,
    streams,
    revenueTotal,
    capitalTotal: streams.filter((s) => !s.revenue).reduce((a, s) => a + s.total, 0),
    revenuePerHead: population > 0 ? Math.round(revenueTotal / population) : 0,
  };
}

/** The ICB's 2025/26 allocation population (NHS England's, rounded as its tool rounds it). */
export function icbPopulation(icsCode: string): number {
  try {
    return Math.round(needPracticesOf(icsCode).reduce((a, p) => a + p.population, 0));
  } catch {
    return 0;
  }
}

// ---- scenarios ----------------------------------------------------------------------------------

/** Until an ICS saves a scenario, the allocation pages show this one: its own places, NHS England's weights, the default policy. */
export function defaultScenario(icsCode: string, year: FinancialYear): Scenario {
  return {
    id: `${icsCode}-scenario-default`,
    icsCode,
    name: 'The ICS’s places with NHS England’s weights',
    description: 'Shown until a scenario is saved.',
    year,
    placeSetId: structurePlaceSetId(icsCode),
    policyId: defaultPolicy(icsCode).id,
    weights: NHSE_WEIGHTS,
    updatedAt: new Date(0),
  };
}

/** The place groups of a place set; the ICS's own places come from the structure module. */
export function placeGroups(set: PlaceSet, s: IcsStructure): PlaceGroup[] {
  if (set.basis !== 'structure') return groupsFromAssignments(set.assignments);
  return s.places
    .map((p) => ({ key: p.id, name: p.name, practiceCodes: s.practices.filter((pr) => pr.placeId === p.id).map((pr) => pr.orgCode) }))
    .filter((g) => g.practiceCodes.length > 0)
    .sort((a, b) => a.name.localeCompare(b.name));
}

export interface ScenarioView {
  scenario: Scenario;
  placeSet: PlaceSet;
  policy: ConvergencePolicy;
  result: ScenarioResult;
  /** Practices of the ICB in the 2025/26 data, by code, for drill-down. */
  practices: Map<string, NeedPractice>;
  /** The groups each place is made of. */
  groups: PlaceGroup[];
  placeNames: Map<string, string>;
}

export async function scenarioView(db: Queryable, icsCode: string, scenario: Scenario, s?: IcsStructure): Promise<ScenarioView> {
  const structure = s ?? (await loadStructure(db, icsCode));
  const [sets, policy, budgets, allocations] = await Promise.all([
    listPlaceSets(db, icsCode),
    scenario.policyId === defaultPolicy(icsCode).id ? Promise.resolve(defaultPolicy(icsCode)) : getPolicy(db, icsCode, scenario.policyId),
    listPlaceBudgets(db, icsCode, scenario.year),
    listAllocations(db, icsCode, scenario.year),
  ]);
  const placeSet = sets.find((x) => x.id === scenario.placeSetId);
  if (!placeSet) throw new NotFoundError(`Place definition ${scenario.placeSetId}`);
  const practices = needPracticesOf(icsCode);
  const groups = placeGroups(placeSet, structure);
  const practicePlace = new Map(structure.practices.map((p) => [p.orgCode, p.placeId]));
  const budgetsByStream: Partial<Record<PlaceStream, CurrentBudgets>> = {};
  for (const stream of Object.keys(PLACE_STREAMS) as PlaceStream[]) {
    const mine = budgets.filter((b) => b.stream === stream);
    if (mine.length > 0) budgetsByStream[stream] = { practicePlace, byPlace: new Map(mine.map((b) => [b.placeId, b.amount])) };
  }
  const allocationsByStream: Partial<Record<PlaceStream, number>> = {};
  for (const stream of Object.keys(PLACE_STREAMS) as PlaceStream[]) allocationsByStream[stream] = allocations.filter((a) => a.stream === stream).reduce((t, a) => t + a.amount, 0);
  const result = workScenario({ year: scenario.year, practices, places: groups, weights: scenario.weights, policy, budgets: budgetsByStream, allocations: allocationsByStream });
  return { scenario, placeSet, policy, result, practices: new Map(practices.map((p) => [p.code, p])), groups, placeNames: new Map(structure.places.map((p) => [p.id, p.name])) };
}

/** The scenarios of an ICS, or the default one when none is saved. */
export async function scenariosOrDefault(db: Queryable, icsCode: string): Promise<{ scenarios: Scenario[]; saved: boolean }> {
  const scenarios = await listScenarios(db, icsCode);
  if (scenarios.length > 0) return { scenarios, saved: true };
  return { scenarios: [defaultScenario(icsCode, defaultYear(await financeYears(db, icsCode)))], saved: false };
}

export async function findScenario(db: Queryable, icsCode: string, id: string | undefined): Promise<Scenario> {
  const { scenarios } = await scenariosOrDefault(db, icsCode);
  const found = id === undefined ? scenarios[0] : scenarios.find((s) => s.id === id);
  if (!found) throw new NotFoundError(`Scenario ${id ?? ''}`);
  return found;
}

// ---- investment standards -----------------------------------------------------------------------

export async function standardsView(db: Queryable, icsCode: string, year: FinancialYear): Promise<StandardCheck[]> {
  const [lines, targets] = await Promise.all([listStandardLines(db, icsCode, [year, year - 1]), listStandardTargets(db, icsCode)]);
  return (Object.keys(STANDARDS) as Standard[]).map((standard) =>
    checkStandard(
      standard,
      year,
      lines.filter((l) => l.year === year),
      lines.filter((l) => l.year === year - 1),
      targets.find((t) => t.year === year && t.standard === standard) ?? null,
    ),
  );
}

// ---- the system position and the risk share ---------------------------------------------------------

export interface PositionView {
  position: SystemPosition;
  delegated: DelegatedBudget[];
}

export async function positionView(db: Queryable, icsCode: string, year: FinancialYear, s?: IcsStructure): Promise<PositionView> {
  const structure = s ?? (await loadStructure(db, icsCode));
  const [figures, target, spend] = await Promise.all([listFigures(db, icsCode, year), getSystemTarget(db, icsCode, year), listDelegatedSpend(db, icsCode, year)]);
  const names = new Map([...structure.organisations.values()].map((o) => [o.code, o.name]));
  const position = systemPosition(year, figures, names, target);
  // Delegations current at the end of the year's last reported month (or its start).
  const asOf = position.month > 0 ? lastDayOf(year, position.month) : `${year}-04-01`;
  return { position, delegated: delegatedBudgets(functionsMap(structure, asOf), spend, year, position.month) };
}

/** The last day of a month of the financial year, YYYY-MM-DD. */
export function lastDayOf(year: FinancialYear, month: number): string {
  const calendarYear = month <= 9 ? year : year + 1;
  const calendarMonth = month <= 9 ? month + 3 : month - 9;
  const d = new Date(Date.UTC(calendarYear, calendarMonth, 0));
  return d.toISOString().slice(0, 10);
}

export interface RiskShareView {
  agreement: RiskShareAgreement | null;
  rules: { kind: string; orgCode: string | null; orgName: string | null; value: number; words: string }[];
  applied: RiskShareResult | null;
}

export async function riskShareView(db: Queryable, icsCode: string, year: FinancialYear, view?: PositionView, s?: IcsStructure): Promise<RiskShareView> {
  const structure = s ?? (await loadStructure(db, icsCode));
  const [agreement, position] = await Promise.all([getRiskShare(db, icsCode, year), view ? Promise.resolve(view) : positionView(db, icsCode, year, structure)]);
  const names = new Map([...structure.organisations.values()].map((o) => [o.code, o.name]));
  if (!agreement) return { agreement: null, rules: [], applied: null };
  const partners = position.position.organisations.map((o) => ({ orgCode: o.orgCode, name: o.name, plan: o.plan.surplus, forecast: o.forecast.surplus }));
  return {
    agreement,
    rules: agreement.rules.map((r) => ({ kind: r.kind, orgCode: r.orgCode, orgName: r.orgCode ? (names.get(r.orgCode) ?? r.orgCode) : null, value: r.value, words: describeRule(r, names) })),
    applied: partners.length > 0 ? applyRiskShare(agreement, partners, names) : null,
  };
}
