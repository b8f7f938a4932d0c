/**
 * The finance module's types and vocabularies: the single pot by stream, the need components of
 * NHS England's allocation formula, scenarios and convergence policies, investment standards,
 * the system financial position and risk-share rules.
 *
 * Money is held in whole pence (integers) everywhere inside the module, and in the database as
 * numeric(16,2) pounds. Growth rates and shares are fractions (0.035 is 3.5%).
 */

/** A financial year by the calendar year it starts in: 2025 is 2025/26 (1 April 2025 to 31 March 2026). */
export type FinancialYear = number;

/** "2025/26". */
export function yearLabel(year: FinancialYear): string {
  return `${year}/${String((year + 1) % 100).padStart(2, '0')}`;
}

/** "2025/26" or "2025-26" or "2025" → 2025; null when it is not a financial year. */
export function parseYear(text: string): FinancialYear | null {
  const m = /^\s*(\d{4})(?:\s*[/-]\s*(\d{2}|\d{4}))?\s*$/.exec(text);
  if (!m) return null;
  const start = Number(m[1]);
  if (m[2] !== undefined) {
    const end = Number(m[2]);
    const expected = m[2].length === 2 ? (start + 1) % 100 : start + 1;
    if (end !== expected) return null;
  }
  return start >= 2000 && start <= 2100 ? start : null;
}

/** The streams of an ICB's allocation: the single pot. */
export const STREAMS = {
  core_services: 'Core services',
  primary_medical_care: 'Primary medical care',
  specialised_services: 'Specialised services',
  other_primary_care: 'Other primary care (dental, pharmacy, ophthalmic)',
  running_costs: 'Running cost allowance',
  transformation: 'Transformation funding',
  capital: 'Capital envelope',
} as const;
export type Stream = keyof typeof STREAMS;
export const STREAM_KEYS = Object.keys(STREAMS) as Stream[];

/** Revenue streams, as against the capital envelope. */
export function isRevenue(stream: Stream): boolean {
  return stream !== 'capital';
}

/** The streams distributed to places by need, and the weighted population each is distributed by. */
export const PLACE_STREAMS = {
  core_services: 'core',
  primary_medical_care: 'pmc',
} as const satisfies Partial<Record<Stream, ComponentKey>>;
export type PlaceStream = keyof typeof PLACE_STREAMS;
export const PLACE_STREAM_KEYS = Object.keys(PLACE_STREAMS) as PlaceStream[];

export function isPlaceStream(stream: string): stream is PlaceStream {
  return stream in PLACE_STREAMS;
}

/**
 * The need components of NHS England's ICB allocation formula, as its place-based allocation
 * tool reports them, with the column of the 2025/26 practice file each comes from.
 */
export const COMPONENTS = [
  { key: 'ga', label: 'General and acute', column: 'G&A WP', index: 'G&A Index' },
  { key: 'community', label: 'Community services', column: 'CS WP', index: 'Community Index' },
  { key: 'mentalHealth', label: 'Mental health', column: 'MH WP', index: 'Mental Health Index' },
  { key: 'maternity', label: 'Maternity', column: 'Mat WP', index: 'Maternity Index' },
  { key: 'prescribing', label: 'Prescribing', column: 'Prescr WP', index: 'Prescribing Index' },
  { key: 'inequalities', label: 'Health inequalities', column: 'Health Ineq WP', index: 'Health Inequalities Index' },
  { key: 'core', label: 'Overall core', column: 'Final WP', index: 'Overall Core Index' },
  { key: 'pmcNeed', label: 'Primary medical care need', column: 'Primary Medical Care WP', index: 'Primary Medical Care Need Index' },
  { key: 'pmc', label: 'Primary medical care', column: 'Final PMC WP', index: 'Primary Medical Care Index' },
] as const;
export type ComponentKey = (typeof COMPONENTS)[number]['key'];
export const COMPONENT_KEYS: ComponentKey[] = COMPONENTS.map((c) => c.key);
export const COMPONENT_LABELS = Object.fromEntries(COMPONENTS.map((c) => [c.key, c.label])) as Record<ComponentKey, string>;

/** The components that make up the core index, which a scenario may re-weight. */
export const CORE_PARTS = ['ga', 'community', 'mentalHealth', 'maternity', 'prescribing', 'inequalities'] as const satisfies readonly ComponentKey[];
export type CorePart = (typeof CORE_PARTS)[number];
export type CoreWeights = Record<CorePart, number>;

/**
 * Weights that blend the six core components into one index when a scenario asks for custom
 * weights. NHS England's own core weighted population (Final WP) also carries adjustments that
 * are not a fixed blend, so these are fitted, not published: a least-squares fit of Final WP to
 * the components across England's practices with a 10% health inequalities element. They are the
 * starting point of a custom blend; the default uses NHS England's Final WP itself.
 */
export const FITTED_CORE_WEIGHTS: CoreWeights = { ga: 0.675, community: 0, mentalHealth: 0.14, maternity: 0.058, prescribing: 0.027, inequalities: 0.1 };

/** NHS England's primary medical care weighted population: 85% need, 15% health inequalities (observed exactly in the 2025/26 file). */
export const NHSE_PMC_INEQUALITIES_SHARE = 0.15;

/** How a scenario weights need. Null members mean NHS England's own weighted populations. */
export interface NeedWeights {
  core: CoreWeights | null;
  pmcInequalitiesShare: number | null;
}

export const NHSE_WEIGHTS: NeedWeights = { core: null, pmcInequalitiesShare: null };

/** How the places of a place set were first drawn. */
export const PLACE_SET_BASES = {
  structure: "The ICS's places (from the structure module)",
  districts: 'Local authority districts',
  upper_tier: 'Upper-tier councils',
  pcns: 'Primary care networks',
  custom: 'Drawn by hand',
} as const;
export type PlaceSetBasis = keyof typeof PLACE_SET_BASES;

export interface PlaceSet {
  id: string;
  icsCode: string;
  name: string;
  description: string | null;
  basis: PlaceSetBasis;
  /** Practice code → place name. Empty for the 'structure' place set, which follows the ICS's places. */
  assignments: Map<string, string>;
}

/** A pace-of-change policy: how fast place budgets move from where they are to their targets. */
export interface ConvergencePolicy {
  id: string;
  icsCode: string;
  name: string;
  /** How many years the path runs after the base year. */
  years: number;
  /** Assumed growth of the pot for places each year. */
  icbGrowth: number;
  /** No place grows by less than this in a year (protects places above target). */
  minGrowth: number;
  /** No place grows by more than this in a year. */
  maxGrowth: number;
  /** The share of a place's distance from target closed each year (0 to 1). */
  gapClosure: number;
  /** Places no more than this far above target keep the pot's average growth. */
  protectionBand: number;
}

export interface Scenario {
  id: string;
  icsCode: string;
  name: string;
  description: string | null;
  year: FinancialYear;
  placeSetId: string;
  policyId: string;
  weights: NeedWeights;
  updatedAt: Date;
}

export interface AllocationLine {
  id: string;
  icsCode: string;
  year: FinancialYear;
  stream: Stream;
  name: string;
  /** Pence. */
  amount: number;
  source: string;
  conditions: string | null;
  recurrent: boolean;
}

/** A current budget held by one of the ICS's places (structure places) for a stream and year. */
export interface PlaceBudget {
  icsCode: string;
  year: FinancialYear;
  stream: PlaceStream;
  placeId: string;
  /** Pence. */
  amount: number;
}

/** Investment standards and guarantees. */
export const STANDARDS = {
  mhis: 'Mental Health Investment Standard',
  pmcs: 'Primary medical and community services guarantee',
} as const;
export type Standard = keyof typeof STANDARDS;

/** Spending categories of each standard, with the categories that are excluded and why. */
export const STANDARD_CATEGORIES = {
  mhis: {
    adult_community: 'Adult community mental health',
    crisis: 'Adult crisis and acute alternatives',
    inpatient: 'Adult and older adult acute inpatient',
    talking_therapies: 'NHS Talking Therapies',
    cyp: "Children and young people's mental health",
    perinatal: 'Perinatal mental health',
    eip: 'Early intervention in psychosis',
    smi_physical_health: 'Physical health checks for people with severe mental illness',
    secure: 'Secure and specialised mental health (ICB-commissioned)',
    prescribing: 'Mental health prescribing',
    ld_autism: 'Learning disability and autism',
    dementia: 'Dementia',
    adhd: 'ADHD',
    sdf: 'Service Development Fund and transformation',
    spending_review: 'Spending review funding',
    covid: 'COVID-19 costs',
    other: 'Other mental health',
  },
  pmcs: {
    gp_contracts: 'GP contracts (GMS, PMS, APMS)',
    enhanced_services: 'Enhanced services and the PCN DES',
    arrs: 'Additional Roles Reimbursement Scheme',
    premises: 'GP premises',
    community_nursing: 'Community nursing',
    community_therapies: 'Community therapies',
    intermediate_care: 'Intermediate care and virtual wards',
    community_hospitals: 'Community hospitals',
    sdf: 'Service Development Fund and transformation',
    other: 'Other primary and community services',
  },
} as const satisfies Record<Standard, Record<string, string>>;

/**
 * Exclusions NHS England publishes for the Mental Health Investment Standard: a line in one of
 * these categories is left out of the compliance calculation unless marked otherwise (learning
 * disability and autism counts where there is a co-occurring mental health need).
 */
export const DEFAULT_EXCLUSIONS: Partial<Record<Standard, Record<string, string>>> = {
  mhis: {
    ld_autism: 'Learning disability and autism spend is excluded unless there is a co-occurring mental health need',
    dementia: 'Dementia spend is excluded from the compliance calculation',
    adhd: 'ADHD spend is excluded from the compliance calculation',
    sdf: 'Service Development Fund and other transformation money is excluded',
    spending_review: 'Spending review funding is excluded',
    covid: 'COVID-19 costs are excluded',
  },
  pmcs: {
    sdf: 'Service Development Fund and other transformation money is excluded',
  },
};

export interface StandardLine {
  id: string;
  icsCode: string;
  year: FinancialYear;
  standard: Standard;
  category: string;
  description: string;
  /** Pence. */
  plan: number;
  /** Pence, once the year is out. */
  outturn: number | null;
  excluded: boolean;
  exclusionReason: string | null;
}

/** The growth a standard requires in a year, and where it comes from. */
export interface StandardTarget {
  icsCode: string;
  year: FinancialYear;
  standard: Standard;
  requiredGrowth: number;
  basis: string;
}

/** Months of the financial year: 1 is April, 12 is March. */
export const MONTHS = ['April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December', 'January', 'February', 'March'] as const;
const SHORT_MONTHS = ['apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec', 'jan', 'feb', 'mar'];

/** "October 2025" for month 7 of 2025/26. */
export function monthLabel(year: FinancialYear, month: number): string {
  return `${MONTHS[month - 1] ?? '?'} ${month <= 9 ? year : year + 1}`;
}

/** "M7", "7", "Oct", "October", "Oct-25", "2025-10" → month of the financial year (1-12), or null. */
export function parseMonth(text: string, year?: FinancialYear): number | null {
  const value = text.trim().toLowerCase();
  let m: RegExpExecArray | null;
  if ((m = /^m?(\d{1,2})$/.exec(value))) {
    const n = Number(m[1]);
    return n >= 1 && n <= 12 ? n : null;
  }
  if ((m = /^(\d{4})-(\d{1,2})$/.exec(value))) {
    const calendarYear = Number(m[1]);
    const calendarMonth = Number(m[2]);
    if (calendarMonth < 1 || calendarMonth > 12) return null;
    const month = calendarMonth >= 4 ? calendarMonth - 3 : calendarMonth + 9;
    if (year !== undefined && calendarYear !== (month <= 9 ? year : year + 1)) return null;
    return month;
  }
  if ((m = /^([a-z]{3,9})(?:[\s-]+(\d{2}|\d{4}))?$/.exec(value))) {
    const name = m[1] ?? '';
    const index = SHORT_MONTHS.findIndex((s, i) => name === s || name === MONTHS[i]?.toLowerCase() || (name.length >= 3 && MONTHS[i]?.toLowerCase().startsWith(name)));
    if (index < 0) return null;
    const month = index + 1;
    if (m[2] !== undefined && year !== undefined) {
      const y = m[2].length === 2 ? 2000 + Number(m[2]) : Number(m[2]);
      if (y !== (month <= 9 ? year : year + 1)) return null;
    }
    return month;
  }
  return null;
}

export const FIGURE_KINDS = { plan: 'Plan', actual: 'Actual', forecast: 'Forecast' } as const;
export type FigureKind = keyof typeof FIGURE_KINDS;

/** One organisation's income and expenditure for one month (plan, actual) or the year (forecast, month 0). */
export interface MonthFigures {
  icsCode: string;
  year: FinancialYear;
  orgCode: string;
  kind: FigureKind;
  /** 1-12; 0 for a full-year forecast outturn. */
  month: number;
  /** Pence. */
  income: number;
  pay: number;
  nonPay: number;
}

/** The surplus (positive) or deficit (negative) the system's organisations agree to deliver together. */
export interface SystemTarget {
  icsCode: string;
  year: FinancialYear;
  /** Pence; 0 is breakeven. */
  surplus: number;
  description: string | null;
}

/** Spend against a budget delegated through the functions and decisions map, by month. */
export interface DelegatedSpend {
  icsCode: string;
  year: FinancialYear;
  delegationId: string;
  month: number;
  /** Pence. */
  amount: number;
}

export const RISK_RULE_KINDS = {
  retain_own_variance: 'Each partner keeps its own variance up to a limit',
  share_overspend: 'Share of a net overspend',
  share_underspend: 'Share of a net underspend',
  cap: 'Cap on a partner’s share of a net overspend',
} as const;
export type RiskRuleKind = keyof typeof RISK_RULE_KINDS;

export interface RiskShareRule {
  id: string;
  kind: RiskRuleKind;
  /** The partner the rule names; null for rules that apply to every partner (retain_own_variance). */
  orgCode: string | null;
  /** A share (0 to 1) for share rules; pence for retain_own_variance and cap. */
  value: number;
}

export interface RiskShareAgreement {
  icsCode: string;
  year: FinancialYear;
  name: string;
  description: string | null;
  /** Who bears what no partner can (everyone capped): normally the ICB. */
  residualOrgCode: string;
  rules: RiskShareRule[];
}

// ---- money ----------------------------------------------------------------------------------

/** "1512400000.00" (numeric from the database) or a number of pounds → whole pence, exactly. */
export function toPence(value: string | number): number {
  if (typeof value === 'number') return Math.round(value * 100);
  const m = /^(-)?(\d+)(?:\.(\d{0,2})\d*)?$/.exec(value.trim());
  if (!m) throw new Error(`not an amount of money: ${value}`);
  const pence = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] ? -pence : pence;
}

/** Whole pence → "1512400000.00", for the database and for CSV. */
export function penceToDecimal(pence: number): string {
  const sign = pence < 0 ? '-' : '';
  const abs = Math.abs(Math.round(pence));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Whole pence → pounds as a number (for JSON and charts). */
export function penceToPounds(pence: number): number {
  return Math.round(pence) / 100;
}
