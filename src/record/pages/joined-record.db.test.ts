/**
 * The joined record and the resident search on the demo population (300 residents, as `npm
 * start` loads them), read through the access policy as the demo's clinicians would. Which
 * Patients are one resident comes from the generator's ground truth here, so these tests do not
 * depend on the master patient index's decisions (its own tests measure those).
 */
import type { AllergyIntolerance, CareTeam, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { type AccessContext, SYSTEM_ACCESS } from '../../access/context.js';
import { fhirAccessFor } from '../../access/policy/fhir-policy.js';
import { accessWriteHook } from '../../access/policy/write-hook.js';
import { FhirStore } from '../../fhir/store.js';
import { loadSyntheticDemo, DEMO_PEOPLE, DEMO_SEED } from '../../synthetic/demo.js';
import { HouseholdProducer } from '../../synthetic/generate.js';
import { DEFAULT_AS_OF } from '../../synthetic/model.js';
import { loadDemoIcs } from '../../structure/commands.js';
import { findResidents, hiddenHolders } from './find.js';
import { joinResources, parseFilters, periodStart, readJoinedRecord, RecordRefused } from './joined-record.js';

/** Keith Clarke, a demo citizen: held by his practice, both acute trusts, the mental health trust, the ambulance service and the county council (without an NHS number). */
const KEITH_NHS_NUMBER = '9995354209';
const TODAY = new Date('2026-11-23T12:00:00Z');

const doctorAt = (organisation: string): AccessContext => ({
  kind: 'user',
  subject: `test-doctor-${organisation}`,
  display: 'Test doctor',
  role: 'doctor',
  organisation,
  scopes: [{ context: 'user', type: '*', actions: 'cruds' }],
  purpose: 'TREAT',
});

describe('the joined record', () => {
  let database: TestDatabase;
  /** Keith's copies by holder, from the ground truth. */
  const keith = new Map<string, { patientId: string; kind: string }>();

  beforeAll(async () => {
    database = await openTestDatabase();
    await loadDemoIcs(database.db, 'test');
    await loadSyntheticDemo(database.db, { onWrite: accessWriteHook });
    const producer = new HouseholdProducer({ icb: 'QGH', people: DEMO_PEOPLE, seed: DEMO_SEED, asOf: DEFAULT_AS_OF });
    for (let index = 0; index < producer.households && keith.size === 0; index++) {
      for (const { resident, feeds } of producer.household(index)) {
        if (resident.nhsNumber !== KEITH_NHS_NUMBER) continue;
        for (const feed of feeds) keith.set(feed.holder, { patientId: feed.patient.id ?? '', kind: feed.kind });
      }
    }
  }, 120_000);

  afterAll(async () => {
    await database?.close();
  });

  const keithIds = (): string[] => [...keith.values()].map((c) => c.patientId);
  const holderOfKind = (kind: string): string => [...keith.entries()].find(([, c]) => c.kind === kind)?.[0] ?? '';

  it('joins every source copy, each with its organisation, and says which copy lacks an NHS number', async () => {
    const record = await readJoinedRecord({ db: database.db, policy: fhirAccessFor(SYSTEM_ACCESS, database.db), patientIds: keithIds(), filters: parseFilters({}), today: TODAY });
    expect(new Set(record.patientIds)).toEqual(new Set(keithIds()));
    expect(record.sources.map((s) => s.source.setting)).toEqual(expect.arrayContaining(['gp', 'acute', 'social-care']));
    // The practice's copy first; the council's has no NHS number; names come from the structure module.
    expect(record.sources[0]?.source.setting).toBe('gp');
    const council = record.sources.find((s) => s.source.setting === 'social-care');
    expect(council?.nhsNumber).toBeUndefined();
    expect(council?.source).toMatchObject({ code: 'E10000034', name: 'Worcestershire County Council' });
    expect(record.sources.find((s) => s.source.code === 'RWP')?.source.name).toBe('Worcestershire Acute Hospitals NHS Trust');
    expect(record.banner.nhsNumber).toBe('999 535 4209');
    expect(record.banner.name).toMatch(/^Keith( \w+)* Clarke$/);
    expect(record.banner.age).toBeGreaterThan(0);
    // The NHS number row names the copies holding it and the one that does not.
    const nhsRow = record.demographics.find((r) => r.label === 'NHS number');
    expect(nhsRow?.values[0]?.value).toBe('999 535 4209');
    expect(nhsRow?.missing.map((s) => s.code)).toContain('E10000034');
  });

  it('puts every setting’s encounters on one timeline, newest first, each with its source and date', async () => {
    const record = await readJoinedRecord({ db: database.db, policy: fhirAccessFor(SYSTEM_ACCESS, database.db), patientIds: keithIds(), filters: parseFilters({}), today: TODAY });
    const settings = new Set(record.timeline.map((i) => i.source.setting));
    expect(settings.size).toBeGreaterThanOrEqual(3);
    expect(settings).toContain('social-care');
    for (const item of record.timeline) {
      expect(item.source.code, `${item.type}/${item.id}`).not.toBe('');
      expect(item.date, `${item.type}/${item.id}`).toMatch(/^\d{4}-\d{2}-\d{2}/);
    }
    const dates = record.timeline.map((i) => i.date ?? '');
    expect(dates).toEqual([...dates].sort().reverse());
    // Social care involvement: the council's episodes, and only theirs.
    expect(record.socialCare.length).toBeGreaterThan(0);
    expect(new Set(record.socialCare.map((i) => i.source.code))).toEqual(new Set([holderOfKind('social-care')]));
    // Medications: current ones only, with dm+d codes.
    for (const m of record.medications) expect(m.code, m.title).toMatch(/^\d+$/);
  });

  it('filters by setting and by time', async () => {
    const all = await readJoinedRecord({ db: database.db, policy: fhirAccessFor(SYSTEM_ACCESS, database.db), patientIds: keithIds(), filters: parseFilters({}), today: TODAY });
    const socialOnly = await readJoinedRecord({ db: database.db, policy: fhirAccessFor(SYSTEM_ACCESS, database.db), patientIds: keithIds(), filters: parseFilters({ setting: 'social-care' }), today: TODAY });
    expect(socialOnly.timeline.length).toBeGreaterThan(0);
    expect(socialOnly.timeline.length).toBeLessThan(all.timeline.length);
    expect(new Set(socialOnly.timeline.map((i) => i.source.setting))).toEqual(new Set(['social-care']));
    expect(socialOnly.problems).toEqual([]);
    // The council records no results: no empty series either.
    expect(all.results.length).toBeGreaterThan(0);
    expect(socialOnly.results).toEqual([]);
    // Demographics are not filtered: they are who the person is.
    expect(socialOnly.sources).toHaveLength(all.sources.length);

    const lastYear = await readJoinedRecord({ db: database.db, policy: fhirAccessFor(SYSTEM_ACCESS, database.db), patientIds: keithIds(), filters: parseFilters({ period: '1y', setting: ['gp', 'acute', 'nonsense'] }), today: TODAY });
    expect(lastYear.filters).toEqual({ settings: ['gp', 'acute'], period: '1y' });
    const from = periodStart('1y', TODAY) ?? '';
    expect(from).toBe('2025-11-23');
    for (const item of lastYear.timeline) expect((item.end ?? item.date ?? '') >= from, `${item.date ?? ''}`).toBe(true);
    expect(lastYear.timeline.length).toBeLessThan(all.timeline.filter((i) => i.source.setting === 'gp' || i.source.setting === 'acute').length);
  });

  it('reads only what the clinician may see: a copy held where they have no relationship is left out', async () => {
    const store = new FhirStore(database.db, { onWrite: accessWriteHook });
    const stranger = await store.create({ resourceType: 'Patient', name: [{ family: 'Stranger', given: ['Sam'] }], birthDate: '1970-01-01', managingOrganization: { reference: 'Organization/RLQ' }, meta: { source: 'urn:openics:source:RLQ:pas' } });
    const rwpCopy = keith.get('RWP')?.patientId ?? '';
    const policy = fhirAccessFor(doctorAt('RWP'), database.db);
    const record = await readJoinedRecord({ db: database.db, policy, patientIds: [rwpCopy, stranger.id], filters: parseFilters({}), today: TODAY });
    expect(record.patientIds).toContain(rwpCopy);
    expect(record.patientIds).not.toContain(stranger.id);
    expect(record.sources.map((s) => s.patientId)).not.toContain(stranger.id);
    // Asking for the stranger's record itself is refused with the policy's 403 (break-glass possible).
    const refused = await readJoinedRecord({ db: database.db, policy, patientIds: [stranger.id], filters: parseFilters({}), today: TODAY }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RecordRefused);
    expect((refused as RecordRefused).error.status).toBe(403);
  });

  it('finds residents by NHS number or by family name and date of birth, only among the records the user may see', async () => {
    const policy = fhirAccessFor(doctorAt('RWP'), database.db);
    const byNumber = await findResidents(database.db, policy, { by: 'nhs-number', nhsNumber: KEITH_NHS_NUMBER }, async () => new Map());
    expect(byNumber.patientIds).toContain(keith.get('RWP')?.patientId);
    expect(byNumber.residents[0]?.nhsNumber).toBe('999 535 4209');
    // Grouped by resident when the index says which copies are one person.
    const grouped = await findResidents(database.db, fhirAccessFor(SYSTEM_ACCESS, database.db), { by: 'nhs-number', nhsNumber: KEITH_NHS_NUMBER }, async (ids) => new Map(ids.map((id) => [id, { residentId: 'keith', sources: [`urn:openics:source:${holderOfKind('social-care')}:mosaic`, 'urn:openics:source:RWP:pas'] }])));
    expect(grouped.residents).toHaveLength(1);
    expect(grouped.residents[0]?.copies.length).toBe(grouped.patientIds.length);
    expect(grouped.residents[0]?.copies.length).toBeGreaterThanOrEqual(4);
    expect(grouped.residents[0]?.patientId).toBe(keith.get(holderOfKind('gp'))?.patientId);
    // The council's copy has no NHS number, so the search cannot find it; the index says it holds one.
    expect(grouped.residents[0]?.alsoHeldBy.map((o) => [o.code, o.name])).toEqual([['E10000034', 'Worcestershire County Council']]);

    const birthDate = (await new FhirStore(database.db).read('Patient', keith.get('RWP')?.patientId ?? '')) as { birthDate?: string };
    const byName = await findResidents(database.db, policy, { by: 'name', family: 'Clarke', birthDate: birthDate.birthDate ?? '' }, async () => new Map());
    expect(byName.patientIds).toContain(keith.get('RWP')?.patientId);
    // Someone RWP has no relationship with is not found, and the search offers break-glass by NHS number only.
    const stranger = await findResidents(database.db, fhirAccessFor(doctorAt('RWP'), database.db), { by: 'name', family: 'Stranger', birthDate: '1970-01-01' }, async () => new Map());
    expect(stranger.residents).toEqual([]);
    // The copies holding an NHS number, found as OpenICS for the break-glass offer: all but the council's.
    expect(new Set(await hiddenHolders(database.db, KEITH_NHS_NUMBER))).toEqual(new Set(grouped.patientIds));
    expect(grouped.patientIds).not.toContain(keith.get('E10000034')?.patientId);
  });

  it('lists the practice’s allergy labels with the reaction, its severity and the criticality in words', async () => {
    const { rows } = await database.db.query<{ content: string }>("SELECT content FROM fhir_patient_resource WHERE resource_type = 'AllergyIntolerance' AND NOT deleted ORDER BY id LIMIT 1");
    const allergy = JSON.parse(rows[0]?.content ?? '{}') as AllergyIntolerance;
    const patientId = allergy.patient.reference?.split('/')[1] ?? '';
    const record = await readJoinedRecord({ db: database.db, policy: fhirAccessFor(SYSTEM_ACCESS, database.db), patientIds: [patientId], filters: parseFilters({}), today: TODAY });
    const item = record.allergies.find((i) => i.title === allergy.code?.coding?.[0]?.display);
    expect(item?.source.setting).toBe('gp');
    const reaction = allergy.reaction?.[0];
    expect(item?.detail).toBe(`${reaction?.manifestation[0]?.coding?.[0]?.display ?? ''} (${reaction?.severity ?? ''})`);
    expect(item?.status).toBe(allergy.criticality === 'high' ? 'High' : 'Low');
  });

  it('shows care plans and care teams with their status in words, and next of kin from the Patient copies', async () => {
    const { rows } = await database.db.query<{ content: string }>("SELECT content FROM fhir_patient_resource WHERE resource_type = 'CareTeam' AND NOT deleted ORDER BY id LIMIT 1");
    const team = JSON.parse(rows[0]?.content ?? '{}') as CareTeam;
    const patientId = team.subject?.reference?.split('/')[1] ?? '';
    const record = await readJoinedRecord({ db: database.db, policy: fhirAccessFor(SYSTEM_ACCESS, database.db), patientIds: [patientId], filters: parseFilters({}), today: TODAY });
    const shown = record.careTeam.find((i) => i.title === team.name);
    expect(shown?.status).toBe(team.status === 'active' ? 'Active' : 'Ended');
    for (const item of [...record.careTeam, ...record.carePlans]) expect(item.status).toMatch(/^[A-Z]/);
    const { rows: kin } = await database.db.query<{ content: string }>("SELECT content FROM fhir_patient_resource WHERE resource_type = 'Patient' AND content LIKE '%\"contact\"%' ORDER BY id LIMIT 1");
    const withKin = JSON.parse(kin[0]?.content ?? '{}') as Patient;
    const kinRecord = await readJoinedRecord({ db: database.db, policy: fhirAccessFor(SYSTEM_ACCESS, database.db), patientIds: [withKin.id ?? ''], filters: parseFilters({}), today: TODAY });
    expect(kinRecord.contacts.map((c) => c.title)).toContain([...(withKin.contact?.[0]?.name?.given ?? []), withKin.contact?.[0]?.name?.family].join(' '));
  });

  it('shows where sources disagree on a value, naming each source', async () => {
    const patients = [
      { resourceType: 'Patient' as const, id: 'a', meta: { source: 'urn:openics:source:M81001:gp-emis' }, birthDate: '1961-04-03', name: [{ family: 'Lane', given: ['Ada'] }] },
      { resourceType: 'Patient' as const, id: 'b', meta: { source: 'urn:openics:source:E10000034:mosaic' }, birthDate: '1961-03-04', name: [{ family: 'Lane', given: ['Ada'] }] },
    ];
    const record = await joinResources(database.db, 'a', ['a', 'b'], patients, parseFilters({}), TODAY);
    const dob = record.demographics.find((r) => r.label === 'Date of birth');
    expect(dob?.values.map((v) => [v.value, v.sources.map((s) => s.code)])).toEqual([
      ['3 April 1961', ['M81001']],
      ['4 March 1961', ['E10000034']],
    ]);
    const name = record.demographics.find((r) => r.label === 'Name');
    expect(name?.values).toHaveLength(1);
    expect(name?.values[0]?.sources.map((s) => s.code)).toEqual(['M81001', 'E10000034']);
    expect(record.sources.map((s) => s.source.setting)).toEqual(['gp', 'social-care']);
  });
});
