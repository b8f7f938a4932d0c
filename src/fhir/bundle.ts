/**
 * Batch and transaction Bundles (https://hl7.org/fhir/R4/http.html#transaction): `POST [base]`
 * with a Bundle of type batch or transaction, answered with a batch-response or
 * transaction-response Bundle whose entries follow the order of the request.
 *
 * A transaction is all or nothing. It runs in one database transaction, in the order the
 * specification sets: DELETE, then POST, then PUT and PATCH, then GET and HEAD. Before anything
 * is written, every `Reference.reference` in the Bundle (at any depth, contained resources
 * included, and links in the narrative) that names another entry's fullUrl (`urn:uuid:…`,
 * `urn:oid:…` or an absolute URL) becomes that entry's `Type/id`, and every conditional
 * reference (`Patient?identifier=…`) becomes the one resource it matches. The creates are
 * written together, keys from one `newKeys` and versions in one `writeVersions`, so a thousand
 * resources cost a handful of round trips. The first entry to fail fails the transaction with
 * its own status and OperationOutcome, anchored at `Bundle.entry[i]`.
 *
 * A batch runs each entry on its own: a failure becomes that entry's response and the others go
 * on. Its entries may not refer to each other (the specification forbids it).
 *
 * Without HTTP: `processBundle(store, bundle, { baseUrl })` (the bulk import and record ingestion
 * call it), or `processTransaction` / `processBatch` on a Bundle already checked by `checkBundle`.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Bundle, BundleEntry, BundleEntryRequest, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../core/db/database.js';
import { type FhirAccessEvent, FhirAccessDenied, entryInteraction, searchWhat } from './access.js';
import { isResourceType } from './definitions.js';
import { type FhirRequestAccess, type FhirRouteRegistrar, baseUrl, historyBundle, preference, sendResource } from './http.js';
import { FhirError, type Issue, informational, invalid, operationOutcome } from './outcome.js';
import { findMatching, searchResources } from './search/execute.js';
import { parseSearchRequest } from './search/parse.js';
import { type FhirResource, type FhirStore, isValidId, stamp } from './store.js';

/** More entries than this is refused (413): split the Bundle, or use $import. */
export const MAX_BUNDLE_ENTRIES = 10_000;

export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

export interface BundleOptions {
  /** This server's FHIR base, e.g. `https://ics.example/fhir`: entry URLs may be absolute on it. */
  baseUrl: string;
  /** What each write entry's response carries (`Prefer: return=`); the resource by default. */
  preferReturn?: ReturnPreference | undefined;
  /** Told of a batch entry that failed on our side (answered 500); a transaction rethrows instead. */
  onUnexpectedError?: ((error: unknown) => void) | undefined;
  /** Told of each batch entry the access policy refused, for the audit trail (a transaction throws the refusal instead). */
  onRefused?: ((event: FhirAccessEvent) => void) | undefined;
  /** Each entry's resource as it is to be stored (a partner feed sets meta.source), before it is checked. */
  prepare?: ((resource: Resource) => Resource) | undefined;
  /** A transaction's last step inside its database transaction, after every entry succeeded (a feed's provenance). */
  beforeCommit?: ((q: Queryable) => Promise<void>) | undefined;
}

export interface CheckedBundle {
  type: 'batch' | 'transaction';
  entries: BundleEntry[];
}

type Method = BundleEntryRequest['method'];
const METHODS: readonly Method[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Where an entry's request.url points, taken apart. */
interface Target {
  /** Undefined at system level (`_history`, `?_type=…`). */
  type: string | undefined;
  id: string | undefined;
  history: boolean;
  version: string | undefined;
  /** The decoded query parameters; for a write they are its search criteria. */
  query: Array<[string, string]>;
}

/** One entry as it is processed. */
interface Work {
  index: number;
  method: Method;
  request: BundleEntryRequest;
  fullUrl: string | undefined;
  /** The entry's resource; rewriting its references copies what it changes, never touching the caller's Bundle. */
  resource: Record<string, unknown> | undefined;
  target: Target | undefined;
  /** The id the entry acts on, once known (a create's new id, a conditional's match). */
  id: string | undefined;
  /** The resource a conditional create found already there. */
  matched: FhirResource | undefined;
  /** A PATCH entry's JSON Patch, decoded once so references rewritten in it stay rewritten. */
  operations: unknown;
  response: BundleEntry | undefined;
}

// ---------------------------------------------------------------------------------------------
// Checking the Bundle

/**
 * Checks the shape of a batch or transaction Bundle: its type, the entry count, and that every
 * entry has a request with a method and URL (and a resource where the method needs one). Every
 * problem is reported at once; a transaction's fullUrls must also be unique.
 */
export function checkBundle(body: unknown): CheckedBundle {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('POST to the base takes a Bundle of type batch or transaction as application/fhir+json');
  }
  const bundle = body as Record<string, unknown>;
  if (bundle.resourceType !== 'Bundle') {
    throw FhirError.of(400, 'invalid', `POST to the base takes a Bundle of type batch or transaction, not ${JSON.stringify(bundle.resourceType ?? null)}; create other resources at [base]/[type]`, 'resourceType');
  }
  const type = bundle.type;
  if (type !== 'batch' && type !== 'transaction') {
    throw FhirError.of(400, 'invalid', `Bundle.type must be batch or transaction to be processed, not ${JSON.stringify(type ?? null)}; to store a Bundle as a resource, POST it to [base]/Bundle`, 'Bundle.type');
  }
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) throw invalid('Bundle.entry must be an array', 'Bundle.entry');
  if (entries.length > MAX_BUNDLE_ENTRIES) {
    throw FhirError.of(413, 'too-costly', `The Bundle has ${entries.length} entries; at most ${MAX_BUNDLE_ENTRIES} are processed in one request. Split it, or use $import for bulk loads`, 'Bundle.entry');
  }
  const issues: Issue[] = [];
  const problem = (diagnostics: string, expression: string): void => {
    issues.push({ severity: 'error', code: expression.endsWith('.method') || expression.endsWith('.url') ? 'required' : 'invalid', diagnostics, expression });
  };
  const fullUrls = new Map<string, number>();
  entries.forEach((entry: unknown, i) => {
    const at = `Bundle.entry[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return problem('An entry must be an object', at);
    const e = entry as Record<string, unknown>;
    const request = e.request as Record<string, unknown> | undefined;
    if (typeof request !== 'object' || request === null || Array.isArray(request)) return problem('Every entry of a batch or transaction needs a request (method and url)', `${at}.request`);
    const method = request.method;
    if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method)) {
      problem(method === undefined ? 'request.method is required' : `request.method must be one of ${METHODS.join(', ')}, not ${JSON.stringify(method)}`, `${at}.request.method`);
    }
    if (typeof request.url !== 'string' || request.url.trim() === '') problem('request.url is required (e.g. Patient, or Patient/123)', `${at}.request.url`);
    const resource = e.resource;
    if ((method === 'POST' || method === 'PUT' || method === 'PATCH') && resource === undefined) problem(`A ${method} entry needs a resource`, `${at}.resource`);
    if (resource !== undefined && (typeof resource !== 'object' || resource === null || Array.isArray(resource))) problem('resource must be a JSON object holding one FHIR resource', `${at}.resource`);
    if (type === 'transaction' && typeof e.fullUrl === 'string' && method !== 'GET' && method !== 'HEAD') {
      const first = fullUrls.get(e.fullUrl);
      if (first !== undefined) problem(`fullUrl ${e.fullUrl} is also the fullUrl of Bundle.entry[${first}]; each entry's fullUrl must be unique`, `${at}.fullUrl`);
      else fullUrls.set(e.fullUrl, i);
    }
    return undefined;
  });
  if (issues.length > 0) throw new FhirError(400, issues.slice(0, 100));
  return { type, entries: entries as BundleEntry[] };
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Processes a batch or transaction Bundle; throws FhirError for a malformed Bundle or a failed transaction. */
export async function processBundle(store: FhirStore, bundle: unknown, options: BundleOptions): Promise<Bundle> {
  const checked = checkBundle(bundle);
  return checked.type === 'transaction' ? processTransaction(store, checked.entries, options) : processBatch(store, checked.entries, options);
}

/** All or nothing, in one database transaction; throws the first failing entry's FhirError. */
export async function processTransaction(store: FhirStore, entries: readonly BundleEntry[], options: BundleOptions): Promise<Bundle> {
  const works = entries.map((entry, index) => newWork(entry, index, options.prepare));
  const run = new Run(true, options);
  for (const work of works) run.guard(work, undefined, () => (work.target = parseTarget(work, options.baseUrl)));
  return store.inTransaction(async (tx) => {
    await run.process(tx, works);
    await options.beforeCommit?.(tx.db);
    return responseBundle('transaction-response', works, options);
  });
}

/** Each entry on its own: a failure becomes that entry's response. */
export async function processBatch(store: FhirStore, entries: readonly BundleEntry[], options: BundleOptions): Promise<Bundle> {
  const works = entries.map((entry, index) => newWork(entry, index, options.prepare));
  const run = new Run(false, options);
  for (const work of works) run.guard(work, undefined, () => (work.target = parseTarget(work, options.baseUrl)));
  await run.process(store, works);
  return responseBundle('batch-response', works, options);
}

/** POST [base]: a batch or transaction Bundle. */
export const registerBundleRoutes: FhirRouteRegistrar = (routes) => {
  routes.app.post('/', { schema: { hide: true } }, async (request, reply) => {
    const kind = (request.body as { type?: unknown } | undefined)?.type === 'transaction' ? 'transaction' : 'batch';
    const access = await routes.begin(request, kind, undefined, `Bundle (${kind})`);
    const prefer = preference(request, 'return');
    const refusals: FhirAccessEvent[] = [];
    const feed = access.feed;
    if (feed && kind === 'transaction') feed.hold();
    const result = await processBundle(access.store, request.body, {
      baseUrl: baseUrl(request),
      preferReturn: prefer === 'minimal' || prefer === 'OperationOutcome' ? prefer : 'representation',
      onUnexpectedError: (error) => request.log.error({ err: error }, 'FHIR batch entry failed'),
      onRefused: (event) => refusals.push(event),
      prepare: feed ? (resource) => feed.prepare(resource) : undefined,
      beforeCommit: feed ? (q) => feed.release(q) : undefined,
    });
    for (const event of refusals) await access.record(event);
    if (feed && kind === 'batch') await keepFailedEntries(feed, request.body as Bundle, result);
    await access.done();
    return sendResource(request, reply, 200, result);
  });
};

/** A feed's batch entries that were refused (4xx), kept as a batch of their own with their outcomes. */
async function keepFailedEntries(feed: NonNullable<FhirRequestAccess['feed']>, sent: Bundle, result: Bundle): Promise<void> {
  const failed = (result.entry ?? []).flatMap((e, i) => (/^4/.test(e.response?.status ?? '') ? [i] : []));
  if (failed.length === 0) return;
  const issues = failed.flatMap((i) => ((result.entry?.[i]?.response?.outcome)?.issue ?? []).map((issue) => ({ ...issue, diagnostics: `Bundle.entry[${i}]: ${issue.diagnostics ?? ''}` })));
  const status = Number((result.entry?.[failed[0] as number]?.response?.status ?? '400').slice(0, 3));
  const body: Bundle = { resourceType: 'Bundle', type: 'batch', entry: failed.map((i) => sent.entry?.[i] as BundleEntry) };
  await feed.rejected(status, { resourceType: 'OperationOutcome', issue: issues }, JSON.stringify(body));
}

// ---------------------------------------------------------------------------------------------
// Processing

function newWork(entry: BundleEntry, index: number, prepare?: (resource: Resource) => Resource): Work {
  const request = entry.request as BundleEntryRequest;
  const resource = entry.resource && prepare && request.method !== 'PATCH' && typeof entry.resource === 'object' ? prepare(entry.resource) : entry.resource;
  return {
    index,
    method: request.method,
    request,
    fullUrl: entry.fullUrl,
    resource: resource as unknown as Record<string, unknown> | undefined,
    target: undefined,
    id: undefined,
    matched: undefined,
    operations: undefined,
    response: undefined,
  };
}

class Run {
  /** fullUrl → `Type/id` of the entries that write (a transaction only). */
  private readonly resolved = new Map<string, string>();
  /** `Type/id` → the entry that acts on it, to refuse two entries acting on one resource. */
  private readonly identities = new Map<string, number>();

  constructor(
    private readonly transaction: boolean,
    private readonly options: BundleOptions,
  ) {}

  async process(store: FhirStore, works: Work[]): Promise<void> {
    const live = (method: Method): Work[] => works.filter((w) => w.method === method && !w.response);
    // Each entry is an interaction of its own, allowed or refused by the caller's policy.
    const access = store.access;
    if (access) {
      for (const work of works) {
        const target = work.target;
        if (work.response || !target) continue;
        this.guard(work, 'request.url', () => {
          try {
            access.allowInteraction(entryInteraction(work.method, target.type, target.id, target.history, target.version), target.type);
          } catch (error) {
            if (error instanceof FhirError && !(error instanceof FhirAccessDenied)) throw new FhirAccessDenied(error.status, error.issues);
            throw error;
          }
        });
      }
    }
    // Two entries naming one resource are refused before anything runs.
    for (const work of works) {
      const target = work.target;
      if (work.response || !target?.type || !target.id || work.method === 'GET' || work.method === 'HEAD') continue;
      this.guard(work, 'request.url', () => this.claim(work, target.type as string, target.id as string));
    }
    // The specification's order: deletes, creates, updates, reads (stable within each).
    for (const work of live('DELETE')) await this.guardAsync(work, 'request.url', () => this.delete(store, work));

    const posts = live('POST');
    for (const work of posts) await this.guardAsync(work, 'request.ifNoneExist', () => this.resolveCreate(store, work));
    const updates = works.filter((w) => (w.method === 'PUT' || w.method === 'PATCH') && !w.response);
    for (const work of updates) await this.guardAsync(work, 'request.url', () => this.resolveUpdateTarget(store, work));

    const writes = works.filter((w) => !w.response && (w.method === 'POST' || w.method === 'PUT' || w.method === 'PATCH') && w.matched === undefined);
    await this.resolveReferences(store, writes);
    const creates = writes.filter((w) => w.method === 'POST' && !w.response);
    for (const work of creates) this.guard(work, 'resource', () => store.check(work.resource, work.target?.type));
    for (const work of creates) if (!work.response) await this.guardAsync(work, 'resource', () => store.checkWrite({ interaction: 'create', resource: work.resource as unknown as Resource }));
    await this.create(store, creates.filter((w) => !w.response));

    for (const work of works) {
      if (work.response || (work.method !== 'PUT' && work.method !== 'PATCH')) continue;
      await this.guardAsync(work, undefined, () => (work.method === 'PUT' ? this.update(store, work) : this.patch(store, work)));
    }
    for (const work of works) {
      if (work.response || (work.method !== 'GET' && work.method !== 'HEAD')) continue;
      this.rewriteQuery(work);
      await this.guardAsync(work, 'request.url', async () => (work.response = await this.get(store, work)));
    }
  }

  /** Runs one step of an entry; a failure fails the transaction, or becomes the batch entry's response. */
  guard(work: Work, part: string | undefined, step: () => unknown): void {
    try {
      step();
    } catch (error) {
      this.failed(work, part, error);
    }
  }

  async guardAsync(work: Work, part: string | undefined, step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.failed(work, part, error);
    }
  }

  private failed(work: Work, part: string | undefined, error: unknown): void {
    if (!(error instanceof FhirError)) {
      if (this.transaction) throw error;
      this.options.onUnexpectedError?.(error);
      work.response = { response: { status: statusLine(500), outcome: operationOutcome([{ severity: 'fatal', code: 'exception', diagnostics: 'Something went wrong on our side processing this entry. It has been logged.' }]) } };
      return;
    }
    const anchored = anchor(work, error, part);
    const refused = error instanceof FhirAccessDenied;
    if (this.transaction) {
      const what = `${work.method} ${work.request.url.split('?')[0] ?? ''}`;
      const issues = anchored.issues.map((i) => ({ ...i, diagnostics: `Bundle.entry[${work.index}] (${what}) failed, so the transaction was not applied: ${i.diagnostics}` }));
      throw refused ? new FhirAccessDenied(anchored.status, issues, error.patientKeys, error.patientIds) : new FhirError(anchored.status, issues);
    }
    if (refused) {
      const target = work.target;
      this.options.onRefused?.({
        interaction: target ? entryInteraction(work.method, target.type, target.id, target.history, target.version) : 'batch',
        outcome: 'refused',
        what: target && target.id === undefined && target.query.length > 0 ? `${work.method} ${searchWhat(target.type, target.query)}` : `${work.method} ${work.request.url.split('?')[0] ?? ''}`,
        patientKeys: error.patientKeys,
        detail: error.issues.map((i) => i.diagnostics).join('; '),
      });
    }
    work.response = { response: { status: statusLine(anchored.status), outcome: operationOutcome(anchored.issues) } };
  }

  /** Records that an entry acts on a resource; a transaction may act on each resource once. */
  private claim(work: Work, type: string, id: string): void {
    const identity = `${type}/${id}`;
    if (this.transaction) {
      const other = this.identities.get(identity);
      if (other !== undefined && other !== work.index) {
        throw FhirError.of(400, 'invalid', `Bundle.entry[${other}] and Bundle.entry[${work.index}] both act on ${identity}; a transaction may act on each resource once`, `Bundle.entry[${work.index}].request.url`);
      }
      this.identities.set(identity, work.index);
      if (work.fullUrl) this.resolved.set(work.fullUrl, identity);
    }
    work.id = id;
  }

  private async match(store: FhirStore, type: string, query: ReadonlyArray<readonly [string, string]>): Promise<string[]> {
    const found = await findMatching(store.db, type, query, { baseUrl: this.options.baseUrl, limit: 2, rowFilter: store.access?.rowFilter });
    return found.map((f) => f.id);
  }

  private async delete(store: FhirStore, work: Work): Promise<void> {
    const target = work.target as Target;
    const type = target.type as string;
    const ids = target.id !== undefined ? [target.id] : await this.match(store, type, target.query);
    if (ids.length > 1) throw FhirError.of(412, 'multiple-matches', `The conditional delete matches more than one ${type}; make the criteria more specific`);
    const id = ids[0];
    // As the REST API answers a conditional delete that matches nothing.
    if (id === undefined) throw FhirError.of(404, 'not-found', `No ${type} matches the criteria of the conditional delete`);
    this.claim(work, type, id);
    const existed = await store.delete(type, id, { ifMatch: work.request.ifMatch });
    if (!existed) throw FhirError.of(404, 'not-found', `${type}/${id} is not known`);
    work.response = { response: { status: statusLine(204), ...this.outcomeIfAsked(`Deleted ${type}/${id}`) } };
  }

  /** A create gets its id now, so references to its fullUrl can be rewritten; If-None-Exist may find it already there. */
  private async resolveCreate(store: FhirStore, work: Work): Promise<void> {
    const type = (work.target as Target).type as string;
    if (work.request.ifNoneExist) {
      const ids = await this.match(store, type, queryPairs(work.request.ifNoneExist));
      if (ids.length > 1) throw FhirError.of(412, 'multiple-matches', `ifNoneExist matches more than one ${type}; make the criteria more specific`);
      if (ids.length === 1) {
        const existing = await store.read(type, ids[0] as string);
        this.claim(work, type, existing.id);
        work.matched = existing;
        work.response = this.written(200, existing, `${type}/${existing.id} already exists and matches ifNoneExist`);
        return;
      }
    }
    this.claim(work, type, randomUUID());
  }

  /** The id a PUT or PATCH acts on: from its URL, or the one resource its criteria match. */
  private async resolveUpdateTarget(store: FhirStore, work: Work): Promise<void> {
    const target = work.target as Target;
    const type = target.type as string;
    if (target.id !== undefined) {
      this.claim(work, type, target.id);
      return;
    }
    const ids = await this.match(store, type, target.query);
    if (ids.length > 1) throw FhirError.of(412, 'multiple-matches', `The conditional ${work.method === 'PUT' ? 'update' : 'patch'} matches more than one ${type}; make the criteria more specific`);
    if (ids.length === 1) {
      const id = ids[0] as string;
      const bodyId = work.resource?.id;
      if (work.method === 'PUT' && bodyId !== undefined && bodyId !== id) {
        throw FhirError.of(400, 'invalid', `The criteria match ${type}/${id} but the resource's id is ${text(bodyId)}`, `Bundle.entry[${work.index}].resource.id`);
      }
      this.claim(work, type, id);
      return;
    }
    if (work.method === 'PATCH') throw FhirError.of(404, 'not-found', `No ${type} matches the criteria of the conditional patch`);
    // No match: the update creates, with the resource's own id if it has one that is free.
    const bodyId = work.resource?.id;
    if (typeof bodyId === 'string') {
      if (await store.exists(type, bodyId)) throw FhirError.of(409, 'conflict', `No ${type} matches the criteria, but ${type}/${bodyId} exists; the conditional update will not overwrite it`);
      this.claim(work, type, bodyId);
    } else {
      this.claim(work, type, randomUUID());
    }
  }

  /**
   * Rewrites every reference to another entry's fullUrl, and resolves every conditional
   * reference, in the resources (and JSON Patch values) about to be written. The first walk
   * rewrites fullUrls and notes the conditional references; only if there are any are they
   * looked up (once each) and the entries that hold them walked again.
   */
  private async resolveReferences(store: FhirStore, works: readonly Work[]): Promise<void> {
    const conditionals = new Map<string, string | FhirError | undefined>();
    const again = new Set<Work>();
    const walk = (work: Work): void => {
      this.guard(work, 'resource', () => {
        const rewrite: Rewrite = (reference, path, narrative) => {
          const local = this.rewriteOne(work, reference, path, narrative, conditionals);
          if (local === undefined && conditionals.has(reference) && conditionals.get(reference) === undefined) again.add(work);
          return local;
        };
        if (work.method !== 'PATCH') {
          work.resource = rewriteReferences(work.resource, [text(work.resource?.resourceType ?? 'resource')], rewrite);
          return;
        }
        const operations = patchOperations(work);
        work.operations = rewriteReferences(operations, [], rewrite);
        // A JSON Patch may set a reference's string alone: {"op": "replace", "path": "/subject/reference", "value": "urn:uuid:…"}.
        if (Array.isArray(work.operations)) {
          work.operations = (work.operations as unknown[]).map((op, i) => {
            const o = op as Record<string, unknown> | null;
            if (!o || typeof o.path !== 'string' || !o.path.endsWith('/reference') || typeof o.value !== 'string') return op;
            const value = rewrite(o.value, () => `[${i}].value`, false);
            return value === undefined ? op : { ...o, value };
          });
        }
      });
    };
    for (const work of works) walk(work);
    if (again.size === 0) return;
    for (const reference of conditionals.keys()) {
      try {
        conditionals.set(reference, await this.resolveConditional(store, reference));
      } catch (error) {
        if (!(error instanceof FhirError)) throw error;
        conditionals.set(reference, error);
      }
    }
    for (const work of again) if (!work.response) walk(work);
  }

  /** The replacement for one reference, or undefined to leave it as it is. */
  private rewriteOne(work: Work, reference: string, path: () => string, narrative: boolean, conditionals: Map<string, string | FhirError | undefined>): string | undefined {
    if (reference.startsWith('#')) return undefined;
    const local = this.resolved.get(reference) ?? (work.fullUrl ? this.resolved.get(absoluteAgainst(reference, work.fullUrl) ?? '') : undefined);
    if (local !== undefined || narrative) return local;
    if (reference.startsWith('urn:') && /^urn:(uuid|oid):/i.test(reference)) {
      const why = this.transaction ? 'is not the fullUrl of any entry that creates or updates a resource in this transaction' : 'cannot be resolved: the entries of a batch may not refer to each other (use a transaction)';
      throw FhirError.of(400, 'invalid', `The reference ${reference} ${why}`, resourcePath(work, path()));
    }
    const question = reference.indexOf('?');
    if (question < 0 || !isResourceType(reference.slice(0, question))) return undefined;
    const found = conditionals.get(reference);
    if (found instanceof FhirError) throw new FhirError(found.status, found.issues.map((i) => ({ ...i, expression: resourcePath(work, path()) })));
    if (found === undefined) conditionals.set(reference, undefined);
    return found;
  }

  private async resolveConditional(store: FhirStore, reference: string): Promise<string> {
    const [type, query] = [reference.slice(0, reference.indexOf('?')), reference.slice(reference.indexOf('?') + 1)];
    const ids = await this.match(store, type, queryPairs(query));
    if (ids.length === 0) throw FhirError.of(412, 'not-found', `The conditional reference ${reference} matches no ${type}; exactly one is needed`);
    if (ids.length > 1) throw FhirError.of(412, 'multiple-matches', `The conditional reference ${reference} matches more than one ${type}; exactly one is needed`);
    return `${type}/${ids[0] as string}`;
  }

  /** GET entries may search by another entry's fullUrl (`Observation?subject=urn:uuid:…`). */
  private rewriteQuery(work: Work): void {
    const target = work.target as Target;
    if (this.resolved.size === 0 || target.query.length === 0) return;
    target.query = target.query.map(([name, value]) => [name, this.resolved.get(value) ?? value]);
  }

  /** Writes every create at once: one newKeys, one writeVersions. A batch falls back to one at a time if that fails. */
  private async create(store: FhirStore, works: readonly Work[]): Promise<void> {
    if (works.length === 0) return;
    const now = new Date();
    const keys = await store.newKeys(works.length);
    const stamped = works.map((work) => stamp(work.resource as unknown as Resource, work.id as string, 1, now));
    const versions = stamped.map((resource, i) => store.pending(resource, keys[i] as number, 'POST', false));
    try {
      // A batch writes them in a transaction of their own, so a failure leaves none half-written.
      await (this.transaction ? store.writeVersions(versions) : store.inTransaction((tx) => tx.writeVersions(versions)));
    } catch (error) {
      if (this.transaction) throw error;
      // One bad row should not sink the others: write each alone to find it.
      for (const [i, work] of works.entries()) {
        await this.guardAsync(work, 'resource', async () => {
          await store.writeVersions([versions[i] as (typeof versions)[number]]);
          work.response = this.written(201, stamped[i] as FhirResource, `Created ${work.target?.type ?? ''}/${work.id ?? ''}`);
        });
      }
      return;
    }
    works.forEach((work, i) => {
      const resource = stamped[i] as FhirResource;
      work.response = this.written(201, resource, `Created ${resource.resourceType}/${resource.id}`);
    });
  }

  private async update(store: FhirStore, work: Work): Promise<void> {
    const type = (work.target as Target).type as string;
    const id = work.id as string;
    // A conditional update's body may leave the id out; the match supplies it.
    const resource = work.resource?.id === undefined ? { ...work.resource, id } : work.resource;
    const result = await store.update(type, id, resource as unknown as Resource, { ifMatch: work.request.ifMatch });
    const message = result.created ? `Created ${type}/${id}` : result.changed ? `Updated ${type}/${id}` : `${type}/${id} was already up to date`;
    work.response = this.written(result.created ? 201 : 200, result.resource, message);
  }

  private async patch(store: FhirStore, work: Work): Promise<void> {
    const type = (work.target as Target).type as string;
    const id = work.id as string;
    const resource = await store.patch(type, id, patchOperations(work), { ifMatch: work.request.ifMatch });
    work.response = this.written(200, resource, `Patched ${type}/${id}`);
  }

  /** GET and HEAD: read, vread, history, search. */
  private async get(store: FhirStore, work: Work): Promise<BundleEntry> {
    const target = work.target as Target;
    const head = work.method === 'HEAD';
    const base = this.options.baseUrl.replace(/\/+$/, '');
    const { type, id } = target;
    const answer = (resource: Resource, extra: Record<string, string> = {}): BundleEntry => ({
      ...(!head ? { resource } : {}),
      response: { status: statusLine(200), ...extra },
    });
    if (type !== undefined && id !== undefined && !target.history) {
      const resource = await store.read(type, id);
      const versioned = { etag: `W/"${resource.meta.versionId}"`, lastModified: resource.meta.lastUpdated };
      const ifNoneMatch = work.request.ifNoneMatch?.replace(/^W\//, '').replaceAll('"', '');
      const since = work.request.ifModifiedSince;
      if (ifNoneMatch === resource.meta.versionId || (since !== undefined && Date.parse(resource.meta.lastUpdated) <= Date.parse(since) + 999)) {
        return { response: { status: statusLine(304), ...versioned } };
      }
      return { fullUrl: `${base}/${type}/${id}`, ...answer(resource, versioned) };
    }
    if (type !== undefined && id !== undefined && target.version !== undefined) {
      const resource = await store.vread(type, id, target.version);
      return { fullUrl: `${base}/${type}/${id}`, ...answer(resource, { etag: `W/"${resource.meta.versionId}"`, lastModified: resource.meta.lastUpdated }) };
    }
    const params = Object.fromEntries(target.query);
    if (target.history) {
      const count = params._count === undefined ? 50 : Number(params._count);
      const offset = params._offset === undefined ? 0 : Number(params._offset);
      if (!Number.isInteger(count) || count < 0 || count > 1000) throw invalid('_count must be a whole number from 0 to 1000');
      if (!Number.isInteger(offset) || offset < 0) throw invalid('_offset must be a whole number, 0 or more');
      const since = params._since;
      if (since !== undefined && Number.isNaN(Date.parse(since))) throw invalid('_since must be an instant such as 2024-01-01T00:00:00Z');
      if (type !== undefined && id !== undefined) await store.assertVisible(type, id);
      const { entries, total } = await store.history({ type, id, since, count, offset });
      if (id !== undefined && total === 0 && !(await store.exists(type as string, id))) throw FhirError.of(404, 'not-found', `${type ?? ''}/${id} is not known`);
      const path = `${type ? `/${type}` : ''}${id ? `/${id}` : ''}/_history`;
      const query = Object.fromEntries(target.query.filter(([k]) => k !== '_count' && k !== '_offset'));
      return answer(historyBundle(base, path, entries, total, count, offset, query));
    }
    const { request, issues } = parseSearchRequest(type, target.query, { strict: false });
    if (issues.some((i) => i.severity === 'error' || i.severity === 'fatal')) throw new FhirError(400, issues);
    return answer(await searchResources(store.db, type, request, { baseUrl: base, rowFilter: store.access?.rowFilter, touched: store.touched }));
  }

  private written(status: number, resource: FhirResource, message: string): BundleEntry {
    const base = this.options.baseUrl.replace(/\/+$/, '');
    const prefer = this.options.preferReturn ?? 'representation';
    return {
      fullUrl: `${base}/${resource.resourceType}/${resource.id}`,
      ...(prefer === 'representation' ? { resource } : {}),
      response: {
        status: statusLine(status),
        location: `${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`,
        etag: `W/"${resource.meta.versionId}"`,
        lastModified: resource.meta.lastUpdated,
        ...(prefer === 'OperationOutcome' ? { outcome: informational(message) } : {}),
      },
    };
  }

  private outcomeIfAsked(message: string): { outcome?: OperationOutcome } {
    return this.options.preferReturn === 'OperationOutcome' ? { outcome: informational(message) } : {};
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Takes an entry's request.url apart and checks it suits the method. */
function parseTarget(work: Work, base: string): Target {
  const url = work.request.url.trim();
  const trimmedBase = base.replace(/\/+$/, '');
  let rest = url;
  if (rest === trimmedBase || rest.startsWith(`${trimmedBase}/`) || rest.startsWith(`${trimmedBase}?`)) rest = rest.slice(trimmedBase.length);
  else if (/^[a-z][a-z0-9+.-]*:/i.test(rest)) throw invalid(`${url} is not on this server; give a URL relative to the base (${trimmedBase}), e.g. Patient/123`);
  rest = rest.replace(/^\/+/, '');
  const q = rest.indexOf('?');
  const path = (q >= 0 ? rest.slice(0, q) : rest).replace(/\/+$/, '');
  const query = q >= 0 ? queryPairs(rest.slice(q + 1)) : [];
  let segments: string[];
  try {
    segments = path === '' ? [] : path.split('/').map(decodeURIComponent);
  } catch {
    throw invalid(`${url} is not a well-formed URL`);
  }
  const [first, second, third, fourth] = segments;
  let target: Target;
  if (segments.length === 0) target = { type: undefined, id: undefined, history: false, version: undefined, query };
  else if (first === '_history' && segments.length === 1) target = { type: undefined, id: undefined, history: true, version: undefined, query };
  else {
    const type = first as string;
    if (!isResourceType(type)) throw FhirError.of(400, 'not-supported', `${type} is not a FHIR R4 resource type`);
    if (segments.length === 1) target = { type, id: undefined, history: false, version: undefined, query };
    else if (second === '_history' && segments.length === 2) target = { type, id: undefined, history: true, version: undefined, query };
    else if (segments.length <= 4 && (segments.length === 2 || third === '_history')) {
      const id = second as string;
      if (!isValidId(id)) throw invalid(`"${id}" is not a valid FHIR id (1 to 64 letters, digits, '-' and '.')`);
      target = { type, id, history: segments.length >= 3, version: fourth, query };
      if (segments.length === 3) target.version = undefined;
    } else {
      throw invalid(`${path} is not a URL this server understands in a Bundle (Type, Type/id, Type/id/_history/vid, or a search)`);
    }
  }
  const isInstance = target.type !== undefined && target.id !== undefined && !target.history;
  const isConditional = target.type !== undefined && target.id === undefined && !target.history && query.length > 0;
  switch (work.method) {
    case 'GET':
    case 'HEAD':
      return target;
    case 'POST':
      if (target.type === undefined || target.id !== undefined || target.history || query.length > 0) {
        throw invalid(`A POST entry's url is the resource type (e.g. Patient), not ${url}; for a conditional create use request.ifNoneExist`);
      }
      if (work.resource?.resourceType !== target.type) {
        throw FhirError.of(400, 'invalid', `The resource is a ${text(work.resource?.resourceType ?? null)} but the url is for ${target.type}`, `Bundle.entry[${work.index}].resource.resourceType`);
      }
      return target;
    case 'PUT':
    case 'PATCH':
    case 'DELETE':
      if (!isInstance && !isConditional) throw invalid(`A ${work.method} entry's url is Type/id or Type?criteria, not ${url}`);
      if (work.method === 'PUT' && work.resource?.resourceType !== target.type) {
        throw FhirError.of(400, 'invalid', `The resource is a ${text(work.resource?.resourceType ?? null)} but the url is for ${target.type ?? ''}`, `Bundle.entry[${work.index}].resource.resourceType`);
      }
      return target;
  }
}

function queryPairs(query: string): Array<[string, string]> {
  return [...new URLSearchParams(query.startsWith('?') ? query.slice(1) : query)];
}

/** A PATCH entry's JSON Patch: a Binary of application/json-patch+json, as R4 carries it in Bundles. */
function patchOperations(work: Work): unknown {
  const resource = work.resource as Record<string, unknown>;
  if (resource.resourceType === 'Binary') {
    const contentType = typeof resource.contentType === 'string' ? resource.contentType : '';
    if (!contentType.startsWith('application/json-patch+json')) {
      throw FhirError.of(415, 'not-supported', `A PATCH entry's Binary must be application/json-patch+json, not ${contentType || 'untyped'}`, 'Binary.contentType');
    }
    if (work.operations !== undefined) return work.operations;
    let operations: unknown;
    try {
      operations = JSON.parse(Buffer.from(typeof resource.data === 'string' ? resource.data : '', 'base64').toString('utf8'));
    } catch {
      throw invalid('The Binary data is not base64 of a JSON Patch document', 'Binary.data');
    }
    work.operations = operations;
    return operations;
  }
  if (resource.resourceType === 'Parameters') throw FhirError.of(415, 'not-supported', 'FHIRPath Patch (Parameters) is not supported; send a JSON Patch as a Binary of application/json-patch+json');
  throw invalid('A PATCH entry carries its JSON Patch as a Binary of application/json-patch+json', 'resourceType');
}

/** Gives the replacement for a reference (undefined: keep it); `path` names where it is, for errors. */
type Rewrite = (reference: string, path: () => string, narrative: boolean) => string | undefined;

/**
 * Rewrites every `reference` string at any depth (contained resources included) and every href
 * and src in narrative `div`s. Copy on write: what changes is copied along with its ancestors,
 * everything else is shared, so the caller's Bundle is untouched and an unchanged resource costs
 * only the walk.
 */
function rewriteReferences<T>(node: T, path: string[], rewrite: Rewrite): T {
  const at = (): string => path.join('').replace(/^\./, '');
  if (Array.isArray(node)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < node.length; i++) {
      const value: unknown = node[i];
      if (typeof value !== 'object' || value === null) continue;
      path.push(`[${i}]`);
      const next = rewriteReferences(value, path, rewrite);
      path.pop();
      if (next !== value) (copy ??= node.slice())[i] = next;
    }
    return (copy ?? node) as T;
  }
  if (typeof node !== 'object' || node === null) return node;
  const object = node as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in object) {
    const value = object[key];
    let next: unknown = value;
    if (typeof value === 'string') {
      if (key === 'reference') {
        path.push('.reference');
        next = rewrite(value, at, false) ?? value;
        path.pop();
      } else if (key === 'div' && (value.includes('href="') || value.includes('src="'))) {
        path.push('.div');
        next = value.replace(/\b(href|src)="([^"]*)"/g, (whole, attribute: string, url: string) => {
          const replaced = rewrite(url, at, true);
          return replaced === undefined ? whole : `${attribute}="${replaced}"`;
        });
        path.pop();
      }
    } else if (typeof value === 'object' && value !== null) {
      path.push(`.${key}`);
      next = rewriteReferences(value, path, rewrite);
      path.pop();
    }
    if (next !== value) (copy ??= { ...object })[key] = next;
  }
  return (copy ?? node) as T;
}

/** `Patient/1` in a resource whose fullUrl is `https://x/fhir/Observation/2` means `https://x/fhir/Patient/1`. */
function absoluteAgainst(reference: string, fullUrl: string | undefined): string | undefined {
  if (!fullUrl?.startsWith('http') || !/^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(reference)) return undefined;
  const match = /^(https?:\/\/.+)\/[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.exec(fullUrl);
  return match ? `${match[1] as string}/${reference}` : undefined;
}

/** `Observation.subject.reference` in entry 3 → `Bundle.entry[3].resource.subject.reference`. */
function resourcePath(work: Work, expression: string | undefined): string {
  const at = `Bundle.entry[${work.index}].resource`;
  if (!expression) return at;
  if (work.method === 'PATCH') return `${at}.data`;
  const type = text(work.resource?.resourceType ?? '');
  if (expression === type) return at;
  if (expression.startsWith(`${type}.`)) return `${at}.${expression.slice(type.length + 1)}`;
  return `${at}.${expression}`;
}

/** Points each issue of an entry's failure at the entry: its resource's element, or the part of its request. */
function anchor(work: Work, error: FhirError, part: string | undefined): FhirError {
  const at = `Bundle.entry[${work.index}]`;
  const issues = error.issues.map((issue): Issue => {
    if (issue.expression?.startsWith('Bundle.')) return issue;
    if (error.status === 412 && work.request.ifMatch && !issue.expression) return { ...issue, expression: `${at}.request.ifMatch` };
    // Undefined part: the resource's element when the issue names one, otherwise the request.
    if (part === undefined) return { ...issue, expression: issue.expression && work.resource ? resourcePath(work, issue.expression) : `${at}.request.url` };
    if (part === 'resource') return { ...issue, expression: resourcePath(work, issue.expression) };
    return { ...issue, expression: `${at}.${part}` };
  });
  return new FhirError(error.status, issues);
}

/** A value from the client's JSON as text for a message: strings as they are, anything else as JSON. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? ''}`.trim();
}

function responseBundle(type: 'batch-response' | 'transaction-response', works: readonly Work[], options: BundleOptions): Bundle {
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    type,
    meta: { lastUpdated: new Date().toISOString() },
    link: [{ relation: 'self', url: options.baseUrl.replace(/\/+$/, '') }],
    entry: works.map((w) => w.response ?? { response: { status: statusLine(500) } }),
  };
}
