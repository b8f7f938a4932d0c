/**
 * The synthetic population's own model: the true residents (what the ground truth says) and the
 * records each partner organisation holds about them, before they are written as feeds.
 *
 * The generator runs in three stages, one file each, joined only by these types:
 *   population.ts  geography + households → Resident (demographics, conditions, frailty)
 *   history.ts     Resident → HeldRecord[] (five years of care, in FHIR shape, per holder)
 *   feeds.ts       HeldRecord[] → each holder's Patient copy (with its flaws), ids, NDJSON files
 *                  and transaction Bundles, and the ground-truth file
 * Every random choice draws from a `Random` seeded by (seed, household), so a household's
 * residents and records do not depend on how many households came before: the same seed gives
 * byte-identical output, and households can be generated in any order or in parallel.
 */
import type { Resource } from '@medplum/fhirtypes';

/** The generator's clock: histories run for five years up to this date (configurable). */
export const DEFAULT_AS_OF = '2026-10-31';

export type Sex = 'male' | 'female';

/**
 * Long-term conditions and risk factors the generator models. The prevalence tables, their
 * sources and the codes live in prevalence.ts (one documented file).
 */
export type ConditionKey =
  | 'hypertension'
  | 'diabetes'
  | 'asthma'
  | 'copd'
  | 'chd'
  | 'heart_failure'
  | 'atrial_fibrillation'
  | 'stroke_tia'
  | 'ckd'
  | 'dementia'
  | 'depression'
  | 'smi'
  | 'cancer'
  | 'epilepsy'
  | 'learning_disability'
  | 'osteoporosis'
  | 'obesity';

export type SmokingStatus = 'never' | 'ex' | 'current';
export type Frailty = 'fit' | 'mild' | 'moderate' | 'severe';

export interface Address {
  /** House number and street, e.g. "14 Mill Lane". */
  line: string;
  town: string;
  /** Full postcode, e.g. "WR1 2AB": a real postcode district (outward code) of the area, synthetic inward code. */
  postcode: string;
}

/** A resident as they truly are: the ground truth that every organisation's copy derives from. */
export interface Resident {
  /** Stable within a seed: "R" + zero-padded sequence, e.g. "R0000123". */
  id: string;
  /** Ten digits in the never-issued range 9990000000–9999999999, valid Modulus 11. */
  nhsNumber: string;
  given: string[];
  family: string;
  /** Family name before a change (marriage, deed poll), if there was one; when it changed. */
  previousFamily?: { family: string; until: string };
  sex: Sex;
  /** YYYY-MM-DD. */
  birthDate: string;
  /** YYYY-MM-DD, when the resident died within the history window. */
  deathDate?: string;
  address: Address;
  /** Where they lived before moving within the window; some feeds still hold it. */
  previousAddress?: { address: Address; until: string };
  /** LSOA 2011 code of residence, its local authority district (2019) and IMD 2019 decile (1 = most deprived). */
  lsoa: string;
  lad: string;
  imdDecile: number;
  /** Upper-tier council (social care authority) ONS code. */
  council: string;
  /** NHS data dictionary ethnic category code (ONS 2021 categories), e.g. "A" White British. */
  ethnicity: string;
  /** ODS code of the registered GP practice. */
  practice: string;
  /** Household id shared by residents living together ("H" + sequence); undefined when living alone. */
  household?: string;
  /** Mother's resident id, for children born in the window or living with their mother. */
  mother?: string;
  /**
   * Birth dates (YYYY-MM-DD) of the children this resident gave birth to within the history
   * window, set by population.ts on the mother of each baby it makes (so the mother's delivery
   * and the baby's birth agree). history.ts makes her pregnancy, antenatal care and delivery from
   * it (undefined: no births), and adds a pregnancy under way at asOf from ONS fertility rates.
   */
  births?: string[];
  smoking: SmokingStatus;
  /** Frailty category (eFI bands) for residents aged 65+; 'fit' otherwise. */
  frailty: Frailty;
  conditions: { key: ConditionKey; onset: string }[];
}

/**
 * One record held by one organisation, in FHIR R4 shape but not yet placed: no `id`, and no
 * subject/patient reference (feeds.ts adds the holder's own Patient). Records refer to each other
 * with `{ reference: "#key" }`-style local keys (`ref(key)`), which feeds.ts rewrites to
 * `Type/id`. Organisation references carry the ODS identifier (`odsReference`); feeds.ts adds
 * `reference: "Organization/<code>"` (the code is the id) and writes each organisation once as an Organization resource,
 * so that both identifier and reference searches (and issue 5's relationship rules) find it.
 */
export interface HeldRecord {
  /** ODS code (NHS organisations) or ONS code (councils) of the organisation whose system holds it. */
  holder: string;
  /** Unique within the resident and holder; other records refer to it by this key. */
  key: string;
  resource: Resource;
}

/** What a stage needs to know about the area's organisations; built by geography.ts. */
export interface AreaOrganisations {
  icb: { code: string; name: string };
  practices: { code: string; name: string; postcode: string; lad: string; listSize: number }[];
  /** Acute trusts with their share of the area's acute activity. */
  acuteTrusts: { code: string; name: string; share: number }[];
  communityTrust: { code: string; name: string };
  mentalHealthTrust: { code: string; name: string };
  ambulanceTrust: { code: string; name: string };
  /** Upper-tier councils (social care) by ONS code. */
  councils: { code: string; name: string }[];
  /**
   * Who serves the residents of each district, keyed by `Resident.lad` (LAD 2019 code; the 2021
   * code of a merged district is a key too). Plain data so it crosses to worker threads. Read it
   * through `acuteTrustFor`, `communityTrustFor`, `mentalHealthTrustFor`, `ambulanceTrustFor` and
   * `councilFor` in geography.ts, which fall back to the area-wide fields above when absent.
   */
  districts?: Record<string, DistrictOrganisations>;
}

/** The organisations that serve one district's residents (built by geography.ts). */
export interface DistrictOrganisations {
  /** Acute trusts the district's residents use, with shares summing to 1 (largest first). */
  acuteTrusts: { code: string; name: string; share: number }[];
  communityTrust: { code: string; name: string };
  mentalHealthTrust: { code: string; name: string };
  ambulanceTrust: { code: string; name: string };
  /** Upper-tier council (social care authority). */
  council: { code: string; name: string };
}

export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const SNOMED = 'http://snomed.info/sct';
export const DMD = 'https://dmd.nhs.uk';
export const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
export const OPCS4 = 'http://fhir.nhs.uk/CodeSystem/opcs-4';

/**
 * `meta.source` of every record: which organisation's which system it came from, e.g.
 * `urn:openics:source:RWP:pas`. The record layer (issue 6) and the access layer read the holder
 * back with `holderOfSource`.
 */
export const SOURCE_PREFIX = 'urn:openics:source:';
export function sourceUri(holder: string, system: string): string {
  return `${SOURCE_PREFIX}${holder}:${system}`;
}
export function holderOfSource(source: string | undefined): string | undefined {
  if (!source?.startsWith(SOURCE_PREFIX)) return undefined;
  return source.slice(SOURCE_PREFIX.length).split(':')[0] || undefined;
}

/** A reference to another record of the same resident and holder, resolved by feeds.ts. */
export function ref(key: string): { reference: string } {
  return { reference: `#${key}` };
}

/** A logical reference to an organisation by its ODS (or ONS council) code. */
export function odsReference(code: string, display?: string): { identifier: { system: string; value: string }; display?: string } {
  return display === undefined ? { identifier: { system: ODS_SYSTEM, value: code } } : { identifier: { system: ODS_SYSTEM, value: code }, display };
}
