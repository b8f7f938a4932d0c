/**
 * Investment standards and guarantees, as pure functions. The Mental Health Investment Standard:
 * the ICB's mental health spend must grow at least as fast as its programme allocation (before
 * convergence adjustments), leaving out what NHS England excludes (Service Development Fund and
 * other transformation money, spending review funding, COVID-19 costs, learning disability and
 * autism unless there is a co-occurring mental health need, ADHD, and dementia). The primary
 * medical and community services guarantee works the same way for those services.
 *
 * The check compares this year's spend in the calculation with last year's outturn grown by the
 * required growth, for the plan and (once the year is out) for the outturn, and says why.
 */
import { formatPounds } from '../web/render.js';
import { DEFAULT_EXCLUSIONS, type FinancialYear, STANDARDS, STANDARD_CATEGORIES, type Standard, type StandardLine, type StandardTarget, yearLabel } from './model.js';

export interface StandardLineView extends StandardLine {
  categoryLabel: string;
  /** Counted in the compliance calculation. */
  counted: boolean;
}

export interface Measure {
  /** Spend in the calculation, pence. */
  counted: number;
  /** Spend left out, pence. */
  excluded: number;
  /** Growth of the counted spend on the base. */
  growth: number | null;
  met: boolean | null;
  /** How much more spend in the calculation would meet the standard, pence (0 when met). */
  shortfall: number;
  /** Spend above the minimum, pence (0 when not met). */
  headroom: number;
}

export type StandardStatus = 'met' | 'not_met' | 'no_base' | 'no_target' | 'no_lines';

export interface StandardCheck {
  standard: Standard;
  name: string;
  year: FinancialYear;
  requiredGrowth: number | null;
  basis: string | null;
  /** Last year's spend in the calculation: its outturn where it is known, else its plan. */
  base: { year: FinancialYear; counted: number; source: 'outturn' | 'plan' } | null;
  /** The least this year's counted spend may be, pence. */
  minimum: number | null;
  plan: Measure;
  /** Null until every line has an outturn. */
  outturn: Measure | null;
  status: StandardStatus;
  /** In plain English: met or not, by how much, and why. */
  reason: string;
  lines: StandardLineView[];
  /** Excluded spend by category, with the reasons. */
  exclusions: { category: string; label: string; amount: number; reasons: string[] }[];
}

const pct = (x: number): string => `${(x * 100).toLocaleString('en-GB', { minimumFractionDigits: 1, maximumFractionDigits: 2 })}%`;
const money = (pence: number): string => formatPounds(pence / 100);

export function categoryLabel(standard: Standard, category: string): string {
  return (STANDARD_CATEGORIES[standard] as Record<string, string>)[category] ?? category;
}

/** The reason a category is left out by default, if NHS England excludes it. */
export function defaultExclusion(standard: Standard, category: string): string | null {
  return DEFAULT_EXCLUSIONS[standard]?.[category] ?? null;
}

function measure(lines: StandardLine[], pick: (l: StandardLine) => number, base: number | null, minimum: number | null): Measure {
  const counted = lines.filter((l) => !l.excluded).reduce((a, l) => a + pick(l), 0);
  const excluded = lines.filter((l) => l.excluded).reduce((a, l) => a + pick(l), 0);
  const met = minimum === null ? null : counted >= minimum;
  return {
    counted,
    excluded,
    growth: base === null || base === 0 ? null : counted / base - 1,
    met,
    shortfall: minimum !== null && counted < minimum ? minimum - counted : 0,
    headroom: minimum !== null && counted >= minimum ? counted - minimum : 0,
  };
}

/** Checks one standard for one year, from this year's and last year's lines and the required growth. */
export function checkStandard(standard: Standard, year: FinancialYear, lines: StandardLine[], previous: StandardLine[], target: StandardTarget | null): StandardCheck {
  const mine = lines.filter((l) => l.standard === standard && l.year === year);
  const before = previous.filter((l) => l.standard === standard && l.year === year - 1);
  const views: StandardLineView[] = mine.map((l) => ({ ...l, categoryLabel: categoryLabel(standard, l.category), counted: !l.excluded }));
  const name = STANDARDS[standard];
  let base: StandardCheck['base'] = null;
  if (before.length > 0) {
    const allOut = before.every((l) => l.outturn !== null);
    const counted = before.filter((l) => !l.excluded).reduce((a, l) => a + (allOut ? (l.outturn ?? 0) : l.plan), 0);
    base = { year: year - 1, counted, source: allOut ? 'outturn' : 'plan' };
  }
  const minimum = base && target ? Math.round(base.counted * (1 + target.requiredGrowth)) : null;
  const plan = measure(mine, (l) => l.plan, base?.counted ?? null, minimum);
  const outturn = mine.length > 0 && mine.every((l) => l.outturn !== null) ? measure(mine, (l) => l.outturn ?? 0, base?.counted ?? null, minimum) : null;

  const byCategory = new Map<string, { category: string; label: string; amount: number; reasons: string[] }>();
  for (const l of mine.filter((x) => x.excluded)) {
    const entry = byCategory.get(l.category) ?? { category: l.category, label: categoryLabel(standard, l.category), amount: 0, reasons: [] };
    entry.amount += l.outturn ?? l.plan;
    if (l.exclusionReason && !entry.reasons.includes(l.exclusionReason)) entry.reasons.push(l.exclusionReason);
    byCategory.set(l.category, entry);
  }
  const exclusions = [...byCategory.values()].sort((a, b) => b.amount - a.amount);

  let status: StandardStatus;
  let reason: string;
  const lastYear = yearLabel(year - 1);
  const what = standard === 'mhis' ? 'mental health spend' : 'primary medical and community services spend';
  if (mine.length === 0) {
    status = 'no_lines';
    reason = `No ${what} has been entered for ${yearLabel(year)}.`;
  } else if (!target) {
    status = 'no_target';
    reason = `The growth the ${name} requires in ${yearLabel(year)} has not been entered, so compliance cannot be judged.`;
  } else if (!base || minimum === null) {
    status = 'no_base';
    reason = `There is no ${lastYear} spend to grow from, so compliance cannot be judged. Enter ${lastYear}’s lines with their outturn.`;
  } else {
    const judged = outturn ?? plan;
    const which = outturn ? 'Outturn' : 'Planned';
    const rule = `The standard requires growth of at least ${pct(target.requiredGrowth)} (${target.basis}) on the ${money(base.counted)} counted in ${lastYear} (${base.source === 'outturn' ? 'its outturn' : 'its plan, as its outturn is not complete'}), so at least ${money(minimum)}.`;
    const grew = `${which} ${what} in the calculation is ${money(judged.counted)}, ${judged.growth === null ? 'with no growth to measure' : `${judged.growth >= 0 ? 'growth' : 'a fall'} of ${pct(Math.abs(judged.growth))}`} on ${lastYear}.`;
    const left = judged.excluded > 0 ? ` ${money(judged.excluded)} is left out of the calculation: ${exclusions.map((e) => `${e.label} ${money(e.amount)}`).join(', ')}.` : '';
    if (judged.met) {
      status = 'met';
      reason = `Met. ${grew} ${rule} ${judged.headroom > 0 ? `It is ${money(judged.headroom)} above the minimum.` : 'It is exactly the minimum.'}${left}`;
    } else {
      status = 'not_met';
      reason = `Not met: a shortfall of ${money(judged.shortfall)}. ${grew} ${rule} Spend in the calculation grows more slowly than the ICB’s allocation.${left}`;
    }
  }
  return { standard, name, year, requiredGrowth: target?.requiredGrowth ?? null, basis: target?.basis ?? null, base, minimum, plan, outturn, status, reason, lines: views, exclusions };
}
