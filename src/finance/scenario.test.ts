import { describe, expect, it } from 'vitest';
import { NHSE_WEIGHTS } from './model.js';
import { UNASSIGNED, groupsFromAssignments, practiceBudgets, workScenario } from './scenario.js';
import { needPracticesOf, placesBy } from './weighted-populations.js';

const practices = needPracticesOf('QGH');
const policy = { years: 5, icbGrowth: 0.03, minGrowth: 0.01, maxGrowth: 0.06, gapClosure: 0.25, protectionBand: 0.01 };
/** The ICS's own places: one per district, as the structure module draws them. */
const districtOf = new Map(practices.map((p) => [p.code, `QGH-${p.ladCode}`]));
const districtBudgets = new Map([...new Set(districtOf.values())].map((id, i) => [id, 10_000_000_000 + i * 1_234_567_891]));

describe('a scenario worked through', () => {
  it('gives back exactly the budgets entered when the places are the ICS’s own', () => {
    const { byPractice, unapportioned } = practiceBudgets(practices, { practicePlace: districtOf, byPlace: districtBudgets });
    expect(unapportioned).toBe(0);
    for (const [placeId, amount] of districtBudgets) {
      expect(practices.filter((p) => districtOf.get(p.code) === placeId).reduce((a, p) => a + (byPractice.get(p.code) ?? 0), 0)).toBe(amount);
    }
  });

  it('moves today’s budgets to other place definitions by population, and shares the pot by need to the penny', () => {
    const result = workScenario({
      year: 2025,
      practices,
      places: groupsFromAssignments(placesBy(practices, 'pcns')),
      weights: NHSE_WEIGHTS,
      policy,
      budgets: { core_services: { practicePlace: districtOf, byPlace: districtBudgets } },
      allocations: { primary_medical_care: 15_600_000_000 },
    });
    const core = result.streams.find((s) => s.stream === 'core_services');
    const total = [...districtBudgets.values()].reduce((a, b) => a + b, 0);
    expect(core?.potSource).toBe('place_budgets');
    expect(core?.pot).toBe(total);
    expect(core?.places.reduce((a, p) => a + (p.current ?? 0), 0)).toBe(total);
    expect(core?.places.reduce((a, p) => a + p.target, 0)).toBe(total);
    expect(core?.path).toHaveLength(6);
    // Primary medical care has no place budgets: the pot is the allocation, and there is no path.
    const pmc = result.streams.find((s) => s.stream === 'primary_medical_care');
    expect(pmc?.potSource).toBe('allocation');
    expect(pmc?.places.reduce((a, p) => a + p.target, 0)).toBe(15_600_000_000);
    expect(pmc?.path).toBeNull();
    expect(pmc?.pathNote).toContain('No current budgets');
  });

  it('shows practices no place holds as their own row, so the pot is still shared in full', () => {
    const some = new Map([...placesBy(practices, 'districts')].filter(([, lad]) => lad === 'Herefordshire'));
    const result = workScenario({ year: 2025, practices, places: groupsFromAssignments(some), weights: NHSE_WEIGHTS, policy, budgets: {}, allocations: { core_services: 100_000 } });
    expect(result.rows.map((r) => r.key)).toEqual(['Herefordshire', UNASSIGNED]);
    expect(result.streams[0]?.places.reduce((a, p) => a + p.target, 0)).toBe(100_000);
  });

  it('says why there is no path when the policy cannot be applied', () => {
    const result = workScenario({ year: 2025, practices, places: groupsFromAssignments(placesBy(practices, 'districts')), weights: NHSE_WEIGHTS, policy: { ...policy, minGrowth: 0.05 }, budgets: { core_services: { practicePlace: districtOf, byPlace: districtBudgets } }, allocations: {} });
    expect(result.streams[0]?.path).toBeNull();
    expect(result.streams[0]?.pathNote).toContain('The minimum growth (5%) cannot be more than the growth of the pot (3%)');
  });
});
