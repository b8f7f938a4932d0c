/**
 * Patient/$everything (https://hl7.org/fhir/R4/patient-operation-everything.html): the Patient,
 * every resource in its compartment, and the shared resources those point at (Practitioner,
 * Organization, Location, Medication...), as a searchset Bundle in pages.
 *
 * Membership comes from the index, never from reading JSON: a resource is in Patient/x's
 * compartment when one of its compartment parameters (`patientCompartmentParams`) has a
 * reference row to Patient/x. Almost all of them carry x's patient_key, so the main statement
 * names it and stays on one shard when the patient family is distributed by patient_key (see
 * docs/scale-out.md). A resource whose *first* compartment patient is someone else (a Group, an
 * Appointment with two patients, a Patient linking to x) carries that other key; a second,
 * small statement finds those through the reference index.
 *
 * Parameters: `start`/`end` keep compartment resources with a date search parameter whose range
 * meets [start, end], and those with no date at all, as the specification asks; `_since` keeps
 * resources last updated at or after it; `_type` keeps the listed types; `_count` and `_offset`
 * page through a stable order (the Patient, then compartment resources by type and key, then
 * the referenced shared resources). Shared resources are found from the compartment resources in
 * the date range, whatever `_type` and `_since` return.
 *
 * Linked Patients: a module above (the shared care record's master patient index) may say which
 * other Patients are the same person (`EverythingLinkage`, through `everythingRoutes`). The
 * compartment is then the union of every linked Patient's compartments, each still filtered by
 * the caller's access rule row by row. Without it (`registerEverythingRoutes`) it is the one
 * Patient's.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, BundleLink, Parameters as FhirParameters, Resource } from '@medplum/fhirtypes';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../core/db/database.js';
import type { FhirAccessPolicy } from './access.js';
import { fhirDateRange } from './dates.js';
import { isResourceType, patientCompartmentParams, resourceTypes, tableFamily } from './definitions.js';
import { baseUrl, type FhirRouteRegistrar, sendResource } from './http.js';
import { patientKey } from './indexer.js';
import { FhirError, gone, invalid, notFound } from './outcome.js';
import { SqlBuilder } from './search/sql.js';
import { isValidId } from './store.js';

export const EVERYTHING_DEFAULT_COUNT = 1000;
export const EVERYTHING_MAX_COUNT = 5000;

export interface EverythingQuery {
  /** Clinical date range: kept if a date search parameter meets it (or the resource has none). */
  start?: string | undefined;
  end?: string | undefined;
  /** Only resources last updated at or after this instant. */
  since?: string | undefined;
  /** Only these resource types. */
  types?: readonly string[] | undefined;
  count: number;
  offset: number;
}

interface Member {
  family: 'fhir_patient' | 'fhir_shared';
  resource_key: number;
  patient_key: number;
  resource_type: string;
  id: string;
}

/** "Observation subject", "Encounter patient", ...: every (type, parameter) that puts a resource in a Patient's compartment. */
let compartmentPairs: string[] | undefined;
function compartmentParamPairs(): string[] {
  compartmentPairs ??= resourceTypes().flatMap((type) => patientCompartmentParams(type).map((param) => `${type} ${param}`));
  return compartmentPairs;
}

let sharedTypeList: string[] | undefined;
function sharedTypes(): string[] {
  sharedTypeList ??= resourceTypes().filter((type) => tableFamily(type) === 'fhir_shared');
  return sharedTypeList;
}

/**
 * The statement listing members (no content): `source` selects candidate rows of
 * fhir_patient_resource r; the rest adds the date filter, the shared resources they reference,
 * and the output filters. $1 patient ids, $2 their patient keys, $3 (type param) pairs, $4 base URL
 * (bound first in `sql`). The caller's access rule applies to the candidates and to the shared
 * resources alike.
 */
function membersStatement(source: string, query: EverythingQuery, sql: SqlBuilder, access: FhirAccessPolicy | undefined): string {
  const bind = (value: unknown): string => sql.bind(value);
  const patientFilter = access?.rowFilter(sql, 'fhir_patient', 'r');
  if (patientFilter) source = `SELECT * FROM (${source}) r WHERE ${patientFilter}`;
  const sharedFilter = access?.rowFilter(sql, 'fhir_shared', 's');
  // Per resource, how many clinical dates it has and how many meet the range: an aggregate in a
  // LATERAL, so the date index is probed per member whatever the statistics say.
  const member =
    query.start !== undefined || query.end !== undefined
      ? `SELECT c.* FROM (${source}) c CROSS JOIN LATERAL (
           SELECT count(*) AS dates, count(*) FILTER (WHERE d.high >= ${bind(query.start ?? '-infinity')}::timestamptz AND d.low <= ${bind(query.end ?? 'infinity')}::timestamptz) AS inside
           FROM fhir_patient_date d WHERE d.patient_key = c.patient_key AND d.resource_key = c.resource_key AND strpos(d.param, '$') = 0) dd
         WHERE c.resource_type = 'Patient' OR dd.dates = 0 OR dd.inside > 0`
      : source;
  const output = (alias: string): string => {
    const parts: string[] = [];
    if (query.types) parts.push(`${alias}.resource_type = ANY(${bind(query.types)}::text[])`);
    if (query.since) parts.push(`${alias}.last_updated >= ${bind(query.since)}::timestamptz`);
    return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
  };
  const memberOutput = output('m');
  const sharedOutput = output('s');
  // LATERAL with OFFSET 0 (which stops the planner flattening it) fixes the plan as member → its
  // reference rows by resource_key → each target by primary key. Without statistics (the embedded
  // engine has none until something runs ANALYZE) the planner otherwise read every reference to a
  // shared type, through the (target_type, target_id) index.
  return `WITH member AS (${member})
    SELECT 'fhir_patient' AS family, m.resource_key, m.patient_key, m.resource_type, m.id FROM member m ${memberOutput}
    UNION ALL
    SELECT 'fhir_shared', s.resource_key, s.patient_key, s.resource_type, s.id
    FROM (SELECT DISTINCT x.target_type, x.target_id FROM member m CROSS JOIN LATERAL (
            SELECT * FROM fhir_patient_reference r WHERE r.patient_key = m.patient_key AND r.resource_key = m.resource_key OFFSET 0) x
          WHERE x.target_type = ANY(${bind(sharedTypes())}::text[]) AND x.target_id IS NOT NULL AND ${localReference('x', '$4::text')}) target
    CROSS JOIN LATERAL (SELECT * FROM fhir_shared_resource s WHERE s.resource_type = target.target_type AND s.id = target.target_id AND NOT s.deleted${sharedFilter ? ` AND (${sharedFilter})` : ''} OFFSET 0) s
    ${sharedOutput}`;
}

/** A reference row that points at this server: relative, or absolute under our base URL. */
function localReference(alias: string, base: string): string {
  return `(${alias}.target_url IS NULL OR left(${alias}.target_url, length(${base}) + 1) = ${base} || '/')`;
}

/** In a compartment: reference row x of a compartment parameter of its type, to one of the Patients $1. */
const COMPARTMENT_REFERENCE = `x.target_type = 'Patient' AND x.target_id = ANY($1::text[]) AND (x.resource_type || ' ' || x.param) = ANY($3::text[]) AND ${localReference('x', '$4::text')}`;

/** Resources carrying one of the patients' keys: one shard per linked Patient. */
const SAME_KEY_MEMBERS = `SELECT r.resource_key, r.patient_key, r.resource_type, r.id, r.last_updated, r.deleted FROM fhir_patient_resource r
  WHERE r.patient_key = ANY($2::int8[]) AND NOT r.deleted
    AND ((r.resource_type = 'Patient' AND r.id = ANY($1::text[]))
      OR EXISTS (SELECT 1 FROM fhir_patient_reference x WHERE x.patient_key = r.patient_key AND x.resource_key = r.resource_key AND ${COMPARTMENT_REFERENCE}))`;

/** Resources in a compartment whose own key is another patient's (found by the reference index). */
const OTHER_KEY_MEMBERS = `SELECT DISTINCT r.resource_key, r.patient_key, r.resource_type, r.id, r.last_updated, r.deleted
  FROM fhir_patient_reference x JOIN fhir_patient_resource r ON r.patient_key = x.patient_key AND r.resource_key = x.resource_key
  WHERE ${COMPARTMENT_REFERENCE} AND NOT (x.patient_key = ANY($2::int8[])) AND NOT r.deleted`;

/**
 * Which Patients are the same person as this one: the patient_key of every Patient linked with
 * it, its own included. Given by a module above (the master patient index); `q` is the caller's
 * connection.
 */
export type EverythingLinkage = (q: Queryable, patientKey: number) => Promise<readonly number[]>;

export interface EverythingOptions {
  /** The caller's access policy (src/fhir/access.ts): the Patient must be visible, and only visible members are returned. */
  access?: FhirAccessPolicy | undefined;
  /** Given the patient_key of every member returned (for the audit trail). */
  touched?: Set<number> | undefined;
  /** The Patients linked with this one, whose compartments join its own (absent: this Patient alone). */
  linkage?: EverythingLinkage | undefined;
}

/** The members of a (linked) Patient's compartment, in the stable order pages follow. */
interface Compartment {
  members: Member[];
  /** The linked Patients' ids, the requested one first. */
  patientIds: string[];
}

/**
 * Runs $everything for one Patient: a searchset Bundle with `total` and paging links.
 * Throws 404 for an unknown Patient and 410 for a deleted one, and the access policy's refusal
 * for a Patient the caller may not see.
 */
export async function patientEverything(db: Queryable, patientId: string, query: EverythingQuery, base: string, options: EverythingOptions = {}): Promise<Bundle> {
  const { members } = await compartmentMembers(db, patientId, query, base, options);
  const page = members.slice(query.offset, query.offset + query.count);
  const entry = await pageEntries(db, page, base, options.touched);
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: new Date().toISOString() },
    type: 'searchset',
    total: members.length,
    link: pageLinks(`${base}/Patient/${patientId}/$everything`, query, members.length),
    ...(entry.length ? { entry } : {}),
  };
}

/** Contents are read this many at a time when a whole record is wanted. */
const CONTENT_CHUNK = 1000;

/**
 * Every resource of a (linked) Patient's record that the caller may see, without paging, for
 * operations that build on the whole record (the International Patient Summary). `query.count`
 * and `query.offset` are ignored. Same errors as `patientEverything`.
 */
export async function patientRecord(
  db: Queryable,
  patientId: string,
  query: Omit<EverythingQuery, 'count' | 'offset'>,
  base: string,
  options: EverythingOptions = {},
): Promise<{ patientIds: string[]; entries: BundleEntry[] }> {
  const { members, patientIds } = await compartmentMembers(db, patientId, { ...query, count: 0, offset: 0 }, base, options);
  const entries: BundleEntry[] = [];
  for (let at = 0; at < members.length; at += CONTENT_CHUNK) entries.push(...(await pageEntries(db, members.slice(at, at + CONTENT_CHUNK), base, options.touched)));
  return { patientIds, entries };
}

async function compartmentMembers(db: Queryable, patientId: string, query: EverythingQuery, base: string, options: EverythingOptions): Promise<Compartment> {
  if (!isValidId(patientId)) throw notFound('Patient', patientId);
  const access = options.access?.unrestricted ? undefined : options.access;
  const key = patientKey(patientId);
  const patientSql = new SqlBuilder({ baseUrl: base });
  const patientWhere = `p.patient_key = ${patientSql.bind(key)} AND p.resource_type = 'Patient' AND p.id = ${patientSql.bind(patientId)}`;
  const patientVisible = access?.rowFilter(patientSql, 'fhir_patient', 'p');

  // The linked Patients (their keys, then their ids); without linkage, this one alone.
  let ids = [patientId];
  let keys = [key];
  if (options.linkage) {
    const linked = [...new Set([key, ...(await options.linkage(db, key)).map(Number)])];
    if (linked.length > 1) {
      const { rows } = await db.query<{ id: string; patient_key: number | string }>(
        `SELECT id, patient_key FROM fhir_patient_resource WHERE patient_key = ANY($1::int8[]) AND resource_type = 'Patient' AND NOT deleted AND id <> $2`,
        [linked.map(String), patientId],
      );
      ids = [patientId, ...rows.map((r) => r.id).sort()];
      keys = [key, ...rows.map((r) => Number(r.patient_key))];
    }
  }
  const statement = (source: string): { text: string; values: unknown[] } => {
    const sql = new SqlBuilder({ baseUrl: base });
    for (const value of [ids, keys.map(String), compartmentParamPairs(), base]) sql.bind(value);
    const text = membersStatement(source, query, sql, access);
    return { text, values: sql.values };
  };
  const same = statement(SAME_KEY_MEMBERS);
  const other = statement(OTHER_KEY_MEMBERS);
  const [patient, sameRows, otherRows] = await Promise.all([
    db.query<{ deleted: boolean; visible: boolean }>(`SELECT p.deleted, ${patientVisible ? `(${patientVisible})` : 'true'} AS visible FROM fhir_patient_resource p WHERE ${patientWhere}`, patientSql.values),
    db.query<Member>(same.text, same.values),
    db.query<Member>(other.text, other.values),
  ]);
  const row = patient.rows[0];
  if (!row) throw notFound('Patient', patientId);
  if (!row.visible && access) throw await access.refuseHidden({ family: 'fhir_patient', type: 'Patient', id: patientId, patientKey: key, absent: notFound('Patient', patientId) }, db);
  if (row.deleted) throw gone('Patient', patientId);

  const seen = new Set<string>();
  const members: Member[] = [];
  for (const m of [...sameRows.rows, ...otherRows.rows]) {
    const k = `${m.family}:${m.resource_key}`;
    if (seen.has(k)) continue;
    seen.add(k);
    members.push(m);
  }
  // The Patient asked for, then the Patients linked with it, then their compartments, then shared resources.
  const linkedIds = new Set(ids);
  const rank = (m: Member): number =>
    m.family === 'fhir_shared' ? 3 : m.resource_type !== 'Patient' ? 2 : m.id === patientId ? 0 : linkedIds.has(m.id) ? 1 : 2;
  members.sort((a, b) => rank(a) - rank(b) || (a.resource_type < b.resource_type ? -1 : a.resource_type > b.resource_type ? 1 : a.resource_key - b.resource_key));
  return { members, patientIds: ids };
}

/** The entries of these members, in their order (a member deleted since the list was made is left out). */
async function pageEntries(db: Queryable, page: readonly Member[], base: string, touched: Set<number> | undefined): Promise<BundleEntry[]> {
  const contents = await pageContents(db, page);
  const entry: BundleEntry[] = [];
  for (const m of page) {
    const content = contents.get(`${m.family}:${m.resource_key}`);
    if (content === undefined) continue;
    entry.push({ fullUrl: `${base}/${m.resource_type}/${m.id}`, resource: JSON.parse(content) as Resource, search: { mode: m.family === 'fhir_shared' ? 'include' : 'match' } });
    if (m.family === 'fhir_patient') touched?.add(Number(m.patient_key));
  }
  return entry;
}

async function pageContents(db: Queryable, page: readonly Member[]): Promise<Map<string, string>> {
  const patientRows = page.filter((m) => m.family === 'fhir_patient');
  const sharedRows = page.filter((m) => m.family === 'fhir_shared');
  const [patientContent, sharedContent] = await Promise.all([
    patientRows.length
      ? db.query<{ resource_key: number; content: string }>(
          'SELECT resource_key, content FROM fhir_patient_resource WHERE patient_key = ANY($1::int8[]) AND resource_key = ANY($2::int8[]) AND NOT deleted',
          [[...new Set(patientRows.map((m) => m.patient_key))], patientRows.map((m) => m.resource_key)],
        )
      : { rows: [] },
    sharedRows.length
      ? db.query<{ resource_key: number; content: string }>('SELECT resource_key, content FROM fhir_shared_resource WHERE resource_key = ANY($1::int8[]) AND NOT deleted', [sharedRows.map((m) => m.resource_key)])
      : { rows: [] },
  ]);
  const out = new Map<string, string>();
  for (const r of patientContent.rows) out.set(`fhir_patient:${r.resource_key}`, r.content);
  for (const r of sharedContent.rows) out.set(`fhir_shared:${r.resource_key}`, r.content);
  return out;
}

function pageLinks(self: string, query: EverythingQuery, total: number): BundleLink[] {
  const url = (offset: number): string => {
    const params = new URLSearchParams();
    if (query.start) params.set('start', query.start);
    if (query.end) params.set('end', query.end);
    if (query.since) params.set('_since', query.since);
    if (query.types) params.set('_type', query.types.join(','));
    params.set('_count', String(query.count));
    if (offset > 0) params.set('_offset', String(offset));
    return `${self}?${params.toString()}`;
  };
  const links: BundleLink[] = [
    { relation: 'self', url: url(query.offset) },
    { relation: 'first', url: url(0) },
  ];
  if (query.count > 0 && query.offset > 0) links.push({ relation: 'previous', url: url(Math.max(0, query.offset - query.count)) });
  if (query.count > 0 && query.offset + query.count < total) links.push({ relation: 'next', url: url(query.offset + query.count) });
  if (query.count > 0) links.push({ relation: 'last', url: url(total === 0 ? 0 : Math.floor((total - 1) / query.count) * query.count) });
  return links;
}

// ---------------------------------------------------------------------------------------------
// Parameters

type RawParams = Map<string, string[]>;

/** The operation's parameters from the query string and, for POST, a Parameters body or a form. */
function rawParams(request: FastifyRequest): RawParams {
  const out: RawParams = new Map();
  const add = (name: string, value: unknown): void => {
    if (typeof value === 'string') out.set(name, [...(out.get(name) ?? []), value]);
    else if (typeof value === 'number') add(name, String(value));
    else if (Array.isArray(value)) for (const v of value) add(name, v);
  };
  for (const [name, value] of Object.entries((request.query ?? {}) as Record<string, unknown>)) add(name, value);
  const body = request.body as Record<string, unknown> | undefined;
  if (request.method === 'POST' && body && typeof body === 'object') {
    if (body.resourceType === 'Parameters') {
      for (const p of (body as unknown as FhirParameters).parameter ?? []) {
        const value = p.valueDate ?? p.valueDateTime ?? p.valueInstant ?? p.valueString ?? p.valueCode ?? p.valueUri ?? p.valueInteger ?? p.valuePositiveInt ?? p.valueUnsignedInt;
        if (p.name) add(p.name, value);
      }
    } else if (body.resourceType !== undefined) {
      throw invalid(`The body of POST $everything must be a Parameters resource, not ${JSON.stringify(body.resourceType)}`, 'resourceType');
    } else {
      for (const [name, value] of Object.entries(body)) add(name, value);
    }
  }
  return out;
}

const KNOWN = new Set(['start', 'end', '_since', '_type', '_count', '_offset', '_format', '_pretty']);

export function parseEverythingQuery(params: RawParams): EverythingQuery {
  for (const name of params.keys()) {
    if (!KNOWN.has(name)) throw invalid(`$everything does not take a parameter "${name}" (it takes start, end, _since, _type and _count)`, name);
  }
  const single = (name: string): string | undefined => {
    const values = params.get(name);
    if (values && values.length > 1) throw invalid(`${name} may be given only once`, name);
    return values?.[0];
  };
  const date = (name: string, end: 'low' | 'high'): string | undefined => {
    const text = single(name);
    if (text === undefined) return undefined;
    const range = fhirDateRange(text);
    if (!range) throw invalid(`${name} must be a date such as 2024, 2024-03 or 2024-03-01 (got "${text}")`, name);
    return range[end];
  };
  const whole = (name: string, fallback: number, max: number): number => {
    const text = single(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n > max) throw invalid(`${name} must be a whole number from 0 to ${max}`, name);
    return n;
  };
  const start = date('start', 'low');
  const end = date('end', 'high');
  if (start && end && start > end) throw invalid('start is after end', 'start');
  const sinceText = single('_since');
  let since: string | undefined;
  if (sinceText !== undefined) {
    const range = fhirDateRange(sinceText);
    if (!range) throw invalid(`_since must be an instant such as 2024-01-01T00:00:00Z (got "${sinceText}")`, '_since');
    since = range.low;
  }
  let types: string[] | undefined;
  const typeValues = params.get('_type');
  if (typeValues) {
    types = typeValues.flatMap((v) => v.split(',')).map((t) => t.trim()).filter((t) => t !== '');
    const unknown = types.filter((t) => !isResourceType(t));
    if (unknown.length) throw invalid(`_type lists ${unknown.join(', ')}, which ${unknown.length === 1 ? 'is not a' : 'are not'} FHIR R4 resource type${unknown.length === 1 ? '' : 's'}`, '_type');
  }
  return { start, end, since, types, count: whole('_count', EVERYTHING_DEFAULT_COUNT, EVERYTHING_MAX_COUNT), offset: whole('_offset', 0, Number.MAX_SAFE_INTEGER) };
}

/**
 * GET and POST /fhir/Patient/:id/$everything, over the Patients `linkage` links with the one
 * asked for (absent: that Patient alone). The audit event names every Patient whose records
 * were returned.
 */
export function everythingRoutes(options: { linkage?: EverythingLinkage | undefined } = {}): FhirRouteRegistrar {
  return ({ app, context, begin }) => {
    const handler = async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): Promise<FastifyReply> => {
      const access = await begin(request, 'everything', 'Patient', `Patient/${request.params.id}/$everything`);
      const query = parseEverythingQuery(rawParams(request));
      const bundle = await patientEverything(context.db, request.params.id, query, baseUrl(request), { access: access.policy, touched: access.touched, linkage: options.linkage });
      await access.done({ patientIds: [request.params.id] });
      return sendResource(request, reply, 200, bundle);
    };
    const hide = { schema: { hide: true } };
    app.get<{ Params: { id: string } }>('/Patient/:id/$everything', hide, handler);
    app.post<{ Params: { id: string } }>('/Patient/:id/$everything', hide, handler);
    app.get('/Patient/$everything', hide, async () => {
      throw FhirError.of(501, 'not-supported', 'Patient/$everything for all patients is not supported; use Patient/[id]/$everything, or Patient/$export for everyone');
    });
  };
}

/** GET and POST /fhir/Patient/:id/$everything for that Patient alone (no linkage). */
export const registerEverythingRoutes: FhirRouteRegistrar = everythingRoutes();
