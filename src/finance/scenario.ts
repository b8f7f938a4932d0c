/**
 * One allocation scenario worked through, as a pure function: the need indices of its places,
 * each place's target share of each budget distributed by need, its current budget, its distance
 * from target, and the convergence path. Everything the pages and the API show about a scenario
 * comes from here, so every number can be traced to the practices behind it.
 */
import { type NeedResult, type PathYear, type PlaceDefinition, allocateToPenny, convergencePath, distanceFromTarget, needIndices, policyProblems, type PolicyParameters } from './allocation.js';
import { type FinancialYear, type NeedWeights, PLACE_STREAMS, PLACE_STREAM_KEYS, type PlaceStream } from './model.js';
import type { NeedPractice } from './weighted-populations.js';

/** The key of the group of practices a place set leaves out. */
export const UNASSIGNED = '(unassigned)';
export const UNASSIGNED_NAME = 'Practices in no place';

export interface PlaceGroup {
  key: string;
  name: string;
  practiceCodes: string[];
}

export interface CurrentBudgets {
  /** The ICS's own place of each practice (structure module). */
  practicePlace: Map<string, string | null>;
  /** Budgets of the ICS's own places, pence. */
  byPlace: Map<string, number>;
}

export interface ScenarioInput {
  year: FinancialYear;
  practices: NeedPractice[];
  places: PlaceGroup[];
  weights: NeedWeights;
  policy: PolicyParameters;
  /** Per stream: the current budgets of the ICS's places, if any are held. */
  budgets: Partial<Record<PlaceStream, CurrentBudgets>>;
  /** Per stream: the ICB's allocation, pence, used as the pot when no current budgets are held. */
  allocations: Partial<Record<PlaceStream, number>>;
}

export interface StreamPlace {
  key: string;
  name: string;
  /** The weighted population the budget is shared by. */
  weight: number;
  share: number;
  target: number;
  current: number | null;
  distance: number | null;
}

export interface StreamResult {
  stream: PlaceStream;
  /** What the pot is: the sum of today's place budgets, else the ICB's allocation for the stream. */
  potSource: 'place_budgets' | 'allocation' | 'none';
  pot: number;
  places: StreamPlace[];
  path: PathYear[] | null;
  /** Why there is no path, when there is none. */
  pathNote: string | null;
}

export interface ScenarioResult {
  year: FinancialYear;
  need: NeedResult;
  /** The places as they appear in every table: the scenario's, then the practices in no place if any. */
  rows: { key: string; name: string; practices: number; population: number }[];
  streams: StreamResult[];
  /** Practices the place set names that are not in the ICB's 2025/26 data. */
  unknownPractices: string[];
}

/** The place groups of a place set: practice code → place name, grouped, in name order. */
export function groupsFromAssignments(assignments: Map<string, string>): PlaceGroup[] {
  const byName = new Map<string, string[]>();
  for (const [code, name] of assignments) byName.set(name, [...(byName.get(name) ?? []), code]);
  return [...byName.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([name, practiceCodes]) => ({ key: name, name, practiceCodes }));
}

/**
 * Today's budget of each practice: each of the ICS's places' budget shared among its practices
 * by population (to the penny). A scenario's place then holds the sum of its practices'. For the
 * ICS's own places this gives back exactly the budgets entered.
 */
export function practiceBudgets(practices: NeedPractice[], budgets: CurrentBudgets): { byPractice: Map<string, number>; unapportioned: number } {
  const byPractice = new Map<string, number>();
  let unapportioned = 0;
  const members = new Map<string, NeedPractice[]>();
  for (const p of practices) {
    const place = budgets.practicePlace.get(p.code);
    if (place) members.set(place, [...(members.get(place) ?? []), p]);
  }
  for (const [placeId, amount] of budgets.byPlace) {
    const ps = members.get(placeId) ?? [];
    if (ps.length === 0) {
      unapportioned += amount;
      continue;
    }
    const parts = allocateToPenny(amount, ps.map((p) => p.population));
    ps.forEach((p, i) => byPractice.set(p.code, parts[i] ?? 0));
  }
  return { byPractice, unapportioned };
}

export function workScenario(input: ScenarioInput): ScenarioResult {
  const byCode = new Map(input.practices.map((p) => [p.code, p]));
  const unknownPractices = input.places.flatMap((g) => g.practiceCodes.filter((c) => !byCode.has(c)));
  const definitions: PlaceDefinition<NeedPractice>[] = input.places.map((g) => ({
    key: g.key,
    name: g.name,
    practices: g.practiceCodes.map((c) => byCode.get(c)).filter((p): p is NeedPractice => p !== undefined),
  }));
  const assigned = new Set(definitions.flatMap((d) => d.practices.map((p) => p.code)));
  const unassigned = input.practices.filter((p) => !assigned.has(p.code));
  // Today's budgets by practice, per stream. A budget of one of the ICS's places that has none
  // of the 2025/26 practices cannot follow its practices: it stays with the practices in no place.
  const apportioned = new Map<PlaceStream, { byPractice: Map<string, number>; unapportioned: number }>();
  for (const stream of PLACE_STREAM_KEYS) {
    const budgets = input.budgets[stream];
    if (budgets && budgets.byPlace.size > 0) apportioned.set(stream, practiceBudgets(input.practices, budgets));
  }
  if (unassigned.length > 0 || [...apportioned.values()].some((a) => a.unapportioned > 0)) definitions.push({ key: UNASSIGNED, name: UNASSIGNED_NAME, practices: unassigned });

  const need = needIndices(definitions, input.practices, input.weights);
  const rows = need.places.map((p) => ({ key: p.key, name: p.name, practices: p.totals.practices, population: p.totals.population }));
  const problems = policyProblems(input.policy);

  const streams = PLACE_STREAM_KEYS.map((stream): StreamResult => {
    const component = PLACE_STREAMS[stream];
    const weights = need.places.map((p) => p.weighted[component]);
    const shareTotal = weights.reduce((a, w) => a + w, 0);
    const today = apportioned.get(stream);
    let current: number[] | null = null;
    let pot = 0;
    let potSource: StreamResult['potSource'] = 'none';
    if (today) {
      current = definitions.map((d) => d.practices.reduce((sum, p) => sum + (today.byPractice.get(p.code) ?? 0), 0) + (d.key === UNASSIGNED ? today.unapportioned : 0));
      pot = current.reduce((a, c) => a + c, 0);
      potSource = 'place_budgets';
    } else if ((input.allocations[stream] ?? 0) > 0) {
      pot = input.allocations[stream] ?? 0;
      potSource = 'allocation';
    }
    const targets = shareTotal > 0 ? allocateToPenny(pot, weights) : weights.map(() => 0);
    const places = need.places.map((p, i): StreamPlace => {
      const target = targets[i] ?? 0;
      const now = current ? (current[i] ?? 0) : null;
      return { key: p.key, name: p.name, weight: weights[i] ?? 0, share: shareTotal > 0 ? (weights[i] ?? 0) / shareTotal : 0, target, current: now, distance: now === null ? null : distanceFromTarget(now, target) };
    });
    let path: PathYear[] | null = null;
    let pathNote: string | null = null;
    if (!current) pathNote = 'No current budgets are held for the places, so there is no path from today’s budgets to target.';
    else if (problems.length > 0) pathNote = `The convergence policy cannot be applied: ${problems.map((p) => p.message).join('; ')}.`;
    else if (shareTotal <= 0) pathNote = 'The places have no weighted population.';
    else path = convergencePath(current, places.map((p) => p.share), input.policy);
    return { stream, potSource, pot, places, path, pathNote };
  });

  return { year: input.year, need, rows, streams, unknownPractices };
}
