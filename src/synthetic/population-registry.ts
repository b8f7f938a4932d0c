/**
 * Which synthetic population a database holds (migrations/0014_synthetic_population.sql), so that
 * two never meet in one FHIR store. Synthetic NHS numbers come from the never-issued test range
 * (nhs-number.ts: 900,000 usable numbers, resident n of any population with the same seed gets the
 * same one), so a second population would give different people the same verified NHS number and
 * the master patient index would join their records. A load therefore claims the store first:
 * allowed when it is empty or holds this same population (a resumed or repeated load), refused,
 * naming what is there, otherwise.
 */
import type { Queryable } from '../core/db/database.js';
import { UserError } from '../core/errors.js';

export interface PopulationParameters {
  icb: string;
  seed: number;
  people: number;
  asOf: string;
}

export type PopulationLoader = 'npm start' | 'npm run load';

/** The store holds another population, or Patients of no recorded population: nothing was written. */
export class PopulationConflict extends UserError {
  constructor(message: string) {
    super(409, message);
  }
}

interface PopulationRow {
  icb: string;
  seed: string | number;
  people: number;
  /** YYYY-MM-DD (selected as text: a date column would become a local-time Date). */
  as_of: string;
  loaded_by: string;
  completed_at: Date | string | null;
}

function describe(row: PopulationRow): string {
  const n = row.people.toLocaleString('en-GB');
  const state = row.completed_at === null ? ', not finished' : '';
  return `${n} residents of ${row.icb} generated with seed ${String(row.seed)} as of ${row.as_of} (loaded by ${row.loaded_by}${state})`;
}

async function populationRows(q: Queryable): Promise<PopulationRow[]> {
  return (await q.query<PopulationRow>('SELECT icb, seed, people, as_of::text AS as_of, loaded_by, completed_at FROM synthetic_population ORDER BY started_at')).rows;
}

function isPopulation(row: PopulationRow, population: PopulationParameters): boolean {
  return row.icb === population.icb && Number(row.seed) === population.seed && row.people === population.people && row.as_of === population.asOf;
}

/** The populations a store holds (at most one, unless a database was filled by hand). */
export async function loadedPopulations(q: Queryable): Promise<{ parameters: PopulationParameters; loadedBy: string; completed: boolean }[]> {
  const rows = await populationRows(q);
  return rows.map((r) => ({ parameters: { icb: r.icb, seed: Number(r.seed), people: r.people, asOf: r.as_of }, loadedBy: r.loaded_by, completed: r.completed_at !== null }));
}

/** Whether the store holds this population already (a load of it would resume, not start). */
export async function holdsPopulation(q: Queryable, population: PopulationParameters): Promise<boolean> {
  return (await populationRows(q)).some((r) => isPopulation(r, population));
}

/**
 * Claims the store for this population before anything of it is written, or throws
 * PopulationConflict. `advice` ends the message (what the person running it can do instead).
 */
export async function claimPopulation(q: Queryable, population: PopulationParameters, loadedBy: PopulationLoader, advice = ''): Promise<void> {
  const rows = await populationRows(q);
  const other = rows.find((r) => !isPopulation(r, population));
  const tail = advice ? ` ${advice}` : '';
  if (other) {
    throw new PopulationConflict(
      `This database already holds another synthetic population: ${describe(other)}. Two populations in one store would give different people the same NHS number, and the master patient index would join their records.${tail}`,
    );
  }
  if (rows.length === 0) {
    const { rows: patients } = await q.query("SELECT 1 FROM fhir_patient_resource WHERE resource_type = 'Patient' LIMIT 1");
    if (patients.length > 0) {
      throw new PopulationConflict(`This database already holds Patients that no synthetic population load recorded (records from partners, or the demo's residents loaded by a version of npm start before this check); a synthetic population is never mixed with other records.${tail}`);
    }
    await q.query('INSERT INTO synthetic_population (icb, seed, people, as_of, loaded_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
      population.icb,
      population.seed,
      population.people,
      population.asOf,
      loadedBy,
    ]);
  }
}

/** Marks the population's load finished (a later identical load changes nothing). */
export async function populationLoaded(q: Queryable, population: PopulationParameters): Promise<void> {
  await q.query('UPDATE synthetic_population SET completed_at = now() WHERE icb = $1 AND seed = $2 AND people = $3 AND as_of = $4', [population.icb, population.seed, population.people, population.asOf]);
}
