/**
 * Every change to an ICS's finances. Each command checks its input (naming the field that is
 * wrong, or the row and column of an imported file), writes in one transaction, and records what
 * changed in the shared change log (module 'finance'). Money arrives in whole pence.
 */
import { Problems } from '../core/validation.js';
import { randomUUID } from 'node:crypto';
import { recordChange } from '../core/change-log.js';
import type { Database, Queryable } from '../core/db/database.js';
import { ConflictError, type FieldProblem, NotFoundError, ValidationError } from '../core/errors.js';
import { policyProblems } from './allocation.js';
import {
  type AssignmentRecord,
  type Dataset,
  type FigureRecord,
  type ImportContext,
  type StandardRecord,
  readAllocations,
  readFigures,
  readPlaceBudgets,
  readPlaceDefinitions,
  readStandards,
} from './datasets.js';
import { defaultExclusion } from './mhis.js';
import {
  CORE_PARTS,
  type CoreWeights,
  type NeedWeights,
  PLACE_SET_BASES,
  type PlaceSetBasis,
  RISK_RULE_KINDS,
  type RiskRuleKind,
  STANDARDS,
  STANDARD_CATEGORIES,
  STREAMS,
  type Standard,
  type Stream,
  isPlaceStream,
  penceToDecimal,
  yearLabel,
} from './model.js';
import { getPlaceSet, structurePlaceSetId } from './repository.js';
import { ruleProblems } from './risk-share.js';
import type { Grid } from './tabular.js';
import { needPracticesOf, placesBy } from './weighted-populations.js';

async function log(db: Queryable, icsCode: string, actor: string, summary: string, detail: Record<string, unknown> = {}): Promise<void> {
  await recordChange(db, { icsCode, module: 'finance', actor, summary, detail });
}

async function requireIcs(db: Queryable, icsCode: string): Promise<void> {
  if ((await db.query('SELECT 1 FROM ics WHERE code = $1', [icsCode])).rowCount === 0) throw new NotFoundError(`ICS ${icsCode}`);
}

const isYear = (y: unknown): y is number => typeof y === 'number' && Number.isInteger(y) && y >= 2000 && y <= 2100;
const isPence = (p: unknown): p is number => typeof p === 'number' && Number.isSafeInteger(p);
const rate = (x: number): string => x.toFixed(6);

// ---- the single pot ---------------------------------------------------------------------------

export interface AllocationInput {
  year: number;
  stream: string;
  name: string;
  /** Pence. */
  amount: number;
  source: string;
  conditions?: string | null | undefined;
  recurrent?: boolean | undefined;
}

function allocationProblems(input: AllocationInput, problems: Problems): void {
  if (!isYear(input.year)) problems.add('year', 'Enter the financial year, for example 2025 for 2025/26');
  if (!(input.stream in STREAMS)) problems.add('stream', `Choose a stream: ${Object.values(STREAMS).join('; ')}`);
  if (!input.name?.trim()) problems.add('name', 'Enter a name for the allocation line');
  if (!isPence(input.amount) || input.amount < 0) problems.add('amount', 'Enter the amount in pounds, zero or more');
  if (!input.source?.trim()) problems.add('source', 'Say where the money comes from, for example NHS England');
}

/** Adds an allocation line, or replaces the one with the same year, stream and name. */
export async function saveAllocation(db: Database, icsCode: string, input: AllocationInput, actor: string, id?: string): Promise<string> {
  return db.transaction(async (tx) => {
    await requireIcs(tx, icsCode);
    const problems = new Problems();
    allocationProblems(input, problems);
    problems.throwIfAny();
    if (id && (await tx.query('SELECT 1 FROM finance_allocation WHERE id = $1 AND ics_code = $2', [id, icsCode])).rowCount === 0) throw new NotFoundError(`Allocation line ${id}`);
    const clash = await tx.query<{ id: string }>('SELECT id FROM finance_allocation WHERE ics_code = $1 AND year = $2 AND stream = $3 AND name = $4', [icsCode, input.year, input.stream, input.name.trim()]);
    const existing = id ?? clash.rows[0]?.id;
    if (id && clash.rows[0] && clash.rows[0].id !== id) throw new ValidationError([{ field: 'name', message: `There is already a line called ${input.name.trim()} in ${STREAMS[input.stream as Stream]} for ${yearLabel(input.year)}` }]);
    const values = [icsCode, input.year, input.stream, input.name.trim(), penceToDecimal(input.amount), input.source.trim(), input.conditions?.trim() || null, input.recurrent ?? true];
    let lineId: string;
    if (existing) {
      lineId = existing;
      await tx.query('UPDATE finance_allocation SET ics_code = $1, year = $2, stream = $3, name = $4, amount = $5, source = $6, conditions = $7, recurrent = $8 WHERE id = $9', [...values, existing]);
    } else {
      lineId = `${icsCode}-fa-${randomUUID()}`;
      await tx.query('INSERT INTO finance_allocation (ics_code, year, stream, name, amount, source, conditions, recurrent, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [...values, lineId]);
    }
    await log(tx, icsCode, actor, `${existing ? 'Changed' : 'Added'} the ${yearLabel(input.year)} allocation line ${input.name.trim()} (${STREAMS[input.stream as Stream]})`, { id: lineId, amount: penceToDecimal(input.amount) });
    return lineId;
  });
}

export async function deleteAllocation(db: Database, icsCode: string, id: string, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ name: string; year: number }>('DELETE FROM finance_allocation WHERE id = $1 AND ics_code = $2 RETURNING name, year', [id, icsCode]);
    const row = rows[0];
    if (!row) throw new NotFoundError(`Allocation line ${id}`);
    await log(tx, icsCode, actor, `Removed the ${yearLabel(Number(row.year))} allocation line ${row.name}`, { id });
  });
}

// ---- current place budgets --------------------------------------------------------------------

/** Sets the current budgets of the ICS's places for one stream and year (places not named keep theirs). */
export async function setPlaceBudgets(db: Database, icsCode: string, year: number, stream: string, budgets: { placeId: string; amount: number }[], actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    await requireIcs(tx, icsCode);
    const problems = new Problems();
    if (!isYear(year)) problems.add('year', 'Enter the financial year, for example 2025 for 2025/26');
    if (!isPlaceStream(stream)) problems.add('stream', 'Places hold budgets for core services and primary medical care');
    const places = new Set((await tx.query<{ id: string }>('SELECT id FROM place WHERE ics_code = $1', [icsCode])).rows.map((r) => r.id));
    budgets.forEach((b, i) => {
      if (!places.has(b.placeId)) problems.add(`budgets.${i}.placeId`, `No place ${b.placeId} in this ICS`);
      if (!isPence(b.amount) || b.amount < 0) problems.add(`budgets.${i}.amount`, 'Enter the budget in pounds, zero or more');
    });
    problems.throwIfAny();
    for (const b of budgets) {
      await tx.query(
        `INSERT INTO finance_place_budget (ics_code, year, stream, place_id, amount) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (ics_code, year, stream, place_id) DO UPDATE SET amount = EXCLUDED.amount`,
        [icsCode, year, stream, b.placeId, penceToDecimal(b.amount)],
      );
    }
    await log(tx, icsCode, actor, `Set ${budgets.length} current place budget(s) for ${STREAMS[stream as Stream]}, ${yearLabel(year)}`, { year, stream });
  });
}

// ---- place definitions ------------------------------------------------------------------------

async function ensureStructurePlaceSet(tx: Queryable, icsCode: string): Promise<string> {
  const id = structurePlaceSetId(icsCode);
  await tx.query(
    `INSERT INTO finance_place_set (id, ics_code, name, description, basis) VALUES ($1, $2, $3, $4, 'structure') ON CONFLICT (id) DO NOTHING`,
    [id, icsCode, 'The ICS’s places', 'Follows the places of the ICS as the structure module holds them: each practice is in its place.'],
  );
  return id;
}

export interface PlaceSetInput {
  name: string;
  description?: string | null | undefined;
  /** How to draw the first places: from the data (districts, upper-tier councils, PCNs) or the assignments given (custom). */
  basis: string;
  assignments?: AssignmentRecord[] | undefined;
  /** Start from another place set's assignments (custom basis only). */
  copyOf?: string | undefined;
}

function assignmentProblems(icsCode: string, assignments: AssignmentRecord[], problems: Problems): void {
  const codes = new Set(needPracticesOf(icsCode).map((p) => p.code));
  const seen = new Set<string>();
  assignments.forEach((a, i) => {
    if (!codes.has(a.practiceCode)) problems.add(`assignments.${i}.practiceCode`, `${a.practiceCode} is not a practice of this ICB in NHS England’s 2025/26 data`);
    if (seen.has(a.practiceCode)) problems.add(`assignments.${i}.practiceCode`, `${a.practiceCode} is in more than one place`);
    seen.add(a.practiceCode);
    if (!a.place?.trim()) problems.add(`assignments.${i}.place`, `Name the place of ${a.practiceCode}`);
    else if (a.place.trim().length > 100) problems.add(`assignments.${i}.place`, 'A place name must be 100 characters or fewer');
  });
}

async function writeAssignments(tx: Queryable, placeSetId: string, assignments: AssignmentRecord[]): Promise<void> {
  await tx.query('DELETE FROM finance_place_set_practice WHERE place_set_id = $1', [placeSetId]);
  if (assignments.length === 0) return;
  await tx.query(
    'INSERT INTO finance_place_set_practice (place_set_id, practice_code, place_name) SELECT $1, p.code, p.place FROM unnest($2::text[], $3::text[]) AS p(code, place)',
    [placeSetId, assignments.map((a) => a.practiceCode), assignments.map((a) => a.place.trim())],
  );
}

/** The practices of the ICS's own places, as assignments (structure module). */
async function structureAssignments(tx: Queryable, icsCode: string): Promise<AssignmentRecord[]> {
  const codes = new Set(needPracticesOf(icsCode).map((p) => p.code));
  const { rows } = await tx.query<{ org_code: string; name: string }>('SELECT pr.org_code, pl.name FROM practice pr JOIN place pl ON pl.id = pr.place_id WHERE pr.ics_code = $1 ORDER BY pr.org_code', [icsCode]);
  return rows.filter((r) => codes.has(r.org_code)).map((r) => ({ practiceCode: r.org_code, place: r.name }));
}

export async function createPlaceSet(db: Database, icsCode: string, input: PlaceSetInput, actor: string): Promise<string> {
  return db.transaction(async (tx) => {
    await requireIcs(tx, icsCode);
    const problems = new Problems();
    const name = input.name?.trim() ?? '';
    if (!name) problems.add('name', 'Enter a name for the place definitions');
    else if (name.length > 100) problems.add('name', 'The name must be 100 characters or fewer');
    else if ((await tx.query('SELECT 1 FROM finance_place_set WHERE ics_code = $1 AND lower(name) = lower($2)', [icsCode, name])).rowCount > 0) problems.add('name', `There are already place definitions called ${name}`);
    if (!(input.basis in PLACE_SET_BASES) || input.basis === 'structure') problems.add('basis', 'Choose how to draw the first places: districts, upper-tier councils, PCNs, or by hand');
    let assignments: AssignmentRecord[] = [];
    if (input.basis === 'custom') {
      if (input.copyOf) assignments = input.copyOf === structurePlaceSetId(icsCode) ? await structureAssignments(tx, icsCode) : [...(await getPlaceSet(tx, icsCode, input.copyOf)).assignments].map(([practiceCode, place]) => ({ practiceCode, place }));
      else assignments = input.assignments ?? [];
      assignmentProblems(icsCode, assignments, problems);
    } else if (input.basis === 'districts' || input.basis === 'upper_tier' || input.basis === 'pcns') {
      assignments = [...placesBy(needPracticesOf(icsCode), input.basis)].map(([practiceCode, place]) => ({ practiceCode, place }));
    }
    problems.throwIfAny();
    const id = `${icsCode}-ps-${randomUUID()}`;
    await tx.query('INSERT INTO finance_place_set (id, ics_code, name, description, basis) VALUES ($1, $2, $3, $4, $5)', [id, icsCode, name, input.description?.trim() || null, input.basis]);
    await writeAssignments(tx, id, assignments);
    await log(tx, icsCode, actor, `Added the place definitions ${name} (${PLACE_SET_BASES[input.basis as PlaceSetBasis]}, ${new Set(assignments.map((a) => a.place)).size} places)`, { id });
    return id;
  });
}

async function editablePlaceSet(tx: Queryable, icsCode: string, id: string): Promise<{ name: string }> {
  const row = (await tx.query<{ name: string; basis: string }>('SELECT name, basis FROM finance_place_set WHERE id = $1 AND ics_code = $2', [id, icsCode])).rows[0];
  if (!row) {
    if (id === structurePlaceSetId(icsCode)) throw new ConflictError('The ICS’s places follow the structure module: change them there, or make a copy to change here');
    throw new NotFoundError(`Place definition ${id}`);
  }
  if (row.basis === 'structure') throw new ConflictError('The ICS’s places follow the structure module: change them there, or make a copy to change here');
  return row;
}

/** Moves practices to places (a new name makes a new place); practices not named stay where they are. */
export async function assignPractices(db: Database, icsCode: string, placeSetId: string, changes: AssignmentRecord[], actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const set = await editablePlaceSet(tx, icsCode, placeSetId);
    const problems = new Problems();
    assignmentProblems(icsCode, changes, problems);
    problems.throwIfAny();
    for (const c of changes) {
      await tx.query(
        `INSERT INTO finance_place_set_practice (place_set_id, practice_code, place_name) VALUES ($1, $2, $3)
         ON CONFLICT (place_set_id, practice_code) DO UPDATE SET place_name = EXCLUDED.place_name`,
        [placeSetId, c.practiceCode, c.place.trim()],
      );
    }
    await log(tx, icsCode, actor, `Moved ${changes.length} practice(s) between places in ${set.name}`, { placeSetId, changes });
  });
}

/** Takes practices out of every place of a place set. */
export async function unassignPractices(db: Database, icsCode: string, placeSetId: string, practiceCodes: string[], actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const set = await editablePlaceSet(tx, icsCode, placeSetId);
    await tx.query('DELETE FROM finance_place_set_practice WHERE place_set_id = $1 AND practice_code = ANY($2::text[])', [placeSetId, practiceCodes]);
    await log(tx, icsCode, actor, `Took ${practiceCodes.length} practice(s) out of their places in ${set.name}`, { placeSetId, practiceCodes });
  });
}

/** Renames a place; renaming it to the name of another place merges the two. */
export async function renamePlace(db: Database, icsCode: string, placeSetId: string, from: string, to: string, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const set = await editablePlaceSet(tx, icsCode, placeSetId);
    const problems = new Problems();
    const name = to.trim();
    if (!name) problems.add('to', 'Enter the new name of the place');
    else if (name.length > 100) problems.add('to', 'A place name must be 100 characters or fewer');
    problems.throwIfAny();
    const { rowCount } = await tx.query('UPDATE finance_place_set_practice SET place_name = $3 WHERE place_set_id = $1 AND place_name = $2', [placeSetId, from, name]);
    if (rowCount === 0) throw new NotFoundError(`Place ${from} in ${set.name}`);
    await log(tx, icsCode, actor, `Renamed the place ${from} to ${name} in ${set.name}`, { placeSetId, from, to: name });
  });
}

export async function replaceAssignments(db: Database, icsCode: string, placeSetId: string, assignments: AssignmentRecord[], actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const set = await editablePlaceSet(tx, icsCode, placeSetId);
    const problems = new Problems();
    assignmentProblems(icsCode, assignments, problems);
    problems.throwIfAny();
    await writeAssignments(tx, placeSetId, assignments);
    await log(tx, icsCode, actor, `Replaced the places of ${set.name} (${new Set(assignments.map((a) => a.place)).size} places)`, { placeSetId });
  });
}

export async function deletePlaceSet(db: Database, icsCode: string, placeSetId: string, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const set = await editablePlaceSet(tx, icsCode, placeSetId);
    const used = await tx.query<{ name: string }>('SELECT name FROM finance_scenario WHERE place_set_id = $1 ORDER BY name', [placeSetId]);
    if (used.rowCount > 0) throw new ConflictError(`The place definitions ${set.name} are used by the scenario(s) ${used.rows.map((r) => r.name).join(', ')}`);
    await tx.query('DELETE FROM finance_place_set WHERE id = $1', [placeSetId]);
    await log(tx, icsCode, actor, `Removed the place definitions ${set.name}`, { placeSetId });
  });
}

// ---- convergence policies and scenarios ---------------------------------------------------------

export interface PolicyInput {
  name: string;
  years: number;
  icbGrowth: number;
  minGrowth: number;
  maxGrowth: number;
  gapClosure: number;
  protectionBand: number;
}

function checkPolicy(input: PolicyInput, problems: Problems, prefix = ''): void {
  if (!input.name?.trim()) problems.add(`${prefix}name`, 'Enter a name for the policy');
  for (const p of policyProblems(input)) problems.add(`${prefix}${p.field}`, p.message);
}

async function writePolicy(tx: Queryable, icsCode: string, input: PolicyInput, id: string | undefined): Promise<string> {
  const values = [input.name.trim(), input.years, rate(input.icbGrowth), rate(input.minGrowth), rate(input.maxGrowth), rate(input.gapClosure), rate(input.protectionBand)];
  if (id) {
    await tx.query('UPDATE finance_policy SET name = $1, years = $2, icb_growth = $3, min_growth = $4, max_growth = $5, gap_closure = $6, protection_band = $7 WHERE id = $8 AND ics_code = $9', [...values, id, icsCode]);
    return id;
  }
  const newId = `${icsCode}-policy-${randomUUID()}`;
  await tx.query('INSERT INTO finance_policy (name, years, icb_growth, min_growth, max_growth, gap_closure, protection_band, id, ics_code) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [...values, newId, icsCode]);
  return newId;
}

async function policyNameTaken(tx: Queryable, icsCode: string, name: string, except?: string): Promise<boolean> {
  return (await tx.query('SELECT 1 FROM finance_policy WHERE ics_code = $1 AND lower(name) = lower($2) AND id <> $3', [icsCode, name.trim(), except ?? ''])).rowCount > 0;
}

export async function savePolicy(db: Database, icsCode: string, input: PolicyInput, actor: string, id?: string): Promise<string> {
  return db.transaction(async (tx) => {
    await requireIcs(tx, icsCode);
    if (id && (await tx.query('SELECT 1 FROM finance_policy WHERE id = $1 AND ics_code = $2', [id, icsCode])).rowCount === 0) throw new NotFoundError(`Convergence policy ${id}`);
    const problems = new Problems();
    checkPolicy(input, problems);
    if (input.name?.trim() && (await policyNameTaken(tx, icsCode, input.name, id))) problems.add('name', `There is already a policy called ${input.name.trim()}`);
    problems.throwIfAny();
    const saved = await writePolicy(tx, icsCode, input, id);
    await log(tx, icsCode, actor, `${id ? 'Changed' : 'Added'} the convergence policy ${input.name.trim()}`, { id: saved, ...input });
    return saved;
  });
}

export interface ScenarioInput {
  name: string;
  description?: string | null | undefined;
  year: number;
  placeSetId: string;
  /** An existing policy, or a policy to save with the scenario (its own). */
  policyId?: string | undefined;
  policy?: PolicyInput | undefined;
  weights: NeedWeights;
}

function weightProblems(weights: NeedWeights, problems: Problems): void {
  if (weights.core) {
    const core: CoreWeights = weights.core;
    for (const part of CORE_PARTS) if (!(core[part] >= 0 && core[part] <= 1)) problems.add(`weights.core.${part}`, 'Each weight must be between 0 and 1');
    const total = CORE_PARTS.reduce((a, p) => a + (core[p] || 0), 0);
    if (Math.abs(total - 1) > 0.0005) problems.add('weights.core', `The core weights add up to ${(total * 100).toFixed(1)}%; they must add up to 100%`);
  }
  if (weights.pmcInequalitiesShare !== null && !(weights.pmcInequalitiesShare >= 0 && weights.pmcInequalitiesShare <= 1)) problems.add('weights.pmcInequalitiesShare', 'The health inequalities share must be between 0% and 100%');
}

export async function saveScenario(db: Database, icsCode: string, input: ScenarioInput, actor: string, id?: string): Promise<string> {
  return db.transaction(async (tx) => {
    await requireIcs(tx, icsCode);
    let existingPolicy: string | null = null;
    if (id) {
      const row = (await tx.query<{ policy_id: string }>('SELECT policy_id FROM finance_scenario WHERE id = $1 AND ics_code = $2', [id, icsCode])).rows[0];
      if (!row) throw new NotFoundError(`Scenario ${id}`);
      existingPolicy = row.policy_id;
    }
    const problems = new Problems();
    const name = input.name?.trim() ?? '';
    if (!name) problems.add('name', 'Enter a name for the scenario');
    else if (name.length > 100) problems.add('name', 'The name must be 100 characters or fewer');
    else if ((await tx.query('SELECT 1 FROM finance_scenario WHERE ics_code = $1 AND lower(name) = lower($2) AND id <> $3', [icsCode, name, id ?? ''])).rowCount > 0) problems.add('name', `There is already a scenario called ${name}`);
    if (!isYear(input.year)) problems.add('year', 'Enter the base financial year, for example 2025 for 2025/26');
    const structureId = structurePlaceSetId(icsCode);
    if (input.placeSetId !== structureId && (await tx.query('SELECT 1 FROM finance_place_set WHERE id = $1 AND ics_code = $2', [input.placeSetId, icsCode])).rowCount === 0) problems.add('placeSetId', 'Choose the place definitions the scenario uses');
    if (input.policy) checkPolicy(input.policy, problems, 'policy.');
    else if (!input.policyId || (await tx.query('SELECT 1 FROM finance_policy WHERE id = $1 AND ics_code = $2', [input.policyId, icsCode])).rowCount === 0) problems.add('policyId', 'Choose the convergence policy the scenario uses');
    weightProblems(input.weights, problems);
    problems.throwIfAny();

    if (input.placeSetId === structureId) await ensureStructurePlaceSet(tx, icsCode);
    let policyId = input.policyId ?? '';
    if (input.policy) {
      // The scenario's own policy: changed in place when no other scenario shares it, else saved anew.
      const shared = existingPolicy ? (await tx.query('SELECT 1 FROM finance_scenario WHERE policy_id = $1 AND id <> $2', [existingPolicy, id ?? ''])).rowCount > 0 : true;
      const target = existingPolicy && !shared ? existingPolicy : undefined;
      let policyName = input.policy.name.trim();
      for (let n = 1; await policyNameTaken(tx, icsCode, policyName, target); n++) policyName = `${input.policy.name.trim()} (${name}${n > 1 ? ` ${n}` : ''})`;
      policyId = await writePolicy(tx, icsCode, { ...input.policy, name: policyName }, target);
    }
    const values = [name, input.description?.trim() || null, input.year, input.placeSetId, policyId, input.weights.core ? JSON.stringify(input.weights.core) : null, input.weights.pmcInequalitiesShare === null ? null : input.weights.pmcInequalitiesShare.toFixed(5)];
    let scenarioId: string;
    if (id) {
      scenarioId = id;
      await tx.query('UPDATE finance_scenario SET name = $1, description = $2, year = $3, place_set_id = $4, policy_id = $5, core_weights = $6, pmc_inequalities_share = $7, updated_at = now() WHERE id = $8', [...values, id]);
    } else {
      scenarioId = `${icsCode}-scenario-${randomUUID()}`;
      await tx.query('INSERT INTO finance_scenario (name, description, year, place_set_id, policy_id, core_weights, pmc_inequalities_share, id, ics_code) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [...values, scenarioId, icsCode]);
    }
    await log(tx, icsCode, actor, `${id ? 'Changed' : 'Added'} the allocation scenario ${name}`, { id: scenarioId });
    return scenarioId;
  });
}

export async function deleteScenario(db: Database, icsCode: string, id: string, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ name: string }>('DELETE FROM finance_scenario WHERE id = $1 AND ics_code = $2 RETURNING name', [id, icsCode]);
    const row = rows[0];
    if (!row) throw new NotFoundError(`Scenario ${id}`);
    await log(tx, icsCode, actor, `Removed the allocation scenario ${row.name}`, { id });
  });
}

// ---- investment standards ---------------------------------------------------------------------

export interface StandardLineInput {
  year: number;
  standard: string;
  category: string;
  description: string;
  plan: number;
  outturn?: number | null | undefined;
  /** Absent: excluded if NHS England excludes the category. */
  excluded?: boolean | undefined;
  reason?: string | null | undefined;
}

function standardLineProblems(input: StandardLineInput, problems: Problems, prefix = ''): { excluded: boolean; reason: string | null } {
  if (!isYear(input.year)) problems.add(`${prefix}year`, 'Enter the financial year, for example 2025 for 2025/26');
  if (!(input.standard in STANDARDS)) problems.add(`${prefix}standard`, 'Choose MHIS or the primary medical and community services guarantee');
  const categories = (STANDARD_CATEGORIES as Record<string, Record<string, string>>)[input.standard] ?? {};
  if (!(input.category in categories)) problems.add(`${prefix}category`, `Choose a category: ${Object.values(categories).join('; ')}`);
  if (!input.description?.trim()) problems.add(`${prefix}description`, 'Describe the spending line');
  if (!isPence(input.plan)) problems.add(`${prefix}plan`, 'Enter the plan in pounds');
  if (input.outturn !== undefined && input.outturn !== null && !isPence(input.outturn)) problems.add(`${prefix}outturn`, 'Enter the outturn in pounds');
  const fallback = input.standard in STANDARDS ? defaultExclusion(input.standard as Standard, input.category) : null;
  const excluded = input.excluded ?? fallback !== null;
  const reason = input.reason?.trim() || (excluded ? fallback : null);
  if (excluded && !reason) problems.add(`${prefix}reason`, 'Say why the line is left out of the calculation');
  if (!excluded && fallback && !input.reason?.trim()) problems.add(`${prefix}reason`, `${categories[input.category] ?? input.category} is left out unless you say why it counts (for example a co-occurring mental health need)`);
  return { excluded, reason };
}

async function writeStandardLine(tx: Queryable, icsCode: string, input: StandardLineInput, excluded: boolean, reason: string | null, id?: string): Promise<string> {
  const values = [input.year, input.standard, input.category, input.description.trim(), penceToDecimal(input.plan), input.outturn === undefined || input.outturn === null ? null : penceToDecimal(input.outturn), excluded, reason];
  if (id) {
    await tx.query('UPDATE finance_standard_line SET year = $1, standard = $2, category = $3, description = $4, plan = $5, outturn = $6, excluded = $7, exclusion_reason = $8 WHERE id = $9', [...values, id]);
    return id;
  }
  const existing = (await tx.query<{ id: string }>('SELECT id FROM finance_standard_line WHERE ics_code = $1 AND year = $2 AND standard = $3 AND description = $4', [icsCode, input.year, input.standard, input.description.trim()])).rows[0];
  if (existing) {
    await tx.query('UPDATE finance_standard_line SET year = $1, standard = $2, category = $3, description = $4, plan = $5, outturn = $6, excluded = $7, exclusion_reason = $8 WHERE id = $9', [...values, existing.id]);
    return existing.id;
  }
  const newId = `${icsCode}-sl-${randomUUID()}`;
  await tx.query('INSERT INTO finance_standard_line (year, standard, category, description, plan, outturn, excluded, exclusion_reason, id, ics_code) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [...values, newId, icsCode]);
  return newId;
}

export async function saveStandardLine(db: Database, icsCode: string, input: StandardLineInput, actor: string, id?: string): Promise<string> {
  return db.transaction(async (tx) => {
    await requireIcs(tx, icsCode);
    if (id && (await tx.query('SELECT 1 FROM finance_standard_line WHERE id = $1 AND ics_code = $2', [id, icsCode])).rowCount === 0) throw new NotFoundError(`Spending line ${id}`);
    const problems = new Problems();
    const { excluded, reason } = standardLineProblems(input, problems);
    if (id && input.description?.trim()) {
      const clash = await tx.query('SELECT 1 FROM finance_standard_line WHERE ics_code = $1 AND year = $2 AND standard = $3 AND description = $4 AND id <> $5', [icsCode, input.year, input.standard, input.description.trim(), id]);
      if (clash.rowCount > 0) problems.add('description', 'Another line of this standard and year has this description');
    }
    problems.throwIfAny();
    const saved = await writeStandardLine(tx, icsCode, input, excluded, reason, id);
    await log(tx, icsCode, actor, `${id ? 'Changed' : 'Saved'} the ${yearLabel(input.year)} ${input.standard.toUpperCase()} line ${input.description.trim()}`, { id: saved });
    return saved;
  });
}

export async function deleteStandardLine(db: Database, icsCode: string, id: string, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ description: string; year: number; standard: string }>('DELETE FROM finance_standard_line WHERE id = $1 AND ics_code = $2 RETURNING description, year, standard', [id, icsCode]);
    const row = rows[0];
    if (!row) throw new NotFoundError(`Spending line ${id}`);
    await log(tx, icsCode, actor, `Removed the ${yearLabel(Number(row.year))} ${row.standard.toUpperCase()} line ${row.description}`, { id });
  });
}

export async function setStandardTarget(db: Database, icsCode: string, input: { year: number; standard: string; requiredGrowth: number; basis: string }, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    await requireIcs(tx, icsCode);
    const problems = new Problems();
    if (!isYear(input.year)) problems.add('year', 'Enter the financial year, for example 2025 for 2025/26');
    if (!(input.standard in STANDARDS)) problems.add('standard', 'Choose MHIS or the primary medical and community services guarantee');
    if (!Number.isFinite(input.requiredGrowth) || input.requiredGrowth < -0.5 || input.requiredGrowth > 0.5) problems.add('requiredGrowth', 'Enter the required growth as a percentage between -50% and 50%');
    if (!input.basis?.trim()) problems.add('basis', 'Say what the required growth is, for example the programme allocation growth before convergence');
    problems.throwIfAny();
    await tx.query(
      `INSERT INTO finance_standard_target (ics_code, year, standard, required_growth, basis) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (ics_code, year, standard) DO UPDATE SET required_growth = EXCLUDED.required_growth, basis = EXCLUDED.basis`,
      [icsCode, input.year, input.standard, rate(input.requiredGrowth), input.basis.trim()],
    );
    await log(tx, icsCode, actor, `Set the growth the ${STANDARDS[input.standard as Standard]} requires in ${yearLabel(input.year)} to ${(input.requiredGrowth * 100).toFixed(2)}%`, input);
  });
}

// ---- the system position ----------------------------------------------------------------------

/** Organisations whose plans the system position may hold: the ICB and the system's NHS trusts. */
export async function positionOrganisations(db: Queryable, icsCode: string): Promise<Map<string, string>> {
  const { rows } = await db.query<{ code: string; name: string }>(
    `SELECT o.code, o.name FROM organisation o
      WHERE o.code = $1 OR (o.kind IN ('nhs_trust', 'foundation_trust') AND (o.code IN (SELECT org_code FROM ics_partner WHERE ics_code = $1)
                                                                       OR o.code IN (SELECT org_code FROM finance_figures WHERE ics_code = $1)))
      ORDER BY o.name`,
    [icsCode],
  );
  return new Map(rows.map((r) => [r.code, r.name]));
}

async function writeFigures(tx: Queryable, icsCode: string, records: FigureRecord[]): Promise<void> {
  for (const r of records) {
    await tx.query(
      `INSERT INTO finance_figures (ics_code, year, org_code, kind, month, income, pay, non_pay) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (ics_code, year, org_code, kind, month) DO UPDATE SET income = EXCLUDED.income, pay = EXCLUDED.pay, non_pay = EXCLUDED.non_pay`,
      [icsCode, r.year, r.orgCode, r.kind, r.month, penceToDecimal(r.income), penceToDecimal(r.pay), penceToDecimal(r.nonPay)],
    );
  }
}

export async function saveFigures(db: Database, icsCode: string, records: FigureRecord[], actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    await requireIcs(tx, icsCode);
    const orgs = await positionOrganisations(tx, icsCode);
    const problems = new Problems();
    records.forEach((r, i) => {
      if (!orgs.has(r.orgCode)) problems.add(`figures.${i}.orgCode`, `${r.orgCode} is not the ICB or an NHS trust of this system`);
      if (!isYear(r.year)) problems.add(`figures.${i}.year`, 'Enter the financial year, for example 2025 for 2025/26');
      if (r.kind === 'forecast' ? r.month !== 0 : !(Number.isInteger(r.month) && r.month >= 1 && r.month <= 12)) problems.add(`figures.${i}.month`, r.kind === 'forecast' ? 'A forecast is for the whole year: month 0' : 'Give the month of the financial year, 1 (April) to 12 (March)');
      for (const k of ['income', 'pay', 'nonPay'] as const) if (!isPence(r[k])) problems.add(`figures.${i}.${k}`, 'Enter an amount in pounds');
    });
    problems.throwIfAny();
    await writeFigures(tx, icsCode, records);
    const orgNames = [...new Set(records.map((r) => orgs.get(r.orgCode) ?? r.orgCode))];
    await log(tx, icsCode, actor, `Recorded ${records.length} month(s) of plans, actuals or forecasts for ${orgNames.join(', ')}`, { count: records.length });
  });
}

export async function setSystemTarget(db: Database, icsCode: string, input: { year: number; surplus: number; description?: string | null | undefined }, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    await requireIcs(tx, icsCode);
    const problems = new Problems();
    if (!isYear(input.year)) problems.add('year', 'Enter the financial year, for example 2025 for 2025/26');
    if (!isPence(input.surplus)) problems.add('surplus', 'Enter the target surplus in pounds (negative for a deficit, 0 for breakeven)');
    problems.throwIfAny();
    await tx.query(
      `INSERT INTO finance_system_target (ics_code, year, surplus, description) VALUES ($1, $2, $3, $4)
       ON CONFLICT (ics_code, year) DO UPDATE SET surplus = EXCLUDED.surplus, description = EXCLUDED.description`,
      [icsCode, input.year, penceToDecimal(input.surplus), input.description?.trim() || null],
    );
    await log(tx, icsCode, actor, `Set the system financial target for ${yearLabel(input.year)}`, { surplus: penceToDecimal(input.surplus) });
  });
}

export async function recordDelegatedSpend(db: Database, icsCode: string, entries: { year: number; delegationId: string; month: number; amount: number }[], actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const problems = new Problems();
    const known = new Set((await tx.query<{ id: string }>('SELECT d.id FROM delegation d JOIN ics_function f ON f.id = d.function_id WHERE f.ics_code = $1', [icsCode])).rows.map((r) => r.id));
    entries.forEach((e, i) => {
      if (!known.has(e.delegationId)) problems.add(`spend.${i}.delegationId`, `No delegation ${e.delegationId} in this ICS`);
      if (!(Number.isInteger(e.month) && e.month >= 1 && e.month <= 12)) problems.add(`spend.${i}.month`, 'Give the month of the financial year, 1 (April) to 12 (March)');
      if (!isPence(e.amount)) problems.add(`spend.${i}.amount`, 'Enter an amount in pounds');
      if (!isYear(e.year)) problems.add(`spend.${i}.year`, 'Enter the financial year');
    });
    problems.throwIfAny();
    for (const e of entries) {
      await tx.query(
        `INSERT INTO finance_delegated_spend (ics_code, year, delegation_id, month, amount) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (ics_code, year, delegation_id, month) DO UPDATE SET amount = EXCLUDED.amount`,
        [icsCode, e.year, e.delegationId, e.month, penceToDecimal(e.amount)],
      );
    }
    await log(tx, icsCode, actor, `Recorded ${entries.length} month(s) of spend against delegated budgets`, { count: entries.length });
  });
}

// ---- risk share -------------------------------------------------------------------------------

export interface RiskShareInput {
  name: string;
  description?: string | null | undefined;
  residualOrgCode: string;
  /** Shares as fractions; retain_own_variance and cap values in pence. */
  rules: { kind: string; orgCode?: string | null | undefined; value: number }[];
}

export async function saveRiskShare(db: Database, icsCode: string, year: number, input: RiskShareInput, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    await requireIcs(tx, icsCode);
    const orgs = await positionOrganisations(tx, icsCode);
    const problems = new Problems();
    if (!isYear(year)) problems.add('year', 'Enter the financial year, for example 2025 for 2025/26');
    if (!input.name?.trim()) problems.add('name', 'Enter a name for the agreement');
    if (!orgs.has(input.residualOrgCode)) problems.add('residualOrgCode', 'Choose who bears what no partner can (normally the ICB)');
    input.rules.forEach((r, i) => {
      if (!(r.kind in RISK_RULE_KINDS)) problems.add(`rules.${i}.kind`, `Choose a kind of rule: ${Object.keys(RISK_RULE_KINDS).join(', ')}`);
      if ((r.kind === 'retain_own_variance' || r.kind === 'cap') && !isPence(r.value)) problems.add(`rules.${i}.value`, 'Enter an amount in pounds');
    });
    const rules = input.rules.map((r, i) => ({ id: String(i), kind: r.kind as RiskRuleKind, orgCode: r.kind === 'retain_own_variance' ? null : (r.orgCode ?? null), value: r.value }));
    for (const p of ruleProblems(rules, new Set(orgs.keys()))) problems.add(p.field, p.message);
    problems.throwIfAny();
    await tx.query('DELETE FROM finance_risk_share WHERE ics_code = $1 AND year = $2', [icsCode, year]);
    await tx.query('INSERT INTO finance_risk_share (ics_code, year, name, description, residual_org_code) VALUES ($1, $2, $3, $4, $5)', [icsCode, year, input.name.trim(), input.description?.trim() || null, input.residualOrgCode]);
    let position = 1;
    for (const r of rules) {
      const stored = r.kind === 'retain_own_variance' || r.kind === 'cap' ? (r.value / 100).toFixed(2) : r.value.toFixed(6);
      await tx.query('INSERT INTO finance_risk_share_rule (id, ics_code, year, position, kind, org_code, value) VALUES ($1, $2, $3, $4, $5, $6, $7)', [`${icsCode}-rs-${randomUUID()}`, icsCode, year, position++, r.kind, r.orgCode, stored]);
    }
    await log(tx, icsCode, actor, `Set the ${yearLabel(year)} risk-share agreement ${input.name.trim()} (${rules.length} rules)`, { year });
  });
}

// ---- import -----------------------------------------------------------------------------------

export async function importContext(db: Queryable, icsCode: string): Promise<ImportContext> {
  const places = (await db.query<{ id: string; name: string; gss_code: string | null }>('SELECT id, name, gss_code FROM place WHERE ics_code = $1 ORDER BY name', [icsCode])).rows.map((r) => ({ id: r.id, name: r.name, gssCode: r.gss_code }));
  return { places, practices: new Set(needPracticesOf(icsCode).map((p) => p.code)), organisations: await positionOrganisations(db, icsCode) };
}

export interface ImportResult {
  dataset: Dataset;
  rows: number;
  summary: string;
}

/**
 * Imports a table (from CSV or a spreadsheet) in one transaction: every row is checked first,
 * and if any is wrong nothing is written and every problem is named by row and column.
 * Allocations, place budgets, standards lines and figures are added or replaced by their key;
 * place definitions replace the whole of the named place set (or make a new one).
 */
export async function importDataset(db: Database, icsCode: string, dataset: Dataset, grid: Grid, actor: string, options: { placeSetId?: string | undefined; placeSetName?: string | undefined } = {}): Promise<ImportResult> {
  await requireIcs(db, icsCode);
  const ctx = await importContext(db, icsCode);
  const fail = (problems: FieldProblem[]): never => {
    throw new ValidationError(problems);
  };
  switch (dataset) {
    case 'allocations': {
      const { records, problems } = readAllocations(grid);
      if (problems.length > 0) fail(problems);
      await db.transaction(async (tx) => {
        for (const r of records) {
          const existing = (await tx.query<{ id: string }>('SELECT id FROM finance_allocation WHERE ics_code = $1 AND year = $2 AND stream = $3 AND name = $4', [icsCode, r.year, r.stream, r.name])).rows[0];
          const values = [icsCode, r.year, r.stream, r.name, penceToDecimal(r.amount), r.source, r.conditions, r.recurrent];
          if (existing) await tx.query('UPDATE finance_allocation SET ics_code = $1, year = $2, stream = $3, name = $4, amount = $5, source = $6, conditions = $7, recurrent = $8 WHERE id = $9', [...values, existing.id]);
          else await tx.query('INSERT INTO finance_allocation (ics_code, year, stream, name, amount, source, conditions, recurrent, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [...values, `${icsCode}-fa-${randomUUID()}`]);
        }
        await log(tx, icsCode, actor, `Imported ${records.length} allocation line(s)`, { dataset });
      });
      return { dataset, rows: records.length, summary: `${records.length} allocation line(s) imported` };
    }
    case 'place-budgets': {
      const { records, problems } = readPlaceBudgets(grid, ctx);
      if (problems.length > 0) fail(problems);
      await db.transaction(async (tx) => {
        for (const r of records) {
          await tx.query(
            `INSERT INTO finance_place_budget (ics_code, year, stream, place_id, amount) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (ics_code, year, stream, place_id) DO UPDATE SET amount = EXCLUDED.amount`,
            [icsCode, r.year, r.stream, r.placeId, penceToDecimal(r.amount)],
          );
        }
        await log(tx, icsCode, actor, `Imported ${records.length} current place budget(s)`, { dataset });
      });
      return { dataset, rows: records.length, summary: `${records.length} place budget(s) imported` };
    }
    case 'place-definitions': {
      const { records, problems } = readPlaceDefinitions(grid, ctx);
      if (problems.length > 0) fail(problems);
      if (options.placeSetId) {
        await replaceAssignments(db, icsCode, options.placeSetId, records, actor);
        return { dataset, rows: records.length, summary: `${records.length} practice(s) placed in ${new Set(records.map((r) => r.place)).size} place(s)` };
      }
      const name = options.placeSetName?.trim() || `Imported place definitions ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`;
      await createPlaceSet(db, icsCode, { name, basis: 'custom', assignments: records }, actor);
      return { dataset, rows: records.length, summary: `${records.length} practice(s) placed in ${new Set(records.map((r) => r.place)).size} place(s), as the place definitions ${name}` };
    }
    case 'standards': {
      const { records, problems } = readStandards(grid);
      if (problems.length > 0) fail(problems);
      await db.transaction(async (tx) => {
        for (const r of records) await writeStandardLine(tx, icsCode, standardInput(r), r.excluded, r.reason);
        await log(tx, icsCode, actor, `Imported ${records.length} investment standard line(s)`, { dataset });
      });
      return { dataset, rows: records.length, summary: `${records.length} investment standard line(s) imported` };
    }
    case 'figures': {
      const { records, problems } = readFigures(grid, ctx);
      if (problems.length > 0) fail(problems);
      await db.transaction(async (tx) => {
        await writeFigures(tx, icsCode, records);
        await log(tx, icsCode, actor, `Imported ${records.length} row(s) of plans, actuals and forecasts`, { dataset });
      });
      return { dataset, rows: records.length, summary: `${records.length} row(s) of plans, actuals and forecasts imported` };
    }
  }
}

function standardInput(r: StandardRecord): StandardLineInput {
  return { year: r.year, standard: r.standard, category: r.category, description: r.description, plan: r.plan, outturn: r.outturn, excluded: r.excluded, reason: r.reason };
}

