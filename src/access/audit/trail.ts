/**
 * The audit trail: every access to patient data as a FHIR AuditEvent in an append-only,
 * tamper-evident hash chain (migrations/0010_access_audit.sql).
 *
 * Appending: the chain head (one row) is locked with SELECT … FOR UPDATE in a short
 * transaction, the events are numbered after it, each hashed as
 *   hash = SHA-256(previous hash ‖ canonical JSON of the AuditEvent)
 * and inserted with the head moved on, so appends from any connection or process are serialised
 * and the chain never forks.
 *
 * Group commit: `recordAccess` resolves only once its own event is committed, so a request's
 * audit record is written before its response. Records that arrive while a commit is under way
 * wait for the next one, which writes all of them in one transaction (up to MAX_BATCH). An idle
 * trail therefore costs one transaction per record, and a busy one far fewer; the price is that
 * a record may wait for the commit before it (a few milliseconds) — never that it is lost or
 * written after the response.
 */
import { createHash } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../../core/db/database.js';
import type { AccessRecord } from '../context.js';
import { type EventFacts, factsOf, toAuditEvent } from './audit-event.js';
import { canonicalJson } from './canonical.js';

export const GENESIS_HASH = '0'.repeat(64);
const MAX_BATCH = 250;

export function chainHash(previousHash: string, canonicalEvent: string): string {
  return createHash('sha256').update(Buffer.from(previousHash, 'hex')).update(canonicalEvent, 'utf8').digest('hex');
}

/**
 * Appends the records to the chain inside the caller's transaction `tx` (which must be a
 * transaction: the head stays locked until it ends) and returns their sequence numbers. Use it
 * when an audit record must commit or roll back with a change; otherwise use `recordAccess`.
 */
export async function appendToChain(tx: Queryable, records: readonly AccessRecord[]): Promise<number[]> {
  if (records.length === 0) return [];
  const head = await tx.query<{ sequence: number; hash: string }>('SELECT sequence, hash FROM access_audit_head WHERE singleton FOR UPDATE');
  const top = head.rows[0];
  if (!top) throw new Error('the audit chain has no head row: was migration 0010 applied?');
  let previous = top.hash;
  const rows = records.map((record, i) => {
    const sequence = top.sequence + i + 1;
    const event = toAuditEvent(record, sequence);
    const text = canonicalJson(event);
    const hash = chainHash(previous, text);
    const facts = factsOf(event);
    const row = { sequence, facts, text, previous, hash };
    previous = hash;
    return row;
  });
  const column = <T>(pick: (row: (typeof rows)[number]) => T): T[] => rows.map(pick);
  const last = rows[rows.length - 1] as (typeof rows)[number];
  // The head moves in the same statement as the insert: one round trip fewer per append.
  await tx.query(
    `WITH head AS (UPDATE access_audit_head SET sequence = $14, hash = $15 WHERE singleton)
     INSERT INTO access_audit_event (sequence, recorded, action, outcome, agent_kind, agent, agent_role, agent_org, purpose, patients, event, previous_hash, hash)
     SELECT u.sequence, u.recorded, u.action, u.outcome, u.agent_kind, u.agent, u.agent_role, u.agent_org, u.purpose,
            ARRAY(SELECT json_array_elements_text(u.patients::json)), u.event, u.previous_hash, u.hash
       FROM unnest($1::int8[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
         AS u(sequence, recorded, action, outcome, agent_kind, agent, agent_role, agent_org, purpose, patients, event, previous_hash, hash)`,
    [
      column((r) => r.sequence),
      column((r) => r.facts.recorded),
      column((r) => r.facts.action),
      column((r) => r.facts.outcome),
      column((r) => r.facts.agentKind),
      column((r) => r.facts.agent),
      column((r) => r.facts.role),
      column((r) => r.facts.organisation),
      column((r) => r.facts.purpose),
      column((r) => JSON.stringify(r.facts.patients)),
      column((r) => r.text),
      column((r) => r.previous),
      column((r) => r.hash),
      last.sequence,
      last.hash,
    ],
  );
  return rows.map((r) => r.sequence);
}

interface Pending {
  record: AccessRecord;
  resolve: (sequence: number) => void;
  reject: (error: unknown) => void;
}

interface Queue {
  pending: Pending[];
  flushing: boolean;
}

const queues = new WeakMap<Database, Queue>();

async function flush(db: Database, queue: Queue): Promise<void> {
  while (queue.pending.length > 0) {
    const batch = queue.pending.splice(0, MAX_BATCH);
    try {
      const sequences = await db.transaction((tx) => appendToChain(tx, batch.map((p) => p.record)));
      batch.forEach((p, i) => p.resolve(sequences[i] as number));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        continue;
      }
      // One record the database refuses must not fail the requests whose records came with it.
      for (const p of batch) {
        await db.transaction((tx) => appendToChain(tx, [p.record])).then(
          (sequences) => p.resolve(sequences[0] as number),
          (single: unknown) => p.reject(single),
        );
      }
    }
  }
  // Same tick as the last emptiness check: a record pushed after this starts a new flush.
  queue.flushing = false;
}

/**
 * Appends one access to the audit trail, resolving with its sequence number once it is
 * committed. It throws only when the record cannot be written (the database is down): callers
 * must then fail the request closed, never answer it unaudited.
 *
 * Pass the application's database, not a transaction of the caller's: on the embedded engine the
 * one connection would be held by the caller and the append would wait for ever. To audit
 * inside a transaction, use `appendToChain(tx, [record])`.
 */
export function recordAccess(db: Database, record: AccessRecord): Promise<number> {
  let queue = queues.get(db);
  if (!queue) {
    queue = { pending: [], flushing: false };
    queues.set(db, queue);
  }
  const waiting = new Promise<number>((resolve, reject) => queue.pending.push({ record, resolve, reject }));
  if (!queue.flushing) {
    queue.flushing = true;
    void flush(db, queue);
  }
  return waiting;
}

export type ChainVerification =
  | { ok: true; count: number; head: string }
  | { ok: false; count: number; brokenAt: number; problem: string };

const VERIFY_PAGE = 2000;

interface StoredRow {
  sequence: number;
  recorded: Date;
  action: string;
  outcome: string;
  agent_kind: string;
  agent: string;
  agent_role: string | null;
  agent_org: string | null;
  purpose: string;
  patients: string[];
  event: string;
  previous_hash: string;
  hash: string;
}

/** The first column whose value is not what the hashed event says, if any. */
function columnMismatch(row: StoredRow, facts: EventFacts): string | undefined {
  const checks: [string, unknown, unknown][] = [
    ['recorded', row.recorded.toISOString(), new Date(facts.recorded).toISOString()],
    ['action', row.action, facts.action],
    ['outcome', row.outcome, facts.outcome],
    ['agent_kind', row.agent_kind, facts.agentKind],
    ['agent', row.agent, facts.agent],
    ['agent_role', row.agent_role, facts.role],
    ['agent_org', row.agent_org, facts.organisation],
    ['purpose', row.purpose, facts.purpose],
    ['patients', JSON.stringify(row.patients), JSON.stringify(facts.patients)],
  ];
  return checks.find(([, stored, hashed]) => stored !== hashed)?.[0];
}

/**
 * Walks the whole chain in order and reports the first broken link: a missing or extra
 * sequence number, an event whose text does not hash to its stored hash, a row whose previous
 * hash is not its predecessor's hash, a column that disagrees with its event, or a head that
 * does not point at the last event (rows removed from the end).
 */
export async function verifyAuditChain(db: Queryable): Promise<ChainVerification> {
  let previous = GENESIS_HASH;
  let expected = 1;
  for (;;) {
    const page = await db.query<StoredRow>(
      `SELECT sequence, recorded, action, outcome, agent_kind, agent, agent_role, agent_org, purpose, patients, event, previous_hash, hash
         FROM access_audit_event WHERE sequence >= $1 ORDER BY sequence LIMIT ${VERIFY_PAGE}`,
      [expected],
    );
    for (const row of page.rows) {
      const count = expected - 1;
      if (row.sequence !== expected) return { ok: false, count, brokenAt: expected, problem: `event ${expected} is missing (the next is ${row.sequence})` };
      if (row.previous_hash !== previous) return { ok: false, count, brokenAt: row.sequence, problem: `its previous hash is not the hash of event ${row.sequence - 1}` };
      if (chainHash(previous, row.event) !== row.hash) return { ok: false, count, brokenAt: row.sequence, problem: 'its content does not match its hash' };
      let event: AuditEvent;
      try {
        event = JSON.parse(row.event) as AuditEvent;
      } catch {
        return { ok: false, count, brokenAt: row.sequence, problem: 'its content is not JSON' };
      }
      if (event.id !== String(row.sequence)) return { ok: false, count, brokenAt: row.sequence, problem: `its event says it is number ${event.id ?? '(none)'}` };
      const mismatch = columnMismatch(row, factsOf(event));
      if (mismatch) return { ok: false, count, brokenAt: row.sequence, problem: `its ${mismatch} column does not match its event` };
      previous = row.hash;
      expected += 1;
    }
    if (page.rows.length < VERIFY_PAGE) break;
  }
  const count = expected - 1;
  const head = (await db.query<{ sequence: number; hash: string }>('SELECT sequence, hash FROM access_audit_head WHERE singleton')).rows[0];
  if (!head) return { ok: false, count, brokenAt: expected, problem: 'the chain head is missing' };
  if (head.sequence !== count || head.hash !== previous) {
    return { ok: false, count, brokenAt: Math.min(head.sequence, count) + 1, problem: `the head says the chain ends at event ${head.sequence} but it ends at ${count}` };
  }
  return { ok: true, count, head: previous };
}
