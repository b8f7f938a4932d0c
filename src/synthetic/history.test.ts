import type { AllergyIntolerance, CarePlan, CareTeam, Encounter, EpisodeOfCare, Extension, Observation, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../fhir/definitions.js';
import { loadValidation, validateResource } from '../fhir/validate.js';
import { ActivityMeasurer } from './activity-measure.js';
import { ACTIVITY_TARGETS } from './activity.js';
import { ALLERGY_CODES, ASC_SERVICES, CARE_SERVICES, CARE_TEAM_ROLES, CONDITION_VARIANTS, EXT_RTT_PERIOD_STATUS, FRAILTY_FINDING, MEDICINES, OBSERVATIONS, RTT_STATUS_CODES, RTT_STOP_CODES } from './codes.js';
import { HISTORY_TEST_AREA, mixedResidents, placeForValidation } from './history-testing.js';
import { dayNumber, historyOf, isoDate } from './history.js';

// Generating and validating thousands of histories takes seconds, more on a busy machine.
const SLOW = 120_000;
import { DEFAULT_AS_OF, type HeldRecord, ODS_SYSTEM, type Resident } from './model.js';
import { ageOn } from './population.js';
import { tolerance } from './prevalence.js';
import { Random } from './random.js';

const AS_OF = DEFAULT_AS_OF;
const WINDOW_START = '2021-10-31';
const residents = mixedResidents(5000, 11, AS_OF);
const histories = residents.map((r, i) => historyOf(r, HISTORY_TEST_AREA, new Random(42, i), AS_OF));
const PENICILLIN_CODES = new Set([ALLERGY_CODES.penicillin.coding?.[0]?.code, ALLERGY_CODES.amoxicillin.coding?.[0]?.code]);

const pairs = residents.map((r, i) => [r, histories[i] as HeldRecord[]] as const);

function rttStatus(resource: { extension?: Extension[] }): string | undefined {
  return resource.extension?.find((e) => e.url === EXT_RTT_PERIOD_STATUS)?.valueCodeableConcept?.coding?.[0]?.code;
}

/** Every date an event happened on (not expiry dates or validity ends of authorisations). */
function eventDates(resource: Resource): string[] {
  const r = resource as unknown as Record<string, unknown> & { period?: { start?: string; end?: string } };
  const dates: string[] = [];
  for (const field of ['effectiveDateTime', 'occurrenceDateTime', 'authoredOn', 'performedDateTime', 'recordedDate', 'recorded']) {
    const v = r[field];
    if (typeof v === 'string') dates.push(v.slice(0, 10));
  }
  // A stopped or superseded authorisation ends when it stopped; an active one runs to its expiry.
  const validity = (r.dispenseRequest as { validityPeriod?: { end?: string } } | undefined)?.validityPeriod;
  if (validity?.end && r.status !== 'active') dates.push(validity.end.slice(0, 10));
  if (r.period?.start) dates.push(r.period.start.slice(0, 10));
  if (r.period?.end) dates.push(r.period.end.slice(0, 10));
  return dates;
}

describe('historyOf', () => {
  beforeAll(() => {
    loadFhirDefinitions();
    loadValidation();
  });

  it('makes records that are valid FHIR R4 once placed, for 3,000 residents', () => {
    let resources = 0;
    const errors: string[] = [];
    for (const records of histories.slice(0, 3000)) {
      for (const resource of placeForValidation(records)) {
        resources += 1;
        for (const issue of validateResource(resource)) {
          if (issue.severity === 'error' && errors.length < 10) errors.push(`${issue.expression}: ${issue.message}`);
        }
      }
    }
    expect(errors).toEqual([]);
    expect(resources).toBeGreaterThan(100_000);
  }, SLOW);

  it('gives the same records for the same resident and seed, and different ones for another seed', () => {
    for (const i of [0, 17, 123, 999]) {
      const r = residents[i] as Resident;
      expect(historyOf(r, HISTORY_TEST_AREA, new Random(42, i), AS_OF)).toEqual(histories[i]);
    }
    const r = residents.find((x) => x.conditions.length > 2) as Resident;
    expect(historyOf(r, HISTORY_TEST_AREA, new Random(43, 0), AS_OF)).not.toEqual(historyOf(r, HISTORY_TEST_AREA, new Random(42, 0), AS_OF));
  });

  it('gives each record a key unique within the resident, and every local reference resolves', () => {
    for (const records of histories.slice(0, 1000)) {
      const keys = new Set(records.map((r) => r.key));
      expect(keys.size).toBe(records.length);
      const json = JSON.stringify(records.map((r) => r.resource));
      for (const m of json.matchAll(/"reference":"#([^"]+)"/g)) expect(keys.has(m[1] as string)).toBe(true);
    }
  }, SLOW);

  it('puts each record with the organisation that holds it', () => {
    const trusts = new Set(['RWP', 'RLQ']);
    const wrong: string[] = [];
    for (const [r, records] of pairs) {
      for (const rec of records) {
        const type = rec.resource.resourceType;
        const cls = type === 'Encounter' ? (rec.resource).class.code : undefined;
        const expected =
          type === 'MedicationRequest' || type === 'Immunization' || type === 'Observation'
            ? rec.holder === r.practice
            : type === 'ServiceRequest' || type === 'Procedure' || cls === 'EMER' || cls === 'IMP'
              ? trusts.has(rec.holder)
              : cls === 'FLD'
                ? rec.holder === 'RYA'
                : true;
        if (!expected) wrong.push(`${type} ${cls ?? ''} at ${rec.holder}`);
      }
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  }, SLOW);

  it('gives people with diabetes HbA1c results and diabetes medicines', () => {
    const diabetes = new Set([CONDITION_VARIANTS.diabetes[0]?.snomed.code, CONDITION_VARIANTS.diabetes[1]?.snomed.code]);
    const medicines = new Set([MEDICINES.metformin, MEDICINES.gliclazide, MEDICINES.empagliflozin, MEDICINES.insulinGlargine].map((m) => m.code.coding?.[0]?.code));
    let diabetics = 0;
    let onMedicine = 0;
    for (const [r, records] of pairs) {
      const hasDiabetes = r.conditions.some((c) => c.key === 'diabetes');
      const problem = records.some((x) => x.resource.resourceType === 'Condition' && diabetes.has(x.resource.code?.coding?.[0]?.code));
      expect(problem).toBe(hasDiabetes && r.conditions.some((c) => c.key === 'diabetes' && c.onset <= (r.deathDate ?? AS_OF)));
      if (!problem || (r.deathDate !== undefined && r.deathDate < '2022-06-01')) continue;
      diabetics += 1;
      const hba1c = records.filter((x) => x.resource.resourceType === 'Observation' && x.resource.code.coding?.[0]?.code === OBSERVATIONS.hba1c.code.coding?.[0]?.code);
      expect(hba1c.length).toBeGreaterThan(0);
      if (records.some((x) => x.resource.resourceType === 'MedicationRequest' && medicines.has((x.resource).medicationCodeableConcept?.coding?.[0]?.code))) onMedicine += 1;
    }
    expect(diabetics).toBeGreaterThan(200);
    expect(onMedicine / diabetics).toBeGreaterThan(0.85);
  });

  it('puts allergy labels on the GP record at the published level (penicillin 5.9% of adults)', () => {
    let adults = 0;
    let penicillin = 0;
    for (const [r, records] of pairs) {
      const allergies = records.filter((x) => x.resource.resourceType === 'AllergyIntolerance');
      for (const a of allergies) {
        expect(a.holder).toBe(r.practice);
        const resource = a.resource as AllergyIntolerance;
        expect(resource.clinicalStatus?.coding?.[0]?.code).toBe('active');
        expect(resource.reaction?.[0]?.manifestation.length).toBe(1);
        // Recorded in the resident's life, before the end of the window.
        expect(resource.recordedDate! >= r.birthDate && resource.recordedDate! <= (r.deathDate ?? AS_OF)).toBe(true);
      }
      if (r.deathDate !== undefined || ageOn(r.birthDate, AS_OF) < 18) continue;
      adults += 1;
      if (allergies.some((a) => PENICILLIN_CODES.has((a.resource as AllergyIntolerance).code?.coding?.[0]?.code))) penicillin += 1;
    }
    expect(adults).toBeGreaterThan(3000);
    expect(Math.abs(penicillin / adults - 0.059)).toBeLessThan(tolerance(0.059, adults));
  });

  it('gives clopidogrel, not aspirin, to someone with coronary heart disease labelled allergic to aspirin', () => {
    const aspirin = MEDICINES.aspirin.code.coding?.[0]?.code;
    const clopidogrel = MEDICINES.clopidogrel.code.coding?.[0]?.code;
    const withChd = residents.filter((r) => r.deathDate === undefined && r.conditions.some((c) => c.key === 'chd'));
    let found = 0;
    let onClopidogrel = 0;
    for (let seed = 0; seed < 6000 && found < 10; seed++) {
      const r = withChd[seed % withChd.length] as Resident;
      const records = historyOf(r, HISTORY_TEST_AREA, new Random(seed, 7), AS_OF);
      const labelled = records.some((x) => x.resource.resourceType === 'AllergyIntolerance' && x.resource.code?.coding?.[0]?.code === ALLERGY_CODES.salicylate.coding?.[0]?.code);
      const medicines = records.flatMap((x) => (x.resource.resourceType === 'MedicationRequest' ? [x.resource.medicationCodeableConcept?.coding?.[0]?.code] : []));
      if (!labelled) continue;
      found += 1;
      expect(medicines).not.toContain(aspirin);
      if (medicines.includes(clopidogrel)) onClopidogrel += 1;
    }
    expect(found).toBe(10);
    // 85% of people with CHD are on aspirin (history.ts PLANS); those labelled get clopidogrel.
    expect(onClopidogrel).toBeGreaterThanOrEqual(6);
  });

  it('shows eGFR falling in chronic kidney disease', () => {
    // eGFR varies by about 5% from test to test, so over a few results a single person's line can
    // rise by chance; nearly all must fall, and the typical fall must be clear.
    const egfrCode = OBSERVATIONS.egfr.code.coding?.[0]?.code;
    const slopes: number[] = [];
    for (const [r, records] of pairs) {
      if (!r.conditions.some((c) => c.key === 'ckd')) continue;
      const points = records
        .filter((x) => x.resource.resourceType === 'Observation' && x.resource.code.coding?.[0]?.code === egfrCode)
        .map((x) => [dayNumber((x.resource as Observation).effectiveDateTime ?? ''), (x.resource as Observation).valueQuantity?.value ?? 0] as const)
        .sort((a, b) => a[0] - b[0]);
      if (points.length < 4 || (points.at(-1)?.[0] ?? 0) - (points[0]?.[0] ?? 0) < 730) continue;
      const mx = points.reduce((s, p) => s + p[0], 0) / points.length;
      const my = points.reduce((s, p) => s + p[1], 0) / points.length;
      const slope = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
      slopes.push(slope * 365.25);
    }
    expect(slopes.length).toBeGreaterThan(50);
    expect(slopes.filter((s) => s < 0).length / slopes.length).toBeGreaterThan(0.9);
    slopes.sort((a, b) => a - b);
    expect(slopes[Math.floor(slopes.length / 2)]).toBeLessThan(-1);
  });

  it('has nothing happen after death, before birth or outside the window (apart from problems and medicines begun earlier)', () => {
    const wrong: string[] = [];
    for (const [r, records] of pairs) {
      const last = r.deathDate !== undefined && r.deathDate < AS_OF ? r.deathDate : AS_OF;
      for (const rec of records) {
        const type = rec.resource.resourceType;
        const inWindow = type === 'Encounter' || type === 'Immunization' || type === 'Observation' || type === 'Procedure';
        for (const date of eventDates(rec.resource)) {
          if (date > last || date < r.birthDate || (inWindow && date < WINDOW_START)) wrong.push(`${r.id} ${type} on ${date}`);
        }
      }
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  }, SLOW);

  it('ends some deaths in hospital, and nobody is admitted as a child for COPD', () => {
    let died = 0;
    for (const [r, records] of pairs) {
      for (const rec of records) {
        if (rec.resource.resourceType !== 'Encounter') continue;
        const e = rec.resource;
        if (e.hospitalization?.dischargeDisposition?.coding?.some((c) => c.code === 'exp')) {
          died += 1;
          expect(e.period?.end?.slice(0, 10)).toBe(r.deathDate);
        }
      }
      const childCopd = records.some(
        (x) =>
          x.resource.resourceType === 'Condition' &&
          x.resource.code?.coding?.some((c) => c.code === 'J44.1') === true &&
          (x.resource.recordedDate ?? '') < isoDate(dayNumber(r.birthDate) + 18 * 365),
      );
      expect(childCopd).toBe(false);
    }
    expect(died).toBeGreaterThan(50);
  });

  it('keeps activity rates within the tolerances of the published targets (5,000 residents)', () => {
    const m = new ActivityMeasurer(AS_OF);
    for (const [r, records] of pairs) m.add(r, records);
    const measured = m.result();
    const misses: string[] = [];
    for (const [name, target] of Object.entries(ACTIVITY_TARGETS)) {
      const value = measured[name as keyof typeof ACTIVITY_TARGETS];
      if (Math.abs(value - target.value) > target.tolerance) misses.push(`${name}: ${value.toFixed(4)} (target ${target.value} ± ${target.tolerance})`);
    }
    expect(misses).toEqual([]);
  });

  it('has a waiting list whose waits look like a real trust (median, 18 and 52 weeks)', () => {
    // More residents for a steadier tail: 20,000 give about 2,000 open pathways.
    const more = mixedResidents(15_000, 12, AS_OF);
    const m = new ActivityMeasurer(AS_OF);
    for (const [r, records] of pairs) m.add(r, records);
    more.forEach((r, i) => m.add(r, historyOf(r, HISTORY_TEST_AREA, new Random(7, i), AS_OF)));
    const result = m.result();
    expect(m.waits.length).toBeGreaterThan(1500);
    expect(Math.abs(result.medianWaitWeeks - ACTIVITY_TARGETS.medianWaitWeeks.value)).toBeLessThanOrEqual(ACTIVITY_TARGETS.medianWaitWeeks.tolerance);
    expect(Math.abs(result.within18WeeksShare - ACTIVITY_TARGETS.within18WeeksShare.value)).toBeLessThanOrEqual(ACTIVITY_TARGETS.within18WeeksShare.tolerance);
    expect(Math.abs(result.over52WeeksShare - ACTIVITY_TARGETS.over52WeeksShare.value)).toBeLessThanOrEqual(ACTIVITY_TARGETS.over52WeeksShare.tolerance);
    expect(Math.max(...m.waits)).toBeGreaterThan(78 * 7); // a long tail
  }, SLOW);

  it('uses only national RTT status codes, with stops that agree with their dates', () => {
    const national = new Set<string>(RTT_STATUS_CODES);
    const stops = new Set<string>(RTT_STOP_CODES);
    const seen = new Set<string>();
    for (const [r, records] of pairs) {
      const byKey = new Map(records.map((x) => [x.key, x.resource]));
      for (const rec of records) {
        const code = rttStatus(rec.resource as { extension?: Extension[] });
        if (code === undefined) continue;
        expect(national.has(code)).toBe(true);
        seen.add(code);
        if (rec.resource.resourceType !== 'EpisodeOfCare') continue;
        const ep = rec.resource;
        const activities = records.filter((x) => x.resource.resourceType === 'Encounter' && (x.resource).episodeOfCare?.[0]?.reference === `#${rec.key}`);
        if (ep.status === 'waitlist') {
          expect(ep.period?.end).toBeUndefined();
          expect(stops.has(code)).toBe(false);
          continue;
        }
        expect(ep.status).toBe('finished');
        expect(stops.has(code)).toBe(true);
        const end = ep.period?.end as string;
        expect(end >= (ep.period?.start as string)).toBe(true);
        if (code === '36') {
          expect(end).toBe(r.deathDate);
          continue;
        }
        // The activity that stopped the clock carries the stop code and happened on the stop date.
        const stopping = activities.filter((x) => rttStatus(x.resource as Encounter) === code);
        expect(stopping.length, `pathway stopped ${code} with no activity`).toBe(1);
        const activity = stopping[0]?.resource as Encounter;
        expect(activity.period?.start?.slice(0, 10)).toBe(end);
        if (code === '33') expect(activity.status).toBe('cancelled');
        // No pathway activity after its clock stopped.
        for (const a of activities) expect(((a.resource as Encounter).period?.start ?? '').slice(0, 10) <= end).toBe(true);
        expect(byKey.get((ep.referralRequest?.[0]?.reference ?? '').slice(1))?.resourceType).toBe('ServiceRequest');
      }
    }
    for (const code of ['10', '20', '30', '31', '32', '33', '34', '35', '36']) expect(seen.has(code), `status ${code} never used`).toBe(true);
  }, SLOW);

  it('refers to organisations by ODS code', () => {
    const json = JSON.stringify(histories.slice(0, 200).map((h) => h.map((r) => r.resource)));
    expect(json).toContain(`"system":"${ODS_SYSTEM}","value":"RWP"`);
    expect(json).not.toContain('"reference":"Organization/');
  });
});

const CARE_TYPES = new Set(['CareTeam', 'CarePlan']);
const code = (concept: { coding?: { code?: string }[] } | undefined): string | undefined => concept?.coding?.[0]?.code;
const CMHT = code(CARE_SERVICES.communityMentalHealth);
const DISTRICT_NURSING = code(CARE_SERVICES.districtNursing);
const LONG_TERM_CARE = new Set([ASC_SERVICES.homeCare, ASC_SERVICES.residentialCare, ASC_SERVICES.nursingCare, ASC_SERVICES.directPayment].map((c) => code(c)));
const ROLE = { careCoordinator: code(CARE_TEAM_ROLES.careCoordinator), districtNurse: code(CARE_TEAM_ROLES.districtNurse), socialWorker: code(CARE_TEAM_ROLES.socialWorker) };

describe('historyOf: care teams and care plans', () => {
  /** The records of one holder of a type, by key. */
  const held = <T extends Resource>(records: readonly HeldRecord[], type: string, holder?: string): Array<{ key: string; holder: string; resource: T }> =>
    records.filter((x) => x.resource.resourceType === type && (holder === undefined || x.holder === holder)).map((x) => ({ key: x.key, holder: x.holder, resource: x.resource as T }));
  const target = (reference: string | undefined): string => (reference ?? '').replace(/^#/, '');

  it('adds them after every other record and moves none of those (the same as a history made without them)', () => {
    let added = 0;
    for (const [i, r] of residents.entries()) {
      const records = histories[i] as HeldRecord[];
      const without = historyOf(r, HISTORY_TEST_AREA, new Random(42, i), AS_OF, { careRecords: false });
      const first = records.findIndex((x) => CARE_TYPES.has(x.resource.resourceType));
      const others = first < 0 ? records : records.slice(0, first);
      // Byte for byte: keys, holders and resources, in order; and the new records only at the end.
      if (JSON.stringify(others) !== JSON.stringify(without)) expect.fail(`${r.id}: the records before the care teams and plans changed`);
      expect(records.slice(others.length).every((x) => CARE_TYPES.has(x.resource.resourceType))).toBe(true);
      expect(without.some((x) => CARE_TYPES.has(x.resource.resourceType))).toBe(false);
      added += records.length - others.length;
    }
    expect(added).toBeGreaterThan(200);
  }, SLOW);

  it('gives everyone with SMI on the community mental health team’s caseload a care team with a care coordinator, and a care plan, at the mental health trust', () => {
    let checked = 0;
    for (const [r, records] of pairs) {
      const keys = new Set(r.conditions.map((c) => c.key));
      const teams = held<CareTeam>(records, 'CareTeam').filter((t) => t.resource.name === 'Community mental health team');
      const plans = held<CarePlan>(records, 'CarePlan').filter((p) => p.resource.title === 'Community mental health care plan');
      // Nobody without SMI has one.
      if (!keys.has('smi')) {
        expect(teams.length + plans.length).toBe(0);
        continue;
      }
      for (const t of teams) {
        expect(t.holder).toBe('R1A');
        expect(t.resource.participant?.map((p) => code(p.role?.[0]))).toContain(ROLE.careCoordinator);
        expect(t.resource.participant?.every((p) => (p.member?.display ?? '').length > 3)).toBe(true);
      }
      // With SMI alone (no depression, no new dementia), every CMHT episode is the SMI caseload's.
      if (keys.has('depression') || keys.has('dementia')) continue;
      const episodes = held<EpisodeOfCare>(records, 'EpisodeOfCare').filter((e) => code(e.resource.type?.[0]) === CMHT);
      expect(plans).toHaveLength(episodes.length);
      expect(teams).toHaveLength(episodes.length);
      for (const e of episodes) {
        const plan = plans.find((p) => target(p.resource.supportingInfo?.[0]?.reference) === e.key);
        if (plan === undefined) expect.fail(`${r.id}: a CMHT episode with no care plan`);
        expect(plan.holder).toBe(e.holder);
        expect(plan.resource).toMatchObject({ intent: 'plan', status: e.resource.status === 'active' ? 'active' : 'completed', period: { start: e.resource.period?.start } });
        const team = teams.find((t) => t.key === target(plan.resource.careTeam?.[0]?.reference));
        expect(team?.resource.period?.start).toBe(e.resource.period?.start);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('gives a council care and support plan and social worker to each long-term social care service, and to nobody else', () => {
    let plansSeen = 0;
    for (const [r, records] of pairs) {
      const council = held<EpisodeOfCare>(records, 'EpisodeOfCare', r.council);
      const longTerm = council.filter((e) => LONG_TERM_CARE.has(code(e.resource.type?.[0])));
      const plans = held<CarePlan>(records, 'CarePlan', r.council);
      const teams = held<CareTeam>(records, 'CareTeam', r.council);
      expect(plans.map((p) => target(p.resource.supportingInfo?.[0]?.reference)).sort()).toEqual(longTerm.map((e) => e.key).sort());
      expect(teams).toHaveLength(longTerm.length);
      for (const t of teams) expect(code(t.resource.participant?.[0]?.role?.[0])).toBe(ROLE.socialWorker);
      for (const p of plans) expect(p.resource.title).toBe('Care and support plan');
      plansSeen += plans.length;
    }
    expect(plansSeen).toBeGreaterThan(20);
  });

  it('gives each district nursing episode its team with a named district nurse, held by the community trust', () => {
    let teamsSeen = 0;
    for (const [, records] of pairs) {
      const episodes = held<EpisodeOfCare>(records, 'EpisodeOfCare').filter((e) => code(e.resource.type?.[0]) === DISTRICT_NURSING);
      const teams = held<CareTeam>(records, 'CareTeam').filter((t) => t.resource.name === 'District nursing team');
      expect(teams.map((t) => `${t.holder} ${t.resource.period?.start} ${t.resource.status}`).sort()).toEqual(episodes.map((e) => `${e.holder} ${e.resource.period?.start} ${e.resource.status === 'active' ? 'active' : 'inactive'}`).sort());
      for (const t of teams) expect(code(t.resource.participant?.[0]?.role?.[0])).toBe(ROLE.districtNurse);
      teamsSeen += teams.length;
    }
    expect(teamsSeen).toBeGreaterThan(50);
  });

  it('makes the GP’s proactive care teams and advance care plans only for severe frailty, and end-of-life care plans only for people who died', () => {
    const severeFinding = code(FRAILTY_FINDING.severe);
    let gpRecords = 0;
    for (const [r, records] of pairs) {
      for (const x of records.filter((y) => CARE_TYPES.has(y.resource.resourceType) && y.holder === r.practice)) {
        gpRecords += 1;
        const title = x.resource.resourceType === 'CarePlan' ? (x.resource).title : (x.resource as CareTeam).name;
        if (title === 'End of life care plan') {
          expect(r.deathDate).toBeDefined();
          expect((x.resource as CarePlan).period?.end).toBe(r.deathDate);
          continue;
        }
        expect(r.frailty).toBe('severe');
        // It refers to the practice's own severe frailty finding.
        const reason = target(x.resource.resourceType === 'CarePlan' ? (x.resource).addresses?.[0]?.reference : (x.resource as CareTeam).reasonReference?.[0]?.reference);
        const finding = records.find((y) => y.key === reason);
        expect(finding?.holder).toBe(r.practice);
        expect(code((finding?.resource as { code?: { coding?: { code?: string }[] } }).code)).toBe(severeFinding);
      }
    }
    expect(gpRecords).toBeGreaterThan(10);
  });
});
