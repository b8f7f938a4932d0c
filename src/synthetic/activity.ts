/**
 * The activity model: how often residents use each service, and how long they wait for elective
 * care, with the published figures each parameter comes from. history.ts draws every event from
 * these rates; the profile command compares a generated population with `ACTIVITY_TARGETS`.
 *
 * Rates are events per person-year. Each is an age-band base rate for a resident with no
 * long-term condition, not frail and of middle deprivation, times multipliers for frailty, the
 * number of long-term conditions and the IMD decile, so the population rate comes out at the
 * national figure for a population with England's mix (the unit tests check this on a mixed
 * population of hand-made residents; the profile command checks it on a generated one).
 *
 * Sources (England, the latest full year before 2026 unless said):
 * - GP: NHS England "Appointments in General Practice" (about 30 million appointments a month
 *   for about 63 million registered patients, roughly half of them with a GP: about 5 a year
 *   per person with a GP or nurse for a clinical reason); consultation rates by age and sex from
 *   Hippisley-Cox & Vinogradova, "Trends in consultation rates in general practice 1995-2009"
 *   (QResearch, NHS Information Centre 2009): women consult about 1.3 times as often as men of
 *   working age; people over 85 about 3 times the average; people in the most deprived areas
 *   consult about a fifth more often than in the least deprived (same source).
 * - A&E: NHS England "A&E Attendances and Emergency Admissions" 2023-24 (26 million attendances,
 *   all types, about 0.45 per person; type 1 about 0.28) and HES A&E / ECDS by age (U-shaped:
 *   highest under 5 and over 80) and by deprivation (the most deprived decile about twice the
 *   least deprived).
 * - Emergency admissions: the same monthly collection (about 550,000 a month, 0.11 per person a
 *   year), HES admitted patient care by age (rising steeply after 65); frailty hazard ratios for
 *   hospitalisation from Clegg et al., Age Ageing 2016 (eFI mild 1.93, moderate 3.04, severe
 *   4.73); each additional long-term condition about 1.2 times the rate (Cassell et al., Br J Gen
 *   Pract 2018, multimorbidity and unplanned admissions); most deprived quintile about 1.7 times
 *   the least (HES, standardised by age).
 * - Ambulance: NHS England Ambulance Quality Indicators 2023-24 (about 9 million incidents a
 *   year, 0.15 per person; about half conveyed to an emergency department, the rest seen and
 *   treated or dealt with by telephone).
 * - Outpatients: NHS Digital HES outpatient activity 2023-24 (about 130 million attendances,
 *   about 2.2 per person), rising with age.
 * - Elective referrals: NHS England Referral to Treatment statistics (about 1.6-1.8 million new
 *   RTT periods (clock starts) a month, about 0.3 per person a year).
 * - Waiting times: NHS England RTT statistics for incomplete pathways, 2024-26 (median wait about
 *   14 weeks, 58-60% within 18 weeks, 2-3% over 52 weeks; about 7.4 million pathways).
 * - Community nursing: the King's Fund, "Understanding quality in district nursing services"
 *   (2016): district nurses make about 100 million visits a year in England, mostly to housebound
 *   older people and people in their last months of life; our model covers frailty and end of
 *   life only, so its target is below that whole figure.
 * - Mental health: NHS England Mental Health Services Data Set and NHS Talking Therapies annual
 *   reports (about 1.2 million people a year finish a course of talking therapy; most people with
 *   serious mental illness are in contact with secondary services).
 * - Adult social care: NHS England Adult Social Care Activity and Finance Report 2023-24 (about
 *   835,000 people had long-term support during the year, about 1.8% of adults; about 5% of
 *   people aged 65 and over), with about 45% of older clients at home with home care.
 * - Births: ONS Births in England and Wales 2023 (general fertility rate about 52 per 1,000 women
 *   aged 15-44; age-specific rates below).
 * - Deaths in hospital: Office for Health Improvement and Disparities, Palliative and end of life
 *   care profiles (about 44% of deaths in England happen in hospital).
 */
import type { Frailty, Sex } from './model.js';

/** Age bands used by the rate tables: 0-4, 5-14, 15-24, 25-44, 45-64, 65-74, 75-84, 85+. */
export const AGE_BANDS = ['0-4', '5-14', '15-24', '25-44', '45-64', '65-74', '75-84', '85+'] as const;

export function ageBand(age: number): number {
  if (age < 5) return 0;
  if (age < 15) return 1;
  if (age < 25) return 2;
  if (age < 45) return 3;
  if (age < 65) return 4;
  if (age < 75) return 5;
  if (age < 85) return 6;
  return 7;
}

const FRAILTY_INDEX: Readonly<Record<Frailty, number>> = { fit: 0, mild: 1, moderate: 2, severe: 3 };
export function frailtyIndex(frailty: Frailty): number {
  return FRAILTY_INDEX[frailty];
}

/** Linear deprivation gradient: `most` in IMD decile 1 down to `least` in decile 10. */
function deprivation(decile: number, most: number, least: number): number {
  const d = decile < 1 ? 1 : decile > 10 ? 10 : decile;
  return most + ((least - most) * (d - 1)) / 9;
}

/** What the rate functions need to know about a resident at a time. */
export interface RiskProfile {
  age: number;
  sex: Sex;
  frailty: Frailty;
  /** Long-term conditions present at the time (all but obesity). */
  conditions: number;
  imdDecile: number;
}

// ---------------------------------------------------------------------------------------------
// GP consultations (face to face or by telephone, with a GP or practice nurse)

const GP_BASE = [5.0, 2.4, 3.1, 3.5, 4.0, 4.8, 5.5, 6.5];
/** Women of 15-64 consult about 1.3 times as often as men (QResearch 2009). */
const GP_FEMALE_WORKING_AGE = 1.3;
const GP_PER_CONDITION = 0.9;
const GP_FRAILTY = [1, 1.3, 1.6, 2.0];

export function gpConsultationRate(p: RiskProfile): number {
  const band = ageBand(p.age);
  const base = (GP_BASE[band] ?? 3) * (p.sex === 'female' && band >= 2 && band <= 4 ? GP_FEMALE_WORKING_AGE : 1);
  return (base + GP_PER_CONDITION * p.conditions) * (GP_FRAILTY[FRAILTY_INDEX[p.frailty]] ?? 1) * deprivation(p.imdDecile, 1.1, 0.92);
}
/** Share of GP consultations by telephone (Appointments in General Practice, 2023-24: about 30%). */
export const GP_TELEPHONE_SHARE = 0.3;

// ---------------------------------------------------------------------------------------------
// Emergency care: A&E attendances not ending in admission, and emergency admissions (which come
// through A&E in about 70% of cases, admission method 21)

const ED_BASE = [0.5, 0.24, 0.36, 0.28, 0.22, 0.2, 0.26, 0.38];
const ED_FRAILTY = [1, 1.4, 1.8, 2.4];
const ED_PER_CONDITION = 1.12;

/** A&E attendances that do not end in an admission. */
export function edAttendanceRate(p: RiskProfile): number {
  return (
    (ED_BASE[ageBand(p.age)] ?? 0.3) *
    (ED_FRAILTY[FRAILTY_INDEX[p.frailty]] ?? 1) *
    ED_PER_CONDITION ** Math.min(p.conditions, 6) *
    deprivation(p.imdDecile, 1.35, 0.7)
  );
}

const ADMISSION_BASE = [0.12, 0.036, 0.05, 0.056, 0.06, 0.08, 0.115, 0.165];
/** eFI hazard ratios for hospitalisation (Clegg et al. 2016). */
export const FRAILTY_ADMISSION_HR = [1, 1.93, 3.04, 4.73];
const ADMISSION_PER_CONDITION = 1.2;

export function emergencyAdmissionRate(p: RiskProfile): number {
  return (
    (ADMISSION_BASE[ageBand(p.age)] ?? 0.05) *
    (FRAILTY_ADMISSION_HR[FRAILTY_INDEX[p.frailty]] ?? 1) *
    ADMISSION_PER_CONDITION ** Math.min(p.conditions, 6) *
    deprivation(p.imdDecile, 1.3, 0.76)
  );
}
/** Share of emergency admissions that come through the emergency department (the rest: GP, SDEC). */
export const ADMISSION_VIA_ED_SHARE = 0.7;

/** Probability that an A&E attendance arrived by ambulance, by age band; doubled (to 0.85 at most) when admitted. */
const CONVEYED_SHARE = [0.06, 0.05, 0.1, 0.12, 0.16, 0.26, 0.4, 0.52];
export function conveyedShare(age: number, admitted: boolean): number {
  const share = CONVEYED_SHARE[ageBand(age)] ?? 0.2;
  return admitted ? Math.min(0.85, share * 2) : share;
}
/** Ambulance incidents not conveyed (see and treat, hear and treat), per conveyed incident (AQI: about half are conveyed). */
export const NOT_CONVEYED_PER_CONVEYED = 0.85;
/** Of those not conveyed, the share resolved by telephone (hear and treat). */
export const HEAR_AND_TREAT_SHARE = 0.35;

/** Deaths that happen in hospital (OHID end of life care profiles). */
export const IN_HOSPITAL_DEATH_SHARE = 0.44;

// ---------------------------------------------------------------------------------------------
// Outpatients not on an RTT pathway (follow-up of long-term conditions, other clinics)

const OUTPATIENT_BASE = [1.1, 0.75, 0.75, 1.1, 1.4, 1.9, 2.3, 1.9];
export function outpatientBaseRate(age: number): number {
  return OUTPATIENT_BASE[ageBand(age)] ?? 0.5;
}
/** Hospital follow-up attendances a year for a long-term condition (specialist clinic). */
export const CONDITION_OUTPATIENT_RATE = {
  cancer: 1.5,
  cancerFirstTwoYears: 5,
  heart_failure: 1.5,
  ckd4: 2,
  ckd3b: 0.6,
  diabetesType1: 2,
  diabetesType2: 0.2,
  epilepsy: 0.7,
  atrial_fibrillation: 0.4,
  chd: 0.4,
  copd: 0.3,
  stroke_tia: 0.3,
  osteoporosis: 0.2,
  asthma: 0.1,
} as const;

// ---------------------------------------------------------------------------------------------
// Elective referrals (RTT clock starts) and waiting times

const REFERRAL_BASE = [0.14, 0.12, 0.16, 0.24, 0.35, 0.48, 0.56, 0.48];
export function referralRate(p: RiskProfile): number {
  return (REFERRAL_BASE[ageBand(p.age)] ?? 0.2) * (1 + 0.08 * Math.min(p.conditions, 6));
}

/**
 * Time from clock start to clock stop, in weeks: a mixture of lognormals fitted so that, with a
 * steady flow of clock starts, the incomplete pathways at any date have a median wait of about
 * 14 weeks, 59% within 18 weeks and 2.5% over 52 weeks (NHS England RTT statistics 2024-26), and
 * a mean time to treatment of about 19 weeks (waiting list ≈ 0.3 × 19/52 ≈ 0.11 pathways per
 * person, as England's 7.4 million for 57 million). Fitted by `history.test.ts`'s check of the
 * incomplete distribution. `fast` pathways are discharged or treated in clinic soon after the
 * first appointment; `slow` ones wait for diagnostics or surgery; `long` is the tail of the longest
 * waiters.
 */
export const WAIT_COMPONENTS = [
  { name: 'fast', weight: 0.53, medianWeeks: 5, sigma: 0.6 },
  { name: 'slow', weight: 0.43, medianWeeks: 33, sigma: 0.3 },
  { name: 'long', weight: 0.04, medianWeeks: 50, sigma: 0.35 },
] as const;

/** How referrals are prioritised (CDS PRIORITY TYPE), by wait component: urgent and two-week-wait referrals are seen fast. */
export const PRIORITY_TYPE_SHARES = {
  fast: { routine: 0.66, urgent: 0.22, twoWeekWait: 0.12 },
  slow: { routine: 0.88, urgent: 0.12, twoWeekWait: 0 },
  long: { routine: 0.97, urgent: 0.03, twoWeekWait: 0 },
} as const;

/**
 * Clinical priority (P-code) at the decision to admit, by wait component (NHS England clinical
 * prioritisation programme: most of the admitted waiting list is P3-P4; P5/P6 are patients who
 * chose to wait).
 */
export const CLINICAL_PRIORITY_SHARES = {
  fast: { P1: 0.03, P2: 0.3, P3: 0.4, P4: 0.25, P5: 0.01, P6: 0.01 },
  slow: { P1: 0, P2: 0.08, P3: 0.32, P4: 0.56, P5: 0.01, P6: 0.03 },
  long: { P1: 0, P2: 0.02, P3: 0.18, P4: 0.7, P5: 0.02, P6: 0.08 },
} as const;

/**
 * How non-admitted pathways stop (RTT period status), shares of non-admitted clock stops: first
 * definitive treatment in clinic (30), active monitoring (31 patient, 32 clinician), did not
 * attend the first appointment (33), decision not to treat / discharged to the GP (34), patient
 * declined treatment (35). 36 (died) comes from the resident's death. Shares estimated from the
 * split of non-admitted clock stops in the RTT guidance examples and WLMDS clock-stop reasons.
 */
export const NON_ADMITTED_STOP_SHARES = { '30': 0.45, '31': 0.03, '32': 0.12, '33': 0.05, '34': 0.3, '35': 0.05 } as const;

// ---------------------------------------------------------------------------------------------
// Community nursing (district nursing for housebound, frail and dying people)

/** Share of residents with a district nursing caseload at some point, and contacts a year while on it, by frailty. */
export const DISTRICT_NURSING = {
  share: [0.03, 0.12, 0.35, 0.7],
  contactsPerYear: [6, 10, 20, 36],
  /** People who die: share seen in their last 12 weeks, and visits a week then. */
  endOfLifeShare: 0.8,
  endOfLifeVisitsPerWeek: 2,
} as const;

// ---------------------------------------------------------------------------------------------
// Mental health trust

export const MENTAL_HEALTH = {
  /** People with SMI with a community mental health team episode, and contacts a year. */
  smiEpisodeShare: 0.85,
  smiContactsPerYear: 10,
  /** People with depression: chance a year of a talking therapies course (6-8 sessions). */
  talkingTherapiesPerYear: 0.06,
  talkingTherapiesSessions: [6, 8] as const,
  /** People with depression: chance a year of a CMHT episode (about 6 contacts). */
  depressionCmhtPerYear: 0.02,
  depressionCmhtContacts: 6,
  /** People diagnosed with dementia in the window: memory assessment service contacts. */
  memoryClinicContacts: 3,
} as const;

// ---------------------------------------------------------------------------------------------
// Adult social care (the council)

export const SOCIAL_CARE = {
  /** Share with long-term support, by frailty (65+); dementia and learning disability add to it. */
  longTermShareByFrailty: [0.003, 0.03, 0.1, 0.3],
  dementiaExtra: 0.2,
  learningDisabilityShare: 0.4,
  /** Service mix of older people's long-term support. */
  olderServiceMix: { homeCare: 0.55, residentialCare: 0.18, nursingCare: 0.12, directPayment: 0.15 },
  /** Service mix for working-age adults with a learning disability. */
  learningDisabilityServiceMix: { homeCare: 0.35, residentialCare: 0.2, nursingCare: 0.02, directPayment: 0.43 },
  /** Share of people 65+ discharged from an emergency admission who get reablement. */
  reablementAfterAdmission: 0.12,
  reablementWeeks: 6,
  /** Reviews of long-term support a year. */
  reviewsPerYear: 1,
} as const;

// ---------------------------------------------------------------------------------------------
// Care teams and care plans (history.ts careRecords; drawn from their own sub-stream)

/**
 * Who has a care team or care plan, given the episodes above.
 * - A community mental health team episode for SMI: a care team with a named care coordinator
 *   and consultant psychiatrist, and a care plan, for everyone on the caseload. NHS England's
 *   Care Programme Approach position statement (2021) and Community Mental Health Framework
 *   (2019) expect everyone under secondary mental health care to have a named key worker and a
 *   personalised care plan (assumption: all of them have one recorded).
 * - A district nursing episode: the district nursing team with a named district nurse (every
 *   episode; assumption: the caseload is the team's).
 * - Long-term adult social care: a care and support plan for every service (the Care Act 2014,
 *   sections 24-25, requires one) and a named social worker.
 * - Severe frailty (eFI): the share with a GP proactive care team (a GP and the PCN's care
 *   coordinator) and with an advance care plan. Assumption: NHS England's proactive care
 *   guidance (2023/24) targets people with moderate and severe frailty, but coverage is partial;
 *   30% and 20% are our guesses, not measured rates.
 * - Dying with district nursing care in the last weeks of life: the share with an end-of-life
 *   care plan at the GP (assumption: most such people are on the practice's palliative care
 *   register with a plan; 70% is a guess).
 */
export const CARE_PLANNING = {
  proactiveCareTeamShare: 0.3,
  advanceCarePlanShare: 0.2,
  endOfLifePlanShare: 0.7,
  /** Days from the start of the episode to the care plan being written (uniform up to this). */
  planWithinDays: 28,
  /** Named staff per organisation and role, from which each resident's are drawn (assumption: a care coordinator holds about 30 people). */
  staffPerTeam: { careCoordinator: 24, psychiatrist: 6, districtNurse: 30, generalPractitioner: 8, pcnCareCoordinator: 2, socialWorker: 20 },
  /**
   * Staff names: women's share by role and the ethnic mix the names are drawn from (assumption:
   * roughly the NHS workforce, where most nurses are women and about a quarter of staff are from
   * ethnic minorities; not checked against a source).
   */
  femaleShare: { careCoordinator: 0.75, psychiatrist: 0.45, districtNurse: 0.9, generalPractitioner: 0.55, pcnCareCoordinator: 0.8, socialWorker: 0.8 },
  staffEthnicity: { A: 0.66, C: 0.08, H: 0.08, J: 0.03, L: 0.05, N: 0.07, M: 0.03 },
} as const;

// ---------------------------------------------------------------------------------------------
// Births (ONS Births in England and Wales 2023, live births per 1,000 women by age)

const FERTILITY_BY_AGE: readonly (readonly [number, number, number])[] = [
  [15, 19, 8.0],
  [20, 24, 40.5],
  [25, 29, 75.4],
  [30, 34, 96.3],
  [35, 39, 59.9],
  [40, 44, 14.6],
  [45, 49, 1.2],
];
/** Live births a year per woman of this age (0 outside 15-49). */
export function fertilityRate(age: number): number {
  for (const [from, to, rate] of FERTILITY_BY_AGE) if (age >= from && age <= to) return rate / 1000;
  return 0;
}
/** Caesarean section rate (NHS Maternity Statistics 2023-24: about 42%, half planned). */
export const CAESAREAN_SHARE = { elective: 0.2, emergency: 0.22 } as const;

// ---------------------------------------------------------------------------------------------
// Targets for the profile command and the tests

export interface ActivityTarget {
  /** What is measured, exactly. */
  readonly definition: string;
  readonly value: number;
  /** Absolute tolerance: a generated population passes when |measured − value| ≤ tolerance. */
  readonly tolerance: number;
  readonly source: string;
}

/**
 * Rates are events per person-year lived in the five-year window (from the later of the window
 * start and birth to the earlier of `asOf` and death), over the whole population unless said.
 */
export const ACTIVITY_TARGETS = {
  gpConsultations: {
    definition: 'GP practice Encounters (class AMB) per person-year',
    value: 5.0,
    tolerance: 1.0,
    source: 'NHS England, Appointments in General Practice 2023-24; QResearch consultation rates by age and sex',
  },
  edAttendances: {
    definition: 'Emergency department Encounters (acute trust, class EMER) per person-year, admitted or not',
    value: 0.4,
    tolerance: 0.08,
    source: 'NHS England, A&E Attendances and Emergency Admissions 2023-24; HES A&E/ECDS by age and deprivation',
  },
  emergencyAdmissions: {
    definition: 'Emergency admissions (class IMP, admission method 2x) per person-year',
    value: 0.11,
    tolerance: 0.03,
    source: 'NHS England, A&E Attendances and Emergency Admissions 2023-24 (about 550,000 a month); HES by age',
  },
  ambulanceIncidents: {
    definition: 'Ambulance trust Encounters per person-year',
    value: 0.15,
    tolerance: 0.05,
    source: 'NHS England, Ambulance Quality Indicators 2023-24 (about 9 million incidents)',
  },
  outpatientAttendances: {
    definition: 'Acute trust outpatient Encounters (class AMB) per person-year',
    value: 2.2,
    tolerance: 0.7,
    source: 'NHS Digital, Hospital Outpatient Activity 2023-24 (about 130 million attendances)',
  },
  rttClockStarts: {
    definition: 'RTT pathways (EpisodeOfCare) started per person-year',
    value: 0.3,
    tolerance: 0.07,
    source: 'NHS England, Referral to Treatment statistics 2024-25 (new RTT periods)',
  },
  waitingListPerPerson: {
    definition: 'Open RTT pathways at asOf per resident alive at asOf',
    value: 0.11,
    tolerance: 0.04,
    source: 'NHS England, RTT statistics 2024-26 (about 7.4 million incomplete pathways for 57 million people)',
  },
  medianWaitWeeks: {
    definition: 'Median weeks waited by open RTT pathways at asOf',
    value: 14,
    tolerance: 2.5,
    source: 'NHS England, RTT statistics 2024-26 (incomplete pathways)',
  },
  within18WeeksShare: {
    definition: 'Share of open RTT pathways at asOf waiting 126 days or less',
    value: 0.59,
    tolerance: 0.06,
    source: 'NHS England, RTT statistics 2024-26 (58-60% within 18 weeks)',
  },
  over52WeeksShare: {
    definition: 'Share of open RTT pathways at asOf waiting more than 364 days',
    value: 0.025,
    tolerance: 0.015,
    source: 'NHS England, RTT statistics 2024-26 (2-3% over 52 weeks)',
  },
  communityNursingContacts: {
    definition: 'Community trust district nursing Encounters (class HH) per person-year',
    value: 0.6,
    tolerance: 0.3,
    source: "The King's Fund, Understanding quality in district nursing services (2016), frailty and end-of-life share",
  },
  mentalHealthContacts: {
    definition: 'Mental health trust Encounters per person-year',
    value: 0.15,
    tolerance: 0.08,
    source: 'NHS England, Mental Health Services Data Set and NHS Talking Therapies annual reports 2023-24',
  },
  adultSocialCareLongTerm: {
    definition: 'Share of adults (18+) alive at asOf with an open long-term support EpisodeOfCare at the council',
    value: 0.016,
    tolerance: 0.008,
    source: 'NHS England, Adult Social Care Activity and Finance Report 2023-24 (835,000 people with long-term support)',
  },
  deliveriesPerWoman: {
    definition: 'Delivery admissions per woman-year aged 15-44',
    value: 0.053,
    tolerance: 0.015,
    source: 'ONS, Births in England and Wales 2023 (general fertility rate)',
  },
  inHospitalDeathShare: {
    definition: 'Share of deaths in the window that end an admission (discharge disposition: died)',
    value: 0.44,
    tolerance: 0.08,
    source: 'OHID, Palliative and end of life care profiles (place of death)',
  },
} as const satisfies Record<string, ActivityTarget>;
