/**
 * The dead-letter queue of partner feeds (migrations/0012_record_feeds.sql): refused messages,
 * kept as sent with the OperationOutcome they were answered with, until an operator replays
 * (replay.ts) or discards them. Bodies are patient data: callers record each look in the audit
 * trail, and nothing here logs them.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../core/db/database.js';
import { checkBundle } from '../../fhir/bundle.js';
import { FhirError, type Issue } from '../../fhir/outcome.js';
import type { FhirStore } from '../../fhir/store.js';
import type { FeedRequest, FeedSender } from './session.js';

export type DeadLetterState = 'open' | 'replayed' | 'discarded';

export interface DeadLetter {
  id: string;
  receivedAt: string;
  clientId: string;
  clientName: string;
  organisation: string | null;
  scopes: string;
  method: string;
  endpoint: string;
  contentType: string;
  body: string;
  status: number;
  outcome: Resource;
  state: DeadLetterState;
  editedAt: string | null;
  editedBy: string | null;
  actedAt: string | null;
  actedBy: string | null;
  reason: string | null;
}

/** A dead letter without its body, for lists. */
export type DeadLetterSummary = Omit<DeadLetter, 'body'> & { bytes: number };

interface Row {
  id: string | number;
  received_at: Date;
  client_id: string;
  client_name: string;
  organisation: string | null;
  scopes: string;
  method: string;
  endpoint: string;
  content_type: string;
  body?: string;
  bytes?: number;
  status: number;
  outcome: Resource | string;
  state: DeadLetterState;
  edited_at: Date | null;
  edited_by: string | null;
  acted_at: Date | null;
  acted_by: string | null;
  reason: string | null;
}

const COLUMNS = 'id, received_at, client_id, client_name, organisation, scopes, method, endpoint, content_type, status, outcome, state, edited_at, edited_by, acted_at, acted_by, reason';

function fromRow(row: Row): DeadLetterSummary & { body?: string } {
  return {
    id: String(row.id),
    receivedAt: row.received_at.toISOString(),
    clientId: row.client_id,
    clientName: row.client_name,
    organisation: row.organisation,
    scopes: row.scopes,
    method: row.method,
    endpoint: row.endpoint,
    contentType: row.content_type,
    status: row.status,
    outcome: typeof row.outcome === 'string' ? (JSON.parse(row.outcome) as Resource) : row.outcome,
    state: row.state,
    editedAt: row.edited_at?.toISOString() ?? null,
    editedBy: row.edited_by,
    actedAt: row.acted_at?.toISOString() ?? null,
    actedBy: row.acted_by,
    reason: row.reason,
    bytes: row.bytes ?? Buffer.byteLength(row.body ?? ''),
    ...(row.body !== undefined ? { body: row.body } : {}),
  };
}

export async function keepDeadLetter(q: Queryable, letter: { sender: FeedSender; request: FeedRequest; body: string; status: number; outcome: Resource }): Promise<string> {
  const { rows } = await q.query<{ id: string | number }>(
    `INSERT INTO record_feed_dead_letter (client_id, client_name, organisation, scopes, method, endpoint, content_type, body, status, outcome)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb) RETURNING id`,
    [
      letter.sender.clientId,
      letter.sender.display,
      letter.sender.organisation ?? null,
      letter.request.scopes,
      letter.request.method,
      letter.request.endpoint,
      letter.request.contentType,
      letter.body,
      letter.status,
      JSON.stringify(letter.outcome),
    ],
  );
  return String(rows[0]?.id);
}

export async function listDeadLetters(q: Queryable, filter: { state?: DeadLetterState | undefined; limit?: number } = {}): Promise<DeadLetterSummary[]> {
  const { rows } = await q.query<Row>(
    `SELECT ${COLUMNS}, octet_length(body) AS bytes FROM record_feed_dead_letter
     WHERE ($1::text IS NULL OR state = $1) ORDER BY received_at DESC, id DESC LIMIT $2`,
    [filter.state ?? null, filter.limit ?? 200],
  );
  return rows.map((r) => fromRow({ ...r, bytes: Number(r.bytes) }));
}

export async function findDeadLetter(q: Queryable, id: string): Promise<DeadLetter | undefined> {
  if (!/^[1-9][0-9]{0,17}$/.test(id)) return undefined;
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS}, body FROM record_feed_dead_letter WHERE id = $1`, [id]);
  const row = rows[0];
  return row ? (fromRow(row) as DeadLetter) : undefined;
}

/** Saves an operator's correction of an open letter's body; false when the letter is no longer open. */
export async function saveCorrectedBody(q: Queryable, id: string, body: string, by: string): Promise<boolean> {
  const { rowCount } = await q.query(`UPDATE record_feed_dead_letter SET body = $2, edited_at = now(), edited_by = $3 WHERE id = $1 AND state = 'open'`, [id, body, by]);
  return (rowCount ?? 0) > 0;
}

/** Closes an open letter (replayed, or discarded with a reason); false when it was not open. */
export async function closeDeadLetter(q: Queryable, id: string, state: 'replayed' | 'discarded', by: string, reason?: string): Promise<boolean> {
  const { rowCount } = await q.query(`UPDATE record_feed_dead_letter SET state = $2, acted_at = now(), acted_by = $3, reason = $4 WHERE id = $1 AND state = 'open'`, [id, state, by, reason ?? null]);
  return (rowCount ?? 0) > 0;
}

/** A failed replay: the letter stays open, with the outcome the replay got. */
export async function noteFailedReplay(q: Queryable, id: string, status: number, outcome: Resource): Promise<void> {
  await q.query(`UPDATE record_feed_dead_letter SET status = $2, outcome = $3::jsonb WHERE id = $1 AND state = 'open'`, [id, status, JSON.stringify(outcome)]);
}

/**
 * Checks a corrected body before it is saved, as the FHIR API would check it: JSON (or NDJSON,
 * line by line) holding valid resources; a Bundle's shape and every entry's resource. Returns
 * the problems, each naming where (an empty list: it may be saved).
 */
export function checkCorrectedBody(store: FhirStore, letter: Pick<DeadLetter, 'method' | 'endpoint' | 'contentType'>, body: string): Issue[] {
  const issues: Issue[] = [];
  const checkResource = (resource: unknown, at: string): void => {
    try {
      store.check(resource);
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      for (const issue of error.issues) issues.push({ ...issue, diagnostics: `${at}: ${issue.diagnostics ?? ''}` });
    }
  };
  const parse = (text: string, at: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (error) {
      issues.push({ severity: 'error', code: 'structure', diagnostics: `${at}: not valid JSON (${error instanceof Error ? error.message : String(error)})` });
      return undefined;
    }
  };
  if (letter.method === 'DELETE') return issues;
  if (body.trim() === '') return [{ severity: 'error', code: 'required', diagnostics: 'The body is empty' }];
  if (letter.contentType.includes('ndjson') || letter.endpoint.startsWith('/fhir/$import')) {
    body.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      const value = parse(line, `Line ${i + 1}`);
      if (value !== undefined) checkResource(value, `Line ${i + 1}`);
    });
    return issues;
  }
  const value = parse(body, 'The body');
  if (value === undefined) return issues;
  if (/^\/fhir\/?$/.test(letter.endpoint)) {
    try {
      const bundle = checkBundle(value);
      bundle.entries.forEach((entry, i) => {
        if (entry.resource && entry.request?.method !== 'PATCH') checkResource(entry.resource, `Bundle.entry[${i}].resource`);
      });
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      issues.push(...error.issues);
    }
    return issues;
  }
  if (letter.method !== 'PATCH') checkResource(value, 'The body');
  return issues;
}

/** The FHIR Patient ids a body names (Patient resources, and references to Patients), for the audit trail. */
export function patientsIn(body: string): string[] {
  const ids = new Set<string>();
  for (const match of body.matchAll(/"reference"\s*:\s*"(?:[^"]*\/)?Patient\/([A-Za-z0-9\-.]{1,64})"/g)) ids.add(match[1] as string);
  for (const match of body.matchAll(/"resourceType"\s*:\s*"Patient"\s*,\s*"id"\s*:\s*"([A-Za-z0-9\-.]{1,64})"/g)) ids.add(match[1] as string);
  for (const match of body.matchAll(/"url"\s*:\s*"Patient\/([A-Za-z0-9\-.]{1,64})"/g)) ids.add(match[1] as string);
  return [...ids].slice(0, 1000);
}
