import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, openTestDatabase } from '../../../test/support/database.js';
import { loadFhirDefinitions } from '../../fhir/definitions.js';
import { FhirStore } from '../../fhir/store.js';
import { recordWriteHook } from '../write-hook.js';
import { MpiError, acceptReview, mergeResidents, rejectReview, unmergePatient } from './merge.js';
import { linkedPatientKeys, patientsOfResident } from './residents.js';
import { ANN, gpMaySee, ODS, residentIn, sourceOf, sourcePatient, TOM } from './testing.js';

let t: TestDatabase;
let store: FhirStore;

const patient = sourcePatient;

async function write(resource: Resource): Promise<void> {
  await store.update(resource.resourceType, resource.id ?? '', resource);
}

const residentOf = (id: string): Promise<string> => residentIn(t.db, id);

const gpSees = (type: string, id: string): Promise<boolean> => gpMaySee(t.db, type, id);

async function snapshot(): Promise<unknown> {
  const links = await t.db.query('SELECT patient_key, person_key FROM access_person_link ORDER BY patient_key');
  const rel = await t.db.query('SELECT person_key, patient_key, party FROM access_relationship ORDER BY patient_key, party');
  const mpi = await t.db.query('SELECT patient_id, resident_id FROM mpi_source_patient ORDER BY patient_id');
  const residents = await t.db.query('SELECT id, merged_into FROM mpi_resident ORDER BY id');
  return { links: links.rows, rel: rel.rows, mpi: mpi.rows, residents: residents.rows };
}

beforeAll(async () => {
  loadFhirDefinitions();
  t = await openTestDatabase();
  store = new FhirStore(t.db, { onWrite: recordWriteHook });
  for (const code of ['M85001', 'RLQ', 'HWC']) await write({ resourceType: 'Organization', id: code, name: `Org ${code}`, identifier: [{ system: ODS, value: code }] });
  // The GP practice knows Ann with her NHS number; the hospital knows Tom; the council knows Ann without a number.
  await write(patient('gp-ann', 'M85001', { ...ANN, generalPractitioner: [{ reference: 'Organization/M85001' }] }, '9990000018'));
  await write(patient('acute-tom', 'RLQ', TOM, '9990000026'));
  await write({ resourceType: 'Condition', id: 'tom-cond', meta: { source: sourceOf('RLQ') }, subject: { reference: 'Patient/acute-tom' }, code: { text: 'hospital record' } });
}, 120_000);
afterAll(async () => {
  await t.close();
});

describe(`merges, unmerges and reviews (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  it('links a copy without an NHS number probabilistically, and re-sending it changes nothing', async () => {
    await write(patient('council-ann', 'HWC', { ...ANN, name: [{ family: 'Quennell', given: ['Annabel', 'May'] }] }));
    expect(await residentOf('council-ann')).toBe(await residentOf('gp-ann'));
    const events = await t.db.query('SELECT count(*)::int AS n FROM mpi_link_event');
    await store.update('Patient', 'council-ann', patient('council-ann', 'HWC', { ...ANN, name: [{ family: 'Quennell', given: ['Annabel', 'May'] }] }));
    // Even a new version with the same demographics (another element changed) neither re-links nor records anything.
    await store.update('Patient', 'council-ann', { ...patient('council-ann', 'HWC', { ...ANN, name: [{ family: 'Quennell', given: ['Annabel', 'May'] }] }), active: true });
    expect((await t.db.query('SELECT count(*)::int AS n FROM mpi_link_event')).rows).toEqual(events.rows);
    expect(await residentOf('council-ann')).toBe(await residentOf('gp-ann'));
  });

  it('merges two residents and unmerges them back to exactly the state before, access included', async () => {
    expect(await gpSees('Condition', 'tom-cond')).toBe(false);
    const before = await snapshot();
    const ann = await residentOf('gp-ann');
    const tom = await residentOf('acute-tom');
    await mergeResidents(t.db, tom, ann, 'user:records-officer', 'same person, confirmed by phone');
    expect(await residentOf('acute-tom')).toBe(ann);
    expect((await patientsOfResident(t.db, ann)).map((p) => p.patientId).sort()).toEqual(['acute-tom', 'council-ann', 'gp-ann']);
    // The practice's relationship with its own copy now covers the hospital's record.
    expect(await gpSees('Condition', 'tom-cond')).toBe(true);

    const back = await unmergePatient(t.db, 'acute-tom', 'user:records-officer', 'merged in error: different people');
    expect(back).toBe(tom);
    expect(await gpSees('Condition', 'tom-cond')).toBe(false);
    expect(await snapshot()).toEqual(before);
    const history = await t.db.query<{ action: string; agent: string; reason: string }>(`SELECT action, agent, reason FROM mpi_link_event WHERE patient_id = 'acute-tom' ORDER BY id`);
    expect(history.rows.map((r) => r.action)).toEqual(['registered', 'merged', 'unmerged']);
    expect(history.rows[2]?.reason).toBe('merged in error: different people');
  });

  it('refuses a merge or unmerge that makes no sense, with the field named', async () => {
    const ann = await residentOf('gp-ann');
    await expect(mergeResidents(t.db, ann, ann, 'u', 'a good reason')).rejects.toMatchObject({ status: 400, field: 'into' });
    await expect(mergeResidents(t.db, 'no-such', ann, 'u', 'a good reason')).rejects.toMatchObject({ status: 404, field: 'from' });
    await expect(mergeResidents(t.db, await residentOf('acute-tom'), ann, 'u', ' ')).rejects.toBeInstanceOf(MpiError);
    await expect(unmergePatient(t.db, 'acute-tom', 'u', 'a good reason')).rejects.toMatchObject({ status: 409, field: 'patient' });
  });

  it('withdraws a deleted copy: it leaves its resident and its access person, and stays in the history', async () => {
    await write(patient('acute-ann', 'RLQ', ANN, '9990000018'));
    await write({ resourceType: 'Condition', id: 'ann-acute-cond', meta: { source: sourceOf('RLQ') }, subject: { reference: 'Patient/acute-ann' }, code: { text: 'acute record' } });
    const ann = await residentOf('gp-ann');
    expect(await residentOf('acute-ann')).toBe(ann);
    expect(await gpSees('Condition', 'ann-acute-cond')).toBe(true);
    await store.delete('Patient', 'acute-ann');
    expect((await patientsOfResident(t.db, ann)).map((p) => p.patientId)).not.toContain('acute-ann');
    const all = await patientsOfResident(t.db, ann, { withdrawn: true });
    expect(all.find((p) => p.patientId === 'acute-ann')?.withdrawnAt).toBeInstanceOf(Date);
    const key = all.find((p) => p.patientId === 'acute-ann')?.patientKey ?? 0;
    expect(await linkedPatientKeys(t.db, all.find((p) => p.patientId === 'gp-ann')?.patientKey ?? 0)).not.toContain(key);
    expect(await gpSees('Condition', 'ann-acute-cond')).toBe(false);
    const keys = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM mpi_blocking_key b JOIN mpi_source_patient s ON s.patient_key = b.patient_key WHERE s.patient_id = $1', ['acute-ann']);
    expect(keys.rows[0]?.n).toBe(0);
    const last = await t.db.query<{ action: string }>(`SELECT action FROM mpi_link_event WHERE patient_id = 'acute-ann' ORDER BY id DESC LIMIT 1`);
    expect(last.rows[0]?.action).toBe('withdrawn');
    // Sent again, it is linked again.
    await write(patient('acute-ann', 'RLQ', ANN, '9990000018'));
    expect(await residentOf('acute-ann')).toBe(ann);
    expect(await gpSees('Condition', 'ann-acute-cond')).toBe(true);
  });

  it('queues a possible match for review; rejecting it is remembered, accepting it links', async () => {
    // Tom's given name and date of birth, another family name and address, no NHS number: possible, not certain.
    const near = { ...TOM, name: [{ family: 'Parker', given: ['Thomas'] }], address: [{ line: ['41 Canal Walk'], postalCode: 'HR1 2ZZ' }] };
    await write(patient('mh-tom', 'HWC', near));
    const queued = await t.db.query<{ id: number; candidate_patient_id: string }>(`SELECT id, candidate_patient_id FROM mpi_review WHERE patient_id = 'mh-tom' AND status = 'open'`);
    expect(queued.rows.map((r) => r.candidate_patient_id)).toEqual(['acute-tom']);
    expect(await residentOf('mh-tom')).not.toBe(await residentOf('acute-tom'));
    const reviewId = Number(queued.rows[0]?.id);

    await rejectReview(t.db, reviewId, 'user:records-officer', 'different person: checked with the practice');
    await expect(rejectReview(t.db, reviewId, 'u', 'again please')).rejects.toMatchObject({ status: 409 });
    // A changed address re-links; the rejected pair is not queued again.
    await write(patient('mh-tom', 'HWC', { ...near, address: [{ line: ['42 Canal Walk'], postalCode: 'HR1 2ZZ' }] }));
    expect((await t.db.query(`SELECT 1 FROM mpi_review WHERE patient_id = 'mh-tom' AND status = 'open'`)).rows).toHaveLength(0);

    // A married name at the hospital, an old address at the practice: possible again.
    await write(patient('gp-zara', 'M85001', { name: [{ family: 'Whitlock', given: ['Zara'] }], gender: 'female', birthDate: '1972-05-09', address: [{ line: ['3 Lark Rise'], postalCode: 'HR2 7PL' }] }, '9990000034'));
    await write(patient('acute-zara', 'RLQ', { name: [{ family: 'Mortimer', given: ['Zara'] }], gender: 'female', birthDate: '1972-05-09', address: [{ line: ['18 Bridge Street'], postalCode: 'WR1 3NF' }] }));
    const second = await t.db.query<{ id: number; candidate_patient_id: string }>(`SELECT id, candidate_patient_id FROM mpi_review WHERE patient_id = 'acute-zara' AND status = 'open' ORDER BY id`);
    expect(second.rows.map((r) => r.candidate_patient_id)).toEqual(['gp-zara']);
    const toGp = second.rows[0];
    await acceptReview(t.db, Number(toGp?.id), 'user:records-officer', 'same person: name changed on marriage');
    expect(await residentOf('acute-zara')).toBe(await residentOf('gp-zara'));
    expect((await t.db.query(`SELECT status FROM mpi_review WHERE id = $1`, [toGp?.id])).rows).toEqual([{ status: 'accepted' }]);
  });
});
