import type { Patient, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../fhir/definitions.js';
import { demographicsOf } from '../record/linkage/demographics.js';
import { TYPICAL_NAMES } from '../record/linkage/frequencies.js';
import { scorePair } from '../record/linkage/score.js';
import { patientContact } from './contacts.js';
import { validateResource } from '../fhir/validate.js';
import { type HolderFeed, Feeds, PATIENT_ELEMENT, localIdentifierSystem } from './feeds.js';
import { FLAW_RATES, SOURCE_KINDS, type SourceKind, respaced, typo, wrongBirthDate } from './flaws.js';
import { ID_LENGTH } from './ids.js';
import { type HeldRecord, NHS_NUMBER_SYSTEM, ODS_SYSTEM, type Resident, ref, sourceUri } from './model.js';
import { Random } from './random.js';
import { TEST_AREA, testRecords, testResident } from './testing.js';

beforeAll(() => loadFhirDefinitions());

const feeds = new Feeds(TEST_AREA, 42);

/** A feed's records as objects. */
function recordsOf(feed: HolderFeed): Array<Resource & { id: string }> {
  return feed.records.map((r) => JSON.parse(r.json) as Resource & { id: string });
}

function feedsFor(sequence: number, f: Feeds = feeds): { resident: Resident; feeds: HolderFeed[] } {
  const resident = testResident(sequence);
  return { resident, feeds: f.feedsOf(resident, testRecords(resident), new Random(f.seed, sequence)) };
}

describe('each holder’s copy', () => {
  it('gives every holder of a record its own Patient, the registered practice first', () => {
    const { resident, feeds: out } = feedsFor(7);
    expect(out.map((f) => f.holder)).toEqual([resident.practice, 'E10000034', 'R1A', 'RWP', 'RYA']);
    expect(out.map((f) => f.kind)).toEqual(['gp', 'social-care', 'mental-health', 'acute', 'ambulance']);
    for (const feed of out) {
      expect(feed.patient.meta?.source).toBe(sourceUri(feed.holder, feed.system));
      expect(feed.patient.managingOrganization).toEqual({ reference: `Organization/${feed.holder}`, identifier: { system: ODS_SYSTEM, value: feed.holder } });
      expect(feed.patient.generalPractitioner?.[0]?.reference).toBe(`Organization/${resident.practice}`);
      const local = feed.patient.identifier?.[0];
      expect(local?.system).toBe(localIdentifierSystem(feed.holder, feed.kind));
      expect(feed.link).toMatchObject({ resident: resident.id, holder: feed.holder, patient: feed.patient.id, identifier: { system: local?.system, value: local?.value } });
    }
    // The practice holds a copy even with no records of its own: here it has three.
    expect(out[0]?.records).toHaveLength(3);
  });

  it('places each record: opaque id, the holder’s source, the patient element, references resolved', () => {
    const { feeds: out } = feedsFor(3);
    for (const feed of out) {
      const records = recordsOf(feed);
      const ids = new Map(records.map((r) => [`${r.resourceType}/${r.id}`, r]));
      for (const record of records) {
        expect(feed.records.find((r) => r.id === record.id)?.type).toBe(record.resourceType);
        expect(record.meta?.source).toBe(sourceUri(feed.holder, feed.system));
        const element = PATIENT_ELEMENT[record.resourceType];
        if (element === 'subject' || element === 'patient') expect((record as unknown as Record<string, unknown>)[element]).toEqual({ reference: `Patient/${feed.patient.id}` });
        const json = JSON.stringify(record);
        expect(json).not.toContain('"#');
        for (const [, reference] of json.matchAll(/"reference":"([^"]+)"/g)) {
          const [type, id] = (reference ?? '').split('/');
          if (type === 'Patient') expect(id).toBe(feed.patient.id);
          else if (type === 'Organization') expect(feed.organizations.map((o) => o.id)).toContain(id);
          else expect(ids.has(reference ?? '')).toBe(true);
        }
      }
    }
    const ambulance = out.find((f) => f.kind === 'ambulance');
    // The hospital the crew took the patient to is a referenced organisation of the ambulance feed.
    expect(ambulance?.organizations.map((o) => o.id)).toEqual(expect.arrayContaining(['RYA', 'RWP']));
    expect(ambulance?.organizations.find((o) => o.id === 'RWP')?.name).toBe('Worcestershire Acute Hospitals NHS Trust');
  });

  it('makes resources that are valid R4, NHS number included', () => {
    for (let i = 0; i < 40; i++) {
      for (const feed of feedsFor(i).feeds) {
        for (const resource of [feed.patient, ...recordsOf(feed), ...feed.organizations]) {
          expect(validateResource(resource), `${resource.resourceType} of ${feed.holder}`).toEqual([]);
        }
      }
    }
  });

  it('gives ids that are opaque, unique, deterministic and unrelated between holders and seeds', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { resident, feeds: out } = feedsFor(i);
      for (const feed of out) {
        for (const resource of [feed.patient, ...feed.records]) {
          expect(resource.id).toMatch(new RegExp(`^[a-z2-7]{${ID_LENGTH}}$`));
          expect(resource.id).not.toContain(resident.id.slice(1));
          expect(resource.id).not.toContain(resident.nhsNumber);
          expect(seen.has(resource.id)).toBe(false);
          seen.add(resource.id);
        }
      }
    }
    expect(JSON.stringify(feedsFor(11).feeds)).toBe(JSON.stringify(feedsFor(11).feeds));
    const other = new Feeds(TEST_AREA, 43);
    const a = feedsFor(11).feeds.map((f) => f.patient.id);
    const b = feedsFor(11, other).feeds.map((f) => f.patient.id);
    expect(a.filter((id) => b.includes(id))).toEqual([]);
  });

  it('numbers residents differently at each holder, never two the same', () => {
    const byHolder = new Map<string, Set<string>>();
    for (let i = 0; i < 3000; i++) {
      for (const feed of feedsFor(i).feeds) {
        const values = byHolder.get(feed.holder) ?? new Set<string>();
        if (values.has(feed.link.identifier.value)) expect.fail(`${feed.holder} gives two residents ${feed.link.identifier.value}`);
        values.add(feed.link.identifier.value);
        byHolder.set(feed.holder, values);
      }
    }
    const sample = feedsFor(5).feeds;
    const acute = sample.find((f) => f.kind === 'acute')?.link.identifier.value ?? '';
    expect(acute).toMatch(/^[A-Z]\d{7}$/);
    expect(sample.find((f) => f.kind === 'ambulance')?.link.identifier.value).toMatch(/^250709-\d{7}$/);
  }, 30_000);

  it('places records whatever their shape: meta or resourceType out of place, Appointment, Account, ready references', () => {
    const resident = testResident(2);
    const gp = resident.practice;
    const held = (key: string, resource: Record<string, unknown>): HeldRecord => ({ holder: gp, key, resource: resource as unknown as Resource });
    const records: HeldRecord[] = [
      held('enc', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, serviceProvider: { identifier: { system: ODS_SYSTEM, value: 'RXX' }, display: 'The "Other" Trust \\ Annex' } }),
      held('obs', { status: 'final', resourceType: 'Observation', code: { text: 'BMI' }, encounter: ref('enc') }),
      held('cond', { resourceType: 'Condition', meta: { profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Condition'] }, code: { text: 'Asthma' }, encounter: ref('enc') }),
      held('appt', { resourceType: 'Appointment', status: 'proposed', participant: [{ actor: { display: 'Dr Khan' }, status: 'accepted' }] }),
      held('acct', { resourceType: 'Account', status: 'active' }),
      held('req', { resourceType: 'ServiceRequest', status: 'active', intent: 'order', requester: { reference: 'Organization/RLQ', identifier: { system: ODS_SYSTEM, value: 'RLQ' } } }),
    ];
    const [feed] = feeds.feedsOf(resident, records, new Random(1, 2));
    if (!feed) throw new Error('no feed');
    const [enc, obs, cond, appt, acct, req] = recordsOf(feed) as unknown as Array<Record<string, unknown> & { id: string; meta?: unknown }>;
    const patient = { reference: `Patient/${feed.patient.id}` };
    for (const r of recordsOf(feed)) {
      expect(Object.keys(r).slice(0, 3)).toEqual(['resourceType', 'id', 'meta']);
      expect(r.meta?.source).toBe(sourceUri(gp, feed.system));
      expect(validateResource(r)).toEqual([]);
    }
    expect(enc?.serviceProvider).toEqual({ reference: 'Organization/RXX', identifier: { system: ODS_SYSTEM, value: 'RXX' }, display: 'The "Other" Trust \\ Annex' });
    expect(feed.organizations.find((o) => o.id === 'RXX')?.name).toBe('The "Other" Trust \\ Annex');
    expect(obs).toMatchObject({ status: 'final', encounter: { reference: `Encounter/${enc?.id}` }, subject: patient });
    expect(cond?.meta).toEqual({ profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Condition'], source: sourceUri(gp, feed.system) });
    expect(cond).toMatchObject({ encounter: { reference: `Encounter/${enc?.id}` }, subject: patient });
    expect(appt?.participant).toEqual([{ actor: patient, status: 'accepted' }, { actor: { display: 'Dr Khan' }, status: 'accepted' }]);
    expect(acct?.subject).toEqual([patient]);
    expect(req?.requester).toEqual({ reference: 'Organization/RLQ', identifier: { system: ODS_SYSTEM, value: 'RLQ' } });
    expect(feed.organizations.map((o) => o.id)).toEqual([gp, 'RXX', 'RLQ']);
  });

  it('refuses a reference to a record the holder does not hold, and a holder outside the area', () => {
    const resident = testResident(1);
    const records = testRecords(resident);
    const bad = records.map((r) => (r.key === 'ae-1-proc' ? { ...r, resource: { ...r.resource, encounter: { reference: '#gp-enc-1' } } } : r));
    expect(() => feeds.feedsOf(resident, bad, new Random(1, 1))).toThrow(/key ae-1-proc.*refers to #gp-enc-1/);
    const stray = [...records, { holder: 'RXX', key: 'x', resource: { resourceType: 'Basic', code: { text: 'x' } } } as const];
    expect(() => feeds.feedsOf(resident, stray, new Random(1, 1))).toThrow(/RXX.*not a practice, trust or council of QGH/);
  });
});

describe('flaws', () => {
  it('happen at each kind of source’s rate', () => {
    const n = 20_000;
    const counts = new Map<SourceKind, { copies: number; missing: number; typo: number; nickname: number; birth: number; died: number; deathKnown: number }>();
    for (let i = 0; i < n; i++) {
      for (const feed of feedsFor(i).feeds) {
        const c = counts.get(feed.kind) ?? { copies: 0, missing: 0, typo: 0, nickname: 0, birth: 0, died: 0, deathKnown: 0 };
        c.copies += 1;
        const flaws = new Set(feed.link.flaws);
        if (flaws.has('no-nhs-number')) c.missing += 1;
        if (flaws.has('family-typo') || flaws.has('given-typo')) c.typo += 1;
        if (flaws.has('birth-date')) c.birth += 1;
        const nhs = feed.patient.identifier?.find((x) => x.system === NHS_NUMBER_SYSTEM);
        expect(nhs === undefined).toBe(flaws.has('no-nhs-number'));
        if (i % 5 === 0) {
          c.died += 1;
          if (feed.patient.deceasedDateTime !== undefined) c.deathKnown += 1;
        }
        counts.set(feed.kind, c);
      }
    }
    // Within five standard deviations of the binomial: fails only if the rates are wrong.
    const near = (count: number, trials: number, p: number): void => {
      const sd = Math.sqrt(trials * p * (1 - p));
      expect(Math.abs(count - trials * p)).toBeLessThanOrEqual(5 * sd + 1);
    };
    for (const kind of SOURCE_KINDS.filter((k) => k !== 'community')) {
      const c = counts.get(kind);
      expect(c, kind).toBeDefined();
      if (!c) continue;
      const rates = FLAW_RATES[kind];
      near(c.missing, c.copies, rates.missingNhsNumber);
      near(c.typo, c.copies, rates.nameTypo);
      near(c.birth, c.copies, rates.birthDateError);
    }
    // The rates the brief sets: GP ~0%, acute ~2%, community/MH 3–5%, social care ~15%, ambulance ~25%.
    const rate = (kind: SourceKind): number => (counts.get(kind)?.missing ?? 0) / (counts.get(kind)?.copies ?? 1);
    expect(rate('gp')).toBe(0);
    expect(rate('acute')).toBeGreaterThan(0.01);
    expect(rate('acute')).toBeLessThan(0.03);
    expect(rate('mental-health')).toBeGreaterThan(0.03);
    expect(rate('mental-health')).toBeLessThan(0.07);
    expect(rate('social-care')).toBeGreaterThan(0.12);
    expect(rate('social-care')).toBeLessThan(0.18);
    expect(rate('ambulance')).toBeGreaterThan(0.22);
    expect(rate('ambulance')).toBeLessThan(0.28);
    // Deaths: the practice nearly always knows; the ambulance service knows less often.
    const known = (kind: SourceKind): number => (counts.get(kind)?.deathKnown ?? 0) / (counts.get(kind)?.died ?? 1);
    expect(known('gp')).toBeGreaterThan(0.97);
    expect(known('ambulance')).toBeLessThan(0.6);
  }, 60_000);

  it('include nicknames and other spellings from names.ts', () => {
    const seen = new Map<string, Set<string>>();
    for (let i = 0; i < 3000; i++) {
      for (const feed of feedsFor(i).feeds) {
        for (const flaw of ['nickname', 'spelling-variant'] as const) {
          if (!feed.link.flaws.includes(flaw)) continue;
          const names = seen.get(flaw) ?? new Set<string>();
          names.add(`${feed.patient.name?.[0]?.given?.[0] ?? ''} ${feed.patient.name?.[0]?.family ?? ''}`);
          seen.set(flaw, names);
        }
      }
    }
    expect([...(seen.get('nickname') ?? [])].some((n) => /^(Bill|Will|Billy|Tom|Tommy|Liz|Beth|Betty|Lizzie|Maggie|Peggy|Meg) /.test(n))).toBe(true);
    expect([...(seen.get('spelling-variant') ?? [])].some((n) => n.endsWith(' Smyth'))).toBe(true);
  }, 30_000);

  it('keep an old surname or address only where the holder knew the resident before the change', () => {
    let oldSurnames = 0;
    for (let i = 0; i < 2000; i++) {
      const { resident, feeds: out } = feedsFor(i);
      for (const feed of out) {
        const family = feed.patient.name?.[0]?.family;
        if (feed.link.flaws.includes('old-surname')) {
          oldSurnames += 1;
          expect(resident.previousFamily).toBeDefined();
          expect(family).toContain('B');
        }
        // The council first saw the resident after the name change (2024-08-01 > 2024-06-01).
        if (feed.kind === 'social-care') expect(feed.link.flaws).not.toContain('old-surname');
        if (feed.link.flaws.includes('old-address')) expect(feed.patient.address?.[0]?.postalCode).toBe(resident.previousAddress?.address.postcode);
      }
    }
    expect(oldSurnames).toBeGreaterThan(0);
  });

  it('typos keep the first letter and change one thing', () => {
    const random = new Random(1, 2);
    for (let i = 0; i < 500; i++) {
      const name = random.pick(['Smith', 'Williams', 'Jones', 'Anne', 'Hall']);
      const wrong = typo(name, random);
      expect(wrong).not.toBe(name);
      expect(wrong[0]).toBe(name[0]);
      expect(Math.abs(wrong.length - name.length)).toBeLessThanOrEqual(1);
    }
  });

  it('respaces hyphenated, spaced and apostrophe names, and leaves others alone', () => {
    const random = new Random(1, 3);
    expect(['OBrien', 'O Brien', 'Obrien']).toContain(respaced("O'Brien", random));
    expect(['Smith Jones', 'SmithJones', 'Jones', 'Smith']).toContain(respaced('Smith-Jones', random));
    expect(respaced('Evans', random)).toBeUndefined();
  });

  it('makes a wrong date of birth that is still a date', () => {
    const random = new Random(1, 4);
    for (const date of ['1950-03-07', '1999-12-31', '2000-02-29', '1961-01-01', '1980-07-20']) {
      for (let i = 0; i < 50; i++) {
        const wrong = wrongBirthDate(date, random);
        expect(wrong).not.toBe(date);
        expect(new Date(`${wrong}T00:00:00Z`).toISOString().slice(0, 10)).toBe(wrong);
      }
    }
  });
});

describe('PATIENT_ELEMENT', () => {
  it('names, for each type, an R4 element that takes a Patient reference', () => {
    for (const [type, element] of Object.entries(PATIENT_ELEMENT)) {
      const patient = { reference: 'Patient/p1' };
      const resource =
        element === 'subject[]' ? { resourceType: type, subject: [patient] } : element === 'participant.actor' ? { resourceType: type, participant: [{ actor: patient, status: 'accepted' }] } : { resourceType: type, [element]: patient };
      const path = `${type}.${element.replace('[]', '').split('.')[0] ?? ''}`;
      const wrong = validateResource(resource).filter((i) => i.expression.startsWith(path));
      expect(wrong, type).toEqual([]);
    }
  });
});

describe('next of kin on the copies', () => {
  it('go on the practice’s and the council’s copies only, valid R4, and change nothing else: demographics, links, records and linkage scores', () => {
    let scored = 0;
    for (let sequence = 0; sequence < 60; sequence++) {
      const resident = testResident(sequence);
      const kin: Resident = { ...testResident(sequence + 1000), family: resident.family, sex: resident.sex === 'female' ? 'male' : 'female' };
      const contact = patientContact({ kin, relationship: kin.sex === 'female' ? 'wife' : 'husband' });
      const records = testRecords(resident);
      const plain = feeds.feedsOf(resident, records, new Random(feeds.seed, sequence));
      const withKin = feeds.feedsOf(resident, records, new Random(feeds.seed, sequence), [contact]);
      expect(withKin.map((f) => f.holder)).toEqual(plain.map((f) => f.holder));
      for (const [i, feed] of withKin.entries()) {
        const before = plain[i] as HolderFeed;
        const { contact: contacts, ...rest } = feed.patient;
        // Every other element of the copy as it was, the same records and the same ground truth.
        expect(rest).toEqual(before.patient);
        expect(before.patient.contact).toBeUndefined();
        expect(feed.records).toEqual(before.records);
        expect(feed.link).toEqual(before.link);
        if (feed.kind === 'gp' || feed.kind === 'social-care') {
          expect(contacts).toEqual([{ relationship: contact.relationship, name: { use: 'official', family: kin.family, given: kin.given }, gender: kin.sex }]);
          expect(validateResource(feed.patient).filter((issue) => issue.severity === 'error')).toEqual([]);
        } else {
          expect(contacts).toBeUndefined();
        }
        // Record linkage reads the same demographics, so every pair of copies scores as it did.
        expect(demographicsOf(feed.patient as Patient)).toEqual(demographicsOf(before.patient));
        for (const other of withKin.slice(i + 1)) {
          const otherBefore = plain[withKin.indexOf(other)] as HolderFeed;
          expect(scorePair(demographicsOf(feed.patient), demographicsOf(other.patient), TYPICAL_NAMES)).toEqual(scorePair(demographicsOf(before.patient), demographicsOf(otherBefore.patient), TYPICAL_NAMES));
          scored += 1;
        }
      }
    }
    expect(scored).toBeGreaterThan(100);
  });
});
