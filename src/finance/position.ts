/**
 * The system financial position, as pure functions: each NHS organisation's plan and monthly
 * actuals (income, pay, non-pay, surplus or deficit), year to date, variance, and forecast; the
 * system's total against the financial target its organisations share; and spend against the
 * budgets delegated through the functions and decisions map (the ICB stays accountable for them).
 */
import type { DelegationEntry, FunctionEntry } from '../structure/functions-map.js';
import { type DelegatedSpend, type FinancialYear, type MonthFigures, type SystemTarget, monthLabel } from './model.js';

export interface Amounts {
  income: number;
  pay: number;
  nonPay: number;
  /** income − pay − non-pay: positive is a surplus, negative a deficit. */
  surplus: number;
}

const ZERO: Amounts = { income: 0, pay: 0, nonPay: 0, surplus: 0 };

function amounts(f: Pick<MonthFigures, 'income' | 'pay' | 'nonPay'>): Amounts {
  return { income: f.income, pay: f.pay, nonPay: f.nonPay, surplus: f.income - f.pay - f.nonPay };
}

export function addAmounts(a: Amounts, b: Amounts): Amounts {
  return { income: a.income + b.income, pay: a.pay + b.pay, nonPay: a.nonPay + b.nonPay, surplus: a.surplus + b.surplus };
}

function subtract(a: Amounts, b: Amounts): Amounts {
  return { income: a.income - b.income, pay: a.pay - b.pay, nonPay: a.nonPay - b.nonPay, surplus: a.surplus - b.surplus };
}

const sum = (list: Amounts[]): Amounts => list.reduce(addAmounts, ZERO);

export interface MonthPoint {
  month: number;
  label: string;
  plan: number;
  actual: number | null;
  cumulativePlan: number;
  cumulativeActual: number | null;
}

export interface OrgPosition {
  orgCode: string;
  name: string;
  plan: Amounts;
  ytdPlan: Amounts;
  ytdActual: Amounts;
  /** Actual − plan for income and surplus; plan − actual for pay and non-pay (so positive is always favourable). */
  ytdVariance: Amounts;
  forecast: Amounts;
  forecastSource: 'reported' | 'plan';
  /** Forecast surplus − plan surplus: positive is favourable. */
  forecastVariance: number;
  /** The year's surplus if the year-to-date variance carries on at the same rate. */
  runRateSurplus: number;
  /** Months up to the position's month for which the organisation has reported no actuals. */
  missingMonths: number[];
  months: MonthPoint[];
}

export interface SystemPosition {
  year: FinancialYear;
  /** The latest month any organisation has reported actuals for (0 if none). */
  month: number;
  monthLabel: string | null;
  organisations: OrgPosition[];
  totals: Omit<OrgPosition, 'orgCode' | 'name' | 'missingMonths' | 'forecastSource'>;
  target: SystemTarget | null;
  /** Planned total surplus − target (positive: the plans deliver more than the target). */
  planAgainstTarget: number | null;
  /** Forecast total surplus − target. */
  forecastAgainstTarget: number | null;
}

/** Plan − actual for costs, actual − plan for income and surplus: positive is favourable. */
function favourable(actual: Amounts, plan: Amounts): Amounts {
  return { income: actual.income - plan.income, pay: plan.pay - actual.pay, nonPay: plan.nonPay - actual.nonPay, surplus: actual.surplus - plan.surplus };
}

function monthsOf(plans: Amounts[], actuals: (Amounts | null)[], year: FinancialYear, upTo: number): MonthPoint[] {
  let cp = 0;
  let ca = 0;
  return plans.map((p, i) => {
    const month = i + 1;
    const a = actuals[i] ?? null;
    cp += p.surplus;
    if (a && month <= upTo) ca += a.surplus;
    return { month, label: monthLabel(year, month), plan: p.surplus, actual: a && month <= upTo ? a.surplus : null, cumulativePlan: cp, cumulativeActual: month <= upTo ? ca : null };
  });
}

export function systemPosition(year: FinancialYear, figures: MonthFigures[], names: Map<string, string>, target: SystemTarget | null): SystemPosition {
  const mine = figures.filter((f) => f.year === year);
  const orgCodes = [...new Set(mine.map((f) => f.orgCode))];
  const month = Math.max(0, ...mine.filter((f) => f.kind === 'actual').map((f) => f.month));
  const organisations = orgCodes
    .map((orgCode): OrgPosition => {
      const of = mine.filter((f) => f.orgCode === orgCode);
      const planMonths = Array.from({ length: 12 }, (_, i) => {
        const f = of.find((x) => x.kind === 'plan' && x.month === i + 1);
        return f ? amounts(f) : ZERO;
      });
      const actualMonths = Array.from({ length: 12 }, (_, i) => {
        const f = of.find((x) => x.kind === 'actual' && x.month === i + 1);
        return f ? amounts(f) : null;
      });
      const plan = sum(planMonths);
      const ytdPlan = sum(planMonths.slice(0, month));
      const ytdActual = sum(actualMonths.slice(0, month).map((a) => a ?? ZERO));
      const missingMonths = actualMonths.slice(0, month).flatMap((a, i) => (a ? [] : [i + 1]));
      const reported = of.find((x) => x.kind === 'forecast');
      // Without a reported forecast: the actuals so far, and the plan for the months to come.
      const forecast = reported ? amounts(reported) : addAmounts(ytdActual, sum(planMonths.slice(month)));
      const ytdVariance = favourable(ytdActual, ytdPlan);
      const runRateSurplus = month > 0 ? plan.surplus + Math.round((ytdVariance.surplus * 12) / month) : plan.surplus;
      return {
        orgCode,
        name: names.get(orgCode) ?? orgCode,
        plan,
        ytdPlan,
        ytdActual,
        ytdVariance,
        forecast,
        forecastSource: reported ? 'reported' : 'plan',
        forecastVariance: forecast.surplus - plan.surplus,
        runRateSurplus,
        missingMonths,
        months: monthsOf(planMonths, actualMonths, year, month),
      };
    })
    .sort((a, b) => b.plan.income - a.plan.income);

  const totalMonths = Array.from({ length: 12 }, (_, i) => {
    const plan = organisations.reduce((a, o) => a + (o.months[i]?.plan ?? 0), 0);
    const actual = i + 1 <= month ? organisations.reduce((a, o) => a + (o.months[i]?.actual ?? 0), 0) : null;
    return { plan, actual };
  });
  let cp = 0;
  let ca = 0;
  const totals = {
    plan: sum(organisations.map((o) => o.plan)),
    ytdPlan: sum(organisations.map((o) => o.ytdPlan)),
    ytdActual: sum(organisations.map((o) => o.ytdActual)),
    ytdVariance: sum(organisations.map((o) => o.ytdVariance)),
    forecast: sum(organisations.map((o) => o.forecast)),
    forecastVariance: organisations.reduce((a, o) => a + o.forecastVariance, 0),
    runRateSurplus: organisations.reduce((a, o) => a + o.runRateSurplus, 0),
    months: totalMonths.map((m, i): MonthPoint => {
      cp += m.plan;
      if (m.actual !== null) ca += m.actual;
      return { month: i + 1, label: monthLabel(year, i + 1), plan: m.plan, actual: m.actual, cumulativePlan: cp, cumulativeActual: m.actual === null ? null : ca };
    }),
  };
  return {
    year,
    month,
    monthLabel: month > 0 ? monthLabel(year, month) : null,
    organisations,
    totals,
    target,
    planAgainstTarget: target ? totals.plan.surplus - target.surplus : null,
    forecastAgainstTarget: target ? totals.forecast.surplus - target.surplus : null,
  };
}

/** Monthly surplus plan vs actual, for a table, with variance. Kept here so the CSV and the page agree. */
export function varianceOf(actual: Amounts, plan: Amounts): Amounts {
  return subtract(actual, plan);
}

export interface DelegatedBudget {
  delegationId: string;
  functionId: string;
  functionName: string;
  delegateName: string;
  delegateKind: DelegationEntry['delegateKind'];
  delegateId: string;
  placeName: string | null;
  /** Accountable for the function whatever is delegated: the ICB. */
  accountable: string;
  budget: number;
  ytdSpend: number;
  /** Budget to date, phased evenly. */
  ytdBudget: number;
  forecast: number;
  /** Budget − forecast: positive is an underspend. */
  forecastVariance: number;
  months: number;
}

/**
 * Spend against each budget delegated through the functions and decisions map: the budget
 * phased evenly over the year, spend to date, and a forecast of spend to date plus the
 * budget's remaining months.
 */
export function delegatedBudgets(functions: FunctionEntry[], spend: DelegatedSpend[], year: FinancialYear, month: number): DelegatedBudget[] {
  const result: DelegatedBudget[] = [];
  for (const f of functions) {
    for (const d of f.delegations) {
      if (d.budgetPounds === null || !d.current) continue;
      const budget = Math.round(d.budgetPounds * 100);
      const mine = spend.filter((s) => s.delegationId === d.id && s.year === year);
      const upTo = Math.max(month, 0);
      const ytdSpend = mine.filter((s) => s.month <= upTo).reduce((a, s) => a + s.amount, 0);
      const ytdBudget = Math.round((budget * upTo) / 12);
      const forecast = ytdSpend + (budget - ytdBudget);
      result.push({
        delegationId: d.id,
        functionId: f.id,
        functionName: f.name,
        delegateName: d.delegateName,
        delegateKind: d.delegateKind,
        delegateId: d.delegateId,
        placeName: d.placeName,
        accountable: f.accountable.name,
        budget,
        ytdSpend,
        ytdBudget,
        forecast,
        forecastVariance: budget - forecast,
        months: mine.filter((s) => s.month <= upTo).length,
      });
    }
  }
  return result;
}
