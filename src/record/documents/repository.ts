/**
 * The acute trusts' document repository, as a stand-in for the demo: a trust keeps its discharge
 * summaries in its own system, and OpenICS only indexes them (index-documents.ts). Here the
 * "repository" writes each summary on request from the admission it summarises (the Encounter,
 * its diagnoses and procedures, the trust's copy of the Patient), as the trust's own system would
 * hold it.
 *
 * Like a real repository behind a shared record, it does not know OpenICS's users: OpenICS
 * decides who may open a document (routes.ts, through the caller's access policy, audited) and
 * then sends the browser here with a short-lived signed address (HMAC-SHA-256 of the path and
 * expiry under a key of this process), so the address alone, copied or guessed, opens nothing.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Condition, Encounter, Identifier, Patient, Procedure } from '@medplum/fhirtypes';
import type { Database } from '../../core/db/database.js';
import { FhirError } from '../../fhir/outcome.js';
import { findMatching } from '../../fhir/search/execute.js';
import { FhirStore } from '../../fhir/store.js';
import { holderOfSource } from '../../synthetic/model.js';
import { isEmergencyDischarge } from './index-documents.js';

/** How long a signed address opens its document. */
export const SIGNED_URL_SECONDS = 300;
const KEY = randomBytes(32);

function signature(path: string, expires: number): string {
  return createHmac('sha256', KEY).update(`${path}\n${expires}`).digest('hex');
}

/** The path with `expires` (Unix seconds) and `signature` added. */
export function signedAddress(path: string, now = new Date()): string {
  const expires = Math.floor(now.getTime() / 1000) + SIGNED_URL_SECONDS;
  return `${path}?expires=${expires}&signature=${signature(path, expires)}`;
}

/** Whether a signed address is genuine and not expired. */
export function isSignedAddress(path: string, expires: unknown, given: unknown, now = new Date()): boolean {
  if (typeof expires !== 'string' || typeof given !== 'string' || !/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(given)) return false;
  const when = Number(expires);
  if (when * 1000 < now.getTime()) return false;
  return timingSafeEqual(Buffer.from(signature(path, when), 'hex'), Buffer.from(given, 'hex'));
}

export interface DischargeSummary {
  trust: string;
  patient: { name: string; birthDate: string | undefined; localNumbers: string[]; nhsNumber: string | undefined };
  admitted: string | undefined;
  discharged: string | undefined;
  reason: string | undefined;
  diagnoses: string[];
  procedures: Array<{ what: string; when: string | undefined }>;
  destination: string | undefined;
}

const text = (concept: { text?: string; coding?: Array<{ display?: string; code?: string }> } | undefined): string | undefined =>
  concept?.text ?? concept?.coding?.find((c) => c.display)?.display ?? concept?.coding?.[0]?.code;

/**
 * The discharge summary the trust holds for an emergency admission, or undefined when the trust
 * holds no such admission (a wrong address).
 */
export async function dischargeSummary(db: Database, holder: string, encounterId: string): Promise<DischargeSummary | undefined> {
  const store = new FhirStore(db);
  let encounter: Encounter;
  try {
    encounter = (await store.read('Encounter', encounterId)) as Encounter;
  } catch (error) {
    if (error instanceof FhirError && (error.status === 404 || error.status === 410)) return undefined;
    throw error;
  }
  if (holderOfSource(encounter.meta?.source) !== holder || !isEmergencyDischarge(encounter)) return undefined;
  const readAll = async <T>(type: string, ids: string[]): Promise<T[]> => {
    const out: T[] = [];
    for (const id of ids) {
      try {
        out.push((await store.read(type, id)) as T);
      } catch (error) {
        if (!(error instanceof FhirError)) throw error;
      }
    }
    return out;
  };
  const idOf = (reference: string | undefined, type: string): string | undefined => (reference?.startsWith(`${type}/`) ? reference.slice(type.length + 1) : undefined);
  const patientId = idOf(encounter.subject?.reference, 'Patient');
  const [patient] = patientId ? await readAll<Patient>('Patient', [patientId]) : [];
  const diagnoses = await readAll<Condition>(
    'Condition',
    [...(encounter.diagnosis ?? [])].sort((a, b) => (a.rank ?? 99) - (b.rank ?? 99)).flatMap((d) => idOf(d.condition.reference, 'Condition') ?? []),
  );
  const procedureIds = (await findMatching(db, 'Procedure', [['encounter', `Encounter/${encounterId}`]], { baseUrl: '' })).map((m) => m.id);
  const procedures = await readAll<Procedure>('Procedure', procedureIds);
  const organisation = idOf(encounter.serviceProvider?.reference, 'Organization');
  const [trust] = organisation ? await readAll<{ name?: string }>('Organization', [organisation]) : [];
  const name = patient?.name?.[0];
  const local = (patient?.identifier ?? []).filter((i: Identifier) => i.system !== 'https://fhir.nhs.uk/Id/nhs-number' && i.value);
  return {
    trust: trust?.name ?? holder,
    patient: {
      name: name ? [name.prefix?.join(' '), name.given?.join(' '), name.family].filter(Boolean).join(' ') : 'Name not recorded',
      birthDate: patient?.birthDate,
      localNumbers: local.map((i) => i.value as string),
      nhsNumber: patient?.identifier?.find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')?.value,
    },
    admitted: encounter.period?.start,
    discharged: encounter.period?.end,
    reason: (encounter.reasonCode ?? []).map(text).filter(Boolean).join('; ') || undefined,
    diagnoses: diagnoses.map((c) => text(c.code) ?? 'Not coded'),
    procedures: procedures.map((p) => ({ what: text(p.code) ?? 'Not coded', when: p.performedDateTime ?? p.performedPeriod?.start })),
    destination: text(encounter.hospitalization?.dischargeDisposition),
  };
}
