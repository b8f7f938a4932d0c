import type { CarePlan, CareTeam, Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, openTestDatabase } from '../../test/support/database.js';
import { loadFhirDefinitions } from '../fhir/definitions.js';
import { search } from '../fhir/search/testing.js';
import { FhirStore } from '../fhir/store.js';
import { DEMO_SEED, type SyntheticDemoResult, loadSyntheticDemo } from './demo.js';
import { HouseholdProducer } from './generate.js';
import { DEFAULT_AS_OF, NHS_NUMBER_SYSTEM, type Resident, holderOfSource } from './model.js';

const PEOPLE = 200;
let t: TestDatabase;
let loaded: SyntheticDemoResult;
let residents: Resident[];

beforeAll(async () => {
  loadFhirDefinitions();
  t = await openTestDatabase();
  loaded = await loadSyntheticDemo(t.db, { people: PEOPLE });
  // The same population, made again: the ground truth the store should now hold copies of.
  const producer = new HouseholdProducer({ icb: 'QGH', people: PEOPLE, seed: DEMO_SEED, asOf: DEFAULT_AS_OF });
  residents = [];
  for (let i = 0; i < producer.households; i++) residents.push(...producer.household(i).map((r) => r.resident));
}, 600_000);
afterAll(async () => {
  await t.close();
});

const entries = (bundle: { entry?: Array<{ resource?: Resource }> }): Resource[] => (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));

describe(`the synthetic demo (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  it('loads every generated resource of a few hundred residents', () => {
    expect(loaded.residents).toBe(PEOPLE);
    expect(residents).toHaveLength(PEOPLE);
    expect(loaded.failed).toBe(0);
    expect(loaded.created).toBe(loaded.resources);
    expect(loaded.resources).toBeGreaterThan(PEOPLE * 10);
  });

  it('finds residents by NHS number, held by several organisations, each copy with its own records', async () => {
    let several = 0;
    // Older residents have the most contact with services; look at a spread of them.
    const sample = residents.filter((r) => r.birthDate < '1960-01-01').slice(0, 12);
    expect(sample.length).toBeGreaterThan(5);
    for (const resident of sample) {
      const found = entries(await search(t.db, 'Patient', `identifier=${NHS_NUMBER_SYSTEM}|${resident.nhsNumber}`)) as Patient[];
      // The registered practice always holds a copy with the NHS number.
      const holders = found.map((p) => holderOfSource(p.meta?.source));
      expect(holders, resident.id).toContain(resident.practice);
      for (const patient of found) {
        expect(patient.birthDate?.slice(0, 3)).toBe(resident.birthDate.slice(0, 3));
        const records = entries(await search(t.db, 'Encounter', `subject=Patient/${patient.id}`));
        for (const record of records) expect(holderOfSource(record.meta?.source)).toBe(holderOfSource(patient.meta?.source));
      }
      if (new Set(holders).size >= 2) several += 1;
    }
    expect(several).toBeGreaterThan(sample.length / 2);
  }, 120_000);

  it('reads a copy back through the store, with its organisation', async () => {
    const store = new FhirStore(t.db);
    const resident = residents[0] as Resident;
    const [patient] = entries(await search(t.db, 'Patient', `identifier=${NHS_NUMBER_SYSTEM}|${resident.nhsNumber}&organization=Organization/${resident.practice}`)) as Patient[];
    expect(patient).toBeDefined();
    const read = (await store.read('Patient', patient?.id ?? '')) as Patient;
    expect(read.generalPractitioner?.[0]?.reference).toBe(`Organization/${resident.practice}`);
    const practice = await store.read('Organization', resident.practice);
    expect(practice).toMatchObject({ resourceType: 'Organization', identifier: [{ value: resident.practice }] });
  });

  it('holds care teams, care plans and next of kin, each under the holder’s own Patient', async () => {
    const store = new FhirStore(t.db);
    const teams = entries(await search(t.db, 'CareTeam', '_count=1000')) as CareTeam[];
    const plans = entries(await search(t.db, 'CarePlan', '_count=1000')) as CarePlan[];
    expect(teams.length).toBeGreaterThan(5);
    expect(plans.length).toBeGreaterThan(5);
    for (const record of [...teams, ...plans]) {
      const patient = await store.read('Patient', (record.subject?.reference ?? '').replace('Patient/', ''));
      expect(holderOfSource(patient.meta?.source)).toBe(holderOfSource(record.meta?.source));
    }
    // Found by the Patient, as the joined record finds them.
    const first = teams[0] as CareTeam;
    expect(entries(await search(t.db, 'CareTeam', `subject=${first.subject?.reference ?? ''}`)).map((r) => r.id)).toContain(first.id);
    const patients = entries(await search(t.db, 'Patient', '_count=1000')) as Patient[];
    const withKin = patients.filter((p) => (p.contact?.length ?? 0) > 0);
    expect(withKin.length).toBeGreaterThan(PEOPLE / 10);
    const practices = new Set(residents.map((r) => r.practice));
    const councils = new Set(residents.map((r) => r.council));
    for (const p of withKin) {
      const holder = holderOfSource(p.meta?.source) ?? '';
      expect(practices.has(holder) || councils.has(holder), holder).toBe(true);
    }
  }, 120_000);

  it('changes nothing when loaded again', async () => {
    const again = await loadSyntheticDemo(t.db, { people: PEOPLE });
    expect(again.unchanged).toBe(loaded.resources);
    expect(again.created + again.updated).toBe(0);
  }, 600_000);
});
