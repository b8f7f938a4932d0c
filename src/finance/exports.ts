/**
 * Tables for download, as CSV or a spreadsheet: every dataset that can be imported (in the
 * same columns, so an export can be edited and imported back), and the results finance teams
 * copy into papers: need indices, targets against current budgets, the convergence path, the
 * investment standards, the system position and the risk share.
 */
import type { Queryable } from '../core/db/database.js';
import { COLUMNS, type Dataset, type Row, allocationRows, figureRows, placeBudgetRows, pounds, standardRows } from './datasets.js';
import type { StandardCheck } from './mhis.js';
import { COMPONENTS, type FinancialYear, STREAMS, monthLabel, yearLabel } from './model.js';
import { getPlaceSet, listAllocations, listFigures, listPlaceBudgets, listStandardLines } from './repository.js';
import type { SheetData } from './xlsx.js';
import type { PositionView, RiskShareView, ScenarioView } from './views.js';

export interface TableData {
  name: string;
  header: string[];
  rows: Row[];
}

const ratio = (x: number | null): number | null => (x === null ? null : Math.round(x * 1e6) / 1e6);

/** A dataset as it is imported, for the ICS, for one year (place definitions: one place set). */
export async function datasetTable(db: Queryable, icsCode: string, dataset: Dataset, options: { year?: FinancialYear | undefined; placeSetId?: string | undefined; placeNames?: Map<string, string> }): Promise<TableData> {
  const header = COLUMNS[dataset];
  switch (dataset) {
    case 'allocations':
      return { name: 'Allocations', header, rows: allocationRows((await listAllocations(db, icsCode, options.year)).map((l) => ({ ...l }))) };
    case 'place-budgets':
      return { name: 'Place budgets', header, rows: placeBudgetRows(await listPlaceBudgets(db, icsCode, options.year), (id) => options.placeNames?.get(id) ?? id) };
    case 'place-definitions': {
      const set = await getPlaceSet(db, icsCode, options.placeSetId ?? '');
      return { name: 'Place definitions', header, rows: [...set.assignments].sort((a, b) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0])).map(([code, place]) => [code, place]) };
    }
    case 'standards': {
      const lines = await listStandardLines(db, icsCode, options.year === undefined ? Array.from({ length: 101 }, (_, i) => 2000 + i) : [options.year]);
      return { name: 'Investment standards', header, rows: standardRows(lines.map((l) => ({ ...l, reason: l.exclusionReason }))) };
    }
    case 'figures':
      return { name: 'Plans and actuals', header, rows: figureRows(await listFigures(db, icsCode, options.year)) };
  }
}

/** Need indices of every place and the ICB, as NHS England's tool lays them out. */
export function needIndexTable(view: ScenarioView): TableData {
  const { need } = view.result;
  const header = ['place', 'practices', 'population', ...COMPONENTS.map((c) => `${c.label} weighted population`), ...COMPONENTS.map((c) => `${c.label} index`)];
  const rows: Row[] = need.places.map((p) => [p.name, p.totals.practices, p.totals.population, ...COMPONENTS.map((c) => Math.round(p.weighted[c.key] * 1000) / 1000), ...COMPONENTS.map((c) => p.index[c.key])]);
  rows.push([`${view.scenario.icsCode} (the ICB; index relative to England)`, need.icb.totals.practices, need.icb.totals.population, ...COMPONENTS.map((c) => Math.round(need.icb.weighted[c.key] * 1000) / 1000), ...COMPONENTS.map((c) => need.icb.index[c.key])]);
  return { name: 'Need indices', header, rows };
}

/** Target against current budget for every place and stream. */
export function targetTable(view: ScenarioView): TableData {
  const header = ['stream', 'place', 'weighted population', 'target share', 'target', 'current budget', 'distance from target'];
  const rows: Row[] = view.result.streams.flatMap((s) => s.places.map((p) => [STREAMS[s.stream], p.name, Math.round(p.weight * 1000) / 1000, ratio(p.share), pounds(p.target), p.current === null ? null : pounds(p.current), ratio(p.distance)]));
  return { name: 'Targets', header, rows };
}

/** The convergence path year by year: budget, growth and distance from target of every place. */
export function convergenceTable(view: ScenarioView): TableData {
  const header = ['stream', 'year', 'place', 'budget', 'growth', 'target', 'distance from target'];
  const rows: Row[] = view.result.streams.flatMap((s) =>
    (s.path ?? []).flatMap((y) => s.places.map((p, i) => [STREAMS[s.stream], yearLabel(view.scenario.year + y.offset), p.name, pounds(y.budgets[i] ?? 0), y.offset === 0 ? null : ratio(y.growth[i] ?? 0), pounds(y.targets[i] ?? 0), ratio(y.distance[i] ?? 0)])),
  );
  return { name: 'Convergence path', header, rows };
}

export function standardsTable(checks: StandardCheck[]): TableData {
  const header = ['standard', 'year', 'category', 'description', 'plan', 'outturn', 'counted', 'reason'];
  const rows: Row[] = checks.flatMap((c) => c.lines.map((l) => [c.name, yearLabel(c.year), l.categoryLabel, l.description, pounds(l.plan), l.outturn === null ? null : pounds(l.outturn), l.counted, l.exclusionReason]));
  for (const c of checks) rows.push([c.name, yearLabel(c.year), 'Compliance', c.status, c.minimum === null ? null : pounds(c.minimum), null, null, c.reason]);
  return { name: 'Investment standards', header, rows };
}

export function positionTable(view: PositionView): TableData {
  const p = view.position;
  const header = ['organisation', 'code', 'plan income', 'plan pay', 'plan non-pay', 'plan surplus', 'year-to-date plan surplus', 'year-to-date actual surplus', 'year-to-date variance', 'forecast surplus', 'forecast from', 'forecast variance'];
  const row = (name: string, code: string, o: PositionView['position']['totals'], source: string): Row => [
    name,
    code,
    pounds(o.plan.income),
    pounds(o.plan.pay),
    pounds(o.plan.nonPay),
    pounds(o.plan.surplus),
    pounds(o.ytdPlan.surplus),
    pounds(o.ytdActual.surplus),
    pounds(o.ytdVariance.surplus),
    pounds(o.forecast.surplus),
    source,
    pounds(o.forecastVariance),
  ];
  const rows: Row[] = p.organisations.map((o) => row(o.name, o.orgCode, o, o.forecastSource === 'reported' ? 'reported forecast' : 'actuals to date and plan'));
  rows.push(row('System total', '', p.totals, ''));
  return { name: `Position ${p.monthLabel ?? yearLabel(p.year)}`.slice(0, 31), header, rows };
}

export function monthlyTable(view: PositionView): TableData {
  const header = ['organisation', 'month', 'plan surplus', 'actual surplus', 'cumulative plan', 'cumulative actual'];
  const rows: Row[] = [...view.position.organisations.map((o) => ({ name: o.name, months: o.months })), { name: 'System total', months: view.position.totals.months }].flatMap((o) =>
    o.months.map((m) => [o.name, monthLabel(view.position.year, m.month), pounds(m.plan), m.actual === null ? null : pounds(m.actual), pounds(m.cumulativePlan), m.cumulativeActual === null ? null : pounds(m.cumulativeActual)]),
  );
  return { name: 'Monthly trend', header, rows };
}

export function riskShareTable(view: RiskShareView): TableData {
  const header = ['partner', 'code', 'plan surplus', 'forecast surplus', 'variance', 'kept', 'share of pool', 'capped', 'after the agreement', 'moved'];
  const rows: Row[] = (view.applied?.partners ?? []).map((p) => [p.name, p.orgCode, pounds(p.plan), pounds(p.forecast), pounds(p.variance), pounds(p.retained), pounds(p.poolShare), p.capped, pounds(p.after), pounds(p.transfer)]);
  return { name: 'Risk share', header, rows };
}

export function toSheets(tables: TableData[]): SheetData[] {
  return tables.map((t) => ({ name: t.name, header: t.header, rows: t.rows }));
}

