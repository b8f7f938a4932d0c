/**
 * Legitimate relationships, read from the records themselves. Each is between a resident (the
 * Patient a record is about) and a party: an organisation (ODS code, or a council's ONS GSS code)
 * or one practitioner (`Practitioner/<id>`).
 *
 * | record        | basis                        | party                                                   | open while                                          | ends (until)                     |
 * |---------------|------------------------------|---------------------------------------------------------|-----------------------------------------------------|----------------------------------|
 * | Patient       | registration                 | generalPractitioner, managingOrganization               | active is not false                                 | when the Patient is made inactive |
 * | Encounter     | encounter                    | serviceProvider; participant individuals                | planned, arrived, triaged, in-progress, onleave     | period.end, or when written      |
 * | EpisodeOfCare | episode (social-care for a council) | managingOrganization; careManager                | planned, waitlist, active, onhold                   | period.end, or when written      |
 * | ServiceRequest| referral                     | requester, performer                                    | draft, active, on-hold                              | when written (completed, revoked) |
 * | CareTeam      | care-team                    | managingOrganization, participant member, onBehalfOf    | proposed, active, suspended (and period not ended)  | period.end, or when written      |
 *
 * Cancelled and entered-in-error records make none. A relationship that has ended still counts
 * for a configurable window after it ends (the policy's `relationshipWindowDays`). References to a
 * PractitionerRole or HealthcareService are resolved to their organisation by the write hook.
 */
import type { Reference, Resource } from '@medplum/fhirtypes';

export const RELATIONSHIP_TYPES = ['Patient', 'Encounter', 'EpisodeOfCare', 'ServiceRequest', 'CareTeam'] as const;
export type Basis = 'registration' | 'encounter' | 'episode' | 'referral' | 'care-team' | 'social-care';

const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
/** ONS GSS codes of councils (E06…, E07…, E08…, E09…, E10…, W06…): their episodes are social care. */
const GSS_CODE = /^[EWSN]\d{8}$/;

/** A party as the record names it; the write hook turns PractitionerRole and HealthcareService into their organisations. */
export type PartyRef = { kind: 'organisation'; id: string } | { kind: 'practitioner'; id: string } | { kind: 'practitioner-role'; id: string } | { kind: 'healthcare-service'; id: string };

export interface FoundRelationship {
  patientId: string;
  party: PartyRef;
  basis: Basis;
  since?: string | undefined;
  /** Undefined while open. */
  until?: string | undefined;
}

/** The `Type/id` a reference ends in (relative or absolute). */
function target(reference: Reference | undefined): { type: string; id: string } | undefined {
  const match = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference?.reference ?? '');
  if (match?.[1] && match[2]) return { type: match[1], id: match[2] };
  return undefined;
}

export function partyOf(reference: Reference | undefined): PartyRef | undefined {
  const t = target(reference);
  if (t) {
    switch (t.type) {
      case 'Organization':
        return { kind: 'organisation', id: t.id };
      case 'Practitioner':
        return { kind: 'practitioner', id: t.id };
      case 'PractitionerRole':
        return { kind: 'practitioner-role', id: t.id };
      case 'HealthcareService':
        return { kind: 'healthcare-service', id: t.id };
      default:
        return undefined;
    }
  }
  // A logical reference by ODS code.
  if (reference?.identifier?.system === ODS_SYSTEM && reference.identifier.value) return { kind: 'organisation', id: reference.identifier.value };
  return undefined;
}

export function patientIdOf(reference: Reference | undefined): string | undefined {
  const t = target(reference);
  return t?.type === 'Patient' ? t.id : undefined;
}

/** Whether a party's organisation code is a council's (its episodes are social care involvement). */
export function isCouncil(code: string): boolean {
  return GSS_CODE.test(code);
}

/** The relationships a record establishes, before parties are resolved to organisations. */
export function relationshipsFrom(resource: Resource): FoundRelationship[] {
  const written = resource.meta?.lastUpdated;
  const out: FoundRelationship[] = [];
  const add = (patientId: string | undefined, references: ReadonlyArray<Reference | undefined>, basis: Basis, since: string | undefined, until: string | undefined): void => {
    if (!patientId) return;
    for (const reference of references) {
      const party = partyOf(reference);
      if (party) out.push({ patientId, party, basis, since, until });
    }
  };
  const r = resource;
  if (r.resourceType === 'Patient') {
    const until = r.active === false ? written : undefined;
    add(r.id, [...(r.generalPractitioner ?? []), r.managingOrganization], 'registration', undefined, until);
  } else if (r.resourceType === 'Encounter') {
    if (r.status === 'cancelled' || r.status === 'entered-in-error') return out;
    const open = ['planned', 'arrived', 'triaged', 'in-progress', 'onleave'].includes(r.status);
    const until = open ? undefined : (r.period?.end ?? written);
    add(patientIdOf(r.subject), [r.serviceProvider, ...(r.participant ?? []).map((p) => p.individual)], 'encounter', r.period?.start, until);
  } else if (r.resourceType === 'EpisodeOfCare') {
    if (r.status === 'cancelled' || r.status === 'entered-in-error') return out;
    const open = ['planned', 'waitlist', 'active', 'onhold'].includes(r.status);
    const until = open ? undefined : (r.period?.end ?? written);
    const org = partyOf(r.managingOrganization);
    const basis: Basis = org?.kind === 'organisation' && isCouncil(org.id) ? 'social-care' : 'episode';
    add(patientIdOf(r.patient), [r.managingOrganization, r.careManager], basis, r.period?.start, until);
  } else if (r.resourceType === 'ServiceRequest') {
    if (r.status === 'entered-in-error') return out;
    const open = ['draft', 'active', 'on-hold'].includes(r.status);
    add(patientIdOf(r.subject), [r.requester, ...(r.performer ?? [])], 'referral', r.authoredOn, open ? undefined : written);
  } else if (r.resourceType === 'CareTeam') {
    if (r.status === 'entered-in-error') return out;
    const patientId = patientIdOf(r.subject);
    const teamEnded = r.status === 'inactive' ? (r.period?.end ?? written) : r.period?.end;
    add(patientId, r.managingOrganization ?? [], 'care-team', r.period?.start, teamEnded);
    for (const participant of r.participant ?? []) {
      const until = participant.period?.end ?? teamEnded;
      add(patientId, [participant.member, participant.onBehalfOf], 'care-team', participant.period?.start ?? r.period?.start, until);
    }
  }
  return out;
}
