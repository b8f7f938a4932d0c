/**
 * Changes people make to the master patient index: merging two residents, unmerging a source
 * patient, and deciding a possible match from the review queue. Each is recorded in
 * mpi_link_event (who, when, why, basis, score), moves the access policy's persons with it, and
 * never removes a source patient: a merged-away resident keeps its row (merged_into) and an
 * unmerged source patient returns to the resident it came from when there is one.
 */
import { linkPatientKeys, separatePatientKeys } from '../../access/policy/persons.js';
import type { Queryable } from '../../core/db/database.js';
import { UserError } from '../../core/errors.js';
import { EventBatch, createResident, pairKey } from './linker.js';
import { lockResidents } from './locks.js';

/** A request the index cannot do: `status` is the HTTP status to answer with, `field` what was wrong. */
export class MpiError extends UserError {
  constructor(
    message: string,
    status: 400 | 404 | 409,
    readonly field?: string,
  ) {
    super(status, message, field ? [{ field, message }] : []);
  }
}

export const MIN_REASON_LENGTH = 5;

function checkReason(reason: string): string {
  const trimmed = reason.trim();
  if (trimmed.length < MIN_REASON_LENGTH) throw new MpiError(`reason: say why, in at least ${MIN_REASON_LENGTH} characters`, 400, 'reason');
  return trimmed;
}

async function liveResident(q: Queryable, id: string, field: string): Promise<void> {
  const { rows } = await q.query<{ merged_into: string | null }>('SELECT merged_into FROM mpi_resident WHERE id = $1', [id]);
  const row = rows[0];
  if (!row) throw new MpiError(`${field}: no resident ${id}`, 404, field);
  if (row.merged_into !== null) throw new MpiError(`${field}: resident ${id} was merged into ${row.merged_into}`, 409, field);
}

async function currentKeys(q: Queryable, residentId: string): Promise<number[]> {
  const { rows } = await q.query<{ patient_key: number | string }>('SELECT patient_key FROM mpi_source_patient WHERE resident_id = $1 AND withdrawn_at IS NULL', [residentId]);
  return rows.map((r) => Number(r.patient_key));
}

/** Closes open reviews whose two source patients are now one resident. */
async function closeSettledReviews(q: Queryable, residentId: string, by: string, at: Date): Promise<void> {
  await q.query(
    `UPDATE mpi_review r SET status = 'closed', decided_by = $2, decided_at = $3, reason = 'linked by another decision'
     FROM mpi_source_patient a, mpi_source_patient b
     WHERE r.status = 'open' AND a.patient_id = r.patient_id AND b.patient_id = r.candidate_patient_id AND a.resident_id = $1 AND b.resident_id = $1`,
    [residentId, by, at],
  );
}

/**
 * Merges resident `from` into `into`: every source patient of `from` (withdrawn ones too) moves
 * to `into`, `from` is kept as merged, and the access person of `into` covers them all.
 */
export async function mergeResidents(q: Queryable, from: string, into: string, by: string, reason: string): Promise<void> {
  const why = checkReason(reason);
  if (from === into) throw new MpiError('into: a resident cannot be merged into itself', 400, 'into');
  // Wait for any linking of records sharing a blocking key with these residents' records (locks.ts).
  await lockResidents(q, [from, into]);
  await liveResident(q, from, 'from');
  await liveResident(q, into, 'into');
  const at = new Date();
  const { rows } = await q.query<{ patient_id: string }>(
    `UPDATE mpi_source_patient SET resident_id = $2, link_basis = 'manual', link_weight = NULL, linked_at = $3 WHERE resident_id = $1 RETURNING patient_id`,
    [from, into, at],
  );
  await q.query('UPDATE mpi_resident SET merged_into = $2, merged_at = $3 WHERE id = $1', [from, into, at]);
  const events = new EventBatch(at);
  for (const row of rows) events.add({ action: 'merged', patientId: row.patient_id, residentId: into, fromResident: from, basis: 'manual', agent: by, reason: why });
  if (rows.length === 0) events.add({ action: 'merged', residentId: into, fromResident: from, basis: 'manual', agent: by, reason: why });
  await events.save(q);
  const keys = await currentKeys(q, into);
  if (keys.length > 0) await linkPatientKeys(q, keys);
  await closeSettledReviews(q, into, by, at);
}

/**
 * Takes a source patient out of its resident: back into the resident it was merged from when
 * that still stands apart (so a merge undone restores what was), otherwise into a new resident of
 * its own. Its access person follows. The pairs it formed with the resident's other source
 * patients are remembered as not a match, so the linker does not join them again.
 * Returns the resident it is now in.
 */
export async function unmergePatient(q: Queryable, patientId: string, by: string, reason: string): Promise<string> {
  const why = checkReason(reason);
  const residentNow = async (): Promise<{ resident_id: string } | undefined> =>
    (await q.query<{ resident_id: string }>('SELECT resident_id FROM mpi_source_patient WHERE patient_id = $1', [patientId])).rows[0];
  const found = await residentNow();
  if (found) await lockResidents(q, [found.resident_id]);
  // Read again under the lock: a change that committed meanwhile may have moved it.
  const row = found && (await residentNow());
  if (!row) throw new MpiError(`patient: no source patient ${patientId}`, 404, 'patient');
  const current = row.resident_id;
  const { rows: others } = await q.query<{ patient_id: string }>('SELECT patient_id FROM mpi_source_patient WHERE resident_id = $1 AND patient_id <> $2', [current, patientId]);
  if (others.length === 0) throw new MpiError(`patient: source patient ${patientId} is the only record of its resident; there is nothing to unmerge`, 409, 'patient');

  const at = new Date();
  const target = (await mergedFrom(q, patientId, current)) ?? (await createResident(q, at));
  await q.query('UPDATE mpi_resident SET merged_into = NULL, merged_at = NULL WHERE id = $1', [target]);
  await q.query(`UPDATE mpi_source_patient SET resident_id = $2, link_basis = 'manual', link_weight = NULL, linked_at = $3 WHERE patient_id = $1`, [patientId, target, at]);
  const events = new EventBatch(at);
  events.add({ action: 'unmerged', patientId, residentId: target, fromResident: current, basis: 'manual', agent: by, reason: why });
  await events.save(q);
  await q.query(
    `INSERT INTO mpi_non_match (patient_a, patient_b, decided_by, decided_at, reason)
     SELECT least($1, o), greatest($1, o), $3, $4, $5 FROM unnest($2::text[]) AS o ON CONFLICT DO NOTHING`,
    [patientId, others.map((o) => o.patient_id), by, at, `unmerged: ${why}`],
  );
  const keys = await currentKeys(q, target);
  if (keys.length > 0) await separatePatientKeys(q, keys);
  return target;
}

/** The resident a source patient was merged from into `current`, if that resident still stands apart. */
async function mergedFrom(q: Queryable, patientId: string, current: string): Promise<string | undefined> {
  const { rows } = await q.query<{ action: string; from_resident: string | null }>(
    `SELECT action, from_resident FROM mpi_link_event WHERE patient_id = $1 AND resident_id = $2 AND (from_resident IS NOT NULL OR action IN ('registered', 'linked'))
     ORDER BY id DESC LIMIT 1`,
    [patientId, current],
  );
  const last = rows[0];
  if (last?.action !== 'merged' || !last.from_resident) return undefined;
  const { rows: from } = await q.query<{ merged_into: string | null }>('SELECT merged_into FROM mpi_resident WHERE id = $1', [last.from_resident]);
  const merged = from[0]?.merged_into;
  return merged === current || merged === null ? last.from_resident : undefined;
}

export interface ReviewRow {
  id: number;
  patient_id: string;
  candidate_patient_id: string;
  status: string;
}

async function openReview(q: Queryable, reviewId: number): Promise<ReviewRow> {
  const { rows } = await q.query<ReviewRow>('SELECT id, patient_id, candidate_patient_id, status FROM mpi_review WHERE id = $1 FOR UPDATE', [reviewId]);
  const review = rows[0];
  if (!review) throw new MpiError(`review: no review ${reviewId}`, 404, 'review');
  if (review.status !== 'open') throw new MpiError(`review: review ${reviewId} was already decided (${review.status})`, 409, 'review');
  return review;
}

/** A reviewer's "same person": the queued source patient's resident is merged into the candidate's. */
export async function acceptReview(q: Queryable, reviewId: number, by: string, reason: string): Promise<string> {
  const why = checkReason(reason);
  await lockReviewed(q, reviewId);
  const review = await openReview(q, reviewId);
  const { rows } = await q.query<{ patient_id: string; resident_id: string }>('SELECT patient_id, resident_id FROM mpi_source_patient WHERE patient_id = ANY($1::text[])', [[review.patient_id, review.candidate_patient_id]]);
  const residentOf = new Map(rows.map((r) => [r.patient_id, r.resident_id]));
  const from = residentOf.get(review.patient_id) ?? '';
  const into = residentOf.get(review.candidate_patient_id) ?? '';
  const at = new Date();
  if (from !== into) await mergeResidents(q, from, into, by, `review ${reviewId} accepted: ${why}`);
  await q.query(`UPDATE mpi_review SET status = 'accepted', decided_by = $2, decided_at = $3, reason = $4 WHERE id = $1`, [reviewId, by, at, why]);
  // The queued record's other candidates are answered by this decision.
  await q.query(`UPDATE mpi_review SET status = 'closed', decided_by = $2, decided_at = $3, reason = $4 WHERE status = 'open' AND patient_id = $1`, [review.patient_id, by, at, `review ${reviewId} accepted`]);
  const events = new EventBatch(at);
  events.add({ action: 'accepted', patientId: review.patient_id, residentId: into, fromResident: from === into ? null : from, basis: 'manual', agent: by, reason: why });
  await events.save(q);
  return into;
}

/**
 * The blocking keys' locks of the residents of a review's two source patients, taken before the
 * review's row, in the order the linker takes them (keys, then rows), so neither waits for the other in a circle.
 */
async function lockReviewed(q: Queryable, reviewId: number): Promise<void> {
  const { rows } = await q.query<{ resident_id: string }>(
    `SELECT s.resident_id FROM mpi_review r JOIN mpi_source_patient s ON s.patient_id IN (r.patient_id, r.candidate_patient_id) WHERE r.id = $1`,
    [reviewId],
  );
  if (rows.length > 0) await lockResidents(q, [...new Set(rows.map((r) => r.resident_id))]);
}

/**
 * A reviewer's "not the same person": remembered, so the pair is not queued again. When the two
 * are linked already (a review the linker queued because a record a person linked changed), the
 * queued source patient is unmerged from them.
 */
export async function rejectReview(q: Queryable, reviewId: number, by: string, reason: string): Promise<void> {
  const why = checkReason(reason);
  await lockReviewed(q, reviewId);
  const review = await openReview(q, reviewId);
  const at = new Date();
  const [a, b] = pairKey(review.patient_id, review.candidate_patient_id).split('\u0000') as [string, string];
  await q.query('INSERT INTO mpi_non_match (patient_a, patient_b, decided_by, decided_at, reason) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [a, b, by, at, why]);
  await q.query(`UPDATE mpi_review SET status = 'rejected', decided_by = $2, decided_at = $3, reason = $4 WHERE id = $1`, [reviewId, by, at, why]);
  const { rows } = await q.query<{ patient_id: string; resident_id: string }>('SELECT patient_id, resident_id FROM mpi_source_patient WHERE patient_id = ANY($1::text[])', [
    [review.patient_id, review.candidate_patient_id],
  ]);
  const residentOf = new Map(rows.map((r) => [r.patient_id, r.resident_id]));
  const resident = residentOf.get(review.patient_id) ?? '';
  const events = new EventBatch(at);
  events.add({ action: 'rejected', patientId: review.patient_id, residentId: resident, basis: 'manual', agent: by, reason: `not source patient ${review.candidate_patient_id}: ${why}` });
  await events.save(q);
  if (resident !== '' && resident === residentOf.get(review.candidate_patient_id)) {
    await unmergePatient(q, review.patient_id, by, `review ${reviewId} rejected: ${why}`);
  }
}
