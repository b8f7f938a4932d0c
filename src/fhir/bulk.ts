/**
 * Bulk data: $export as the FHIR Bulk Data Access IG v2 specifies it
 * (https://hl7.org/fhir/uv/bulkdata/export.html), and an NDJSON $import for loading large feeds.
 *
 * Export. `GET|POST /fhir/$export`, `/fhir/Patient/$export` and `/fhir/Group/:id/$export` with
 * `Prefer: respond-async` answer 202 with a status URL (`/fhir/$bulk-status/:job`). The export
 * runs in the background in this process: it reads rows in batches of a thousand by keyset (never
 * OFFSET, never one huge result), writes each batch as a part of an NDJSON file per type
 * (migrations/0005_fhir_bulk.sql), and starts a new file every 100,000 resources, so memory stays
 * flat whatever the size of the store. The job row holds the state, so any instance can answer a
 * poll, and a job whose process died (no heartbeat for two minutes) is started again by the next
 * poll. DELETE on the status URL cancels a running job and deletes its files.
 *
 * What is exported, as of `transactionTime` (the kick-off instant; later changes are left out,
 * so a client's next `_since` picks them up):
 *  - system level: every current resource of the `_type` types (default all);
 *  - patient level: every Patient and every resource in some Patient's compartment, plus (unless
 *    `_type` leaves them out) the shared resources those point at, as the IG allows;
 *  - group level: the same for the Patients the Group lists as active members.
 *
 * Import. `POST /fhir/$import` takes NDJSON (application/fhir+ndjson) and answers 200 with an
 * OperationOutcome of counts and the lines that failed; it is synchronous (a 64 MB body is a few
 * seconds' work). `importNdjson` does the work and is what scripts call with a file stream.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { Parameters as FhirParameters, Group, Resource } from '@medplum/fhirtypes';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Database, Queryable } from '../core/db/database.js';
import { type FhirAccessPolicy, FhirAccessDenied } from './access.js';
import { fhirDateRange } from './dates.js';
import { type TableFamily, isResourceType, patientCompartmentParams, resourceTypes, tableFamily } from './definitions.js';
import { baseUrl, type FhirRequestAccess, type FhirRouteRegistrar, type FhirRoutes, preference, sendOutcome, sendResource } from './http.js';
import { INDEX_TABLES, type IndexRows, indexResource, parseReference, patientKey, patientKeyOf } from './indexer.js';
import { FhirError, type Issue, gone, invalid, notFound, operationOutcome } from './outcome.js';
import { SqlBuilder } from './search/sql.js';
import { type CurrentRow, type FhirResource, type FhirStore, isValidId, sameContent, stamp } from './store.js';

export interface BulkSettings {
  /** Resources per output file. */
  fileLimit: number;
  /** Rows read per query, and so at most the lines of one stored part of a file. */
  batchSize: number;
  /** Group members scanned together. */
  groupChunk: number;
  /** A running job touches its heartbeat every batch; this long without one means its process is gone. */
  staleAfterMs: number;
}

export const DEFAULT_BULK_SETTINGS: BulkSettings = { fileLimit: 100_000, batchSize: 1000, groupChunk: 200, staleAfterMs: 120_000 };

/** How long a finished export's files stay downloadable. */
export const BULK_FILES_KEPT_HOURS = 24;
const OUTPUT_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);
const NDJSON = 'application/fhir+ndjson';

// =============================================================================================
// Export: what was asked

export type ExportLevel = 'system' | 'patient' | 'group';

/** An export request, as stored with the job (fhir_bulk_job.parameters). */
export interface ExportParameters {
  level: ExportLevel;
  groupId?: string | undefined;
  /** The `_type` list; undefined means every type the level covers. */
  types?: string[] | undefined;
  /** `_since` as an instant. */
  since?: string | undefined;
  /** This server's FHIR base URL as the client used it. */
  base: string;
  /** Who asked (`FhirAccessPolicy.owner`): only they may poll, download or cancel. */
  owner?: string | undefined;
  /** The requester's access policy as `persist()` gave it; the job runs under it (null: unrestricted). */
  access?: unknown;
}

const UNSUPPORTED = new Set(['_typeFilter', '_elements', 'patient', 'includeAssociatedData', '_outputOrganizedBy']);
const EXPORT_PARAMS = new Set(['_type', '_since', '_outputFormat', '_format', '_pretty']);

/** The kick-off's parameters from the query string and, for POST, a Parameters body. */
function exportParams(request: FastifyRequest): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (name: string, value: unknown): void => {
    if (typeof value === 'string') out.set(name, [...(out.get(name) ?? []), value]);
    else if (Array.isArray(value)) for (const v of value) add(name, v);
  };
  for (const [name, value] of Object.entries((request.query ?? {}) as Record<string, unknown>)) add(name, value);
  const body = request.body as FhirParameters | undefined;
  if (request.method === 'POST' && body) {
    if (body.resourceType !== 'Parameters') throw invalid('The body of POST $export must be a Parameters resource', 'resourceType');
    for (const p of body.parameter ?? []) if (p.name) add(p.name, p.valueString ?? p.valueInstant ?? p.valueDateTime ?? p.valueCode ?? p.valueUri);
  }
  return out;
}

export function parseExportRequest(request: FastifyRequest, level: ExportLevel, groupId?: string): ExportParameters {
  const params = exportParams(request);
  const lenient = preference(request, 'handling') === 'lenient';
  for (const name of params.keys()) {
    if (EXPORT_PARAMS.has(name)) continue;
    if (lenient) continue;
    throw FhirError.of(400, 'not-supported', UNSUPPORTED.has(name) ? `${name} is not supported by this server` : `$export does not take a parameter "${name}"`, name);
  }
  for (const format of params.get('_outputFormat') ?? []) {
    if (!OUTPUT_FORMATS.has(format)) throw FhirError.of(400, 'not-supported', `_outputFormat ${format} is not supported; use application/fhir+ndjson`, '_outputFormat');
  }
  let types: string[] | undefined;
  const typeValues = params.get('_type');
  if (typeValues) {
    types = [...new Set(typeValues.flatMap((v) => v.split(',')).map((t) => t.trim()).filter((t) => t !== ''))];
    const unknown = types.filter((t) => !isResourceType(t));
    if (unknown.length && !lenient) throw invalid(`_type lists ${unknown.join(', ')}: not FHIR R4 resource types`, '_type');
    types = types.filter((t) => isResourceType(t));
  }
  const sinceValues = params.get('_since') ?? [];
  if (sinceValues.length > 1) throw invalid('_since may be given only once', '_since');
  let since: string | undefined;
  if (sinceValues[0] !== undefined) {
    const range = fhirDateRange(sinceValues[0]);
    if (!range) throw invalid(`_since must be an instant such as 2024-01-01T00:00:00Z (got "${sinceValues[0]}")`, '_since');
    since = range.low;
  }
  return { level, ...(groupId ? { groupId } : {}), types, since, base: baseUrl(request) };
}

/** Whether the client sent `Prefer: respond-async` (a bare token, so `preference` cannot see it). */
function prefersAsync(request: FastifyRequest): boolean {
  const header = request.headers.prefer;
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return text.split(/[,;]/).some((part) => part.trim() === 'respond-async');
}

// =============================================================================================
// Export: the background run

interface JobRow {
  id: string;
  status: 'accepted' | 'in-progress' | 'completed' | 'failed' | 'cancelled';
  request_url: string;
  progress: string | null;
  created_at: Date;
  completed_at: Date | null;
  manifest: string | null;
  error: string | null;
  heartbeat_at: Date | null;
  parameters: string | null;
}

export interface ManifestOutput {
  type: string;
  url: string;
  count: number;
}

export interface ExportManifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: ManifestOutput[];
  error: ManifestOutput[];
}

class Cancelled extends Error {
  constructor() {
    super('the export was cancelled');
  }
}

interface OpenFile {
  fileNo: number;
  type: string;
  count: number;
  parts: number;
  lines: string[];
  stored: boolean;
}

/**
 * Collects exported lines per type and writes them as parts of files, one part per type per
 * batch; a type's file is closed at `fileLimit` lines and the next one started.
 */
class OutputWriter {
  private readonly open = new Map<string, OpenFile>();
  private readonly files: OpenFile[] = [];
  private nextFileNo = 1;
  exported = 0;

  constructor(
    private readonly db: Queryable,
    private readonly jobId: string,
    private readonly signal: AbortSignal,
    private readonly fileLimit: number,
  ) {}

  add(type: string, content: string): void {
    let file = this.open.get(type);
    if (!file || file.count >= this.fileLimit) {
      file = { fileNo: this.nextFileNo++, type, count: 0, parts: 0, lines: [], stored: false };
      this.open.set(type, file);
      this.files.push(file);
    }
    file.lines.push(content);
    file.count += 1;
    this.exported += 1;
  }

  /** Writes what the batch added, and checks the job is still wanted. */
  async flush(progress: string): Promise<void> {
    if (this.signal.aborted) throw new Cancelled();
    const pending = this.files.filter((f) => f.lines.length > 0);
    const fresh = pending.filter((f) => !f.stored);
    if (fresh.length) {
      await this.db.query(
        `INSERT INTO fhir_bulk_file (job_id, file_no, resource_type, kind, count)
         SELECT $1, * FROM unnest($2::int4[], $3::text[], $4::text[], $5::int4[])`,
        [this.jobId, fresh.map((f) => f.fileNo), fresh.map((f) => f.type), fresh.map(() => 'output'), fresh.map(() => 0)],
      );
      for (const f of fresh) f.stored = true;
    }
    if (pending.length) {
      await this.db.query(
        `INSERT INTO fhir_bulk_file_part (job_id, file_no, part_no, content) SELECT $1, * FROM unnest($2::int4[], $3::int4[], $4::text[])`,
        [this.jobId, pending.map((f) => f.fileNo), pending.map((f) => ++f.parts), pending.map((f) => `${f.lines.join('\n')}\n`)],
      );
      for (const f of pending) f.lines = [];
    }
    const alive = await this.db.query(`UPDATE fhir_bulk_job SET progress = $2, heartbeat_at = now() WHERE id = $1 AND status = 'in-progress'`, [this.jobId, progress]);
    if (alive.rowCount === 0) throw new Cancelled();
  }

  async finish(): Promise<ManifestOutput[]> {
    await this.flush(`${this.exported} resources exported; finishing`);
    if (this.files.length) {
      await this.db.query(`UPDATE fhir_bulk_file f SET count = u.count FROM unnest($2::int4[], $3::int4[]) AS u(file_no, count) WHERE f.job_id = $1 AND f.file_no = u.file_no`, [
        this.jobId,
        this.files.map((f) => f.fileNo),
        this.files.map((f) => f.count),
      ]);
    }
    return this.files.map((f) => ({ type: f.type, url: String(f.fileNo), count: f.count }));
  }
}

/** The (type, parameter) pairs of the Patient compartment, as "Type param". */
let compartmentPairList: string[] | undefined;
function compartmentPairs(): string[] {
  compartmentPairList ??= resourceTypes().flatMap((type) => patientCompartmentParams(type).map((param) => `${type} ${param}`));
  return compartmentPairList;
}

function typesOf(family: TableFamily): string[] {
  return resourceTypes().filter((t) => tableFamily(t) === family);
}

/** A reference row pointing at this server: relative, or absolute under its base. */
const LOCAL_REFERENCE = (base: string): string => `(x.target_url IS NULL OR left(x.target_url, length(${base}::text) + 1) = ${base}::text || '/')`;

interface ExportRow {
  resource_key: number;
  patient_key: number | string;
  resource_type: string;
  /** Null for a candidate row that is not exported (not in the membership asked for). */
  content: string | null;
}

/**
 * Plans here must not depend on statistics (the embedded engine never gathers any on its own):
 * each query takes a page of candidates straight off an index whose order is the page order,
 * then tests membership per candidate in a LATERAL subquery with LIMIT, which the planner cannot
 * turn into a join over the whole reference table. A candidate that fails the test still moves
 * the cursor on, so a page is never read twice.
 */
function pageWithMembership(candidates: string, order: string, membership: string | undefined): string {
  if (!membership) return `SELECT c.* FROM (${candidates}) c ORDER BY ${order}`;
  return `SELECT c.resource_key, c.patient_key, c.resource_type, c.cursor_time, CASE WHEN m.member THEN c.content END AS content
    FROM (${candidates}) c LEFT JOIN LATERAL (SELECT true AS member WHERE ${membership} LIMIT 1) m ON true
    ORDER BY ${order}`;
}

/**
 * The reference rows of candidate `c`, as `x`, found by (resource_key) alone: OFFSET 0 keeps the
 * planner from also using the (target_type, target_id) index for `target_type = 'Patient'`,
 * which without statistics it took to be selective and read half a million entries per row.
 */
const REFERENCES_OF_C = `(SELECT * FROM fhir_patient_reference r WHERE r.patient_key = c.patient_key AND r.resource_key = c.resource_key OFFSET 0) x`;

/**
 * Every row of one type updated in [since, transactionTime], in (last_updated, resource_key)
 * order by keyset over the (resource_type, last_updated, resource_key) index (migration 0006).
 * `membership` is a condition on candidate `c`, with parameters from $6.
 */
async function* scanType(db: Queryable, batchSize: number, family: TableFamily, type: string, transactionTime: string, since: string | undefined, membership?: string, membershipParams: unknown[] = [], access?: ExportAccess): AsyncGenerator<ExportRow[]> {
  let cursorTime = '-infinity';
  let cursorKey = 0;
  const filter = access?.filter(family, 'c', 5 + membershipParams.length);
  if (filter) {
    membership = membership ? `(${membership}) AND (${filter.text})` : filter.text;
    membershipParams = [...membershipParams, ...filter.values];
  }
  const candidates = `SELECT r.resource_key, r.patient_key, r.resource_type, r.id, r.last_updated, r.last_updated::text AS cursor_time, r.content FROM ${family}_resource r
    WHERE r.resource_type = $1 AND r.last_updated <= $2::timestamptz AND r.last_updated >= GREATEST($3::timestamptz, $4::timestamptz)
      AND (r.last_updated, r.resource_key) > ($3::timestamptz, $5::int8) AND NOT r.deleted
    ORDER BY r.last_updated, r.resource_key LIMIT ${batchSize}`;
  const sql = pageWithMembership(candidates, 'c.last_updated, c.resource_key', membership);
  for (;;) {
    const { rows } = await db.query<ExportRow & { cursor_time: string }>(sql, [type, transactionTime, cursorTime, since ?? '-infinity', cursorKey, ...membershipParams]);
    if (rows.length === 0) return;
    yield rows.filter((r) => r.content !== null);
    const last = rows[rows.length - 1] as ExportRow & { cursor_time: string };
    cursorTime = last.cursor_time;
    cursorKey = last.resource_key;
    if (rows.length < batchSize) return;
  }
}

/** Rows of the patient family in resource_key order, for candidates from `from` matching `condition` (parameters from $4). */
async function* scanByKey(db: Queryable, batchSize: number, condition: string, params: unknown[], transactionTime: string, since: string | undefined, options: { from?: string; membership?: string; access?: ExportAccess | undefined } = {}): AsyncGenerator<ExportRow[]> {
  let cursor = 0;
  const filter = options.access?.filter('fhir_patient', 'c', 3 + params.length);
  if (filter) {
    options = { ...options, membership: options.membership ? `(${options.membership}) AND (${filter.text})` : filter.text };
    params = [...params, ...filter.values];
  }
  const candidates = `SELECT DISTINCT ON (r.resource_key) r.resource_key, r.patient_key, r.resource_type, r.id, r.last_updated::text AS cursor_time, r.content FROM ${options.from ?? 'fhir_patient_resource r'}
    WHERE r.resource_key > $1::int8 AND NOT r.deleted AND r.last_updated <= $2::timestamptz AND r.last_updated >= $3::timestamptz AND ${condition}
    ORDER BY r.resource_key LIMIT ${batchSize}`;
  const sql = pageWithMembership(candidates, 'c.resource_key', options.membership);
  for (;;) {
    const { rows } = await db.query<ExportRow>(sql, [cursor, transactionTime, since ?? '-infinity', ...params]);
    if (rows.length === 0) return;
    yield rows.filter((r) => r.content !== null);
    cursor = (rows[rows.length - 1] as ExportRow).resource_key;
    if (rows.length < batchSize) return;
  }
}

/** The Patient ids a Group lists as active members (members that are Patients on this server). */
function groupPatientIds(group: Group, base: string): string[] {
  const ids = new Set<string>();
  for (const member of group.member ?? []) {
    if (member.inactive === true) continue;
    const reference = member.entity.reference;
    if (!reference) continue;
    const parsed = parseReference(reference);
    if (!parsed || parsed.type !== 'Patient') continue;
    if (parsed.base !== null && parsed.base !== base) continue;
    ids.add(parsed.id);
  }
  return [...ids];
}

async function readGroup(db: Queryable, id: string, access?: FhirAccessPolicy): Promise<Group> {
  const family = tableFamily('Group');
  const sql = new SqlBuilder({ baseUrl: '' });
  const where = `g.resource_type = 'Group' AND g.id = ${sql.bind(id)}`;
  const filter = access && !access.unrestricted ? access.rowFilter(sql, family, 'g') : null;
  const { rows } = await db.query<{ deleted: boolean; content: string | null; patient_key: number; visible: boolean }>(
    `SELECT g.deleted, g.content, g.patient_key, ${filter ? `(${filter})` : 'true'} AS visible FROM ${family}_resource g WHERE ${where}`,
    sql.values,
  );
  const row = rows[0];
  if (!row) throw notFound('Group', id);
  if (!row.visible && access) throw await access.refuseHidden({ family, type: 'Group', id, patientKey: Number(row.patient_key), absent: notFound('Group', id) }, db);
  if (row.deleted || row.content === null) throw gone('Group', id);
  return JSON.parse(row.content) as Group;
}

/**
 * The requester's access policy as a job applies it: row filters whose placeholders follow the
 * statement's own parameters, and the transform for each exported line.
 */
class ExportAccess {
  constructor(readonly policy: FhirAccessPolicy) {}

  /** The policy's condition on `alias`, its placeholders numbered after `before` parameters. */
  filter(family: TableFamily, alias: string, before: number): { text: string; values: unknown[] } | undefined {
    const sql = new SqlBuilder({ baseUrl: '' });
    for (let i = 0; i < before; i++) sql.bind(null);
    const text = this.policy.rowFilter(sql, family, alias);
    return text ? { text, values: sql.values.slice(before) } : undefined;
  }

  line(content: string): string {
    const transform = this.policy.transform;
    return transform ? JSON.stringify(transform(JSON.parse(content) as Resource)) : content;
  }
}

/** At most this many Patients are named in an export's audit record; the count is always given. */
const MAX_AUDITED_PATIENTS = 10_000;

/** Runs one export to completion (or until cancelled), writing files and then the manifest. */
async function runExport(db: Database, settings: BulkSettings, job: JobRow, parameters: ExportParameters, signal: AbortSignal, policy: FhirAccessPolicy): Promise<void> {
  const out = new OutputWriter(db, job.id, signal, settings.fileLimit);
  const batchSize = settings.batchSize;
  const transactionTime = job.created_at.toISOString();
  const { since, base } = parameters;
  const access = policy.unrestricted ? undefined : new ExportAccess(policy);
  const patients = new Set<number>();
  const wanted = (t: string): boolean => parameters.types === undefined || parameters.types.includes(t);
  const emit = async (rows: readonly ExportRow[], label: string): Promise<void> => {
    for (const row of rows) {
      if (row.content === null) continue;
      out.add(row.resource_type, access ? access.line(row.content) : row.content);
      if (Number(row.patient_key) !== 0) patients.add(Number(row.patient_key));
    }
    await out.flush(`${out.exported} resources exported; now ${label}`);
  };

  if (parameters.level === 'system') {
    for (const type of parameters.types ?? resourceTypes()) {
      for await (const rows of scanType(db, batchSize, tableFamily(type), type, transactionTime, since, undefined, [], access)) await emit(rows, type);
    }
  } else if (parameters.level === 'patient') {
    for (const type of typesOf('fhir_patient').filter(wanted)) {
      // In some Patient's compartment: a reference to a Patient from one of its compartment parameters.
      const membership = `EXISTS (SELECT 1 FROM ${REFERENCES_OF_C} WHERE x.target_type = 'Patient' AND x.param = ANY($6::text[]) AND ${LOCAL_REFERENCE('$7')})`;
      const scan =
        type === 'Patient'
          ? scanType(db, batchSize, 'fhir_patient', type, transactionTime, since, undefined, [], access)
          : scanType(db, batchSize, 'fhir_patient', type, transactionTime, since, membership, [patientCompartmentParams(type), base], access);
      for await (const rows of scan) await emit(rows, type);
    }
    for (const type of typesOf('fhir_shared').filter(wanted)) {
      const membership = `EXISTS (SELECT 1 FROM fhir_patient_reference x WHERE x.target_type = c.resource_type AND x.target_id = c.id AND ${LOCAL_REFERENCE('$6')})`;
      for await (const rows of scanType(db, batchSize, 'fhir_shared', type, transactionTime, since, membership, [base], access)) await emit(rows, type);
    }
  } else {
    const group = await readGroup(db, parameters.groupId ?? '', policy);
    const patientIds = groupPatientIds(group, base);
    const patientTypes = typesOf('fhir_patient').filter(wanted);
    const sharedTypes = typesOf('fhir_shared').filter(wanted);
    // Resources whose own key is a non-member's but which are in a member's compartment: rare, remembered to avoid duplicates.
    const elsewhere = new Set<number>();
    const sharedTargets = new Map<string, Set<string>>();
    for (let i = 0; i < patientIds.length; i += settings.groupChunk) {
      const ids = patientIds.slice(i, i + settings.groupChunk);
      const keys = ids.map((id) => patientKey(id));
      const label = `Group members ${i + 1}-${i + ids.length} of ${patientIds.length}`;
      if (patientTypes.length) {
        const member = `x.target_type = 'Patient' AND x.target_id = ANY($4::text[]) AND (x.resource_type || ' ' || x.param) = ANY($6::text[]) AND ${LOCAL_REFERENCE('$8')}`;
        const params = [ids, keys, compartmentPairs(), patientTypes, base];
        const ownKeys = 'r.patient_key = ANY($5::int8[]) AND r.resource_type = ANY($7::text[])';
        const inCompartment = `(c.resource_type = 'Patient' AND c.id = ANY($4::text[]))
          OR EXISTS (SELECT 1 FROM ${REFERENCES_OF_C} WHERE ${member})`;
        for await (const rows of scanByKey(db, batchSize, ownKeys, params, transactionTime, since, { membership: inCompartment, access })) {
          await emit(rows.filter((r) => !elsewhere.has(r.resource_key)), label);
        }
        const otherKeys = `${member} AND x.patient_key <> ALL($5::int8[]) AND r.resource_type = ANY($7::text[])`;
        const from = 'fhir_patient_reference x JOIN fhir_patient_resource r ON r.patient_key = x.patient_key AND r.resource_key = x.resource_key';
        for await (const rows of scanByKey(db, batchSize, otherKeys, params, transactionTime, since, { from, access })) {
          const fresh = rows.filter((r) => !elsewhere.has(r.resource_key));
          for (const r of fresh) elsewhere.add(r.resource_key);
          await emit(fresh, label);
        }
      }
      if (sharedTypes.length) {
        const { rows } = await db.query<{ target_type: string; target_id: string }>(
          `SELECT DISTINCT x.target_type, x.target_id FROM fhir_patient_reference x
           WHERE x.patient_key = ANY($1::int8[]) AND x.target_type = ANY($2::text[]) AND x.target_id IS NOT NULL AND ${LOCAL_REFERENCE('$3')}`,
          [keys, sharedTypes, base],
        );
        for (const r of rows) {
          const set = sharedTargets.get(r.target_type) ?? new Set<string>();
          set.add(r.target_id);
          sharedTargets.set(r.target_type, set);
        }
      }
    }
    const sharedFilter = access?.filter('fhir_shared', 's', 4);
    for (const [type, idSet] of sharedTargets) {
      const ids = [...idSet];
      for (let i = 0; i < ids.length; i += batchSize) {
        const { rows } = await db.query<ExportRow>(
          `SELECT s.resource_key, s.patient_key, s.resource_type, s.content FROM fhir_shared_resource s
           WHERE s.resource_type = $1 AND s.id = ANY($2::text[]) AND NOT s.deleted AND s.last_updated <= $3::timestamptz AND s.last_updated >= $4::timestamptz
             ${sharedFilter ? `AND (${sharedFilter.text})` : ''} ORDER BY s.resource_key`,
          [type, ids.slice(i, i + batchSize), transactionTime, since ?? '-infinity', ...(sharedFilter?.values ?? [])],
        );
        await emit(rows, type);
      }
    }
  }

  const files = await out.finish();
  const keys = [...patients];
  await policy.record({
    interaction: 'export',
    outcome: 'success',
    what: `$export (${parameters.level}${parameters.groupId ? ` Group/${parameters.groupId}` : ''}) job ${job.id}`,
    patientKeys: keys.slice(0, MAX_AUDITED_PATIENTS),
    detail: `${out.exported} resources of ${keys.length} patients exported${keys.length > MAX_AUDITED_PATIENTS ? `; the first ${MAX_AUDITED_PATIENTS} patients are listed` : ''}`,
  });
  const manifest: ExportManifest = {
    transactionTime,
    request: job.request_url,
    requiresAccessToken: false,
    output: files.map((f) => ({ type: f.type, url: `${base}/$bulk-file/${job.id}/${f.url}`, count: f.count })),
    error: [],
  };
  await db.query(`UPDATE fhir_bulk_job SET status = 'completed', completed_at = now(), progress = $2, manifest = $3 WHERE id = $1 AND status = 'in-progress'`, [
    job.id,
    `${out.exported} resources exported`,
    JSON.stringify(manifest),
  ]);
}

/** The jobs this process is running, so DELETE can stop one and close can wait for them. */
class ExportJobs {
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();

  constructor(
    private readonly db: () => Database,
    private readonly settings: BulkSettings,
    private readonly log: { error(obj: object, msg: string): void },
    private readonly restoreAccess: (state: unknown) => Promise<FhirAccessPolicy>,
  ) {}

  isRunning(id: string): boolean {
    return this.running.has(id);
  }

  start(job: JobRow, parameters: ExportParameters): void {
    const abort = new AbortController();
    const done = (async () => {
      const db = this.db();
      try {
        await db.query(`UPDATE fhir_bulk_job SET status = 'in-progress', heartbeat_at = now() WHERE id = $1 AND status IN ('accepted', 'in-progress')`, [job.id]);
        // The requester's policy, rebuilt from what was stored with the job, so a restarted job applies it too.
        const policy = await this.restoreAccess(parameters.access ?? null);
        await runExport(db, this.settings, job, parameters, abort.signal, policy);
      } catch (error) {
        if (error instanceof Cancelled || abort.signal.aborted) return;
        // Cancelled by another instance: its DELETE removed what this run was writing to.
        const now = await db.query<{ status: string }>('SELECT status FROM fhir_bulk_job WHERE id = $1', [job.id]).catch(() => ({ rows: [] }));
        if (now.rows[0]?.status !== 'in-progress') return;
        this.log.error({ err: error, job: job.id }, 'FHIR bulk export failed');
        const message = error instanceof FhirError ? error.message : 'The export failed on our side; it has been logged. Start it again.';
        await db.query(`UPDATE fhir_bulk_job SET status = 'failed', completed_at = now(), error = $2 WHERE id = $1 AND status = 'in-progress'`, [job.id, message]).catch(() => undefined);
      } finally {
        this.running.delete(job.id);
      }
    })();
    this.running.set(job.id, { abort, done });
  }

  async stop(id: string): Promise<void> {
    const job = this.running.get(id);
    if (!job) return;
    job.abort.abort();
    await job.done;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
  }
}

// =============================================================================================
// Import

export interface ImportLineError {
  /** 1-based line number in the input. */
  line: number;
  issues: Issue[];
}

export interface ImportResult {
  created: number;
  updated: number;
  /** Lines identical to the current version: no new version was written. */
  unchanged: number;
  /** Lines that were not imported (all of them, even beyond `maxErrors`). */
  failed: number;
  /** The first `maxErrors` failed lines with why. */
  errors: ImportLineError[];
}

/** Where an import's time went, in milliseconds (for benchmarks). */
export interface ImportProfile {
  parseMs: number;
  validateMs: number;
  indexMs: number;
  /** Preparing and running the SQL of each batch (lookup, keys, write), as the database saw it. */
  writeMs: number;
  /** Time spent waiting for the previous batch's write before the next could start. */
  waitMs: number;
}

export interface ImportOptions {
  /** Resources per batch: one lookup, one key query and one write statement per family (default 1000). */
  batchSize?: number;
  /** At most this many failed lines are listed in `errors` (default: all). */
  maxErrors?: number;
  /** Filled with where the time went, when given. */
  profile?: ImportProfile;
  /** Refresh the planner's statistics of tables the import grew by a tenth or more (default true). */
  analyze?: boolean;
  /** Each line's resource as it is to be stored (a partner feed sets meta.source), before it is checked. */
  prepare?: ((resource: Resource) => Resource) | undefined;
}

interface PreparedLine {
  line: number;
  resource: Resource & { id: string };
  family: TableFamily;
  rows: IndexRows;
  patientKey: number;
  serverId: boolean;
}

interface ExistingRow extends CurrentRow {
  resource_type: string;
  id: string;
}

type PendingVersion = Parameters<FhirStore['writeVersions']>[0][number];

/** Lines of a string (CR LF or LF), without building an array of them. */
function* linesOf(text: string): Generator<string> {
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    yield text.slice(start, end);
    start = end + 1;
  }
}

/**
 * Imports NDJSON, one resource per line: a line with an id is an update-as-create of that id
 * (unchanged content makes no new version), a line without one is created with a server id.
 * Each line is checked as a REST write would be (`store.check`); a line that fails is reported
 * with its number and the rest go on. Valid lines are written in batches, each batch atomic.
 */
export async function importNdjson(store: FhirStore, input: AsyncIterable<string> | Iterable<string> | string, options: ImportOptions = {}): Promise<ImportResult> {
  const batchSize = options.batchSize ?? 1000;
  const maxErrors = options.maxErrors ?? Number.POSITIVE_INFINITY;
  const profile = options.profile;
  const result: ImportResult = { created: 0, updated: 0, unchanged: 0, failed: 0, errors: [] };
  const fail = (line: number, issues: Issue[]): void => {
    result.failed += 1;
    if (result.errors.length < maxErrors) result.errors.push({ line, issues });
  };

  // One batch is written while the next is prepared: JSON and validation on this thread overlap the database.
  let writing: Promise<unknown> = Promise.resolve();
  let writeError: Error | undefined;
  let batch: PreparedLine[] = [];
  let inBatch = new Set<string>();
  const flush = async (): Promise<void> => {
    const t = performance.now();
    await writing;
    if (profile) profile.waitMs += performance.now() - t;
    if (writeError !== undefined) throw writeError;
    if (batch.length === 0) return;
    const lines = batch;
    batch = [];
    inBatch = new Set();
    // Caught here so a failure while the next batch is being prepared is not an unhandled rejection.
    writing = writeBatch(store, lines, result, profile).catch((error: unknown) => {
      writeError = error instanceof Error ? error : new Error(String(error));
    });
  };

  const families = new Set<TableFamily>();
  let lineNo = 0;
  const source = typeof input === 'string' ? linesOf(input) : input;
  for await (const raw of source) {
    lineNo += 1;
    // An in-memory source never reaches the event loop on its own; let the batch being written make progress.
    if (lineNo % 64 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') continue;
    const prepared = prepareLine(store, text, lineNo, profile, options.prepare);
    if ('issues' in prepared) {
      fail(lineNo, prepared.issues);
      continue;
    }
    // The same resource twice in one batch: write the first before the second is looked up.
    const key = `${prepared.resource.resourceType}/${prepared.resource.id}`;
    if (inBatch.has(key) || batch.length >= batchSize) await flush();
    batch.push(prepared);
    inBatch.add(key);
    families.add(prepared.family);
  }
  await flush();
  await writing;
  if (writeError !== undefined) throw writeError;
  if (options.analyze !== false && result.created + result.updated > 0) await analyzeGrownTables(store.db, [...families]);
  return result;
}

/**
 * ANALYZE the tables of these families that have grown by a tenth since their statistics were
 * taken (or never had any). Searches and $everything plan from those statistics; the server's
 * autovacuum catches up within a minute or so, but the embedded engine never gathers any itself.
 * Growth is read from the table's size on disk against the pages counted at the last ANALYZE.
 */
async function analyzeGrownTables(db: Queryable, families: readonly TableFamily[]): Promise<void> {
  const tables = families.flatMap((family) => [`${family}_resource`, ...INDEX_TABLES.map((t) => `${family}_${t}`)]);
  const { rows } = await db.query<{ name: string; never: boolean; analysed: number; now: number }>(
    `SELECT t AS name, c.reltuples < 0 AS never, c.relpages AS analysed, pg_relation_size(c.oid) / current_setting('block_size')::int AS now
     FROM unnest($1::text[]) AS t JOIN pg_class c ON c.oid = to_regclass(t)`,
    [tables],
  );
  const grown = rows.filter((r) => r.never || r.now > r.analysed * 1.1 + 8).map((r) => r.name);
  if (grown.length) await db.query(`ANALYZE ${grown.join(', ')}`);
}

function prepareLine(store: FhirStore, text: string, line: number, profile: ImportProfile | undefined, prepare: ImportOptions['prepare']): PreparedLine | { issues: Issue[] } {
  let t = performance.now();
  let value: unknown;
  try {
    value = JSON.parse(text);
    if (prepare && typeof value === 'object' && value !== null && !Array.isArray(value)) value = prepare(value as Resource);
  } catch (error) {
    return { issues: [{ severity: 'error', code: 'structure', diagnostics: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` }] };
  } finally {
    if (profile) profile.parseMs += performance.now() - t;
  }
  t = performance.now();
  try {
    store.check(value);
  } catch (error) {
    if (error instanceof FhirError) return { issues: [...error.issues] };
    throw error;
  } finally {
    if (profile) profile.validateMs += performance.now() - t;
  }
  const resource = value as Resource;
  if (resource.id !== undefined && (typeof resource.id !== 'string' || !isValidId(resource.id))) {
    return { issues: [{ severity: 'error', code: 'invalid', diagnostics: `"${String(resource.id)}" is not a valid FHIR id (1 to 64 letters, digits, '-' and '.')`, expression: `${resource.resourceType}.id` }] };
  }
  t = performance.now();
  const serverId = resource.id === undefined;
  const withId = (serverId ? { ...resource, id: randomUUID() } : resource) as Resource & { id: string };
  const rows = indexResource(withId);
  const prepared: PreparedLine = { line, resource: withId, family: tableFamily(withId.resourceType), rows, patientKey: patientKeyOf(withId, rows), serverId };
  if (profile) profile.indexMs += performance.now() - t;
  return prepared;
}

/** Writes one batch in one transaction: look up current versions, take keys, write every changed version. */
async function writeBatch(store: FhirStore, lines: readonly PreparedLine[], result: ImportResult, profile: ImportProfile | undefined): Promise<void> {
  const t = performance.now();
  const attempt = (): Promise<{ created: number; updated: number; unchanged: number }> =>
    store.db.transaction(async (tx) => {
      // The current rows of every id in the batch, both families in one statement, locked until commit.
      const existing = new Map<string, ExistingRow>();
      const params: unknown[] = [];
      const branches: string[] = [];
      for (const family of ['fhir_patient', 'fhir_shared'] as const) {
        const wanted = lines.filter((l) => l.family === family && !l.serverId);
        if (wanted.length === 0) continue;
        params.push(wanted.map((l) => l.resource.resourceType), wanted.map((l) => l.resource.id));
        branches.push(`SELECT * FROM (SELECT r.resource_type, r.id, r.resource_key, r.patient_key, r.version_id, r.last_updated, r.deleted, r.content
          FROM ${family}_resource r JOIN unnest($${params.length - 1}::text[], $${params.length}::text[]) AS k(resource_type, id) ON r.resource_type = k.resource_type AND r.id = k.id
          ORDER BY r.resource_type, r.id FOR UPDATE OF r) ${family}`);
      }
      if (branches.length) {
        const { rows } = await tx.query<ExistingRow>(branches.join(' UNION ALL '), params);
        for (const row of rows) existing.set(`${row.resource_type}/${row.id}`, row);
      }
      const counts = { created: 0, updated: 0, unchanged: 0 };
      if (store.access) {
        // A restricted importer writes only what it may, line by line as a REST write would be checked.
        for (const l of lines) {
          const row = existing.get(`${l.resource.resourceType}/${l.resource.id}`);
          if (row) await store.assertVisible(l.resource.resourceType, l.resource.id, tx);
          else if (!l.serverId && !store.access.mayCreateWithId) throw notFound(l.resource.resourceType, l.resource.id);
          const current = row && !row.deleted && row.content ? (JSON.parse(row.content) as Resource) : undefined;
          await store.checkWrite({ interaction: current ? 'update' : 'create', resource: l.resource, existing: current }, tx);
        }
      }
      const fresh = lines.filter((l) => !existing.has(`${l.resource.resourceType}/${l.resource.id}`));
      const keys = fresh.length ? await store.newKeys(fresh.length, tx) : [];
      let nextKey = 0;
      const now = new Date();
      const versions: PendingVersion[] = [];
      for (const l of lines) {
        const row = existing.get(`${l.resource.resourceType}/${l.resource.id}`);
        if (row && !row.deleted && row.content !== null && unchanged(row, l.resource)) {
          counts.unchanged += 1;
          continue;
        }
        const resource: FhirResource = stamp(l.resource, l.resource.id, row ? row.version_id + 1 : 1, now);
        const version: PendingVersion = {
          resource,
          family: l.family,
          resourceKey: row ? row.resource_key : (keys[nextKey++] as number),
          patientKey: l.patientKey,
          rows: l.rows,
          method: l.serverId ? 'POST' : 'PUT',
          replaces: row !== undefined,
          deleted: false,
        };
        if (row && row.patient_key !== l.patientKey) version.previousPatientKey = row.patient_key;
        versions.push(version);
        if (!row || row.deleted) counts.created += 1;
        else counts.updated += 1;
      }
      if (versions.length) await store.writeVersions(versions, tx);
      return counts;
    });
  let counts: Awaited<ReturnType<typeof attempt>> | undefined;
  for (let tries = 1; counts === undefined; tries++) {
    try {
      counts = await attempt();
    } catch (error) {
      // Another writer created one of these ids between our lookup and our insert (23505), or
      // locked the same rows in another order (40P01): the batch rolled back whole; look again.
      const code = (error as { code?: string }).code;
      if (tries >= 3 || (code !== '23505' && code !== '40P01')) throw error;
    }
  }
  result.created += counts.created;
  result.updated += counts.updated;
  result.unchanged += counts.unchanged;
  if (profile) profile.writeMs += performance.now() - t;
}

/** Identical apart from meta.versionId and meta.lastUpdated (as store.update judges it). */
function unchanged(row: ExistingRow, input: Resource & { id: string }): boolean {
  const content = row.content as string;
  // Fast path: a re-import of what was exported serializes to exactly the stored text.
  if (content === JSON.stringify(stamp(input, input.id, row.version_id, row.last_updated))) return true;
  return sameContent(JSON.parse(content) as Resource, input);
}

/** The import's answer: counts first, then each failed line's issues prefixed with its number. */
export function importOutcome(result: ImportResult): Resource {
  const summary = `Imported ${result.created + result.updated + result.unchanged} resources: ${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged; ${result.failed} line${result.failed === 1 ? '' : 's'} failed`;
  const issues: Issue[] = [{ severity: 'information', code: 'informational', diagnostics: summary }];
  for (const e of result.errors) {
    for (const issue of e.issues) issues.push({ ...issue, diagnostics: `Line ${e.line}: ${issue.diagnostics}` });
  }
  if (result.failed > result.errors.length) {
    issues.push({ severity: 'warning', code: 'too-costly', diagnostics: `${result.failed - result.errors.length} more failed lines are not listed` });
  }
  return operationOutcome(issues);
}

// =============================================================================================
// Routes

type JobParams = { job: string; file: string };

/** $export (system, Patient, Group), its status and file URLs, and $import; tests pass smaller settings. */
export function bulkRoutes(overrides: Partial<BulkSettings> = {}): FhirRouteRegistrar {
  const settings: BulkSettings = { ...DEFAULT_BULK_SETTINGS, ...overrides };
  return (routes) => registerBulk(routes, settings);
}

/** Registers $export, the status and file URLs, and $import with the default settings. */
export const registerBulkRoutes: FhirRouteRegistrar = bulkRoutes();

function registerBulk(routes: FhirRoutes, settings: BulkSettings): void {
  const { app, context, begin } = routes;
  const jobs = new ExportJobs(() => context.db, settings, app.log, routes.restoreAccess);
  app.addHook('onClose', async () => jobs.stopAll());
  const hide = { schema: { hide: true } };

  const kickOff = async (request: FastifyRequest, reply: FastifyReply, level: ExportLevel, groupId?: string): Promise<FastifyReply> => {
    const access = await begin(request, 'export', level === 'system' ? undefined : level === 'patient' ? 'Patient' : 'Group', `${level === 'group' ? `Group/${groupId ?? ''}/` : level === 'patient' ? 'Patient/' : ''}$export`);
    if (!prefersAsync(request)) throw FhirError.of(400, 'invalid', '$export runs asynchronously: send the header Prefer: respond-async');
    // The job runs later, perhaps after a restart: it keeps who asked and the policy they asked under.
    const parameters: ExportParameters = { ...parseExportRequest(request, level, groupId), owner: access.policy.owner, access: access.policy.persist() };
    const db = context.db;
    if (groupId !== undefined) await readGroup(db, groupId, access.policy);
    // Finished jobs keep their files for a day; clear older ones as new ones start.
    await db.query(`DELETE FROM fhir_bulk_job WHERE completed_at < now() - interval '${BULK_FILES_KEPT_HOURS} hours'`);
    const id = randomUUID();
    const requestUrl = `${parameters.base}${request.url.slice('/fhir'.length)}`;
    const { rows } = await db.query<JobRow>(
      `INSERT INTO fhir_bulk_job (id, kind, request_url, status, progress, created_at, heartbeat_at, parameters)
       VALUES ($1, 'export', $2, 'accepted', 'accepted', now(), now(), $3) RETURNING *`,
      [id, requestUrl, JSON.stringify(parameters)],
    );
    await access.done({ detail: `export job ${id} started` });
    jobs.start(rows[0] as JobRow, parameters);
    void reply.header('content-location', `${parameters.base}/$bulk-status/${id}`);
    return sendOutcome(request, reply, 202, [{ severity: 'information', code: 'informational', diagnostics: `Export started; poll ${parameters.base}/$bulk-status/${id}` }]);
  };

  for (const method of ['GET', 'POST'] as const) {
    app.route({ method, url: '/$export', ...hide, handler: async (request, reply) => kickOff(request, reply, 'system') });
    app.route({ method, url: '/Patient/$export', ...hide, handler: async (request, reply) => kickOff(request, reply, 'patient') });
    app.route<{ Params: { id: string } }>({ method, url: '/Group/:id/$export', ...hide, handler: async (request, reply) => kickOff(request, reply, 'group', request.params.id) });
  }

  /** A job belongs to whoever asked for it: anyone else is told it does not exist (and the attempt is recorded). */
  const assertOwner = (access: FhirRequestAccess, parameters: string | null, job: string): void => {
    const owner = parameters ? ((JSON.parse(parameters) as ExportParameters).owner ?? '') : '';
    if (owner !== access.policy.owner) throw FhirAccessDenied.refuse(404, 'not-found', `There is no bulk job ${job}`);
  };

  app.get<{ Params: JobParams }>('/$bulk-status/:job', hide, async (request, reply) => {
    const access = await begin(request, 'export', undefined, `$bulk-status/${request.params.job}`);
    const db = context.db;
    const { rows } = await db.query<JobRow>(`SELECT * FROM fhir_bulk_job WHERE id = $1 AND kind = 'export'`, [request.params.job]);
    const job = rows[0];
    if (!job || job.status === 'cancelled') throw FhirError.of(404, 'not-found', `There is no bulk job ${request.params.job}`);
    assertOwner(access, job.parameters, request.params.job);
    if (job.status === 'completed') {
      const expires = new Date((job.completed_at ?? job.created_at).getTime() + BULK_FILES_KEPT_HOURS * 3_600_000);
      return reply.status(200).type('application/json').header('expires', expires.toUTCString()).send(job.manifest);
    }
    if (job.status === 'failed') throw FhirError.of(500, 'exception', job.error ?? 'The export failed');
    const heartbeat = job.heartbeat_at?.getTime() ?? job.created_at.getTime();
    if (!jobs.isRunning(job.id) && Date.now() - heartbeat > settings.staleAfterMs && job.parameters) {
      // Its process is gone: claim it (one poller wins) and start again from the beginning.
      const claimed = await db.query<JobRow>(
        `UPDATE fhir_bulk_job SET heartbeat_at = now(), progress = 'restarted' WHERE id = $1 AND status IN ('accepted', 'in-progress')
           AND coalesce(heartbeat_at, created_at) < now() - $2::int * interval '1 millisecond' RETURNING *`,
        [job.id, settings.staleAfterMs],
      );
      if (claimed.rows[0]) {
        await db.query('DELETE FROM fhir_bulk_file WHERE job_id = $1', [job.id]);
        jobs.start(claimed.rows[0], JSON.parse(job.parameters) as ExportParameters);
      }
    }
    void reply.header('x-progress', (job.progress ?? job.status).replace(/[^\x20-\x7e]/g, '?')).header('retry-after', '2');
    return sendOutcome(request, reply, 202, [{ severity: 'information', code: 'informational', diagnostics: `The export is ${job.status}: ${job.progress ?? ''}` }]);
  });

  app.delete<{ Params: JobParams }>('/$bulk-status/:job', hide, async (request, reply) => {
    const access = await begin(request, 'export', undefined, `$bulk-status/${request.params.job}`);
    const db = context.db;
    const found = await db.query<{ parameters: string | null }>(`SELECT parameters FROM fhir_bulk_job WHERE id = $1 AND kind = 'export' AND status <> 'cancelled'`, [request.params.job]);
    if (!found.rows[0]) throw FhirError.of(404, 'not-found', `There is no bulk job ${request.params.job}`);
    assertOwner(access, found.rows[0].parameters, request.params.job);
    const { rows } = await db.query<{ id: string }>(`UPDATE fhir_bulk_job SET status = 'cancelled' WHERE id = $1 AND kind = 'export' AND status <> 'cancelled' RETURNING id`, [request.params.job]);
    if (!rows[0]) throw FhirError.of(404, 'not-found', `There is no bulk job ${request.params.job}`);
    await jobs.stop(request.params.job);
    await db.query('DELETE FROM fhir_bulk_job WHERE id = $1', [request.params.job]);
    return sendOutcome(request, reply, 202, [{ severity: 'information', code: 'informational', diagnostics: `Bulk job ${request.params.job} cancelled and its files deleted` }]);
  });

  app.get<{ Params: JobParams }>('/$bulk-file/:job/:file', hide, async (request, reply) => {
    const access = await begin(request, 'export', undefined, `$bulk-file/${request.params.job}/${request.params.file}`);
    const db = context.db;
    const fileNo = Number(request.params.file);
    const { rows } = await db.query<{ status: string; parameters: string | null }>(
      `SELECT j.status, j.parameters FROM fhir_bulk_job j JOIN fhir_bulk_file f ON f.job_id = j.id WHERE j.id = $1 AND f.file_no = $2`,
      [request.params.job, Number.isInteger(fileNo) ? fileNo : -1],
    );
    if (rows[0]?.status !== 'completed') throw FhirError.of(404, 'not-found', `There is no bulk file ${request.params.job}/${request.params.file}`);
    assertOwner(access, rows[0].parameters, request.params.job);
    await access.done();
    // Part by part, so a file of any size streams through in little memory.
    async function* parts(): AsyncGenerator<string> {
      let partNo = 0;
      for (;;) {
        const result = await db.query<{ part_no: number; content: string }>(
          'SELECT part_no, content FROM fhir_bulk_file_part WHERE job_id = $1 AND file_no = $2 AND part_no > $3 ORDER BY part_no LIMIT 8',
          [request.params.job, fileNo, partNo],
        );
        for (const row of result.rows) yield row.content;
        if (result.rows.length < 8) return;
        partNo = (result.rows[result.rows.length - 1] as { part_no: number }).part_no;
      }
    }
    return reply.status(200).type(NDJSON).send(Readable.from(parts()));
  });

  app.post('/$import', hide, async (request, reply) => {
    const access = await begin(request, 'import', undefined, '$import');
    const body = request.body;
    if (typeof body !== 'string') throw FhirError.of(415, 'not-supported', '$import takes NDJSON, one resource per line: send Content-Type application/fhir+ndjson');
    const feed = access.feed;
    const result = await importNdjson(access.store, body, { maxErrors: feed ? Number.POSITIVE_INFINITY : 1000, prepare: feed ? (resource) => feed.prepare(resource) : undefined });
    await access.done({ detail: `${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged, ${result.failed} failed` });
    const landed = result.created + result.updated + result.unchanged;
    if (landed === 0 && result.failed === 0) throw invalid('The body has no lines: send one FHIR resource per line');
    if (feed && result.failed > 0) {
      // The lines that failed, as NDJSON of their own, with the outcome naming each by its new line number.
      const failedLines = new Map(result.errors.map((e, i) => [e.line, i + 1]));
      const kept: string[] = [];
      let lineNo = 0;
      for (const line of body.split('\n')) if (failedLines.has(++lineNo)) kept.push(line.endsWith('\r') ? line.slice(0, -1) : line);
      const renumbered = { ...result, errors: result.errors.map((e) => ({ ...e, line: failedLines.get(e.line) as number })) };
      await feed.rejected(landed === 0 ? 400 : 422, importOutcome(renumbered), kept.join('\n'));
    }
    return sendResource(request, reply, landed === 0 ? 400 : 200, importOutcome(result));
  });
}
