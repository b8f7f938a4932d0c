/**
 * THE documented file of the synthetic population's targets and their sources: age and sex
 * structure, ethnicity, smoking, long-term conditions (by age, sex and deprivation, clustered),
 * frailty and mortality. population.ts draws from these tables; profile.ts compares a generated
 * population with the *targets* exported at the end of this file, each with its tolerance.
 *
 * Figures are rounded from the sources cited beside each table. Where a source gives only an
 * overall level (QOF registers), the age and sex pattern comes from the literature cited and the
 * table is scaled (`calibrate`) so that England's age structure reproduces the national level.
 * Where no published figure was at hand the value is marked "assumption" and says why.
 *
 * The model, in one paragraph. Each resident has an age, sex and the IMD 2019 quintile of their
 * LSOA. Their chance of each condition is the age/sex table value × the deprivation relative risk
 * of their quintile (a geometric gradient between quintile 1 and 5 with mean 1 over England's
 * quintiles) × a smoking relative risk (for COPD, CHD, stroke and cancer, divided by its mean at
 * that age, sex and quintile so the marginal stays). Conditions cluster through three shared
 * latent factors (general ill health, cardiometabolic, mental health) in a liability-threshold
 * model: condition k is present when λ_k·z + ε > threshold, with z and ε standard normal and the
 * threshold set so that the marginal probability is exactly the table value. So the published
 * prevalences hold whatever the loadings, and the loadings only decide how conditions co-occur
 * (Barnett 2012: multimorbidity rises with age and deprivation; diabetes, hypertension, CKD and
 * CHD go together; depression with SMI; COPD with smoking). Frailty and mortality use the same
 * general factor, so the frail are the multimorbid and die sooner.
 */
import type { ConditionKey, Frailty, Sex, SmokingStatus } from './model.js';

// ---------------------------------------------------------------------------------------------
// Normal distribution helpers (pure arithmetic; deterministic on every platform).

/** Standard normal cumulative distribution (Numerical Recipes erfc, fractional error < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** normalCdf on a fine grid over [-8, 8], for the per-resident hot path (linear interpolation, error < 1e-6). */
const CDF_STEPS = 16_384;
const CDF_TABLE = Float64Array.from({ length: CDF_STEPS + 1 }, (_, i) => normalCdf(-8 + (16 * i) / CDF_STEPS));
export function fastNormalCdf(x: number): number {
  if (x <= -8) return 0;
  if (x >= 8) return 1;
  const f = ((x + 8) * CDF_STEPS) / 16;
  const i = Math.floor(f);
  const lo = CDF_TABLE[i] as number;
  return lo + ((CDF_TABLE[i + 1] as number) - lo) * (f - i);
}

/** Inverse of the standard normal CDF (Acklam's algorithm, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

// ---------------------------------------------------------------------------------------------
// Age and sex structure of England.

export const MAX_AGE = 104;

/**
 * England's population by five-year age band and sex, mid-2022, in thousands (rounded).
 * Source: ONS, Population estimates for England and Wales: mid-2022,
 * https://www.ons.gov.uk/peoplepopulationandcommunity/populationandmigration/populationestimates/bulletins/populationestimatesforenglandandwales/mid2022
 * Used only for its *shape*: the LSOA's own counts (IMD file 6) fix how many residents are aged
 * 0–15, 16–59 and 60+; within each group ages follow this table. The 90+ band is spread over
 * 90–104 with a mortality-like decay.
 */
export const ENGLAND_POPULATION_2022: { from: number; male: number; female: number }[] = [
  { from: 0, male: 1640, female: 1560 },
  { from: 5, male: 1780, female: 1690 },
  { from: 10, male: 1820, female: 1730 },
  { from: 15, male: 1720, female: 1630 },
  { from: 20, male: 1790, female: 1720 },
  { from: 25, male: 1900, female: 1910 },
  { from: 30, male: 1950, female: 1990 },
  { from: 35, male: 1900, female: 1930 },
  { from: 40, male: 1790, female: 1800 },
  { from: 45, male: 1720, female: 1760 },
  { from: 50, male: 1880, female: 1930 },
  { from: 55, male: 1870, female: 1920 },
  { from: 60, male: 1620, female: 1680 },
  { from: 65, male: 1380, female: 1470 },
  { from: 70, male: 1280, female: 1400 },
  { from: 75, male: 1020, female: 1170 },
  { from: 80, male: 600, female: 750 },
  { from: 85, male: 330, female: 480 },
  { from: 90, male: 150, female: 300 },
];

/** England's population by single year of age and sex (thousands), from the table above. */
export const ENGLAND_BY_AGE: { male: Float64Array; female: Float64Array } = (() => {
  const male = new Float64Array(MAX_AGE + 1);
  const female = new Float64Array(MAX_AGE + 1);
  for (const band of ENGLAND_POPULATION_2022) {
    if (band.from < 90) {
      for (let a = band.from; a < band.from + 5; a++) {
        male[a] = band.male / 5;
        female[a] = band.female / 5;
      }
    } else {
      // 90+: each year about 20% (men) / 17% (women) fewer than the one before (life tables).
      const spread = (total: number, decay: number, into: Float64Array): void => {
        let sum = 0;
        for (let a = 90; a <= MAX_AGE; a++) sum += decay ** (a - 90);
        for (let a = 90; a <= MAX_AGE; a++) into[a] = (total * decay ** (a - 90)) / sum;
      };
      spread(band.male, 0.8, male);
      spread(band.female, 0.83, female);
    }
  }
  return { male, female };
})();

/** The three age groups of IMD file 6. */
export type AgeGroup = 'children' | 'adults' | 'older';
export function ageGroupOf(age: number): AgeGroup {
  return age < 16 ? 'children' : age < 60 ? 'adults' : 'older';
}
export const AGE_GROUP_RANGE: Record<AgeGroup, [number, number]> = { children: [0, 15], adults: [16, 59], older: [60, MAX_AGE] };

// ---------------------------------------------------------------------------------------------
// Mortality.

/**
 * Annual probability of death (qx) by age band, England, ONS National life tables 2020–2022
 * (rounded from the single-year tables),
 * https://www.ons.gov.uk/peoplepopulationandcommunity/birthsdeathsandmarriages/lifeexpectancies/datasets/nationallifetablesenglandreferencetables
 * Interpolated log-linearly between band midpoints to single years.
 */
export const LIFE_TABLE_QX: { age: number; male: number; female: number }[] = [
  { age: 0, male: 0.0041, female: 0.0034 },
  { age: 2, male: 0.00015, female: 0.00012 },
  { age: 10, male: 0.0001, female: 0.00008 },
  { age: 20, male: 0.0005, female: 0.00022 },
  { age: 30, male: 0.0009, female: 0.00045 },
  { age: 40, male: 0.0017, female: 0.0011 },
  { age: 50, male: 0.0036, female: 0.0025 },
  { age: 60, male: 0.0082, female: 0.0053 },
  { age: 70, male: 0.019, female: 0.0125 },
  { age: 80, male: 0.052, female: 0.036 },
  { age: 85, male: 0.09, female: 0.066 },
  { age: 90, male: 0.16, female: 0.125 },
  { age: 95, male: 0.27, female: 0.23 },
  { age: 100, male: 0.4, female: 0.36 },
];

const QX = { male: new Float64Array(MAX_AGE + 1), female: new Float64Array(MAX_AGE + 1) };
for (const sex of ['male', 'female'] as const) {
  for (let a = 0; a <= MAX_AGE; a++) {
    let lo = LIFE_TABLE_QX[0] as (typeof LIFE_TABLE_QX)[number];
    let hi = LIFE_TABLE_QX[LIFE_TABLE_QX.length - 1] as (typeof LIFE_TABLE_QX)[number];
    for (const row of LIFE_TABLE_QX) {
      if (row.age <= a) lo = row;
      if (row.age >= a) {
        hi = row;
        break;
      }
    }
    const f = hi.age === lo.age ? 0 : (a - lo.age) / (hi.age - lo.age);
    QX[sex][a] = Math.min(0.6, Math.exp(Math.log(lo[sex]) * (1 - f) + Math.log(hi[sex]) * f));
  }
}

/** Annual probability of death at this age for England's population as a whole. */
export function annualDeathProbability(sex: Sex, age: number): number {
  return QX[sex][Math.min(MAX_AGE, Math.max(0, Math.floor(age)))] as number;
}

/**
 * Who dies in the window, and what they had. Deaths follow the life table by age and sex, raised
 * in deprived areas (quintile 1 vs 5 about 1.8: ONS, Health state life expectancies by IMD
 * 2018–20, https://www.ons.gov.uk/peoplepopulationandcommunity/healthandsocialcare/healthandlifeexpectancies/bulletins/healthstatelifeexpectanciesbyindexofmultipledeprivationimd/2018to2020,
 * a 9.7-year (men) and 7.9-year (women) gap in life expectancy). Those who die were sicker: their
 * general and cardiometabolic latent factors are shifted up by `decedentShift` standard
 * deviations, so they carry more conditions and more frailty. 0.9 SD makes a decedent about as
 * much more likely to be severely frail as Clegg 2016's one-year mortality hazard ratios by eFI
 * category imply (mild 1.92, moderate 3.10, severe 4.52; https://doi.org/10.1093/ageing/afw039).
 * Drawing death first keeps the survivors exactly on their targets (prevalence among the living
 * is what QOF and the eFI studies report).
 */
export const MORTALITY = { deprivationRatio: 1.8, decedentShift: 0.9 };

// ---------------------------------------------------------------------------------------------
// Deprivation.

/** IMD 2019 quintile (1 = most deprived) of a decile. */
export function quintileOf(imdDecile: number): number {
  return Math.min(5, Math.max(1, Math.ceil(imdDecile / 2)));
}

/**
 * Relative risk in quintiles 1..5 for a quintile-1-to-quintile-5 ratio: geometric steps, mean 1
 * over the five quintiles (each holds a fifth of England's LSOAs and about a fifth of its people).
 */
export function deprivationRisks(ratio: number): [number, number, number, number, number] {
  const steps = [0, 1, 2, 3, 4].map((i) => ratio ** ((4 - i) / 4 - 0.5));
  const mean = steps.reduce((s, v) => s + v, 0) / 5;
  return steps.map((v) => v / mean) as [number, number, number, number, number];
}

// ---------------------------------------------------------------------------------------------
// Ethnicity.

/**
 * Ethnic categories: NHS data dictionary ETHNIC CATEGORY codes (A–S, Z) with the ONS Census 2021
 * groups each holds (https://www.datadictionary.nhs.uk/data_elements/ethnic_category.html).
 * Gypsy or Irish Traveller and Roma are White "any other" (C) in the 2001-based codes.
 */
export const ETHNIC_CATEGORIES: { code: string; display: string; census2021: string[] }[] = [
  { code: 'A', display: 'White - British', census2021: ['White: English, Welsh, Scottish, Northern Irish or British'] },
  { code: 'B', display: 'White - Irish', census2021: ['White: Irish'] },
  { code: 'C', display: 'White - Any other White background', census2021: ['White: Gypsy or Irish Traveller', 'White: Roma', 'White: Other White'] },
  { code: 'D', display: 'Mixed - White and Black Caribbean', census2021: ['Mixed: White and Black Caribbean'] },
  { code: 'E', display: 'Mixed - White and Black African', census2021: ['Mixed: White and Black African'] },
  { code: 'F', display: 'Mixed - White and Asian', census2021: ['Mixed: White and Asian'] },
  { code: 'G', display: 'Mixed - Any other mixed background', census2021: ['Mixed: Other Mixed or Multiple ethnic groups'] },
  { code: 'H', display: 'Asian or Asian British - Indian', census2021: ['Asian: Indian'] },
  { code: 'J', display: 'Asian or Asian British - Pakistani', census2021: ['Asian: Pakistani'] },
  { code: 'K', display: 'Asian or Asian British - Bangladeshi', census2021: ['Asian: Bangladeshi'] },
  { code: 'L', display: 'Asian or Asian British - Any other Asian background', census2021: ['Asian: Other Asian'] },
  { code: 'M', display: 'Black or Black British - Caribbean', census2021: ['Black: Caribbean'] },
  { code: 'N', display: 'Black or Black British - African', census2021: ['Black: African'] },
  { code: 'P', display: 'Black or Black British - Any other Black background', census2021: ['Black: Other Black'] },
  { code: 'R', display: 'Other Ethnic Groups - Chinese', census2021: ['Asian: Chinese'] },
  { code: 'S', display: 'Other Ethnic Groups - Any other ethnic group', census2021: ['Other: Arab', 'Other: Any other ethnic group'] },
  { code: 'Z', display: 'Not stated', census2021: [] },
];

const ETHNIC_CODES = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P', 'R', 'S'] as const;

/**
 * Census 2021 ethnic group (TS021), percent of usual residents, in the order of ETHNIC_CODES.
 * - England: ONS, Ethnic group, England and Wales: Census 2021,
 *   https://www.ons.gov.uk/peoplepopulationandcommunity/culturalidentity/ethnicity/bulletins/ethnicgroupenglandandwales/census2021
 *   (England: White 81.0%, Asian 9.6%, Black 4.2%, Mixed 3.0%, Other 2.2%).
 * - Worcester (E07000237): Census 2021 TS021 counts for the district (103,869 residents),
 *   https://www.nomisweb.co.uk/sources/census_2021 (as listed at https://censusdata.uk/e07000237-worcester/ts021-ethnic-group).
 * - Herefordshire (E06000019): White 96.9%, Asian 1.2%, Mixed 1.1%, Black 0.3%, Other 0.5%; 8.9% not
 *   White British (Herefordshire Council, Census 2021 ethnic groups summary,
 *   https://understanding.herefordshire.gov.uk/population/census-2021/). Split within the broad
 *   groups: assumption, in proportion to the West Midlands' rural districts.
 * - Worcestershire (E10000034, districts other than Worcester): White 93.8%, Asian 3.1%, Mixed 1.9%,
 *   Black 0.7%, Other 0.6% (Census 2021 TS021 for the county); White British and the split within
 *   groups: assumption, scaled from Worcester's detailed counts.
 * - London (every E09 borough): White British 36.8%, Other White 14.7%, Indian 7.5%, African 7.9%…
 *   (ONS, Census 2021 TS021 for the London region; the same bulletin).
 * Other areas take England's mix (regional and district figures for all of England are a later
 * addition: TS021 for each district would replace these rows).
 * Residents whose record says "not stated" (Z) are added by the feeds, not here.
 */
export const ETHNICITY_PERCENT: Record<string, number[]> = {
  //        A     B    C    D    E    F    G    H    J    K    L    M    N    P    R    S
  england: [73.5, 0.9, 6.6, 0.9, 0.5, 0.8, 0.8, 3.3, 2.8, 1.1, 1.6, 1.1, 2.6, 0.5, 0.8, 2.2],
  E07000237: [85868, 566, 7044, 628, 425, 716, 514, 1336, 2578, 542, 1016, 241, 836, 135, 388, 1036].map((n) => (n / 103869) * 100),
  E06000019: [91.1, 0.4, 5.4, 0.35, 0.15, 0.35, 0.25, 0.3, 0.1, 0.1, 0.4, 0.05, 0.2, 0.05, 0.3, 0.5],
  E10000034: [89.4, 0.5, 3.9, 0.6, 0.25, 0.6, 0.45, 0.7, 1.4, 0.3, 0.4, 0.2, 0.4, 0.1, 0.3, 0.6],
  london: [36.8, 1.8, 15.2, 1.5, 0.9, 1.4, 1.9, 7.5, 3.3, 3.7, 4.6, 3.9, 7.9, 1.7, 1.7, 6.3],
};

/**
 * Minority ethnic groups are younger than the White British group (ONS, Ethnic group by age and
 * sex, England and Wales: Census 2021). Assumption, tuned to that publication's shape: the odds of
 * belonging to a minority group × 1.35 among children, × 1.2 among 16–59s and × 0.45 among those
 * 60+, which keeps the all-ages mix at the census figures for England's age structure (and, on
 * odds, stays sensible where minorities are the majority, as in much of London).
 */
export const ETHNIC_MINORITY_AGE_FACTOR: Record<AgeGroup, number> = { children: 1.35, adults: 1.2, older: 0.45 };

/** Ethnic category weights (percent, code order) for a district and council, by age group. */
export function ethnicityWeights(lad: string, council: string, group: AgeGroup): { codes: readonly string[]; weights: number[] } {
  const base: number[] = ETHNICITY_PERCENT[lad] ?? ETHNICITY_PERCENT[council] ?? (lad.startsWith('E09') ? ETHNICITY_PERCENT.london : undefined) ?? ETHNICITY_PERCENT.england ?? [100];
  const total = base.reduce((s, p) => s + p, 0);
  const minority = (total - (base[0] as number)) / total;
  const odds = (minority / (1 - minority)) * ETHNIC_MINORITY_AGE_FACTOR[group];
  const shifted = odds / (1 + odds);
  const weights = base.map((p, i) => (i === 0 ? (1 - shifted) * 100 : minority > 0 ? ((p / total) * shifted * 100) / minority : 0));
  return { codes: ETHNIC_CODES, weights };
}

// ---------------------------------------------------------------------------------------------
// Smoking.

/**
 * Current smoking among adults 18+, England 2023: 11.6% (ONS, Adult smoking habits in the UK:
 * 2023, Annual Population Survey,
 * https://www.ons.gov.uk/peoplepopulationandcommunity/healthandsocialcare/healthandlifeexpectancies/bulletins/adultsmokinghabitsingreatbritain/2023).
 * By age (highest at 25–34) and sex (men 13.6%, women 10.3%, UK) from the same bulletin. Ever
 * smoked (current + ex) rises with age as older cohorts smoked more (Health Survey for England 2019,
 * Adults' health-related behaviours, https://digital.nhs.uk/data-and-information/publications/statistical/health-survey-for-england/2019).
 * Deprivation: current smoking about 2.6× as common in the most deprived quintile as the least
 * (APS 2022 by IMD decile: about 20% vs 6%; OHID Local Tobacco Control Profiles,
 * https://fingertips.phe.org.uk/profile/tobacco-control).
 */
export const SMOKING = {
  bands: [16, 18, 25, 35, 45, 55, 65, 75],
  currentMale: [0.06, 0.11, 0.17, 0.16, 0.145, 0.13, 0.085, 0.06],
  currentFemale: [0.05, 0.08, 0.125, 0.12, 0.115, 0.105, 0.075, 0.05],
  everMale: [0.1, 0.2, 0.33, 0.4, 0.45, 0.52, 0.6, 0.63],
  everFemale: [0.09, 0.17, 0.28, 0.33, 0.38, 0.45, 0.5, 0.5],
  deprivationRatio: 2.6,
  /** Ever smoking is less graded than current (the deprived quit less). */
  everDeprivationRatio: 1.5,
};

function bandIndex(bands: readonly number[], age: number): number {
  let i = -1;
  for (let k = 0; k < bands.length; k++) if (age >= (bands[k] as number)) i = k;
  return i;
}

/** Probabilities of current and of ex smoking at this age, sex and IMD quintile. */
export function smokingProbabilities(age: number, sex: Sex, quintile: number): { current: number; ex: number } {
  const i = bandIndex(SMOKING.bands, age);
  if (i < 0) return { current: 0, ex: 0 };
  const current = ((sex === 'male' ? SMOKING.currentMale : SMOKING.currentFemale)[i] as number) * (SMOKING_RISK[quintile - 1] as number);
  const ever = Math.max(current, ((sex === 'male' ? SMOKING.everMale : SMOKING.everFemale)[i] as number) * (EVER_SMOKING_RISK[quintile - 1] as number));
  return { current: Math.min(0.9, current), ex: Math.min(0.95, ever) - Math.min(0.9, current) };
}
const SMOKING_RISK = deprivationRisks(SMOKING.deprivationRatio);
const EVER_SMOKING_RISK = deprivationRisks(SMOKING.everDeprivationRatio);

// ---------------------------------------------------------------------------------------------
// Long-term conditions.

/** Age bands of the condition tables and of the profile: 0–15, 16–24, 25–34 … 75–84, 85+. */
export const AGE_BANDS = [0, 16, 25, 35, 45, 55, 65, 75, 85] as const;
export const AGE_BAND_LABELS = ['0–15', '16–24', '25–34', '35–44', '45–54', '55–64', '65–74', '75–84', '85+'];
export function ageBandOf(age: number): number {
  return bandIndex(AGE_BANDS, age);
}

export interface ConditionSpec {
  key: ConditionKey;
  label: string;
  /**
   * The national level the table is scaled to, the ages it is a share of (QOF register
   * denominators), its source and year.
   */
  level: { percent: number; minAge: number; source: string };
  /** Age/sex shape (percent by AGE_BANDS) before scaling, with its source. */
  male: number[];
  female: number[];
  shapeSource: string;
  /** Quintile 1 (most deprived) ÷ quintile 5 prevalence at the same age and sex, with source. */
  deprivationRatio: number;
  /** Loadings on the latent factors: general ill health, cardiometabolic, mental health. */
  loadings: [number, number, number];
  /** Relative risk for ex and current smokers (never = 1). */
  smokingRisk?: [number, number];
  /** Onset: youngest age, and the mean years a prevalent case has had it (how far back onset lies). */
  onset: { minAge: number; meanYears: number };
}

const QOF_2023_24 = 'NHS England, Quality and Outcomes Framework 2023-24, England prevalence (registers ÷ registered patients of the ages given), https://digital.nhs.uk/data-and-information/publications/statistical/quality-and-outcomes-framework-achievement-prevalence-and-exceptions-data/2023-24';
const QOF_AGE = 'shape: QOF 2023-24 prevalence by age band where published; otherwise rounded from CPRD/Health Survey for England age-specific estimates';

/**
 * The conditions. Deprivation ratios are age-standardised quintile 1 ÷ quintile 5 comparisons,
 * rounded from: OHID Fingertips inequality tools and the QOF-by-deprivation analyses in PHE's
 * "Health profile for England 2019" (https://www.gov.uk/government/publications/health-profile-for-england-2019);
 * Barnett et al. 2012, Lancet 380:37 (https://doi.org/10.1016/S0140-6736(12)60240-2), where the
 * most deprived reach multimorbidity 10–15 years earlier and mental health conditions are about
 * twice as common; the National Diabetes Audit; and the Health Survey for England 2022 for obesity.
 * Loadings are assumptions, set so that the co-occurrence resembles Barnett 2012 (multimorbidity
 * ≥2 conditions by age) and the clusters named above.
 */
export const CONDITIONS: ConditionSpec[] = [
  {
    key: 'hypertension',
    label: 'Hypertension',
    level: { percent: 14.8, minAge: 0, source: QOF_2023_24 },
    male: [0, 0.3, 1.5, 5, 13, 27, 43, 55, 60],
    female: [0, 0.2, 1, 3.5, 10, 23, 40, 56, 65],
    shapeSource: `${QOF_AGE}; Health Survey for England 2019, diagnosed hypertension by age and sex`,
    deprivationRatio: 1.25,
    loadings: [0.6, 0.9, 0],
    onset: { minAge: 18, meanYears: 10 },
  },
  {
    key: 'diabetes',
    label: 'Diabetes',
    level: { percent: 7.7, minAge: 17, source: QOF_2023_24 },
    male: [0.2, 0.5, 1.5, 4, 8.5, 14, 20, 23, 19],
    female: [0.2, 0.6, 1.8, 3.5, 6.5, 10, 14, 17, 15],
    shapeSource: 'National Diabetes Audit 2021-22 registrations by age and sex, https://digital.nhs.uk/data-and-information/publications/statistical/national-diabetes-audit',
    deprivationRatio: 1.8,
    loadings: [0.65, 1.0, 0.15],
    onset: { minAge: 5, meanYears: 9 },
  },
  {
    key: 'asthma',
    label: 'Asthma',
    level: { percent: 6.5, minAge: 0, source: QOF_2023_24 },
    male: [5, 6, 5, 5, 5.5, 6, 7, 7.5, 6.5],
    female: [3.5, 6.5, 6.5, 6.5, 7.5, 8.5, 10, 10, 8],
    shapeSource: `${QOF_AGE}; Asthma UK/CPRD: more boys than girls in childhood, more women than men in adulthood`,
    deprivationRatio: 1.3,
    loadings: [0.55, 0.15, 0.3],
    onset: { minAge: 2, meanYears: 15 },
  },
  {
    key: 'copd',
    label: 'COPD',
    level: { percent: 1.9, minAge: 0, source: QOF_2023_24 },
    male: [0, 0, 0.05, 0.3, 1.2, 3.2, 6.5, 9.5, 10],
    female: [0, 0, 0.05, 0.3, 1.3, 3.2, 6, 7.5, 6.5],
    shapeSource: 'Snell et al. 2016, Thorax 71:A20 (COPD prevalence in England by age, CPRD); British Lung Foundation Respiratory Health of the Nation',
    deprivationRatio: 2.8,
    loadings: [0.9, 0.15, 0.15],
    smokingRisk: [4, 7],
    onset: { minAge: 40, meanYears: 7 },
  },
  {
    key: 'chd',
    label: 'Coronary heart disease',
    level: { percent: 3.0, minAge: 0, source: QOF_2023_24 },
    male: [0, 0, 0.05, 0.5, 2.5, 7, 13, 20, 24],
    female: [0, 0, 0.02, 0.2, 0.8, 2.5, 6, 11, 15],
    shapeSource: 'British Heart Foundation, Heart and circulatory disease statistics 2023 (prevalence by age and sex, HSE/CPRD), https://www.bhf.org.uk/what-we-do/our-research/heart-statistics',
    deprivationRatio: 1.7,
    loadings: [0.8, 0.8, 0],
    smokingRisk: [1.3, 2],
    onset: { minAge: 35, meanYears: 9 },
  },
  {
    key: 'heart_failure',
    label: 'Heart failure',
    level: { percent: 1.1, minAge: 0, source: QOF_2023_24 },
    male: [0, 0, 0.03, 0.15, 0.5, 1.4, 3.5, 8, 15],
    female: [0, 0, 0.02, 0.1, 0.3, 0.7, 2, 5.5, 12],
    shapeSource: 'Conrad et al. 2018, Lancet 391:572 (heart failure in the UK by age and sex, CPRD), https://doi.org/10.1016/S0140-6736(17)32520-5',
    deprivationRatio: 1.6,
    loadings: [1.0, 0.8, 0],
    onset: { minAge: 40, meanYears: 4 },
  },
  {
    key: 'atrial_fibrillation',
    label: 'Atrial fibrillation',
    level: { percent: 2.2, minAge: 0, source: QOF_2023_24 },
    male: [0, 0.02, 0.05, 0.2, 0.8, 2.8, 7.5, 15, 22],
    female: [0, 0.01, 0.03, 0.1, 0.4, 1.4, 4.5, 11, 19],
    shapeSource: 'Adderley et al. 2019, Heart 105:27 (AF prevalence by age and sex in UK primary care), https://doi.org/10.1136/heartjnl-2018-312977',
    deprivationRatio: 1.0,
    loadings: [0.8, 0.5, 0],
    onset: { minAge: 30, meanYears: 6 },
  },
  {
    key: 'stroke_tia',
    label: 'Stroke and TIA',
    level: { percent: 1.9, minAge: 0, source: QOF_2023_24 },
    male: [0.02, 0.05, 0.15, 0.5, 1.5, 3.5, 7, 12, 16],
    female: [0.02, 0.05, 0.15, 0.5, 1.2, 2.6, 5.5, 10, 15],
    shapeSource: 'Stroke Association, State of the nation 2023 (stroke survivors by age), https://www.stroke.org.uk/stroke/statistics',
    deprivationRatio: 1.5,
    loadings: [0.9, 0.6, 0],
    smokingRisk: [1.2, 1.8],
    onset: { minAge: 20, meanYears: 6 },
  },
  {
    key: 'ckd',
    label: 'Chronic kidney disease (stages 3–5)',
    level: { percent: 4.4, minAge: 18, source: QOF_2023_24 },
    male: [0, 0, 0.1, 0.4, 1.2, 3.5, 10, 23, 40],
    female: [0, 0, 0.2, 0.6, 1.6, 4.5, 13, 30, 48],
    shapeSource: 'Health Survey for England 2016, Kidney and liver disease (CKD 3–5 by age and sex), https://digital.nhs.uk/data-and-information/publications/statistical/health-survey-for-england/health-survey-for-england-2016',
    deprivationRatio: 1.35,
    loadings: [0.85, 0.8, 0],
    onset: { minAge: 18, meanYears: 6 },
  },
  {
    key: 'dementia',
    label: 'Dementia',
    level: { percent: 0.8, minAge: 0, source: QOF_2023_24 },
    male: [0, 0, 0, 0.02, 0.1, 0.5, 2, 7, 17],
    female: [0, 0, 0, 0.02, 0.1, 0.5, 2, 8, 22],
    shapeSource: 'NHS England, Recorded dementia diagnoses (by age and sex), https://digital.nhs.uk/data-and-information/publications/statistical/recorded-dementia-diagnoses',
    deprivationRatio: 1.3,
    loadings: [1.0, 0.3, 0.3],
    onset: { minAge: 50, meanYears: 3 },
  },
  {
    key: 'depression',
    label: 'Depression',
    level: { percent: 13.3, minAge: 18, source: QOF_2023_24 },
    male: [0.5, 6, 10, 11, 11, 10, 8, 7, 7],
    female: [1, 14, 19, 19, 18, 16, 13, 11, 11],
    shapeSource: 'QOF depression register (recorded since April 2006) by age and sex; Adult Psychiatric Morbidity Survey 2014 (women about twice men), https://digital.nhs.uk/data-and-information/publications/statistical/adult-psychiatric-morbidity-survey',
    deprivationRatio: 1.6,
    loadings: [0.6, 0, 1.0],
    onset: { minAge: 12, meanYears: 8 },
  },
  {
    key: 'smi',
    label: 'Serious mental illness',
    level: { percent: 1.0, minAge: 0, source: QOF_2023_24 },
    male: [0, 0.5, 1.1, 1.3, 1.3, 1.2, 1, 0.9, 0.9],
    female: [0, 0.4, 0.8, 1, 1.2, 1.2, 1.1, 1.1, 1.1],
    shapeSource: 'QOF mental health register by age; Adult Psychiatric Morbidity Survey 2014 (psychotic disorder)',
    deprivationRatio: 2.5,
    loadings: [0.5, 0.15, 1.1],
    onset: { minAge: 15, meanYears: 15 },
  },
  {
    key: 'cancer',
    label: 'Cancer',
    level: { percent: 3.6, minAge: 0, source: QOF_2023_24 },
    male: [0.1, 0.2, 0.4, 0.8, 2, 5, 10, 15, 17],
    female: [0.1, 0.3, 0.8, 2, 4, 7, 10, 13, 13],
    shapeSource: 'Macmillan Cancer Support, Statistics fact sheet 2023 (people living with cancer by age and sex), https://www.macmillan.org.uk/about-us/what-we-do/research/cancer-statistics-fact-sheet',
    deprivationRatio: 0.95,
    loadings: [0.7, 0, 0],
    smokingRisk: [1.3, 1.8],
    onset: { minAge: 1, meanYears: 5 },
  },
  {
    key: 'epilepsy',
    label: 'Epilepsy',
    level: { percent: 0.8, minAge: 18, source: QOF_2023_24 },
    male: [0.5, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9, 1, 0.9],
    female: [0.45, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8],
    shapeSource: 'Joint Epilepsy Council, Epilepsy prevalence, incidence and other statistics (2011); QOF epilepsy register',
    deprivationRatio: 1.6,
    loadings: [0.55, 0, 0.4],
    onset: { minAge: 0, meanYears: 20 },
  },
  {
    key: 'learning_disability',
    label: 'Learning disability',
    level: { percent: 0.6, minAge: 0, source: QOF_2023_24 },
    male: [1, 1.2, 0.9, 0.7, 0.6, 0.5, 0.3, 0.2, 0.1],
    female: [0.5, 0.7, 0.6, 0.5, 0.4, 0.35, 0.2, 0.15, 0.1],
    shapeSource: 'NHS England, Health and care of people with learning disabilities 2022-23 (GP-recorded, by age and sex), https://digital.nhs.uk/data-and-information/publications/statistical/health-and-care-of-people-with-learning-disabilities',
    deprivationRatio: 1.7,
    loadings: [0.5, 0, 0.45],
    onset: { minAge: 0, meanYears: 99 },
  },
  {
    key: 'osteoporosis',
    label: 'Osteoporosis',
    level: { percent: 1.0, minAge: 50, source: QOF_2023_24 },
    male: [0, 0, 0, 0, 0.05, 0.2, 0.5, 1.2, 2.5],
    female: [0, 0, 0, 0.02, 0.3, 1.2, 3, 6, 9],
    shapeSource: 'Royal Osteoporosis Society / IOF SCOPE 2021 (women about four times men, rising steeply after 65)',
    deprivationRatio: 1.1,
    loadings: [0.8, 0, 0],
    onset: { minAge: 45, meanYears: 6 },
  },
  {
    key: 'obesity',
    label: 'Obesity (BMI 30 or more)',
    level: { percent: 29, minAge: 18, source: 'Health Survey for England 2022, Adults: overweight and obesity (29% of adults obese), https://digital.nhs.uk/data-and-information/publications/statistical/health-survey-for-england/2022-part-2' },
    male: [3, 14, 22, 28, 31, 33, 33, 26, 17],
    female: [3, 15, 24, 28, 31, 32, 31, 27, 19],
    shapeSource: 'Health Survey for England 2022 obesity by age and sex; under-16s: those with coded obesity in primary care (National Child Measurement Programme measures more)',
    deprivationRatio: 1.6,
    loadings: [0.45, 0.7, 0.2],
    onset: { minAge: 5, meanYears: 10 },
  },
];

export const CONDITION_KEYS: readonly ConditionKey[] = CONDITIONS.map((c) => c.key);

// ---------------------------------------------------------------------------------------------
// Calibration and the per-resident tables.

/** England's population share by age and sex (sums to 1). */
function englandShares(): { male: Float64Array; female: Float64Array } {
  let total = 0;
  for (let a = 0; a <= MAX_AGE; a++) total += (ENGLAND_BY_AGE.male[a] as number) + (ENGLAND_BY_AGE.female[a] as number);
  const male = ENGLAND_BY_AGE.male.map((v) => v / total);
  const female = ENGLAND_BY_AGE.female.map((v) => v / total);
  return { male, female };
}

const MAX_PROBABILITY = 0.95;

/**
 * Scale each condition's age/sex shape so that England's age structure reproduces its national
 * level over its denominator ages (deprivation risks and the latent factors have mean 1 / keep
 * the marginals, so they do not move the level).
 */
function calibrate(spec: ConditionSpec): number {
  const shares = englandShares();
  let denominator = 0;
  let numerator = 0;
  for (let a = spec.level.minAge; a <= MAX_AGE; a++) {
    const band = ageBandOf(a);
    for (const sex of ['male', 'female'] as const) {
      const w = shares[sex][a] as number;
      denominator += w;
      if (a < spec.onset.minAge) continue;
      numerator += w * (((sex === 'male' ? spec.male : spec.female)[band] as number) / 100);
    }
  }
  return numerator > 0 ? spec.level.percent / 100 / (numerator / denominator) : 0;
}

const SEXES: readonly Sex[] = ['male', 'female'];
const N_AGES = MAX_AGE + 1;
const N_CONDITIONS = CONDITIONS.length;

/** Baseline probability (before smoking and latent factors) [condition][sex][age][quintile]. */
const BASE = new Float64Array(N_CONDITIONS * 2 * N_AGES * 5);
/** Liability thresholds (probit scale) [condition][sex][age][quintile][smoking]. */
const THRESHOLD = new Float64Array(N_CONDITIONS * 2 * N_AGES * 5 * 3);
export const CONDITION_SCALE: Record<string, number> = {};

const SMOKING_INDEX: Record<SmokingStatus, number> = { never: 0, ex: 1, current: 2 };

CONDITIONS.forEach((spec, k) => {
  const scale = calibrate(spec);
  CONDITION_SCALE[spec.key] = scale;
  const risks = deprivationRisks(spec.deprivationRatio);
  const loadingNorm = Math.sqrt(1 + spec.loadings.reduce((s, l) => s + l * l, 0));
  SEXES.forEach((sex, s) => {
    const shape = sex === 'male' ? spec.male : spec.female;
    for (let a = 0; a < N_AGES; a++) {
      const band = ageBandOf(a);
      for (let q = 0; q < 5; q++) {
        // Nobody has a condition before its youngest age of onset (no depression at three).
        const p0 = a < spec.onset.minAge ? 0 : Math.min(MAX_PROBABILITY, ((shape[band] as number) / 100) * scale * (risks[q] as number));
        BASE[((k * 2 + s) * N_AGES + a) * 5 + q] = p0;
        // Smoking risks, divided by their mean at this age, sex and quintile.
        const smoke = smokingProbabilities(a, sex, q + 1);
        const [rEx, rCurrent] = spec.smokingRisk ?? [1, 1];
        const meanRisk = (1 - smoke.current - smoke.ex) + smoke.ex * rEx + smoke.current * rCurrent;
        const bySmoking = [1 / meanRisk, rEx / meanRisk, rCurrent / meanRisk];
        for (let z = 0; z < 3; z++) {
          const p = Math.min(MAX_PROBABILITY, p0 * (bySmoking[z] as number));
          THRESHOLD[(((k * 2 + s) * N_AGES + a) * 5 + q) * 3 + z] = p <= 0 ? -Infinity : normalQuantile(p) * loadingNorm;
        }
      }
    }
  });
});

/** The baseline probability of a condition (before smoking and clustering): what targets use. */
export function conditionProbability(key: ConditionKey, sex: Sex, age: number, quintile: number): number {
  const k = CONDITION_KEYS.indexOf(key);
  return BASE[((k * 2 + (sex === 'male' ? 0 : 1)) * N_AGES + Math.min(MAX_AGE, Math.floor(age))) * 5 + (quintile - 1)] as number;
}

/** A resident's latent health factors: general, cardiometabolic, mental (each standard normal). */
export interface LatentHealth {
  general: number;
  cardiometabolic: number;
  mental: number;
}

/**
 * Which conditions a resident has, given their latent factors; `uniform.next()` is called exactly once
 * per condition, in CONDITIONS order (so the number of draws never depends on the outcome).
 * Returns a bit mask over CONDITIONS.
 */
export function conditionsPresent(sex: Sex, age: number, quintile: number, smoking: SmokingStatus, latent: LatentHealth, uniform: { next(): number }): number {
  const base = ((sex === 'male' ? 0 : 1) * N_AGES + Math.min(MAX_AGE, Math.floor(age))) * 5 + (quintile - 1);
  const z = SMOKING_INDEX[smoking];
  let mask = 0;
  for (let k = 0; k < N_CONDITIONS; k++) {
    const threshold = THRESHOLD[((k * 2 * N_AGES * 5 + base) * 3) + z] as number;
    const u = uniform.next();
    if (threshold === -Infinity) continue;
    const [g, c, m] = (CONDITIONS[k] as ConditionSpec).loadings;
    const p = fastNormalCdf(threshold + g * latent.general + c * latent.cardiometabolic + m * latent.mental);
    if (u < p) mask |= 1 << k;
  }
  return mask;
}

// ---------------------------------------------------------------------------------------------
// Frailty.

/**
 * eFI categories among people aged 65+, by age band, rounded from Clegg et al. 2016
 * (https://doi.org/10.1093/ageing/afw039; development cohort aged 65–95: fit 50%, mild 35%,
 * moderate 12%, severe 3%) and the age gradient of its validation cohort. Category bounds:
 * fit ≤ 0.12, mild ≤ 0.24, moderate ≤ 0.36, severe > 0.36 (domain notes §1.4).
 */
export const FRAILTY_BY_AGE: { from: number; label: string; fit: number; mild: number; moderate: number; severe: number }[] = [
  { from: 65, label: '65–74', fit: 0.64, mild: 0.28, moderate: 0.07, severe: 0.01 },
  { from: 75, label: '75–84', fit: 0.41, mild: 0.39, moderate: 0.15, severe: 0.05 },
  { from: 85, label: '85+', fit: 0.2, mild: 0.4, moderate: 0.28, severe: 0.12 },
];

/**
 * Frailty liability loads on the general and cardiometabolic factors (the eFI counts conditions
 * among its 36 deficits), shifted by deprivation (eFI is higher in deprived areas; assumption:
 * ±0.15 SD between quintiles 1 and 5, mean zero).
 */
export const FRAILTY_LOADINGS = { general: 0.65, cardiometabolic: 0.3, deprivationShift: [0.15, 0.075, 0, -0.075, -0.15] };

const FRAILTY_CUTS = FRAILTY_BY_AGE.map((b) => [normalQuantile(b.fit), normalQuantile(b.fit + b.mild), normalQuantile(b.fit + b.mild + b.moderate)] as const);

/** The eFI category of a resident: 'fit' under 65; `noise` is a standard normal draw. */
export function frailtyOf(age: number, quintile: number, latent: LatentHealth, noise: number): Frailty {
  if (age < 65) return 'fit';
  const i = age >= 85 ? 2 : age >= 75 ? 1 : 0;
  const { general, cardiometabolic, deprivationShift } = FRAILTY_LOADINGS;
  const rest = Math.sqrt(1 - general * general - cardiometabolic * cardiometabolic);
  const liability = general * latent.general + cardiometabolic * latent.cardiometabolic + rest * noise + (deprivationShift[quintile - 1] as number);
  const cuts = FRAILTY_CUTS[i] as readonly [number, number, number];
  return liability < cuts[0] ? 'fit' : liability < cuts[1] ? 'mild' : liability < cuts[2] ? 'moderate' : 'severe';
}

// ---------------------------------------------------------------------------------------------
// Mortality of an individual.

const MORTALITY_DEPRIVATION = deprivationRisks(MORTALITY.deprivationRatio);

/** A resident's annual probability of death: the life table, raised or lowered by deprivation. */
export function deathProbability(sex: Sex, age: number, quintile: number): number {
  const a = Math.min(MAX_AGE, Math.max(0, Math.floor(age)));
  return Math.min(0.9, (QX[sex][a] as number) * (MORTALITY_DEPRIVATION[quintile - 1] as number));
}

// ---------------------------------------------------------------------------------------------
// Households.

/**
 * Household composition. ONS, Families and households in the UK: 2023
 * (https://www.ons.gov.uk/peoplepopulationandcommunity/birthsdeathsandmarriages/families/bulletins/familiesandhouseholds/2023):
 * 29.6% of households are one person; average household size 2.36; 14.7% of families are lone-parent
 * families. Older people: about half of those 75+ live alone (ONS, same bulletin). Numbers of
 * dependent children per family (1: 44%, 2: 40%, 3+: 16%). The shares below are the generator's
 * rules that reproduce those figures from each LSOA's age groups.
 */
export const HOUSEHOLD_RULES = {
  childrenPerFamily: { counts: [1, 2, 3, 4], weights: [0.44, 0.4, 0.12, 0.04] },
  loneParentShare: 0.22,
  /** Families with a young adult (16–24) still at home (ONS: about half of 20–24s live with parents); some with two. */
  youngAdultAtHomeShare: 0.6,
  secondYoungAdultShare: 0.35,
  grandparentInFamilyShare: 0.03,
  /**
   * Share of people 60+ placed in a couple. Deaths in the window then widow some of them, so that
   * about three in ten of the living 65+ live alone (ONS 2023: 3.8 million of 12 million).
   */
  olderLiveInCoupleShare: 0.78,
  olderWithAdultChildShare: 0.05,
  /** Other adults: chance of each kind of household, per household formed. */
  adultsAlone: 0.3,
  adultsCouple: 0.48,
  adultsSharing: 0.22,
  sameSexCoupleShare: 0.02,
  /** Couples of different ethnic categories (ONS, Census 2021 inter-ethnic relationships: about 1 in 10). */
  interEthnicCoupleShare: 0.09,
  /** Households who moved within the five-year window (assumption from ONS: about 9% of people move address each year, many within the area; brief: about 8% within the window). */
  movedShare: 0.08,
  /** Registered at another practice than the rest of the household. */
  ownPracticeShare: 0.05,
};

/** ONS household targets the profile checks (share of households). */
export const HOUSEHOLD_TARGETS = { onePerson: { value: 0.296, tolerance: 0.05 }, meanSize: { value: 2.36, tolerance: 0.2 } };

// ---------------------------------------------------------------------------------------------
// Allergies recorded by the GP.

export type AllergyKey = 'penicillin' | 'salicylate' | 'peanut';

/**
 * Allergy labels on the GP record (AllergyIntolerance, held by the practice). A label is what
 * the record says, not a proven allergy (most penicillin labels are not true allergies).
 *
 * - **Penicillin**: 5.9% of adults registered with English practices (West et al. 2019, J
 *   Antimicrob Chemother 74:2075, https://doi.org/10.1093/jac/dkz127; 2.3 million adults,
 *   ResearchOne, 2013–14), more common in older people and in women. The paper gives the
 *   direction, not the age and sex figures at hand, so the relative risks below are an
 *   assumption (women 1.25 : men 0.75; by age 0.35 under 18, 0.75 at 18–39, 1 at 40–64, 1.35 at
 *   65+; children have had fewer courses of antibiotics to be labelled after), scaled so that
 *   England's adults (18+) reproduce 5.9%. A quarter of the labels are coded as amoxicillin
 *   allergy rather than penicillin allergy (assumption: practices and clinicians differ).
 * - **Salicylate (aspirin)**: no English primary-care figure was at hand. Zhou et al. 2016
 *   (Allergy 71:1305, https://doi.org/10.1111/all.12881; 1.8 million patients' records, Boston)
 *   found NSAID allergy 3.5% against penicillin 12.8%; we take the same ratio to the English
 *   penicillin level and a third of it for aspirin alone (assumption): about 0.5% of adults,
 *   women 4.4 : men 2.3 as Zhou found for NSAIDs, none under 16 (aspirin is not given to
 *   children). People with it are not started on aspirin (history.ts gives clopidogrel instead).
 * - **Peanut**: GP-recorded peanut allergy 0.51 per 1,000 patients in England in 2005 (Kotz,
 *   Simpson and Sheikh 2011, J Allergy Clin Immunol 127:623,
 *   https://doi.org/10.1016/j.jaci.2010.11.021), higher in boys than girls under 18 and
 *   inversely related to deprivation (more recorded in the least deprived). Prevalence doubled
 *   over 2001–05 and is highest in those born since, so we put it at 2 per 1,000 under 25 and
 *   0.3 per 1,000 from 25 (assumption), boys 1.3 : girls 0.7 under 18, and a deprivation
 *   gradient from 0.6 (quintile 1) to 1.4 (quintile 5) (assumption, the direction Kotz found).
 */
export interface AllergySpec {
  key: AllergyKey;
  /** The chance a resident of this age, sex and IMD quintile has the label. */
  probability(age: number, sex: Sex, quintile: number): number;
  /** The label is first recorded at an age in [from, to] (uniform; clipped to the resident's life). */
  recordedAge: [number, number];
}

/** Penicillin's relative risk by sex and age (assumption; see above). */
function penicillinRelativeRisk(age: number, sex: Sex): number {
  const bySex = sex === 'female' ? 1.25 : 0.75;
  const byAge = age < 18 ? 0.35 : age < 40 ? 0.75 : age < 65 ? 1 : 1.35;
  return bySex * byAge;
}

/** The scale that makes England's adults (18+) reproduce 5.9% (West et al. 2019). */
const PENICILLIN_SCALE = (() => {
  let cases = 0;
  let people = 0;
  for (let a = 18; a <= MAX_AGE; a++) {
    for (const sex of ['male', 'female'] as const) {
      const w = ENGLAND_BY_AGE[sex][a] as number;
      cases += w * penicillinRelativeRisk(a, sex);
      people += w;
    }
  }
  return 0.059 / (cases / people);
})();

/** Share of penicillin labels coded as amoxicillin allergy (assumption; see above). */
export const AMOXICILLIN_LABEL_SHARE = 0.25;

export const ALLERGIES: readonly AllergySpec[] = [
  { key: 'penicillin', probability: (age: number, sex: Sex): number => PENICILLIN_SCALE * penicillinRelativeRisk(age, sex), recordedAge: [1, 70] },
  {
    key: 'salicylate',
    probability: (age: number, sex: Sex): number => (age < 16 ? 0 : (((0.059 * 3.5) / 12.8 / 3) * (sex === 'female' ? 4.4 : 2.3)) / 3.35),
    recordedAge: [16, 80],
  },
  {
    key: 'peanut',
    probability: (age: number, sex: Sex, quintile: number): number => {
      const base = age < 25 ? 0.002 : 0.0003;
      const bySex = age < 18 ? (sex === 'male' ? 1.3 : 0.7) : 1;
      return base * bySex * (0.6 + 0.2 * (quintile - 1));
    },
    recordedAge: [1, 6],
  },
];

// ---------------------------------------------------------------------------------------------
// Next of kin (Patient.contact on the GP's and the council's copies)

/**
 * Share of residents whose next of kin (from their own household) is recorded, when the
 * household has one: children (under 16) with a parent, and adults with a partner, an adult
 * child or a parent at home. Assumption: practices record a parent for most children at
 * registration and next of kin mostly for older people (reviews, care planning); no national
 * figure is published. The council's copy carries the same next of kin as the practice's.
 */
export const NEXT_OF_KIN_SHARE = { child: 0.9, adultUnder65: 0.4, adult65Plus: 0.75 } as const;

// ---------------------------------------------------------------------------------------------
// Multimorbidity.

/**
 * Share of people with two or more conditions by age, Barnett et al. 2012, Lancet 380:37
 * (https://doi.org/10.1016/S0140-6736(12)60240-2; Scotland, 1.75 million people, 40 conditions):
 * 0–24 1.9%, 25–44 11.3%, 45–64 30.4%, 65–84 64.9%, 85+ 81.5%. We model 16 of Barnett's 40
 * conditions (obesity is not one of his): the commonest long-term conditions, but not painful
 * conditions, hearing loss, anxiety, constipation, thyroid disease, irritable bowel and the rest,
 * which together hold about half of the conditions his patients counted. So the generated levels
 * should lie between 40% and 80% of Barnett's at each age (assumption); what must hold is the
 * shape (rising steeply with age) and the deprivation gradient (the most deprived quintile above
 * the least at the same ages; Barnett: multimorbidity 10–15 years earlier).
 */
export const MULTIMORBIDITY_TARGETS: { label: string; from: number; to: number; barnett: number; min: number; max: number }[] = [
  { label: '0–24', from: 0, to: 24, barnett: 0.019, min: 0.0, max: 0.03 },
  { label: '25–44', from: 25, to: 44, barnett: 0.113, min: 0.4 * 0.113, max: 0.8 * 0.113 },
  { label: '45–64', from: 45, to: 64, barnett: 0.304, min: 0.4 * 0.304, max: 0.8 * 0.304 },
  { label: '65–84', from: 65, to: 84, barnett: 0.649, min: 0.4 * 0.649, max: 0.8 * 0.649 },
  { label: '85+', from: 85, to: MAX_AGE, barnett: 0.815, min: 0.4 * 0.815, max: 0.8 * 0.815 },
];

// ---------------------------------------------------------------------------------------------
// Targets for the profile, from an area's LSOAs (not from a generated population).

/**
 * The tolerance of a share: |observed − target| ≤ 10% of the target + 3 standard errors of a
 * sample of n + 0.2 percentage points. The first term is the model's own slack (rounding, role
 * constraints in households); the second is sampling noise, so small samples are judged fairly.
 */
export function tolerance(target: number, n: number): number {
  const se = n > 0 ? Math.sqrt((target * (1 - target)) / n) : 1;
  return 0.1 * target + 3 * se + 0.002;
}

/** What the target computations need from an area: its LSOAs' age groups and IMD deciles. */
export interface AreaLsoaCounts {
  imdDecile: number;
  children: number;
  adults: number;
  older: number;
}

/**
 * Expected share of the area's living population at each (sex, age, quintile): the LSOAs' age
 * group counts spread over single ages and sexes by England's structure. [sex][age][quintile].
 */
export function expectedStructure(lsoas: readonly AreaLsoaCounts[]): Float64Array {
  const out = new Float64Array(2 * N_AGES * 5);
  const groupTotals: Record<AgeGroup, number> = { children: 0, adults: 0, older: 0 };
  for (const group of ['children', 'adults', 'older'] as const) {
    const [from, to] = AGE_GROUP_RANGE[group];
    for (let a = from; a <= to; a++) groupTotals[group] += (ENGLAND_BY_AGE.male[a] as number) + (ENGLAND_BY_AGE.female[a] as number);
  }
  let total = 0;
  for (const l of lsoas) {
    const q = quintileOf(l.imdDecile) - 1;
    for (const group of ['children', 'adults', 'older'] as const) {
      const count = l[group];
      const [from, to] = AGE_GROUP_RANGE[group];
      for (let a = from; a <= to; a++) {
        SEXES.forEach((sex, s) => {
          const w = (count * (ENGLAND_BY_AGE[sex][a] as number)) / groupTotals[group];
          out[(s * N_AGES + a) * 5 + q] = (out[(s * N_AGES + a) * 5 + q] as number) + w;
          total += w;
        });
      }
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / total;
  return out;
}

/** Five-year bands of the age pyramid: 0–4 … 80–84, 85+. */
export const PYRAMID_BANDS = [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85];
export function pyramidLabel(i: number): string {
  const from = PYRAMID_BANDS[i] as number;
  return i === PYRAMID_BANDS.length - 1 ? `${from}+` : `${from}–${from + 4}`;
}

/** Share of the living population in each five-year band and sex. */
export function agePyramidTargets(lsoas: readonly AreaLsoaCounts[]): { band: string; male: number; female: number }[] {
  const structure = expectedStructure(lsoas);
  return PYRAMID_BANDS.map((from, i) => {
    const to = i === PYRAMID_BANDS.length - 1 ? MAX_AGE : from + 4;
    const sums = [0, 0];
    for (let s = 0; s < 2; s++) for (let a = from; a <= to; a++) for (let q = 0; q < 5; q++) sums[s] = (sums[s] as number) + (structure[(s * N_AGES + a) * 5 + q] as number);
    return { band: pyramidLabel(i), male: sums[0] as number, female: sums[1] as number };
  });
}

export interface PrevalenceTarget {
  condition: ConditionKey;
  /** Age band label (AGE_BAND_LABELS) or "Q1".."Q5" (all ages). */
  group: string;
  /** Expected share of the group's living residents with the condition. */
  prevalence: number;
  /** Expected share of the area's living population that is in the group. */
  populationShare: number;
}

/** Expected prevalence of each condition in each age band, and in each IMD quintile (all ages). */
export function prevalenceTargets(lsoas: readonly AreaLsoaCounts[]): { byAge: PrevalenceTarget[]; byQuintile: PrevalenceTarget[] } {
  const structure = expectedStructure(lsoas);
  const byAge: PrevalenceTarget[] = [];
  const byQuintile: PrevalenceTarget[] = [];
  for (const spec of CONDITIONS) {
    const bandCases = new Float64Array(AGE_BANDS.length);
    const bandPeople = new Float64Array(AGE_BANDS.length);
    const qCases = new Float64Array(5);
    const qPeople = new Float64Array(5);
    SEXES.forEach((sex, s) => {
      for (let a = 0; a < N_AGES; a++) {
        const band = ageBandOf(a);
        for (let q = 0; q < 5; q++) {
          const w = structure[(s * N_AGES + a) * 5 + q] as number;
          const p = conditionProbability(spec.key, sex, a, q + 1);
          bandCases[band] = (bandCases[band] as number) + w * p;
          bandPeople[band] = (bandPeople[band] as number) + w;
          qCases[q] = (qCases[q] as number) + w * p;
          qPeople[q] = (qPeople[q] as number) + w;
        }
      }
    });
    AGE_BAND_LABELS.forEach((label, i) => {
      const people = bandPeople[i] as number;
      byAge.push({ condition: spec.key, group: label, prevalence: people > 0 ? (bandCases[i] as number) / people : 0, populationShare: people });
    });
    for (let q = 0; q < 5; q++) {
      const people = qPeople[q] as number;
      byQuintile.push({ condition: spec.key, group: `Q${q + 1}`, prevalence: people > 0 ? (qCases[q] as number) / people : 0, populationShare: people });
    }
  }
  return { byAge, byQuintile };
}

/** Expected current-smoking share among adults 18+ of the area, and ex-smoking. */
export function smokingTargets(lsoas: readonly AreaLsoaCounts[]): { current: number; ex: number; adultShare: number } {
  const structure = expectedStructure(lsoas);
  let current = 0;
  let ex = 0;
  let people = 0;
  SEXES.forEach((sex, s) => {
    for (let a = 18; a < N_AGES; a++) {
      for (let q = 0; q < 5; q++) {
        const w = structure[(s * N_AGES + a) * 5 + q] as number;
        const p = smokingProbabilities(a, sex, q + 1);
        current += w * p.current;
        ex += w * p.ex;
        people += w;
      }
    }
  });
  return { current: current / people, ex: ex / people, adultShare: people };
}

/** Expected frailty shares among the 65+ in each age band (deprivation shifts are small and mean zero). */
export function frailtyTargets(): typeof FRAILTY_BY_AGE {
  return FRAILTY_BY_AGE;
}

/** Expected share of the area's living adults (18+) with each allergy label. */
export function allergyTargets(lsoas: readonly AreaLsoaCounts[]): Record<AllergyKey, number> {
  const structure = expectedStructure(lsoas);
  const cases: Record<AllergyKey, number> = { penicillin: 0, salicylate: 0, peanut: 0 };
  let people = 0;
  SEXES.forEach((sex, s) => {
    for (let a = 18; a < N_AGES; a++) {
      for (let q = 0; q < 5; q++) {
        const w = structure[(s * N_AGES + a) * 5 + q] as number;
        for (const spec of ALLERGIES) cases[spec.key] += w * spec.probability(a, sex, q + 1);
        people += w;
      }
    }
  });
  return { penicillin: cases.penicillin / people, salicylate: cases.salicylate / people, peanut: cases.peanut / people };
}
