/**
 * Break-glass: a direct-care user's emergency access to the record of a resident their
 * organisation has no legitimate relationship with (or who has objected to sharing). It needs a
 * stated reason, lasts a limited time (4 hours unless configured), is for emergency treatment
 * (purpose ETREAT), and is flagged for the privacy officer's review (review_status 'pending';
 * the review pages are in src/access/audit). The grant and its audit record are written in one
 * transaction: there is no grant without its AuditEvent.
 *
 * Sensitive records stay hidden unless labels.ts lets break-glass reveal their class.
 */
import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../../core/db/database.js';
import { NotFoundError, UserError, ValidationError } from '../../core/errors.js';
import { patientKey } from '../../fhir/indexer.js';
import { isValidId } from '../../fhir/store.js';
import { appendToChain } from '../audit/trail.js';
import { type AccessContext, DIRECT_CARE_ROLES } from '../context.js';
import { ensurePersons } from './persons.js';

export const DEFAULT_BREAK_GLASS_HOURS = 4;
export const MIN_REASON_LENGTH = 10;
export const MAX_REASON_LENGTH = 2000;

export interface BreakGlassRequest {
  patient: unknown;
  reason: unknown;
}

export interface BreakGlassOptions {
  /** How long a grant lasts, in hours (default 4). */
  hours?: number;
  now?: Date;
  /** The client's address, for the audit record. */
  network?: string | undefined;
}

export interface GrantedBreakGlass {
  id: string;
  patient: string;
  reason: string;
  purpose: 'ETREAT';
  grantedAt: Date;
  expiresAt: Date;
}

/** Whether this caller may break glass at all: a signed-in direct-care user acting for an organisation. */
export function mayBreakGlass(context: AccessContext): boolean {
  return context.kind === 'user' && context.role !== undefined && DIRECT_CARE_ROLES.includes(context.role) && context.organisation !== undefined;
}

/** The problems with a break-glass request, each naming its field. */
export function breakGlassProblems(input: BreakGlassRequest): Array<{ field: string; message: string }> {
  const problems: Array<{ field: string; message: string }> = [];
  const patient = typeof input.patient === 'string' ? input.patient.trim().replace(/^Patient\//, '') : '';
  if (patient === '') problems.push({ field: 'patient', message: 'Enter the Patient id of the resident' });
  else if (!isValidId(patient)) problems.push({ field: 'patient', message: 'Enter a Patient id: 1 to 64 letters, digits, hyphens and full stops' });
  const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
  if (reason.length < MIN_REASON_LENGTH) problems.push({ field: 'reason', message: `Give the reason you need this record, in at least ${MIN_REASON_LENGTH} characters` });
  else if (reason.length > MAX_REASON_LENGTH) problems.push({ field: 'reason', message: `The reason must be ${MAX_REASON_LENGTH} characters or fewer` });
  return problems;
}

/** Grants break-glass access, with its audit record, or throws (401/403 for the caller, 422 naming the field, 404 for an unknown Patient). */
export async function breakGlass(db: Database, context: AccessContext, input: BreakGlassRequest, options: BreakGlassOptions = {}): Promise<GrantedBreakGlass> {
  if (context.kind === 'anonymous') throw new UserError(401, 'Sign in to break glass');
  if (!mayBreakGlass(context)) throw new UserError(403, 'Only doctors, nurses, allied health professionals, social workers and care coordinators acting for an organisation may break glass');
  const problems = breakGlassProblems(input);
  if (problems.length > 0) throw new ValidationError(problems);
  const patient = (input.patient as string).trim().replace(/^Patient\//, '');
  const reason = (input.reason as string).trim();
  const hours = options.hours ?? DEFAULT_BREAK_GLASS_HOURS;
  const grantedAt = options.now ?? new Date();
  const expiresAt = new Date(grantedAt.getTime() + hours * 3_600_000);
  const key = patientKey(patient);
  const id = randomUUID();
  await db.transaction(async (tx) => {
    const found = await tx.query<{ deleted: boolean }>(`SELECT deleted FROM fhir_patient_resource WHERE patient_key = $1 AND resource_type = 'Patient' AND id = $2`, [key, patient]);
    if (!found.rows[0] || found.rows[0].deleted) throw new NotFoundError(`Patient/${patient}`);
    await ensurePersons(tx, [key]);
    await tx.query(
      `INSERT INTO access_break_glass (id, user_subject, user_display, role, organisation, patient_id, patient_key, person_key, reason, purpose, granted_at, expires_at)
       SELECT $1, $2, $3, $4, $5, $6, $7, l.person_key, $8, 'ETREAT', $9, $10 FROM access_person_link l WHERE l.patient_key = $7`,
      [id, context.subject, context.display, context.role, context.organisation, patient, key, reason, grantedAt, expiresAt],
    );
    await appendToChain(tx, [
      {
        context: { ...context, purpose: 'ETREAT' },
        action: 'break-glass',
        outcome: 'success',
        patients: [patient],
        what: `break-glass/${id}`,
        detail: reason,
        at: grantedAt,
        ...(options.network ? { network: options.network } : {}),
      },
    ]);
  });
  return { id, patient, reason, purpose: 'ETREAT', grantedAt, expiresAt };
}

/** The caller's unexpired grants. */
export async function activeGrants(q: Queryable, context: AccessContext, now: Date = new Date()): Promise<GrantedBreakGlass[]> {
  const { rows } = await q.query<{ id: string; patient_id: string; reason: string; granted_at: Date; expires_at: Date }>(
    `SELECT id, patient_id, reason, granted_at, expires_at FROM access_break_glass
     WHERE user_subject = $1 AND organisation = $2 AND expires_at > $3 ORDER BY granted_at DESC`,
    [context.subject, context.organisation ?? '', now],
  );
  return rows.map((r) => ({ id: r.id, patient: r.patient_id, reason: r.reason, purpose: 'ETREAT', grantedAt: r.granted_at, expiresAt: r.expires_at }));
}

export interface ResidentAccessFacts {
  patient: string;
  /** Every Patient id linked to the same person (the person's records at other organisations, once the master patient index links them). */
  linkedPatients: string[];
  relationships: Array<{ patient: string; party: string; basis: string; since: string | null; until: string | null; source: string }>;
  consents: Array<{ patient: string; kind: string; organisations: string[] | null; validFrom: string | null; validUntil: string | null; source: string }>;
  breakGlass: Array<{ id: string; user: string; role: string; organisation: string; reason: string; grantedAt: string; expiresAt: string; reviewStatus: string }>;
}

/** What the policy knows about one resident's access: relationships, objections and opt-outs, and break-glass grants. */
export async function residentAccessFacts(q: Queryable, patient: string): Promise<ResidentAccessFacts> {
  const key = patientKey(patient);
  const person = `(SELECT coalesce((SELECT person_key FROM access_person_link WHERE patient_key = $1), $1::int8))`;
  const [linked, relationships, consents, grants] = await Promise.all([
    q.query<{ id: string }>(
      `SELECT p.id FROM access_person_link l JOIN fhir_patient_resource p ON p.patient_key = l.patient_key AND p.resource_type = 'Patient'
       WHERE l.person_key = ${person} ORDER BY p.id`,
      [key],
    ),
    q.query<{ patient_id: string; party: string; basis: string; since: Date | null; until: Date | null; source_type: string; source_id: string }>(
      `SELECT patient_id, party, basis, since, until, source_type, source_id FROM access_relationship WHERE person_key = ${person} ORDER BY party, basis, since NULLS FIRST`,
      [key],
    ),
    q.query<{ patient_id: string; kind: string; organisations: string[] | null; valid_from: Date | null; valid_until: Date | null; source_id: string }>(
      `SELECT patient_id, kind, organisations, valid_from, valid_until, source_id FROM access_consent WHERE person_key = ${person} ORDER BY kind, source_id`,
      [key],
    ),
    q.query<{ id: string; user_display: string; role: string; organisation: string; reason: string; granted_at: Date; expires_at: Date; review_status: string }>(
      `SELECT id, user_display, role, organisation, reason, granted_at, expires_at, review_status FROM access_break_glass WHERE person_key = ${person} ORDER BY granted_at DESC`,
      [key],
    ),
  ]);
  const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
  return {
    patient,
    linkedPatients: linked.rows.map((r) => r.id),
    relationships: relationships.rows.map((r) => ({ patient: r.patient_id, party: r.party, basis: r.basis, since: iso(r.since), until: iso(r.until), source: `${r.source_type}/${r.source_id}` })),
    consents: consents.rows.map((r) => ({ patient: r.patient_id, kind: r.kind, organisations: r.organisations, validFrom: iso(r.valid_from), validUntil: iso(r.valid_until), source: `Consent/${r.source_id}` })),
    breakGlass: grants.rows.map((r) => ({
      id: r.id,
      user: r.user_display,
      role: r.role,
      organisation: r.organisation,
      reason: r.reason,
      grantedAt: r.granted_at.toISOString(),
      expiresAt: r.expires_at.toISOString(),
      reviewStatus: r.review_status,
    })),
  };
}
