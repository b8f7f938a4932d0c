import { describe, expect, it } from 'vitest';
import type { FunctionEntry } from '../structure/functions-map.js';
import { checkStandard } from './mhis.js';
import type { MonthFigures, RiskShareRule, StandardLine } from './model.js';
import { delegatedBudgets, systemPosition } from './position.js';
import { applyRiskShare, describeRule, ruleProblems } from './risk-share.js';

const M = 100_000_000; // £1m in pence

function line(year: number, category: string, plan: number, outturn: number | null, excluded = false): StandardLine {
  return { id: `${year}-${category}`, icsCode: 'QGH', year, standard: 'mhis', category, description: category, plan, outturn, excluded, exclusionReason: excluded ? 'excluded by NHS England' : null };
}

describe('the Mental Health Investment Standard', () => {
  const lastYear = [line(2024, 'crisis', 100 * M, 100 * M), line(2024, 'adhd', 5 * M, 5 * M, true)];
  const target = { icsCode: 'QGH', year: 2025, standard: 'mhis' as const, requiredGrowth: 0.04, basis: 'the ICB’s programme allocation growth before convergence' };

  it('is met when counted spend grows at least as fast as the programme allocation', () => {
    const check = checkStandard('mhis', 2025, [line(2025, 'crisis', 105 * M, null), line(2025, 'adhd', 6 * M, null, true)], lastYear, target);
    expect(check.base).toEqual({ year: 2024, counted: 100 * M, source: 'outturn' });
    expect(check.minimum).toBe(104 * M);
    expect(check.plan).toMatchObject({ counted: 105 * M, excluded: 6 * M, met: true, shortfall: 0, headroom: 1 * M });
    expect(check.plan.growth).toBeCloseTo(0.05);
    expect(check.outturn).toBeNull();
    expect(check.status).toBe('met');
    expect(check.reason).toContain('Met. Planned mental health spend in the calculation is £105,000,000, growth of 5.0% on 2024/25.');
    expect(check.reason).toContain('at least 4.0% (the ICB’s programme allocation growth before convergence) on the £100,000,000 counted in 2024/25 (its outturn), so at least £104,000,000.');
    expect(check.reason).toContain('£6,000,000 is left out of the calculation: ADHD £6,000,000.');
  });

  it('is not met, with the shortfall and the reason, when growth falls short; excluded spend cannot make it up', () => {
    const check = checkStandard('mhis', 2025, [line(2025, 'crisis', 103 * M, 102.5 * M), line(2025, 'adhd', 20 * M, 20 * M, true)], lastYear, target);
    expect(check.outturn).toMatchObject({ counted: 102.5 * M, met: false, shortfall: 1.5 * M });
    expect(check.status).toBe('not_met');
    expect(check.reason).toMatch(/^Not met: a shortfall of £1,500,000\. Outturn mental health spend in the calculation is £102,500,000, growth of 2\.5% on 2024\/25\./);
  });

  it('says what is missing when it cannot judge', () => {
    expect(checkStandard('mhis', 2025, [], lastYear, target).status).toBe('no_lines');
    expect(checkStandard('mhis', 2025, [line(2025, 'crisis', 1, null)], lastYear, null).status).toBe('no_target');
    const noBase = checkStandard('mhis', 2025, [line(2025, 'crisis', 1, null)], [], target);
    expect(noBase.status).toBe('no_base');
    expect(noBase.reason).toContain('Enter 2024/25’s lines with their outturn');
  });

  it('grows from last year’s plan when its outturn is not complete', () => {
    const check = checkStandard('mhis', 2025, [line(2025, 'crisis', 110 * M, null)], [line(2024, 'crisis', 100 * M, null)], target);
    expect(check.base?.source).toBe('plan');
  });
});

function month(orgCode: string, kind: MonthFigures['kind'], m: number, income: number, pay: number, nonPay: number): MonthFigures {
  return { icsCode: 'QGH', year: 2025, orgCode, kind, month: m, income, pay, nonPay };
}

describe('the system financial position', () => {
  // Trust A plans a £1m surplus a month; after 3 months it is £0.5m a month behind. Trust B plans breakeven and reports a forecast.
  const figures: MonthFigures[] = [
    ...Array.from({ length: 12 }, (_, i) => month('A', 'plan', i + 1, 10 * M, 6 * M, 3 * M)),
    ...Array.from({ length: 3 }, (_, i) => month('A', 'actual', i + 1, 10 * M, 6.5 * M, 3 * M)),
    ...Array.from({ length: 12 }, (_, i) => month('B', 'plan', i + 1, 5 * M, 3 * M, 2 * M)),
    ...Array.from({ length: 2 }, (_, i) => month('B', 'actual', i + 1, 5 * M, 3 * M, 2 * M)),
    { icsCode: 'QGH', year: 2025, orgCode: 'B', kind: 'forecast', month: 0, income: 60 * M, pay: 36 * M, nonPay: 26 * M },
  ];
  const names = new Map([
    ['A', 'Trust A'],
    ['B', 'Trust B'],
  ]);

  it('gives plan, year to date, variance and forecast for each organisation and the system', () => {
    const p = systemPosition(2025, figures, names, { icsCode: 'QGH', year: 2025, surplus: 10 * M, description: null });
    expect(p.month).toBe(3);
    expect(p.monthLabel).toBe('June 2025');
    const a = p.organisations.find((o) => o.orgCode === 'A');
    expect(a?.plan.surplus).toBe(12 * M);
    expect(a?.ytdPlan.surplus).toBe(3 * M);
    expect(a?.ytdActual.surplus).toBe(1.5 * M);
    expect(a?.ytdVariance).toEqual({ income: 0, pay: -1.5 * M, nonPay: 0, surplus: -1.5 * M });
    // Without a reported forecast: actuals so far, then the plan.
    expect(a?.forecastSource).toBe('plan');
    expect(a?.forecast.surplus).toBe(10.5 * M);
    expect(a?.runRateSurplus).toBe(6 * M);
    const b = p.organisations.find((o) => o.orgCode === 'B');
    expect(b?.forecastSource).toBe('reported');
    expect(b?.forecast.surplus).toBe(-2 * M);
    expect(b?.missingMonths).toEqual([3]);
    expect(p.totals.plan.surplus).toBe(12 * M);
    expect(p.totals.forecast.surplus).toBe(8.5 * M);
    expect(p.planAgainstTarget).toBe(2 * M);
    expect(p.forecastAgainstTarget).toBe(-1.5 * M);
    expect(p.totals.months[2]).toMatchObject({ month: 3, cumulativePlan: 3 * M, cumulativeActual: 1.5 * M });
    expect(p.totals.months[3]?.cumulativeActual).toBeNull();
  });

  it('tracks spend against budgets delegated through the functions map', () => {
    const functions = [
      {
        id: 'f',
        name: 'Community services',
        accountable: { code: 'QGH', name: 'NHS Herefordshire and Worcestershire ICB' },
        delegations: [{ id: 'd1', delegateKind: 'body', delegateId: 'b', delegateName: 'One Herefordshire', placeName: 'Herefordshire', budgetPounds: 1_200_000, current: true }],
      },
    ] as unknown as FunctionEntry[];
    const spend = [1, 2, 3].map((m) => ({ icsCode: 'QGH', year: 2025, delegationId: 'd1', month: m, amount: 11_000_000 }));
    const [d] = delegatedBudgets(functions, spend, 2025, 3);
    expect(d).toMatchObject({ budget: 120_000_000, ytdBudget: 30_000_000, ytdSpend: 33_000_000, forecast: 123_000_000, forecastVariance: -3_000_000, accountable: 'NHS Herefordshire and Worcestershire ICB' });
  });
});

describe('the risk-share agreement', () => {
  const rules: RiskShareRule[] = [
    { id: '1', kind: 'retain_own_variance', orgCode: null, value: 1 * M },
    { id: '2', kind: 'share_overspend', orgCode: 'ICB', value: 0.5 },
    { id: '3', kind: 'share_overspend', orgCode: 'A', value: 0.3 },
    { id: '4', kind: 'share_overspend', orgCode: 'B', value: 0.2 },
    { id: '5', kind: 'share_underspend', orgCode: 'ICB', value: 1 },
    { id: '6', kind: 'cap', orgCode: 'B', value: 0.5 * M },
  ];
  const partners = [
    { orgCode: 'ICB', name: 'ICB', plan: 0, forecast: 0 },
    { orgCode: 'A', name: 'Trust A', plan: 2 * M, forecast: -4 * M },
    { orgCode: 'B', name: 'Trust B', plan: 0, forecast: 0.5 * M },
  ];

  it('keeps each partner’s own variance to the limit, pools the rest and shares it, honouring caps, to the penny', () => {
    const r = applyRiskShare({ rules, residualOrgCode: 'ICB' }, partners);
    // A overspends by £6m and keeps £1m of it; B underspends by £0.5m and keeps it all. Pool: −£5m.
    expect(r.pool).toBe(-5 * M);
    expect(r.direction).toBe('overspend');
    const by = new Map(r.partners.map((p) => [p.orgCode, p]));
    expect(by.get('A')?.retained).toBe(-1 * M);
    expect(by.get('B')?.retained).toBe(0.5 * M);
    // B's 20% (£1m) is capped at £0.5m; the other £4.5m is shared by ICB and A as 50:30.
    expect(by.get('B')?.poolShare).toBe(-0.5 * M);
    expect(by.get('B')?.capped).toBe(true);
    expect(by.get('ICB')?.poolShare).toBe(-2.8125 * M);
    expect(by.get('A')?.poolShare).toBe(-1.6875 * M);
    expect(r.partners.reduce((a, p) => a + p.transfer, 0)).toBe(0);
    expect(r.partners.reduce((a, p) => a + p.after, 0)).toBe(r.partners.reduce((a, p) => a + p.forecast, 0));
    expect(r.steps.join(' ')).toContain('reaches its cap of £500,000');
  });

  it('gives an underspend by the underspend shares, and caps do not apply', () => {
    const r = applyRiskShare({ rules, residualOrgCode: 'ICB' }, [
      { orgCode: 'ICB', name: 'ICB', plan: 0, forecast: 0 },
      { orgCode: 'A', name: 'Trust A', plan: 0, forecast: 3 * M },
    ]);
    expect(r.direction).toBe('underspend');
    expect(r.partners.find((p) => p.orgCode === 'ICB')?.poolShare).toBe(2 * M);
  });

  it('lets the residual bearer carry what no capped partner can', () => {
    const r = applyRiskShare(
      {
        rules: [
          { id: '1', kind: 'share_overspend', orgCode: 'A', value: 1 },
          { id: '2', kind: 'cap', orgCode: 'A', value: 1 * M },
        ],
        residualOrgCode: 'ICB',
      },
      [{ orgCode: 'A', name: 'Trust A', plan: 0, forecast: -3 * M }],
    );
    expect(r.residual).toBe(-2 * M);
    expect(r.partners.find((p) => p.orgCode === 'ICB')?.transfer).toBe(-2 * M);
    expect(r.partners.reduce((a, p) => a + p.transfer, 0)).toBe(0);
  });

  it('explains the rules and what is wrong with them', () => {
    expect(describeRule(rules[5] as RiskShareRule, new Map([['B', 'Trust B']]))).toBe('Trust B’s share of a net overspend is capped at £500,000; the rest falls on the others in proportion to their shares.');
    const problems = ruleProblems([{ id: 'x', kind: 'share_overspend', orgCode: 'A', value: 0.6 }, { id: 'y', kind: 'share_overspend', orgCode: 'Z', value: 0.3 }], new Set(['A']));
    expect(problems.map((p) => p.field)).toEqual(['rules.1.orgCode', 'rules']);
    expect(problems[1]?.message).toBe('The shares of a net overspend add up to 90%; they must add up to 100%');
  });
});
