/**
 * The FHIR record store: create, read, versioned update, delete, patch and history of FHIR R4
 * resources in PostgreSQL (migrations/0004_fhir.sql), with every search parameter indexed in the
 * same statement as the write, so an index never disagrees with the resource it describes.
 *
 * Writes go through `writeVersions`, which writes any number of resources in one statement per
 * batch (resource, history and index rows together): one round trip for a REST create, one per
 * thousand resources for a bulk import. A statement is atomic on its own, so nothing is ever
 * half-written; an update's read-check-write runs in a transaction with the row locked.
 */
import { randomUUID } from 'node:crypto';
import type { Meta, Resource } from '@medplum/fhirtypes';
import { applyPatch, type Operation } from 'rfc6902';
import type { Database, Queryable } from '../core/db/database.js';
import { withinTransaction } from '../core/db/database.js';
import { TABLE_FAMILIES, type TableFamily, isResourceType, tableFamily } from './definitions.js';
import { INDEX_TABLES, type IndexRows, indexResource, patientKeyOf } from './indexer.js';
import { FhirError, type Issue, gone, invalid, notFound } from './outcome.js';
import { validateResource } from './validate.js';

export type FhirResource = Resource & { id: string; meta: Meta & { versionId: string; lastUpdated: string } };

/** Checks a resource against the R4 definitions; an empty list means valid. */
export type ResourceValidator = (resource: unknown) => Issue[];

export interface FhirStoreOptions {
  validator?: ResourceValidator;
}

export interface UpdateOptions {
  /** The version the client last saw (from If-Match); the update is refused if it has moved on. */
  ifMatch?: string | undefined;
}

export interface UpdateResult {
  resource: FhirResource;
  created: boolean;
  /** False when the content was identical to the current version, so no new version was made. */
  changed: boolean;
}

export interface HistoryEntry {
  resourceType: string;
  id: string;
  versionId: string;
  lastUpdated: string;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  resource: FhirResource | undefined;
}

export interface HistoryQuery {
  type?: string | undefined;
  id?: string | undefined;
  since?: string | undefined;
  count: number;
  offset: number;
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function isValidId(id: string): boolean {
  return ID.test(id);
}

/** A resource version ready to write: content and index rows computed, key known. */
interface PendingVersion {
  resource: FhirResource;
  family: TableFamily;
  resourceKey: number;
  patientKey: number;
  rows: IndexRows;
  method: HistoryEntry['method'];
  /** True when a current row exists and is replaced (update, delete); false for a first version. */
  replaces: boolean;
  /** The patient key of the row being replaced, if it differs (Citus cannot update it in place). */
  previousPatientKey?: number;
  deleted: boolean;
}

/** The current row of a resource, as an update or an import reads it before writing. */
export interface CurrentRow {
  resource_key: number;
  patient_key: number;
  version_id: number;
  last_updated: Date;
  deleted: boolean;
  content: string | null;
}

export class FhirStore {
  private readonly validator: ResourceValidator;

  constructor(
    readonly db: Database,
    private readonly options: FhirStoreOptions = {},
  ) {
    this.validator = options.validator ?? r4Checks;
  }

  /** Runs `work` against a store whose every read and write is in one transaction. */
  async inTransaction<T>(work: (store: FhirStore) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(new FhirStore(withinTransaction(tx, this.db.engine), this.options)));
  }

  /**
   * Checks a resource as a create or update would, without writing it: throws a FhirError for
   * errors, and returns the warnings (which do not stop a write) for $validate to report.
   */
  check(resource: unknown, expectedType?: string): Issue[] {
    if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
      throw invalid('The body must be a JSON object holding one FHIR resource');
    }
    const type = (resource as { resourceType?: unknown }).resourceType;
    if (typeof type !== 'string' || !isResourceType(type)) {
      throw FhirError.of(400, 'invalid', `resourceType ${JSON.stringify(type ?? null)} is not a FHIR R4 resource type`, 'resourceType');
    }
    if (expectedType && type !== expectedType) {
      throw FhirError.of(400, 'invalid', `The body is a ${type} but the URL is for ${expectedType}`, 'resourceType');
    }
    const all = this.validator(resource);
    const issues = all.filter((i) => i.severity === 'error' || i.severity === 'fatal');
    // 400 when the resource is not well-formed R4; 422 when it is, but breaks a rule (a binding,
    // an invariant, the NHS number check), as the FHIR http page distinguishes them.
    if (issues.length > 0) throw new FhirError(issues.some((i) => i.code === 'structure' || i.code === 'required') ? 400 : 422, issues);
    return all;
  }

  async create(input: Resource): Promise<FhirResource> {
    this.check(input);
    const resource = stamp(input, randomUUID(), 1, new Date());
    const [key] = await this.newKeys(1);
    await this.writeVersions([this.pending(resource, key as number, 'POST', false)]);
    return resource;
  }

  async read(type: string, id: string): Promise<FhirResource> {
    this.assertType(type);
    const row = await this.current(this.db, type, id);
    if (!row) throw notFound(type, id);
    if (row.deleted || row.content === null) throw gone(type, id);
    return JSON.parse(row.content) as FhirResource;
  }

  async vread(type: string, id: string, versionId: string): Promise<FhirResource> {
    this.assertType(type);
    const version = Number(versionId);
    if (!Number.isInteger(version) || version < 1) throw notFound(`${type}/${id}/_history`, versionId);
    const result = await this.db.query<{ content: string | null; deleted: boolean }>(
      `SELECT content, deleted FROM ${tableFamily(type)}_history WHERE resource_type = $1 AND id = $2 AND version_id = $3`,
      [type, id, version],
    );
    const row = result.rows[0];
    if (!row) throw notFound(`${type}/${id}/_history`, versionId);
    if (row.deleted || row.content === null) throw gone(`${type}/${id}/_history`, versionId);
    return JSON.parse(row.content) as FhirResource;
  }

  /** Update, or create with the client's id when there is no such resource (update-as-create). */
  async update(type: string, id: string, input: Resource, options: UpdateOptions = {}): Promise<UpdateResult> {
    this.assertType(type);
    if (!isValidId(id)) throw invalid(`"${id}" is not a valid FHIR id (1 to 64 letters, digits, '-' and '.')`, 'id');
    // R4 http.html#update: the body SHALL carry the id, and it must be the one in the URL.
    if (input.id === undefined) throw FhirError.of(400, 'required', `The body of an update must carry the resource's id ("${id}")`, `${type}.id`);
    if (input.id !== id) {
      throw FhirError.of(400, 'invalid', `The body's id "${String(input.id)}" does not match the id in the URL "${id}"`, `${type}.id`);
    }
    this.check(input, type);
    return this.db.transaction(async (tx) => {
      const row = await this.current(tx, type, id, true);
      checkVersion(type, id, row, options.ifMatch);
      const version = row ? row.version_id + 1 : 1;
      const existing = row && !row.deleted && row.content ? (JSON.parse(row.content) as FhirResource) : undefined;
      if (existing && sameContent(existing, input)) return { resource: existing, created: false, changed: false };
      const resource = stamp(input, id, version, new Date());
      const key = row ? row.resource_key : ((await this.newKeys(1, tx))[0] as number);
      const pending = this.pending(resource, key, 'PUT', row !== undefined);
      if (row && row.patient_key !== pending.patientKey) pending.previousPatientKey = row.patient_key;
      try {
        await this.writeVersions([pending], tx);
      } catch (error) {
        // Two clients creating the same id at once: the second finds the first's row.
        if ((error as { code?: string }).code === '23505') throw FhirError.of(409, 'conflict', `${type}/${id} was created by another request at the same moment; try again`);
        throw error;
      }
      return { resource, created: !row || row.deleted, changed: true };
    });
  }

  /** Applies a JSON Patch (RFC 6902) to the current version, then updates as a PUT would. */
  async patch(type: string, id: string, operations: unknown, options: UpdateOptions = {}): Promise<FhirResource> {
    this.assertType(type);
    if (!Array.isArray(operations)) throw invalid('A JSON Patch body must be an array of operations');
    return this.db.transaction(async (tx) => {
      const row = await this.current(tx, type, id, true);
      if (!row) throw notFound(type, id);
      if (row.deleted || !row.content) throw gone(type, id);
      checkVersion(type, id, row, options.ifMatch);
      const resource = JSON.parse(row.content) as Record<string, unknown>;
      let results: ReturnType<typeof applyPatch>;
      try {
        results = applyPatch(resource, operations as Operation[]);
      } catch (error) {
        throw invalid(`The patch could not be applied: ${error instanceof Error ? error.message : String(error)}`);
      }
      const failed = results.findIndex((r) => r !== null);
      if (failed >= 0) {
        const reason = results[failed];
        const status = reason?.name === 'TestError' ? 422 : 400;
        throw FhirError.of(status, 'processing', `Patch operation ${failed} (${String((operations[failed] as { op?: unknown }).op)}) failed: ${reason?.message ?? 'unknown'}`, `[${failed}]`);
      }
      if (resource.resourceType !== type || resource.id !== id) throw invalid('A patch may not change resourceType or id');
      this.check(resource, type);
      const stamped = stamp(resource as unknown as Resource, id, row.version_id + 1, new Date());
      const pending = this.pending(stamped, row.resource_key, 'PATCH', true);
      if (row.patient_key !== pending.patientKey) pending.previousPatientKey = row.patient_key;
      await this.writeVersions([pending], tx);
      return stamped;
    });
  }

  /**
   * Deletes the current version; history keeps every version and a later read answers 410.
   * Returns false when there was nothing to delete (never existed), true otherwise.
   */
  async delete(type: string, id: string, options: UpdateOptions = {}): Promise<boolean> {
    this.assertType(type);
    return this.db.transaction(async (tx) => {
      const row = await this.current(tx, type, id, true);
      if (!row) return false;
      checkVersion(type, id, row, options.ifMatch);
      if (row.deleted) return true;
      const family = tableFamily(type);
      const lastUpdated = new Date().toISOString();
      const tombstone = { resourceType: type, id, meta: { versionId: String(row.version_id + 1), lastUpdated } } as FhirResource;
      await this.writeVersions(
        [{ resource: tombstone, family, resourceKey: row.resource_key, patientKey: row.patient_key, rows: emptyRows(), method: 'DELETE', replaces: true, deleted: true }],
        tx,
      );
      return true;
    });
  }

  async history(query: HistoryQuery): Promise<{ entries: HistoryEntry[]; total: number }> {
    if (query.type) this.assertType(query.type);
    const families = query.type ? [tableFamily(query.type)] : TABLE_FAMILIES;
    const params: unknown[] = [];
    const where: string[] = [];
    if (query.type) {
      params.push(query.type);
      where.push(`resource_type = $${params.length}`);
    }
    if (query.id) {
      params.push(query.id);
      where.push(`id = $${params.length}`);
    }
    if (query.since) {
      params.push(query.since);
      where.push(`last_updated >= $${params.length}`);
    }
    const condition = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const union = families
      .map((f) => `SELECT resource_type, id, version_id, last_updated, method, deleted, content FROM ${f}_history ${condition}`)
      .join(' UNION ALL ');
    const count = await this.db.query<{ n: number }>(`SELECT count(*) AS n FROM (${union}) h`, params);
    const rows = await this.db.query<{ resource_type: string; id: string; version_id: number; last_updated: Date; method: HistoryEntry['method']; deleted: boolean; content: string | null }>(
      `${union} ORDER BY last_updated DESC, version_id DESC, resource_type, id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, query.count, query.offset],
    );
    return {
      total: count.rows[0]?.n ?? 0,
      entries: rows.rows.map((r) => ({
        resourceType: r.resource_type,
        id: r.id,
        versionId: String(r.version_id),
        lastUpdated: r.last_updated.toISOString(),
        method: r.method,
        resource: r.deleted || r.content === null ? undefined : (JSON.parse(r.content) as FhirResource),
      })),
    };
  }

  /** Whether a resource exists and is current (not deleted). */
  async exists(type: string, id: string): Promise<boolean> {
    if (!isResourceType(type)) return false;
    const row = await this.current(this.db, type, id);
    return row !== undefined && !row.deleted;
  }

  // ---------------------------------------------------------------------------------------------

  private assertType(type: string): void {
    if (!isResourceType(type)) throw FhirError.of(404, 'not-supported', `${type} is not a FHIR R4 resource type`);
  }

  private async current(q: Queryable, type: string, id: string, lock = false): Promise<CurrentRow | undefined> {
    const result = await q.query<CurrentRow>(
      `SELECT resource_key, patient_key, version_id, last_updated, deleted, content FROM ${tableFamily(type)}_resource
       WHERE resource_type = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`,
      [type, id],
    );
    return result.rows[0];
  }

  async newKeys(n: number, q: Queryable = this.db): Promise<number[]> {
    const result = await q.query<{ key: number }>(`SELECT nextval('fhir_resource_key_seq') AS key FROM generate_series(1, $1::int)`, [n]);
    return result.rows.map((r) => r.key);
  }

  pending(resource: FhirResource, resourceKey: number, method: HistoryEntry['method'], replaces: boolean): PendingVersion {
    const rows = indexResource(resource);
    return { resource, family: tableFamily(resource.resourceType), resourceKey, patientKey: patientKeyOf(resource, rows), rows, method, replaces, deleted: false };
  }

  /**
   * Writes versions (all of one family per statement): the current row, the history row, and
   * the index rows, replacing the index rows of the versions they supersede. One statement per
   * family, so the whole batch is atomic even outside a transaction.
   */
  async writeVersions(versions: readonly PendingVersion[], q: Queryable = this.db): Promise<void> {
    for (const family of TABLE_FAMILIES) {
      const batch = versions.filter((v) => v.family === family);
      if (batch.length === 0) continue;
      // The distribution column cannot change in place on Citus: a resource whose patient changed
      // is deleted and inserted again under the same key. (Callers that replace run in a transaction.)
      const moved = batch.filter((v) => v.previousPatientKey !== undefined);
      if (moved.length > 0) {
        await q.query(`DELETE FROM ${family}_resource WHERE patient_key = ANY($1::int8[]) AND resource_key = ANY($2::int8[])`, [
          moved.map((v) => v.previousPatientKey),
          moved.map((v) => v.resourceKey),
        ]);
      }
      await q.query(...writeStatement(family, batch));
    }
  }
}

function writeStatement(family: TableFamily, batch: readonly PendingVersion[]): [string, unknown[]] {
  // The JSON text goes to the current row and to history: serialise it once.
  const json = new Map(batch.map((v) => [v, v.deleted ? null : JSON.stringify(v.resource)]));
  const contentOf = (v: PendingVersion): string | null => json.get(v) ?? null;
  const params: unknown[] = [];
  const arr = (values: unknown[], type: string): string => {
    params.push(values);
    return `$${params.length}::${type}[]`;
  };
  const parts: string[] = [];
  const replaced = batch.filter((v) => v.replaces);
  if (replaced.length > 0) {
    // Every statement names the patient keys it touches, so on Citus it goes to those shards only.
    const keys = arr(replaced.map((v) => v.resourceKey), 'int8');
    const oldPatients = arr(replaced.map((v) => v.previousPatientKey ?? v.patientKey), 'int8');
    for (const table of INDEX_TABLES) {
      parts.push(`del_${table} AS (DELETE FROM ${family}_${table} WHERE patient_key = ANY(${oldPatients}) AND resource_key = ANY(${keys}))`);
    }
    const stay = replaced.filter((v) => v.previousPatientKey === undefined);
    if (stay.length > 0) {
      parts.push(`upd AS (UPDATE ${family}_resource r SET version_id = u.version_id, last_updated = u.last_updated, deleted = u.deleted, content = u.content
        FROM unnest(${arr(stay.map((v) => v.resourceKey), 'int8')}, ${arr(stay.map((v) => v.patientKey), 'int8')}, ${arr(stay.map((v) => Number(v.resource.meta.versionId)), 'int4')},
                    ${arr(stay.map((v) => v.resource.meta.lastUpdated), 'timestamptz')}, ${arr(stay.map((v) => v.deleted), 'bool')},
                    ${arr(stay.map((v) => contentOf(v)), 'text')})
             AS u(resource_key, patient_key, version_id, last_updated, deleted, content)
        WHERE r.patient_key = u.patient_key AND r.resource_key = u.resource_key)`);
    }
  }
  const inserted = batch.filter((v) => !v.replaces || v.previousPatientKey !== undefined);
  if (inserted.length > 0) {
    parts.push(`ins AS (INSERT INTO ${family}_resource (resource_key, patient_key, resource_type, id, version_id, last_updated, deleted, content)
      SELECT * FROM unnest(${arr(inserted.map((v) => v.resourceKey), 'int8')}, ${arr(inserted.map((v) => v.patientKey), 'int8')},
        ${arr(inserted.map((v) => v.resource.resourceType), 'text')}, ${arr(inserted.map((v) => v.resource.id), 'text')},
        ${arr(inserted.map((v) => Number(v.resource.meta.versionId)), 'int4')}, ${arr(inserted.map((v) => v.resource.meta.lastUpdated), 'timestamptz')},
        ${arr(inserted.map((v) => v.deleted), 'bool')}, ${arr(inserted.map((v) => contentOf(v)), 'text')}))`);
  }
  parts.push(...indexInserts(family, batch, arr));
  const history = `INSERT INTO ${family}_history (resource_key, patient_key, resource_type, id, version_id, last_updated, method, deleted, content)
    SELECT * FROM unnest(${arr(batch.map((v) => v.resourceKey), 'int8')}, ${arr(batch.map((v) => v.patientKey), 'int8')},
      ${arr(batch.map((v) => v.resource.resourceType), 'text')}, ${arr(batch.map((v) => v.resource.id), 'text')},
      ${arr(batch.map((v) => Number(v.resource.meta.versionId)), 'int4')}, ${arr(batch.map((v) => v.resource.meta.lastUpdated), 'timestamptz')},
      ${arr(batch.map((v) => v.method), 'text')}, ${arr(batch.map((v) => v.deleted), 'bool')},
      ${arr(batch.map((v) => contentOf(v)), 'text')})`;
  return [parts.length ? `WITH ${parts.join(',\n')}\n${history}` : history, params];
}

/** The columns of each index table after the common resource_key, patient_key, resource_type, param, item. */
const INDEX_COLUMNS: Record<keyof IndexRows, Array<[column: string, field: string, sqlType: string]>> = {
  token: [['system', 'system', 'text'], ['code', 'code', 'text'], ['display', 'display', 'text'], ['of_type', 'ofType', 'text']],
  string: [['value', 'value', 'text'], ['normalized', 'normalized', 'text']],
  date: [['low', 'low', 'timestamptz'], ['high', 'high', 'timestamptz']],
  number: [['value', 'value', 'numeric']],
  quantity: [['value', 'value', 'numeric'], ['system', 'system', 'text'], ['code', 'code', 'text'], ['unit', 'unit', 'text']],
  reference: [['target_type', 'targetType', 'text'], ['target_id', 'targetId', 'text'], ['target_version', 'targetVersion', 'text'], ['target_url', 'targetUrl', 'text']],
  uri: [['value', 'value', 'text']],
};

function indexInserts(family: TableFamily, batch: readonly PendingVersion[], arr: (values: unknown[], type: string) => string): string[] {
  const parts: string[] = [];
  for (const table of INDEX_TABLES) {
    const keys: number[] = [];
    const patients: number[] = [];
    const types: string[] = [];
    const paramNames: string[] = [];
    const items: number[] = [];
    const columns = INDEX_COLUMNS[table];
    const values: unknown[][] = columns.map(() => []);
    for (const v of batch) {
      if (v.deleted) continue;
      for (const row of v.rows[table] as unknown as Array<Record<string, unknown>>) {
        keys.push(v.resourceKey);
        patients.push(v.patientKey);
        types.push(v.resource.resourceType);
        paramNames.push(row.param as string);
        items.push(row.item as number);
        columns.forEach(([, field], i) => (values[i] as unknown[]).push(row[field] ?? null));
      }
    }
    if (keys.length === 0) continue;
    parts.push(`ix_${table} AS (INSERT INTO ${family}_${table} (resource_key, patient_key, resource_type, param, item, ${columns.map((c) => c[0]).join(', ')})
      SELECT * FROM unnest(${arr(keys, 'int8')}, ${arr(patients, 'int8')}, ${arr(types, 'text')}, ${arr(paramNames, 'text')}, ${arr(items, 'int2')},
        ${columns.map(([, , sqlType], i) => arr(values[i] as unknown[], sqlType)).join(', ')}))`);
  }
  return parts;
}

function emptyRows(): IndexRows {
  return { token: [], string: [], date: [], number: [], quantity: [], reference: [], uri: [] };
}

/** Sets the server's id, version and time on a copy of the resource. */
export function stamp(input: Resource, id: string, version: number, when: Date): FhirResource {
  const meta: Meta = { ...(input.meta ?? {}), versionId: String(version), lastUpdated: when.toISOString() };
  return { ...input, id, meta } as FhirResource;
}

function checkVersion(type: string, id: string, row: CurrentRow | undefined, ifMatch: string | undefined): void {
  if (ifMatch === undefined) return;
  const wanted = ifMatch.replace(/^W\//, '').replaceAll('"', '');
  if (!row) throw FhirError.of(412, 'conflict', `If-Match ${ifMatch} cannot match: ${type}/${id} does not exist`);
  if (String(row.version_id) !== wanted) {
    throw FhirError.of(412, 'conflict', `${type}/${id} is at version ${row.version_id}, not ${wanted}; read it again and reapply your change`);
  }
}

/** Identical apart from the server-managed meta fields: an update that changes nothing. */
export function sameContent(existing: Resource, input: Resource): boolean {
  return comparableContent(existing) === comparableContent(input);
}

/** A resource as canonical JSON (sorted keys) without meta.versionId and meta.lastUpdated. */
function comparableContent(resource: Resource): string {
  const { meta, ...rest } = resource;
  const metaRest: Record<string, unknown> = { ...(meta ?? {}) };
  delete metaRest.versionId;
  delete metaRest.lastUpdated;
  return canonicalJson({ ...rest, ...(Object.keys(metaRest).length ? { meta: metaRest } : {}) });
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The R4 structure definitions, required bindings, invariants and the NHS number check. */
export function r4Checks(resource: unknown): Issue[] {
  return validateResource(resource).map((i) => ({ severity: i.severity, code: i.code, diagnostics: i.message, expression: i.expression }));
}
