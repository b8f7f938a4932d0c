/**
 * Persons: which Patient resources (by patient_key) are one resident. Each source organisation
 * has its own Patient for a resident, so until a master patient index links them each key is a
 * person of its own (access_person_link, a row (k, k)). Relationships, consents and break-glass
 * grants are stored against the person, and the row filter reaches them through the link, so
 * once keys are linked, what was recorded against any of them covers them all.
 */
import type { Queryable } from '../../core/db/database.js';

/** Makes sure every key has a person (itself, unless already linked). */
export async function ensurePersons(q: Queryable, patientKeys: readonly number[]): Promise<void> {
  const keys = [...new Set(patientKeys.filter((k) => k !== 0))];
  if (keys.length === 0) return;
  await q.query(
    `INSERT INTO access_person_link (patient_key, person_key) SELECT k, k FROM unnest($1::int8[]) AS k ON CONFLICT (patient_key) DO NOTHING`,
    [keys],
  );
}

/**
 * Links Patient keys into one person (for the master patient index): every key given, and every
 * key already linked to any of them, takes the smallest person key among them, and the
 * relationship, consent and break-glass rows of those persons move with them. Returns the
 * person key. Run it in the same transaction as the index's own change.
 */
export async function linkPatientKeys(q: Queryable, patientKeys: readonly number[]): Promise<number> {
  await ensurePersons(q, patientKeys);
  const { rows } = await q.query<{ person_key: number | string }>(
    `SELECT DISTINCT person_key FROM access_person_link WHERE patient_key = ANY($1::int8[])`,
    [[...patientKeys]],
  );
  const persons = rows.map((r) => Number(r.person_key));
  const person = Math.min(...persons);
  const others = persons.filter((p) => p !== person);
  if (others.length > 0) {
    for (const table of ['access_person_link', 'access_relationship', 'access_consent', 'access_break_glass']) {
      await q.query(`UPDATE ${table} SET person_key = $1 WHERE person_key = ANY($2::int8[])`, [person, others]);
    }
  }
  return person;
}

/** The person of a Patient key (the key itself when it has never been linked). */
export async function personOf(q: Queryable, patientKey: number): Promise<number> {
  const { rows } = await q.query<{ person_key: number | string }>('SELECT person_key FROM access_person_link WHERE patient_key = $1', [patientKey]);
  return rows[0] ? Number(rows[0].person_key) : patientKey;
}
