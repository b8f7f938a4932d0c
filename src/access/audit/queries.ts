/**
 * Reading the audit trail: the privacy officer's search (by resident, by user, by time), a
 * citizen's "who has looked at my record", break-glass events awaiting review, and the review
 * itself (recorded in the trail in the same transaction). Always newest first.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../../core/db/database.js';
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors.js';
import type { AccessContext } from '../context.js';
import { appendToChain } from './trail.js';

export interface StoredEvent {
  sequence: number;
  event: AuditEvent;
}

interface EventRow {
  sequence: number;
  event: string;
}

const parse = (rows: EventRow[]): StoredEvent[] => rows.map((r) => ({ sequence: r.sequence, event: JSON.parse(r.event) as AuditEvent }));

export interface AuditSearch {
  /** A FHIR Patient id the events touched. */
  patient?: string | undefined;
  /** A user or client id (AccessContext.subject). */
  agent?: string | undefined;
  /** From this instant (inclusive). */
  from?: Date | undefined;
  /** Up to this instant (exclusive). */
  to?: Date | undefined;
  /** Only events numbered below this: the next page. */
  before?: number | undefined;
  count: number;
}

export async function searchAuditEvents(db: Queryable, search: AuditSearch): Promise<{ events: StoredEvent[]; next?: number }> {
  const where: string[] = [];
  const values: unknown[] = [];
  const bind = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  if (search.patient) where.push(`patients @> ARRAY[${bind(search.patient)}::text]`);
  if (search.agent) where.push(`agent = ${bind(search.agent)}`);
  if (search.from) where.push(`recorded >= ${bind(search.from)}`);
  if (search.to) where.push(`recorded < ${bind(search.to)}`);
  if (search.before !== undefined) where.push(`sequence < ${bind(search.before)}`);
  const rows = await db.query<EventRow>(
    `SELECT sequence, event FROM access_audit_event ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY sequence DESC LIMIT ${bind(search.count + 1)}`,
    values,
  );
  const events = parse(rows.rows.slice(0, search.count));
  const last = events[events.length - 1];
  return rows.rows.length > search.count && last ? { events, next: last.sequence } : { events };
}

/**
 * Every access to these Patients' records, most recent first (by when it happened), a page at a time; without the
 * citizen's own visits to this log (they know about those), but with everyone else's.
 */
export async function accessLogOf(db: Queryable, patients: readonly string[], viewer: string, page: number, perPage: number): Promise<{ events: StoredEvent[]; total: number }> {
  if (patients.length === 0) return { events: [], total: 0 };
  const filter = `patients && $1::text[] AND NOT (agent = $2 AND action = 'audit-read')`;
  const [rows, total] = await Promise.all([
    db.query<EventRow>(`SELECT sequence, event FROM access_audit_event WHERE ${filter} ORDER BY recorded DESC, sequence DESC LIMIT $3 OFFSET $4`, [patients, viewer, perPage, (page - 1) * perPage]),
    db.query<{ n: number }>(`SELECT count(*) AS n FROM access_audit_event WHERE ${filter}`, [patients, viewer]),
  ]);
  return { events: parse(rows.rows), total: total.rows[0]?.n ?? 0 };
}

export interface BreakGlassReview {
  verdict: 'appropriate' | 'inappropriate';
  note: string;
  /** The reviewer's user id. */
  reviewer: string;
  reviewedAt: Date;
}

/** A break-glass grant (the policy's access_break_glass, migration 0009) and its review, if done. */
export interface BreakGlassGrant {
  id: string;
  userSubject: string;
  userDisplay: string;
  role: string;
  organisation: string;
  patientId: string;
  reason: string;
  grantedAt: Date;
  expiresAt: Date;
  review?: BreakGlassReview;
}

interface GrantRow {
  id: string;
  user_subject: string;
  user_display: string;
  role: string;
  organisation: string;
  patient_id: string;
  reason: string;
  granted_at: Date;
  expires_at: Date;
  review_status: 'pending' | 'appropriate' | 'inappropriate';
  reviewed_by: string | null;
  reviewed_at: Date | null;
  review_note: string | null;
}

function grant(r: GrantRow): BreakGlassGrant {
  return {
    id: r.id,
    userSubject: r.user_subject,
    userDisplay: r.user_display,
    role: r.role,
    organisation: r.organisation,
    patientId: r.patient_id,
    reason: r.reason,
    grantedAt: r.granted_at,
    expiresAt: r.expires_at,
    ...(r.review_status !== 'pending' && r.reviewed_at
      ? { review: { verdict: r.review_status, note: r.review_note ?? '', reviewer: r.reviewed_by ?? '', reviewedAt: r.reviewed_at } }
      : {}),
  };
}

const GRANTS = `SELECT id, user_subject, user_display, role, organisation, patient_id, reason, granted_at, expires_at, review_status, reviewed_by, reviewed_at, review_note FROM access_break_glass`;

/** Break-glass grants nobody has reviewed yet (waiting longest first), and the latest reviewed. */
export async function breakGlassGrants(db: Queryable, reviewedLimit = 20): Promise<{ pending: BreakGlassGrant[]; reviewed: BreakGlassGrant[] }> {
  const [pending, reviewed] = await Promise.all([
    db.query<GrantRow>(`${GRANTS} WHERE review_status = 'pending' ORDER BY granted_at, id LIMIT 500`),
    db.query<GrantRow>(`${GRANTS} WHERE review_status <> 'pending' ORDER BY reviewed_at DESC, id LIMIT $1`, [reviewedLimit]),
  ]);
  return { pending: pending.rows.map(grant), reviewed: reviewed.rows.map(grant) };
}

export async function breakGlassGrant(db: Queryable, id: string): Promise<BreakGlassGrant> {
  const rows = await db.query<GrantRow>(`${GRANTS} WHERE id = $1`, [id]);
  const row = rows.rows[0];
  if (!row) throw new NotFoundError('That break-glass access');
  return grant(row);
}

export const MAX_NOTE = 2000;

/**
 * Records a privacy officer's review of a break-glass grant, and the review itself in the audit
 * trail, in one transaction: the review stands only if its audit record does.
 */
export async function reviewBreakGlass(db: Database, id: string, input: { verdict: string | undefined; note: string | undefined }, reviewer: AccessContext, network?: string): Promise<number> {
  const problems: { field: string; message: string }[] = [];
  const verdict = input.verdict;
  const note = (input.note ?? '').trim();
  if (verdict !== 'appropriate' && verdict !== 'inappropriate') problems.push({ field: 'verdict', message: 'Select whether the access was appropriate' });
  if (verdict === 'inappropriate' && note === '') problems.push({ field: 'note', message: 'Say why the access was inappropriate and what happens next' });
  if (note.length > MAX_NOTE) problems.push({ field: 'note', message: `The note must be ${MAX_NOTE} characters or fewer` });
  if (problems.length > 0) throw new ValidationError(problems);
  const target = await breakGlassGrant(db, id);
  if (target.review) throw new ConflictError('This break-glass access has already been reviewed');
  return db.transaction(async (tx) => {
    const updated = await tx.query(
      `UPDATE access_break_glass SET review_status = $2, reviewed_by = $3, reviewed_at = now(), review_note = $4 WHERE id = $1 AND review_status = 'pending'`,
      [id, verdict, reviewer.subject, note],
    );
    if (updated.rowCount === 0) throw new ConflictError('This break-glass access has already been reviewed');
    const [sequence] = await appendToChain(tx, [
      {
        context: reviewer,
        action: 'review',
        outcome: 'success',
        patients: [target.patientId],
        what: `break-glass/${id}`,
        detail: `break-glass reviewed: ${verdict}`,
        at: new Date(),
        ...(network ? { network } : {}),
      },
    ]);
    return sequence as number;
  });
}

/** The display names of organisations by code, where OpenICS knows them. */
export async function organisationNames(db: Queryable, codes: Iterable<string>): Promise<Map<string, string>> {
  const list = [...new Set(codes)].filter((c) => c !== '');
  if (list.length === 0) return new Map();
  // The structure module holds organisations and exports no lookup by code across ICSs; this reads its table.
  const rows = await db.query<{ code: string; name: string }>('SELECT code, name FROM organisation WHERE code = ANY($1::text[])', [list]);
  return new Map(rows.rows.map((r) => [r.code, r.name]));
}
