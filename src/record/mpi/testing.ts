/**
 * Fixtures for the master patient index's database tests: source Patients as a partner's feed
 * sends them (its `meta.source`, its managing organisation, an NHS number verified or absent), a
 * GP who may see records through the access policy, and a look-up of the resident a Patient is in.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { AccessContext } from '../../access/context.js';
import { fhirAccessFor } from '../../access/policy/fhir-policy.js';
import type { Database, Queryable } from '../../core/db/database.js';
import { FhirStore } from '../../fhir/store.js';
import { residentOfPatient } from './residents.js';

export const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
export const VERIFIED = { url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus', valueCodeableConcept: { coding: [{ code: '01' }] } };

/** The `meta.source` a holder's feed stamps on what it sends. */
export const sourceOf = (holder: string): string => `urn:openics:source:${holder}:test`;

/** A doctor at the practice M85001, acting for direct care. */
export const GP: AccessContext = { kind: 'user', subject: 'dr-gp', display: 'Dr GP', role: 'doctor', organisation: 'M85001', scopes: [{ context: 'user', type: '*', actions: 'cruds' }], purpose: 'TREAT' };

/** A holder's copy of a Patient, with a verified NHS number when one is given. */
export function sourcePatient(id: string, holder: string, demographics: Partial<Patient>, nhsNumber?: string): Patient {
  return {
    resourceType: 'Patient',
    id,
    meta: { source: sourceOf(holder) },
    ...(nhsNumber ? { identifier: [{ system: NHS, value: nhsNumber, extension: [VERIFIED] }] } : {}),
    managingOrganization: { reference: `Organization/${holder}` },
    ...demographics,
  };
}

export const ANN: Partial<Patient> = { name: [{ family: 'Quennell', given: ['Annabel'] }], gender: 'female', birthDate: '1951-03-14', address: [{ line: ['7 Orchard Row'], postalCode: 'HR4 9QZ' }] };
export const TOM: Partial<Patient> = { name: [{ family: 'Pargeter', given: ['Thomas'] }], gender: 'male', birthDate: '1988-11-02', address: [{ line: ['2 Station Road'], postalCode: 'WR9 8AA' }] };

/** The resident a Patient is in; throws when it is in none. */
export async function residentIn(q: Queryable, id: string): Promise<string> {
  const found = await residentOfPatient(q, id);
  if (!found) throw new Error(`no resident for ${id}`);
  return found.residentId;
}

/** Whether the GP may read this resource through the access policy. */
export async function gpMaySee(db: Database, type: string, id: string): Promise<boolean> {
  try {
    await new FhirStore(db).withAccess(fhirAccessFor(GP, db)).read(type, id);
    return true;
  } catch {
    return false;
  }
}
