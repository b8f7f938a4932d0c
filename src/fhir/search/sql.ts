/**
 * SQL for FHIR search: a parsed `SearchRequest` (parse.ts) as parameterized queries over the
 * resource and index tables of migrations/0004_fhir.sql. Values are always bound parameters;
 * only table names (from the fixed families and index tables) and aliases are written into the
 * text.
 *
 * Shape: `SELECT … FROM {family}_resource r WHERE <visibleResources> AND <criteria>`, each
 * criterion an `EXISTS (SELECT 1 FROM {family}_{table} x WHERE x.resource_key = r.resource_key
 * AND x.resource_type = $t AND x.param = $p AND <value test>)` (or `NOT EXISTS` for token `:not`
 * and `:missing=true`). Every subquery is correlated on resource_key and names the resource type
 * and parameter, so PostgreSQL can use either the (resource_key, param) index or the
 * (resource_type, param, value) index, whichever is more selective.
 *
 * `visibleResources` is the one place that says which rows of a resource table a search may
 * see (current, not deleted, of the types asked for). The main query, the total, chained and
 * reverse-chained joins and `_include`/`_revinclude` all go through it, so an access rule added
 * there applies everywhere at once.
 *
 * Semantics chosen where the specification leaves room (https://hl7.org/fhir/R4/search.html):
 *  - Dates: a stored value is the range [low, high] its precision covers; so is the search
 *    value. eq: stored within search; ne: not eq; gt: stored ends after the search range; lt:
 *    stored starts before it; ge: gt or eq; le: lt or eq; sa: stored starts after the search
 *    range ends; eb: stored ends before it starts; ap: stored overlaps the search range widened
 *    by 10% of the time between now and the search value either side.
 *  - Numbers and quantities: eq/ne/sa/eb use the search value's implicit precision range;
 *    gt/lt/ge/le compare with the exact value (the specification's table); ap is ±10% of the
 *    value. A resource matches `ne` (and every prefix) when one of its values does.
 *  - Quantities: `n|system|code` matches system and code; `n||code` matches the code or the unit
 *    text; no unit conversion (UCUM canonical forms are not computed).
 *  - Sorting: ascending by the smallest value a resource has, descending by the largest (dates:
 *    low ascending, high descending); resources without a value last; text compared with the C
 *    collation so both engines order alike; r.resource_key breaks ties so pages are stable.
 */
import { getDataType } from '@medplum/core';
import type { RowFilter } from '../access.js';
import { type TableFamily, patientCompartmentParams, searchParam, tableFamily } from '../definitions.js';
import { type IndexTable, parseReference, patientKey } from '../indexer.js';
import type { DateMatch, Filter, Include, NumberMatch, SearchRequest, SortKey, ValueMatch } from './parse.js';

export interface SqlOptions {
  /** This server's FHIR base, e.g. `https://ics.example/fhir`: absolute references to it are local. */
  readonly baseUrl: string;
  /** The instant `ap` on dates measures from; now unless given (tests pass it). */
  readonly now?: Date | undefined;
  /** The caller's access rule (src/fhir/access.ts), added to every row `visibleResources` admits. */
  readonly rowFilter?: RowFilter | undefined;
}

/** Collects the bound values of one statement; `bind` returns the placeholder. */
export class SqlBuilder {
  readonly values: unknown[] = [];
  private aliases = 0;

  constructor(readonly options: SqlOptions) {}

  bind(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  alias(prefix: string): string {
    this.aliases += 1;
    return `${prefix}${this.aliases}`;
  }
}

export interface SqlQuery {
  readonly text: string;
  readonly values: readonly unknown[];
}

/** Which resource table an alias ranges over, and its type if it is one type. */
interface Scope {
  readonly family: TableFamily;
  readonly alias: string;
  /** The one resource type of the alias's rows, or undefined (system-level search). */
  readonly type: string | undefined;
}

/**
 * The rows of a resource table of `family` a search may see: current versions, not deleted, of
 * `types` (every type when empty), that the caller's access rule admits. The single place for the
 * visibility rule (see the header).
 */
export function visibleResources(sql: SqlBuilder, family: TableFamily, types: readonly string[], alias: string): string {
  const conditions: string[] = [];
  if (types.length === 1) conditions.push(`${alias}.resource_type = ${sql.bind(types[0])}`);
  else if (types.length > 1) conditions.push(`${alias}.resource_type = ANY(${sql.bind([...types])}::text[])`);
  conditions.push(`NOT ${alias}.deleted`);
  const access = sql.options.rowFilter?.(sql, family, alias);
  if (access) conditions.push(`(${access})`);
  return conditions.join(' AND ');
}

/** The families holding the searched types, each with its types (empty: every type of the family). */
export function familiesOf(types: readonly string[]): Array<{ family: TableFamily; types: string[] }> {
  if (types.length === 0) return [{ family: 'fhir_patient', types: [] }, { family: 'fhir_shared', types: [] }];
  const byFamily = new Map<TableFamily, string[]>();
  for (const t of types) {
    const family = tableFamily(t);
    byFamily.set(family, [...(byFamily.get(family) ?? []), t]);
  }
  return [...byFamily].map(([family, ts]) => ({ family, types: ts }));
}

/** `visibleResources` and every filter of the request, for alias r of one family. */
function whereClause(sql: SqlBuilder, family: TableFamily, types: readonly string[], filters: readonly Filter[], alias: string): string {
  const scope: Scope = { family, alias, type: types.length === 1 ? types[0] : undefined };
  const conditions = [visibleResources(sql, family, types, alias)];
  const keys = scope.type !== undefined ? routingKeys(scope.type, filters) : undefined;
  if (keys !== undefined) conditions.push(keys.length === 1 ? `${alias}.patient_key = ${sql.bind(String(keys[0]))}` : `${alias}.patient_key = ANY(${sql.bind(keys.map(String))}::bigint[])`);
  return [...conditions, ...filters.map((f) => filterSql(sql, f, scope))].join('\n  AND ');
}

const keyParams = new Map<string, boolean>();

/**
 * Whether the Patient this reference parameter points at is the one whose patient_key a resource
 * of `type` carries: the parameter is (a Patient-only view of) the type's first Patient
 * compartment parameter, and that element holds one reference. The indexer's `patientKeyOf`
 * takes the key from the first compartment parameter that points at a Patient.
 */
export function determinesPatientKey(type: string, param: string): boolean {
  const cacheKey = `${type}.${param}`;
  let answer = keyParams.get(cacheKey);
  if (answer === undefined) {
    const first = patientCompartmentParams(type)[0];
    const path = (code: string): string | undefined => searchParam(type, code)?.expressionText.replace(/\.where\(resolve\(\) is Patient\)/g, '');
    const target = first !== undefined && type !== 'Patient' && tableFamily(type) === 'fhir_patient' ? path(first) : undefined;
    const element = target !== undefined && target === path(param) ? new RegExp(`^${type}\\.([A-Za-z]+)$`).exec(target)?.[1] : undefined;
    answer = element !== undefined && getDataType(type).elements[element]?.max === 1;
    keyParams.set(cacheKey, answer);
  }
  return answer;
}

/**
 * The patient keys every match must have, when the criteria name the Patients (docs/scale-out.md
 * rule 1): `Patient?_id=…`, or a reference to Patients through the parameter that decides the
 * key (`Observation?patient=Patient/1`, `subject=Patient/1,Patient/2`, a resolved chain). On one
 * server it changes nothing; on Citus it sends the statement to those patients' shards only.
 */
function routingKeys(type: string, filters: readonly Filter[]): number[] | undefined {
  if (tableFamily(type) !== 'fhir_patient') return undefined;
  for (const f of filters) {
    if (type === 'Patient' && f.kind === 'id' && !f.negate) return f.ids.map((id) => patientKey(id));
    if (f.kind === 'index' && f.table === 'reference' && !f.negate && determinesPatientKey(type, f.param)) {
      const onlyPatients = (searchParam(type, f.param)?.targets ?? []).every((t) => t === 'Patient');
      const ids = f.matches.map((m) => (m.type === 'reference' && (m.targetType === 'Patient' || (m.targetType === undefined && onlyPatients)) ? m.id : undefined));
      if (ids.every((id): id is string => id !== undefined)) return ids.map((id) => patientKey(id));
    }
    if (f.kind === 'chain' && determinesPatientKey(type, f.param) && f.targets.length === 1 && f.targets[0]?.type === 'Patient' && f.targets[0].resolved) {
      return [...f.targets[0].resolved.patientKeys];
    }
  }
  return undefined;
}

/** Columns every query that returns resources selects. */
export interface ResourceRow {
  resource_key: string | number;
  patient_key: string | number;
  resource_type: string;
  id: string;
  content: string;
}

const RESOURCE_COLUMNS = (alias: string): string => `${alias}.resource_key, ${alias}.patient_key, ${alias}.resource_type, ${alias}.id, ${alias}.content`;

/**
 * One page of matches in sort order: `limit` rows from `offset` (callers ask for one more than
 * the page to learn whether there is a next page).
 */
export function pageQuery(request: SearchRequest, options: SqlOptions, limit: number, offset: number): SqlQuery {
  const sql = new SqlBuilder(options);
  const families = familiesOf(request.types);
  if (families.length === 1) {
    const { family, types } = families[0] as { family: TableFamily; types: string[] };
    const scope: Scope = { family, alias: 'r', type: types.length === 1 ? types[0] : undefined };
    const where = whereClause(sql, family, types, request.filters, 'r');
    const order = [...request.sort.map((key) => `${sortExpression(sql, key, scope)} ${key.descending ? 'DESC' : 'ASC'} NULLS LAST`), 'r.resource_key'];
    const text = `SELECT ${RESOURCE_COLUMNS('r')}\nFROM ${family}_resource r\nWHERE ${where}\nORDER BY ${order.join(', ')}\nLIMIT ${sql.bind(limit)} OFFSET ${sql.bind(offset)}`;
    return { text, values: sql.values };
  }
  // Several families (system-level search): the same query on each, sort keys as columns, then merged.
  const branches = families.map(({ family, types }) => {
    const scope: Scope = { family, alias: 'r', type: types.length === 1 ? types[0] : undefined };
    const keys = request.sort.map((key, i) => `${sortExpression(sql, key, scope)} AS s${i}`);
    const where = whereClause(sql, family, types, request.filters, 'r');
    return `SELECT ${[RESOURCE_COLUMNS('r'), ...keys].join(', ')}\nFROM ${family}_resource r\nWHERE ${where}`;
  });
  const order = [...request.sort.map((key, i) => `s${i} ${key.descending ? 'DESC' : 'ASC'} NULLS LAST`), 'resource_key'];
  const text = `SELECT resource_key, patient_key, resource_type, id, content FROM (\n${branches.join('\nUNION ALL\n')}\n) m\nORDER BY ${order.join(', ')}\nLIMIT ${sql.bind(limit)} OFFSET ${sql.bind(offset)}`;
  return { text, values: sql.values };
}

/** The number of matches: `SELECT … AS n`. */
export function countQuery(request: SearchRequest, options: SqlOptions): SqlQuery {
  const sql = new SqlBuilder(options);
  const branches = familiesOf(request.types).map(
    ({ family, types }) => `SELECT count(*) AS n FROM ${family}_resource r WHERE ${whereClause(sql, family, types, request.filters, 'r')}`,
  );
  const text = branches.length === 1 ? (branches[0] as string) : `SELECT sum(n)::bigint AS n FROM (\n${branches.join('\nUNION ALL\n')}\n) c`;
  return { text, values: sql.values };
}

/** The ids of matching resources of one type (conditional create, update and delete). */
export function idsQuery(type: string, filters: readonly Filter[], options: SqlOptions, limit: number): SqlQuery {
  const sql = new SqlBuilder(options);
  const family = tableFamily(type);
  const text = `SELECT r.id, r.patient_key FROM ${family}_resource r WHERE ${whereClause(sql, family, [type], filters, 'r')} ORDER BY r.resource_key LIMIT ${sql.bind(limit)}`;
  return { text, values: sql.values };
}

/**
 * `_include`: the (type, id) pairs the given resources of one family refer to through the
 * include's parameter (`*`: every reference parameter; composite components excluded).
 */
export function includeTargetsQuery(family: TableFamily, sources: readonly { key: string; patientKey: string }[], include: Include, options: SqlOptions): SqlQuery {
  const sql = new SqlBuilder(options);
  const conditions = [
    `x.patient_key = ANY(${sql.bind([...new Set(sources.map((s) => s.patientKey))])}::bigint[])`,
    `x.resource_key = ANY(${sql.bind(sources.map((s) => s.key))}::bigint[])`,
    'x.target_id IS NOT NULL',
    'x.target_type IS NOT NULL',
    localTarget(sql, 'x'),
  ];
  if (include.sourceType !== '*') conditions.push(`x.resource_type = ${sql.bind(include.sourceType)}`);
  conditions.push(include.param === '*' ? `position('$' in x.param) = 0` : `x.param = ${sql.bind(include.param)}`);
  if (include.targetType !== undefined) conditions.push(`x.target_type = ${sql.bind(include.targetType)}`);
  return { text: `SELECT DISTINCT x.target_type, x.target_id FROM ${family}_reference x WHERE ${conditions.join(' AND ')}`, values: sql.values };
}

/** The visible resources of one family with these (type, id) pairs. */
export function resourcesByIdQuery(family: TableFamily, refs: readonly { type: string; id: string }[], options: SqlOptions): SqlQuery {
  const sql = new SqlBuilder(options);
  const types = [...new Set(refs.map((r) => r.type))];
  const pairs = `unnest(${sql.bind(refs.map((r) => r.type))}::text[], ${sql.bind(refs.map((r) => r.id))}::text[]) AS t(type, id)`;
  const text = `SELECT ${RESOURCE_COLUMNS('r')} FROM ${family}_resource r JOIN ${pairs} ON r.resource_type = t.type AND r.id = t.id WHERE ${visibleResources(sql, family, types, 'r')}`;
  return { text, values: sql.values };
}

/**
 * `_revinclude`: the visible resources of one family that refer to any of these (type, id) pairs
 * through the include's parameter (`*`: any type, any reference parameter).
 */
export function revincludeQuery(family: TableFamily, refs: readonly { type: string; id: string }[], include: Include, options: SqlOptions): SqlQuery {
  const sql = new SqlBuilder(options);
  const pairs = `unnest(${sql.bind(refs.map((r) => r.type))}::text[], ${sql.bind(refs.map((r) => r.id))}::text[]) AS t(type, id)`;
  const conditions: string[] = [localTarget(sql, 'x')];
  if (include.sourceType !== '*') conditions.push(`x.resource_type = ${sql.bind(include.sourceType)}`);
  conditions.push(include.param === '*' ? `position('$' in x.param) = 0` : `x.param = ${sql.bind(include.param)}`);
  const types = include.sourceType === '*' ? [] : [include.sourceType];
  const text =
    `SELECT ${RESOURCE_COLUMNS('r')} FROM ${family}_resource r WHERE ${visibleResources(sql, family, types, 'r')}` +
    ` AND (r.patient_key, r.resource_key) IN (SELECT x.patient_key, x.resource_key FROM ${pairs} JOIN ${family}_reference x ON x.target_id = t.id AND x.target_type = t.type WHERE ${conditions.join(' AND ')})`;
  return { text, values: sql.values };
}

// ---------------------------------------------------------------------------------------------
// Criteria

/**
 * A reference row's target_type/target_id name a resource of this server: the reference was
 * relative, or an absolute URL under this server's base. (The indexer also splits Type/id out of
 * absolute URLs to other servers; those must match only by URL.)
 */
function localTarget(sql: SqlBuilder, x: string): string {
  const base = sql.options.baseUrl.replace(/\/+$/, '');
  if (base === '') return `${x}.target_url IS NULL`;
  return `(${x}.target_url IS NULL OR ${x}.target_url LIKE ${sql.bind(`${escapeLike(base)}/%`)})`;
}

/**
 * Two rows of one family describe the same resource. patient_key is named as well as
 * resource_key so that on Citus the join stays on one shard (docs/scale-out.md, rule 2).
 */
function sameResource(a: string, b: string): string {
  return `${a}.patient_key = ${b}.patient_key AND ${a}.resource_key = ${b}.resource_key`;
}

function typeOf(sql: SqlBuilder, scope: Scope): string {
  return scope.type !== undefined ? sql.bind(scope.type) : `${scope.alias}.resource_type`;
}

/** The SQL condition for one filter on the resources of `scope`. */
function filterSql(sql: SqlBuilder, filter: Filter, scope: Scope): string {
  const { alias, family } = scope;
  switch (filter.kind) {
    case 'index': {
      const x = sql.alias('x');
      const tests = filter.matches.map((m) => matchSql(sql, m, x));
      const body = `SELECT 1 FROM ${family}_${filter.table} ${x} WHERE ${sameResource(x, alias)} AND ${x}.resource_type = ${typeOf(sql, scope)} AND ${x}.param = ${sql.bind(filter.param)} AND ${or(tests)}`;
      return `${filter.negate ? 'NOT ' : ''}EXISTS (${body})`;
    }
    case 'missing': {
      const x = sql.alias('x');
      const body = `SELECT 1 FROM ${family}_${filter.table} ${x} WHERE ${sameResource(x, alias)} AND ${x}.param = ${sql.bind(filter.param)}`;
      return `${filter.missing ? 'NOT ' : ''}EXISTS (${body})`;
    }
    case 'composite': {
      const alternatives = filter.values.map((components) => {
        const aliases = components.map(() => sql.alias('c'));
        const first = aliases[0] as string;
        const from = components.map((_, i) => {
          const c = aliases[i] as string;
          const table = `${family}_${filter.tables[i] as IndexTable} ${c}`;
          return i === 0 ? table : `JOIN ${table} ON ${sameResource(c, first)} AND ${c}.item = ${first}.item AND ${c}.param = ${sql.bind(`${filter.param}$${i}`)}`;
        });
        const where = [
          sameResource(first, alias),
          `${first}.resource_type = ${typeOf(sql, scope)}`,
          `${first}.param = ${sql.bind(`${filter.param}$0`)}`,
          ...components.map((m, i) => matchSql(sql, m, aliases[i] as string)),
        ];
        return `EXISTS (SELECT 1 FROM ${from.join(' ')} WHERE ${where.join(' AND ')})`;
      });
      return or(alternatives);
    }
    case 'id': {
      const test = filter.ids.length === 1 ? `${alias}.id = ${sql.bind(filter.ids[0])}` : `${alias}.id = ANY(${sql.bind([...filter.ids])}::text[])`;
      return filter.negate ? `NOT (${test})` : test;
    }
    case 'lastUpdated':
      return or(filter.matches.map((m) => dateSql(sql, m, `${alias}.last_updated`, `${alias}.last_updated`)));
    case 'chain': {
      const x = sql.alias('x');
      const alternatives = filter.targets.map((target) => {
        if (target.resolved) {
          // Looked up first (execute.ts): the reference must name one of these.
          return `(${x}.target_type = ${sql.bind(target.type)} AND ${x}.target_id = ANY(${sql.bind([...target.resolved.ids])}::text[]))`;
        }
        const targetFamily = tableFamily(target.type);
        const t = sql.alias('t');
        const next = filterSql(sql, target.next, { family: targetFamily, alias: t, type: target.type });
        const inner = `EXISTS (SELECT 1 FROM ${targetFamily}_resource ${t} WHERE ${visibleResources(sql, targetFamily, [target.type], t)} AND ${t}.id = ${x}.target_id AND ${next})`;
        return filter.targets.length === 1 ? `${x}.target_type = ${sql.bind(target.type)} AND ${inner}` : `(${x}.target_type = ${sql.bind(target.type)} AND ${inner})`;
      });
      const body = `SELECT 1 FROM ${family}_reference ${x} WHERE ${sameResource(x, alias)} AND ${x}.resource_type = ${typeOf(sql, scope)} AND ${x}.param = ${sql.bind(filter.param)} AND ${localTarget(sql, x)} AND ${or(alternatives)}`;
      return `EXISTS (${body})`;
    }
    case 'has': {
      const sourceFamily = tableFamily(filter.type);
      const h = sql.alias('h');
      const s = sql.alias('s');
      const targetType = scope.type !== undefined ? sql.bind(scope.type) : `${alias}.resource_type`;
      const next = filterSql(sql, filter.next, { family: sourceFamily, alias: s, type: filter.type });
      const body =
        `SELECT 1 FROM ${sourceFamily}_reference ${h} JOIN ${sourceFamily}_resource ${s} ON ${sameResource(s, h)}` +
        ` WHERE ${h}.resource_type = ${sql.bind(filter.type)} AND ${h}.param = ${sql.bind(filter.param)} AND ${h}.target_id = ${alias}.id AND ${h}.target_type = ${targetType}` +
        ` AND ${localTarget(sql, h)} AND ${visibleResources(sql, sourceFamily, [filter.type], s)} AND ${next}`;
      // A Patient's key is the key of the resources whose key-deciding reference points at it: then the join stays on its shard.
      if (scope.type === 'Patient' && determinesPatientKey(filter.type, filter.param)) return `EXISTS (${body} AND ${h}.patient_key = ${alias}.patient_key)`;
      return `EXISTS (${body})`;
    }
  }
}

function or(tests: readonly string[]): string {
  if (tests.length === 0) return 'false';
  return tests.length === 1 ? (tests[0] as string) : `(${tests.map((t) => `(${t})`).join(' OR ')})`;
}

/** `%`, `_` and `\` taken literally in a LIKE pattern (backslash is the default escape). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

/** One value's test on an index row aliased `x`. */
function matchSql(sql: SqlBuilder, m: ValueMatch, x: string): string {
  switch (m.type) {
    case 'date':
      return dateSql(sql, m, `${x}.low`, `${x}.high`);
    case 'number':
      return numberSql(sql, m, `${x}.value`);
    case 'quantity': {
      const tests = [numberSql(sql, m, `${x}.value`)];
      if (m.system !== undefined) tests.push(`${x}.system = ${sql.bind(m.system)}`);
      if (m.code !== undefined) {
        const code = sql.bind(m.code);
        tests.push(m.system !== undefined ? `${x}.code = ${code}` : `(${x}.code = ${code} OR ${x}.unit = ${code})`);
      }
      return tests.join(' AND ');
    }
    case 'string':
      switch (m.mode) {
        case 'exact':
          return `${x}.value = ${sql.bind(m.value)}`;
        case 'start':
          return `${x}.normalized LIKE ${sql.bind(`${escapeLike(m.value)}%`)}`;
        case 'contains':
          return `${x}.normalized LIKE ${sql.bind(`%${escapeLike(m.value)}%`)}`;
      }
      break;
    case 'token': {
      const tests: string[] = [];
      if (m.code !== undefined) tests.push(`${x}.code = ${sql.bind(m.code)}`);
      if (m.system === null) tests.push(`${x}.system IS NULL`);
      else if (m.system !== undefined) tests.push(`${x}.system = ${sql.bind(m.system)}`);
      return tests.join(' AND ');
    }
    case 'token-text':
      return `(${x}.display LIKE ${sql.bind(`${escapeLike(m.text)}%`)} OR ${x}.display LIKE ${sql.bind(`% ${escapeLike(m.text)}%`)})`;
    case 'token-of-type':
      return `${x}.of_type = ${sql.bind(m.ofType)} AND ${x}.code = ${sql.bind(m.value)}`;
    case 'uri':
      switch (m.mode) {
        case 'exact':
          return `${x}.value = ${sql.bind(m.value)}`;
        case 'below':
          return `${x}.value LIKE ${sql.bind(`${escapeLike(m.value)}%`)}`;
        case 'above':
          return `starts_with(${sql.bind(m.value)}::text, ${x}.value)`;
      }
      break;
    case 'reference': {
      const tests = [`${x}.target_id = ${sql.bind(m.id)}`];
      if (m.targetType !== undefined) tests.push(`${x}.target_type = ${sql.bind(m.targetType)}`);
      if (m.version !== undefined) tests.push(`${x}.target_version = ${sql.bind(m.version)}`);
      tests.push(localTarget(sql, x));
      return tests.join(' AND ');
    }
    case 'reference-url': {
      const tests = [`${x}.target_url = ${sql.bind(m.url)}`];
      // A canonical without a version matches every version of it (`url|1.0`).
      if (!m.url.includes('|')) tests.push(`${x}.target_url LIKE ${sql.bind(`${escapeLike(m.url)}|%`)}`);
      // A URL on this server is the local reference Type/id.
      const base = sql.options.baseUrl.replace(/\/+$/, '');
      if (base !== '' && m.url.startsWith(`${base}/`)) {
        const local = parseReference(m.url.slice(base.length + 1));
        if (local && local.base === null && (m.targetType === undefined || m.targetType === local.type)) {
          const version = local.version !== null ? ` AND ${x}.target_version = ${sql.bind(local.version)}` : '';
          tests.push(`${x}.target_type = ${sql.bind(local.type)} AND ${x}.target_id = ${sql.bind(local.id)}${version} AND ${localTarget(sql, x)}`);
        }
      }
      return or(tests);
    }
  }
  return 'false';
}

/** A date test: the stored range [low, high] (columns or the same column twice) against the search range. */
function dateSql(sql: SqlBuilder, m: DateMatch, low: string, high: string): string {
  const lo = (): string => `${sql.bind(m.low)}::timestamptz`;
  const hi = (): string => `${sql.bind(m.high)}::timestamptz`;
  // `low <= hi` follows from the rest (low never exceeds high), but it bounds the index scan on
  // (resource_type, param, low, high), which would otherwise run to the end of the index.
  const eq = (): string => `${low} >= ${lo()} AND ${low} <= ${hi()} AND ${high} <= ${hi()}`;
  switch (m.prefix) {
    case 'eq':
      return eq();
    case 'ne':
      return `NOT (${eq()})`;
    case 'gt':
      return `${high} > ${hi()}`;
    case 'lt':
      return `${low} < ${lo()}`;
    case 'ge':
      return `(${high} > ${hi()} OR (${eq()}))`;
    case 'le':
      return `(${low} < ${lo()} OR (${eq()}))`;
    case 'sa':
      return `${low} > ${hi()}`;
    case 'eb':
      return `${high} < ${lo()}`;
    case 'ap': {
      const now = (sql.options.now ?? new Date()).getTime();
      const from = Date.parse(m.low);
      const to = Date.parse(m.high);
      const gap = Math.max(Math.abs(now - from), Math.abs(now - to)) * 0.1;
      const apLow = new Date(Math.max(from - gap, -8.64e15)).toISOString();
      const apHigh = new Date(Math.min(to + gap, 8.64e15)).toISOString();
      return `${low} <= ${sql.bind(apHigh)}::timestamptz AND ${high} >= ${sql.bind(apLow)}::timestamptz`;
    }
  }
}

/** A number test on a numeric column (NumberMatch or the number part of a QuantityMatch). */
function numberSql(sql: SqlBuilder, m: Pick<NumberMatch, 'prefix' | 'value' | 'low' | 'high' | 'approxLow' | 'approxHigh'>, column: string): string {
  const n = (v: string): string => `${sql.bind(v)}::numeric`;
  switch (m.prefix) {
    case 'eq':
      return `${column} >= ${n(m.low)} AND ${column} < ${n(m.high)}`;
    case 'ne':
      return `NOT (${column} >= ${n(m.low)} AND ${column} < ${n(m.high)})`;
    case 'gt':
      return `${column} > ${n(m.value)}`;
    case 'lt':
      return `${column} < ${n(m.value)}`;
    case 'ge':
      return `${column} >= ${n(m.value)}`;
    case 'le':
      return `${column} <= ${n(m.value)}`;
    case 'sa':
      return `${column} >= ${n(m.high)}`;
    case 'eb':
      return `${column} < ${n(m.low)}`;
    case 'ap':
      return `${column} >= ${n(m.approxLow)} AND ${column} <= ${n(m.approxHigh)}`;
  }
}

/** The value a resource sorts by for one key (see the header for the rule). */
function sortExpression(sql: SqlBuilder, key: SortKey, scope: Scope): string {
  const { alias, family } = scope;
  if (key.table === '_id') return `${alias}.id COLLATE "C"`;
  if (key.table === '_lastUpdated') return `${alias}.last_updated`;
  const aggregate = key.descending ? 'max' : 'min';
  const column = ((): string => {
    switch (key.table) {
      case 'string':
        return 'x.normalized COLLATE "C"';
      case 'token':
        return 'x.code COLLATE "C"';
      case 'date':
        return key.descending ? 'x.high' : 'x.low';
      case 'number':
      case 'quantity':
        return 'x.value';
      case 'uri':
        return 'x.value COLLATE "C"';
      case 'reference':
        return `coalesce(x.target_type || '/' || x.target_id, x.target_url) COLLATE "C"`;
    }
  })();
  const x = sql.alias('o');
  return `(SELECT ${aggregate}(${column.replaceAll('x.', `${x}.`)}) FROM ${family}_${key.table} ${x} WHERE ${sameResource(x, alias)} AND ${x}.param = ${sql.bind(key.param)})`;
}
