import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, openTestDatabase } from '../../../test/support/database.js';
import { importNdjson } from '../../fhir/bulk.js';
import { loadFhirDefinitions } from '../../fhir/definitions.js';
import { FhirStore } from '../../fhir/store.js';
import type { HolderFeed } from '../../synthetic/feeds.js';
import { HouseholdProducer } from '../../synthetic/generate.js';
import { DEFAULT_AS_OF } from '../../synthetic/model.js';
import { recordWriteHook } from '../write-hook.js';
import { linkedPatientKeys, patientsOfResident, residentOfPatient } from './residents.js';

let t: TestDatabase;
let feeds: HolderFeed[];

function* lines(all: readonly HolderFeed[]): Generator<string> {
  const organizations = new Set<string>();
  for (const feed of all) {
    for (const org of feed.organizations) {
      if (organizations.has(org.id)) continue;
      organizations.add(org.id);
      yield JSON.stringify(org);
    }
    yield JSON.stringify(feed.patient);
    for (const record of feed.records) yield record.json;
  }
}

beforeAll(async () => {
  loadFhirDefinitions();
  t = await openTestDatabase();
  const producer = new HouseholdProducer({ icb: 'QGH', people: 40, seed: 7, asOf: DEFAULT_AS_OF });
  feeds = [];
  for (let i = 0; i < producer.households; i++) for (const { feeds: f } of producer.household(i)) feeds.push(...f);
  const result = await importNdjson(new FhirStore(t.db, { onWrite: recordWriteHook }), lines(feeds), { maxErrors: 5 });
  expect(result.failed).toBe(0);
}, 300_000);
afterAll(async () => {
  await t.close();
});

describe(`the master patient index's write hook (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  it('registers every Patient written as a source patient, with its holder and NHS number', async () => {
    for (const feed of feeds.slice(0, 20)) {
      const found = await residentOfPatient(t.db, feed.patient.id);
      expect(found, feed.patient.id).toBeDefined();
      const me = found?.patients.find((p) => p.patientId === feed.patient.id);
      expect(me?.holder).toBe(feed.holder);
      expect(me?.system).toBe(feed.patient.meta?.source);
      const nhs = feed.patient.identifier?.find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')?.value ?? null;
      expect(me?.nhsNumber).toBe(nhs);
      expect((await patientsOfResident(t.db, found?.residentId ?? '')).map((p) => p.patientId)).toContain(feed.patient.id);
      expect(await linkedPatientKeys(t.db, me?.patientKey ?? 0)).toContain(me?.patientKey);
    }
  });

  it('links the copies of one resident across holders, as the ground truth says, and no one else', async () => {
    const { rows } = await t.db.query<{ patient_id: string; resident_id: string }>('SELECT patient_id, resident_id FROM mpi_source_patient');
    const residentOf = new Map(rows.map((r) => [r.patient_id, r.resident_id]));
    let truePairs = 0;
    let found = 0;
    let linkedPairs = 0;
    let falseLinks = 0;
    for (let i = 0; i < feeds.length; i++) {
      for (let j = i + 1; j < feeds.length; j++) {
        const a = feeds[i] as HolderFeed;
        const b = feeds[j] as HolderFeed;
        const same = a.link.resident === b.link.resident;
        const linked = residentOf.get(a.patient.id) === residentOf.get(b.patient.id);
        if (same) truePairs += 1;
        if (same && linked) found += 1;
        if (linked) linkedPairs += 1;
        if (linked && !same) falseLinks += 1;
      }
    }
    expect(truePairs).toBeGreaterThan(40);
    expect(falseLinks).toBe(0);
    expect(found / truePairs).toBeGreaterThanOrEqual(0.95);
    expect(linkedPairs).toBe(found);
    // A copy without an NHS number is linked too, probabilistically.
    const withoutNumber = feeds.filter((f) => f.link.flaws.includes('no-nhs-number') && feeds.some((o) => o !== f && o.link.resident === f.link.resident));
    expect(withoutNumber.length).toBeGreaterThan(0);
    const linkedWithout = withoutNumber.filter((f) => feeds.some((o) => o !== f && o.link.resident === f.link.resident && residentOf.get(o.patient.id) === residentOf.get(f.patient.id)));
    expect(linkedWithout.length).toBeGreaterThan(0);
  });

  it('makes the copies of a linked resident one access person', async () => {
    const { rows } = await t.db.query<{ resident_id: string; persons: number | string }>(
      `SELECT s.resident_id, count(DISTINCT l.person_key) AS persons FROM mpi_source_patient s JOIN access_person_link l ON l.patient_key = s.patient_key
       WHERE s.withdrawn_at IS NULL GROUP BY s.resident_id`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(Number(row.persons), row.resident_id).toBe(1);
    const persons = await t.db.query<{ n: number | string }>('SELECT count(DISTINCT person_key) AS n FROM access_person_link l JOIN mpi_source_patient s ON s.patient_key = l.patient_key');
    expect(Number(persons.rows[0]?.n)).toBe(rows.length);
  });

  it('changes nothing when the same feeds are sent again (safe to retry)', async () => {
    const before = await t.db.query('SELECT patient_id, resident_id, fingerprint, link_basis FROM mpi_source_patient ORDER BY patient_id');
    const events = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM mpi_link_event');
    const result = await importNdjson(new FhirStore(t.db, { onWrite: recordWriteHook }), lines(feeds.slice(0, 30)), { maxErrors: 5 });
    expect(result.failed).toBe(0);
    expect((await t.db.query('SELECT patient_id, resident_id, fingerprint, link_basis FROM mpi_source_patient ORDER BY patient_id')).rows).toEqual(before.rows);
    expect((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM mpi_link_event')).rows).toEqual(events.rows);
  });
});
