/**
 * The history stage: one resident's five years of care (to `asOf`), as the records each partner
 * organisation's system holds, in FHIR R4 shape (`HeldRecord`: no id, no subject; feeds.ts places
 * them). Problems and repeat medicines that started before the window keep their real start.
 *
 * Who holds what:
 * - the registered GP practice: the problem list (Condition, SNOMED CT, category
 *   problem-list-item) with the frailty finding, allergy labels (AllergyIntolerance: penicillin,
 *   aspirin, peanut; prevalence.ts ALLERGIES), consultations (Encounter AMB), repeat medicines,
 *   observations (blood pressure, HbA1c, eGFR, BMI, weight, height, smoking status) and
 *   immunisations;
 * - an acute trust of the resident's district (geography.ts's shares, drawn per episode):
 *   A&E attendances (Encounter EMER, ECDS chief complaint and diagnosis), emergency and elective
 *   admissions (Encounter IMP with admission method, discharge destination and method, ICD-10
 *   diagnoses as Conditions, OPCS-4 Procedures), outpatient attendances, referrals
 *   (ServiceRequest) and RTT pathways (EpisodeOfCare), maternity care and births;
 * - the community trust: district nursing (EpisodeOfCare + home visit Encounters, class HH);
 * - the mental health trust: community mental health team, talking therapies and memory
 *   assessment episodes (EpisodeOfCare + Encounters);
 * - the council: adult social care as EpisodeOfCare per service (home care, residential or
 *   nursing care, direct payment, reablement: the ASC Client Level Data service types) with
 *   assessment and review Encounters (the shape shared care records give social care feeds);
 * - the ambulance trust: incidents (Encounter class FLD, "field": the crew sees the patient where
 *   they are), with the response category and whether the patient was conveyed (then an A&E
 *   attendance follows at the acute trust);
 * - care teams and care plans (CareTeam, CarePlan), last, from their own sub-stream: the mental
 *   health trust's community mental health team and care plan for SMI on its caseload, the
 *   district nursing team, the council's social worker and care and support plan, and the GP's
 *   proactive care team, advance care plan and end-of-life care plan (see careRecords).
 *
 * Shapes chosen where the brief left a choice:
 * - Repeat medicines are one MedicationRequest (intent order, courseOfTherapyType continuous) per
 *   authorisation: a new one (with priorPrescription) at each annual re-authorisation. The issues
 *   made under an authorisation are counted in UK Core's MedicationRepeatInformation extension
 *   (numberOfPrescriptionsIssued, authorisationExpiryDate) rather than written one record each,
 *   which would be 13 records a year a medicine.
 * - An RTT pathway is an EpisodeOfCare (status waitlist while the clock runs, finished when it
 *   stops; period = clock start to stop) identified by its PPID (assigner: the trust), with the
 *   RTT period status and, once a decision to admit is made, the clinical priority (P-code) as
 *   extensions; its referral is a ServiceRequest (referralRequest) with the same PPID and a UBRN;
 *   its attendances and admission carry their own RTT status and `basedOn` the referral.
 * - A death in hospital ends the last admission with discharge destination 79 and disposition
 *   `exp`; nothing happens after `deathDate` (the Patient's deceased date is feeds.ts's).
 *
 * Rates come from activity.ts, codes from codes.ts. Everything is drawn from `random` only.
 * Performance: about 100 records per resident; all code objects are shared frozen constants,
 * dates are day numbers turned into strings through a cache.
 */
import type {
  AllergyIntolerance,
  CarePlan,
  CareTeam,
  CareTeamParticipant,
  CodeableConcept,
  Condition,
  Encounter,
  EncounterDiagnosis,
  EpisodeOfCare,
  Extension,
  Immunization,
  MedicationRequest,
  Observation,
  Organization,
  Procedure,
  Quantity,
  Reference,
  ServiceRequest,
} from '@medplum/fhirtypes';
import {
  ADMISSION_VIA_ED_SHARE,
  CAESAREAN_SHARE,
  CARE_PLANNING,
  CLINICAL_PRIORITY_SHARES,
  CONDITION_OUTPATIENT_RATE,
  DISTRICT_NURSING,
  GP_TELEPHONE_SHARE,
  HEAR_AND_TREAT_SHARE,
  IN_HOSPITAL_DEATH_SHARE,
  MENTAL_HEALTH,
  NON_ADMITTED_STOP_SHARES,
  NOT_CONVEYED_PER_CONVEYED,
  PRIORITY_TYPE_SHARES,
  type RiskProfile,
  SOCIAL_CARE,
  WAIT_COMPONENTS,
  conveyedShare,
  edAttendanceRate,
  emergencyAdmissionRate,
  fertilityRate,
  frailtyIndex,
  gpConsultationRate,
  outpatientBaseRate,
  referralRate,
} from './activity.js';
import {
  ADMISSION_METHOD,
  ALLERGY_ACTIVE,
  ALLERGY_CODES,
  ALLERGY_CONFIRMED,
  ALLERGY_REACTIONS,
  ADMISSION_REASONS,
  ADMIT_SOURCE_BIRTH,
  ADMIT_SOURCE_HOME,
  AMBULANCE_CATEGORIES,
  AMBULANCE_OUTCOMES,
  ASC_ACTIVITIES,
  ASC_SERVICES,
  type AdmissionReason,
  CARE_PLAN_CATEGORIES,
  CARE_SERVICES,
  CARE_TEAM_ROLES,
  CATEGORY_DIAGNOSIS,
  CATEGORY_PROBLEM,
  CLINICAL_ACTIVE,
  CLINICAL_PRIORITY_EXTENSION,
  CLINICAL_RESOLVED,
  CLINIC_FUNCTIONS,
  CONDITION_VARIANTS,
  COURSE_CONTINUOUS,
  type ClinicalPriorityCode,
  type ConditionVariant,
  DELIVERY_DIAGNOSIS,
  DIAGNOSIS_ADMISSION,
  DIAGNOSIS_PRIMARY,
  DISCHARGE,
  DISCHARGE_METHOD,
  ED_DISPOSAL,
  ED_PRESENTATIONS,
  ENCOUNTER_CLASS,
  ENCOUNTER_TYPE,
  EXT_REPEAT_INFORMATION,
  FRAILTY_FINDING,
  MEDICINES,
  MEDREQ_COMMUNITY,
  type Medicine,
  type MedicineKey,
  OBSERVATIONS,
  OBS_LABORATORY,
  OBS_SOCIAL_HISTORY,
  OBS_VITAL_SIGNS,
  OPCS_PROCEDURES,
  PPID_SYSTEM,
  PREGNANCY,
  PRIORITY_TYPES,
  REFERRAL_CATEGORY,
  REFERRED_BY_GP,
  RTT_STATUS_EXTENSION,
  type RttStatusCode,
  SMOKING_FINDING,
  TREATMENT_FUNCTIONS,
  type TreatmentFunction,
  UBRN_SYSTEM,
  UCUM,
  VACCINES,
  type Vaccine,
  VERIFICATION_CONFIRMED,
} from './codes.js';
import { acuteTrustFor, ambulanceTrustFor, communityTrustFor, mentalHealthTrustFor } from './geography.js';
import { type AreaOrganisations, type ConditionKey, type Frailty, type HeldRecord, type Resident, odsReference, ref } from './model.js';
import { givenNameFor, surnameFor } from './names.js';
import { ALLERGIES, AMOXICILLIN_LABEL_SHARE, type AllergyKey, quintileOf } from './prevalence.js';
import { Random, hash32 } from './random.js';

// ---------------------------------------------------------------------------------------------
// Dates as day numbers (days since 1970-01-01), turned into strings through a cache.

const DAY_MS = 86_400_000;
const YEAR = 365.25;
/** Day numbers -25,567 (1900-01-01) to 47,482 (2099-12-31) are cached. */
const CACHE_FROM = -25_567;
const DATE_CACHE: (string | undefined)[] = [];

/** YYYY-MM-DD of a day number. */
export function isoDate(day: number): string {
  const i = day - CACHE_FROM;
  const cached = DATE_CACHE[i];
  if (cached !== undefined) return cached;
  const text = new Date(day * DAY_MS).toISOString().slice(0, 10);
  if (i >= 0 && i < 73_050) DATE_CACHE[i] = text;
  return text;
}

/** The day number of a YYYY-MM-DD date. */
export function dayNumber(date: string): number {
  const y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7));
  const d = Number(date.slice(8, 10));
  const day = Date.UTC(y, m - 1, d) / DAY_MS;
  if (!Number.isFinite(day) || date.length !== 10) throw new Error(`history: not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
  return day;
}

/** Times of day in 5-minute steps, as the end of an ISO dateTime ("T09:05:00Z"). */
const TIMES: string[] = [];
for (let m = 0; m < 24 * 60; m += 5) {
  TIMES.push(`T${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}:00Z`);
}
/** dateTime of a day and minute of that day (rounded down to 5 minutes; minutes past midnight carry into the next day). */
function at(day: number, minute: number): string {
  const carry = Math.floor(minute / 1440);
  return isoDate(day + carry) + (TIMES[Math.floor((minute - carry * 1440) / 5)] as string);
}

/** The same calendar date `years` earlier (29 February becomes 28 February). */
function yearsBefore(date: string, years: number): string {
  const y = Number(date.slice(0, 4)) - years;
  const rest = date.slice(4);
  return `${String(y).padStart(4, '0')}${rest === '-02-29' ? '-02-28' : rest}`;
}

// ---------------------------------------------------------------------------------------------
// The per-resident context

interface HeldCondition {
  key: ConditionKey;
  variant: ConditionVariant;
  onset: number;
  /** Key of the GP problem-list Condition. */
  record: string;
}

interface Org {
  code: string;
  ref: Reference<Organization>;
}

interface Ctx {
  r: Resident;
  rnd: Random;
  area: AreaOrganisations;
  out: HeldRecord[];
  n: number;
  birth: number;
  /** Death day, or Infinity. */
  death: number;
  asOf: number;
  /** First day of the window. */
  start: number;
  /** Last day anything may happen: the earlier of asOf and death. */
  end: number;
  gp: Org;
  conditions: HeldCondition[];
  byKey: Map<ConditionKey, HeldCondition>;
  /** Onset days of the long-term conditions that count for activity (all but obesity), sorted. */
  ltcOnsets: number[];
  frailtyOnset: number;
  /** Organisations by code, so each holder's reference object is made once per resident. */
  orgs: Map<string, Org>;
  /** Emergency discharges of people aged 65+, for reablement. */
  discharges: number[];
  height: number;
  bmi: number;
  /** The allergy labels on the GP record, and the day each was recorded. */
  allergies: { key: AllergyKey; day: number }[];
  /** Key of the GP's frailty finding, when there is one. */
  frailtyRecord: string | undefined;
  /** Episodes of care a care team or care plan may follow (noted as they are made; no draws). */
  episodes: HeldEpisode[];
}

/** Why an episode of care was opened, for the care teams and plans that follow it. */
type EpisodeWhy = 'smi-cmht' | 'district-nursing' | 'end-of-life-nursing' | 'social-care';

interface HeldEpisode {
  why: EpisodeWhy;
  key: string;
  holder: Org;
  from: number;
  /** The last day of the episode (the earlier of its end and the end of the history). */
  end: number;
  finished: boolean;
  /** The condition it is for, when there is one (its GP problem-list record). */
  condition?: HeldCondition;
}

function nextKey(ctx: Ctx, prefix: string): string {
  ctx.n += 1;
  return prefix + ctx.n;
}

/** A resource as history.ts makes it: no subject or patient yet (feeds.ts adds the holder's Patient). */
type Held<T> = Omit<T, 'subject' | 'patient'>;

function push(ctx: Ctx, holder: string, key: string, resource: Held<HeldRecord['resource']>): void {
  ctx.out.push({ holder, key, resource: resource as HeldRecord['resource'] });
}

function org(ctx: Ctx, o: { code: string; name: string }): Org {
  let found = ctx.orgs.get(o.code);
  if (!found) {
    found = { code: o.code, ref: odsReference(o.code, o.name) };
    ctx.orgs.set(o.code, found);
  }
  return found;
}

function ageAt(ctx: Ctx, day: number): number {
  return (day - ctx.birth) / YEAR;
}

function conditionsAt(ctx: Ctx, day: number): number {
  let n = 0;
  for (const onset of ctx.ltcOnsets) {
    if (onset > day) break;
    n += 1;
  }
  return n;
}

function has(ctx: Ctx, key: ConditionKey, day: number): boolean {
  const c = ctx.byKey.get(key);
  return c !== undefined && c.onset <= day;
}

const FRAILTY_BELOW: Readonly<Record<Frailty, Frailty>> = { fit: 'fit', mild: 'fit', moderate: 'mild', severe: 'moderate' };
function frailtyAt(ctx: Ctx, day: number): Frailty {
  if (ctx.r.frailty === 'fit') return 'fit';
  return day >= ctx.frailtyOnset ? ctx.r.frailty : FRAILTY_BELOW[ctx.r.frailty];
}

function profileAt(ctx: Ctx, day: number): RiskProfile {
  return { age: ageAt(ctx, day), sex: ctx.r.sex, frailty: frailtyAt(ctx, day), conditions: conditionsAt(ctx, day), imdDecile: ctx.r.imdDecile };
}

/** Uniform day in [from, to] (inclusive), both day numbers. */
function dayIn(rnd: Random, from: number, to: number): number {
  return to <= from ? from : from + Math.floor(rnd.next() * (to - from + 1));
}

/** A daytime minute of the day (08:00-18:00), for clinic and GP times. */
function daytime(rnd: Random): number {
  return 480 + Math.floor(rnd.next() * 600);
}
/** Any minute of the day, weighted to the day (emergencies). */
function anytime(rnd: Random): number {
  return rnd.next() < 0.75 ? 540 + Math.floor(rnd.next() * 780) : Math.floor(rnd.next() * 1440);
}

function lognormal(rnd: Random, median: number, sigma: number): number {
  return median * Math.exp(sigma * rnd.normal(0, 1));
}

/**
 * Rates change with age and conditions over the five years, so events are drawn in yearly slices
 * of the window: `for (let from = …; from < end; from += SLICE)` with `to = min(from + SLICE, end)`.
 */
const SLICE = 365;

// ---------------------------------------------------------------------------------------------
// The entry point

/** Options of `historyOf`, for tests. */
export interface HistoryOptions {
  /** Make the care teams and care plans (default true); false shows what the other stages make alone. */
  careRecords?: boolean;
}

export function historyOf(resident: Resident, area: AreaOrganisations, random: Random, asOf: string, options: HistoryOptions = {}): HeldRecord[] {
  const asOfDay = dayNumber(asOf);
  const start = dayNumber(yearsBefore(asOf, 5));
  const birth = dayNumber(resident.birthDate);
  const death = resident.deathDate === undefined ? Infinity : dayNumber(resident.deathDate);
  const practice = area.practices.find((p) => p.code === resident.practice);
  const ctx: Ctx = {
    r: resident,
    rnd: random,
    area,
    out: [],
    n: 0,
    birth,
    death,
    asOf: asOfDay,
    start: Math.max(start, birth),
    end: Math.min(asOfDay, death),
    gp: { code: resident.practice, ref: odsReference(resident.practice, practice?.name ?? resident.practice) },
    conditions: [],
    byKey: new Map(),
    ltcOnsets: [],
    frailtyOnset: Infinity,
    orgs: new Map(),
    discharges: [],
    height: 0,
    bmi: 0,
    allergies: [],
    frailtyRecord: undefined,
    episodes: [],
  };
  if (ctx.end < ctx.start) return ctx.out; // died before the window, or born after asOf
  ctx.orgs.set(ctx.gp.code, ctx.gp);
  // Allergies come from a sub-stream of the resident's own, so they draw nothing from `random`:
  // every other record is as it was before allergies were added (except aspirin, below).
  const allergyRandom = random.fork(ALLERGY_FORK);
  chooseAllergies(ctx, allergyRandom);

  problemList(ctx);
  medicines(ctx);
  gpConsultationsAndObservations(ctx);
  immunisations(ctx);
  emergencyCare(ctx);
  outpatients(ctx);
  electivePathways(ctx);
  maternity(ctx);
  birthOf(ctx);
  communityNursing(ctx);
  mentalHealth(ctx);
  socialCare(ctx);
  allergyRecords(ctx, allergyRandom);
  // Care teams and plans follow the episodes above and draw only from their own sub-stream, so
  // every record before them is as it was before they were added; they come last.
  if (options.careRecords !== false) careRecords(ctx, random.fork(CARE_FORK));
  return ctx.out;
}

// ---------------------------------------------------------------------------------------------
// GP: problem list and frailty

function chooseVariant(ctx: Ctx, key: ConditionKey, onsetAge: number): ConditionVariant {
  const variants = CONDITION_VARIANTS[key];
  if (key === 'diabetes') {
    // Type 1 starts in childhood or young adulthood; after 35 almost all new diabetes is type 2.
    const t1Share = onsetAge < 20 ? 0.95 : onsetAge < 35 ? 0.35 : 0;
    return (ctx.rnd.next() < t1Share ? variants[0] : variants[1]) as ConditionVariant;
  }
  if (variants.length === 1) return variants[0] as ConditionVariant;
  let total = 0;
  for (const v of variants) if (v.sex === undefined || v.sex === ctx.r.sex) total += v.weight;
  let x = ctx.rnd.next() * total;
  for (const v of variants) {
    if (v.sex !== undefined && v.sex !== ctx.r.sex) continue;
    if (x < v.weight) return v;
    x -= v.weight;
  }
  return variants[variants.length - 1] as ConditionVariant;
}

function problemList(ctx: Ctx): void {
  const gp = ctx.gp.code;
  for (const c of ctx.r.conditions) {
    const onset = Math.max(dayNumber(c.onset), ctx.birth);
    if (onset > ctx.end) continue;
    const variant = chooseVariant(ctx, c.key, (onset - ctx.birth) / YEAR);
    const key = nextKey(ctx, 'cond');
    const held: HeldCondition = { key: c.key, variant, onset, record: key };
    ctx.conditions.push(held);
    ctx.byKey.set(c.key, held);
    if (c.key !== 'obesity') ctx.ltcOnsets.push(onset);
    const date = isoDate(onset);
    const resource: Held<Condition> = {
      resourceType: 'Condition',
      clinicalStatus: CLINICAL_ACTIVE,
      verificationStatus: VERIFICATION_CONFIRMED,
      category: CATEGORY_PROBLEM,
      code: variant.gp,
      onsetDateTime: date,
      recordedDate: date,
    };
    push(ctx, gp, key, resource);
  }
  ctx.ltcOnsets.sort((a, b) => a - b);

  if (ctx.r.frailty !== 'fit') {
    // Frailty is coded from the eFI, which practices have run since 2017; it was found at or after 65.
    const at65 = ctx.birth + Math.round(65 * YEAR);
    const from = Math.max(at65, ctx.start - 3 * 365);
    ctx.frailtyOnset = dayIn(ctx.rnd, Math.min(from, ctx.end), ctx.end);
    const date = isoDate(ctx.frailtyOnset);
    const resource: Held<Condition> = {
      resourceType: 'Condition',
      clinicalStatus: CLINICAL_ACTIVE,
      verificationStatus: VERIFICATION_CONFIRMED,
      category: CATEGORY_PROBLEM,
      code: FRAILTY_FINDING[ctx.r.frailty],
      onsetDateTime: date,
      recordedDate: date,
    };
    ctx.frailtyRecord = nextKey(ctx, 'cond');
    push(ctx, gp, ctx.frailtyRecord, resource);
  }
}

// ---------------------------------------------------------------------------------------------
// GP: allergy labels

/** The fork label of the allergy sub-stream ("alg"). */
const ALLERGY_FORK = 0x616c67;

/** Who has which label (prevalence.ts ALLERGIES, at their age at the end of the window) and when it was recorded. */
function chooseAllergies(ctx: Ctx, rnd: Random): void {
  const age = Math.floor(ageAt(ctx, ctx.end));
  const quintile = quintileOf(ctx.r.imdDecile);
  for (const spec of ALLERGIES) {
    const has = rnd.chance(spec.probability(age, ctx.r.sex, quintile));
    const from = ctx.birth + Math.round(spec.recordedAge[0] * YEAR);
    const to = Math.min(ctx.end, ctx.birth + Math.round(spec.recordedAge[1] * YEAR));
    const day = dayIn(rnd, from, to);
    if (has && from <= ctx.end) ctx.allergies.push({ key: spec.key, day });
  }
}

/** Reactions recorded with each label, with their weights (assumption: rashes for most drug labels, more severe reactions for peanut). */
const REACTIONS: Readonly<Record<AllergyKey, readonly (readonly [keyof typeof ALLERGY_REACTIONS, number])[]>> = {
  penicillin: [
    ['rash', 0.6],
    ['urticaria', 0.3],
    ['angioedema', 0.07],
    ['anaphylaxis', 0.03],
  ],
  salicylate: [
    ['wheeze', 0.5],
    ['urticaria', 0.3],
    ['angioedema', 0.15],
    ['anaphylaxis', 0.05],
  ],
  peanut: [
    ['urticaria', 0.5],
    ['angioedema', 0.25],
    ['anaphylaxis', 0.25],
  ],
};
const SEVERITY: Readonly<Record<keyof typeof ALLERGY_REACTIONS, 'mild' | 'moderate' | 'severe'>> = {
  rash: 'mild',
  urticaria: 'mild',
  wheeze: 'moderate',
  angioedema: 'moderate',
  anaphylaxis: 'severe',
};

function allergyRecords(ctx: Ctx, rnd: Random): void {
  for (const allergy of ctx.allergies) {
    const options = REACTIONS[allergy.key];
    const reaction = options[rnd.weightedIndex(options.map((o) => o[1]))]?.[0] ?? 'rash';
    const amoxicillin = allergy.key === 'penicillin' && rnd.chance(AMOXICILLIN_LABEL_SHARE);
    const date = isoDate(allergy.day);
    const severity = SEVERITY[reaction];
    const resource: Held<AllergyIntolerance> = {
      resourceType: 'AllergyIntolerance',
      clinicalStatus: ALLERGY_ACTIVE,
      verificationStatus: ALLERGY_CONFIRMED,
      type: 'allergy',
      category: [allergy.key === 'peanut' ? 'food' : 'medication'],
      criticality: allergy.key === 'peanut' || severity !== 'mild' ? 'high' : 'low',
      code: amoxicillin ? ALLERGY_CODES.amoxicillin : ALLERGY_CODES[allergy.key],
      onsetDateTime: date,
      recordedDate: date,
      reaction: [{ manifestation: [ALLERGY_REACTIONS[reaction]], severity }],
    };
    push(ctx, ctx.gp.code, nextKey(ctx, 'alg'), resource);
  }
}

// ---------------------------------------------------------------------------------------------
// GP: repeat medicines

interface Plan {
  med: MedicineKey;
  /** Probability the resident is on it. */
  p: number;
  /** Days after onset it starts (the first in the list at once; later ones as treatment steps up). */
  after?: number;
  /** Probability it is stopped again within two years (depression). */
  stop?: number;
  /** Only for this variant of the condition. */
  variant?: string;
  minAge?: number;
}

const PLANS: Partial<Record<ConditionKey, readonly Plan[]>> = {
  hypertension: [
    { med: 'amlodipine', p: 0.55 },
    { med: 'ramipril', p: 0.4 },
    { med: 'losartan', p: 0.08 },
    { med: 'indapamide', p: 0.15, after: 900 },
  ],
  diabetes: [
    { med: 'metformin', p: 0.9, variant: 't2', after: 30 },
    { med: 'empagliflozin', p: 0.3, variant: 't2', after: 700 },
    { med: 'gliclazide', p: 0.25, variant: 't2', after: 1100 },
    { med: 'insulinGlargine', p: 1, variant: 't1', after: 7 },
    { med: 'atorvastatin', p: 0.75, minAge: 40, after: 60 },
  ],
  chd: [
    { med: 'aspirin', p: 0.85 },
    { med: 'atorvastatin80', p: 0.85 },
    { med: 'bisoprolol', p: 0.6 },
    { med: 'ramipril', p: 0.5 },
  ],
  heart_failure: [
    { med: 'bisoprolol', p: 0.85 },
    { med: 'ramipril', p: 0.8 },
    { med: 'furosemide', p: 0.75 },
  ],
  atrial_fibrillation: [
    { med: 'apixaban', p: 0.85 },
    { med: 'bisoprolol', p: 0.6 },
  ],
  stroke_tia: [
    { med: 'clopidogrel', p: 0.8 },
    { med: 'atorvastatin80', p: 0.8 },
  ],
  ckd: [
    { med: 'ramipril', p: 0.4 },
    { med: 'atorvastatin', p: 0.6 },
  ],
  asthma: [
    { med: 'salbutamol', p: 0.95 },
    { med: 'beclometasone', p: 0.75 },
  ],
  copd: [
    { med: 'salbutamol', p: 0.95 },
    { med: 'tiotropium', p: 0.7 },
  ],
  depression: [
    { med: 'sertraline', p: 0.45, stop: 0.5 },
    { med: 'citalopram', p: 0.25, stop: 0.5 },
  ],
  smi: [
    { med: 'olanzapine', p: 0.8, variant: 'schizophrenia' },
    { med: 'olanzapine', p: 0.8, variant: 'psychosis' },
    { med: 'lithium', p: 0.5, variant: 'bipolar' },
    { med: 'olanzapine', p: 0.3, variant: 'bipolar' },
  ],
  dementia: [
    { med: 'donepezil', p: 0.6, variant: 'alzheimers' },
    { med: 'donepezil', p: 0.4, variant: 'unspecified' },
  ],
  epilepsy: [
    { med: 'levetiracetam', p: 0.55 },
    { med: 'lamotrigine', p: 0.35 },
  ],
  osteoporosis: [
    { med: 'alendronicAcid', p: 0.75 },
    { med: 'calciumColecalciferol', p: 0.6 },
  ],
  cancer: [{ med: 'letrozole', p: 0.6, variant: 'breast', after: 120, stop: 0 }],
};

/** Hormone therapy for breast cancer runs five years. */
const FIVE_YEARS = Math.round(5 * YEAR);

function medicines(ctx: Ctx): void {
  const rnd = ctx.rnd;
  const started = new Set<MedicineKey>();
  for (const c of ctx.conditions) {
    const plans = PLANS[c.key];
    if (!plans) continue;
    for (const plan of plans) {
      if (plan.variant !== undefined && plan.variant !== c.variant.name) continue;
      // Someone labelled allergic to aspirin is given clopidogrel instead (NICE NG185).
      const medKey = plan.med === 'aspirin' && ctx.allergies.some((a) => a.key === 'salicylate') ? 'clopidogrel' : plan.med;
      if (started.has(medKey)) continue;
      const from = c.onset + (plan.after ?? 14);
      if (plan.minAge !== undefined && ageAt(ctx, from) < plan.minAge) continue;
      if (rnd.next() >= plan.p) continue;
      if (from > ctx.end) continue;
      started.add(medKey);
      let until = ctx.end;
      let stopped = false;
      if (plan.med === 'letrozole' && from + FIVE_YEARS < until) {
        until = from + FIVE_YEARS;
        stopped = true;
      } else if (plan.stop !== undefined && plan.stop > 0 && rnd.next() < plan.stop) {
        const stopDay = from + 180 + Math.floor(rnd.next() * 540);
        if (stopDay < until) {
          until = stopDay;
          stopped = true;
        }
      }
      if (until < ctx.start) continue; // stopped before the window: not in the record we send
      authorisations(ctx, MEDICINES[medKey], c, from, until, stopped);
    }
  }
}

/** One MedicationRequest per yearly authorisation from `from` to `until`, those overlapping the window. */
function authorisations(ctx: Ctx, med: Medicine, c: HeldCondition, from: number, until: number, stopped: boolean): void {
  let previous: string | undefined;
  for (let s = from; s <= until; s += 365) {
    const expiry = s + 364;
    if (expiry < ctx.start) continue;
    const last = expiry >= until;
    const issuedUntil = last ? Math.min(until, ctx.asOf) : expiry;
    const issued = Math.max(1, Math.floor((issuedUntil - s) / 28) + 1);
    const ended = last && (stopped || ctx.death <= ctx.asOf);
    const status: MedicationRequest['status'] = !last ? 'completed' : ended ? 'stopped' : 'active';
    const key = nextKey(ctx, 'med');
    const resource: Held<MedicationRequest> = {
      resourceType: 'MedicationRequest',
      extension: [
        {
          url: EXT_REPEAT_INFORMATION,
          extension: [
            { url: 'numberOfPrescriptionsIssued', valueUnsignedInt: issued },
            { url: 'authorisationExpiryDate', valueDateTime: isoDate(expiry) },
          ],
        },
      ],
      status,
      intent: 'order',
      category: MEDREQ_COMMUNITY,
      medicationCodeableConcept: med.code,
      authoredOn: isoDate(s),
      requester: ctx.gp.ref,
      reasonReference: [ref(c.record)],
      courseOfTherapyType: COURSE_CONTINUOUS,
      dosageInstruction: med.dosageInstruction,
      dispenseRequest: {
        validityPeriod: { start: isoDate(s), end: isoDate(ended ? until : expiry) },
        numberOfRepeatsAllowed: 12,
        quantity: med.supplyQuantity,
        expectedSupplyDuration: SUPPLY_28_DAYS,
      },
    };
    if (previous !== undefined) resource.priorPrescription = ref(previous);
    push(ctx, ctx.gp.code, key, resource);
    previous = key;
  }
}
const SUPPLY_28_DAYS = Object.freeze({ value: 28, unit: 'day', system: UCUM, code: 'd' });

// ---------------------------------------------------------------------------------------------
// GP: consultations, reviews and observations

/** Conditions whose register needs an annual review with blood pressure (QOF). */
const REVIEWED: readonly ConditionKey[] = ['hypertension', 'diabetes', 'chd', 'heart_failure', 'atrial_fibrillation', 'stroke_tia', 'ckd', 'copd', 'asthma', 'smi', 'learning_disability'];

function gpEncounter(ctx: Ctx, day: number, telephone: boolean, reason: string | undefined): string {
  const key = nextKey(ctx, 'enc');
  const minute = daytime(ctx.rnd);
  const resource: Encounter = {
    resourceType: 'Encounter',
    status: 'finished',
    class: ENCOUNTER_CLASS.ambulatory,
    type: telephone ? ENCOUNTER_TYPE.gpTelephone : ENCOUNTER_TYPE.gpConsultation,
    period: { start: at(day, minute), end: at(day, minute + 10) },
    serviceProvider: ctx.gp.ref,
  };
  if (reason !== undefined) resource.reasonReference = [ref(reason)];
  push(ctx, ctx.gp.code, key, resource);
  return key;
}

function gpConsultationsAndObservations(ctx: Ctx): void {
  const rnd = ctx.rnd;
  const adult = ageAt(ctx, ctx.end) >= 18;
  ctx.height = ctx.r.sex === 'male' ? rnd.normal(176, 7) : rnd.normal(163, 6.5);
  ctx.bmi = ctx.byKey.has('obesity') ? Math.max(30.2, rnd.normal(34, 3.5)) : Math.min(29.8, Math.max(18.6, rnd.normal(25.5, 3)));

  // Reviews: annual for people on a QOF register; twice a year HbA1c for diabetes.
  let reviewed: HeldCondition | undefined;
  for (const key of REVIEWED) {
    const c = ctx.byKey.get(key);
    if (c && (reviewed === undefined || c.onset < reviewed.onset)) reviewed = c;
  }
  const reviewsPerYear = reviewed ? 1 : 0;

  for (let from = ctx.start; from < ctx.end; from += SLICE) {
    const to = Math.min(from + SLICE, ctx.end);
    const years = (to - from) / YEAR;
    const mid = (from + to) >> 1;
    const rate = Math.max(0.3, gpConsultationRate(profileAt(ctx, mid)) - reviewsPerYear);
    const n = rnd.poisson(rate * years);
    for (let i = 0; i < n; i++) {
      const day = dayIn(rnd, from, to);
      // People with long-term conditions often consult about one of them.
      const about = ctx.conditions.length > 0 && rnd.next() < 0.4 ? rnd.pick(ctx.conditions) : undefined;
      gpEncounter(ctx, day, rnd.next() < GP_TELEPHONE_SHARE, about !== undefined && about.onset <= day ? about.record : undefined);
    }
  }

  if (reviewed) {
    const first = Math.max(ctx.start, reviewed.onset);
    for (let day = first + Math.floor(rnd.next() * 200); day <= ctx.end; day += 330 + Math.floor(rnd.next() * 70)) {
      const enc = gpEncounter(ctx, day, false, reviewed.record);
      reviewObservations(ctx, day, enc, adult);
    }
  } else if (adult) {
    // Blood pressure and weight now and then (NHS Health Check 40-74 every five years; opportunistic otherwise).
    const every = ageAt(ctx, ctx.end) >= 40 ? 3 * 365 : 5 * 365;
    for (let day = ctx.start + Math.floor(rnd.next() * every); day <= ctx.end; day += every) {
      if (ageAt(ctx, day) < 18) continue;
      const enc = gpEncounter(ctx, day, false, undefined);
      reviewObservations(ctx, day, enc, true);
    }
  }

  // HbA1c a second time each year for diabetes (the review does the first).
  const diabetes = ctx.byKey.get('diabetes');
  if (diabetes) {
    for (let day = Math.max(ctx.start, diabetes.onset) + 150 + Math.floor(rnd.next() * 60); day <= ctx.end; day += 365) {
      hba1c(ctx, day, undefined);
    }
  }
  // CKD: eGFR a second time each year.
  const ckd = ctx.byKey.get('ckd');
  if (ckd) {
    for (let day = Math.max(ctx.start, ckd.onset) + 170 + Math.floor(rnd.next() * 40); day <= ctx.end; day += 365) {
      egfr(ctx, day, undefined);
    }
  }
  // Smoking status is asked of every adult at least once in five years.
  if (adult && !reviewed) smoking(ctx, dayIn(rnd, Math.max(ctx.start, ctx.birth + Math.round(16 * YEAR)), ctx.end), undefined);
}

function reviewObservations(ctx: Ctx, day: number, enc: string, adult: boolean): void {
  if (!adult || ageAt(ctx, day) < 16) return;
  bloodPressure(ctx, day, enc);
  if (ctx.rnd.next() < 0.6) weightAndBmi(ctx, day, enc);
  if (ctx.byKey.has('diabetes') && has(ctx, 'diabetes', day)) hba1c(ctx, day, enc);
  if (has(ctx, 'diabetes', day) || has(ctx, 'hypertension', day) || has(ctx, 'ckd', day) || has(ctx, 'heart_failure', day)) egfr(ctx, day, enc);
  if (ctx.rnd.next() < 0.8) smoking(ctx, day, enc);
}

function quantity(value: number, unit: string, code: string): Quantity {
  return { value, unit, system: UCUM, code };
}

function observation(ctx: Ctx, day: number, enc: string | undefined, category: CodeableConcept[], code: CodeableConcept): Held<Observation> {
  const resource: Held<Observation> = {
    resourceType: 'Observation',
    status: 'final',
    category,
    code,
    effectiveDateTime: isoDate(day),
    performer: [ctx.gp.ref],
  };
  if (enc !== undefined) resource.encounter = ref(enc);
  return resource;
}

function bloodPressure(ctx: Ctx, day: number, enc: string): void {
  const rnd = ctx.rnd;
  const age = ageAt(ctx, day);
  const htn = ctx.byKey.get('hypertension');
  let systolic: number;
  if (htn && htn.onset + 180 <= day) systolic = rnd.normal(136, 9); // treated: tighter, mostly under 140
  else if (htn && htn.onset - 400 <= day) systolic = rnd.normal(154, 10); // around diagnosis, before treatment works
  else systolic = Math.min(158, rnd.normal(112 + 0.4 * Math.max(0, age - 18), 10));
  systolic = Math.round(systolic);
  const diastolic = Math.round(Math.min(systolic - 25, 0.45 * systolic + 20 + rnd.normal(0, 5)));
  const unit = OBSERVATIONS.systolic;
  const resource = observation(ctx, day, enc, OBS_VITAL_SIGNS, OBSERVATIONS.bloodPressure.code);
  resource.component = [
    { code: OBSERVATIONS.systolic.code, valueQuantity: quantity(systolic, unit.unit, unit.ucum) },
    { code: OBSERVATIONS.diastolic.code, valueQuantity: quantity(diastolic, unit.unit, unit.ucum) },
  ];
  push(ctx, ctx.gp.code, nextKey(ctx, 'obs'), resource);
}

function weightAndBmi(ctx: Ctx, day: number, enc: string): void {
  const bmi = Math.round((ctx.bmi + ctx.rnd.normal(0, 0.5)) * 10) / 10;
  const h = ctx.height / 100;
  const weight = Math.round(bmi * h * h * 10) / 10;
  const w = observation(ctx, day, enc, OBS_VITAL_SIGNS, OBSERVATIONS.weight.code);
  w.valueQuantity = quantity(weight, OBSERVATIONS.weight.unit, OBSERVATIONS.weight.ucum);
  push(ctx, ctx.gp.code, nextKey(ctx, 'obs'), w);
  const b = observation(ctx, day, enc, OBS_VITAL_SIGNS, OBSERVATIONS.bmi.code);
  b.valueQuantity = quantity(bmi, OBSERVATIONS.bmi.unit, OBSERVATIONS.bmi.ucum);
  push(ctx, ctx.gp.code, nextKey(ctx, 'obs'), b);
  if (ctx.rnd.next() < 0.3) {
    const hgt = observation(ctx, day, enc, OBS_VITAL_SIGNS, OBSERVATIONS.height.code);
    hgt.valueQuantity = quantity(Math.round(ctx.height), OBSERVATIONS.height.unit, OBSERVATIONS.height.ucum);
    push(ctx, ctx.gp.code, nextKey(ctx, 'obs'), hgt);
  }
}

function hba1c(ctx: Ctx, day: number, enc: string | undefined): void {
  const diabetes = ctx.byKey.get('diabetes');
  let value: number;
  if (diabetes && diabetes.onset <= day) {
    const years = (day - diabetes.onset) / YEAR;
    value = diabetes.variant.name === 't1' ? ctx.rnd.normal(62, 9) : years < 0.3 ? ctx.rnd.normal(64, 9) : ctx.rnd.normal(51 + 1.1 * years, 6); // rises slowly
  } else {
    value = ctx.rnd.normal(37, 3);
  }
  const resource = observation(ctx, day, enc, OBS_LABORATORY, OBSERVATIONS.hba1c.code);
  resource.valueQuantity = quantity(Math.max(28, Math.round(value)), OBSERVATIONS.hba1c.unit, OBSERVATIONS.hba1c.ucum);
  push(ctx, ctx.gp.code, nextKey(ctx, 'obs'), resource);
}

/** eGFR at the stage's level at onset, falling about 2.2 a year after it (KDIGO progression). */
const EGFR_AT_ONSET: Readonly<Record<string, number>> = { '3a': 56, '3b': 42, '4': 27 };
function egfr(ctx: Ctx, day: number, enc: string | undefined): void {
  const ckd = ctx.byKey.get('ckd');
  const age = ageAt(ctx, day);
  let value: number;
  if (ckd) {
    const atOnset = EGFR_AT_ONSET[ckd.variant.name] ?? 50;
    value = atOnset - 2.2 * ((day - ckd.onset) / YEAR) + ctx.rnd.normal(0, 2);
    if (day < ckd.onset) value = Math.max(value, 60 + ctx.rnd.normal(2, 2));
  } else {
    value = Math.min(118, Math.max(61, ctx.rnd.normal(98 - 0.7 * Math.max(0, age - 30), 8)));
  }
  const resource = observation(ctx, day, enc, OBS_LABORATORY, OBSERVATIONS.egfr.code);
  resource.valueQuantity = quantity(Math.max(6, Math.round(value)), OBSERVATIONS.egfr.unit, OBSERVATIONS.egfr.ucum);
  push(ctx, ctx.gp.code, nextKey(ctx, 'obs'), resource);
}

function smoking(ctx: Ctx, day: number, enc: string | undefined): void {
  const resource = observation(ctx, day, enc, OBS_SOCIAL_HISTORY, SMOKING_FINDING[ctx.r.smoking]);
  push(ctx, ctx.gp.code, nextKey(ctx, 'obs'), resource);
}

// ---------------------------------------------------------------------------------------------
// GP: immunisations (UKHSA programmes and uptake, 2021-26)

/** Conditions that make an adult under 65 eligible for flu vaccine (the Green Book's clinical risk groups). */
const FLU_RISK: readonly ConditionKey[] = ['diabetes', 'asthma', 'copd', 'chd', 'heart_failure', 'ckd', 'stroke_tia', 'learning_disability', 'smi'];

function immunise(ctx: Ctx, day: number, v: Vaccine, dose: number): void {
  if (day < ctx.start || day > ctx.end) return;
  const date = isoDate(day);
  const resource: Held<Immunization> = {
    resourceType: 'Immunization',
    extension: [v.procedure],
    status: 'completed',
    vaccineCode: v.vaccineCode,
    occurrenceDateTime: date,
    recorded: date,
    primarySource: true,
    performer: [{ actor: ctx.gp.ref }],
    protocolApplied: [{ targetDisease: v.targetDisease, doseNumberPositiveInt: dose }],
  };
  push(ctx, ctx.gp.code, nextKey(ctx, 'imm'), resource);
}

/** COVID-19 campaigns in the window (start day of year offset), and who was offered each. */
const COVID_CAMPAIGNS: readonly { date: string; minAge: number; uptake: number; olderUptake: number }[] = [
  { date: '2021-12-01', minAge: 18, uptake: 0.62, olderUptake: 0.9 },
  { date: '2022-09-15', minAge: 50, uptake: 0.5, olderUptake: 0.78 },
  { date: '2023-04-15', minAge: 75, uptake: 0.68, olderUptake: 0.68 },
  { date: '2023-09-15', minAge: 65, uptake: 0.6, olderUptake: 0.68 },
  { date: '2024-04-15', minAge: 75, uptake: 0.6, olderUptake: 0.6 },
  { date: '2024-10-01', minAge: 65, uptake: 0.55, olderUptake: 0.62 },
  { date: '2025-04-15', minAge: 75, uptake: 0.55, olderUptake: 0.55 },
  { date: '2025-10-01', minAge: 75, uptake: 0.55, olderUptake: 0.55 },
  { date: '2026-04-15', minAge: 75, uptake: 0.5, olderUptake: 0.5 },
];
const COVID_DAYS = COVID_CAMPAIGNS.map((c) => ({ ...c, day: dayNumber(c.date) }));
const SHINGRIX_FROM = dayNumber('2023-09-01');

function birthdayOf(ctx: Ctx, years: number): number {
  return ctx.birth + Math.round(years * YEAR);
}

/** Shingles vaccine: live (one dose) until September 2023, then Shingrix (two doses, two to six months apart). */
function shingles(ctx: Ctx, day: number): void {
  if (day < SHINGRIX_FROM) immunise(ctx, day, VACCINES.shinglesLive, 1);
  else {
    immunise(ctx, day, VACCINES.shingles, 1);
    immunise(ctx, day + 60 + Math.floor(ctx.rnd.next() * 120), VACCINES.shingles, 2);
  }
}

function immunisations(ctx: Ctx): void {
  const rnd = ctx.rnd;
  // Each person's willingness, so the same people tend to take each year's offer.
  const willing = rnd.next();
  const firstYear = Number(isoDate(ctx.start).slice(0, 4)) - 1;
  const lastYear = Number(isoDate(ctx.end).slice(0, 4));
  for (let y = firstYear; y <= lastYear; y++) {
    const seasonStart = dayNumber(`${y}-09-15`);
    const age = ageAt(ctx, seasonStart);
    const day = seasonStart + Math.floor(rnd.next() * rnd.next() * 90);
    let uptake = 0;
    let v: Vaccine = VACCINES.flu;
    if (age >= 65) uptake = 0.78;
    else if (age >= 18) uptake = FLU_RISK.some((k) => has(ctx, k, seasonStart)) ? 0.42 : 0;
    else if (age >= 2 && age < 4) {
      uptake = 0.44;
      v = VACCINES.fluNasal;
    } else if (age >= 4 && age < 16) {
      uptake = 0.5;
      v = VACCINES.fluNasal;
    }
    if (uptake > 0 && willing < uptake + (rnd.next() - 0.5) * 0.1) immunise(ctx, day, v, 1);
  }

  for (const c of COVID_DAYS) {
    if (c.day < ctx.start || c.day > ctx.end) continue;
    const age = ageAt(ctx, c.day);
    if (age < c.minAge) continue;
    if (willing < (age >= 75 ? c.olderUptake : c.uptake)) immunise(ctx, c.day + Math.floor(rnd.next() * 60), VACCINES.covidBooster, 3);
  }

  // Pneumococcal polysaccharide vaccine at 65.
  if (willing < 0.7) immunise(ctx, birthdayOf(ctx, 65) + Math.floor(rnd.next() * 150), VACCINES.pneumococcal, 1);
  // Shingles: at 70 (live vaccine until September 2023), from September 2023 at 65 and 70 (two doses of Shingrix).
  if (willing < 0.55) shingles(ctx, birthdayOf(ctx, 70) + Math.floor(rnd.next() * 200));
  if (birthdayOf(ctx, 65) >= SHINGRIX_FROM && willing < 0.4) shingles(ctx, birthdayOf(ctx, 65) + Math.floor(rnd.next() * 200));
  // Infants (UKHSA routine schedule): MenB at 8 and 16 weeks, pneumococcal conjugate at 12 weeks,
  // both boosted at one year. (The 6-in-1 and rotavirus doses are not generated: see codes.ts.)
  if (rnd.next() < 0.92) {
    immunise(ctx, ctx.birth + 56 + Math.floor(rnd.next() * 14), VACCINES.menB, 1);
    immunise(ctx, ctx.birth + 84 + Math.floor(rnd.next() * 14), VACCINES.pcvInfant, 1);
    immunise(ctx, ctx.birth + 112 + Math.floor(rnd.next() * 14), VACCINES.menB, 2);
    const booster = birthdayOf(ctx, 1) + Math.floor(rnd.next() * 40);
    immunise(ctx, booster, VACCINES.pcvInfant, 2);
    immunise(ctx, booster, VACCINES.menB, 3);
  }
  // Childhood: MMR at one year and at three years four months; at school, HPV in year 8, Td/IPV and MenACWY in year 9.
  if (rnd.next() < 0.89) immunise(ctx, birthdayOf(ctx, 1) + Math.floor(rnd.next() * 40), VACCINES.mmr, 1);
  if (rnd.next() < 0.84) immunise(ctx, birthdayOf(ctx, 3.34) + Math.floor(rnd.next() * 60), VACCINES.mmr, 2);
  if (willing < 0.7) immunise(ctx, birthdayOf(ctx, 12.6) + Math.floor(rnd.next() * 120), VACCINES.hpv, 1);
  if (willing < 0.72) {
    const day = birthdayOf(ctx, 13.7) + Math.floor(rnd.next() * 120);
    immunise(ctx, day, VACCINES.tdIpv, 1);
    immunise(ctx, day, VACCINES.menacwy, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Acute trust: emergency care, with ambulance incidents before some attendances

function acute(ctx: Ctx): Org {
  return org(ctx, acuteTrustFor(ctx.area, ctx.r.lad, ctx.rnd));
}

function chooseAdmissionReason(ctx: Ctx, day: number): AdmissionReason {
  const age = ageAt(ctx, day);
  const band = age < 16 ? 0 : age < 65 ? 1 : 2;
  let total = 0;
  const weights = REASON_WEIGHTS;
  for (let i = 0; i < ADMISSION_REASONS.length; i++) {
    const reason = ADMISSION_REASONS[i] as AdmissionReason;
    let w = reason.weights[band] ?? 0;
    if (reason.requires !== undefined && !has(ctx, reason.requires, day)) w = 0;
    else if (reason.requires !== undefined) w *= 3;
    if (reason.key === 'dka' && ctx.byKey.get('diabetes')?.variant.name !== 't1') w = 0;
    if (w > 0 && reason.boostedBy) for (const [k, f] of reason.boostedBy) if (has(ctx, k, day)) w *= f;
    weights[i] = w;
    total += w;
  }
  let x = ctx.rnd.next() * total;
  for (let i = 0; i < ADMISSION_REASONS.length; i++) {
    const w = weights[i] ?? 0;
    if (x < w) return ADMISSION_REASONS[i] as AdmissionReason;
    x -= w;
  }
  return ADMISSION_REASONS[0] as AdmissionReason;
}
const REASON_WEIGHTS: number[] = ADMISSION_REASONS.map(() => 0);

function chooseEdPresentation(ctx: Ctx, day: number): (typeof ED_PRESENTATIONS)[number] {
  const age = ageAt(ctx, day);
  const band = age < 16 ? 0 : age < 65 ? 1 : 2;
  let total = 0;
  for (const p of ED_PRESENTATIONS) total += p.weights[band] ?? 0;
  let x = ctx.rnd.next() * total;
  for (const p of ED_PRESENTATIONS) {
    const w = p.weights[band] ?? 0;
    if (x < w) return p;
    x -= w;
  }
  return ED_PRESENTATIONS[0] as (typeof ED_PRESENTATIONS)[number];
}

function ambulanceIncident(ctx: Ctx, day: number, minute: number, outcome: CodeableConcept, category: CodeableConcept): void {
  const trust = org(ctx, ambulanceTrustFor(ctx.area, ctx.r.lad));
  const resource: Encounter = {
    resourceType: 'Encounter',
    status: 'finished',
    class: ENCOUNTER_CLASS.field,
    type: ENCOUNTER_TYPE.ambulance,
    priority: category,
    period: { start: at(day, minute), end: at(day, minute + 50) },
    hospitalization: { dischargeDisposition: outcome },
    serviceProvider: trust.ref,
  };
  push(ctx, trust.code, nextKey(ctx, 'amb'), resource);
}

function ambulanceCategory(rnd: Random, serious: boolean): CodeableConcept {
  const x = rnd.next();
  if (serious) return x < 0.1 ? AMBULANCE_CATEGORIES.C1 : x < 0.75 ? AMBULANCE_CATEGORIES.C2 : AMBULANCE_CATEGORIES.C3;
  return x < 0.05 ? AMBULANCE_CATEGORIES.C1 : x < 0.55 ? AMBULANCE_CATEGORIES.C2 : x < 0.9 ? AMBULANCE_CATEGORIES.C3 : AMBULANCE_CATEGORIES.C4;
}

/** An A&E attendance: the Encounter and its ECDS diagnosis; an ambulance incident before it when conveyed. */
function edAttendance(ctx: Ctx, trust: Org, day: number, arrival: number, complaint: CodeableConcept[], diagnosis: CodeableConcept | undefined, admitted: boolean): string {
  const rnd = ctx.rnd;
  let minute = arrival;
  if (rnd.next() < conveyedShare(ageAt(ctx, day), admitted)) {
    ambulanceIncident(ctx, day, Math.max(0, minute - 60), AMBULANCE_OUTCOMES.conveyed, ambulanceCategory(rnd, admitted));
  }
  const key = nextKey(ctx, 'enc');
  const hours = admitted ? 4 + Math.floor(rnd.next() * 8) : 1 + Math.floor(rnd.next() * 5);
  // On the last day (death or asOf) the attendance must end that day.
  if (day >= ctx.end && minute > 1000) minute = 1000;
  const endMinute = day >= ctx.end ? Math.min(minute + hours * 60, 1435) : minute + hours * 60;
  const resource: Encounter = {
    resourceType: 'Encounter',
    status: 'finished',
    class: ENCOUNTER_CLASS.emergency,
    type: ENCOUNTER_TYPE.emergencyDepartment,
    reasonCode: complaint,
    period: { start: at(day, minute), end: at(day, endMinute) },
    hospitalization: { dischargeDisposition: admitted ? ED_DISPOSAL.ward : ED_DISPOSAL.home },
    serviceProvider: trust.ref,
  };
  if (diagnosis) {
    const cond = nextKey(ctx, 'dx');
    resource.diagnosis = [{ condition: ref(cond), rank: 1 }];
    const c: Held<Condition> = {
      resourceType: 'Condition',
      verificationStatus: VERIFICATION_CONFIRMED,
      category: CATEGORY_DIAGNOSIS,
      code: diagnosis,
      encounter: ref(key),
      onsetDateTime: isoDate(day),
      recordedDate: isoDate(day),
    };
    push(ctx, trust.code, key, resource);
    push(ctx, trust.code, cond, c);
  } else {
    push(ctx, trust.code, key, resource);
  }
  return key;
}

/**
 * An emergency admission (through A&E in most cases) from `day` for `stay` days, with its
 * primary diagnosis, the resident's long-term conditions as secondary diagnoses, and a procedure
 * when the reason has one. `died` ends it with the death.
 */
function emergencyAdmission(ctx: Ctx, day: number, stay: number, died: boolean): void {
  const rnd = ctx.rnd;
  const trust = acute(ctx);
  const reason = chooseAdmissionReason(ctx, day);
  const discharge = day + stay;
  // An admission that ends on the last day (death or asOf) starts early enough to end that day.
  const minute = discharge >= ctx.end ? Math.min(anytime(rnd), 800) : anytime(rnd);
  const viaEd = rnd.next() < ADMISSION_VIA_ED_SHARE;
  if (viaEd) edAttendance(ctx, trust, day, minute, reason.complaint, undefined, true);
  const key = nextKey(ctx, 'adm');
  const primary = nextKey(ctx, 'dx');
  const diagnoses: EncounterDiagnosis[] = [{ condition: ref(primary), use: DIAGNOSIS_PRIMARY, rank: 1 }];
  const conditions: [string, Held<Condition>][] = [[primary, hospitalDiagnosis(reason.diagnosis, key, day)]];
  let rank = 2;
  for (const c of ctx.conditions) {
    if (c.onset > day || rank > 5) continue;
    const k = nextKey(ctx, 'dx');
    diagnoses.push({ condition: ref(k), use: DIAGNOSIS_ADMISSION, rank });
    conditions.push([k, hospitalDiagnosis(c.variant.hospital, key, day)]);
    rank += 1;
  }
  const older = ageAt(ctx, day) >= 65;
  const resource: Encounter = {
    resourceType: 'Encounter',
    extension: [viaEd ? ADMISSION_METHOD.emergencyED : ADMISSION_METHOD.emergencyGP, died ? DISCHARGE_METHOD.died : DISCHARGE_METHOD.clinical],
    status: 'finished',
    class: ENCOUNTER_CLASS.inpatient,
    type: ENCOUNTER_TYPE.hospitalAdmission,
    reasonCode: reason.complaint,
    diagnosis: diagnoses,
    period: { start: at(day, minute + 240), end: at(day, Math.max(minute + 360, (discharge - day) * 1440 + (died ? anytime(rnd) : 600 + Math.floor(rnd.next() * 480)))) },
    hospitalization: {
      admitSource: ADMIT_SOURCE_HOME,
      dischargeDisposition: died ? DISCHARGE.died : older && frailtyIndex(frailtyAt(ctx, day)) >= 2 && rnd.next() < 0.08 ? DISCHARGE.careHome : DISCHARGE.home,
    },
    serviceProvider: trust.ref,
  };
  push(ctx, trust.code, key, resource);
  for (const [k, c] of conditions) push(ctx, trust.code, k, c);
  if (reason.procedure) {
    const p: Held<Procedure> = {
      resourceType: 'Procedure',
      status: 'completed',
      code: reason.procedure,
      encounter: ref(key),
      performedDateTime: isoDate(Math.min(day + (stay > 0 ? 1 : 0), discharge)),
    };
    push(ctx, trust.code, nextKey(ctx, 'proc'), p);
  }
  if (older && !died) ctx.discharges.push(discharge);
}

function hospitalDiagnosis(code: CodeableConcept, encounter: string, day: number): Held<Condition> {
  return {
    resourceType: 'Condition',
    verificationStatus: VERIFICATION_CONFIRMED,
    category: CATEGORY_DIAGNOSIS,
    code,
    encounter: ref(encounter),
    recordedDate: isoDate(day),
  };
}

function lengthOfStay(ctx: Ctx, day: number, mean: number): number {
  const rnd = ctx.rnd;
  if (rnd.next() < 0.25) return 0; // same-day emergency care
  return Math.max(1, Math.round(rnd.exponential(mean * (ageAt(ctx, day) >= 75 ? 1.6 : 1))));
}

function emergencyCare(ctx: Ctx): void {
  const rnd = ctx.rnd;
  // A death in hospital: the last admission ends with it.
  const diesInWindow = ctx.death <= ctx.asOf && ctx.death >= ctx.start;
  let lastDay = ctx.end;
  if (diesInWindow && rnd.next() < IN_HOSPITAL_DEATH_SHARE) {
    const stay = Math.min(Math.round(rnd.exponential(9)), ctx.death - ctx.start);
    emergencyAdmission(ctx, ctx.death - stay, stay, true);
    lastDay = ctx.death - stay - 1;
  }
  for (let from = ctx.start; from < lastDay; from += SLICE) {
    const to = Math.min(from + SLICE, lastDay);
    const years = (to - from) / YEAR;
    const mid = (from + to) >> 1;
    const p = profileAt(ctx, mid);
    const admissions = rnd.poisson(emergencyAdmissionRate(p) * years);
    for (let i = 0; i < admissions; i++) {
      const day = dayIn(rnd, from, to);
      const stay = Math.min(lengthOfStay(ctx, day, 6), lastDay - day);
      emergencyAdmission(ctx, day, Math.max(0, stay), false);
    }
    const attendances = rnd.poisson(edAttendanceRate(p) * years);
    for (let i = 0; i < attendances; i++) {
      const day = dayIn(rnd, from, to);
      const presentation = chooseEdPresentation(ctx, day);
      edAttendance(ctx, acute(ctx), day, anytime(rnd), presentation.complaint, presentation.diagnosis, false);
    }
    // Ambulance incidents that end without a trip to A&E.
    const conveyed = edAttendanceRate(p) * conveyedShare(p.age, false) + emergencyAdmissionRate(p) * ADMISSION_VIA_ED_SHARE * conveyedShare(p.age, true);
    const notConveyed = rnd.poisson(conveyed * NOT_CONVEYED_PER_CONVEYED * years);
    for (let i = 0; i < notConveyed; i++) {
      const outcome = rnd.next() < HEAR_AND_TREAT_SHARE ? AMBULANCE_OUTCOMES.hearAndTreat : AMBULANCE_OUTCOMES.seeAndTreat;
      ambulanceIncident(ctx, dayIn(rnd, from, to), anytime(rnd), outcome, ambulanceCategory(rnd, false));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Acute trust: outpatient follow-up clinics (not RTT)

/** The specialist clinics a resident attends for their conditions at a time, and how often (filled by `clinicRates`). */
const CLINIC_CHOICES: CodeableConcept[] = [];
const CLINIC_RATES: number[] = [];

/** Fills CLINIC_CHOICES/CLINIC_RATES with the resident's condition clinics on `day`; returns how many. */
function clinicRates(ctx: Ctx, day: number): number {
  let n = 0;
  const cancer = ctx.byKey.get('cancer');
  if (cancer && cancer.onset <= day) {
    CLINIC_CHOICES[n] = CLINIC_FUNCTIONS.oncology;
    CLINIC_RATES[n++] = day - cancer.onset < 730 ? CONDITION_OUTPATIENT_RATE.cancerFirstTwoYears : CONDITION_OUTPATIENT_RATE.cancer;
  }
  const ckd = ctx.byKey.get('ckd');
  if (ckd && ckd.onset <= day && ckd.variant.name !== '3a') {
    CLINIC_CHOICES[n] = CLINIC_FUNCTIONS.nephrology;
    CLINIC_RATES[n++] = ckd.variant.name === '4' ? CONDITION_OUTPATIENT_RATE.ckd4 : CONDITION_OUTPATIENT_RATE.ckd3b;
  }
  const diabetes = ctx.byKey.get('diabetes');
  if (diabetes && diabetes.onset <= day) {
    CLINIC_CHOICES[n] = CLINIC_FUNCTIONS.diabetes;
    CLINIC_RATES[n++] = diabetes.variant.name === 't1' ? CONDITION_OUTPATIENT_RATE.diabetesType1 : CONDITION_OUTPATIENT_RATE.diabetesType2;
  }
  for (const [key, clinic, rate] of CLINICS) {
    if (!has(ctx, key, day)) continue;
    CLINIC_CHOICES[n] = clinic;
    CLINIC_RATES[n++] = rate;
  }
  return n;
}
const CLINICS: readonly (readonly [ConditionKey, CodeableConcept, number])[] = [
  ['heart_failure', CLINIC_FUNCTIONS.cardiology, CONDITION_OUTPATIENT_RATE.heart_failure],
  ['epilepsy', CLINIC_FUNCTIONS.neurology, CONDITION_OUTPATIENT_RATE.epilepsy],
  ['atrial_fibrillation', CLINIC_FUNCTIONS.cardiology, CONDITION_OUTPATIENT_RATE.atrial_fibrillation],
  ['chd', CLINIC_FUNCTIONS.cardiology, CONDITION_OUTPATIENT_RATE.chd],
  ['copd', CLINIC_FUNCTIONS.respiratory, CONDITION_OUTPATIENT_RATE.copd],
  ['stroke_tia', CLINIC_FUNCTIONS.stroke, CONDITION_OUTPATIENT_RATE.stroke_tia],
  ['osteoporosis', CLINIC_FUNCTIONS.rheumatology, CONDITION_OUTPATIENT_RATE.osteoporosis],
  ['asthma', CLINIC_FUNCTIONS.respiratory, CONDITION_OUTPATIENT_RATE.asthma],
];

/** Outpatient attendances a year outside RTT pathways: general clinics by age plus condition clinics. */
function conditionOutpatientRate(ctx: Ctx, day: number): number {
  let rate = outpatientBaseRate(ageAt(ctx, day));
  const n = clinicRates(ctx, day);
  for (let i = 0; i < n; i++) rate += CLINIC_RATES[i] as number;
  return rate;
}

/** The clinic of one attendance: a condition clinic, or undefined for a general one (drawn by the caller). */
function clinicFor(ctx: Ctx, day: number): CodeableConcept | undefined {
  const n = clinicRates(ctx, day);
  let total = outpatientBaseRate(ageAt(ctx, day));
  for (let i = 0; i < n; i++) total += CLINIC_RATES[i] as number;
  let x = ctx.rnd.next() * total;
  for (let i = 0; i < n; i++) {
    const r = CLINIC_RATES[i] as number;
    if (x < r) return CLINIC_CHOICES[i];
    x -= r;
  }
  return undefined;
}

function outpatientEncounter(
  ctx: Ctx,
  trust: Org,
  day: number,
  type: CodeableConcept[],
  service: CodeableConcept,
  extra: { rtt?: RttStatusCode; basedOn?: string; episode?: string; dna?: boolean } = {},
): string {
  const key = nextKey(ctx, 'op');
  const minute = daytime(ctx.rnd);
  const resource: Encounter = {
    resourceType: 'Encounter',
    status: extra.dna === true ? 'cancelled' : 'finished',
    class: ENCOUNTER_CLASS.ambulatory,
    type,
    serviceType: service,
    period: { start: at(day, minute), end: at(day, minute + 20) },
    serviceProvider: trust.ref,
  };
  if (extra.rtt !== undefined) resource.extension = [RTT_STATUS_EXTENSION[extra.rtt]];
  if (extra.basedOn !== undefined) resource.basedOn = [ref(extra.basedOn)];
  if (extra.episode !== undefined) resource.episodeOfCare = [ref(extra.episode)];
  push(ctx, trust.code, key, resource);
  return key;
}

function eligibleFunctions(ctx: Ctx, day: number): TreatmentFunction[] {
  const age = ageAt(ctx, day);
  const out: TreatmentFunction[] = [];
  for (const f of TREATMENT_FUNCTIONS) {
    if (f.sex !== undefined && f.sex !== ctx.r.sex) continue;
    if (f.minAge !== undefined && age < f.minAge) continue;
    if (f.maxAge !== undefined && age > f.maxAge) continue;
    out.push(f);
  }
  return out;
}

function chooseFunction(ctx: Ctx, day: number): TreatmentFunction {
  const options = eligibleFunctions(ctx, day);
  let total = 0;
  for (const f of options) total += f.weight;
  let x = ctx.rnd.next() * total;
  for (const f of options) {
    if (x < f.weight) return f;
    x -= f.weight;
  }
  return (options[0] ?? TREATMENT_FUNCTIONS[0]) as TreatmentFunction;
}

function outpatients(ctx: Ctx): void {
  const rnd = ctx.rnd;
  for (let from = ctx.start; from < ctx.end; from += SLICE) {
    const to = Math.min(from + SLICE, ctx.end);
    const years = (to - from) / YEAR;
    const mid = (from + to) >> 1;
    const n = rnd.poisson(conditionOutpatientRate(ctx, mid) * years);
    for (let i = 0; i < n; i++) {
      const day = dayIn(rnd, from, to);
      const service = clinicFor(ctx, day) ?? chooseFunction(ctx, day).concept;
      outpatientEncounter(ctx, acute(ctx), day, rnd.next() < 0.25 ? ENCOUNTER_TYPE.followUpTelephone : ENCOUNTER_TYPE.followUpAttendance, service);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Acute trust: elective referrals and RTT pathways

type WaitComponent = (typeof WAIT_COMPONENTS)[number]['name'];

function pickShare<K extends string>(rnd: Random, shares: Readonly<Record<K, number>>): K {
  let x = rnd.next();
  let last: K | undefined;
  for (const k in shares) {
    last = k;
    if (x < shares[k]) return k;
    x -= shares[k];
  }
  return last as K;
}

function digits(rnd: Random, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(Math.floor(rnd.next() * 10));
  return s;
}

function electivePathways(ctx: Ctx): void {
  const rnd = ctx.rnd;
  for (let from = ctx.start; from < ctx.end; from += SLICE) {
    const to = Math.min(from + SLICE, ctx.end);
    const years = (to - from) / YEAR;
    const mid = (from + to) >> 1;
    const n = rnd.poisson(referralRate(profileAt(ctx, mid)) * years);
    for (let i = 0; i < n; i++) pathway(ctx, dayIn(rnd, from, to));
  }
}

/**
 * One RTT pathway from a GP referral received on `clockStart`: the referral, the pathway, its
 * attendances and, for admitted pathways, the elective admission with its procedure. Its length
 * comes from `WAIT_COMPONENTS`; it is still open at `asOf` when it would stop later.
 */
function pathway(ctx: Ctx, clockStart: number): void {
  const rnd = ctx.rnd;
  const trust = acute(ctx);
  const tf = chooseFunction(ctx, clockStart);
  let x = rnd.next();
  let component: WaitComponent = 'long';
  for (const c of WAIT_COMPONENTS) {
    if (x < c.weight) {
      component = c.name;
      break;
    }
    x -= c.weight;
  }
  const shape = WAIT_COMPONENTS.find((c) => c.name === component) ?? WAIT_COMPONENTS[0];
  const length = Math.max(1, Math.round(lognormal(rnd, shape.medianWeeks, shape.sigma) * 7));
  const admitted = tf.admittedShare > 0 && rnd.next() < Math.min(0.95, tf.admittedShare * (component === 'fast' ? 0.3 : 1.9));
  const priority = PRIORITY_TYPES[pickShare(rnd, PRIORITY_TYPE_SHARES[component])];
  let stopCode: RttStatusCode = admitted ? '30' : pickShare(rnd, NON_ADMITTED_STOP_SHARES);
  let firstAppointment = clockStart + Math.max(7, Math.round(length * (component === 'fast' ? 0.8 : 0.3)));
  let stop = stopCode === '33' ? firstAppointment : clockStart + length;
  if (firstAppointment > stop) firstAppointment = stop;
  if (ctx.death < stop && ctx.death <= ctx.asOf) {
    stop = ctx.death;
    stopCode = '36';
  }
  const open = stop > ctx.asOf;
  const ppid = trust.code + digits(rnd, 12);

  // The referral, as the trust received it from the practice (the GP sent it a few days before).
  const referralKey = nextKey(ctx, 'ref');
  const referral: Held<ServiceRequest> = {
    resourceType: 'ServiceRequest',
    extension: [REFERRED_BY_GP, priority.extension],
    identifier: [
      { system: UBRN_SYSTEM, value: digits(rnd, 12) },
      { system: PPID_SYSTEM, value: ppid, assigner: trust.ref },
    ],
    status: open ? 'active' : 'completed',
    intent: 'order',
    category: REFERRAL_CATEGORY,
    priority: priority.fhir,
    code: tf.concept,
    authoredOn: isoDate(clockStart - Math.floor(rnd.next() * 6)),
    requester: ctx.gp.ref,
    performer: [trust.ref],
    reasonCode: [rnd.pick(tf.reasons)],
  };
  push(ctx, trust.code, referralKey, referral);

  const episodeKey = nextKey(ctx, 'rtt');
  const extension: Extension[] = [];
  const state: PathwayState = { trust, tf, referral: referralKey, episode: episodeKey, status: '10' };

  if (stopCode === '33') {
    // Did not attend the first appointment: the clock is nullified at it.
    if (!open) attend(ctx, state, firstAppointment, ENCOUNTER_TYPE.firstAttendance, '33', true);
  } else if (firstAppointment < stop || stopCode !== '36') {
    // The first appointment; for slower pathways one or two follow-ups (diagnostics, results) before the stop.
    // A pathway that ends in clinic at the first appointment stops there.
    const stopsAtFirst = !open && !admitted && stopCode !== '36' && firstAppointment === stop;
    attend(ctx, state, firstAppointment, ENCOUNTER_TYPE.firstAttendance, stopsAtFirst ? stopCode : '20', false);
    const followUps = component === 'fast' ? 0 : 1 + (rnd.next() < 0.5 ? 1 : 0);
    for (let f = 1; f <= followUps; f++) {
      const day = firstAppointment + Math.round(((stop - firstAppointment) * f) / (followUps + 1));
      if (day < stop) attend(ctx, state, day, ENCOUNTER_TYPE.followUpAttendance, '20', false);
    }
    if (admitted && firstAppointment <= ctx.end) {
      // The decision to admit is made at the first appointment, and the clinical priority with it.
      extension.push(CLINICAL_PRIORITY_EXTENSION[pickShare<ClinicalPriorityCode>(rnd, CLINICAL_PRIORITY_SHARES[component])]);
    }
    if (!open && stopCode === '30' && admitted) electiveAdmission(ctx, trust, stop, tf, referralKey, episodeKey);
    else if (!open && stopCode !== '36' && !stopsAtFirst) attend(ctx, state, stop, ENCOUNTER_TYPE.followUpAttendance, stopCode, false);
  }
  const status: RttStatusCode = open ? state.status : stopCode;
  extension.unshift(RTT_STATUS_EXTENSION[status]);

  const episode: Held<EpisodeOfCare> = {
    resourceType: 'EpisodeOfCare',
    extension,
    identifier: [{ system: PPID_SYSTEM, value: ppid, assigner: trust.ref }],
    status: open ? 'waitlist' : 'finished',
    type: [CARE_SERVICES.rttPathway, tf.concept],
    managingOrganization: trust.ref,
    period: open ? { start: isoDate(clockStart) } : { start: isoDate(clockStart), end: isoDate(stop) },
    referralRequest: [ref(referralKey)],
  };
  if (!open) episode.statusHistory = [{ status: 'waitlist', period: { start: isoDate(clockStart), end: isoDate(stop) } }];
  push(ctx, trust.code, episodeKey, episode);
}

interface PathwayState {
  trust: Org;
  tf: TreatmentFunction;
  referral: string;
  episode: string;
  /** The RTT status of the latest activity. */
  status: RttStatusCode;
}

/** An attendance on a pathway (none after asOf or death), carrying its RTT period status. */
function attend(ctx: Ctx, state: PathwayState, day: number, type: CodeableConcept[], code: RttStatusCode, dna: boolean): void {
  if (day > ctx.end) return;
  outpatientEncounter(ctx, state.trust, day, type, state.tf.concept, { rtt: code, basedOn: state.referral, episode: state.episode, dna });
  state.status = code;
}

/** The admission that treats an admitted pathway: a day case mostly, with its OPCS-4 procedure. */
function electiveAdmission(ctx: Ctx, trust: Org, day: number, tf: TreatmentFunction, referral: string, episode: string): void {
  const rnd = ctx.rnd;
  const procedure = rnd.pick(tf.procedures);
  const major = procedure === tf.procedures[0] && tf.code === '110';
  const stay = major ? 2 + Math.floor(rnd.next() * 3) : rnd.next() < 0.8 ? 0 : 1;
  const discharge = Math.min(day + stay, ctx.end);
  const key = nextKey(ctx, 'adm');
  const resource: Encounter = {
    resourceType: 'Encounter',
    extension: [ADMISSION_METHOD.waitingList, DISCHARGE_METHOD.clinical, RTT_STATUS_EXTENSION['30']],
    status: 'finished',
    class: ENCOUNTER_CLASS.inpatient,
    type: ENCOUNTER_TYPE.hospitalAdmission,
    serviceType: tf.concept,
    basedOn: [ref(referral)],
    episodeOfCare: [ref(episode)],
    period: { start: at(day, 450), end: at(discharge, stay === 0 ? 960 : 660) },
    hospitalization: { admitSource: ADMIT_SOURCE_HOME, dischargeDisposition: DISCHARGE.home },
    serviceProvider: trust.ref,
  };
  push(ctx, trust.code, key, resource);
  const p: Held<Procedure> = { resourceType: 'Procedure', status: 'completed', code: procedure, encounter: ref(key), performedDateTime: isoDate(day) };
  push(ctx, trust.code, nextKey(ctx, 'proc'), p);
}

// ---------------------------------------------------------------------------------------------
// Acute trust: pregnancy, antenatal care and delivery (mothers); birth (babies)

const ANTENATAL_WEEKS = [10, 12, 16, 20, 28, 34, 36, 38];

/** Share of a year a pregnancy is known (from about 8 weeks to birth at 40): the chance a woman is pregnant at asOf, per birth a year. */
const KNOWN_PREGNANT_SHARE = 32 / 52;

/**
 * The days a woman gives birth: her births in the window from population.ts, and, drawn from the
 * fertility rate at her age, a pregnancy under way at asOf (its birth still to come).
 */
function birthDays(ctx: Ctx): number[] {
  if (ctx.r.sex !== 'female') return [];
  const out: number[] = [];
  for (const date of ctx.r.births ?? []) {
    const day = dayNumber(date);
    if (day >= ctx.start && day <= ctx.end) out.push(day);
  }
  if (ctx.death > ctx.asOf) {
    const rate = fertilityRate(Math.floor(ageAt(ctx, ctx.asOf)));
    const last = out.length === 0 ? -Infinity : (out[out.length - 1] as number);
    if (rate > 0 && ctx.asOf - last > 300 && ctx.rnd.next() < rate * KNOWN_PREGNANT_SHARE) out.push(ctx.asOf + 1 + Math.floor(ctx.rnd.next() * 224));
  }
  return out;
}

function maternity(ctx: Ctx): void {
  const births = birthDays(ctx);
  if (births.length === 0) return;
  births.sort((x, y) => x - y);
  const rnd = ctx.rnd;
  const trust = org(ctx, acuteTrustFor(ctx.area, ctx.r.lad));
  for (const birth of births) {
    const conception = birth - 266;
    if (conception + 56 > ctx.end) continue; // not yet known to be pregnant
    const delivered = birth <= ctx.end;
    const pregnancyKey = nextKey(ctx, 'preg');
    const pregnancy: Held<Condition> = {
      resourceType: 'Condition',
      clinicalStatus: delivered ? CLINICAL_RESOLVED : CLINICAL_ACTIVE,
      verificationStatus: VERIFICATION_CONFIRMED,
      category: CATEGORY_PROBLEM,
      code: PREGNANCY,
      onsetDateTime: isoDate(conception),
      recordedDate: isoDate(conception + 56),
    };
    if (delivered) pregnancy.abatementDateTime = isoDate(birth);
    push(ctx, trust.code, pregnancyKey, pregnancy);
    for (let i = 0; i < ANTENATAL_WEEKS.length; i++) {
      const day = birth - 280 + 7 * (ANTENATAL_WEEKS[i] as number);
      if (day < ctx.start || day > ctx.end || day >= birth) continue;
      const key = nextKey(ctx, 'anc');
      const minute = daytime(rnd);
      const resource: Encounter = {
        resourceType: 'Encounter',
        status: 'finished',
        class: ENCOUNTER_CLASS.ambulatory,
        type: i === 0 ? ENCOUNTER_TYPE.antenatal : ENCOUNTER_TYPE.antenatalFollowUp,
        serviceType: CLINIC_FUNCTIONS.obstetrics,
        reasonReference: [ref(pregnancyKey)],
        period: { start: at(day, minute), end: at(day, minute + 30) },
        serviceProvider: trust.ref,
      };
      push(ctx, trust.code, key, resource);
    }
    if (!delivered) continue;
    const x = rnd.next();
    const kind = x < CAESAREAN_SHARE.elective ? 'elective' : x < CAESAREAN_SHARE.elective + CAESAREAN_SHARE.emergency ? 'emergency' : 'normal';
    const stay = Math.min(kind === 'normal' ? (rnd.next() < 0.6 ? 1 : 2) : 2 + Math.floor(rnd.next() * 2), ctx.end - birth);
    const key = nextKey(ctx, 'adm');
    const dx = nextKey(ctx, 'dx');
    const outcome = nextKey(ctx, 'dx');
    const startMinute = stay === 0 ? Math.min(anytime(rnd), 1200) : anytime(rnd);
    const resource: Encounter = {
      resourceType: 'Encounter',
      extension: [ADMISSION_METHOD.maternityAntePartum, DISCHARGE_METHOD.clinical],
      status: 'finished',
      class: ENCOUNTER_CLASS.inpatient,
      type: ENCOUNTER_TYPE.hospitalAdmission,
      serviceType: CLINIC_FUNCTIONS.obstetrics,
      diagnosis: [
        { condition: ref(dx), use: DIAGNOSIS_PRIMARY, rank: 1 },
        { condition: ref(outcome), use: DIAGNOSIS_PRIMARY, rank: 2 },
      ],
      period: { start: at(birth, startMinute), end: at(birth, Math.max(startMinute + 120, stay * 1440 + 660)) },
      hospitalization: { admitSource: ADMIT_SOURCE_HOME, dischargeDisposition: DISCHARGE.home },
      serviceProvider: trust.ref,
    };
    push(ctx, trust.code, key, resource);
    push(ctx, trust.code, dx, hospitalDiagnosis(kind === 'normal' ? DELIVERY_DIAGNOSIS.normal : DELIVERY_DIAGNOSIS.caesarean, key, birth));
    push(ctx, trust.code, outcome, hospitalDiagnosis(DELIVERY_DIAGNOSIS.liveBirth, key, birth));
    const code = kind === 'normal' ? OPCS_PROCEDURES.normalDelivery : kind === 'elective' ? OPCS_PROCEDURES.electiveCaesarean : OPCS_PROCEDURES.emergencyCaesarean;
    const p: Held<Procedure> = { resourceType: 'Procedure', status: 'completed', code, encounter: ref(key), performedDateTime: isoDate(birth) };
    push(ctx, trust.code, nextKey(ctx, 'proc'), p);
  }
}

/** A baby born in the window: its birth episode at the district's main trust. */
function birthOf(ctx: Ctx): void {
  if (ctx.birth < ctx.start || ctx.birth > ctx.end) return;
  const trust = org(ctx, acuteTrustFor(ctx.area, ctx.r.lad));
  const key = nextKey(ctx, 'adm');
  const dx = nextKey(ctx, 'dx');
  const stay = Math.min(ctx.rnd.next() < 0.7 ? 1 : 2, ctx.end - ctx.birth);
  const startMinute = stay === 0 ? Math.min(anytime(ctx.rnd), 1200) : anytime(ctx.rnd);
  const resource: Encounter = {
    resourceType: 'Encounter',
    extension: [ADMISSION_METHOD.birth, DISCHARGE_METHOD.clinical],
    status: 'finished',
    class: ENCOUNTER_CLASS.inpatient,
    type: ENCOUNTER_TYPE.hospitalAdmission,
    serviceType: CLINIC_FUNCTIONS.wellBabies,
    diagnosis: [{ condition: ref(dx), use: DIAGNOSIS_PRIMARY, rank: 1 }],
    period: { start: at(ctx.birth, startMinute), end: at(ctx.birth, Math.max(startMinute + 120, stay * 1440 + 660)) },
    hospitalization: { admitSource: ADMIT_SOURCE_BIRTH, dischargeDisposition: DISCHARGE.home },
    serviceProvider: trust.ref,
  };
  push(ctx, trust.code, key, resource);
  push(ctx, trust.code, dx, hospitalDiagnosis(DELIVERY_DIAGNOSIS.newborn, key, ctx.birth));
}

// ---------------------------------------------------------------------------------------------
// Community, mental health and social care episodes

function episodeOfCare(ctx: Ctx, holder: Org, type: CodeableConcept, from: number, to: number, why?: EpisodeWhy, condition?: HeldCondition): string {
  const key = nextKey(ctx, 'eoc');
  const finished = to < ctx.asOf || ctx.death <= ctx.asOf;
  if (why !== undefined) ctx.episodes.push({ why, key, holder, from, end: Math.min(to, ctx.end), finished, ...(condition ? { condition } : {}) });
  const resource: Held<EpisodeOfCare> = {
    resourceType: 'EpisodeOfCare',
    status: finished ? 'finished' : 'active',
    type: [type],
    managingOrganization: holder.ref,
    period: finished ? { start: isoDate(from), end: isoDate(Math.min(to, ctx.end)) } : { start: isoDate(from) },
  };
  push(ctx, holder.code, key, resource);
  return key;
}

function contact(ctx: Ctx, holder: Org, episode: string, day: number, cls: Encounter['class'], type: CodeableConcept[] | undefined, service: CodeableConcept, minutes: number): void {
  const minute = daytime(ctx.rnd);
  const resource: Encounter = {
    resourceType: 'Encounter',
    status: 'finished',
    class: cls,
    serviceType: service,
    episodeOfCare: [ref(episode)],
    period: { start: at(day, minute), end: at(day, minute + minutes) },
    serviceProvider: holder.ref,
  };
  if (type) resource.type = type;
  push(ctx, holder.code, nextKey(ctx, 'enc'), resource);
}

/** Contacts spread evenly at random over [from, to]. */
function contacts(ctx: Ctx, holder: Org, episode: string, from: number, to: number, count: number, cls: Encounter['class'], type: CodeableConcept[] | undefined, service: CodeableConcept, minutes: number): void {
  const lo = Math.max(from, ctx.start);
  const hi = Math.min(to, ctx.end);
  if (hi < lo) return;
  for (let i = 0; i < count; i++) contact(ctx, holder, episode, dayIn(ctx.rnd, lo, hi), cls, type, service, minutes);
}

function communityNursing(ctx: Ctx): void {
  const rnd = ctx.rnd;
  const trust = org(ctx, communityTrustFor(ctx.area, ctx.r.lad));
  const f = frailtyIndex(ctx.r.frailty);
  const dies = ctx.death <= ctx.asOf && ctx.death >= ctx.start;
  const older = ageAt(ctx, ctx.end) >= 65;
  if (older && rnd.next() < (DISTRICT_NURSING.share[f] ?? 0)) {
    const from = dayIn(rnd, Math.max(ctx.start - 365, f > 0 ? Math.min(ctx.frailtyOnset, ctx.end) : ctx.start), ctx.end);
    const to = f >= 2 || rnd.next() < 0.5 ? ctx.end : Math.min(ctx.end, from + 90 + Math.floor(rnd.next() * 270));
    const episode = episodeOfCare(ctx, trust, CARE_SERVICES.districtNursing, from, to === ctx.end && !dies ? Infinity : to, 'district-nursing');
    const years = (Math.min(to, ctx.end) - Math.max(from, ctx.start)) / YEAR;
    contacts(ctx, trust, episode, from, to, rnd.poisson(Math.max(0, years) * (DISTRICT_NURSING.contactsPerYear[f] ?? 6)), ENCOUNTER_CLASS.homeHealth, ENCOUNTER_TYPE.homeVisit, CARE_SERVICES.districtNursing, 30);
  }
  if (dies && rnd.next() < DISTRICT_NURSING.endOfLifeShare) {
    // Care in the last weeks of life: visits twice a week for up to twelve weeks.
    const from = Math.max(ctx.start, ctx.death - 84);
    const episode = episodeOfCare(ctx, trust, CARE_SERVICES.districtNursing, from, ctx.death, 'end-of-life-nursing');
    const weeks = (ctx.death - from) / 7;
    contacts(ctx, trust, episode, from, ctx.death, rnd.poisson(weeks * DISTRICT_NURSING.endOfLifeVisitsPerWeek), ENCOUNTER_CLASS.homeHealth, ENCOUNTER_TYPE.homeVisit, CARE_SERVICES.districtNursing, 40);
  }
}

function mentalHealth(ctx: Ctx): void {
  const rnd = ctx.rnd;
  const smi = ctx.byKey.get('smi');
  const depression = ctx.byKey.get('depression');
  const dementia = ctx.byKey.get('dementia');
  if (!smi && !depression && !(dementia && dementia.onset >= ctx.start)) return;
  const trust = org(ctx, mentalHealthTrustFor(ctx.area, ctx.r.lad));
  if (smi && rnd.next() < MENTAL_HEALTH.smiEpisodeShare) {
    const from = Math.max(smi.onset, ctx.start - Math.floor(rnd.next() * 3 * 365));
    const episode = episodeOfCare(ctx, trust, CARE_SERVICES.communityMentalHealth, from, Infinity, 'smi-cmht', smi);
    const years = (ctx.end - Math.max(from, ctx.start)) / YEAR;
    contacts(ctx, trust, episode, from, ctx.end, rnd.poisson(Math.max(0, years) * MENTAL_HEALTH.smiContactsPerYear), ENCOUNTER_CLASS.ambulatory, undefined, CARE_SERVICES.communityMentalHealth, 45);
  }
  if (depression && ageAt(ctx, ctx.end) >= 16) {
    for (let from = Math.max(ctx.start, depression.onset); from < ctx.end; from += SLICE) {
      const to = Math.min(from + SLICE, ctx.end);
      const years = (to - from) / YEAR;
      if (rnd.next() < MENTAL_HEALTH.talkingTherapiesPerYear * years) {
        const start = dayIn(rnd, from, to);
        const [lo, hi] = MENTAL_HEALTH.talkingTherapiesSessions;
        const sessions = lo + Math.floor(rnd.next() * (hi - lo + 1));
        const end = start + sessions * 14;
        const episode = episodeOfCare(ctx, trust, CARE_SERVICES.talkingTherapies, start, end);
        contacts(ctx, trust, episode, start, end, sessions, ENCOUNTER_CLASS.virtual, undefined, CARE_SERVICES.talkingTherapies, 50);
      }
      if (rnd.next() < MENTAL_HEALTH.depressionCmhtPerYear * years) {
        const start = dayIn(rnd, from, to);
        const end = start + 180;
        const episode = episodeOfCare(ctx, trust, CARE_SERVICES.communityMentalHealth, start, end);
        contacts(ctx, trust, episode, start, end, MENTAL_HEALTH.depressionCmhtContacts, ENCOUNTER_CLASS.ambulatory, undefined, CARE_SERVICES.communityMentalHealth, 45);
      }
    }
  }
  if (dementia && dementia.onset >= ctx.start) {
    // The memory assessment service diagnoses dementia: a few contacts in the months before the diagnosis.
    const from = Math.max(ctx.start, dementia.onset - 90);
    const episode = episodeOfCare(ctx, trust, CARE_SERVICES.communityMentalHealth, from, Math.min(dementia.onset + 30, ctx.end));
    contacts(ctx, trust, episode, from, dementia.onset, MENTAL_HEALTH.memoryClinicContacts, ENCOUNTER_CLASS.ambulatory, undefined, CARE_SERVICES.communityMentalHealth, 60);
  }
}

function socialCare(ctx: Ctx): void {
  const rnd = ctx.rnd;
  const age = ageAt(ctx, ctx.end);
  if (age < 18) return;
  const council = ctx.area.councils.find((c) => c.code === ctx.r.council);
  const holder = org(ctx, { code: ctx.r.council, name: council?.name ?? ctx.r.council });
  const f = frailtyIndex(ctx.r.frailty);
  const dementia = ctx.byKey.get('dementia');
  const ld = ctx.byKey.has('learning_disability');
  let p = age >= 65 ? (SOCIAL_CARE.longTermShareByFrailty[f] ?? 0) : 0;
  if (dementia) p = Math.min(0.9, p + SOCIAL_CARE.dementiaExtra);
  if (ld) p = Math.max(p, SOCIAL_CARE.learningDisabilityShare);
  if (p > 0 && rnd.next() < p) {
    const mix = ld && age < 65 ? SOCIAL_CARE.learningDisabilityServiceMix : SOCIAL_CARE.olderServiceMix;
    const service = ASC_SERVICES[pickShare(rnd, mix)];
    // Support that began before the window for some; otherwise when frailty or dementia set in.
    const earliest = ld && age < 65 ? ctx.start - 5 * 365 : Math.max(ctx.start - 2 * 365, Math.min(ctx.frailtyOnset, dementia?.onset ?? Infinity, ctx.end));
    const from = dayIn(rnd, Math.min(earliest, ctx.end), ctx.end);
    const episode = episodeOfCare(ctx, holder, service, from, Infinity, 'social-care');
    if (from >= ctx.start) contact(ctx, holder, episode, Math.max(ctx.start, from - 14 - Math.floor(rnd.next() * 30)), ENCOUNTER_CLASS.homeHealth, ASC_ACTIVITIES.assessment, service, 90);
    for (let day = Math.max(from, ctx.start) + 300 + Math.floor(rnd.next() * 120); day <= ctx.end; day += 365 / SOCIAL_CARE.reviewsPerYear) {
      contact(ctx, holder, episode, Math.floor(day), ENCOUNTER_CLASS.homeHealth, ASC_ACTIVITIES.review, service, 60);
    }
  }
  // Reablement after a hospital stay.
  for (const discharge of ctx.discharges) {
    if (discharge > ctx.end || rnd.next() >= SOCIAL_CARE.reablementAfterAdmission) continue;
    const end = Math.min(discharge + SOCIAL_CARE.reablementWeeks * 7, ctx.end);
    const episode = episodeOfCare(ctx, holder, ASC_SERVICES.reablement, discharge, end < ctx.asOf ? end : Infinity);
    contact(ctx, holder, episode, discharge, ENCOUNTER_CLASS.homeHealth, ASC_ACTIVITIES.assessment, ASC_SERVICES.reablement, 60);
  }
}

// ---------------------------------------------------------------------------------------------
// Care teams and care plans (their own sub-stream; activity.ts CARE_PLANNING)
//
// - the mental health trust: for everyone with SMI on its community mental health team's
//   caseload, the team (a named care coordinator and consultant psychiatrist) and its care plan;
// - the community trust: the district nursing team (a named district nurse) for each episode;
// - the council: for each long-term service, the person's social worker and their care and
//   support plan;
// - the GP practice: for some people with severe frailty a proactive care team (a GP and the
//   PCN's care coordinator) and an advance care plan, and for some who die under district nursing
//   care in their last weeks an end-of-life care plan.

/** The fork label of the care team and care plan sub-stream ("car"). */
const CARE_FORK = 0x636172;

type StaffRole = keyof typeof CARE_PLANNING.staffPerTeam;

const STAFF_ETHNICITY_CODES = Object.keys(CARE_PLANNING.staffEthnicity);
const STAFF_ETHNICITY_WEIGHTS = Object.values(CARE_PLANNING.staffEthnicity);
/** Each organisation's named staff by role, made once per process from the code alone (the same in every worker). */
const STAFF = new Map<string, readonly string[]>();

/**
 * A named member of an organisation's staff in a role, drawn from that organisation's own list
 * (CARE_PLANNING.staffPerTeam long), so the same care coordinator has a caseload of residents.
 * The list depends only on the organisation's code and the role, never on the seed.
 */
function staffMember(rnd: Random, organisation: string, role: StaffRole): string {
  const id = `${organisation}:${role}`;
  let staff = STAFF.get(id);
  if (staff === undefined) {
    const names = new Random(hash32(id), 0);
    const doctor = role === 'psychiatrist' || role === 'generalPractitioner';
    const list: string[] = [];
    for (let i = 0; i < CARE_PLANNING.staffPerTeam[role]; i++) {
      const sex = names.chance(CARE_PLANNING.femaleShare[role]) ? 'female' : 'male';
      const ethnicity = names.weighted(STAFF_ETHNICITY_CODES, STAFF_ETHNICITY_WEIGHTS);
      const born = names.int(1962, 1998);
      const name = `${givenNameFor(names, sex, born, ethnicity)} ${surnameFor(names, ethnicity, sex)}`;
      list.push(doctor ? `Dr ${name}` : name);
    }
    staff = list;
    STAFF.set(id, staff);
  }
  return rnd.pick(staff);
}

function careParticipant(rnd: Random, holder: Org, role: StaffRole, concept: CodeableConcept): CareTeamParticipant {
  return { role: [concept], member: { display: staffMember(rnd, holder.code, role) }, onBehalfOf: holder.ref };
}

function carePeriod(from: number, end: number, finished: boolean): { start: string; end?: string } {
  return finished ? { start: isoDate(from), end: isoDate(Math.max(from, end)) } : { start: isoDate(from) };
}

/** What a care team is for: the GP's problem-list record and its code. */
interface CareReason {
  record: string;
  code: CodeableConcept;
}

function careTeam(ctx: Ctx, holder: Org, name: string, from: number, end: number, finished: boolean, participant: CareTeamParticipant[], reason?: CareReason): string {
  const key = nextKey(ctx, 'team');
  const resource: Held<CareTeam> = {
    resourceType: 'CareTeam',
    status: finished ? 'inactive' : 'active',
    name,
    period: carePeriod(from, end, finished),
    participant,
    managingOrganization: [holder.ref],
  };
  // A reason the holder itself records: the GP's own problem-list record, else the condition's code.
  if (reason !== undefined) {
    if (holder.code === ctx.gp.code) resource.reasonReference = [ref(reason.record)];
    else resource.reasonCode = [reason.code];
  }
  push(ctx, holder.code, key, resource);
  return key;
}

interface PlanSpec {
  category: CodeableConcept[];
  title: string;
  from: number;
  end: number;
  finished: boolean;
  team?: string;
  episode?: string;
  /** A record of the same holder the plan addresses (the GP's problem-list Condition). */
  addresses?: string;
}

function carePlan(ctx: Ctx, rnd: Random, holder: Org, spec: PlanSpec): void {
  const created = Math.min(spec.finished ? spec.end : ctx.end, spec.from + Math.floor(rnd.next() * CARE_PLANNING.planWithinDays));
  const resource: Held<CarePlan> = {
    resourceType: 'CarePlan',
    status: spec.finished ? 'completed' : 'active',
    intent: 'plan',
    category: spec.category,
    title: spec.title,
    period: carePeriod(spec.from, spec.end, spec.finished),
    created: isoDate(Math.max(spec.from, created)),
    author: holder.ref,
  };
  if (spec.team !== undefined) resource.careTeam = [ref(spec.team)];
  if (spec.addresses !== undefined) resource.addresses = [ref(spec.addresses)];
  if (spec.episode !== undefined) resource.supportingInfo = [ref(spec.episode)];
  push(ctx, holder.code, nextKey(ctx, 'plan'), resource);
}

function careRecords(ctx: Ctx, rnd: Random): void {
  // The GP's decisions are drawn first, always, so they never shift with the episodes.
  const proactive = rnd.chance(CARE_PLANNING.proactiveCareTeamShare);
  const advance = rnd.chance(CARE_PLANNING.advanceCarePlanShare);
  for (const e of ctx.episodes) {
    switch (e.why) {
      case 'smi-cmht': {
        const team = careTeam(ctx, e.holder, 'Community mental health team', e.from, e.end, e.finished, [careParticipant(rnd, e.holder, 'careCoordinator', CARE_TEAM_ROLES.careCoordinator), careParticipant(rnd, e.holder, 'psychiatrist', CARE_TEAM_ROLES.psychiatrist)], e.condition && { record: e.condition.record, code: e.condition.variant.gp });
        carePlan(ctx, rnd, e.holder, { category: CARE_PLAN_CATEGORIES.carePlan, title: 'Community mental health care plan', from: e.from, end: e.end, finished: e.finished, team, episode: e.key });
        break;
      }
      case 'district-nursing':
      case 'end-of-life-nursing': {
        careTeam(ctx, e.holder, 'District nursing team', e.from, e.end, e.finished, [careParticipant(rnd, e.holder, 'districtNurse', CARE_TEAM_ROLES.districtNurse)]);
        if (e.why === 'end-of-life-nursing' && rnd.chance(CARE_PLANNING.endOfLifePlanShare)) {
          const plan: PlanSpec = { category: CARE_PLAN_CATEGORIES.endOfLife, title: 'End of life care plan', from: e.from, end: e.end, finished: e.finished };
          if (ctx.frailtyRecord !== undefined) plan.addresses = ctx.frailtyRecord;
          carePlan(ctx, rnd, ctx.gp, plan);
        }
        break;
      }
      case 'social-care': {
        const team = careTeam(ctx, e.holder, 'Adult social care', e.from, e.end, e.finished, [careParticipant(rnd, e.holder, 'socialWorker', CARE_TEAM_ROLES.socialWorker)]);
        carePlan(ctx, rnd, e.holder, { category: CARE_PLAN_CATEGORIES.careAndSupport, title: 'Care and support plan', from: e.from, end: e.end, finished: e.finished, team, episode: e.key });
        break;
      }
    }
  }
  if (ctx.r.frailty === 'severe' && ctx.frailtyRecord !== undefined && (proactive || advance)) {
    // From when the frailty was found (or the window began) to the end of the history.
    const finished = ctx.death <= ctx.asOf;
    const from = dayIn(rnd, Math.min(Math.max(ctx.frailtyOnset, ctx.start), ctx.end), ctx.end);
    const frailty: CareReason = { record: ctx.frailtyRecord, code: FRAILTY_FINDING[ctx.r.frailty] };
    if (proactive) {
      careTeam(ctx, ctx.gp, 'Proactive care team', from, ctx.end, finished, [careParticipant(rnd, ctx.gp, 'generalPractitioner', CARE_TEAM_ROLES.generalPractitioner), careParticipant(rnd, ctx.gp, 'pcnCareCoordinator', CARE_TEAM_ROLES.careCoordinator)], frailty);
    }
    if (advance) carePlan(ctx, rnd, ctx.gp, { category: CARE_PLAN_CATEGORIES.advanceCare, title: 'Advance care plan', from, end: ctx.end, finished, addresses: ctx.frailtyRecord });
  }
}
