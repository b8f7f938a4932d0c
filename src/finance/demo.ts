/**
 * The demo ICS's finances: Herefordshire and Worcestershire (QGH), 2024/25 and 2025/26. The
 * practices, populations and weighted populations behind every need index are NHS England's real
 * 2025/26 data. The money is illustrative: there is no open copy of ICB-level place targets, so
 * the allocations, place budgets, plans, actuals and the risk share are made up, sized for an
 * ICB of about 840,000 people (core about £1,806 and primary medical care about £186 a head in
 * 2025/26, against about £1,732 and £180 in 2024/25). Every write goes through the commands.
 */
import type { Database } from '../core/db/database.js';
import { loadStructure } from '../structure/repository.js';
import { allocateToPenny, needIndices } from './allocation.js';
import {
  createPlaceSet,
  recordDelegatedSpend,
  saveAllocation,
  saveFigures,
  savePolicy,
  saveRiskShare,
  saveScenario,
  saveStandardLine,
  setPlaceBudgets,
  setStandardTarget,
  setSystemTarget,
} from './commands.js';
import type { FigureRecord } from './datasets.js';
import { type FinancialYear, NHSE_WEIGHTS, type PlaceStream, type Stream } from './model.js';
import { structurePlaceSetId } from './repository.js';
import { needPracticesOf } from './weighted-populations.js';

const ACTOR = 'demo loader';
const M = 100_000_000; // £1m in pence
const pounds = (n: number): number => Math.round(n * 100);

const ICB = 'QGH';
const WORCS_ACUTE = 'RWP';
const WYE_VALLEY = 'RLQ';
const HEALTH_AND_CARE = 'R1A';

const SOURCE = 'NHS England ICB allocations (illustrative figures for the demo)';

/** [stream, name, pounds, conditions, recurrent] for each year. */
const ALLOCATIONS: Record<number, [Stream, string, number, string | null, boolean][]> = {
  2024: [
    ['core_services', 'Core ICB programme allocation', 1_450_600_000, 'Includes the convergence adjustment; the Mental Health Investment Standard applies.', true],
    ['primary_medical_care', 'Primary medical care (delegated)', 150_750_000, 'Ring-fenced for primary medical services commissioned under delegation from NHS England.', true],
    ['other_primary_care', 'Dental services', 44_000_000, 'Ring-fenced for NHS dental services.', true],
    ['other_primary_care', 'Community pharmacy', 20_500_000, null, true],
    ['other_primary_care', 'General ophthalmic services', 10_600_000, null, true],
    ['running_costs', 'Running cost allowance', 16_800_000, 'Limit on the ICB’s own running costs.', true],
    ['transformation', 'Service Development Fund: mental health', 9_100_000, 'Non-recurrent; for the NHS Long Term Plan mental health ambitions. Excluded from the Mental Health Investment Standard.', false],
    ['transformation', 'Service Development Fund: other programmes', 15_000_000, 'Non-recurrent; subject to NHS England’s conditions for each programme.', false],
    ['capital', 'Operational capital envelope (system)', 81_000_000, 'Capital departmental expenditure limit shared by the ICB and its trusts.', false],
  ],
  2025: [
    ['core_services', 'Core ICB programme allocation', 1_512_400_000, 'Includes the convergence adjustment; the Mental Health Investment Standard applies.', true],
    ['primary_medical_care', 'Primary medical care (delegated)', 156_000_000, 'Ring-fenced for primary medical services commissioned under delegation from NHS England.', true],
    ['specialised_services', 'Specialised services (delegated from April 2025)', 264_000_000, 'Delegated by NHS England; overseen jointly with the West Midlands ICBs, with risk pooled across the region.', true],
    ['other_primary_care', 'Dental services', 46_000_000, 'Ring-fenced for NHS dental services.', true],
    ['other_primary_care', 'Community pharmacy', 21_000_000, null, true],
    ['other_primary_care', 'General ophthalmic services', 11_000_000, null, true],
    ['running_costs', 'Running cost allowance', 15_900_000, 'Limit on the ICB’s own running costs; reduced as the ICB merges functions.', true],
    ['transformation', 'Service Development Fund: mental health', 9_800_000, 'Non-recurrent; for the NHS Long Term Plan mental health ambitions. Excluded from the Mental Health Investment Standard.', false],
    ['transformation', 'Service Development Fund: other programmes', 12_400_000, 'Non-recurrent; subject to NHS England’s conditions for each programme.', false],
    ['capital', 'Operational capital envelope (system)', 86_000_000, 'Capital departmental expenditure limit shared by the ICB and its trusts.', false],
  ],
};

/** How far each district's budget is from its target today (history, not need). */
const DISTANCE: Record<PlaceStream, Record<string, number>> = {
  core_services: { E06000019: 0.028, E07000234: -0.015, E07000235: 0.042, E07000236: -0.039, E07000237: 0.012, E07000238: -0.006, E07000239: -0.031 },
  primary_medical_care: { E06000019: 0.015, E07000234: -0.01, E07000235: 0.022, E07000236: -0.027, E07000237: 0.009, E07000238: -0.004, E07000239: -0.018 },
};

/** The four PCN clusters, as the former clinical commissioning groups drew the county. */
const CLUSTERS: Record<string, string> = {
  U12199: 'Herefordshire',
  U38064: 'Herefordshire',
  U50083: 'Herefordshire',
  U65562: 'Herefordshire',
  U98974: 'Herefordshire',
  U10834: 'Redditch and Bromsgrove',
  U84529: 'Redditch and Bromsgrove',
  U96198: 'Redditch and Bromsgrove',
  U78694: 'Wyre Forest',
  U86948: 'Wyre Forest',
  U21359: 'South Worcestershire',
  U32349: 'South Worcestershire',
  U62975: 'South Worcestershire',
  U66005: 'South Worcestershire',
  U97695: 'South Worcestershire',
};

const CLUSTER_OF_DISTRICT: Record<string, string> = {
  E06000019: 'Herefordshire',
  E07000234: 'Redditch and Bromsgrove',
  E07000236: 'Redditch and Bromsgrove',
  E07000239: 'Wyre Forest',
  E07000235: 'South Worcestershire',
  E07000237: 'South Worcestershire',
  E07000238: 'South Worcestershire',
};

/** [category, description, 2024/25 outturn, 2025/26 plan] in £m; excluded categories follow NHS England's exclusions. */
const MHIS_LINES: [string, string, number, number][] = [
  ['adult_community', 'Adult community mental health teams', 42.6, 44.9],
  ['crisis', 'Crisis resolution, home treatment and crisis cafés', 18.9, 19.8],
  ['inpatient', 'Adult and older adult acute inpatient beds', 38.4, 39.6],
  ['talking_therapies', 'NHS Talking Therapies', 12.7, 13.4],
  ['cyp', "Children and young people's mental health services", 21.3, 22.6],
  ['perinatal', 'Specialist perinatal mental health', 4.1, 4.4],
  ['eip', 'Early intervention in psychosis', 5.2, 5.5],
  ['smi_physical_health', 'Physical health checks for people with severe mental illness', 1.3, 1.4],
  ['secure', 'Locally commissioned rehabilitation and secure placements', 20.1, 20.4],
  ['prescribing', 'Mental health prescribing', 13.4, 14.4],
  ['ld_autism', 'Learning disability and autism community teams', 14.5, 15.1],
  ['dementia', 'Memory assessment and dementia services', 6.2, 6.5],
  ['adhd', 'Adult ADHD assessment and treatment', 3.1, 3.9],
  ['sdf', 'Service Development Fund: mental health', 9.1, 9.8],
];

const PMCS_LINES: [string, string, number, number][] = [
  ['gp_contracts', 'GMS, PMS and APMS contracts', 98.4, 101.9],
  ['enhanced_services', 'Enhanced services and the PCN DES', 14.2, 14.6],
  ['arrs', 'Additional Roles Reimbursement Scheme', 17.6, 18.3],
  ['premises', 'GP premises', 12.1, 12.3],
  ['community_nursing', 'District and community nursing', 44.3, 45.6],
  ['community_therapies', 'Community therapies', 21.7, 22.4],
  ['intermediate_care', 'Intermediate care and virtual wards', 28.9, 30.1],
  ['community_hospitals', 'Community hospitals', 18.2, 18.6],
  ['sdf', 'Service Development Fund: primary care access', 3.1, 2.7],
];

/** Annual plan, £m: income, pay, non-pay (surplus = income − pay − non-pay). Plans add up to breakeven. */
const PLANS: Record<string, [number, number, number]> = {
  [ICB]: [2_048.5, 17.9, 2_026.6],
  [WORCS_ACUTE]: [683.5, 441.2, 248.8],
  [WYE_VALLEY]: [331.2, 221.6, 112.1],
  [HEALTH_AND_CARE]: [342.0, 246.3, 90.7],
};

/** Monthly variance from plan in £m (income, pay, non-pay), growing slightly each month. */
const DRIFT: Record<string, [number, number, number]> = {
  [ICB]: [0, 0, 0.11],
  [WORCS_ACUTE]: [0.2, 0.62, 0.16],
  [WYE_VALLEY]: [0.05, 0.13, 0.06],
  [HEALTH_AND_CARE]: [0.02, -0.05, 0.02],
};

/** Winter costs more: non-pay by month of the financial year. */
const SEASON = [0.99, 0.995, 0.995, 1, 1, 1, 1.005, 1.01, 1.01, 1.005, 0.995, 0.995];

export async function loadFinanceDemo(db: Database, ics: string): Promise<void> {
  const s = await loadStructure(db, ics);

  // The single pot, 2024/25 and 2025/26.
  for (const [year, lines] of Object.entries(ALLOCATIONS)) {
    for (const [stream, name, amount, conditions, recurrent] of lines) {
      await saveAllocation(db, ics, { year: Number(year), stream, name, amount: pounds(amount), source: SOURCE, conditions, recurrent }, ACTOR);
    }
  }

  // Today's place budgets: each district's target, pushed off it by history, in whole thousands of pounds.
  const practices = needPracticesOf(ics);
  const districts = s.places.filter((p) => p.gssCode !== null);
  const need = needIndices(
    districts.map((p) => ({ key: p.gssCode ?? p.id, name: p.name, practices: practices.filter((pr) => `${ics}-${pr.ladCode}` === p.id) })),
    practices,
    NHSE_WEIGHTS,
  );
  for (const [stream, component, pot] of [
    ['core_services', 'core', 1_512_400_000],
    ['primary_medical_care', 'pmc', 156_000_000],
  ] as const) {
    const weights = need.places.map((p) => p.weighted[component] * (1 + (DISTANCE[stream][p.key] ?? 0)));
    const thousands = allocateToPenny(pot / 1000, weights);
    await setPlaceBudgets(db, ics, 2025, stream, need.places.map((p, i) => ({ placeId: `${ics}-${p.key}`, amount: (thousands[i] ?? 0) * 1000 * 100 })), ACTOR);
  }

  // Two ways to draw places, two policies, two scenarios.
  const clusters = await createPlaceSet(
    db,
    ics,
    {
      name: 'PCN clusters',
      description: 'Four clusters of primary care networks, drawn as the former clinical commissioning groups were.',
      basis: 'custom',
      assignments: practices.map((p) => ({ practiceCode: p.code, place: (p.pcnCode ? CLUSTERS[p.pcnCode] : undefined) ?? CLUSTER_OF_DISTRICT[p.ladCode] ?? 'Herefordshire' })),
    },
    ACTOR,
  );
  const steady = await savePolicy(db, ics, { name: 'Steady convergence', years: 5, icbGrowth: 0.03, minGrowth: 0.015, maxGrowth: 0.06, gapClosure: 0.25, protectionBand: 0.01 }, ACTOR);
  const faster = await savePolicy(db, ics, { name: 'Faster convergence', years: 5, icbGrowth: 0.03, minGrowth: 0.01, maxGrowth: 0.08, gapClosure: 0.5, protectionBand: 0 }, ACTOR);
  await saveScenario(db, ics, { name: 'Districts', description: 'The seven district places of the ICS, NHS England’s weights, steady convergence.', year: 2025, placeSetId: structurePlaceSetId(ics), policyId: steady, weights: NHSE_WEIGHTS }, ACTOR);
  await saveScenario(db, ics, { name: 'PCN clusters', description: 'Four clusters of PCNs, NHS England’s weights, faster convergence.', year: 2025, placeSetId: clusters, policyId: faster, weights: NHSE_WEIGHTS }, ACTOR);

  // Investment standards: 2024/25 outturn, 2025/26 plan.
  const basis = 'the growth of the ICB’s core programme allocation before convergence adjustments';
  for (const standard of ['mhis', 'pmcs'] as const) {
    await setStandardTarget(db, ics, { year: 2025, standard, requiredGrowth: 0.0426, basis }, ACTOR);
    for (const [category, description, outturn, plan] of standard === 'mhis' ? MHIS_LINES : PMCS_LINES) {
      await saveStandardLine(db, ics, { year: 2024, standard, category, description, plan: Math.round(outturn * M * 0.995), outturn: Math.round(outturn * M) }, ACTOR);
      await saveStandardLine(db, ics, { year: 2025, standard, category, description, plan: Math.round(plan * M), outturn: null }, ACTOR);
    }
  }

  // The system position: 2025/26 plans, seven months of actuals, one reported forecast.
  await setSystemTarget(db, ics, { year: 2025, surplus: 0, description: 'Breakeven across the ICB and its three NHS trusts, as agreed with NHS England in the 2025/26 plan.' }, ACTOR);
  const figures: FigureRecord[] = [];
  for (const [org, [income, pay, nonPay]] of Object.entries(PLANS)) {
    const planIncome = allocateToPenny(Math.round(income * M), Array.from({ length: 12 }, () => 1));
    const planPay = allocateToPenny(Math.round(pay * M), Array.from({ length: 12 }, () => 1));
    const planNonPay = allocateToPenny(Math.round(nonPay * M), SEASON);
    const drift = DRIFT[org] ?? [0, 0, 0];
    for (let m = 1; m <= 12; m++) {
      const i = m - 1;
      const plan = { income: planIncome[i] ?? 0, pay: planPay[i] ?? 0, nonPay: planNonPay[i] ?? 0 };
      figures.push({ orgCode: org, year: 2025, kind: 'plan', month: m, ...plan });
      if (m <= 7) {
        const growth = 0.85 + 0.05 * m;
        figures.push({ orgCode: org, year: 2025, kind: 'actual', month: m, income: plan.income + Math.round(drift[0] * M * growth), pay: plan.pay + Math.round(drift[1] * M * growth), nonPay: plan.nonPay + Math.round(drift[2] * M * growth) });
      }
    }
  }
  // Worcestershire Acute reports a forecast with its recovery plan, better than the trend.
  figures.push({ orgCode: WORCS_ACUTE, year: 2025, kind: 'forecast', month: 0, income: Math.round(685.6 * M), pay: Math.round(447.9 * M), nonPay: Math.round(247.2 * M) });
  await saveFigures(db, ics, figures, ACTOR);

  // Spend against the budgets delegated in the functions and decisions map, seven months.
  const pace: Record<string, number> = { community: 1.031, 'mental-health': 1.008, pod: 0.968, 'primary-medical': 1.0, inequalities: 0.82 };
  const spend: { year: FinancialYear; delegationId: string; month: number; amount: number }[] = [];
  for (const d of s.delegations) {
    if (d.budgetPounds === null) continue;
    const slug = d.functionId.replace(`${ics}-fn-`, '');
    const factor = pace[slug] ?? 1;
    const monthly = allocateToPenny(Math.round(d.budgetPounds * 100 * factor), Array.from({ length: 12 }, () => 1));
    for (let m = 1; m <= 7; m++) spend.push({ year: 2025, delegationId: d.id, month: m, amount: monthly[m - 1] ?? 0 });
  }
  await recordDelegatedSpend(db, ics, spend, ACTOR);

  // The risk-share agreement.
  await saveRiskShare(
    db,
    ics,
    2025,
    {
      name: 'Herefordshire and Worcestershire system risk-share agreement 2025/26',
      description: 'Agreed by the ICB board and the three trust boards. Each partner manages its own variance first; what is left is shared.',
      residualOrgCode: ICB,
      rules: [
        { kind: 'retain_own_variance', value: pounds(2_000_000) },
        { kind: 'share_overspend', orgCode: ICB, value: 0.4 },
        { kind: 'share_overspend', orgCode: WORCS_ACUTE, value: 0.3 },
        { kind: 'share_overspend', orgCode: WYE_VALLEY, value: 0.15 },
        { kind: 'share_overspend', orgCode: HEALTH_AND_CARE, value: 0.15 },
        { kind: 'share_underspend', orgCode: ICB, value: 0.5 },
        { kind: 'share_underspend', orgCode: WORCS_ACUTE, value: 0.2 },
        { kind: 'share_underspend', orgCode: WYE_VALLEY, value: 0.15 },
        { kind: 'share_underspend', orgCode: HEALTH_AND_CARE, value: 0.15 },
        { kind: 'cap', orgCode: WYE_VALLEY, value: pounds(2_500_000) },
        { kind: 'cap', orgCode: HEALTH_AND_CARE, value: pounds(1_500_000) },
      ],
    },
    ACTOR,
  );
}
