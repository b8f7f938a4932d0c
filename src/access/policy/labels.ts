/**
 * Sensitive records: which FHIR security labels (`meta.security`) make a record sensitive, the
 * class each label belongs to, and who may see each class. The write hook stores a resource's
 * classes with its holder (access_resource_label); the row filter applies this table.
 *
 * Labels read (any one puts a record in the class):
 *
 * | class            | labels                                                                  |
 * |------------------|-------------------------------------------------------------------------|
 * | sexual-health    | v3-ActCode SEX (sexuality and reproductive health), STD, HIV            |
 * | gender-identity  | urn:openics:sensitivity gender-identity (HL7 has no code for it)        |
 * | safeguarding     | v3-ActCode SDV (sexual assault, abuse, domestic violence); urn:openics:sensitivity safeguarding |
 * | mental-health    | v3-ActCode PSY, MH, PSYTHPN, BH                                        |
 * | substance-misuse | v3-ActCode ETH, SUD                                                     |
 * | restricted       | v3-Confidentiality R                                                    |
 * | very-restricted  | v3-Confidentiality V                                                    |
 *
 * Who sees a sensitive record (a legitimate relationship or break-glass is needed first, as for
 * any record; the holder is the organisation in the record's `meta.source`):
 *
 * | class            | holder's staff | staff elsewhere with a relationship | break-glass | the resident | a proxy |
 * |------------------|----------------|-------------------------------------|-------------|--------------|---------|
 * | sexual-health    | yes            | no                                  | no          | yes          | no      |
 * | gender-identity  | yes            | no                                  | no          | yes          | no      |
 * | safeguarding     | yes            | doctor, social worker               | yes         | no           | no      |
 * | mental-health    | yes            | doctor, nurse                       | yes         | yes          | no      |
 * | substance-misuse | yes            | doctor                              | yes         | yes          | no      |
 * | restricted       | yes            | doctor                              | yes         | no           | no      |
 * | very-restricted  | yes            | no                                  | no          | no           | no      |
 *
 * Sexual health follows the confidentiality of sexual health services (not shared without the
 * person's consent, even with their GP); safeguarding records can put the person at risk if the
 * person or someone with access to their account reads them. Backend clients see only what
 * their own organisation holds; analysts never see labelled records.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { RoleCode } from '../context.js';

export const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const V3_CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
/** OpenICS's own sensitivity codes, where HL7 has none. */
export const OPENICS_SENSITIVITY = 'urn:openics:sensitivity';

export const SENSITIVE_CLASSES = ['sexual-health', 'gender-identity', 'safeguarding', 'mental-health', 'substance-misuse', 'restricted', 'very-restricted'] as const;
export type SensitiveClass = (typeof SENSITIVE_CLASSES)[number];

const LABELS: ReadonlyArray<[system: string, code: string, cls: SensitiveClass]> = [
  [V3_ACT_CODE, 'SEX', 'sexual-health'],
  [V3_ACT_CODE, 'STD', 'sexual-health'],
  [V3_ACT_CODE, 'HIV', 'sexual-health'],
  [OPENICS_SENSITIVITY, 'gender-identity', 'gender-identity'],
  [V3_ACT_CODE, 'SDV', 'safeguarding'],
  [OPENICS_SENSITIVITY, 'safeguarding', 'safeguarding'],
  [V3_ACT_CODE, 'PSY', 'mental-health'],
  [V3_ACT_CODE, 'MH', 'mental-health'],
  [V3_ACT_CODE, 'PSYTHPN', 'mental-health'],
  [V3_ACT_CODE, 'BH', 'mental-health'],
  [V3_ACT_CODE, 'ETH', 'substance-misuse'],
  [V3_ACT_CODE, 'SUD', 'substance-misuse'],
  [V3_CONFIDENTIALITY, 'R', 'restricted'],
  [V3_CONFIDENTIALITY, 'V', 'very-restricted'],
];
const BY_CODING = new Map(LABELS.map(([system, code, cls]) => [`${system}|${code}`, cls]));

export interface ClassRule {
  /** Roles that see the class at organisations with a legitimate relationship (besides the holder's staff). */
  related: readonly RoleCode[];
  breakGlass: boolean;
  resident: boolean;
  proxy: boolean;
}

export const CLASS_RULES: Readonly<Record<SensitiveClass, ClassRule>> = {
  'sexual-health': { related: [], breakGlass: false, resident: true, proxy: false },
  'gender-identity': { related: [], breakGlass: false, resident: true, proxy: false },
  safeguarding: { related: ['doctor', 'social_worker'], breakGlass: true, resident: false, proxy: false },
  'mental-health': { related: ['doctor', 'nurse'], breakGlass: true, resident: true, proxy: false },
  'substance-misuse': { related: ['doctor'], breakGlass: true, resident: true, proxy: false },
  restricted: { related: ['doctor'], breakGlass: true, resident: false, proxy: false },
  'very-restricted': { related: [], breakGlass: false, resident: false, proxy: false },
};

/** The sensitive classes of a resource, from its meta.security labels. */
export function sensitiveClasses(resource: Resource): SensitiveClass[] {
  const out = new Set<SensitiveClass>();
  for (const coding of resource.meta?.security ?? []) {
    const cls = BY_CODING.get(`${coding.system ?? ''}|${coding.code ?? ''}`);
    if (cls) out.add(cls);
  }
  return [...out];
}

/** The classes staff in `role` see at an organisation with a relationship (not the holder). */
export function classesForRelated(role: RoleCode | undefined): SensitiveClass[] {
  return role === undefined ? [] : SENSITIVE_CLASSES.filter((c) => CLASS_RULES[c].related.includes(role));
}

export function classesForBreakGlass(): SensitiveClass[] {
  return SENSITIVE_CLASSES.filter((c) => CLASS_RULES[c].breakGlass);
}

/** Classes hidden from the resident themself, and from a proxy. */
export function classesHiddenFromResident(): SensitiveClass[] {
  return SENSITIVE_CLASSES.filter((c) => !CLASS_RULES[c].resident);
}

export function classesHiddenFromProxy(): SensitiveClass[] {
  return SENSITIVE_CLASSES.filter((c) => !CLASS_RULES[c].proxy);
}

const SOURCE_PREFIX = 'urn:openics:source:';

/** The holder (ODS code) in `meta.source` (`urn:openics:source:<ODS>:<system>`), if it follows the convention. */
export function holderOf(resource: Resource): string | undefined {
  const source = resource.meta?.source;
  if (!source?.startsWith(SOURCE_PREFIX)) return undefined;
  const holder = source.slice(SOURCE_PREFIX.length).split(':')[0];
  return holder ? holder : undefined;
}

/** The `meta.source` prefix of records an organisation holds: `urn:openics:source:<ODS>:`. */
export function sourcePrefix(organisation: string): string {
  return `${SOURCE_PREFIX}${organisation}:`;
}
