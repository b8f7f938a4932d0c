/**
 * The name counts of the linkage engine's frequency adjustment, kept in the database
 * (mpi_name_frequency): how many current source patients carry each normalised family and first
 * given name. A batch loads the counts of the names it meets, changes them in memory as it links,
 * and saves the differences in one statement.
 */
import type { Queryable } from '../../core/db/database.js';
import { type Demographics, type NameFrequencies, frequencyKeys, smoothedShare } from '../linkage/index.js';
import { TYPICAL_FAMILY_SHARE, TYPICAL_GIVEN_SHARE } from '../linkage/frequencies.js';

type Kind = 'family' | 'given';
/** The row holding a kind's total. */
const TOTAL = '';

export class NameCounts implements NameFrequencies {
  private readonly counts = new Map<string, number>();
  private readonly deltas = new Map<string, number>();

  familyShare(name: string): number {
    return smoothedShare(this.count('family', name), this.count('family', TOTAL), TYPICAL_FAMILY_SHARE);
  }

  givenShare(name: string): number {
    return smoothedShare(this.count('given', name), this.count('given', TOTAL), TYPICAL_GIVEN_SHARE);
  }

  /** Reads the stored counts of these records' names (and the totals) not read yet. */
  async load(q: Queryable, records: readonly Demographics[]): Promise<void> {
    const wanted = new Set<string>([slot('family', TOTAL), slot('given', TOTAL)]);
    for (const d of records) {
      const { family, given } = frequencyKeys(d);
      if (family !== undefined) wanted.add(slot('family', family));
      if (given !== undefined) wanted.add(slot('given', given));
    }
    const missing = [...wanted].filter((s) => !this.counts.has(s));
    if (missing.length === 0) return;
    const kinds = missing.map((s) => s.slice(0, s.indexOf(':')));
    const names = missing.map((s) => s.slice(s.indexOf(':') + 1));
    const { rows } = await q.query<{ kind: Kind; name: string; count: number | string }>(
      'SELECT f.kind, f.name, f.count FROM mpi_name_frequency f JOIN unnest($1::text[], $2::text[]) AS w(kind, name) ON f.kind = w.kind AND f.name = w.name',
      [kinds, names],
    );
    for (const s of missing) this.counts.set(s, this.deltas.get(s) ?? 0);
    for (const row of rows) this.counts.set(slot(row.kind, row.name), Number(row.count) + (this.deltas.get(slot(row.kind, row.name)) ?? 0));
  }

  /** Counts a record's names in (1) or out (-1). */
  change(d: Demographics, by: 1 | -1): void {
    const { family, given } = frequencyKeys(d);
    if (family !== undefined) {
      this.bump(slot('family', family), by);
      this.bump(slot('family', TOTAL), by);
    }
    if (given !== undefined) {
      this.bump(slot('given', given), by);
      this.bump(slot('given', TOTAL), by);
    }
  }

  async save(q: Queryable): Promise<void> {
    const changed = [...this.deltas].filter(([, delta]) => delta !== 0);
    if (changed.length === 0) return;
    // Every batch changes a total, so the two totals' rows, locked first and in one order, make
    // concurrent saves take turns: the second then updates (not inserts) the names the first
    // added, and no two saves lock the other rows in opposite orders.
    // (The no-op update takes the row's lock, and the insert makes the rows on a new database.)
    await q.query(`INSERT INTO mpi_name_frequency AS f (kind, name, count) VALUES ('family', '', 0), ('given', '', 0) ON CONFLICT (kind, name) DO UPDATE SET count = f.count`);
    const params = [changed.map(([s]) => s.slice(0, s.indexOf(':'))), changed.map(([s]) => s.slice(s.indexOf(':') + 1)), changed.map(([, delta]) => delta)];
    await q.query(
      `UPDATE mpi_name_frequency f SET count = greatest(f.count + d.delta, 0)
       FROM unnest($1::text[], $2::text[], $3::int8[]) AS d(kind, name, delta) WHERE f.kind = d.kind AND f.name = d.name`,
      params,
    );
    await q.query(
      `INSERT INTO mpi_name_frequency (kind, name, count)
       SELECT kind, name, greatest(delta, 0) FROM unnest($1::text[], $2::text[], $3::int8[]) AS d(kind, name, delta)
       ON CONFLICT (kind, name) DO NOTHING`,
      params,
    );
    this.deltas.clear();
  }

  private count(kind: Kind, name: string): number {
    return Math.max(0, this.counts.get(slot(kind, name)) ?? 0);
  }

  private bump(s: string, by: number): void {
    this.deltas.set(s, (this.deltas.get(s) ?? 0) + by);
    if (this.counts.has(s)) this.counts.set(s, (this.counts.get(s) ?? 0) + by);
  }
}

function slot(kind: Kind, name: string): string {
  return `${kind}:${name}`;
}
