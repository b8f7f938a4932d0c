/**
 * Small hand-made inputs for the feeds stage's tests: an area with one organisation of each kind
 * and residents whose records touch every kind of holder, so feeds.ts and the writer can be tested
 * on their own, apart from the population and history stages.
 */
import type { Resource } from '@medplum/fhirtypes';
import { type AreaOrganisations, type HeldRecord, type Resident, odsReference, ref } from './model.js';

export const TEST_AREA: AreaOrganisations = {
  icb: { code: 'QGH', name: 'NHS Herefordshire and Worcestershire Integrated Care Board' },
  practices: [
    { code: 'M81001', name: 'Test Practice One', postcode: 'WR1 1AA', lad: 'E07000237', listSize: 12000 },
    { code: 'M81002', name: 'Test Practice Two', postcode: 'HR1 1AA', lad: 'E06000019', listSize: 8000 },
  ],
  acuteTrusts: [
    { code: 'RWP', name: 'Worcestershire Acute Hospitals NHS Trust', share: 0.7 },
    { code: 'RLQ', name: 'Wye Valley NHS Trust', share: 0.3 },
  ],
  communityTrust: { code: 'R1A', name: 'Herefordshire and Worcestershire Health and Care NHS Trust' },
  mentalHealthTrust: { code: 'R1A', name: 'Herefordshire and Worcestershire Health and Care NHS Trust' },
  ambulanceTrust: { code: 'RYA', name: 'West Midlands Ambulance Service University NHS Foundation Trust' },
  councils: [
    { code: 'E10000034', name: 'Worcestershire County Council' },
    { code: 'E06000019', name: 'Herefordshire Council' },
  ],
};

/** A valid test-range NHS number from a sequence number (Modulus 11, 999 000 0000 upwards). */
export function testNhsNumber(sequence: number): string {
  for (let n = sequence * 11; ; n++) {
    const nine = String(999_000_000 + (n % 1_000_000)).padStart(9, '0');
    let sum = 0;
    for (let i = 0; i < 9; i++) sum += Number(nine[i]) * (10 - i);
    const check = (11 - (sum % 11)) % 11;
    if (check !== 10) return `${nine}${check}`;
  }
}

const GIVEN = [['William', 'James'], ['Margaret'], ['Mary-Jane', 'Rose'], ['Thomas'], ['Elizabeth', 'Anne'], ['Zoë']];
const FAMILY = ['Smith', "O'Brien", 'Smith-Jones', 'Evans', 'Van Der Berg'];

/** A resident as population.ts would make one; every fifth has moved, changed name and died. */
export function testResident(sequence: number): Resident {
  const changed = sequence % 5 === 0;
  return {
    id: `R${String(sequence).padStart(7, '0')}`,
    nhsNumber: testNhsNumber(sequence),
    given: GIVEN[sequence % GIVEN.length] ?? ['Test'],
    family: FAMILY[sequence % FAMILY.length] ?? 'Test',
    ...(changed ? { previousFamily: { family: 'Baker', until: '2024-06-01' } } : {}),
    sex: sequence % 2 === 0 ? 'female' : 'male',
    birthDate: `19${String(30 + (sequence % 60)).padStart(2, '0')}-0${1 + (sequence % 9)}-${String(1 + (sequence % 28)).padStart(2, '0')}`,
    ...(changed ? { deathDate: '2026-03-04' } : {}),
    address: { line: `${1 + (sequence % 90)} Mill Lane`, town: 'Worcester', postcode: 'WR1 2AB' },
    ...(changed ? { previousAddress: { address: { line: '3 Old Road', town: 'Malvern', postcode: 'WR14 1AA' }, until: '2024-01-01' } } : {}),
    lsoa: 'E01032221',
    lad: 'E07000237',
    imdDecile: 1 + (sequence % 10),
    council: 'E10000034',
    ethnicity: 'A',
    practice: sequence % 2 === 0 ? 'M81001' : 'M81002',
    smoking: 'never',
    frailty: 'fit',
    conditions: [],
  };
}

/** A record as history.ts makes it: without the subject/patient that feeds.ts adds. */
function unplaced(resource: { resourceType: string } & Record<string, unknown>): Resource {
  return resource as unknown as Resource;
}

/** Records at every kind of holder, referring to each other and to organisations as history.ts does. */
export function testRecords(resident: Resident): HeldRecord[] {
  const gp = resident.practice;
  const records: HeldRecord[] = [
    {
      holder: gp,
      key: 'gp-enc-1',
      resource: unplaced({
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
        period: { start: '2023-02-01T09:10:00Z', end: '2023-02-01T09:20:00Z' },
        serviceProvider: odsReference(gp),
      }),
    },
    {
      holder: gp,
      key: 'gp-bp-1',
      resource: unplaced({
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006', display: 'Systolic blood pressure' }] },
        effectiveDateTime: '2023-02-01T09:15:00Z',
        encounter: ref('gp-enc-1'),
        valueQuantity: { value: 138, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
      }),
    },
    {
      holder: gp,
      key: 'gp-imm-1',
      resource: unplaced({
        resourceType: 'Immunization',
        status: 'completed',
        vaccineCode: { coding: [{ system: 'http://snomed.info/sct', code: '1324681000000101', display: 'Administration of first dose of SARS-CoV-2 vaccine' }] },
        occurrenceDateTime: '2021-03-01',
        encounter: ref('gp-enc-1'),
      }),
    },
    {
      holder: 'RWP',
      key: 'ae-1',
      resource: unplaced({
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER', display: 'emergency' },
        period: { start: '2022-11-05T22:00:00Z', end: '2022-11-06T02:30:00Z' },
        serviceProvider: odsReference('RWP', 'Worcestershire Acute Hospitals NHS Trust'),
      }),
    },
    {
      holder: 'RWP',
      key: 'ae-1-proc',
      resource: unplaced({
        resourceType: 'Procedure',
        status: 'completed',
        code: { coding: [{ system: 'http://snomed.info/sct', code: '225358003', display: 'Wound care' }] },
        performedDateTime: '2022-11-05T23:00:00Z',
        encounter: ref('ae-1'),
      }),
    },
    {
      holder: 'R1A',
      key: 'dn-1',
      resource: unplaced({
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HH', display: 'home health' },
        period: { start: '2024-05-01T10:00:00Z' },
        serviceProvider: odsReference('R1A'),
      }),
    },
    {
      holder: 'RYA',
      key: 'amb-1',
      resource: unplaced({
        resourceType: 'Encounter',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'FLD', display: 'field' },
        period: { start: '2025-07-09T14:00:00Z' },
        serviceProvider: odsReference('RYA'),
        hospitalization: { destination: odsReference('RWP', 'Worcestershire Royal Hospital') },
      }),
    },
    {
      holder: resident.council,
      key: 'asc-1',
      resource: unplaced({
        resourceType: 'ServiceRequest',
        status: 'completed',
        intent: 'order',
        code: { text: 'Adult social care needs assessment' },
        authoredOn: '2024-08-01',
        requester: odsReference(resident.council),
      }),
    },
  ];
  return records;
}
