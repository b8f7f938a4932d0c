/** What the pages and API of the master patient index show: the review queue and a resident's link history. */
import type { Queryable } from '../../core/db/database.js';
import type { Demographics, PairScore } from '../linkage/index.js';
import { parseJson } from './linker.js';
import { SOURCE_PATIENT_COLUMNS, type SourcePatient, sourcePatientFromRow } from './residents.js';

export interface SourceWithDemographics extends SourcePatient {
  demographics: Demographics;
}

export interface QueuedReview {
  id: number;
  queuedAt: Date;
  weight: number;
  score: PairScore;
  patient: SourceWithDemographics;
  candidate: SourceWithDemographics;
}

export interface LinkEventView {
  id: number;
  at: Date;
  action: string;
  patientId: string | null;
  residentId: string;
  fromResident: string | null;
  basis: string | null;
  weight: number | null;
  agent: string;
  reason: string | null;
}

type Row = Parameters<typeof sourcePatientFromRow>[0] & { demographics: Demographics | string };

async function sourcesById(q: Queryable, ids: readonly string[]): Promise<Map<string, SourceWithDemographics>> {
  const { rows } = await q.query<Row>(`SELECT ${SOURCE_PATIENT_COLUMNS}, demographics FROM mpi_source_patient WHERE patient_id = ANY($1::text[])`, [[...ids]]);
  return new Map(rows.map((r) => [r.patient_id, { ...sourcePatientFromRow(r), demographics: parseJson(r.demographics) }]));
}

interface ReviewRow {
  id: number | string;
  patient_id: string;
  candidate_patient_id: string;
  weight: number;
  score: PairScore | string;
  queued_at: Date | string;
}

async function withSources(q: Queryable, rows: readonly ReviewRow[]): Promise<QueuedReview[]> {
  const sources = await sourcesById(q, rows.flatMap((r) => [r.patient_id, r.candidate_patient_id]));
  return rows.flatMap((r) => {
    const patient = sources.get(r.patient_id);
    const candidate = sources.get(r.candidate_patient_id);
    if (!patient || !candidate) return [];
    return [{ id: Number(r.id), queuedAt: new Date(r.queued_at), weight: Number(r.weight), score: parseJson(r.score), patient, candidate }];
  });
}

/** Open reviews, oldest first. */
export async function openReviews(q: Queryable, limit = 20): Promise<{ reviews: QueuedReview[]; total: number }> {
  const { rows } = await q.query<ReviewRow>(`SELECT id, patient_id, candidate_patient_id, weight, score, queued_at FROM mpi_review WHERE status = 'open' ORDER BY queued_at, id LIMIT $1`, [limit]);
  const count = await q.query<{ n: number | string }>(`SELECT count(*) AS n FROM mpi_review WHERE status = 'open'`);
  return { reviews: await withSources(q, rows), total: Number(count.rows[0]?.n ?? 0) };
}

export async function reviewById(q: Queryable, id: number): Promise<(QueuedReview & { status: string }) | undefined> {
  const { rows } = await q.query<ReviewRow & { status: string }>('SELECT id, patient_id, candidate_patient_id, weight, score, queued_at, status FROM mpi_review WHERE id = $1', [id]);
  const row = rows[0];
  if (!row) return undefined;
  const [review] = await withSources(q, [row]);
  return review ? { ...review, status: row.status } : undefined;
}

export interface ResidentHistory {
  residentId: string;
  createdAt: Date;
  mergedInto: string | null;
  patients: SourceWithDemographics[];
  events: LinkEventView[];
}

/** A resident, its source patients (withdrawn ones too) and every event that moved one into or out of it. */
export async function residentHistory(q: Queryable, residentId: string): Promise<ResidentHistory | undefined> {
  const { rows } = await q.query<{ id: string; created_at: Date | string; merged_into: string | null }>('SELECT id, created_at, merged_into FROM mpi_resident WHERE id = $1', [residentId]);
  const resident = rows[0];
  if (!resident) return undefined;
  const ids = await q.query<{ patient_id: string }>('SELECT patient_id FROM mpi_source_patient WHERE resident_id = $1 ORDER BY linked_at, patient_id', [residentId]);
  const sources = await sourcesById(q, ids.rows.map((r) => r.patient_id));
  const events = await q.query<{ id: number | string; at: Date | string; action: string; patient_id: string | null; resident_id: string; from_resident: string | null; basis: string | null; weight: number | null; agent: string; reason: string | null }>(
    'SELECT id, at, action, patient_id, resident_id, from_resident, basis, weight, agent, reason FROM mpi_link_event WHERE resident_id = $1 OR from_resident = $1 ORDER BY id',
    [residentId],
  );
  return {
    residentId,
    createdAt: new Date(resident.created_at),
    mergedInto: resident.merged_into,
    patients: ids.rows.flatMap((r) => sources.get(r.patient_id) ?? []),
    events: events.rows.map((e) => ({
      id: Number(e.id),
      at: new Date(e.at),
      action: e.action,
      patientId: e.patient_id,
      residentId: e.resident_id,
      fromResident: e.from_resident,
      basis: e.basis,
      weight: e.weight === null ? null : Number(e.weight),
      agent: e.agent,
      reason: e.reason,
    })),
  };
}
