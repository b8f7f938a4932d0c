/**
 * Needs-based allocation to places, as pure functions.
 *
 * Need indices follow NHS England's ICB place-based allocation tool
 * (nhsengland/ICB_Allocation_Tool_update, utils.py) exactly:
 *   1. for a place (a set of practices) and for its whole ICB, sum each column over the practices,
 *      in the order of NHS England's file (pandas sums groups with Kahan's compensated summation);
 *   2. round each sum to a whole number the way Excel does (half up, on the shortest decimal
 *      representation of the float: Decimal(str(x)).quantize(1, ROUND_HALF_UP));
 *   3. index = (place WP / place population) / (ICB WP / ICB population), rounded the same way to 0.001.
 *
 * Target shares are a place's weighted population over the sum of its places', so targets add up
 * to the budget; pounds are shared to the penny with the largest-remainder method. The
 * convergence path moves each place from its current budget towards its target under a
 * pace-of-change policy. Money is in whole pence throughout.
 */
import type { FieldProblem } from '../core/errors.js';
import { COMPONENT_KEYS, CORE_PARTS, type ComponentKey, type ConvergencePolicy, type NeedWeights } from './model.js';

// ---- Excel rounding --------------------------------------------------------------------------

/** The decimal digits of a number as JavaScript (and Python) write it shortest: sign, digits, and where the point goes. */
function decimalDigits(value: number): { negative: boolean; digits: string; point: number } {
  const text = String(value);
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(text);
  if (!m) throw new Error(`cannot round ${text}`);
  const whole = m[2] ?? '0';
  const fraction = m[3] ?? '';
  return { negative: m[1] === '-', digits: whole + fraction, point: whole.length + Number(m[4] ?? '0') };
}

/**
 * Rounds half up (away from zero on a tie) to `decimals` places, on the number's shortest decimal
 * representation, as NHS England's tool does with Python's Decimal(str(x)). So 1.0005 rounds to
 * 1.001 (Math.round on the binary value would give 1.000), and 2.5 rounds to 3.
 */
export function excelRound(value: number, decimals = 0): number {
  if (!Number.isFinite(value)) return value;
  if (value === 0) return 0;
  const parts = decimalDigits(value);
  const negative = parts.negative;
  let { digits, point } = parts;
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  const keep = point + decimals;
  if (keep < 0) return 0;
  if (digits.length < keep) digits = digits.padEnd(keep, '0');
  const kept = digits.slice(0, keep) || '0';
  const next = digits.charAt(keep) || '0';
  let units = BigInt(kept);
  if (next >= '5') units += 1n;
  const text = units.toString().padStart(decimals + 1, '0');
  const rounded = Number(decimals > 0 ? `${text.slice(0, -decimals)}.${text.slice(-decimals)}` : text);
  return rounded === 0 ? 0 : negative ? -rounded : rounded;
}

// ---- weighted populations and need indices ---------------------------------------------------

export type Weighted = Record<ComponentKey, number>;

/** What need indices are computed from: a practice's population and weighted populations, and its place in the file. */
export interface PracticeNeed {
  code: string;
  row: number;
  population: number;
  wp: Weighted;
}

/** The population and weighted populations of a group of practices, each rounded to a whole number. */
export interface NeedTotals {
  practices: number;
  population: number;
  wp: Weighted;
}

/** Sums as pandas' groupby sum does: in file order, with Kahan's compensation. */
export function kahanSum(values: Iterable<number>): number {
  let sum = 0;
  let compensation = 0;
  for (const value of values) {
    const y = value - compensation;
    const t = sum + y;
    compensation = t - sum - y;
    if (Number.isNaN(compensation)) compensation = 0;
    sum = t;
  }
  return sum;
}

/** Population and weighted populations of a group of practices: summed in file order, each Excel-rounded to a whole number. */
export function needTotals(practices: readonly PracticeNeed[]): NeedTotals {
  const ordered = [...practices].sort((a, b) => a.row - b.row);
  const wp = {} as Weighted;
  for (const key of COMPONENT_KEYS) wp[key] = excelRound(kahanSum(ordered.map((p) => p.wp[key])));
  return { practices: ordered.length, population: excelRound(kahanSum(ordered.map((p) => p.population))), wp };
}

/** The need index of a place for one component: (place WP / place population) / (ICB WP / ICB population), to 0.001. */
export function needIndex(placeWp: number, placePopulation: number, icbWp: number, icbPopulation: number): number {
  return excelRound(placeWp / placePopulation / (icbWp / icbPopulation), 3);
}

/** The weighted populations a scenario works with: NHS England's, or custom blends of the components. */
export function weightedFor(totals: NeedTotals, weights: NeedWeights): Weighted {
  const wp = { ...totals.wp };
  if (weights.core) {
    const core = weights.core;
    wp.core = CORE_PARTS.reduce((sum, part) => sum + core[part] * totals.wp[part], 0);
  }
  if (weights.pmcInequalitiesShare !== null) {
    const h = weights.pmcInequalitiesShare;
    wp.pmc = (1 - h) * totals.wp.pmcNeed + h * totals.wp.inequalities;
  }
  return wp;
}

export interface PlaceDefinition<P extends PracticeNeed = PracticeNeed> {
  key: string;
  name: string;
  practices: P[];
}

export interface PlaceNeed {
  key: string;
  name: string;
  totals: NeedTotals;
  /** Weighted populations as the scenario weights them (equal to totals.wp with NHS England's weights). */
  weighted: Weighted;
  index: Record<ComponentKey, number>;
}

export interface NeedResult {
  icb: { totals: NeedTotals; weighted: Weighted; /** WP per head, relative to England (the tool's ICB row). */ index: Record<ComponentKey, number> };
  places: PlaceNeed[];
  /** Practices of the ICB that no place holds; they are shown as their own group so shares still cover the ICB. */
  unassigned: NeedTotals;
}

/**
 * Need indices of each place relative to its ICB, for every component, as NHS England's tool
 * computes them. The ICB's own row is its weighted population per head (relative to England).
 */
export function needIndices<P extends PracticeNeed>(places: readonly PlaceDefinition<P>[], icbPractices: readonly P[], weights: NeedWeights = { core: null, pmcInequalitiesShare: null }): NeedResult {
  const icbTotals = needTotals(icbPractices);
  const icbWeighted = weightedFor(icbTotals, weights);
  const icbIndex = {} as Record<ComponentKey, number>;
  for (const key of COMPONENT_KEYS) icbIndex[key] = excelRound(icbWeighted[key] / icbTotals.population, 3);
  const assigned = new Set<string>();
  const result: PlaceNeed[] = places.map((place) => {
    for (const p of place.practices) assigned.add(p.code);
    const totals = needTotals(place.practices);
    const weighted = weightedFor(totals, weights);
    const index = {} as Record<ComponentKey, number>;
    for (const key of COMPONENT_KEYS) index[key] = totals.population > 0 ? needIndex(weighted[key], totals.population, icbWeighted[key], icbTotals.population) : 0;
    return { key: place.key, name: place.name, totals, weighted, index };
  });
  return { icb: { totals: icbTotals, weighted: icbWeighted, index: icbIndex }, places: result, unassigned: needTotals(icbPractices.filter((p) => !assigned.has(p.code))) };
}

// ---- target shares and pounds to the penny ---------------------------------------------------

/** Each weight's share of the total. */
export function targetShares(weights: readonly number[]): number[] {
  const total = weights.reduce((a, w) => a + w, 0);
  if (!(total > 0)) throw new Error('target shares need at least one positive weight');
  return weights.map((w) => w / total);
}

/**
 * Shares a whole number of pence in proportion to the weights, so the parts add up to the total
 * exactly: each part gets the whole pence of its quota, and the pence left over go one each to
 * the largest remainders (ties to the first). Works for negative totals (an overspend) too.
 */
export function allocateToPenny(totalPence: number, weights: readonly number[]): number[] {
  if (!Number.isSafeInteger(totalPence)) throw new Error(`the total must be a whole number of pence, not ${totalPence}`);
  if (weights.some((w) => !(w >= 0) || !Number.isFinite(w))) throw new Error('weights must be zero or more');
  if (weights.length === 0) {
    if (totalPence !== 0) throw new Error('cannot share money among no one');
    return [];
  }
  const sign = totalPence < 0 ? -1 : 1;
  const total = Math.abs(totalPence);
  const sum = weights.reduce((a, w) => a + w, 0);
  if (!(sum > 0)) {
    if (total === 0) return weights.map(() => 0);
    throw new Error('weights must not all be zero');
  }
  const quotas = weights.map((w) => (total * w) / sum);
  const parts = quotas.map((q) => Math.floor(q));
  let left = total - parts.reduce((a, p) => a + p, 0);
  const order = quotas.map((q, i) => ({ i, r: q - Math.floor(q) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) {
    const i = order[k]?.i ?? 0;
    parts[i] = (parts[i] ?? 0) + 1;
  }
  // A float quota can land a hair over its share; never hand out more than the total.
  while (left < 0) {
    const i = parts.indexOf(Math.max(...parts));
    parts[i] = (parts[i] ?? 0) - 1;
    left++;
  }
  return parts.map((p) => (p === 0 ? 0 : sign * p));
}

/** Distance from target: (current − target) / target. Positive is above target. */
export function distanceFromTarget(current: number, target: number): number {
  return target === 0 ? 0 : (current - target) / target;
}

// ---- pace of change --------------------------------------------------------------------------

export type PolicyParameters = Pick<ConvergencePolicy, 'years' | 'icbGrowth' | 'minGrowth' | 'maxGrowth' | 'gapClosure' | 'protectionBand'>;

/** What is wrong with a policy, field by field. */
export function policyProblems(p: PolicyParameters): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const pct = (x: number): string => `${(x * 100).toLocaleString('en-GB', { maximumFractionDigits: 2 })}%`;
  if (!Number.isInteger(p.years) || p.years < 1 || p.years > 10) problems.push({ field: 'years', message: 'The path must run for 1 to 10 years' });
  if (!Number.isFinite(p.icbGrowth) || p.icbGrowth <= -0.5 || p.icbGrowth > 0.5) problems.push({ field: 'icbGrowth', message: 'The growth of the pot must be a percentage between -50% and 50%' });
  if (!Number.isFinite(p.minGrowth) || p.minGrowth <= -0.5) problems.push({ field: 'minGrowth', message: 'The minimum growth must be a percentage above -50%' });
  if (!Number.isFinite(p.maxGrowth) || p.maxGrowth > 1) problems.push({ field: 'maxGrowth', message: 'The maximum growth must be a percentage up to 100%' });
  if (!Number.isFinite(p.gapClosure) || p.gapClosure < 0 || p.gapClosure > 1) problems.push({ field: 'gapClosure', message: 'The share of the gap closed each year must be between 0% and 100%' });
  if (!Number.isFinite(p.protectionBand) || p.protectionBand < 0 || p.protectionBand > 1) problems.push({ field: 'protectionBand', message: 'The protection band must be between 0% and 100%' });
  if (problems.length > 0) return problems;
  if (p.minGrowth > p.icbGrowth) problems.push({ field: 'minGrowth', message: `The minimum growth (${pct(p.minGrowth)}) cannot be more than the growth of the pot (${pct(p.icbGrowth)}): not every place could get it` });
  if (p.maxGrowth < p.icbGrowth) problems.push({ field: 'maxGrowth', message: `The maximum growth (${pct(p.maxGrowth)}) cannot be less than the growth of the pot (${pct(p.icbGrowth)}): the pot could not be spent` });
  return problems;
}

export interface PathYear {
  /** 0 is the base year (today's budgets); 1 the year after, and so on. */
  offset: number;
  /** The pot for places this year, pence. */
  total: number;
  budgets: number[];
  targets: number[];
  /** Growth on the year before (0 in the base year). */
  growth: number[];
  distance: number[];
}

/** The θ ≥ 0 at which Σ min(θ·e, m) reaches `need` (contributions proportional to excess, each up to its room). */
function solveContributions(excess: number[], room: number[], need: number): number[] {
  const items = excess.map((e, i) => ({ i, e, m: room[i] ?? 0 })).filter((x) => x.e > 0 && x.m > 0);
  items.sort((a, b) => a.m / a.e - b.m / b.e);
  const result = excess.map(() => 0);
  let remainingNeed = need;
  let slope = items.reduce((s, x) => s + x.e, 0);
  for (let k = 0; k < items.length; k++) {
    const item = items[k];
    if (!item) break;
    const theta = remainingNeed / slope;
    if (theta <= item.m / item.e) {
      for (let j = k; j < items.length; j++) {
        const rest = items[j];
        if (rest) result[rest.i] = theta * rest.e;
      }
      return result;
    }
    // This one reaches its room first: it gives all it can, the rest share what is still needed.
    result[item.i] = item.m;
    remainingNeed -= item.m;
    slope -= item.e;
  }
  return result;
}

/**
 * The multi-year path from today's budgets to target. Each year the pot grows by the policy's
 * growth; every place starts from the pot's average growth; places below target gain a share
 * (gapClosure) of their gap, up to the maximum growth; places above target, beyond the
 * protection band, give up what that costs, in proportion to how far above target they are,
 * never below their target and never below the minimum growth. If they cannot give enough,
 * the gains are scaled down. So no place moves away from its target, growth stays within the
 * policy, and every year's budgets add up to the pot to the penny.
 */
export function convergencePath(current: readonly number[], shares: readonly number[], policy: PolicyParameters): PathYear[] {
  if (current.length !== shares.length) throw new Error('one share for each current budget');
  const problems = policyProblems(policy);
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join('; '));
  const base = current.reduce((a, c) => a + c, 0);
  const firstTargets = allocateToPenny(base, shares);
  const years: PathYear[] = [
    { offset: 0, total: base, budgets: [...current], targets: firstTargets, growth: current.map(() => 0), distance: current.map((c, i) => distanceFromTarget(c, firstTargets[i] ?? 0)) },
  ];
  let prev = [...current];
  let prevTotal = base;
  for (let t = 1; t <= policy.years; t++) {
    const total = Math.round(prevTotal * (1 + policy.icbGrowth));
    const ratio = prevTotal === 0 ? 1 : total / prevTotal;
    const targets = shares.map((s) => s * total);
    const flat = prev.map((p) => p * ratio);
    const gains = flat.map((f, i) => {
      const target = targets[i] ?? 0;
      const cap = (prev[i] ?? 0) * (1 + policy.maxGrowth);
      return f < target ? Math.max(0, Math.min(policy.gapClosure * (target - f), cap - f)) : 0;
    });
    const excess = flat.map((f, i) => {
      const target = targets[i] ?? 0;
      const above = target > 0 ? f / target - 1 : Number.POSITIVE_INFINITY;
      return f > target && above > policy.protectionBand ? f - target : 0;
    });
    const room = flat.map((f, i) => ((excess[i] ?? 0) > 0 ? Math.max(0, f - Math.max((prev[i] ?? 0) * (1 + policy.minGrowth), targets[i] ?? 0)) : 0));
    const need = gains.reduce((a, g) => a + g, 0);
    const available = room.reduce((a, r) => a + r, 0);
    let contributions: number[];
    let scaledGains = gains;
    if (available <= need) {
      contributions = room;
      scaledGains = need > 0 ? gains.map((g) => (g * available) / need) : gains;
    } else {
      contributions = solveContributions(excess, room, need);
    }
    const exact = flat.map((f, i) => f + (scaledGains[i] ?? 0) - (contributions[i] ?? 0));
    const budgets = allocateToPenny(total, exact.map((b) => Math.max(0, b)));
    const pennyTargets = allocateToPenny(total, shares);
    years.push({
      offset: t,
      total,
      budgets,
      targets: pennyTargets,
      growth: budgets.map((b, i) => ((prev[i] ?? 0) === 0 ? 0 : b / (prev[i] ?? 1) - 1)),
      distance: budgets.map((b, i) => distanceFromTarget(b, pennyTargets[i] ?? 0)),
    });
    prev = budgets;
    prevTotal = total;
  }
  return years;
}
