/**
 * Finding a resident with the master patient index as the linker writes it: the found Patients
 * are read in one query through the user's access policy, and their residents looked up in one
 * query, giving the same residents, copies and grouping as reading and looking up each Patient
 * on its own (`FhirStore.read`, `residentOfPatient`).
 */
import type { Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, openTestDatabase } from '../../../test/support/database.js';
import type { AccessContext } from '../../access/context.js';
import { fhirAccessFor } from '../../access/policy/fhir-policy.js';
import { accessWriteHook } from '../../access/policy/write-hook.js';
import { loadFhirDefinitions } from '../../fhir/definitions.js';
import { FhirStore } from '../../fhir/store.js';
import { residentOfPatient } from '../mpi/residents.js';
import { recordWriteHook } from '../write-hook.js';
import { type FindQuery, type LinkedResident, type ResidentsOf, findResidents, residentsOfPatients } from './find.js';

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const VERIFIED = { url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus', valueCodeableConcept: { coding: [{ code: '01' }] } };
const ANN: Partial<Patient> = { name: [{ family: 'Quennell', given: ['Annabel'] }], gender: 'female', birthDate: '1951-03-14', address: [{ line: ['7 Orchard Row'], postalCode: 'HR4 9QZ' }] };
const OTHER_ANN: Partial<Patient> = { name: [{ family: 'Quennell', given: ['Anne'] }], gender: 'female', birthDate: '1951-03-14', address: [{ line: ['40 Mill Lane'], postalCode: 'WR1 2AB' }] };
const BY_NAME: FindQuery = { by: 'name', family: 'Quennell', birthDate: '1951-03-14' };
const BY_NUMBER: FindQuery = { by: 'nhs-number', nhsNumber: '9990000018' };

const GP: AccessContext = { kind: 'user', subject: 'dr-gp', display: 'Dr GP', role: 'doctor', organisation: 'M85001', scopes: [{ context: 'user', type: '*', actions: 'cruds' }], purpose: 'TREAT' };
const ACUTE: AccessContext = { ...GP, subject: 'dr-acute', organisation: 'RLQ' };

function patient(id: string, holder: string, system: string, demographics: Partial<Patient>, nhsNumber?: string): Patient {
  return {
    resourceType: 'Patient',
    id,
    meta: { source: `urn:openics:source:${holder}:${system}` },
    ...(nhsNumber ? { identifier: [{ system: NHS, value: nhsNumber, extension: [VERIFIED] }] } : {}),
    managingOrganization: { reference: `Organization/${holder}` },
    ...demographics,
  };
}

let t: TestDatabase;

/** What the page did before: each Patient's resident looked up on its own. */
const oneByOne: ResidentsOf = async (ids) => {
  const residents = new Map<string, LinkedResident>();
  for (const id of ids) {
    const resident = await residentOfPatient(t.db, id);
    if (resident) residents.set(id, { residentId: resident.residentId, sources: resident.patients.filter((p) => p.withdrawnAt === null).map((p) => p.system) });
  }
  return residents;
};
const batched: ResidentsOf = (ids) => residentsOfPatients(t.db, ids);

beforeAll(async () => {
  loadFhirDefinitions();
  t = await openTestDatabase();
  const store = new FhirStore(t.db, { onWrite: recordWriteHook });
  const write = async (r: Resource): Promise<void> => void (await store.update(r.resourceType, r.id ?? '', r));
  for (const code of ['M85001', 'RLQ', 'R1A', 'HWC']) await write({ resourceType: 'Organization', id: code, name: `Org ${code}` });
  // Ann: her practice, the acute trust and the mental health trust (which withdraws its copy) by NHS number; the council without one.
  await write(patient('gp-ann', 'M85001', 'gp-emis', { ...ANN, generalPractitioner: [{ reference: 'Organization/M85001' }] }, '9990000018'));
  await write(patient('acute-ann', 'RLQ', 'pas', ANN, '9990000018'));
  await write(patient('mh-ann', 'R1A', 'rio', ANN, '9990000018'));
  await store.delete('Patient', 'mh-ann');
  await write(patient('council-ann', 'HWC', 'mosaic', ANN));
  // Another woman of the same name and birthday, registered at the same practice.
  await write(patient('gp-anne', 'M85001', 'gp-emis', { ...OTHER_ANN, generalPractitioner: [{ reference: 'Organization/M85001' }] }, '9990000026'));
  // A copy the index has not linked (written without its hook).
  await new FhirStore(t.db, { onWrite: accessWriteHook }).update('Patient', 'acute-unlinked', patient('acute-unlinked', 'RLQ', 'pas', ANN));
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe(`finding a resident with the master patient index (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  it('looks up every Patient’s resident in one query exactly as one at a time, withdrawn copies left out and unlinked Patients absent', async () => {
    const ids = ['gp-ann', 'acute-ann', 'mh-ann', 'council-ann', 'gp-anne', 'acute-unlinked', 'no-such-patient'];
    const all = await batched(ids);
    expect(all).toEqual(await oneByOne(ids));
    expect(all.has('acute-unlinked')).toBe(false);
    expect(all.get('gp-ann')?.sources).toEqual(['urn:openics:source:M85001:gp-emis', 'urn:openics:source:RLQ:pas', 'urn:openics:source:HWC:mosaic']);
    expect(all.get('gp-anne')?.residentId).not.toBe(all.get('gp-ann')?.residentId);
    expect(await batched([])).toEqual(new Map());
  });

  for (const [who, user] of [
    ['the practice', GP],
    ['the acute trust', ACUTE],
  ] as const) {
    it(`finds the same residents, copies and grouping as looking each one up, and names every Patient read (${who})`, async () => {
      const policy = fhirAccessFor(user, t.db);
      for (const query of [BY_NAME, BY_NUMBER]) {
        const found = await findResidents(t.db, policy, query, batched);
        expect(found).toEqual(await findResidents(t.db, policy, query, oneByOne));
        // The audit record names found.patientIds: every copy shown, and nothing else.
        expect([...found.patientIds].sort()).toEqual(found.residents.flatMap((r) => r.copies.map((c) => c.patientId)).sort());
      }
    });
  }

  it('groups by resident: Ann’s copies together under her practice’s, the other Anne and an unlinked copy apart', async () => {
    const rowsOf = async (user: AccessContext, query: FindQuery): Promise<unknown[]> => {
      const found = await findResidents(t.db, fhirAccessFor(user, t.db), query, batched);
      expect(found.truncated).toBe(false);
      return found.residents.map((r) => ({ patientId: r.patientId, copies: r.copies.map((c) => c.patientId).sort(), alsoHeldBy: r.alsoHeldBy.map((o) => o.code) })).sort((a, b) => a.patientId.localeCompare(b.patientId));
    };
    expect(await rowsOf(GP, BY_NAME)).toEqual([
      { patientId: 'gp-ann', copies: ['acute-ann', 'council-ann', 'gp-ann'], alsoHeldBy: [] },
      { patientId: 'gp-anne', copies: ['gp-anne'], alsoHeldBy: [] },
    ]);
    // By NHS number the council's copy (no number) is not found, but the index says the council holds one.
    expect(await rowsOf(GP, BY_NUMBER)).toEqual([{ patientId: 'gp-ann', copies: ['acute-ann', 'gp-ann'], alsoHeldBy: ['HWC'] }]);
    // The acute trust: Ann (its own copy, and those of her practice and council), and the copy the index has not linked.
    expect(await rowsOf(ACUTE, BY_NAME)).toEqual([
      { patientId: 'acute-unlinked', copies: ['acute-unlinked'], alsoHeldBy: [] },
      { patientId: 'gp-ann', copies: ['acute-ann', 'council-ann', 'gp-ann'], alsoHeldBy: [] },
    ]);
  });

  it('reads several Patients in one query as the user, each as a read of one would, or refuses as that read would', async () => {
    const store = new FhirStore(t.db).withAccess(fhirAccessFor(ACUTE, t.db));
    const touched = new Set<number>();
    const many = await store.withAccess(fhirAccessFor(ACUTE, t.db), touched).readMany('Patient', ['acute-ann', 'acute-unlinked']);
    expect(many).toEqual([await store.read('Patient', 'acute-ann'), await store.read('Patient', 'acute-unlinked')]);
    expect(touched.size).toBe(2);
    const refusalOf = (work: Promise<unknown>): Promise<unknown> => work.then(() => 'read', (error: unknown) => error);
    // The other Anne is the practice's patient only: the acute trust is refused her, in one read or many.
    const refused = await refusalOf(store.readMany('Patient', ['acute-ann', 'gp-anne']));
    expect(refused).toEqual(await refusalOf(store.read('Patient', 'gp-anne')));
    expect(refused).toMatchObject({ status: 403 });
    expect(await refusalOf(store.readMany('Patient', ['acute-ann', 'mh-ann']))).toEqual(await refusalOf(store.read('Patient', 'mh-ann')));
    expect(await refusalOf(store.readMany('Patient', ['no-such-patient']))).toMatchObject({ status: 404 });
    expect(await refusalOf(new FhirStore(t.db).readMany('Patient', ['gp-ann', 'mh-ann']))).toMatchObject({ status: 410 });
    expect((await new FhirStore(t.db).readMany('Patient', ['gp-anne', 'gp-ann', 'gp-anne'])).map((p) => p.id)).toEqual(['gp-anne', 'gp-ann']);
  });
});
