/**
 * Reading the master patient index: which source Patients (each partner's own copy) are one
 * resident. The linker (linker.ts) writes these tables from the FHIR store's write hook; the
 * record's pages and `Patient/$everything` read them here.
 */
import type { Identifier, Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../../core/db/database.js';
import { NHS_NUMBER_VERIFICATION_URL } from '../../synthetic/feeds.js';
import { NHS_NUMBER_SYSTEM, SOURCE_PREFIX } from '../../synthetic/model.js';

export type LinkBasis = 'first' | 'nhs-number' | 'probabilistic' | 'manual';

export interface SourcePatient {
  patientId: string;
  patientKey: number;
  residentId: string;
  /** ODS/GSS code of the organisation whose system sent it (from meta.source). */
  holder: string | null;
  /** meta.source as sent. */
  system: string | null;
  nhsNumber: string | null;
  nhsVerified: boolean;
  linkBasis: LinkBasis;
  linkedAt: Date;
  /** When the source withdrew (deleted) it; it stays in its resident's history. */
  withdrawnAt: Date | null;
}

interface SourcePatientRow {
  patient_id: string;
  patient_key: number | string;
  resident_id: string;
  holder: string | null;
  system: string | null;
  nhs_number: string | null;
  nhs_verified: boolean;
  link_basis: LinkBasis;
  linked_at: Date | string;
  withdrawn_at: Date | string | null;
}

export const SOURCE_PATIENT_COLUMNS = 'patient_id, patient_key, resident_id, holder, system, nhs_number, nhs_verified, link_basis, linked_at, withdrawn_at';

export function sourcePatientFromRow(row: SourcePatientRow): SourcePatient {
  return {
    patientId: row.patient_id,
    patientKey: Number(row.patient_key),
    residentId: row.resident_id,
    holder: row.holder,
    system: row.system,
    nhsNumber: row.nhs_number,
    nhsVerified: row.nhs_verified,
    linkBasis: row.link_basis,
    linkedAt: new Date(row.linked_at),
    withdrawnAt: row.withdrawn_at === null ? null : new Date(row.withdrawn_at),
  };
}

export interface ReadOptions {
  /** Include source Patients their source withdrew (deleted): they have left the resident, and are kept for its history. */
  withdrawn?: boolean;
}

/**
 * The resident a source Patient is linked to, with the source Patients of that resident: the
 * current ones (and this one, even when withdrawn), or all with `withdrawn: true`.
 */
export async function residentOfPatient(q: Queryable, patientId: string, options: ReadOptions = {}): Promise<{ residentId: string; patients: SourcePatient[] } | undefined> {
  const { rows } = await q.query<SourcePatientRow>(
    `SELECT ${SOURCE_PATIENT_COLUMNS} FROM mpi_source_patient
     WHERE resident_id = (SELECT resident_id FROM mpi_source_patient WHERE patient_id = $1) AND (withdrawn_at IS NULL OR patient_id = $1 OR $2)
     ORDER BY linked_at, patient_id`,
    [patientId, options.withdrawn ?? false],
  );
  const first = rows[0];
  if (!first) return undefined;
  return { residentId: first.resident_id, patients: rows.map(sourcePatientFromRow) };
}

/** The current source Patients of a resident (withdrawn ones too with `withdrawn: true`); empty for an unknown resident. */
export async function patientsOfResident(q: Queryable, residentId: string, options: ReadOptions = {}): Promise<SourcePatient[]> {
  const { rows } = await q.query<SourcePatientRow>(`SELECT ${SOURCE_PATIENT_COLUMNS} FROM mpi_source_patient WHERE resident_id = $1 AND (withdrawn_at IS NULL OR $2) ORDER BY linked_at, patient_id`, [
    residentId,
    options.withdrawn ?? false,
  ]);
  return rows.map(sourcePatientFromRow);
}

/** The patient_keys of every current source Patient linked with this one (itself included), for $everything. */
export async function linkedPatientKeys(q: Queryable, patientKey: number): Promise<number[]> {
  const { rows } = await q.query<{ patient_key: number | string }>(
    `SELECT patient_key FROM mpi_source_patient
     WHERE resident_id = (SELECT resident_id FROM mpi_source_patient WHERE patient_key = $1) AND (withdrawn_at IS NULL OR patient_key = $1)
     ORDER BY patient_key`,
    [patientKey],
  );
  return rows.length === 0 ? [patientKey] : rows.map((r) => Number(r.patient_key));
}

/** The holder (ODS/GSS code) and system in `meta.source` (`urn:openics:source:<holder>:<system>`). */
export function sourceOf(patient: Patient): { holder: string | null; system: string | null } {
  const source = patient.meta?.source;
  if (!source) return { holder: null, system: null };
  if (!source.startsWith(SOURCE_PREFIX)) return { holder: null, system: source };
  const holder = source.slice(SOURCE_PREFIX.length).split(':')[0];
  return { holder: holder ? holder : null, system: source };
}

/** The Patient's NHS number and whether it is marked verified (UK Core verification status 01). */
export function nhsNumberOf(patient: Patient): { nhsNumber: string | null; nhsVerified: boolean } {
  const identifier: Identifier | undefined = patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM && i.value);
  if (!identifier?.value) return { nhsNumber: null, nhsVerified: false };
  const status = identifier.extension?.find((e) => e.url === NHS_NUMBER_VERIFICATION_URL)?.valueCodeableConcept?.coding?.[0]?.code;
  return { nhsNumber: identifier.value.replace(/\s+/g, ''), nhsVerified: status === '01' };
}
