/**
 * Shared record pointers: documents held in a partner's own document store, indexed in OpenICS as
 * FHIR DocumentReferences (status current, a SNOMED CT document type, the subject, the holding
 * organisation as author and custodian, and `content.attachment` saying where the document is),
 * so the joined record can list them and a clinician can open them (routes.ts).
 *
 * For the demo, `loadDemoDocuments` indexes a discharge summary for every emergency admission the
 * acute trusts have sent (finished inpatient Encounters whose admission method is emergency,
 * NHS Data Dictionary codes 2x), held in the trust's stand-in repository (repository.ts). Each is
 * written through the FHIR store with the platform's write hook, so the access policy knows its
 * holder; ids come from the Encounter's, so loading again changes nothing.
 */
import type { DocumentReference, Encounter } from '@medplum/fhirtypes';
import type { Database } from '../../core/db/database.js';
import { findMatching } from '../../fhir/search/execute.js';
import { FhirStore } from '../../fhir/store.js';
import { holderOfSource, sourceUri } from '../../synthetic/model.js';
import { recordWriteHook } from '../write-hook.js';

const SNOMED = 'http://snomed.info/sct';
export const DISCHARGE_SUMMARY = { system: SNOMED, code: '373942005', display: 'Discharge summary' } as const;
const ADMISSION_METHOD_URL = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod';
/** The name of the trusts' document store in `meta.source` (an electronic document management system). */
export const REPOSITORY_SYSTEM = 'edms';

/** Where the stand-in repository serves a trust's discharge summary of an admission. */
export function repositoryPath(holder: string, encounterId: string): string {
  return `/demo-repository/${encodeURIComponent(holder)}/discharge-summaries/${encodeURIComponent(encounterId)}`;
}

/** Whether an Encounter is an emergency admission that has ended (a discharge summary was written). */
export function isEmergencyDischarge(encounter: Encounter): boolean {
  if (encounter.status !== 'finished' || encounter.class.code !== 'IMP' || !encounter.period?.end) return false;
  const method = encounter.extension?.find((e) => e.url === ADMISSION_METHOD_URL)?.valueCodeableConcept?.coding?.[0]?.code;
  return method?.startsWith('2') ?? false;
}

/** The DocumentReference that points at the discharge summary of an admission, held by the trust that sent it. */
export function dischargeSummaryReference(encounter: Encounter): DocumentReference | undefined {
  const holder = holderOfSource(encounter.meta?.source);
  const end = encounter.period?.end;
  if (!holder || !end || !encounter.id || !encounter.subject?.reference) return undefined;
  const trust = encounter.serviceProvider ?? { reference: `Organization/${holder}` };
  return {
    resourceType: 'DocumentReference',
    id: `ds-${encounter.id}`,
    meta: { source: sourceUri(holder, REPOSITORY_SYSTEM) },
    status: 'current',
    docStatus: 'final',
    type: { coding: [{ ...DISCHARGE_SUMMARY }], text: 'Discharge summary' },
    subject: { reference: encounter.subject.reference },
    date: end,
    author: [trust],
    custodian: trust,
    description: 'Discharge summary of an emergency admission',
    content: [{ attachment: { contentType: 'text/html', url: repositoryPath(holder, encounter.id), title: 'Discharge summary', creation: end } }],
    context: { encounter: [{ reference: `Encounter/${encounter.id}` }], ...(encounter.period ? { period: encounter.period } : {}) },
  };
}

/**
 * Indexes a discharge summary for every emergency admission in the FHIR store (the demo's acute
 * trusts'). Run it after the residents are loaded; returns how many it indexed.
 */
export async function loadDemoDocuments(db: Database): Promise<{ documents: number }> {
  const store = new FhirStore(db, { onWrite: recordWriteHook });
  const admissions = await findMatching(db, 'Encounter', 'class=IMP&status=finished', { baseUrl: '' });
  const documents: DocumentReference[] = [];
  for (const { id } of admissions) {
    const encounter = (await store.read('Encounter', id)) as Encounter;
    if (!isEmergencyDischarge(encounter)) continue;
    const document = dischargeSummaryReference(encounter);
    if (document) documents.push(document);
  }
  await store.inTransaction(async (tx) => {
    for (const document of documents) await tx.update('DocumentReference', document.id as string, document);
  });
  return { documents: documents.length };
}
