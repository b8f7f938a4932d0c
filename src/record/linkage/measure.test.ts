import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { DEMO_PEOPLE, DEMO_SEED } from '../../synthetic/demo.js';
import type { Flaw } from '../../synthetic/feeds.js';
import { HouseholdProducer } from '../../synthetic/generate.js';
import { DEFAULT_AS_OF } from '../../synthetic/model.js';
import { type TruthRecord, measureLinkage, recordsOfHouseholds } from './measure.js';

function record(resident: string, holder: string, patient: Partial<Patient> = {}, flaws: Flaw[] = []): TruthRecord {
  return {
    patient: {
      resourceType: 'Patient',
      name: [{ family: 'Ashworth', given: ['Margaret'] }],
      gender: 'female',
      birthDate: '1961-03-12',
      address: [{ line: ['4 Mill Lane'], postalCode: 'WR1 2AB' }],
      ...patient,
    },
    link: { resident, holder, flaws },
  };
}

describe('measureLinkage on constructed feeds', () => {
  it('counts a false link against precision, by the flaws of the record linked', () => {
    // B has A's details exactly (a made-up worst case): linked to A, which the truth says is wrong.
    const quality = measureLinkage([record('A', 'gp'), record('A', 'acute'), record('B', 'council')]);
    expect(quality).toMatchObject({ residents: 2, records: 3, truePairs: 1, linkedPairs: 3, correctPairs: 1, recall: 1, falseLinks: 1, falseLinksByFlaw: { none: 1 } });
    expect(quality.precision).toBeCloseTo(1 / 3);
  });

  it('counts a record sent for review as not linked', () => {
    const moved = record('A', 'acute', { name: [{ family: 'Baker', given: ['Margaret'] }], address: [{ line: ['1 High Street'], postalCode: 'HR4 9AA' }] }, ['old-surname', 'old-address']);
    const quality = measureLinkage([record('A', 'gp'), moved]);
    expect(quality).toMatchObject({ truePairs: 1, linkedPairs: 0, precision: 1, recall: 0, reviews: 1, reviewsWithTrueCandidate: 1, missedLinks: 1 });
    expect(quality.missedLinksByFlaw).toEqual({ 'old-surname': 1, 'old-address': 1 });
    expect(quality.reviewExamples[0]).toMatchObject({ holder: 'acute', sameResident: true, flaws: ['old-surname', 'old-address'] });
    // Described by field outcomes, never by the names or dates themselves.
    expect(JSON.stringify(quality)).not.toMatch(/Ashworth|Baker|1961|WR1/i);
  });

  it('keeps different people apart and scores only the records blocking brings together', () => {
    const quality = measureLinkage([record('A', 'gp'), record('C', 'gp', { name: [{ family: 'Brown', given: ['David'] }], gender: 'male', birthDate: '1950-07-30', address: [{ line: ['9 Oak Road'], postalCode: 'HR1 1AA' }] })]);
    expect(quality).toMatchObject({ residents: 2, truePairs: 0, linkedPairs: 0, pairsScored: 0, precision: 1, recall: 1 });
  });
});

describe('linkage of the demo population’s feeds against the generator’s ground truth', () => {
  for (const seed of [DEMO_SEED, DEMO_SEED + 1]) {
    it(`holds precision ≥ 99.9% and recall ≥ 99% (QGH, ${DEMO_PEOPLE} residents, seed ${seed}; reviews count as not linked)`, () => {
      const producer = new HouseholdProducer({ icb: 'QGH', people: DEMO_PEOPLE, seed, asOf: DEFAULT_AS_OF });
      const households = Array.from({ length: producer.households }, (_, i) => producer.household(i));
      const quality = measureLinkage(recordsOfHouseholds(households));
      expect(quality.residents).toBe(DEMO_PEOPLE);
      // Most residents are held by several organisations, so there are pairs to find.
      expect(quality.truePairs).toBeGreaterThan(DEMO_PEOPLE);
      expect(quality.precision).toBeGreaterThanOrEqual(0.999);
      expect(quality.recall).toBeGreaterThanOrEqual(0.99);
      // Blocking keeps the candidates few.
      expect(quality.candidatesPerRecord).toBeLessThan(10);
    }, 60_000);
  }
});
