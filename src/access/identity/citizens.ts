/**
 * A citizen's records: the FHIR Patient resources that carry their NHS number (each source
 * organisation holds its own Patient for a resident, so there may be several), and those of the
 * residents they hold proxy access for. Resolved at sign-in, so a citizen whose records arrive
 * later sees them at their next sign-in, and the demo works whichever residents the synthetic
 * population holds.
 */
import type { Queryable } from '../../core/db/database.js';
import { loadFhirDefinitions } from '../../fhir/definitions.js';
import { findMatching } from '../../fhir/search/execute.js';
import { proxyNhsNumbers, type User } from './users.js';

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/** The ids of the Patient resources with any of these NHS numbers, sorted. */
export async function patientIdsByNhsNumber(db: Queryable, nhsNumbers: readonly string[]): Promise<string[]> {
  if (nhsNumbers.length === 0) return [];
  loadFhirDefinitions();
  // One token search with the numbers as alternatives (comma = OR), through the FHIR module's own
  // search, so the lookup means exactly what `Patient?identifier=` means to any FHIR client.
  const value = nhsNumbers.map((n) => `${NHS_NUMBER_SYSTEM}|${n}`).join(',');
  // The base URL only matters for absolute references, which an identifier search has none of.
  const found = await findMatching(db, 'Patient', [['identifier', value]], { baseUrl: 'urn:openics:internal' });
  return [...new Set(found.map((f) => f.id))].sort();
}

export interface CitizenPatients {
  ownPatients: string[];
  proxyPatients: string[];
}

/** A citizen's own Patient ids and those they are proxy for on `asOf` (YYYY-MM-DD); empty for staff. */
export async function citizenPatients(db: Queryable, user: User, asOf: string): Promise<CitizenPatients> {
  if (user.kind !== 'citizen' || user.nhsNumber === undefined) return { ownPatients: [], proxyPatients: [] };
  const proxied = await proxyNhsNumbers(db, user.id, asOf);
  const [ownPatients, proxyPatients] = await Promise.all([patientIdsByNhsNumber(db, [user.nhsNumber]), patientIdsByNhsNumber(db, proxied)]);
  return { ownPatients, proxyPatients };
}
