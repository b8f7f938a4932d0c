/**
 * Hand-made inputs for history.ts's tests and benchmark: residents with England's age mix and
 * rough condition prevalence (so activity rates can be compared with the national targets before
 * population.ts's real ones are used), and a way to place held records as feeds.ts would, so
 * they can be validated as FHIR.
 */
import type { Resource } from '@medplum/fhirtypes';
import { type AreaOrganisations, type ConditionKey, type Frailty, type HeldRecord, ODS_SYSTEM, type Resident, type SmokingStatus } from './model.js';
import { fertilityRate } from './activity.js';
import { Random } from './random.js';

export const HISTORY_TEST_AREA: AreaOrganisations = {
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

/** England's population by age band (ONS mid-2021, rounded): [from, to, share]. */
const AGE_MIX: readonly (readonly [number, number, number])[] = [
  [0, 4, 0.054],
  [5, 14, 0.12],
  [15, 24, 0.115],
  [25, 44, 0.265],
  [45, 64, 0.255],
  [65, 74, 0.1],
  [75, 84, 0.066],
  [85, 99, 0.025],
];

/** Rough prevalence by age (QOF 2023-24 registers, by age where published): [from age, share]. */
const PREVALENCE: Readonly<Record<ConditionKey, readonly (readonly [number, number])[]>> = {
  hypertension: [[18, 0.02], [40, 0.15], [60, 0.4], [80, 0.6]],
  diabetes: [[5, 0.003], [18, 0.01], [40, 0.07], [60, 0.15], [80, 0.18]],
  asthma: [[5, 0.07]],
  copd: [[40, 0.02], [60, 0.06], [80, 0.09]],
  chd: [[40, 0.02], [60, 0.08], [80, 0.15]],
  heart_failure: [[60, 0.02], [80, 0.07]],
  atrial_fibrillation: [[60, 0.04], [80, 0.12]],
  stroke_tia: [[60, 0.03], [80, 0.07]],
  ckd: [[60, 0.06], [80, 0.2]],
  dementia: [[65, 0.02], [80, 0.12]],
  depression: [[18, 0.13]],
  smi: [[18, 0.01]],
  cancer: [[40, 0.02], [60, 0.06], [80, 0.09]],
  epilepsy: [[5, 0.008]],
  learning_disability: [[5, 0.005]],
  osteoporosis: [[60, 0.04]],
  obesity: [[18, 0.1]],
};

function prevalence(key: ConditionKey, age: number): number {
  let p = 0;
  for (const [from, share] of PREVALENCE[key]) if (age >= from) p = share;
  return p;
}

function isoDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/**
 * `count` residents with England's age mix, rough condition prevalence by age, frailty for the
 * over-65s, deaths in the window by age, and IMD deciles 1-10 in turn. Deterministic in `seed`.
 */
export function mixedResidents(count: number, seed: number, asOf: string): Resident[] {
  const rnd = new Random(seed, 0);
  const asOfDay = Date.UTC(Number(asOf.slice(0, 4)), Number(asOf.slice(5, 7)) - 1, Number(asOf.slice(8, 10))) / 86_400_000;
  const windowStart = asOfDay - 1826;
  const out: Resident[] = [];
  for (let i = 0; i < count; i++) {
    const band = rnd.weighted(AGE_MIX, AGE_MIX.map((b) => b[2]));
    const age = band[0] + rnd.next() * (band[1] - band[0] + 1);
    const birth = Math.round(asOfDay - age * 365.25);
    const sex = rnd.chance(0.5) ? 'female' : 'male';
    const conditions: { key: ConditionKey; onset: string }[] = [];
    for (const key of Object.keys(PREVALENCE) as ConditionKey[]) {
      if (key === 'osteoporosis' && sex === 'male') continue;
      if (!rnd.chance(prevalence(key, age))) continue;
      const years = Math.min(age - 1, 1 + rnd.next() * 15);
      conditions.push({ key, onset: isoDay(Math.round(asOfDay - years * 365.25)) });
    }
    let frailty: Frailty = 'fit';
    if (age >= 65) {
      const x = rnd.next() + (age >= 80 ? 0.2 : 0) + 0.05 * conditions.length;
      frailty = x < 0.55 ? 'fit' : x < 0.85 ? 'mild' : x < 1.0 ? 'moderate' : 'severe';
    }
    const deathRisk = age >= 85 ? 0.45 : age >= 75 ? 0.2 : age >= 65 ? 0.08 : age >= 45 ? 0.025 : 0.003;
    const dies = rnd.chance(deathRisk);
    const deathDay = Math.max(birth + 1, windowStart + Math.floor(rnd.next() * 1826));
    // Births in the window, as population.ts records them on mothers: drawn from the fertility rates.
    const births: string[] = [];
    if (sex === 'female') {
      let last = -Infinity;
      for (let year = 0; year < 5; year++) {
        const from = windowStart + year * 365;
        const ageThen = (from + 182 - birth) / 365.25;
        if (!rnd.chance(fertilityRate(Math.floor(ageThen)))) continue;
        const day = from + Math.floor(rnd.next() * 365);
        if (day - last < 300 || (dies && day > deathDay)) continue;
        births.push(isoDay(day));
        last = day;
      }
    }
    const smoking: SmokingStatus = age < 16 ? 'never' : rnd.pick<SmokingStatus>(['never', 'never', 'never', 'never', 'ex', 'ex', 'current']);
    out.push({
      id: `R${String(i + 1).padStart(7, '0')}`,
      nhsNumber: '9990000018',
      given: ['Test'],
      family: 'Resident',
      sex,
      birthDate: isoDay(birth),
      ...(dies ? { deathDate: isoDay(deathDay) } : {}),
      ...(births.length > 0 ? { births } : {}),
      address: { line: '1 Test Street', town: 'Worcester', postcode: 'WR1 2AB' },
      lsoa: 'E01032221',
      lad: i % 3 === 0 ? 'E06000019' : 'E07000237',
      imdDecile: 1 + (i % 10),
      council: i % 3 === 0 ? 'E06000019' : 'E10000034',
      ethnicity: 'A',
      practice: i % 2 === 0 ? 'M81001' : 'M81002',
      smoking,
      frailty,
      conditions,
    });
  }
  return out;
}

/** The element that points at the Patient, for the types history.ts makes. */
const PATIENT_ELEMENT: Readonly<Record<string, 'subject' | 'patient'>> = {
  AllergyIntolerance: 'patient',
  CarePlan: 'subject',
  CareTeam: 'subject',
  Condition: 'subject',
  Encounter: 'subject',
  EpisodeOfCare: 'patient',
  Immunization: 'patient',
  MedicationRequest: 'subject',
  Observation: 'subject',
  Procedure: 'subject',
  ServiceRequest: 'subject',
};

/**
 * A resident's held records placed as feeds.ts places them, enough to validate them: an id each,
 * `#key` references rewritten to `Type/id`, the subject or patient pointing at a placeholder
 * Patient, and `reference: "Organization/<code>"` added to every ODS reference.
 */
export function placeForValidation(records: readonly HeldRecord[]): Resource[] {
  const ids = new Map<string, string>();
  for (const [i, r] of records.entries()) ids.set(r.key, `${r.resource.resourceType}/h${i}`);
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = rewrite(v);
    if (typeof obj.reference === 'string' && obj.reference.startsWith('#')) {
      const target = ids.get(obj.reference.slice(1));
      if (target === undefined) throw new Error(`history: reference to an unknown key ${obj.reference}`);
      out.reference = target;
    }
    const identifier = obj.identifier as { system?: string; value?: string } | undefined;
    if (identifier && !Array.isArray(identifier) && identifier.system === ODS_SYSTEM && obj.reference === undefined) {
      out.reference = `Organization/${identifier.value ?? ''}`;
    }
    return out;
  };
  return records.map((r, i) => {
    const placed = rewrite(r.resource) as Record<string, unknown>;
    placed.id = `h${i}`;
    const element = PATIENT_ELEMENT[r.resource.resourceType];
    if (element === undefined) throw new Error(`history: no patient element known for ${r.resource.resourceType}`);
    placed[element] = { reference: 'Patient/p1' };
    return placed as unknown as Resource;
  });
}
