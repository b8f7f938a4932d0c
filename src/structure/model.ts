/**
 * The ICS's own structure, as the seed documents define it: organisations, places, PCNs,
 * practices, the bodies that meet and decide, the people on them, and the functions and
 * decisions map. Plain typed records: FHIR does not model boards and delegations.
 */

export const ORGANISATION_KINDS = {
  nhs_england: 'NHS England',
  icb: 'Integrated care board',
  nhs_trust: 'NHS trust',
  foundation_trust: 'NHS foundation trust',
  gp_practice: 'GP practice',
  pcn: 'Primary care network',
  upper_tier_council: 'County council (upper tier)',
  unitary_council: 'Unitary council',
  lower_tier_council: 'District council (lower tier)',
  vcse: 'Voluntary, community and social enterprise',
  healthwatch: 'Healthwatch',
  independent_provider: 'Independent provider',
  social_care_provider: 'Social care provider',
  gp_federation: 'GP federation',
} as const;
export type OrganisationKind = keyof typeof ORGANISATION_KINDS;

export const SERVICES = {
  acute: 'Acute',
  community: 'Community',
  mental_health: 'Mental health',
  ambulance: 'Ambulance',
  specialist: 'Specialist',
} as const;
export type Service = keyof typeof SERVICES;

export const BODY_KINDS = {
  icb_board: 'ICB board',
  icp: 'Integrated care partnership',
  committee: 'Committee',
  place_partnership: 'Place-based partnership',
  provider_collaborative: 'Provider collaborative',
  clinical_network: 'Clinical network',
} as const;
export type BodyKind = keyof typeof BODY_KINDS;

export const COMMITTEE_TYPES = {
  audit: 'Audit',
  remuneration: 'Remuneration',
  quality: 'Quality',
  finance: 'Finance',
  primary_care_commissioning: 'Primary care commissioning',
  people: 'People',
  other: 'Other',
} as const;
export type CommitteeType = keyof typeof COMMITTEE_TYPES;

/** The five forms a place-based partnership may take (system design framework). */
export const PLACE_FORMS = {
  consultative_forum: 'Consultative forum',
  icb_committee: 'Committee of the ICB',
  joint_committee: 'Joint committee of the ICB with one or more partners',
  individual_director: 'Individual director of the ICB with delegated responsibility',
  lead_provider: 'Lead provider at place',
} as const;
export type PlaceForm = keyof typeof PLACE_FORMS;

/** The governance models a provider collaborative is expected to take. */
export const COLLABORATIVE_MODELS = {
  provider_leadership_board: 'Provider leadership board',
  lead_provider: 'Lead provider',
  shared_leadership: 'Shared leadership or group',
} as const;
export type CollaborativeModel = keyof typeof COLLABORATIVE_MODELS;

/** Roles people hold on bodies and in organisations. */
export const ROLES = {
  chair: 'Chair',
  vice_chair: 'Vice chair',
  non_executive_director: 'Non-executive director',
  chief_executive: 'Chief executive',
  chief_finance_officer: 'Chief finance officer',
  director_of_nursing: 'Director of nursing',
  medical_director: 'Medical director',
  executive_director: 'Executive director',
  partner_member: 'Partner member',
  place_leader: 'Place leader',
  pcn_clinical_director: 'PCN clinical director',
  primary_care_provider_lead: 'Primary care provider leader',
  director_of_public_health: 'Director of public health',
  director_of_adult_social_services: 'Director of adult social services',
  elected_member: 'Elected member',
  provider_representative: 'Provider representative',
  healthwatch_representative: 'Healthwatch representative',
  vcse_representative: 'VCSE representative',
  people_representative: 'Representative of people who access care',
  clinical_lead: 'Clinical lead',
  member: 'Member',
} as const;
export type Role = keyof typeof ROLES;

/** The three groups a partner member of the ICB board can come from. */
export const PARTNER_SECTORS = {
  local_authority: 'Local authority',
  primary_medical_services: 'Primary medical services',
  nhs_trust: 'NHS trust',
} as const;
export type PartnerSector = keyof typeof PARTNER_SECTORS;

export interface Ics {
  code: string;
  name: string;
  region: string | null;
}

export interface Organisation {
  code: string;
  name: string;
  kind: OrganisationKind;
  services: Service[];
  postcode: string | null;
  latitude: number | null;
  longitude: number | null;
  website: string | null;
}

export interface Place {
  id: string;
  icsCode: string;
  name: string;
  gssCode: string | null;
  councilCode: string | null;
  upperTierCode: string | null;
}

export interface Pcn {
  orgCode: string;
  icsCode: string;
  placeId: string | null;
}

export interface Practice {
  orgCode: string;
  icsCode: string;
  pcnCode: string | null;
  placeId: string | null;
  ladCode: string | null;
  registeredPatients: number | null;
  population: number | null;
  weightedPopulation: number | null;
}

export interface Person {
  id: string;
  icsCode: string;
  name: string;
  email: string | null;
}

export interface OrganisationRole {
  id: string;
  personId: string;
  orgCode: string;
  role: Role;
  startDate: string;
  endDate: string | null;
}

export interface Body {
  id: string;
  icsCode: string;
  kind: BodyKind;
  name: string;
  parentId: string | null;
  committeeType: CommitteeType | null;
  placeId: string | null;
  form: PlaceForm | null;
  model: CollaborativeModel | null;
  leadOrgCode: string | null;
  quorum: number | null;
  description: string | null;
}

export interface Membership {
  id: string;
  bodyId: string;
  personId: string;
  role: Role;
  orgCode: string | null;
  voting: boolean;
  startDate: string;
  endDate: string | null;
}

export interface IcsFunction {
  id: string;
  icsCode: string;
  name: string;
  description: string | null;
  sourceOrgCode: string;
  accountableOrgCode: string;
  budgetPounds: number | null;
}

export interface Delegation {
  id: string;
  functionId: string;
  toBodyId: string | null;
  toPersonId: string | null;
  placeId: string | null;
  budgetPounds: number | null;
  decisions: string;
  startDate: string;
  endDate: string | null;
}

/** Everything about one ICS, loaded at once: small enough (hundreds of rows) to check in memory. */
export interface IcsStructure {
  ics: Ics;
  /** The ICB itself, found among the organisations by its code. */
  icb: Organisation;
  organisations: Map<string, Organisation>;
  /** Codes of the partner organisations (councils, trusts, VCSE, Healthwatch...) of this ICS. */
  partners: string[];
  places: Place[];
  pcns: Pcn[];
  practices: Practice[];
  people: Map<string, Person>;
  organisationRoles: OrganisationRole[];
  bodies: Body[];
  bodyOrganisations: Map<string, string[]>;
  memberships: Membership[];
  functions: IcsFunction[];
  delegations: Delegation[];
}

export function isCurrent(term: { startDate: string; endDate: string | null }, asOf: string): boolean {
  return term.startDate <= asOf && (term.endDate === null || term.endDate >= asOf);
}

export function isNhsTrust(org: Organisation): boolean {
  return org.kind === 'nhs_trust' || org.kind === 'foundation_trust';
}

export function isCouncil(org: Organisation): boolean {
  return org.kind === 'upper_tier_council' || org.kind === 'unitary_council' || org.kind === 'lower_tier_council';
}

/** Councils with social care and public health duties. */
export function isUpperTierCouncil(org: Organisation): boolean {
  return org.kind === 'upper_tier_council' || org.kind === 'unitary_council';
}

/** Which of the three partner-member groups an organisation belongs to, if any. */
export function partnerSector(org: Organisation): PartnerSector | null {
  if (isCouncil(org)) return 'local_authority';
  if (org.kind === 'gp_practice' || org.kind === 'pcn' || org.kind === 'gp_federation') return 'primary_medical_services';
  if (isNhsTrust(org)) return 'nhs_trust';
  return null;
}

export function today(): string {
  return new Date().toISOString().slice(0, 10);
}
