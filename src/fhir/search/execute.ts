/**
 * Running a search: a parsed `SearchRequest` (parse.ts) against the database, answered as a
 * FHIR searchset Bundle.
 *
 *   searchResources(db, type, request, { baseUrl })   → Bundle (type-level, or system-level with type undefined)
 *   findMatching(db, type, query, { baseUrl })         → [{ id }] (conditional create, update, delete,
 *                                                          conditional references in transactions)
 *   resourceMatches(db, type, id, query, { baseUrl })  → boolean: does this one resource match?
 *
 * The Bundle: `total` as `_total` asks (accurate, the default, and estimate both count; none
 * leaves it out); one entry per match (`search.mode` 'match') with `fullUrl`
 * `${baseUrl}/${type}/${id}`; then `_include`/`_revinclude` resources ('include'); then, if the
 * request had issues, an OperationOutcome ('outcome'). Links self, first, previous, next and last
 * (when the total is known) carry the understood parameters with `_count` and `_offset`.
 * `_summary` and `_elements` shape the match entries, which are then tagged SUBSETTED;
 * `_summary=count` returns the total alone.
 */
import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import { getDataType } from '@medplum/core';
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../core/db/database.js';
import type { RowFilter } from '../access.js';
import { type TableFamily, tableFamily } from '../definitions.js';
import { FhirError, operationOutcome } from '../outcome.js';
import { type ChainTarget, type Filter, type Include, type SearchRequest, type SummaryMode, parseSearchRequest } from './parse.js';
import {
  type ResourceRow,
  type SqlOptions,
  countQuery,
  includeTargetsQuery,
  pageQuery,
  idsQuery,
  resourcesByIdQuery,
  revincludeQuery,
} from './sql.js';

export interface SearchOptions extends SqlOptions {
  /** At most this many resources are added by `_include`/`_revinclude` to one page (default 1000). */
  readonly maxIncludes?: number | undefined;
  /** Chains between patient-family types look their targets up first up to this many (default MAX_RESOLVED_TARGETS). */
  readonly maxResolvedTargets?: number | undefined;
  /** Given the patient_key of every resource the Bundle carries (for the audit trail). */
  readonly touched?: Set<number> | undefined;
}

/** How many rounds `:iterate` follows references before it stops. */
const MAX_ITERATIONS = 10;
const DEFAULT_MAX_INCLUDES = 1000;

export const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' } as const;

interface Found {
  key: string;
  patientKey: string;
  type: string;
  id: string;
  resource: Resource;
}

/** Runs a parsed search. `type` is the searched type, or undefined for a system-level search. */
export async function searchResources(db: Queryable, type: string | undefined, parsed: SearchRequest, options: SearchOptions): Promise<Bundle> {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const sqlOptions: SqlOptions = { baseUrl, now: options.now, rowFilter: options.rowFilter };
  const request: SearchRequest = { ...parsed, filters: await resolveChains(db, parsed.types.length === 1 ? parsed.types[0] : undefined, parsed.filters, sqlOptions, options.maxResolvedTargets ?? MAX_RESOLVED_TARGETS) };
  const wantsTotal = request.summary === 'count' || request.total !== 'none';
  const countOnly = request.summary === 'count';

  let total: number | undefined;
  let matches: Found[] = [];
  let hasNext = false;
  if (!countOnly && request.count > 0) {
    const q = pageQuery(request, sqlOptions, request.count + 1, request.offset);
    const { rows } = await db.query<ResourceRow>(q.text, q.values);
    hasNext = rows.length > request.count;
    matches = rows.slice(0, request.count).map(toFound);
    // The last page, unless it is empty past the end, tells the total without counting.
    if (wantsTotal && !hasNext && (matches.length > 0 || request.offset === 0)) total = request.offset + matches.length;
  }
  if (wantsTotal && total === undefined) {
    const q = countQuery(request, sqlOptions);
    const { rows } = await db.query<{ n: number | string | null }>(q.text, q.values);
    total = Number(rows[0]?.n ?? 0);
  }

  const included = countOnly ? [] : await includes(db, matches, request, sqlOptions, options.maxIncludes ?? DEFAULT_MAX_INCLUDES);
  if (options.touched) for (const f of [...matches, ...included]) if (f.patientKey !== '0') options.touched.add(Number(f.patientKey));

  const entry: BundleEntry[] = [
    ...matches.map((m) => ({
      fullUrl: `${baseUrl}/${m.type}/${m.id}`,
      resource: shapeResource(m.resource, request.summary, request.elements),
      search: { mode: 'match' as const },
    })),
    ...included.map((m) => ({ fullUrl: `${baseUrl}/${m.type}/${m.id}`, resource: m.resource, search: { mode: 'include' as const } })),
  ];
  if (request.issues.length > 0) entry.push({ resource: operationOutcome(request.issues), search: { mode: 'outcome' } });

  const bundle: Bundle = {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: new Date().toISOString() },
    type: 'searchset',
    ...(total !== undefined ? { total } : {}),
    link: countOnly ? [{ relation: 'self', url: pageUrl(baseUrl, type, request, request.count, request.offset) }] : links(baseUrl, type, request, total, hasNext),
    ...(entry.length > 0 ? { entry } : {}),
  };
  return bundle;
}

function toFound(row: ResourceRow): Found {
  return { key: String(row.resource_key), patientKey: String(row.patient_key), type: row.resource_type, id: row.id, resource: JSON.parse(row.content) as Resource };
}

// ---------------------------------------------------------------------------------------------
// Chains between two types of the patient family

/** A chain's targets are looked up first when there are at most this many; beyond, one joined query. */
export const MAX_RESOLVED_TARGETS = 1000;

/**
 * docs/scale-out.md rule 4: a chain from one patient-family type to another (`Observation?
 * subject:Patient.name=x`) must not join two distributed tables on anything but patient_key. So
 * its targets are found first, then the references to them (and, through a parameter that
 * decides the key, only those patients' shards are asked). When a chain matches more than
 * MAX_RESOLVED_TARGETS targets it stays one joined query, which is right on one server but would
 * be repartitioned on Citus. Other chains (into the shared family) need nothing: reference tables
 * are on every node.
 */
async function resolveChains(db: Queryable, type: string | undefined, filters: readonly Filter[], options: SqlOptions, max: number): Promise<Filter[]> {
  const out: Filter[] = [];
  for (const filter of filters) {
    if (filter.kind === 'has') {
      out.push({ ...filter, next: (await resolveChains(db, filter.type, [filter.next], options, max))[0] as Filter });
      continue;
    }
    if (filter.kind !== 'chain') {
      out.push(filter);
      continue;
    }
    const targets: ChainTarget[] = [];
    for (const target of filter.targets) {
      const next = (await resolveChains(db, target.type, [target.next], options, max))[0] as Filter;
      if (type !== undefined && tableFamily(type) === 'fhir_patient' && tableFamily(target.type) === 'fhir_patient') {
        const q = idsQuery(target.type, [next], options, max + 1);
        const { rows } = await db.query<{ id: string; patient_key: number | string }>(q.text, q.values);
        if (rows.length <= max) {
          targets.push({ type: target.type, next, resolved: { ids: rows.map((r) => r.id), patientKeys: rows.map((r) => Number(r.patient_key)) } });
          continue;
        }
      }
      targets.push({ type: target.type, next });
    }
    out.push({ ...filter, targets });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Links

function pageUrl(baseUrl: string, type: string | undefined, request: SearchRequest, count: number, offset: number): string {
  const params = new URLSearchParams();
  for (const [name, value] of request.query) params.append(name, value);
  params.set('_count', String(count));
  if (offset > 0) params.set('_offset', String(offset));
  return `${baseUrl}${type === undefined ? '' : `/${type}`}?${params.toString()}`;
}

function links(baseUrl: string, type: string | undefined, request: SearchRequest, total: number | undefined, hasNext: boolean): BundleLink[] {
  const { count, offset } = request;
  const url = (o: number): string => pageUrl(baseUrl, type, request, count, o);
  const out: BundleLink[] = [
    { relation: 'self', url: url(offset) },
    { relation: 'first', url: url(0) },
  ];
  if (offset > 0 && count > 0) out.push({ relation: 'previous', url: url(Math.max(0, offset - count)) });
  if (hasNext && count > 0) out.push({ relation: 'next', url: url(offset + count) });
  if (total !== undefined && count > 0) out.push({ relation: 'last', url: url(total === 0 ? 0 : Math.floor((total - 1) / count) * count) });
  return out;
}

// ---------------------------------------------------------------------------------------------
// _include and _revinclude

async function includes(db: Queryable, matches: readonly Found[], request: SearchRequest, options: SqlOptions, max: number): Promise<Found[]> {
  if (matches.length === 0 || (request.include.length === 0 && request.revinclude.length === 0)) return [];
  const seen = new Set(matches.map((m) => `${m.type}/${m.id}`));
  const added: Found[] = [];
  let sources: readonly Found[] = matches;
  for (let round = 0; round < MAX_ITERATIONS && sources.length > 0 && added.length < max; round++) {
    // The first round follows every include from the matches; later rounds only :iterate ones from what was just added.
    const forward = request.include.filter((i) => round === 0 || i.iterate);
    const reverse = request.revinclude.filter((i) => round === 0 || i.iterate);
    if (forward.length === 0 && reverse.length === 0) break;
    const found: Found[] = [];
    for (const include of forward) found.push(...(await followForward(db, sources, include, options)));
    for (const include of reverse) found.push(...(await followReverse(db, sources, include, options)));
    const fresh: Found[] = [];
    for (const f of found) {
      const ref = `${f.type}/${f.id}`;
      if (seen.has(ref) || added.length + fresh.length >= max) continue;
      seen.add(ref);
      fresh.push(f);
    }
    added.push(...fresh);
    sources = fresh;
  }
  return added;
}

function byFamily<T extends { type: string }>(items: readonly T[]): Map<TableFamily, T[]> {
  const map = new Map<TableFamily, T[]>();
  for (const item of items) {
    const family = tableFamily(item.type);
    map.set(family, [...(map.get(family) ?? []), item]);
  }
  return map;
}

async function followForward(db: Queryable, sources: readonly Found[], include: Include, options: SqlOptions): Promise<Found[]> {
  const relevant = include.sourceType === '*' ? sources : sources.filter((s) => s.type === include.sourceType);
  const targets = new Map<string, { type: string; id: string }>();
  for (const [family, items] of byFamily(relevant)) {
    const q = includeTargetsQuery(family, items, include, options);
    const { rows } = await db.query<{ target_type: string; target_id: string }>(q.text, q.values);
    for (const row of rows) targets.set(`${row.target_type}/${row.target_id}`, { type: row.target_type, id: row.target_id });
  }
  const out: Found[] = [];
  for (const [family, refs] of byFamily([...targets.values()])) {
    const q = resourcesByIdQuery(family, refs, options);
    out.push(...(await db.query<ResourceRow>(q.text, q.values)).rows.map(toFound));
  }
  return out;
}

async function followReverse(db: Queryable, sources: readonly Found[], include: Include, options: SqlOptions): Promise<Found[]> {
  const refs = sources.map((s) => ({ type: s.type, id: s.id }));
  const families: TableFamily[] = include.sourceType === '*' ? ['fhir_patient', 'fhir_shared'] : [tableFamily(include.sourceType)];
  const out: Found[] = [];
  for (const family of families) {
    const q = revincludeQuery(family, refs, include, options);
    out.push(...(await db.query<ResourceRow>(q.text, q.values)).rows.map(toFound));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// _summary and _elements

/**
 * The resource as `_summary`/`_elements` ask: `true` keeps the elements the StructureDefinition
 * marks isSummary, `text` the narrative, `data` everything but the narrative, `_elements` the
 * listed top-level elements. id, meta and mandatory elements are always kept. A subsetted
 * resource carries the SUBSETTED tag in meta.
 */
export function shapeResource(resource: Resource, summary: SummaryMode | undefined, elements: readonly string[] | undefined): Resource {
  const mode = summary === 'count' || summary === 'false' ? undefined : summary;
  if (mode === undefined && elements === undefined) return resource;
  const schema = getDataType(resource.resourceType);
  const keep = new Set<string>(['id', 'meta', ...(schema.mandatoryProperties ?? [])]);
  switch (mode) {
    case 'true':
      for (const p of schema.summaryProperties ?? []) keep.add(p);
      break;
    case 'text':
      keep.add('text');
      break;
    case 'data':
      for (const p of Object.keys(resource)) if (p !== 'text') keep.add(p);
      break;
    case undefined:
      for (const e of elements ?? []) keep.add(e);
      break;
  }
  const choice = (key: string): string | undefined => {
    // valueQuantity → value, when value[x] is an element of the type.
    for (let i = 1; i < key.length; i++) {
      if (/[A-Z]/.test(key[i] ?? '') && schema.elements[`${key.slice(0, i)}[x]`]) return key.slice(0, i);
    }
    return undefined;
  };
  const out: Record<string, unknown> = { resourceType: resource.resourceType };
  for (const [key, value] of Object.entries(resource)) {
    if (key === 'resourceType') continue;
    const name = key.startsWith('_') ? key.slice(1) : key;
    if (keep.has(name) || keep.has(choice(name) ?? '')) out[key] = value;
  }
  const meta = { ...(resource.meta ?? {}) };
  meta.tag = [...(meta.tag ?? []).filter((t) => t.code !== SUBSETTED.code || t.system !== SUBSETTED.system), { ...SUBSETTED }];
  out.meta = meta;
  return out as unknown as Resource;
}

// ---------------------------------------------------------------------------------------------
// Conditional operations

export interface MatchOptions {
  readonly baseUrl: string;
  /** The caller's access rule: rows it may not see never match (so a condition cannot reveal them). */
  readonly rowFilter?: RowFilter | undefined;
  /** Stop after this many matches (a conditional create only needs to know 0, 1 or more). */
  readonly limit?: number | undefined;
}

/**
 * The resources of `type` a query string matches (`identifier=x|1&active=true`, with or without
 * a leading `?`). For conditional create, update and delete. A query with any parameter that is
 * not understood is refused (400): acting on a partly understood condition would be unsafe.
 */
export async function findMatching(db: Queryable, type: string, query: string | ReadonlyArray<readonly [string, string]>, options: MatchOptions): Promise<Array<{ id: string }>> {
  const params = typeof query === 'string' ? [...new URLSearchParams(query.startsWith('?') ? query.slice(1) : query)] : query;
  const { request, issues } = parseSearchRequest(type, params, { strict: true });
  if (issues.length > 0) throw new FhirError(400, issues);
  const sqlOptions: SqlOptions = { baseUrl: options.baseUrl, rowFilter: options.rowFilter };
  const filters = await resolveChains(db, type, request.filters, sqlOptions, MAX_RESOLVED_TARGETS);
  const q = idsQuery(type, filters, sqlOptions, options.limit ?? 1_000_000);
  const { rows } = await db.query<{ id: string }>(q.text, q.values);
  return rows.map((r) => ({ id: r.id }));
}

/** Whether the resource `type/id` matches the query string (the criteria only; paging is ignored). */
export async function resourceMatches(db: Queryable, type: string, id: string, query: string | ReadonlyArray<readonly [string, string]>, options: { baseUrl: string; rowFilter?: RowFilter | undefined }): Promise<boolean> {
  const params = typeof query === 'string' ? [...new URLSearchParams(query.startsWith('?') ? query.slice(1) : query)] : [...query];
  return (await findMatching(db, type, [...params, ['_id', id]], { ...options, limit: 1 })).length > 0;
}
