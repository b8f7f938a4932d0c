/**
 * Persons: which Patient resources (by patient_key) are one resident. Each source organisation
 * has its own Patient for a resident, so until a master patient index links them each key is a
 * person of its own (access_person_link, a row (k, k)). Relationships, consents and break-glass
 * grants are stored against the person, and the row filter reaches them through the link, so
 * once keys are linked, what was recorded against any of them covers them all.
 */
import type { Queryable } from '../../core/db/database.js';

/** The tables whose rows are recorded against a person (each row also carries its patient_key). */
const PERSON_TABLES = ['access_relationship', 'access_consent', 'access_break_glass'] as const;

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
    for (const table of ['access_person_link', ...PERSON_TABLES]) {
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

/**
 * Makes exactly these Patient keys one person of their own (for the master patient index's
 * unmerge and withdrawal): they leave the persons they were in, taking the relationship, consent
 * and break-glass rows recorded against them (each row carries its patient_key); the keys left
 * behind in each former person stay together under the smallest of them, with their own rows.
 * Returns the new person key. Run it in the same transaction as the index's own change.
 */
export async function separatePatientKeys(q: Queryable, patientKeys: readonly number[]): Promise<number> {
  const keys = [...new Set(patientKeys.filter((k) => k !== 0))];
  if (keys.length === 0) throw new Error('separatePatientKeys needs at least one key');
  await ensurePersons(q, keys);
  const { rows } = await q.query<{ person_key: number | string }>('SELECT DISTINCT person_key FROM access_person_link WHERE patient_key = ANY($1::int8[])', [keys]);
  const former = rows.map((r) => Number(r.person_key));
  const person = Math.min(...keys);
  await q.query('UPDATE access_person_link SET person_key = $1 WHERE patient_key = ANY($2::int8[])', [person, keys]);
  await q.query(
    `UPDATE access_person_link l SET person_key = rest.smallest
     FROM (SELECT person_key, min(patient_key) AS smallest FROM access_person_link
           WHERE person_key = ANY($1::int8[]) AND NOT patient_key = ANY($2::int8[]) GROUP BY person_key) rest
     WHERE l.person_key = rest.person_key AND NOT l.patient_key = ANY($2::int8[])`,
    [former, keys],
  );
  const touched = [...new Set([...former, person])];
  for (const table of PERSON_TABLES) {
    await q.query(
      `UPDATE ${table} t SET person_key = l.person_key FROM access_person_link l
       WHERE t.patient_key = l.patient_key AND t.person_key = ANY($1::int8[]) AND t.person_key <> l.person_key`,
      [touched],
    );
  }
  return person;
}
