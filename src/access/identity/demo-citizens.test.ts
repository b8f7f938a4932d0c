import { describe, expect, it } from 'vitest';
import { HouseholdProducer } from '../../synthetic/generate.js';
import { DEMO_PEOPLE, DEMO_SEED } from '../../synthetic/demo.js';
import { DEFAULT_AS_OF } from '../../synthetic/model.js';
import { DEMO_CITIZENS } from './demo.js';
import { NHS_NUMBER_SYSTEM } from './citizens.js';

/** The demo's residents, as `npm start` loads them: each with the kinds of organisation holding a copy, and which copies lack an NHS number. */
function demoResidents(): Map<string, { name: string; alive: boolean; kinds: string[]; withoutNhsNumber: string[] }> {
  const producer = new HouseholdProducer({ icb: 'QGH', people: DEMO_PEOPLE, seed: DEMO_SEED, asOf: DEFAULT_AS_OF });
  const residents = new Map<string, { name: string; alive: boolean; kinds: string[]; withoutNhsNumber: string[] }>();
  for (let index = 0; index < producer.households; index++) {
    for (const { resident, feeds } of producer.household(index)) {
      const gp = feeds[0]?.patient.name?.[0];
      residents.set(resident.nhsNumber, {
        name: `${gp?.given?.[0] ?? ''} ${gp?.family ?? ''}`,
        alive: resident.deathDate === undefined,
        kinds: feeds.map((f) => f.kind),
        withoutNhsNumber: feeds.filter((f) => !(f.patient.identifier ?? []).some((i) => i.system === NHS_NUMBER_SYSTEM)).map((f) => f.kind),
      });
    }
  }
  return residents;
}

describe('the demo citizens', () => {
  const residents = demoResidents();

  it('are living residents of the demo population, under the name their practice holds', () => {
    for (const citizen of DEMO_CITIZENS) {
      const resident = residents.get(citizen.nhsNumber ?? '');
      expect(resident, citizen.username).toBeDefined();
      expect(resident?.alive, citizen.username).toBe(true);
      expect(resident?.name, citizen.username).toBe(citizen.displayName);
    }
  });

  it('include one whose records come from a practice, an acute trust and social care, one copy without an NHS number', () => {
    const keith = residents.get(DEMO_CITIZENS.find((c) => c.username === 'keith.clarke')?.nhsNumber ?? '');
    expect(keith?.kinds).toEqual(expect.arrayContaining(['gp', 'acute', 'social-care']));
    expect(keith?.withoutNhsNumber).toContain('social-care');
  });
});
