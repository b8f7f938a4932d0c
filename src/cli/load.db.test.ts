import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, openTestDatabase } from '../../test/support/database.js';
import { loadFhirDefinitions } from '../fhir/definitions.js';
import { loadDemoDocuments } from '../record/documents/index-documents.js';
import { holderOfSource } from '../synthetic/model.js';
import { PopulationConflict } from '../synthetic/population-registry.js';
import { type LoadProgress, type LoadSummary, loadPopulation } from './load.js';

const PEOPLE = 30;
const ARGS = { icb: 'QGH', people: PEOPLE, seed: 7, asOf: '2026-10-31' };
let t: TestDatabase;
let first: LoadSummary;
let second: LoadSummary;
const progress: LoadProgress[] = [];

const count = async (sql: string): Promise<number> => Number((await t.db.query<{ n: string | number }>(sql)).rows[0]?.n);

beforeAll(async () => {
  loadFhirDefinitions();
  t = await openTestDatabase();
  // The first load does what npm start does first (the demo ICS); the second finds it there.
  first = await loadPopulation(t.db, { ...ARGS, demo: true, onProgress: (p) => progress.push(p) });
  second = await loadPopulation(t.db, { ...ARGS, demo: true });
}, 600_000);
afterAll(async () => {
  await t.close();
});

describe(`npm run load into a fresh database (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  it('loads every resident, each organisation holding its own Patient', async () => {
    expect(first.residents).toBe(PEOPLE);
    expect(first.failed).toBe(0);
    expect(first.created).toBe(first.resources);
    const { rows } = await t.db.query<{ content: string }>("SELECT content FROM fhir_patient_resource WHERE resource_type = 'Patient' AND NOT deleted");
    const holders = new Set(rows.map((r) => holderOfSource((JSON.parse(r.content) as { meta?: { source?: string } }).meta?.source)));
    expect(holders.has(undefined)).toBe(false);
    expect(holders.size).toBeGreaterThanOrEqual(4);
    expect(rows.length).toBeGreaterThan(PEOPLE);
  });

  it('links the copies as they arrive: the master patient index has one resident per person', async () => {
    expect(await count('SELECT count(*) AS n FROM mpi_resident WHERE merged_into IS NULL')).toBe(PEOPLE);
    expect(await count('SELECT count(*) AS n FROM mpi_resident')).toBe(PEOPLE);
    expect(await count("SELECT count(*) AS n FROM fhir_patient_resource WHERE resource_type = 'Patient' AND NOT deleted")).toBe(await count('SELECT count(*) AS n FROM mpi_source_patient'));
  });

  it("fills the PDS stand-in with every resident's true demographics", async () => {
    expect(await count('SELECT count(*) AS n FROM pds_standin')).toBe(PEOPLE);
  });

  it('writes the discharge summary pointers the demo would index, and no others', async () => {
    expect(first.documents).toBeGreaterThan(0);
    expect(await count("SELECT count(*) AS n FROM fhir_patient_resource WHERE resource_type = 'DocumentReference'")).toBe(first.documents);
    // The demo's way (every emergency admission in the store, at the end) finds the same ones, identical.
    expect((await loadDemoDocuments(t.db)).documents).toBe(first.documents);
    expect(await count("SELECT max(version_id) AS n FROM fhir_patient_resource WHERE resource_type = 'DocumentReference'")).toBe(1);
  });

  it('reports progress resident by resident, up to the total', () => {
    expect(progress.length).toBe(PEOPLE);
    expect(progress.at(-1)).toMatchObject({ residents: PEOPLE, people: PEOPLE, resources: first.resources });
  });

  it('refuses another population into the same store before writing anything (its NHS numbers would be shared by different people)', async () => {
    const patients = await count("SELECT count(*) AS n FROM fhir_patient_resource WHERE resource_type = 'Patient'");
    await expect(loadPopulation(t.db, { ...ARGS, seed: 8, demo: true })).rejects.toBeInstanceOf(PopulationConflict);
    await expect(loadPopulation(t.db, { ...ARGS, people: PEOPLE + 1, demo: true })).rejects.toThrow(/30 residents of QGH generated with seed 7 as of 2026-10-31 \(loaded by npm run load\)/);
    expect(await count("SELECT count(*) AS n FROM fhir_patient_resource WHERE resource_type = 'Patient'")).toBe(patients);
    expect(await count('SELECT count(*) AS n FROM synthetic_population WHERE completed_at IS NOT NULL')).toBe(1);
  });

  it('loading again changes nothing: no new resource, version or resident', async () => {
    expect(second.residents).toBe(PEOPLE);
    expect(second.resources).toBe(first.resources);
    expect(second.created).toBe(0);
    expect(second.updated).toBe(0);
    expect(second.unchanged).toBe(first.resources);
    expect(await count('SELECT max(version_id) AS n FROM fhir_patient_resource')).toBe(1);
    expect(await count('SELECT count(*) AS n FROM mpi_resident')).toBe(PEOPLE);
  });
});
