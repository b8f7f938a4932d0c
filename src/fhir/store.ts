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
import { type FhirAccessPolicy, type WriteCheck } from './access.js';
import { TABLE_FAMILIES, type TableFamily, isResourceType, tableFamily } from './definitions.js';
import { INDEX_TABLES, type IndexRows, indexResource, patientKeyOf } from './indexer.js';
import { FhirError, type Issue, gone, invalid, notFound } from './outcome.js';
import { SqlBuilder } from './search/sql.js';
import { validateResource } from './validate.js';

export type FhirResource = Resource & { id: string; meta: Meta & { versionId: string; lastUpdated: string } };

/** Checks a resource against the R4 definitions; an empty list means valid. */
export type ResourceValidator = (resource: unknown) => Issue[];

/** One version as written, for a write hook. */
export interface WrittenVersion {
  /** The version written (for a delete: the tombstone, with no content but type, id and meta). */
  readonly resource: FhirResource;
  readonly family: TableFamily;
  readonly resourceKey: number;
  readonly patientKey: number;
  /** The key the resource had before, when its Patient changed. */
  readonly previousPatientKey?: number | undefined;
  readonly deleted: boolean;
}

/**
 * Told of every version written, in the same transaction, before it commits: a failure rolls
 * the write back. The access module keeps its relationship, consent and label tables with it.
 */
export type FhirWriteHook = (q: Queryable, written: readonly WrittenVersion[]) => Promise<void>;

export interface FhirStoreOptions {
  validator?: ResourceValidator;
  /** The caller's access policy (src/fhir/access.ts): what it may read and write. Absent: everything. */
  access?: FhirAccessPolicy | undefined;
  onWrite?: FhirWriteHook | undefined;
  /** Given the patient_key of every Patient compartment row read or written through the store (for the audit trail). */
  touched?: Set<number> | undefined;
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
  /** Whether the caller's access policy lets it see the row (always true without one). */
  visible?: boolean;
}

export class FhirStore {
  private readonly validator: ResourceValidator;

  constructor(
    readonly db: Database,
    private readonly options: FhirStoreOptions = {},
  ) {
    this.validator = options.validator ?? r4Checks;
  }

  /** The caller's access policy, when it is restricted (undefined: everything is allowed). */
  get access(): FhirAccessPolicy | undefined {
    const access = this.options.access;
    return access && !access.unrestricted ? access : undefined;
  }

  /** The same store for another caller. */
  withAccess(access: FhirAccessPolicy | undefined, touched?: Set<number>): FhirStore {
    return new FhirStore(this.db, { ...this.options, access, touched });
  }

  /** Where the store notes the Patients it touches, if anywhere. */
  get touched(): Set<number> | undefined {
    return this.options.touched;
  }

  /** Notes a row's Patient for the audit trail (0: a shared resource, no Patient). */
  touch(patientKey: number | string): void {
    const key = Number(patientKey);
    if (key !== 0 && this.options.touched) this.options.touched.add(key);
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
    await this.checkWrite({ interaction: 'create', resource: input });
    const resource = stamp(input, randomUUID(), 1, new Date());
    const [key] = await this.newKeys(1);
    await this.writeVersions([this.pending(resource, key as number, 'POST', false)]);
    return resource;
  }

  async read(type: string, id: string): Promise<FhirResource> {
    this.assertType(type);
    const row = await this.current(this.db, type, id);
    const resource = await this.readable(type, id, row);
    this.touch((row as CurrentRow).patient_key);
    return resource;
  }

  /** A current row as a read answers it: the resource, or 404, the policy's refusal of a hidden row, or 410. */
  private async readable(type: string, id: string, row: CurrentRow | undefined): Promise<FhirResource> {
    if (!row) throw notFound(type, id);
    await this.assertRowVisible(type, id, row);
    if (row.deleted || row.content === null) throw gone(type, id);
    return JSON.parse(row.content) as FhirResource;
  }

  /**
   * Several resources of one type in one query: each as `read` gives it, in the order asked
   * (duplicates once), or the first error `read` would throw for one of them (404, the policy's
   * refusal of a hidden row, 410), in that order.
   */
  async readMany(type: string, ids: readonly string[]): Promise<FhirResource[]> {
    this.assertType(type);
    const wanted = [...new Set(ids)];
    if (wanted.length === 0) return [];
    const family = tableFamily(type);
    const sql = new SqlBuilder({ baseUrl: '' });
    const { rows } = await this.db.query<CurrentRow & { id: string }>(
      `SELECT r.id, r.resource_key, r.patient_key, r.version_id, r.last_updated, r.deleted, r.content, ${this.visibility(sql, family, 'r')} AS visible
       FROM ${family}_resource r WHERE r.resource_type = ${sql.bind(type)} AND r.id = ANY(${sql.bind(wanted)}::text[])`,
      sql.values,
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    const resources: FhirResource[] = [];
    for (const id of wanted) resources.push(await this.readable(type, id, byId.get(id)));
    for (const row of byId.values()) this.touch(row.patient_key);
    return resources;
  }

  async vread(type: string, id: string, versionId: string): Promise<FhirResource> {
    this.assertType(type);
    const version = Number(versionId);
    if (!Number.isInteger(version) || version < 1) throw notFound(`${type}/${id}/_history`, versionId);
    const family = tableFamily(type);
    const sql = new SqlBuilder({ baseUrl: '' });
    const where = `h.resource_type = ${sql.bind(type)} AND h.id = ${sql.bind(id)} AND h.version_id = ${sql.bind(version)}`;
    const result = await this.db.query<{ content: string | null; deleted: boolean; patient_key: number; visible: boolean }>(
      `SELECT coalesce(h.content, cur.content) AS content, h.deleted, h.patient_key, ${this.visibility(sql, family, 'h')} AS visible
       FROM ${family}_history h ${currentJoin(family, 'h', 'cur')} WHERE ${where}`,
      sql.values,
    );
    const row = result.rows[0];
    if (!row) throw notFound(`${type}/${id}/_history`, versionId);
    if (!row.visible) throw await this.hidden(this.db, type, id, row.patient_key, notFound(`${type}/${id}/_history`, versionId));
    if (row.deleted || row.content === null) throw gone(`${type}/${id}/_history`, versionId);
    this.touch(row.patient_key);
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
      if (row) await this.assertRowVisible(type, id, row, tx);
      // A caller that may not choose ids must not learn whether an id is taken: as if absent.
      if ((!row || row.deleted) && this.access && !this.access.mayCreateWithId) throw notFound(type, id);
      checkVersion(type, id, row, options.ifMatch);
      const version = row ? row.version_id + 1 : 1;
      const existing = row && !row.deleted && row.content ? (JSON.parse(row.content) as FhirResource) : undefined;
      if (existing && sameContent(existing, input)) {
        this.touch(row?.patient_key ?? 0);
        return { resource: existing, created: false, changed: false };
      }
      await this.checkWrite({ interaction: existing ? 'update' : 'create', resource: input, existing }, tx);
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
      await this.assertRowVisible(type, id, row, tx);
      if (row.deleted || !row.content) throw gone(type, id);
      checkVersion(type, id, row, options.ifMatch);
      const resource = JSON.parse(row.content) as Record<string, unknown>;
      const existing = JSON.parse(row.content) as FhirResource;
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
      await this.checkWrite({ interaction: 'patch', resource: resource as unknown as Resource, existing }, tx);
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
      await this.assertRowVisible(type, id, row, tx);
      checkVersion(type, id, row, options.ifMatch);
      if (row.deleted) return true;
      await this.checkWrite({ interaction: 'delete', existing: row.content ? (JSON.parse(row.content) as FhirResource) : undefined }, tx);
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

  /**
   * History at system, type or instance level, newest first. Only versions the caller's access
   * policy lets it see are counted and returned (an instance level caller should check the
   * resource first with `assertVisible`, so a hidden resource is refused rather than empty).
   */
  async history(query: HistoryQuery): Promise<{ entries: HistoryEntry[]; total: number }> {
    if (query.type) this.assertType(query.type);
    const families = query.type ? [tableFamily(query.type)] : TABLE_FAMILIES;
    const sql = new SqlBuilder({ baseUrl: '' });
    const type = query.type ? sql.bind(query.type) : undefined;
    const id = query.id ? sql.bind(query.id) : undefined;
    const since = query.since ? sql.bind(query.since) : undefined;
    const union = families
      .map((f) => {
        const where: string[] = [];
        if (type) where.push(`h.resource_type = ${type}`);
        if (id) where.push(`h.id = ${id}`);
        if (since) where.push(`h.last_updated >= ${since}`);
        const access = this.access?.rowFilter(sql, f, 'h');
        if (access) where.push(`(${access})`);
        return `SELECT h.resource_type, h.id, h.version_id, h.last_updated, h.method, h.deleted, h.content, h.patient_key
          FROM ${f}_history h ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
      })
      .join(' UNION ALL ');
    const count = await this.db.query<{ n: number }>(`SELECT count(*) AS n FROM (${union}) h`, sql.values);
    // Only the page's current versions read their text from the resource rows (a type lives in one family, so at most one join matches).
    const order = 'ORDER BY last_updated DESC, version_id DESC, resource_type, id';
    const rows = await this.db.query<{ resource_type: string; id: string; version_id: number; last_updated: Date; method: HistoryEntry['method']; deleted: boolean; content: string | null; patient_key: number | string }>(
      `SELECT p.resource_type, p.id, p.version_id, p.last_updated, p.method, p.deleted, p.patient_key,
              coalesce(p.content, ${families.map((_, i) => `cur${i}.content`).join(', ')}) AS content
       FROM (${union} ${order} LIMIT $${sql.values.length + 1} OFFSET $${sql.values.length + 2}) p
       ${families.map((f, i) => currentJoin(f, 'p', `cur${i}`)).join(' ')}
       ${order}`,
      [...sql.values, query.count, query.offset],
    );
    for (const r of rows.rows) this.touch(r.patient_key);
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

  /** Whether a resource exists, is current (not deleted), and the caller may see it. */
  async exists(type: string, id: string): Promise<boolean> {
    if (!isResourceType(type)) return false;
    const row = await this.current(this.db, type, id);
    return row !== undefined && !row.deleted && row.visible !== false;
  }

  /** Throws the policy's refusal if `type/id` exists but is hidden from the caller; nothing otherwise. */
  async assertVisible(type: string, id: string, q: Queryable = this.db): Promise<void> {
    if (!this.access || !isResourceType(type)) return;
    const row = await this.current(q, type, id);
    if (row) await this.assertRowVisible(type, id, row, q);
  }

  // ---------------------------------------------------------------------------------------------

  private assertType(type: string): void {
    if (!isResourceType(type)) throw FhirError.of(404, 'not-supported', `${type} is not a FHIR R4 resource type`);
  }

  /** The current row of `type/id`, with whether the caller may see it. */
  private async current(q: Queryable, type: string, id: string, lock = false): Promise<CurrentRow | undefined> {
    const family = tableFamily(type);
    const sql = new SqlBuilder({ baseUrl: '' });
    const where = `r.resource_type = ${sql.bind(type)} AND r.id = ${sql.bind(id)}`;
    const result = await q.query<CurrentRow>(
      `SELECT r.resource_key, r.patient_key, r.version_id, r.last_updated, r.deleted, r.content, ${this.visibility(sql, family, 'r')} AS visible
       FROM ${family}_resource r WHERE ${where}${lock ? ' FOR UPDATE OF r' : ''}`,
      sql.values,
    );
    return result.rows[0];
  }

  /** A boolean SQL expression: may the caller see row `alias`? */
  private visibility(sql: SqlBuilder, family: TableFamily, alias: string): string {
    const filter = this.access?.rowFilter(sql, family, alias);
    return filter ? `(${filter})` : 'true';
  }

  private async assertRowVisible(type: string, id: string, row: CurrentRow, q: Queryable = this.db): Promise<void> {
    if (row.visible === false) throw await this.hidden(q, type, id, row.patient_key);
  }

  private async hidden(q: Queryable, type: string, id: string, patientKey: number | string, absent: FhirError = notFound(type, id)): Promise<FhirError> {
    const access = this.access;
    if (!access) return absent;
    return access.refuseHidden({ family: tableFamily(type), type, id, patientKey: Number(patientKey), absent }, q);
  }

  /** The policy's check of content about to be written (creates made elsewhere call it too), on `q` (the write's transaction, if any). */
  async checkWrite(check: WriteCheck, q: Queryable = this.db): Promise<void> {
    await this.access?.checkWrite(check, q);
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
  async writeVersions(versions: readonly PendingVersion[], q?: Queryable): Promise<void> {
    const onWrite = this.options.onWrite;
    if (onWrite && q === undefined) {
      // The hook's statements and the write land together or not at all.
      await this.db.transaction((tx) => this.writeVersions(versions, tx));
      return;
    }
    await this.writeStatements(versions, q ?? this.db);
    for (const v of versions) this.touch(v.patientKey);
    if (onWrite && versions.length > 0) {
      await onWrite(
        q ?? this.db,
        versions.map((v) => ({ resource: v.resource, family: v.family, resourceKey: v.resourceKey, patientKey: v.patientKey, previousPatientKey: v.previousPatientKey, deleted: v.deleted })),
      );
    }
  }

  private async writeStatements(versions: readonly PendingVersion[], q: Queryable): Promise<void> {
    for (const family of TABLE_FAMILIES) {
      const batch = versions.filter((v) => v.family === family);
      if (batch.length === 0) continue;
      // The distribution column cannot change in place on Citus: a resource whose patient changed
      // is deleted and inserted again under the same key. (Callers that replace run in a transaction.)
      const moved = batch.filter((v) => v.previousPatientKey !== undefined);
      if (moved.length > 0) {
        await q.query(`WITH ${keepReplacedText(family, '$1::int8[]', '$2::int8[]')} DELETE FROM ${family}_resource WHERE patient_key = ANY($1::int8[]) AND resource_key = ANY($2::int8[])`, [
          moved.map((v) => v.previousPatientKey),
          moved.map((v) => v.resourceKey),
        ]);
      }
      await q.query(...writeStatement(family, batch));
    }
  }
}

/**
 * A history row's content is null while it is the current version (the resource row holds the
 * text, so it is stored once): this join reads it from there. `h` is the history row, `cur` the join.
 */
function currentJoin(family: TableFamily, h: string, cur: string): string {
  return `LEFT JOIN ${family}_resource ${cur} ON ${h}.content IS NULL AND NOT ${h}.deleted AND ${cur}.resource_type = ${h}.resource_type AND ${cur}.id = ${h}.id AND ${cur}.version_id = ${h}.version_id`;
}

/** A CTE copying the text of the current versions of these resources into their history rows, before a newer version replaces them. */
function keepReplacedText(family: TableFamily, patientKeys: string, resourceKeys: string): string {
  return `keep AS (UPDATE ${family}_history h SET content = r.content FROM ${family}_resource r
    WHERE r.patient_key = ANY(${patientKeys}) AND r.resource_key = ANY(${resourceKeys}) AND NOT r.deleted
      AND h.resource_type = r.resource_type AND h.id = r.id AND h.version_id = r.version_id AND h.content IS NULL)`;
}

function writeStatement(family: TableFamily, batch: readonly PendingVersion[]): [string, unknown[]] {
  const contentOf = (v: PendingVersion): string | null => (v.deleted ? null : JSON.stringify(v.resource));
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
    // Every statement of this one sees the rows as they were before it: `keep` reads the text `upd` replaces.
    parts.push(keepReplacedText(family, oldPatients, keys));
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
  const bind = (value: unknown, type: string): string => {
    params.push(value);
    return `$${params.length}::${type}`;
  };
  parts.push(...indexInserts(family, batch, bind));
  // The new versions' history rows hold no text while they are current (see currentJoin).
  const history = `INSERT INTO ${family}_history (resource_key, patient_key, resource_type, id, version_id, last_updated, method, deleted)
    SELECT * FROM unnest(${arr(batch.map((v) => v.resourceKey), 'int8')}, ${arr(batch.map((v) => v.patientKey), 'int8')},
      ${arr(batch.map((v) => v.resource.resourceType), 'text')}, ${arr(batch.map((v) => v.resource.id), 'text')},
      ${arr(batch.map((v) => Number(v.resource.meta.versionId)), 'int4')}, ${arr(batch.map((v) => v.resource.meta.lastUpdated), 'timestamptz')},
      ${arr(batch.map((v) => v.method), 'text')}, ${arr(batch.map((v) => v.deleted), 'bool')})`;
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

/**
 * One INSERT per index table, its rows passed as a single JSON parameter that PostgreSQL expands
 * with json_to_recordset. As one array parameter per column, node-postgres escaped every value in
 * JavaScript (`escapeElement`, 7% of an import's time); JSON.stringify does it natively.
 */
function indexInserts(family: TableFamily, batch: readonly PendingVersion[], bind: (value: unknown, type: string) => string): string[] {
  const parts: string[] = [];
  for (const table of INDEX_TABLES) {
    const columns = INDEX_COLUMNS[table];
    // Short keys (k, p, t, n, i, c0, c1...) keep the JSON small; the column list below names them.
    const rows: Array<Record<string, unknown>> = [];
    for (const v of batch) {
      if (v.deleted) continue;
      for (const row of v.rows[table] as unknown as Array<Record<string, unknown>>) {
        const out: Record<string, unknown> = { k: v.resourceKey, p: v.patientKey, t: v.resource.resourceType, n: row.param, i: row.item };
        columns.forEach(([, field], c) => {
          const value = row[field];
          if (value !== undefined && value !== null) out[`c${c}`] = value;
        });
        rows.push(out);
      }
    }
    if (rows.length === 0) continue;
    parts.push(`ix_${table} AS (INSERT INTO ${family}_${table} (resource_key, patient_key, resource_type, param, item, ${columns.map((c) => c[0]).join(', ')})
      SELECT k, p, t, n, i, ${columns.map((_, c) => `c${c}`).join(', ')}
      FROM json_to_recordset(${bind(JSON.stringify(rows), 'json')}) AS x(k int8, p int8, t text, n text, i int2, ${columns.map(([, , sqlType], c) => `c${c} ${sqlType}`).join(', ')}))`);
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
