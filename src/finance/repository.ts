/** Reads the finance module's data. Every write is in commands.ts. */
import type { Queryable } from '../core/db/database.js';
import { NotFoundError } from '../core/errors.js';
import {
  type AllocationLine,
  CORE_PARTS,
  type ConvergencePolicy,
  type CoreWeights,
  type DelegatedSpend,
  type FigureKind,
  type FinancialYear,
  type MonthFigures,
  type PlaceBudget,
  type PlaceSet,
  type PlaceSetBasis,
  type PlaceStream,
  type RiskRuleKind,
  type RiskShareAgreement,
  type Scenario,
  type Standard,
  type StandardLine,
  type StandardTarget,
  type Stream,
  type SystemTarget,
  toPence,
} from './model.js';

type Row = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : JSON.stringify(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : str(v));
const money = (v: unknown): number => toPence(typeof v === 'number' ? v : str(v));
const moneyOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : money(v));

/** The place set that follows the ICS's own places (structure module): it always exists, stored or not. */
export function structurePlaceSetId(icsCode: string): string {
  return `${icsCode}-ps-structure`;
}

export const DEFAULT_POLICY_VALUES = { years: 5, icbGrowth: 0.03, minGrowth: 0.015, maxGrowth: 0.06, gapClosure: 0.25, protectionBand: 0.01 } as const;

/** Until an ICS saves a policy of its own, scenarios start from this one (not stored). */
export function defaultPolicy(icsCode: string): ConvergencePolicy {
  return { id: `${icsCode}-policy-default`, icsCode, name: 'Default pace of change', ...DEFAULT_POLICY_VALUES };
}

export function structurePlaceSet(icsCode: string): PlaceSet {
  return { id: structurePlaceSetId(icsCode), icsCode, name: 'The ICS’s places', description: 'Follows the places of the ICS as the structure module holds them: each practice is in its place.', basis: 'structure', assignments: new Map() };
}

export async function financeYears(db: Queryable, icsCode: string): Promise<FinancialYear[]> {
  const { rows } = await db.query<{ year: number }>(
    `SELECT year FROM finance_allocation WHERE ics_code = $1 UNION SELECT year FROM finance_place_budget WHERE ics_code = $1
     UNION SELECT year FROM finance_figures WHERE ics_code = $1 UNION SELECT year FROM finance_standard_line WHERE ics_code = $1 ORDER BY year`,
    [icsCode],
  );
  return rows.map((r) => Number(r.year));
}

export async function listAllocations(db: Queryable, icsCode: string, year?: FinancialYear): Promise<AllocationLine[]> {
  const { rows } = await db.query<Row>(`SELECT * FROM finance_allocation WHERE ics_code = $1 ${year === undefined ? '' : 'AND year = $2'} ORDER BY year, stream, name`, year === undefined ? [icsCode] : [icsCode, year]);
  return rows.map((r) => ({
    id: str(r.id),
    icsCode: str(r.ics_code),
    year: Number(r.year),
    stream: str(r.stream) as Stream,
    name: str(r.name),
    amount: money(r.amount),
    source: str(r.source),
    conditions: strOrNull(r.conditions),
    recurrent: Boolean(r.recurrent),
  }));
}

export async function listPlaceSets(db: Queryable, icsCode: string): Promise<PlaceSet[]> {
  const [sets, assignments] = await Promise.all([
    db.query<Row>("SELECT * FROM finance_place_set WHERE ics_code = $1 ORDER BY basis <> 'structure', created_at, name", [icsCode]),
    db.query<Row>('SELECT a.* FROM finance_place_set_practice a JOIN finance_place_set s ON s.id = a.place_set_id WHERE s.ics_code = $1 ORDER BY a.practice_code', [icsCode]),
  ]);
  const byId = new Map<string, Map<string, string>>();
  for (const a of assignments.rows) {
    const map = byId.get(str(a.place_set_id)) ?? new Map<string, string>();
    map.set(str(a.practice_code), str(a.place_name));
    byId.set(str(a.place_set_id), map);
  }
  const stored: PlaceSet[] = sets.rows.map((r) => ({
    id: str(r.id),
    icsCode: str(r.ics_code),
    name: str(r.name),
    description: strOrNull(r.description),
    basis: str(r.basis) as PlaceSetBasis,
    assignments: byId.get(str(r.id)) ?? new Map(),
  }));
  return stored.some((s) => s.basis === 'structure') ? stored : [structurePlaceSet(icsCode), ...stored];
}

export async function getPlaceSet(db: Queryable, icsCode: string, id: string): Promise<PlaceSet> {
  const found = (await listPlaceSets(db, icsCode)).find((s) => s.id === id);
  if (!found) throw new NotFoundError(`Place definition ${id}`);
  return found;
}

function toPolicy(r: Row): ConvergencePolicy {
  return {
    id: str(r.id),
    icsCode: str(r.ics_code),
    name: str(r.name),
    years: Number(r.years),
    icbGrowth: Number(r.icb_growth),
    minGrowth: Number(r.min_growth),
    maxGrowth: Number(r.max_growth),
    gapClosure: Number(r.gap_closure),
    protectionBand: Number(r.protection_band),
  };
}

export async function listPolicies(db: Queryable, icsCode: string): Promise<ConvergencePolicy[]> {
  const { rows } = await db.query<Row>('SELECT * FROM finance_policy WHERE ics_code = $1 ORDER BY name', [icsCode]);
  return rows.length > 0 ? rows.map(toPolicy) : [defaultPolicy(icsCode)];
}

export async function getPolicy(db: Queryable, icsCode: string, id: string): Promise<ConvergencePolicy> {
  const found = (await listPolicies(db, icsCode)).find((p) => p.id === id);
  if (!found) throw new NotFoundError(`Convergence policy ${id}`);
  return found;
}

function toScenario(r: Row): Scenario {
  const weights = r.core_weights as Record<string, unknown> | null;
  const core = weights ? (Object.fromEntries(CORE_PARTS.map((p) => [p, Number(weights[p] ?? 0)])) as CoreWeights) : null;
  return {
    id: str(r.id),
    icsCode: str(r.ics_code),
    name: str(r.name),
    description: strOrNull(r.description),
    year: Number(r.year),
    placeSetId: str(r.place_set_id),
    policyId: str(r.policy_id),
    weights: { core, pmcInequalitiesShare: r.pmc_inequalities_share === null || r.pmc_inequalities_share === undefined ? null : Number(r.pmc_inequalities_share) },
    updatedAt: r.updated_at instanceof Date ? r.updated_at : new Date(str(r.updated_at)),
  };
}

export async function listScenarios(db: Queryable, icsCode: string): Promise<Scenario[]> {
  const { rows } = await db.query<Row>('SELECT * FROM finance_scenario WHERE ics_code = $1 ORDER BY created_at, name', [icsCode]);
  return rows.map(toScenario);
}

export async function getScenario(db: Queryable, icsCode: string, id: string): Promise<Scenario> {
  const { rows } = await db.query<Row>('SELECT * FROM finance_scenario WHERE ics_code = $1 AND id = $2', [icsCode, id]);
  const row = rows[0];
  if (!row) throw new NotFoundError(`Scenario ${id}`);
  return toScenario(row);
}

export async function listPlaceBudgets(db: Queryable, icsCode: string, year?: FinancialYear): Promise<PlaceBudget[]> {
  const { rows } = await db.query<Row>(`SELECT * FROM finance_place_budget WHERE ics_code = $1 ${year === undefined ? '' : 'AND year = $2'} ORDER BY year, stream, place_id`, year === undefined ? [icsCode] : [icsCode, year]);
  return rows.map((r) => ({ icsCode: str(r.ics_code), year: Number(r.year), stream: str(r.stream) as PlaceStream, placeId: str(r.place_id), amount: money(r.amount) }));
}

export async function listStandardLines(db: Queryable, icsCode: string, years: FinancialYear[]): Promise<StandardLine[]> {
  const { rows } = await db.query<Row>('SELECT * FROM finance_standard_line WHERE ics_code = $1 AND year = ANY($2::int[]) ORDER BY year, standard, category, description', [icsCode, years]);
  return rows.map((r) => ({
    id: str(r.id),
    icsCode: str(r.ics_code),
    year: Number(r.year),
    standard: str(r.standard) as Standard,
    category: str(r.category),
    description: str(r.description),
    plan: money(r.plan),
    outturn: moneyOrNull(r.outturn),
    excluded: Boolean(r.excluded),
    exclusionReason: strOrNull(r.exclusion_reason),
  }));
}

export async function listStandardTargets(db: Queryable, icsCode: string): Promise<StandardTarget[]> {
  const { rows } = await db.query<Row>('SELECT * FROM finance_standard_target WHERE ics_code = $1 ORDER BY year, standard', [icsCode]);
  return rows.map((r) => ({ icsCode: str(r.ics_code), year: Number(r.year), standard: str(r.standard) as Standard, requiredGrowth: Number(r.required_growth), basis: str(r.basis) }));
}

export async function listFigures(db: Queryable, icsCode: string, year?: FinancialYear): Promise<MonthFigures[]> {
  const { rows } = await db.query<Row>(`SELECT * FROM finance_figures WHERE ics_code = $1 ${year === undefined ? '' : 'AND year = $2'} ORDER BY year, org_code, kind, month`, year === undefined ? [icsCode] : [icsCode, year]);
  return rows.map((r) => ({
    icsCode: str(r.ics_code),
    year: Number(r.year),
    orgCode: str(r.org_code),
    kind: str(r.kind) as FigureKind,
    month: Number(r.month),
    income: money(r.income),
    pay: money(r.pay),
    nonPay: money(r.non_pay),
  }));
}

export async function getSystemTarget(db: Queryable, icsCode: string, year: FinancialYear): Promise<SystemTarget | null> {
  const { rows } = await db.query<Row>('SELECT * FROM finance_system_target WHERE ics_code = $1 AND year = $2', [icsCode, year]);
  const r = rows[0];
  return r ? { icsCode, year, surplus: money(r.surplus), description: strOrNull(r.description) } : null;
}

export async function listDelegatedSpend(db: Queryable, icsCode: string, year: FinancialYear): Promise<DelegatedSpend[]> {
  const { rows } = await db.query<Row>('SELECT * FROM finance_delegated_spend WHERE ics_code = $1 AND year = $2 ORDER BY delegation_id, month', [icsCode, year]);
  return rows.map((r) => ({ icsCode, year, delegationId: str(r.delegation_id), month: Number(r.month), amount: money(r.amount) }));
}

export async function getRiskShare(db: Queryable, icsCode: string, year: FinancialYear): Promise<RiskShareAgreement | null> {
  const [agreements, rules] = await Promise.all([
    db.query<Row>('SELECT * FROM finance_risk_share WHERE ics_code = $1 AND year = $2', [icsCode, year]),
    db.query<Row>('SELECT * FROM finance_risk_share_rule WHERE ics_code = $1 AND year = $2 ORDER BY position', [icsCode, year]),
  ]);
  const a = agreements.rows[0];
  if (!a) return null;
  return {
    icsCode,
    year,
    name: str(a.name),
    description: strOrNull(a.description),
    residualOrgCode: str(a.residual_org_code),
    rules: rules.rows.map((r) => {
      const kind = str(r.kind) as RiskRuleKind;
      const value = Number(r.value);
      return { id: str(r.id), kind, orgCode: strOrNull(r.org_code), value: kind === 'retain_own_variance' || kind === 'cap' ? Math.round(value * 100) : value };
    }),
  };
}
