/**
 * Serialising the index's changes per blocking key. Two transactions that link (or merge, or
 * unmerge) records sharing a blocking key must not both decide on what each read before the
 * other committed: each would make its own resident for two copies of one person. So before
 * reading candidates, a change takes a transaction-scoped advisory lock (pg_advisory_xact_lock)
 * on every blocking key it will read or write, in ascending order (so two changes never wait for
 * each other in a circle); the second waits until the first commits, and its next statements
 * (READ COMMITTED) see what the first wrote.
 *
 * A key is locked through its stripe: a hash of the key modulo STRIPES. Locks live in the
 * server's shared lock table (about max_locks_per_transaction x max_connections entries, 6,400 by
 * default), so one transaction never holds more than STRIPES of them, however large its batch (an
 * import chunk, the demo's population load). Two keys sharing a stripe only wait needlessly. The
 * first lock key is the schema's, so test schemas on one server do not wait for each other.
 *
 * The embedded engine (PGlite) has one session: transactions already run one after another, and
 * the locks are taken and released without waiting.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../../core/db/database.js';

/** How many locks blocking keys are spread over. */
export const STRIPES = 512;

/** The sorted, distinct stripes of these blocking keys. */
export function stripesOf(blocks: Iterable<string>): number[] {
  const stripes = new Set<number>();
  for (const block of blocks) stripes.add(createHash('sha1').update(block).digest().readUInt32BE(0) % STRIPES);
  return [...stripes].sort((a, b) => a - b);
}

/** Takes the lock of every stripe of these blocking keys, until the transaction ends. */
export async function lockBlocks(q: Queryable, blocks: Iterable<string>): Promise<void> {
  const stripes = stripesOf(blocks);
  if (stripes.length === 0) return;
  // unnest yields the array in order, so the locks are taken in ascending order.
  await q.query(`SELECT count(*) FROM (SELECT pg_advisory_xact_lock(hashtext('mpi:' || current_schema()), s) FROM unnest($1::int4[]) AS s) AS locked`, [stripes]);
}

/** The stored blocking keys of every current source patient of these residents. */
export async function residentBlocks(q: Queryable, residentIds: readonly string[]): Promise<string[]> {
  if (residentIds.length === 0) return [];
  const { rows } = await q.query<{ block: string }>(
    `SELECT DISTINCT b.block FROM mpi_blocking_key b JOIN mpi_source_patient s ON s.patient_key = b.patient_key WHERE s.resident_id = ANY($1::text[])`,
    [[...residentIds]],
  );
  return rows.map((r) => r.block);
}

/** Locks the blocking keys of every current source patient of these residents (for a merge or unmerge). */
export async function lockResidents(q: Queryable, residentIds: readonly string[]): Promise<void> {
  await lockBlocks(q, await residentBlocks(q, residentIds));
}
