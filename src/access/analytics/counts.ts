/**
 * Aggregate counts for analysts and planners, computed in SQL over the FHIR store's index tables
 * so that no resource (and no identifier) is ever read into the application: how many residents
 * have a record of a given type and code, by practice, sex, age band or postcode district (one
 * or two of them, as a cross-table), excluding everyone with a National Data Opt-out, with small
 * numbers suppressed (suppression.ts).
 *
 * A "resident" is a FHIR Patient. Until the master patient index links each organisation's
 * Patient for one person (a later issue), a person known to two organisations may be counted
 * under each; practice counts use the GP practice's own Patient (its `generalPractitioner`).
 */
import type { Queryable } from '../../core/db/database.js';
import { ValidationError } from '../../core/errors.js';
import { patientCompartmentParams, searchParam, tableFamily } from '../../fhir/definitions.js';
import { optedOutOfSecondaryUse } from '../policy/consent.js';
import { type CountTable } from './suppression.js';

export const DIMENSIONS = ['practice', 'sex', 'age-band', 'postcode-district'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const DIMENSION_TITLES: Record<Dimension, string> = {
  practice: 'GP practice',
  sex: 'Sex',
  'age-band': 'Age band',
  'postcode-district': 'Postcode district',
};

/** Ten-year age bands, 90 and over together: the lower bound of each. */
const AGE_BANDS = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90];
export const NOT_RECORDED = 'Not recorded';

export interface CountsRequest {
  /** A Patient-compartment type with a `code` search parameter (Condition, Observation, ...), or Patient for every resident. */
  resourceType: string;
  /** `system|code` or `code`; required unless resourceType is Patient. */
  code?: string | undefined;
  /** One or two dimensions: rows, then columns. */
  by: Dimension[];
  /** The day ages are worked out at (YYYY-MM-DD). */
  asOf: string;
}

/**
 * The SQL condition that is true when the Patient row `alias` (with its patient_key and id) has
 * opted out of secondary use: the policy module's `optedOutOfSecondaryUse` (a National Data
 * Opt-out held as a FHIR Consent, kept in access_consent by the FHIR write hook) by default.
 */
export type OptOutCondition = (alias: string, bind: (value: unknown) => string) => string;

function dimensionSql(dimension: Dimension, alias: string, asOf: string): string {
  const own = (table: string, param: string): string => `${table}.patient_key = ${alias}.patient_key AND ${table}.resource_key = ${alias}.resource_key AND ${table}.param = '${param}'`;
  switch (dimension) {
    case 'practice':
      return `(SELECT min(g.target_id) FROM fhir_patient_reference g WHERE ${own('g', 'general-practitioner')} AND g.target_type = 'Organization')`;
    case 'sex':
      return `(SELECT min(g.code) FROM fhir_patient_token g WHERE ${own('g', 'gender')})`;
    case 'age-band': {
      const age = `date_part('year', age(${asOf}::date, (SELECT min(d.low) FROM fhir_patient_date d WHERE ${own('d', 'birthdate')} AND d.low > '-infinity') AT TIME ZONE 'UTC'))`;
      const bands = AGE_BANDS.slice(1).map((upper, i) => `WHEN ${age} < ${upper} THEN '${AGE_BANDS[i] ?? 0}-${upper - 1}'`);
      return `(CASE WHEN ${age} IS NULL OR ${age} < 0 THEN NULL ${bands.join(' ')} ELSE '${AGE_BANDS[AGE_BANDS.length - 1] ?? 90}+' END)`;
    }
    case 'postcode-district': {
      const compact = `upper(regexp_replace((SELECT min(s.value) FROM fhir_patient_string s WHERE ${own('s', 'address-postalcode')}), '\\s', '', 'g'))`;
      return `(CASE WHEN ${compact} ~ '^[A-Z]{1,2}[0-9][0-9A-Z]?[0-9][A-Z]{2}$' THEN left(${compact}, length(${compact}) - 3) END)`;
    }
  }
}

function checkRequest(request: CountsRequest): { system: string | undefined; code: string | undefined } {
  const problems: { field: string; message: string }[] = [];
  const type = request.resourceType;
  if (type !== 'Patient') {
    if (tableFamily(type) !== 'fhir_patient' || patientCompartmentParams(type).length === 0) problems.push({ field: 'resourceType', message: 'must be Patient or a resource type about one patient (Condition, Observation, ...)' });
    else if (searchParam(type, 'code')?.type !== 'token') problems.push({ field: 'resourceType', message: `${type} has no code to count by` });
  }
  let system: string | undefined;
  let code: string | undefined;
  if (request.code !== undefined && request.code !== '') {
    const bar = request.code.indexOf('|');
    system = bar >= 0 ? request.code.slice(0, bar) || undefined : undefined;
    code = bar >= 0 ? request.code.slice(bar + 1) : request.code;
    if (!code) problems.push({ field: 'code', message: 'must be system|code or a code' });
    if (type === 'Patient') problems.push({ field: 'code', message: 'is not used when counting every resident (resourceType Patient)' });
  } else if (type !== 'Patient') {
    problems.push({ field: 'code', message: 'is required: system|code, for example http://snomed.info/sct|44054006' });
  }
  if (request.by.length < 1 || request.by.length > 2) problems.push({ field: 'by', message: 'must name one or two of practice, sex, age-band, postcode-district' });
  if (new Set(request.by).size !== request.by.length) problems.push({ field: 'by', message: 'must not name a dimension twice' });
  if (!/^\d{4}-\d{2}-\d{2}$/.test(request.asOf) || Number.isNaN(Date.parse(request.asOf))) problems.push({ field: 'asOf', message: 'must be a date, YYYY-MM-DD' });
  if (problems.length > 0) throw new ValidationError(problems);
  return { system, code };
}

/** The count of residents in each group: a table ready for suppression (rows by the first dimension, columns by the second). */
export async function countResidents(db: Queryable, request: CountsRequest, optOut: OptOutCondition = optedOutOfSecondaryUse): Promise<CountTable> {
  const { system, code } = checkRequest(request);
  const values: unknown[] = [];
  const bind = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  // Bound only when used: PostgreSQL cannot type a parameter the statement never mentions.
  const asOf = request.by.includes('age-band') ? bind(request.asOf) : 'NULL';
  let residents: string;
  if (request.resourceType === 'Patient') {
    residents = `SELECT p.resource_key, p.patient_key, p.id FROM fhir_patient_resource p WHERE p.resource_type = 'Patient' AND NOT p.deleted`;
  } else {
    // Index rows exist only for current, undeleted versions: the matches come straight from them.
    residents = `SELECT p.resource_key, p.patient_key, p.id FROM fhir_patient_resource p
      WHERE p.resource_type = 'Patient' AND NOT p.deleted AND p.id IN (
        SELECT ref.target_id FROM fhir_patient_token t
          JOIN fhir_patient_reference ref ON ref.patient_key = t.patient_key AND ref.resource_key = t.resource_key
               AND ref.param = ANY(${bind(patientCompartmentParams(request.resourceType))}::text[]) AND ref.target_type = 'Patient'
         WHERE t.resource_type = ${bind(request.resourceType)} AND t.param = 'code' AND t.code = ${bind(code)}
           ${system ? `AND t.system = ${bind(system)}` : ''})`;
  }
  const [rowDimension, columnDimension] = request.by as [Dimension, Dimension | undefined];
  const sql = `SELECT ${dimensionSql(rowDimension, 'x', asOf)} AS row_group,
                      ${columnDimension ? dimensionSql(columnDimension, 'x', asOf) : `'residents'`} AS column_group,
                      count(*) AS n
                 FROM (${residents}) x
                WHERE NOT ${optOut('x', bind)}
                GROUP BY 1, 2`;
  const result = await db.query<{ row_group: string | null; column_group: string | null; n: number }>(sql, values);
  const label = (value: string | null): string => value ?? NOT_RECORDED;
  const rows = sortGroups(rowDimension, result.rows.map((r) => label(r.row_group)));
  const columns = columnDimension ? sortGroups(columnDimension, result.rows.map((r) => label(r.column_group))) : ['residents'];
  const counts = rows.map(() => columns.map(() => 0));
  for (const r of result.rows) {
    const row = counts[rows.indexOf(label(r.row_group))];
    if (row) row[columns.indexOf(label(r.column_group))] = r.n;
  }
  return { rows, columns, counts };
}

/** Groups in their natural order: age bands by age, others alphabetically; "Not recorded" last. */
function sortGroups(dimension: Dimension, labels: string[]): string[] {
  const unique = [...new Set(labels)];
  return unique.sort((a, b) => {
    if (a === NOT_RECORDED || b === NOT_RECORDED) return a === b ? 0 : a === NOT_RECORDED ? 1 : -1;
    return dimension === 'age-band' ? Number.parseInt(a, 10) - Number.parseInt(b, 10) : a.localeCompare(b);
  });
}
