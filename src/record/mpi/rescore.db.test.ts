import type { Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, openTestDatabase } from '../../../test/support/database.js';
import { loadFhirDefinitions } from '../../fhir/definitions.js';
import { FhirStore } from '../../fhir/store.js';
import { recordWriteHook } from '../write-hook.js';
import { acceptReview, mergeResidents, rejectReview } from './merge.js';
import { ANN, gpMaySee, ODS, residentIn, sourcePatient, TOM } from './testing.js';

let t: TestDatabase;
let store: FhirStore;

const patient = sourcePatient;

const ZOE: Partial<Patient> = { name: [{ family: 'Marchbank', given: ['Zoe'] }], gender: 'female', birthDate: '1966-07-19', address: [{ line: ['4 Kiln Close'], postalCode: 'HR3 5AB' }] };
const GP_PRACTICE = { generalPractitioner: [{ reference: 'Organization/M85001' }] };

async function write(resource: Resource): Promise<void> {
  await store.update(resource.resourceType, resource.id ?? '', resource);
}

const residentOf = (id: string): Promise<string> => residentIn(t.db, id);

const gpSees = (type: string, id: string): Promise<boolean> => gpMaySee(t.db, type, id);

async function lastEvents(patientId: string, n: number): Promise<Array<{ action: string; resident_id: string; from_resident: string | null; basis: string | null; reason: string | null }>> {
  const { rows } = await t.db.query<{ action: string; resident_id: string; from_resident: string | null; basis: string | null; reason: string | null }>(
    'SELECT action, resident_id, from_resident, basis, reason FROM mpi_link_event WHERE patient_id = $1 ORDER BY id DESC LIMIT $2',
    [patientId, n],
  );
  return rows.reverse();
}

async function sourceRow(patientId: string): Promise<{ link_basis: string; link_weight: number | null }> {
  const { rows } = await t.db.query<{ link_basis: string; link_weight: number | null }>('SELECT link_basis, link_weight FROM mpi_source_patient WHERE patient_id = $1', [patientId]);
  return rows[0] ?? { link_basis: '', link_weight: null };
}

beforeAll(async () => {
  loadFhirDefinitions();
  t = await openTestDatabase();
  store = new FhirStore(t.db, { onWrite: recordWriteHook });
  for (const code of ['M85001', 'RLQ', 'HWC']) await write({ resourceType: 'Organization', id: code, name: `Org ${code}`, identifier: [{ system: ODS, value: code }] });
  await write(patient('gp-ann', 'M85001', { ...ANN, ...GP_PRACTICE }, '9990000018'));
  await write(patient('gp-tom', 'M85001', { ...TOM, ...GP_PRACTICE }, '9990000026'));
  await write(patient('gp-zoe', 'M85001', { ...ZOE, ...GP_PRACTICE }, '9990000034'));
}, 120_000);
afterAll(async () => {
  await t.close();
});

describe(`re-scoring a linked source patient whose demographics change (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  it('keeps the link when a feed corrects a typing error, and records the re-score', async () => {
    // The council's copy, without an NHS number and with the surname mistyped, is linked on its demographics.
    await write(patient('council-ann', 'HWC', { ...ANN, name: [{ family: 'Quenell', given: ['Annabel'] }] }));
    const ann = await residentOf('gp-ann');
    expect(await residentOf('council-ann')).toBe(ann);
    const before = await sourceRow('council-ann');
    expect(before.link_basis).toBe('probabilistic');

    await write(patient('council-ann', 'HWC', ANN));
    expect(await residentOf('council-ann')).toBe(ann);
    const [event] = await lastEvents('council-ann', 1);
    expect(event).toMatchObject({ action: 'relinked', resident_id: ann, from_resident: null, basis: 'probabilistic' });
    expect(event?.reason).toContain('still a match');
    // The row says how it is linked now: the corrected surname agrees exactly, so it weighs more.
    const after = await sourceRow('council-ann');
    expect(after.link_basis).toBe('probabilistic');
    expect(Number(after.link_weight)).toBeGreaterThan(Number(before.link_weight));
    expect((await t.db.query(`SELECT 1 FROM mpi_review WHERE patient_id = 'council-ann' AND status = 'open'`)).rows).toHaveLength(0);
  });

  it('splits off a copy whose date of birth and given name change so it no longer matches, and its access person follows', async () => {
    await write(patient('council-tom', 'HWC', TOM));
    await write({ resourceType: 'Condition', id: 'council-tom-cond', meta: { source: 'urn:openics:source:HWC:test' }, subject: { reference: 'Patient/council-tom' }, code: { text: 'council record' } });
    const tom = await residentOf('gp-tom');
    expect(await residentOf('council-tom')).toBe(tom);
    // The practice's relationship with its copy covers the council's, while they are one resident.
    expect(await gpSees('Condition', 'council-tom-cond')).toBe(true);

    // The council corrects its record: it was Tom's brother, Daniel, born two years later.
    await write(patient('council-tom', 'HWC', { ...TOM, name: [{ family: 'Pargeter', given: ['Daniel'] }], birthDate: '1990-04-27' }));
    const now = await residentOf('council-tom');
    expect(now).not.toBe(tom);
    expect(await residentOf('gp-tom')).toBe(tom);
    const [event] = await lastEvents('council-tom', 1);
    expect(event).toMatchObject({ action: 'relinked', resident_id: now, from_resident: tom });
    expect(event?.reason).toContain('no longer a match');
    expect(await gpSees('Condition', 'council-tom-cond')).toBe(false);
    const persons = await t.db.query<{ n: number }>(
      `SELECT count(DISTINCT l.person_key)::int AS n FROM access_person_link l JOIN mpi_source_patient s ON s.patient_key = l.patient_key WHERE s.patient_id IN ('gp-tom', 'council-tom')`,
    );
    expect(persons.rows[0]?.n).toBe(2);
  });

  it('queues a review, and does not split, when a record a person merged changes so it no longer matches; rejecting the review unmerges it', async () => {
    // The hospital's copy has an old surname and address: not linked automatically; a records officer merges it.
    await write(patient('acute-zoe', 'RLQ', { ...ZOE, name: [{ family: 'Tarrant', given: ['Zoe'] }], address: [{ line: ['90 Quay Street'], postalCode: 'WR1 2JJ' }] }));
    const zoe = await residentOf('gp-zoe');
    const alone = await residentOf('acute-zoe');
    expect(alone).not.toBe(zoe);
    await t.db.query(`UPDATE mpi_review SET status = 'closed' WHERE patient_id = 'acute-zoe'`);
    await mergeResidents(t.db, alone, zoe, 'user:records-officer', 'same person: confirmed with the hospital');
    expect(await residentOf('acute-zoe')).toBe(zoe);

    // The hospital then changes the date of birth: it no longer matches, but a person made this link.
    await write(patient('acute-zoe', 'RLQ', { ...ZOE, name: [{ family: 'Tarrant', given: ['Zoe'] }], birthDate: '1969-02-03', address: [{ line: ['90 Quay Street'], postalCode: 'WR1 2JJ' }] }));
    expect(await residentOf('acute-zoe')).toBe(zoe);
    expect((await sourceRow('acute-zoe')).link_basis).toBe('manual');
    const queued = await t.db.query<{ id: number; candidate_patient_id: string }>(`SELECT id, candidate_patient_id FROM mpi_review WHERE patient_id = 'acute-zoe' AND status = 'open'`);
    expect(queued.rows.map((r) => r.candidate_patient_id)).toEqual(['gp-zoe']);
    const events = await lastEvents('acute-zoe', 2);
    expect(events.map((e) => e.action)).toEqual(['relinked', 'queued']);
    expect(events.every((e) => e.resident_id === zoe && e.from_resident === null)).toBe(true);

    // The reviewer says they are not the same person: the hospital's copy leaves, back to the resident it was merged from.
    await rejectReview(t.db, Number(queued.rows[0]?.id), 'user:records-officer', 'different person: checked the date of birth');
    expect(await residentOf('acute-zoe')).toBe(alone);
    expect(await residentOf('gp-zoe')).toBe(zoe);
    expect((await lastEvents('acute-zoe', 2)).map((e) => e.action)).toEqual(['rejected', 'unmerged']);
  });

  it('keeps, with no review, a record that still matches in a resident a person merged', async () => {
    // The council's copy is linked on its demographics; then a person merges the hospital's copy in again.
    await write(patient('council-zoe', 'HWC', ZOE));
    const zoe = await residentOf('gp-zoe');
    expect(await residentOf('council-zoe')).toBe(zoe);
    await mergeResidents(t.db, await residentOf('acute-zoe'), zoe, 'user:records-officer', 'same person after all: new evidence');
    // The council corrects the postcode: still a match for the practice's copy.
    await write(patient('council-zoe', 'HWC', { ...ZOE, address: [{ line: ['4 Kiln Close'], postalCode: 'HR3 5AD' }] }));
    expect(await residentOf('council-zoe')).toBe(zoe);
    expect(await residentOf('acute-zoe')).toBe(zoe);
    const [event] = await lastEvents('council-zoe', 1);
    expect(event).toMatchObject({ action: 'relinked', resident_id: zoe, basis: 'probabilistic' });
    expect(event?.reason).toContain('still a match');
    expect((await t.db.query(`SELECT 1 FROM mpi_review WHERE patient_id = 'council-zoe' AND status = 'open'`)).rows).toHaveLength(0);
  });

  it('keeps a record a person merged in its resident when the reviewer accepts the review its change queued', async () => {
    const zoe = await residentOf('gp-zoe');
    expect(await residentOf('acute-zoe')).toBe(zoe);
    await write(patient('acute-zoe', 'RLQ', { ...ZOE, name: [{ family: 'Tarrant', given: ['Zoe'] }], birthDate: '1970-11-30', address: [{ line: ['90 Quay Street'], postalCode: 'WR1 2JJ' }] }));
    const queued = await t.db.query<{ id: number }>(`SELECT id FROM mpi_review WHERE patient_id = 'acute-zoe' AND status = 'open'`);
    expect(queued.rows).toHaveLength(1);
    expect(await acceptReview(t.db, Number(queued.rows[0]?.id), 'user:records-officer', 'same person: the hospital corrected the date of birth')).toBe(zoe);
    expect(await residentOf('acute-zoe')).toBe(zoe);
    expect((await t.db.query(`SELECT status FROM mpi_review WHERE id = $1`, [queued.rows[0]?.id])).rows).toEqual([{ status: 'accepted' }]);
    expect((await lastEvents('acute-zoe', 1))[0]).toMatchObject({ action: 'accepted', resident_id: zoe, from_resident: null });
  });
});
