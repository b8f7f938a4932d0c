import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, openTestDatabase } from '../../test/support/database.js';
import { loadFhirDefinitions } from '../fhir/definitions.js';
import { FhirStore } from '../fhir/store.js';
import { PopulationConflict, claimPopulation, loadedPopulations, populationLoaded } from './population-registry.js';

const DEMO = { icb: 'QGH', seed: 20_261_123, people: 300, asOf: '2026-10-31' };

describe(`which synthetic population a store holds (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  let empty: TestDatabase;
  let other: TestDatabase;

  beforeAll(async () => {
    loadFhirDefinitions();
    [empty, other] = await Promise.all([openTestDatabase(), openTestDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([empty?.close(), other?.close()]);
  });

  it('lets the first population claim an empty store, and the same one again (a resumed load)', async () => {
    await claimPopulation(empty.db, DEMO, 'npm start');
    expect(await loadedPopulations(empty.db)).toEqual([{ parameters: DEMO, loadedBy: 'npm start', completed: false }]);
    await claimPopulation(empty.db, DEMO, 'npm run load');
    await populationLoaded(empty.db, DEMO);
    expect(await loadedPopulations(empty.db)).toEqual([{ parameters: DEMO, loadedBy: 'npm start', completed: true }]);
  });

  it('refuses any other population, naming the one there and what to do, and records nothing', async () => {
    for (const differing of [{ seed: 42 }, { people: 20_000 }, { icb: 'QHL' }, { asOf: '2025-10-31' }]) {
      const attempt = claimPopulation(empty.db, { ...DEMO, ...differing }, 'npm run load', 'Use a database of its own.');
      await expect(attempt).rejects.toBeInstanceOf(PopulationConflict);
      await expect(attempt).rejects.toThrow('already holds another synthetic population: 300 residents of QGH generated with seed 20261123 as of 2026-10-31 (loaded by npm start). Two populations');
      await expect(attempt).rejects.toThrow(/Use a database of its own\.$/);
    }
    expect((await loadedPopulations(empty.db)).length).toBe(1);
  });

  it('refuses to mix a synthetic population with Patients it did not load', async () => {
    await new FhirStore(other.db).update('Patient', 'from-a-feed', { resourceType: 'Patient', id: 'from-a-feed', name: [{ family: 'Real' }] });
    await expect(claimPopulation(other.db, DEMO, 'npm run load')).rejects.toThrow(/already holds Patients that no synthetic population load recorded/);
    expect(await loadedPopulations(other.db)).toEqual([]);
  });
});
