/**
 * The access hook: how the FHIR module asks "may this caller do this, and which rows may it
 * see?" without knowing anything about users, roles, relationships or consent. The access module
 * (src/access/policy) implements `FhirAccessPolicy`; app.ts gives `registerFhirApi` a resolver
 * (`accessFor(request)`) that returns the caller's policy for each request. Without a resolver
 * every request gets `UNRESTRICTED_ACCESS` (everything allowed, nothing audited).
 *
 * Where the module applies it:
 *  - `allowInteraction` before every interaction (REST, operations, each Bundle entry);
 *  - `rowFilter` inside every statement that reads resource rows: `visibleResources` (search:
 *    matches, totals, chains, `_has`, `_include`/`_revinclude`, conditional matching), read,
 *    vread, history, `$everything`, `$export` (in the background job, rebuilt from `persist()`),
 *    `$validate` mode delete, and the read-before-write of update, patch and delete;
 *  - `refuseHidden` when a caller names a row it may not see (read, vread, history, update...):
 *    the policy answers 404, exactly as for a resource that does not exist, or 403 where it
 *    chooses to say why (a clinician without a relationship, who may break glass);
 *  - `checkWrite` before every create, update, patch and delete is written;
 *  - `transform` on every resource that leaves the server (responses and export files);
 *  - `record` for every access: what was returned or written, and every refusal.
 *
 * A row filter is an SQL condition on a row of a resource table (alias `r`, or any other alias
 * over `*_resource`, `*_history`, or a candidate row carrying `resource_key`, `patient_key`,
 * `resource_type` and `id`), with its values bound through the given `SqlBuilder`.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../core/db/database.js';
import type { TableFamily } from './definitions.js';
import { FhirError, type Issue } from './outcome.js';
import type { SqlBuilder } from './search/sql.js';

export type FhirInteraction =
  | 'capabilities'
  | 'read'
  | 'vread'
  | 'history-instance'
  | 'history-type'
  | 'history-system'
  | 'search-type'
  | 'search-system'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'batch'
  | 'transaction'
  | 'everything'
  | 'export'
  | 'import'
  | 'validate';

/** An SQL condition on the rows of `alias` in a table of `family`, or null for every row. */
export type RowFilter = (sql: SqlBuilder, family: TableFamily, alias: string) => string | null;

/** One access, for the audit trail. */
export interface FhirAccessEvent {
  interaction: FhirInteraction;
  outcome: 'success' | 'refused' | 'failure';
  /** What was asked for, without search values (they may be identifiers): `Observation/1`, `Observation?code,subject`, `$export`. */
  what: string;
  /** The patient_key of every Patient compartment whose data was returned, written, or refused. */
  patientKeys: readonly number[];
  /** Patient ids, when the request named them (a Patient read, `$everything`). */
  patientIds?: readonly string[];
  /** Why refused, or a count (an export). */
  detail?: string;
}

/** A row the caller named but may not see. */
export interface HiddenRow {
  family: TableFamily;
  type: string;
  id: string;
  patientKey: number;
  /** The error the caller would get if the row did not exist: a 404 refusal must be exactly this. */
  absent: FhirError;
}

export interface WriteCheck {
  interaction: 'create' | 'update' | 'patch' | 'delete';
  /** The content about to be written (absent for a delete). */
  resource?: Resource | undefined;
  /** The current version being replaced or deleted, if any (already known to be visible). */
  existing?: Resource | undefined;
}

export interface FhirAccessPolicy {
  /** Who this is (a stable id, never an NHS number): bulk jobs belong to it. */
  readonly owner: string;
  /** True when nothing is filtered (OpenICS itself): callers may skip work they do only to filter. */
  readonly unrestricted: boolean;
  /**
   * Whether an update may create a resource with an id the client chose when none is there. A
   * caller who may not should not learn that an id exists but is hidden from it, so for it a
   * missing id answers 404 exactly as a hidden one does.
   */
  readonly mayCreateWithId: boolean;
  /** Throws a FhirError (401 or 403, with an OperationOutcome saying why) if the interaction is not allowed. `type` is undefined at system level. */
  allowInteraction(interaction: FhirInteraction, type: string | undefined): void;
  /** The SQL condition a row must meet to be seen; null for every row. */
  rowFilter: RowFilter;
  /**
   * The error for a row that exists but is hidden from the caller: 404 (as if absent) or 403 with
   * a reason. Any query runs on `q`, the caller's connection (it may be inside a transaction that
   * holds the only connection of the embedded engine).
   */
  refuseHidden(row: HiddenRow, q: Queryable): Promise<FhirError>;
  /** Throws a FhirError if the caller may not write this. Any query runs on `q`, as for refuseHidden. */
  checkWrite(check: WriteCheck, q: Queryable): Promise<void>;
  /** Applied to every resource returned (e.g. pseudonymisation for secondary use). */
  transform?: ((resource: Resource) => Resource) | undefined;
  /** Records an access in the audit trail; throws only if it cannot (the request then fails closed). */
  record(event: FhirAccessEvent): Promise<void>;
  /** What a background job (bulk export) needs to rebuild this policy: JSON, or null for unrestricted. */
  persist(): unknown;
}

/** Resolves the caller's policy for a request. */
export type FhirAccessResolver<R> = (request: R) => FhirAccessPolicy | Promise<FhirAccessPolicy>;
/** Rebuilds a policy from what `persist()` returned, when a background job runs. */
export type FhirAccessRestorer = (state: unknown) => FhirAccessPolicy | Promise<FhirAccessPolicy>;

/** The policy when no resolver is configured: everything allowed, nothing filtered, nothing recorded. */
export const UNRESTRICTED_ACCESS: FhirAccessPolicy = {
  owner: '',
  unrestricted: true,
  mayCreateWithId: true,
  allowInteraction: () => undefined,
  rowFilter: () => null,
  refuseHidden: async (row) => row.absent,
  checkWrite: async () => undefined,
  record: async () => undefined,
  persist: () => null,
};

/**
 * A refusal: the error the client sees, marked so that the FHIR error handler records it in the
 * audit trail (with the patients it concerned) before answering.
 *
 * `patientKeys` are every Patient compartment the refusal concerned (for the audit trail);
 * `patientIds` are the Patient ids the caller may be told, set only where the refusal says why
 * (a clinician without a relationship, who may break glass for them). Pages build their
 * break-glass links from `patientIds`, never from the wording of the diagnostics.
 */
export class FhirAccessDenied extends FhirError {
  constructor(
    status: number,
    issues: readonly Issue[],
    readonly patientKeys: readonly number[] = [],
    readonly patientIds: readonly string[] = [],
  ) {
    super(status, issues);
    this.name = 'FhirAccessDenied';
  }

  static refuse(status: number, code: Issue['code'], diagnostics: string, patientKeys: readonly number[] = [], patientIds: readonly string[] = []): FhirAccessDenied {
    return new FhirAccessDenied(status, [{ severity: 'error', code, diagnostics }], patientKeys, patientIds);
  }
}

/** The interactions a Bundle entry's method and URL stand for. */
export function entryInteraction(method: string, type: string | undefined, id: string | undefined, history: boolean, version: string | undefined): FhirInteraction {
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (history) return id !== undefined ? (version !== undefined ? 'vread' : 'history-instance') : type !== undefined ? 'history-type' : 'history-system';
      if (id !== undefined) return 'read';
      return type !== undefined ? 'search-type' : 'search-system';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    default:
      return 'delete';
  }
}

/** A search's `what` for the audit trail: the type and the parameter names, never their values. */
export function searchWhat(type: string | undefined, params: ReadonlyArray<readonly [string, string]>): string {
  const names = [...new Set(params.map(([name]) => name).filter((n) => n !== '_format' && n !== '_pretty'))];
  return `${type ?? ''}?${names.join(',')}`;
}

/** The patient keys of rows that belong to a Patient compartment (0 marks a shared resource). */
export function compartmentKeys(keys: Iterable<number | string>): number[] {
  const out = new Set<number>();
  for (const k of keys) {
    const n = Number(k);
    if (n !== 0 && Number.isFinite(n)) out.add(n);
  }
  return [...out];
}
