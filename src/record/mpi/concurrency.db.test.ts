import type { Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, openTestDatabase } from '../../../test/support/database.js';
import { loadFhirDefinitions } from '../../fhir/definitions.js';
import { FhirStore } from '../../fhir/store.js';
import { recordWriteHook } from '../write-hook.js';
import { mergeResidents } from './merge.js';
import { patientsOfResident, residentOfPatient } from './residents.js';
import { ODS, sourcePatient } from './testing.js';

let t: TestDatabase;
let store: FhirStore;

const patient = sourcePatient;

async function write(resource: Resource): Promise<void> {
  await store.update(resource.resourceType, resource.id ?? '', resource);
}

async function residentOf(id: string): Promise<string | undefined> {
  return (await residentOfPatient(t.db, id))?.residentId;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes `first` in a transaction held open until `second` (written, or run, in a transaction of
 * its own meanwhile) has had time to run as far as it can, then commits the first and waits for both.
 * Returns whether the second had finished before the first committed.
 */
async function race(first: Patient, second: Patient | (() => Promise<unknown>)): Promise<boolean> {
  let written = (): void => {};
  const wrote = new Promise<void>((resolve) => (written = resolve));
  let release = (): void => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const one = store.inTransaction(async (tx) => {
    await tx.update('Patient', first.id ?? '', first);
    written();
    await gate;
  });
  await wrote;
  let secondDone = false;
  const two = (typeof second === 'function' ? second() : write(second)).then(() => {
    secondDone = true;
  });
  await sleep(1_000);
  const finishedEarly = secondDone;
  release();
  await Promise.all([one, two]);
  return finishedEarly;
}

beforeAll(async () => {
  loadFhirDefinitions();
  t = await openTestDatabase();
  store = new FhirStore(t.db, { onWrite: recordWriteHook });
  for (const code of ['M85001', 'RLQ']) await write({ resourceType: 'Organization', id: code, name: `Org ${code}`, identifier: [{ system: ODS, value: code }] });
}, 120_000);
afterAll(async () => {
  await t.close();
});

// On the embedded engine (one session) the second transaction cannot begin before the first
// commits, so these pass there without any lock; on a server they fail without the locks.
describe(`linking in concurrent transactions (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite: serialised by its one session'})`, () => {
  it('links a copy written while another transaction links a new copy of the same person to that copy, once the first commits', async () => {
    const iris: Partial<Patient> = { name: [{ family: 'Wetherall', given: ['Iris'] }], gender: 'female', birthDate: '1947-08-23', address: [{ line: ['12 Mill Lane'], postalCode: 'HR6 8JT' }] };
    const finishedEarly = await race(patient('gp-iris', 'M85001', iris, '9990000042'), patient('acute-iris', 'RLQ', iris));
    // It waited for the first transaction's lock on their shared blocking keys, then saw its record.
    expect(finishedEarly).toBe(false);
    const resident = await residentOf('gp-iris');
    expect(resident).toBeDefined();
    expect(await residentOf('acute-iris')).toBe(resident);
    const residents = await t.db.query<{ n: number }>(`SELECT count(DISTINCT resident_id)::int AS n FROM mpi_source_patient WHERE patient_id IN ('gp-iris', 'acute-iris')`);
    expect(residents.rows[0]?.n).toBe(1);
    const persons = await t.db.query<{ n: number }>(
      `SELECT count(DISTINCT l.person_key)::int AS n FROM access_person_link l JOIN mpi_source_patient s ON s.patient_key = l.patient_key WHERE s.patient_id IN ('gp-iris', 'acute-iris')`,
    );
    expect(persons.rows[0]?.n).toBe(1);
  });

  it('moves a copy linked while a person merges its resident away with the rest, once the link commits', async () => {
    const ned: Partial<Patient> = { name: [{ family: 'Ostrowski', given: ['Ned'] }], gender: 'male', birthDate: '1958-12-01', address: [{ line: ['3 Fold Yard'], postalCode: 'WR6 5PL' }] };
    await write(patient('gp-ned', 'M85001', ned, '9990000050'));
    await write(patient('gp-ned-2', 'M85001', { ...ned, name: [{ family: 'Ostrowsky', given: ['Edward'] }], birthDate: '1958-01-12', address: [{ postalCode: 'HR1 1AA' }] }));
    const from = await residentOf('gp-ned');
    const into = await residentOf('gp-ned-2');
    expect(into).not.toBe(from);
    // The hospital's copy is linked to the practice's while a records officer merges that resident into the other.
    await race(patient('acute-ned', 'RLQ', ned), () => t.db.transaction((tx) => mergeResidents(tx, from ?? '', into ?? '', 'user:records-officer', 'same person: duplicate registration')));
    expect(await residentOf('acute-ned')).toBe(into);
    expect((await patientsOfResident(t.db, into ?? '')).map((p) => p.patientId).sort()).toEqual(['acute-ned', 'gp-ned', 'gp-ned-2']);
  });

  it('counts a new name written by two transactions at once twice', async () => {
    // Two different people (no blocking key in common) with a surname never seen before.
    const one = patient('gp-olu', 'M85001', { name: [{ family: 'Zyzzbrook', given: ['Olu'] }], gender: 'male', birthDate: '1979-02-11', address: [{ postalCode: 'WR2 4QQ' }] });
    const two = patient('acute-bea', 'RLQ', { name: [{ family: 'Zyzzbrook', given: ['Beatrix'] }], gender: 'female', birthDate: '2001-10-30', address: [{ postalCode: 'HR9 5ZX' }] });
    await race(one, two);
    const { rows } = await t.db.query<{ count: number | string }>(`SELECT count FROM mpi_name_frequency WHERE kind = 'family' AND name = 'ZYZZBROOK'`);
    expect(Number(rows[0]?.count)).toBe(2);
    expect(await residentOf('gp-olu')).not.toBe(await residentOf('acute-bea'));
  });
});
