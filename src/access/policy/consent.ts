/**
 * Objections and opt-outs, read from FHIR R4 Consent resources when they are written, and the
 * SQL tests the row filter and analytics use.
 *
 * National Data Opt-out. NHS England's National Data Opt-out service records a preference as a
 * Consent (profile NDOP-Consent-1, STU3) with category
 * `https://fhir.nhs.uk/STU3/CodeSystem/NDOP-Categories-1|NDOP`, status `active` meaning "opted
 * out", and purpose codes from `https://fhir.nhs.uk/STU3/CodeSystem/NDOP-PreferenceCodes-1`
 * (PLAN: planning and commissioning, RESCH: research). OpenICS keeps that category. In R4 the
 * purpose moves to `provision.purpose`, so OpenICS also takes as an opt-out any active Consent
 * whose provision denies only secondary uses: `provision.type = deny` with every
 * `provision.purpose` one of v3-ActReason HOPERAT, HRESCH, PUBHLTH, HMARKT, HPAYMT (or NDOP's PLAN,
 * RESCH). Example:
 *
 *   { "resourceType": "Consent", "status": "active",
 *     "scope": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy" }] },
 *     "category": [{ "coding": [{ "system": "https://fhir.nhs.uk/STU3/CodeSystem/NDOP-Categories-1", "code": "NDOP" }] }],
 *     "patient": { "reference": "Patient/…" },
 *     "provision": { "type": "deny", "purpose": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HOPERAT" },
 *                                                { "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HRESCH" }] } }
 *
 * Objection to sharing. An active Consent with scope `patient-privacy` whose provision is `deny`
 * and is not limited to secondary uses (no purpose, or a purpose including TREAT / ETREAT /
 * direct care): the resident objects to their records being shared with other organisations.
 * If `provision.actor` names organisations (any role), the objection applies to those only;
 * otherwise to every organisation except each record's holder. `provision.period` bounds it.
 * A break-glass grant overrides an objection; the opt-out never limits direct care.
 */
import type { Consent, Reference } from '@medplum/fhirtypes';

export const NDOP_CATEGORIES = 'https://fhir.nhs.uk/STU3/CodeSystem/NDOP-Categories-1';
export const NDOP_PREFERENCES = 'https://fhir.nhs.uk/STU3/CodeSystem/NDOP-PreferenceCodes-1';
export const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const CONSENT_SCOPE = 'http://terminology.hl7.org/CodeSystem/consentscope';
const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

const SECONDARY_PURPOSES = new Set([`${ACT_REASON}|HOPERAT`, `${ACT_REASON}|HRESCH`, `${ACT_REASON}|PUBHLTH`, `${ACT_REASON}|HMARKT`, `${ACT_REASON}|HPAYMT`, `${NDOP_PREFERENCES}|PLAN`, `${NDOP_PREFERENCES}|RESCH`]);

export type ConsentKind = 'objection' | 'national-opt-out';

export interface ConsentEffect {
  kind: ConsentKind;
  /** Organisation ids (ODS codes) the objection applies to; undefined: every organisation but the holder. */
  organisations?: string[] | undefined;
  validFrom?: string | undefined;
  validUntil?: string | undefined;
}

/** The Patient id a Consent is about, from `Consent.patient` (`Patient/x` or an absolute URL ending in it). */
export function consentPatientId(consent: Consent): string | undefined {
  const match = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(consent.patient?.reference ?? '');
  return match?.[1];
}

/** What an active Consent means for access: an opt-out, an objection, or nothing. */
export function consentEffects(consent: Consent): ConsentEffect[] {
  if (consent.status !== 'active') return [];
  const provision = consent.provision;
  const period = { validFrom: provision?.period?.start, validUntil: provision?.period?.end };
  const ndop = (consent.category ?? []).some((c) => (c.coding ?? []).some((coding) => coding.system === NDOP_CATEGORIES && coding.code === 'NDOP'));
  if (ndop) return [{ kind: 'national-opt-out', ...period }];
  if (provision?.type !== 'deny') return [];
  const purposes = (provision.purpose ?? []).map((p) => `${p.system ?? ''}|${p.code ?? ''}`);
  if (purposes.length > 0 && purposes.every((p) => SECONDARY_PURPOSES.has(p))) return [{ kind: 'national-opt-out', ...period }];
  const privacy = (consent.scope?.coding ?? []).some((c) => c.system === CONSENT_SCOPE && c.code === 'patient-privacy');
  if (!privacy) return [];
  const organisations = (provision.actor ?? []).map((a) => organisationId(a.reference)).filter((o): o is string => o !== undefined);
  return [{ kind: 'objection', organisations: organisations.length > 0 ? organisations : undefined, ...period }];
}

function organisationId(reference: Reference | undefined): string | undefined {
  if (!reference) return undefined;
  const match = /(?:^|\/)Organization\/([A-Za-z0-9\-.]{1,64})$/.exec(reference.reference ?? '');
  if (match?.[1]) return match[1];
  return reference.identifier?.system === ODS_SYSTEM ? reference.identifier.value : undefined;
}

/** `bind` a value and get its placeholder (as SqlBuilder.bind does). */
export type Bind = (value: unknown) => string;

/** The person of the row `alias` (through access_person_link) has an active consent of `kind`, as an SQL condition; `extra` narrows the consent row `c`. */
export function consentExists(alias: string, kind: ConsentKind, now: string, extra = ''): string {
  return `EXISTS (SELECT 1 FROM access_person_link cl JOIN access_consent c ON c.person_key = cl.person_key
    WHERE cl.patient_key = ${alias}.patient_key AND c.kind = '${kind}'
      AND (c.valid_from IS NULL OR c.valid_from <= ${now}) AND (c.valid_until IS NULL OR c.valid_until > ${now})${extra})`;
}

/**
 * The SQL condition that is true when the Patient-compartment row `alias` (any row with a
 * patient_key) belongs to a person with a National Data Opt-out. The shape of analytics'
 * `OptOutCondition` (src/access/analytics/counts.ts), which uses it.
 */
export function optedOutOfSecondaryUse(alias: string, bind: Bind): string {
  return consentExists(alias, 'national-opt-out', `${bind(new Date().toISOString())}::timestamptz`);
}
