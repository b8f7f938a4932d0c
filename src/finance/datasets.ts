/**
 * The tables finance teams import and export, one definition each: its columns (what the header
 * row says), how each cell is read, how rows are checked against the ICS (is that a place, a
 * practice of the ICB, an organisation of the system?), and how records are written back out.
 * Every problem names the row and column as the spreadsheet shows them.
 */
import type { FieldProblem } from '../core/errors.js';
import {
  type FigureKind,
  FIGURE_KINDS,
  type FinancialYear,
  PLACE_STREAMS,
  type PlaceStream,
  STANDARDS,
  STANDARD_CATEGORIES,
  STREAMS,
  type Standard,
  type Stream,
  parseMonth,
  parseYear,
  penceToDecimal,
  yearLabel,
} from './model.js';
import { defaultExclusion } from './mhis.js';
import { type Cell, type ColumnSpec, type Grid, MAX_PROBLEMS, fail, headerKey, ok, parseBoolean, parseMoney, problemAt, readTable, text } from './tabular.js';

export interface ImportContext {
  /** The ICS's own places. */
  places: { id: string; name: string; gssCode: string | null }[];
  /** Practice codes of the ICB in the 2025/26 data. */
  practices: Set<string>;
  /** Organisations whose plans and actuals the system position holds (the ICB and the NHS trusts), code → name. */
  organisations: Map<string, string>;
}

export interface AllocationRecord {
  year: FinancialYear;
  stream: Stream;
  name: string;
  amount: number;
  source: string;
  conditions: string | null;
  recurrent: boolean;
}

export interface PlaceBudgetRecord {
  year: FinancialYear;
  stream: PlaceStream;
  placeId: string;
  amount: number;
}

export interface AssignmentRecord {
  practiceCode: string;
  place: string;
}

export interface StandardRecord {
  year: FinancialYear;
  standard: Standard;
  category: string;
  description: string;
  plan: number;
  outturn: number | null;
  excluded: boolean;
  reason: string | null;
}

export interface FigureRecord {
  orgCode: string;
  year: FinancialYear;
  kind: FigureKind;
  month: number;
  income: number;
  pay: number;
  nonPay: number;
}

export interface Parsed<R> {
  records: R[];
  problems: FieldProblem[];
}

const yearCell = (v: string): Cell<FinancialYear> => {
  const y = parseYear(v);
  return y === null ? fail(`“${v.trim()}” is not a financial year: write it like 2025/26`) : ok(y);
};

/** Matches a value to a vocabulary by its key, its label, or a few words people use. */
function vocabulary<K extends string>(labels: Record<K, string>, extra: Record<string, K>, what: string): (v: string) => Cell<K> {
  const byKey = new Map<string, K>();
  for (const [k, label] of Object.entries(labels) as [K, string][]) {
    byKey.set(headerKey(k), k);
    byKey.set(headerKey(label), k);
  }
  for (const [word, k] of Object.entries(extra)) byKey.set(headerKey(word), k);
  return (v) => {
    const found = byKey.get(headerKey(v));
    return found ? ok(found) : fail(`“${v.trim()}” is not ${what}: use one of ${Object.values<string>(labels).join('; ')}`);
  };
}

const streamCell = vocabulary<Stream>(STREAMS, { core: 'core_services', pmc: 'primary_medical_care', specialised: 'specialised_services', 'other primary care': 'other_primary_care', dental: 'other_primary_care', pharmacy: 'other_primary_care', ophthalmic: 'other_primary_care', 'running costs': 'running_costs', rca: 'running_costs', sdf: 'transformation' }, 'a stream of the allocation');
const standardCell = vocabulary<Standard>(STANDARDS, { mhis: 'mhis', 'mental health investment standard': 'mhis', pmcs: 'pmcs', 'primary and community': 'pmcs' }, 'an investment standard');
const kindCell = vocabulary<FigureKind>(FIGURE_KINDS, { actuals: 'actual', budget: 'plan', fot: 'forecast', 'forecast outturn': 'forecast' }, 'plan, actual or forecast');
const moneyCell = (v: string): Cell<number> => parseMoney(v);

function check<R>(grid: Grid, specs: ColumnSpec<unknown>[], build: (values: Record<string, unknown>, row: number, at: (name: string) => number | undefined, problems: FieldProblem[]) => R | null): Parsed<R> {
  const table = readTable(grid, specs);
  const problems = [...table.problems];
  const records: R[] = [];
  for (const r of table.rows) {
    const before = problems.length;
    const record = build(r.values, r.row, (name) => table.columns.get(name), problems);
    if (record && problems.length === before) records.push(record);
    if (problems.length >= MAX_PROBLEMS) break;
  }
  return { records, problems: inSheetOrder(problems, table.columns).slice(0, MAX_PROBLEMS) };
}

/** Problems in the order a person reads the sheet: row by row, left to right. */
function inSheetOrder(problems: FieldProblem[], columns: Map<string, number>): FieldProblem[] {
  const position = (p: FieldProblem): [number, number] => {
    const m = /^rows\.(\d+)(?:\.(.+))?$/.exec(p.field);
    if (!m) return [-1, -1];
    return [Number(m[1]), m[2] === undefined ? -1 : (columns.get(m[2]) ?? 999)];
  };
  return problems
    .map((p, i) => ({ p, i, at: position(p) }))
    .sort((a, b) => a.at[0] - b.at[0] || a.at[1] - b.at[1] || a.i - b.i)
    .map((x) => x.p);
}

function duplicates<R>(records: { row: number; key: string; record: R }[], problems: FieldProblem[], what: string): R[] {
  const seen = new Map<string, number>();
  const out: R[] = [];
  for (const r of records) {
    const first = seen.get(r.key);
    if (first !== undefined) problems.push({ field: `rows.${r.row}`, message: `Row ${r.row}: repeats row ${first} (${what})` });
    else {
      seen.set(r.key, r.row);
      out.push(r.record);
    }
  }
  return out;
}

// ---- the datasets -----------------------------------------------------------------------------

export const DATASETS = {
  allocations: { label: 'The ICB’s allocation by stream', file: 'allocations' },
  'place-budgets': { label: 'Current budgets of the ICS’s places', file: 'place-budgets' },
  'place-definitions': { label: 'Place definitions (practice to place)', file: 'place-definitions' },
  standards: { label: 'Investment standards: plans and outturns', file: 'investment-standards' },
  figures: { label: 'Organisations’ plans, actuals and forecasts', file: 'plans-and-actuals' },
} as const;
export type Dataset = keyof typeof DATASETS;
export const DATASET_KEYS = Object.keys(DATASETS) as Dataset[];

export const COLUMNS: Record<Dataset, string[]> = {
  allocations: ['year', 'stream', 'name', 'amount', 'source', 'conditions', 'recurrent'],
  'place-budgets': ['year', 'stream', 'place', 'amount'],
  'place-definitions': ['practice', 'place'],
  standards: ['year', 'standard', 'category', 'description', 'plan', 'outturn', 'excluded', 'reason'],
  figures: ['organisation', 'year', 'kind', 'month', 'income', 'pay', 'non_pay'],
};

export function readAllocations(grid: Grid): Parsed<AllocationRecord> {
  const parsed = check<{ row: number; key: string; record: AllocationRecord }>(
    grid,
    [
      { name: 'year', required: true, read: yearCell },
      { name: 'stream', required: true, read: streamCell },
      { name: 'name', aliases: ['line', 'description'], required: true, read: text },
      { name: 'amount', aliases: ['allocation', 'value'], required: true, read: moneyCell },
      { name: 'source', required: true, read: text },
      { name: 'conditions', required: false, read: text },
      { name: 'recurrent', required: false, read: parseBoolean },
    ],
    (v, row, at, problems) => {
      const amount = v.amount as number | undefined;
      if (amount !== undefined && amount < 0) problems.push(problemAt(row, at('amount'), 'amount', 'an allocation cannot be negative'));
      if (v.year === undefined || v.stream === undefined || v.name === undefined || amount === undefined || v.source === undefined) return null;
      const record: AllocationRecord = { year: v.year as number, stream: v.stream as Stream, name: v.name as string, amount, source: v.source as string, conditions: (v.conditions as string | undefined) ?? null, recurrent: (v.recurrent as boolean | undefined) ?? true };
      return { row, key: `${record.year}|${record.stream}|${record.name.toLowerCase()}`, record };
    },
  );
  const problems = [...parsed.problems];
  const records = duplicates(parsed.records, problems, 'the same year, stream and name');
  return { records, problems };
}

export function readPlaceBudgets(grid: Grid, ctx: ImportContext): Parsed<PlaceBudgetRecord> {
  const placeCell = (v: string): Cell<string> => {
    const key = headerKey(v);
    const place = ctx.places.find((p) => headerKey(p.name) === key || p.id.toLowerCase() === v.trim().toLowerCase() || (p.gssCode !== null && p.gssCode.toLowerCase() === v.trim().toLowerCase()));
    return place ? ok(place.id) : fail(`“${v.trim()}” is not one of the ICS’s places: ${ctx.places.map((p) => p.name).join(', ')}`);
  };
  const placeStream = (v: string): Cell<PlaceStream> => {
    const s = streamCell(v);
    if (!s.ok) return s;
    return s.value in PLACE_STREAMS ? ok(s.value as PlaceStream) : fail(`places hold budgets for ${Object.keys(PLACE_STREAMS).map((k) => STREAMS[k as Stream]).join(' and ')} only, not ${STREAMS[s.value]}`);
  };
  const parsed = check<{ row: number; key: string; record: PlaceBudgetRecord }>(
    grid,
    [
      { name: 'year', required: true, read: yearCell },
      { name: 'stream', required: true, read: placeStream },
      { name: 'place', required: true, read: placeCell },
      { name: 'amount', aliases: ['budget'], required: true, read: moneyCell },
    ],
    (v, row, at, problems) => {
      const amount = v.amount as number | undefined;
      if (amount !== undefined && amount < 0) problems.push(problemAt(row, at('amount'), 'amount', 'a budget cannot be negative'));
      if (v.year === undefined || v.stream === undefined || v.place === undefined || amount === undefined) return null;
      const record: PlaceBudgetRecord = { year: v.year as number, stream: v.stream as PlaceStream, placeId: v.place as string, amount };
      return { row, key: `${record.year}|${record.stream}|${record.placeId}`, record };
    },
  );
  const problems = [...parsed.problems];
  return { records: duplicates(parsed.records, problems, 'the same year, stream and place'), problems };
}

export function readPlaceDefinitions(grid: Grid, ctx: ImportContext): Parsed<AssignmentRecord> {
  const parsed = check<{ row: number; key: string; record: AssignmentRecord }>(
    grid,
    [
      { name: 'practice', aliases: ['practice code', 'practice_code', 'ods code', 'code'], required: true, read: (v) => (ctx.practices.has(v.trim().toUpperCase()) ? ok(v.trim().toUpperCase()) : fail(`“${v.trim()}” is not a practice of this ICB in NHS England’s 2025/26 data`)) },
      { name: 'place', aliases: ['place name'], required: true, read: (v) => (v.trim().length > 100 ? fail('a place name must be 100 characters or fewer') : ok(v.trim())) },
    ],
    (v, row) => {
      if (v.practice === undefined || v.place === undefined) return null;
      return { row, key: v.practice as string, record: { practiceCode: v.practice as string, place: v.place as string } };
    },
  );
  const problems = [...parsed.problems];
  return { records: duplicates(parsed.records, problems, 'the same practice'), problems };
}

export function readStandards(grid: Grid): Parsed<StandardRecord> {
  const parsed = check<{ row: number; key: string; record: StandardRecord }>(
    grid,
    [
      { name: 'year', required: true, read: yearCell },
      { name: 'standard', required: true, read: standardCell },
      { name: 'category', required: true, read: text },
      { name: 'description', aliases: ['line', 'name'], required: true, read: text },
      { name: 'plan', required: true, read: moneyCell },
      { name: 'outturn', aliases: ['actual'], required: false, read: moneyCell },
      { name: 'excluded', required: false, read: parseBoolean },
      { name: 'reason', aliases: ['exclusion reason'], required: false, read: text },
    ],
    (v, row, at, problems) => {
      if (v.year === undefined || v.standard === undefined || v.category === undefined || v.description === undefined || v.plan === undefined) return null;
      const standard = v.standard as Standard;
      const categories = STANDARD_CATEGORIES[standard] as Record<string, string>;
      const found = Object.entries(categories).find(([k, label]) => headerKey(k) === headerKey(v.category as string) || headerKey(label) === headerKey(v.category as string));
      if (!found) {
        problems.push(problemAt(row, at('category'), 'category', `“${v.category as string}” is not a category of the ${STANDARDS[standard]}: use one of ${Object.values(categories).join('; ')}`));
        return null;
      }
      const category = found[0];
      const fallback = defaultExclusion(standard, category);
      const excluded = (v.excluded as boolean | undefined) ?? fallback !== null;
      const reason = (v.reason as string | undefined) ?? (excluded ? fallback : null);
      if (excluded && !reason) problems.push(problemAt(row, at('reason'), 'reason', 'say why the line is excluded'));
      if (!excluded && fallback && !v.reason) problems.push(problemAt(row, at('reason'), 'reason', `${found[1]} is excluded unless you say why it counts (for example a co-occurring mental health need)`));
      const record: StandardRecord = { year: v.year as number, standard, category, description: v.description as string, plan: v.plan as number, outturn: (v.outturn as number | undefined) ?? null, excluded, reason: reason ?? null };
      return { row, key: `${record.year}|${record.standard}|${record.description.toLowerCase()}`, record };
    },
  );
  const problems = [...parsed.problems];
  return { records: duplicates(parsed.records, problems, 'the same year, standard and description'), problems };
}

export function readFigures(grid: Grid, ctx: ImportContext): Parsed<FigureRecord> {
  const orgCell = (v: string): Cell<string> => {
    const code = v.trim().toUpperCase();
    if (ctx.organisations.has(code)) return ok(code);
    const byName = [...ctx.organisations].find(([, name]) => headerKey(name) === headerKey(v));
    return byName ? ok(byName[0]) : fail(`“${v.trim()}” is not an organisation of this system’s financial position: ${[...ctx.organisations.keys()].join(', ')}`);
  };
  const parsed = check<{ row: number; key: string; record: FigureRecord }>(
    grid,
    [
      { name: 'organisation', aliases: ['org', 'org code', 'org_code', 'ods code'], required: true, read: orgCell },
      { name: 'year', required: true, read: yearCell },
      { name: 'kind', aliases: ['type'], required: true, read: kindCell },
      { name: 'month', aliases: ['period'], required: false, read: text },
      { name: 'income', required: true, read: moneyCell },
      { name: 'pay', required: true, read: moneyCell },
      { name: 'non_pay', aliases: ['non pay', 'nonpay', 'non-pay'], required: true, read: moneyCell },
    ],
    (v, row, at, problems) => {
      if (v.organisation === undefined || v.year === undefined || v.kind === undefined || v.income === undefined || v.pay === undefined || v.non_pay === undefined) return null;
      const kind = v.kind as FigureKind;
      const year = v.year as number;
      const rawMonth = (v.month as string | undefined) ?? '';
      let month = 0;
      if (kind === 'forecast') {
        if (rawMonth !== '' && !/^(year|full year|fy|0)$/i.test(rawMonth)) problems.push(problemAt(row, at('month'), 'month', 'a forecast is for the whole year: leave the month empty'));
      } else {
        const m = rawMonth === '' ? null : parseMonth(rawMonth, year);
        if (m === null) {
          problems.push(problemAt(row, at('month'), 'month', rawMonth === '' ? `a ${kind} needs its month` : `“${rawMonth}” is not a month of ${yearLabel(year)}: write it like M7, Oct or 2025-10`));
          return null;
        }
        month = m;
      }
      const record: FigureRecord = { orgCode: v.organisation as string, year, kind, month, income: v.income as number, pay: v.pay as number, nonPay: v.non_pay as number };
      return { row, key: `${record.orgCode}|${year}|${kind}|${month}`, record };
    },
  );
  const problems = [...parsed.problems];
  return { records: duplicates(parsed.records, problems, 'the same organisation, year, kind and month'), problems };
}

// ---- writing back out -------------------------------------------------------------------------

export type Row = (string | number | boolean | null)[];

/** Pounds as a plain number with two decimals, which every spreadsheet reads as a number. */
export const pounds = (pence: number): number => Number(penceToDecimal(pence));

export function allocationRows(records: AllocationRecord[]): Row[] {
  return records.map((r) => [yearLabel(r.year), STREAMS[r.stream], r.name, pounds(r.amount), r.source, r.conditions, r.recurrent]);
}

export function placeBudgetRows(records: PlaceBudgetRecord[], placeName: (id: string) => string): Row[] {
  return records.map((r) => [yearLabel(r.year), STREAMS[r.stream], placeName(r.placeId), pounds(r.amount)]);
}

export function standardRows(records: StandardRecord[]): Row[] {
  return records.map((r) => [yearLabel(r.year), r.standard.toUpperCase(), (STANDARD_CATEGORIES[r.standard] as Record<string, string>)[r.category] ?? r.category, r.description, pounds(r.plan), r.outturn === null ? null : pounds(r.outturn), r.excluded, r.reason]);
}

export function figureRows(records: FigureRecord[]): Row[] {
  return records.map((r) => [r.orgCode, yearLabel(r.year), r.kind, r.kind === 'forecast' ? '' : `M${r.month}`, pounds(r.income), pounds(r.pay), pounds(r.nonPay)]);
}
