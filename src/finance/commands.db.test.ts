import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import { createIcs, loadDemoIcs } from '../structure/commands.js';
import { loadStructure } from '../structure/repository.js';
import {
  assignPractices,
  createPlaceSet,
  deletePlaceSet,
  importDataset,
  renamePlace,
  saveAllocation,
  saveScenario,
  saveStandardLine,
  setPlaceBudgets,
} from './commands.js';
import { loadFinanceDemo } from './demo.js';
import { NHSE_WEIGHTS } from './model.js';
import { getPlaceSet, listAllocations, listPlaceSets, listScenarios, structurePlaceSetId } from './repository.js';
import { csvGrid } from './tabular.js';
import { findScenario, positionView, riskShareView, scenarioView, singlePot, standardsView } from './views.js';

async function count(t: TestDatabase, table: string): Promise<number> {
  const { rows } = await t.db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`);
  return rows[0]?.n ?? 0;
}

async function problemsOf(promise: Promise<unknown>): Promise<{ field: string; message: string }[]> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

const M = 100_000_000;

describe(`finance commands and read models (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase();
    await loadDemoIcs(t.db, 'test');
    await loadFinanceDemo(t.db, 'QGH');
  });
  afterAll(async () => {
    await t.close();
  });

  it('holds the single pot by stream, realistic per head', async () => {
    const pot = await singlePot(t.db, 'QGH', 2025);
    expect(pot.population).toBe(837_510);
    const core = pot.streams.find((s) => s.stream === 'core_services');
    expect(core?.total).toBe(1_512_400_000 * 100);
    // About £1,806 a head in 2025/26, against about £1,732 in 2024/25; primary medical care about £186 against £180.
    expect(core?.perHead).toBeGreaterThan(1_750 * 100);
    expect(core?.perHead).toBeLessThan(1_900 * 100);
    expect(core?.growth).toBeCloseTo(0.0426, 3);
    const pmc = pot.streams.find((s) => s.stream === 'primary_medical_care');
    expect(pmc?.perHead).toBeGreaterThan(175 * 100);
    expect(pmc?.perHead).toBeLessThan(200 * 100);
    expect(pot.streams.map((s) => s.stream)).toEqual(['core_services', 'primary_medical_care', 'specialised_services', 'other_primary_care', 'running_costs', 'transformation', 'capital']);
    expect(pot.capitalTotal).toBe(86_000_000 * 100);
  });

  it('works the Districts scenario: today’s budgets as entered, targets to the penny, a five-year path', async () => {
    const scenarios = await listScenarios(t.db, 'QGH');
    expect(scenarios.map((s) => s.name)).toEqual(['Districts', 'PCN clusters']);
    const view = await scenarioView(t.db, 'QGH', await findScenario(t.db, 'QGH', scenarios[0]?.id));
    const core = view.result.streams.find((s) => s.stream === 'core_services');
    expect(core?.potSource).toBe('place_budgets');
    expect(core?.pot).toBe(1_512_400_000 * 100);
    expect(core?.places.reduce((a, p) => a + p.target, 0)).toBe(core?.pot);
    expect(core?.places.every((p) => (p.current ?? 0) % 100_000 === 0)).toBe(true);
    expect(core?.places.find((p) => p.name === 'Malvern Hills')?.distance).toBeGreaterThan(0.03);
    expect(core?.places.find((p) => p.name === 'Redditch')?.distance).toBeLessThan(-0.03);
    expect(core?.path).toHaveLength(6);
    expect(view.result.need.places.find((p) => p.name === 'Herefordshire')?.index.core).toBe(1.022);
  });

  it('works the PCN clusters scenario with budgets moved to its places by population', async () => {
    const scenarios = await listScenarios(t.db, 'QGH');
    const view = await scenarioView(t.db, 'QGH', scenarios[1] ?? scenarios[0]!);
    expect(view.result.rows.map((r) => r.name)).toEqual(['Herefordshire', 'Redditch and Bromsgrove', 'South Worcestershire', 'Wyre Forest']);
    const core = view.result.streams.find((s) => s.stream === 'core_services');
    expect(core?.places.reduce((a, p) => a + (p.current ?? 0), 0)).toBe(1_512_400_000 * 100);
    expect(view.policy.name).toBe('Faster convergence');
  });

  it('checks the MHIS (met) and the primary and community guarantee (a shortfall), with reasons', async () => {
    const [mhis, pmcs] = await standardsView(t.db, 'QGH', 2025);
    expect(mhis?.status).toBe('met');
    expect(mhis?.base?.counted).toBe(178 * M);
    expect(mhis?.plan.headroom).toBe(186.4 * M - Math.round(178 * M * 1.0426));
    expect(mhis?.exclusions.map((e) => e.category).sort()).toEqual(['adhd', 'dementia', 'ld_autism', 'sdf']);
    expect(pmcs?.status).toBe('not_met');
    expect(pmcs?.plan.shortfall).toBe(Math.round(255.4 * M * 1.0426) - 263.8 * M);
    expect(pmcs?.reason).toContain('Not met: a shortfall of £2,480,040.');
  });

  it('reads the system position at month 7 against a breakeven target, and applies the risk share', async () => {
    const view = await positionView(t.db, 'QGH', 2025);
    expect(view.position.month).toBe(7);
    expect(view.position.monthLabel).toBe('October 2025');
    expect(view.position.organisations.map((o) => o.orgCode)).toEqual(['QGH', 'RWP', 'R1A', 'RLQ']);
    expect(view.position.totals.plan.surplus).toBe(0);
    expect(view.position.target?.surplus).toBe(0);
    expect(view.position.organisations.find((o) => o.orgCode === 'RWP')?.forecastSource).toBe('reported');
    expect(view.position.totals.forecast.surplus).toBeLessThan(0);
    expect(view.delegated.length).toBeGreaterThan(5);
    expect(view.delegated.every((d) => d.accountable === 'NHS Herefordshire and Worcestershire ICB')).toBe(true);
    const risk = await riskShareView(t.db, 'QGH', 2025, view);
    expect(risk.rules).toHaveLength(11);
    expect(risk.applied?.direction).toBe('overspend');
    expect(risk.applied?.partners.reduce((a, p) => a + p.transfer, 0)).toBe(0);
  });

  it('names every wrong field of an allocation line and writes nothing', async () => {
    const before = [await count(t, 'finance_allocation'), await count(t, 'change_log')];
    const problems = await problemsOf(saveAllocation(t.db, 'QGH', { year: 1999, stream: 'fish', name: ' ', amount: -5, source: '' }, 'test'));
    expect(problems.map((p) => p.field)).toEqual(['year', 'stream', 'name', 'amount', 'source']);
    expect([await count(t, 'finance_allocation'), await count(t, 'change_log')]).toEqual(before);
    await expect(saveAllocation(t.db, 'ZZZ', { year: 2025, stream: 'capital', name: 'x', amount: 1, source: 'x' }, 'test')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('replaces an allocation line with the same year, stream and name, and logs the change', async () => {
    const id = await saveAllocation(t.db, 'QGH', { year: 2025, stream: 'capital', name: 'Operational capital envelope (system)', amount: 90_000_000 * 100, source: 'NHS England' }, 'test');
    const lines = (await listAllocations(t.db, 'QGH', 2025)).filter((l) => l.stream === 'capital');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.id).toBe(id);
    expect(lines[0]?.amount).toBe(90_000_000 * 100);
    const { rows } = await t.db.query<{ summary: string; module: string }>('SELECT summary, module FROM change_log ORDER BY id DESC LIMIT 1');
    expect(rows[0]).toEqual({ module: 'finance', summary: 'Changed the 2025/26 allocation line Operational capital envelope (system) (Capital envelope)' });
  });

  it('draws place definitions from the data, moves, renames and merges places, and keeps the ICS’s own places read-only', async () => {
    const counties = await createPlaceSet(t.db, 'QGH', { name: 'Two counties', basis: 'upper_tier' }, 'test');
    let set = await getPlaceSet(t.db, 'QGH', counties);
    expect(new Set(set.assignments.values())).toEqual(new Set(['Herefordshire', 'Worcestershire']));
    expect(set.assignments.size).toBe(79);
    await assignPractices(t.db, 'QGH', counties, [{ practiceCode: 'M81001', place: 'North Worcestershire' }], 'test');
    set = await getPlaceSet(t.db, 'QGH', counties);
    expect(set.assignments.get('M81001')).toBe('North Worcestershire');
    await renamePlace(t.db, 'QGH', counties, 'North Worcestershire', 'Worcestershire', 'test');
    set = await getPlaceSet(t.db, 'QGH', counties);
    expect(new Set(set.assignments.values())).toEqual(new Set(['Herefordshire', 'Worcestershire']));
    expect((await problemsOf(assignPractices(t.db, 'QGH', counties, [{ practiceCode: 'A81001', place: 'X' }], 'test')))[0]?.message).toContain('not a practice of this ICB');
    await expect(assignPractices(t.db, 'QGH', structurePlaceSetId('QGH'), [{ practiceCode: 'M81001', place: 'X' }], 'test')).rejects.toBeInstanceOf(ConflictError);
    expect((await problemsOf(createPlaceSet(t.db, 'QGH', { name: 'two COUNTIES', basis: 'districts' }, 'test')))[0]?.field).toBe('name');
    const pcns = await createPlaceSet(t.db, 'QGH', { name: 'PCNs', basis: 'pcns' }, 'test');
    expect(new Set((await getPlaceSet(t.db, 'QGH', pcns)).assignments.values()).size).toBe(15);
    const copy = await createPlaceSet(t.db, 'QGH', { name: 'Copy of the ICS’s places', basis: 'custom', copyOf: structurePlaceSetId('QGH') }, 'test');
    expect((await getPlaceSet(t.db, 'QGH', copy)).assignments.size).toBe(79);
    await deletePlaceSet(t.db, 'QGH', copy, 'test');
    expect((await listPlaceSets(t.db, 'QGH')).some((s) => s.id === copy)).toBe(false);
  });

  it('saves a scenario with its own policy and custom weights, and refuses one that cannot be worked', async () => {
    const counties = (await listPlaceSets(t.db, 'QGH')).find((s) => s.name === 'Two counties');
    const policy = { name: 'Cautious', years: 3, icbGrowth: 0.025, minGrowth: 0.02, maxGrowth: 0.04, gapClosure: 0.1, protectionBand: 0.02 };
    const id = await saveScenario(t.db, 'QGH', { name: 'Counties, cautious', year: 2025, placeSetId: counties?.id ?? '', policy, weights: { core: { ga: 0.6, community: 0.1, mentalHealth: 0.15, maternity: 0.05, prescribing: 0.05, inequalities: 0.05 }, pmcInequalitiesShare: 0.2 } }, 'test');
    const view = await scenarioView(t.db, 'QGH', await findScenario(t.db, 'QGH', id));
    expect(view.policy).toMatchObject({ name: 'Cautious', years: 3, gapClosure: 0.1 });
    expect(view.scenario.weights.core?.community).toBe(0.1);
    expect(view.result.rows.map((r) => r.name)).toEqual(['Herefordshire', 'Worcestershire']);
    expect(view.result.streams[0]?.path).toHaveLength(4);
    // Editing keeps one policy of its own.
    await saveScenario(t.db, 'QGH', { name: 'Counties, cautious', year: 2025, placeSetId: counties?.id ?? '', policy: { ...policy, gapClosure: 0.2 }, weights: NHSE_WEIGHTS }, 'test', id);
    expect((await scenarioView(t.db, 'QGH', await findScenario(t.db, 'QGH', id))).policy.gapClosure).toBe(0.2);
    const before = await count(t, 'finance_scenario');
    const problems = await problemsOf(
      saveScenario(t.db, 'QGH', { name: 'Districts', year: 2025, placeSetId: 'nope', policy: { ...policy, minGrowth: 0.05 }, weights: { core: { ga: 0.5, community: 0, mentalHealth: 0, maternity: 0, prescribing: 0, inequalities: 0 }, pmcInequalitiesShare: null } }, 'test'),
    );
    expect(problems.map((p) => p.field)).toEqual(['name', 'placeSetId', 'policy.minGrowth', 'weights.core']);
    expect(await count(t, 'finance_scenario')).toBe(before);
    await expect(deletePlaceSet(t.db, 'QGH', counties?.id ?? '', 'test')).rejects.toBeInstanceOf(ConflictError);
  });

  it('asks why a line NHS England excludes from the MHIS should count', async () => {
    const problems = await problemsOf(saveStandardLine(t.db, 'QGH', { year: 2025, standard: 'mhis', category: 'dementia', description: 'Dementia nurses', plan: 100, excluded: false }, 'test'));
    expect(problems.map((p) => p.field)).toEqual(['reason']);
    await saveStandardLine(t.db, 'QGH', { year: 2025, standard: 'mhis', category: 'ld_autism', description: 'Autism with co-occurring MH need', plan: 1 * M, excluded: false, reason: 'Co-occurring mental health need' }, 'test');
    const [mhis] = await standardsView(t.db, 'QGH', 2025);
    expect(mhis?.lines.find((l) => l.description === 'Autism with co-occurring MH need')?.counted).toBe(true);
  });

  it('imports a file only when every row is right, naming the row and column of each problem', async () => {
    const before = await count(t, 'finance_place_budget');
    const bad = 'Year,Stream,Place,Amount\n2025/26,Core services,Herefordshire,"£250,000,000"\n2025/26,Core services,Atlantis,1\n2025/26,Core services,Worcester,£1.2.3\n';
    const problems = await problemsOf(importDataset(t.db, 'QGH', 'place-budgets', csvGrid(bad).grid, 'test'));
    expect(problems.map((p) => p.message)).toEqual([
      'Row 3, column C (place): “Atlantis” is not one of the ICS’s places: Bromsgrove, Herefordshire, Malvern Hills, Redditch, Worcester, Wychavon, Wyre Forest',
      'Row 4, column D (amount): “£1.2.3” is not an amount of money: write it like 1234567.89, £1,234,567 or (1,234) for a negative',
    ]);
    expect(await count(t, 'finance_place_budget')).toBe(before);
    const good = await importDataset(t.db, 'QGH', 'place-budgets', csvGrid('Year,Stream,Place,Amount\n2026/27,Core services,Herefordshire,"£250,000,000"\n').grid, 'test');
    expect(good.rows).toBe(1);
    expect(await count(t, 'finance_place_budget')).toBe(before + 1);
    const defs = await importDataset(t.db, 'QGH', 'place-definitions', csvGrid('practice,place\nM81001,East\nM81002,West\n').grid, 'test', { placeSetName: 'Imported' });
    expect(defs.summary).toContain('2 practice(s) placed in 2 place(s)');
  });

  it('sets budgets only for places of the ICS', async () => {
    const problems = await problemsOf(setPlaceBudgets(t.db, 'QGH', 2025, 'capital', [{ placeId: 'nowhere', amount: 1 }], 'test'));
    expect(problems.map((p) => p.field)).toEqual(['stream', 'budgets.0.placeId']);
  });

  it('works for a skeleton of another ICB with no finance data yet: its own places, NHS England’s weights', async () => {
    await createIcs(t.db, 'QOC', 'test');
    const s = await loadStructure(t.db, 'QOC');
    const scenario = await findScenario(t.db, 'QOC', undefined);
    expect(scenario.id).toBe('QOC-scenario-default');
    const view = await scenarioView(t.db, 'QOC', scenario, s);
    expect(view.result.rows.map((r) => r.name).sort()).toEqual(['Shropshire', 'Telford and Wrekin']);
    expect(view.result.streams[0]?.potSource).toBe('none');
    const population = view.result.need.places.reduce((a, p) => a + p.totals.population, 0);
    const mean = view.result.need.places.reduce((a, p) => a + p.totals.population * p.index.core, 0) / population;
    expect(Math.abs(mean - 1)).toBeLessThan(0.0006);
    const created = await createPlaceSet(t.db, 'QOC', { name: 'PCNs', basis: 'pcns' }, 'test');
    await saveScenario(t.db, 'QOC', { name: 'PCNs', year: 2025, placeSetId: created, policy: { name: 'Default', years: 5, icbGrowth: 0.03, minGrowth: 0.01, maxGrowth: 0.05, gapClosure: 0.25, protectionBand: 0 }, weights: NHSE_WEIGHTS }, 'test');
    expect((await listScenarios(t.db, 'QOC')).map((x) => x.name)).toEqual(['PCNs']);
  });
});
