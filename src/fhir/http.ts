/**
 * The FHIR R4 RESTful API at /fhir (https://hl7.org/fhir/R4/http.html): content negotiation,
 * versioning headers, Prefer, conditional interactions, and every error as an OperationOutcome.
 *
 * It is a Fastify plugin of its own, so its body parsers, error handler and not-found answer
 * apply only under /fhir; the rest of OpenICS keeps its JSON error shape. Operations ($everything,
 * $export, bundles...) live in their own files and register their routes through `FhirRoutes`.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app.js';
import { type Queryable, isRetryableConflict } from '../core/db/database.js';
import { RETRY_AFTER_SECONDS } from '../core/http/errors.js';
import {
  type FhirAccessEvent,
  type FhirAccessPolicy,
  type FhirAccessResolver,
  type FhirAccessRestorer,
  type FhirInteraction,
  FhirAccessDenied,
  UNRESTRICTED_ACCESS,
  searchWhat,
} from './access.js';
import { isResourceType } from './definitions.js';
import { FhirError, type Issue, informational, invalid, operationOutcome } from './outcome.js';
import { findMatching } from './search/execute.js';
import { parseSearchRequest } from './search/parse.js';
import { searchResources } from './search/execute.js';
import { type FhirResource, FhirStore, type FhirWriteHook, type HistoryEntry, type WrittenVersion } from './store.js';

export const FHIR_JSON = 'application/fhir+json';

/** Largest request body: a transaction Bundle of a few thousand resources. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * One request's access: the caller's policy, a store acting for it, and what it touched. Handlers
 * get it from `FhirRoutes.begin`, which has already checked the interaction is allowed; `done`
 * records the access in the audit trail and must be awaited before the answer is sent.
 */
export interface FhirRequestAccess {
  readonly policy: FhirAccessPolicy;
  /** A store whose reads are filtered and writes checked by the policy; it notes what it touches. */
  readonly store: FhirStore;
  /** Patient keys of the rows returned or written (the store adds its own; searches add theirs). */
  readonly touched: Set<number>;
  /** Records the access as a success (with the patients touched). */
  done(extra?: Pick<FhirAccessEvent, 'patientIds' | 'detail'>): Promise<void>;
  /** Records one more access of the same request (e.g. a refused Bundle entry). */
  record(event: FhirAccessEvent): Promise<void>;
  /** The partner feed this write request is a message of, when the caller is a feed (see FhirFeedHook). */
  readonly feed?: FhirFeedSession | undefined;
}

/**
 * One write request (a message) of a partner feed, as the feed hook sees it. The FHIR module
 * calls it; what it records (provenance, the dead-letter queue) is the hook's business.
 */
export interface FhirFeedSession {
  /** The resource as it is to be stored (e.g. with meta.source set), before it is checked. */
  prepare(resource: Resource): Resource;
  /** Versions written for the message, in their transaction; between `hold` and `release` only noted. */
  written(q: Queryable, versions: readonly WrittenVersion[]): Promise<void>;
  /** Notes writes until `release` (a transaction Bundle: one record for the whole message). */
  hold(): void;
  /** Records what was noted since `hold`, in `q` (the transaction, before it commits). */
  release(q: Queryable): Promise<void>;
  /**
   * The message (or the part of it in `body`: a batch's failed entries, an import's failed lines)
   * was refused with this status and outcome; nothing of it was written.
   */
  rejected(status: number, outcome: Resource, body?: string): Promise<void>;
}

/**
 * Called at the start of every write request (create, update, patch, delete, batch, transaction,
 * import, and a body that did not parse): the session of a partner feed's message, or undefined
 * when the caller is not a feed (an interactive user, OpenICS itself).
 */
export type FhirFeedHook = (request: FastifyRequest, message: { interaction: FhirInteraction | 'unparsed'; body: string | undefined }) => FhirFeedSession | undefined;

/** What operation files get when they register routes under /fhir. */
export interface FhirRoutes {
  app: FastifyInstance;
  context: AppContext;
  /** A store acting for OpenICS itself (no access policy), with the write hook. */
  store(): FhirStore;
  /** Resolves the caller's policy, refuses the interaction if it is not allowed (recorded), and notes it for the audit trail. */
  begin: (request: FastifyRequest, interaction: FhirInteraction, type: string | undefined, what: string) => Promise<FhirRequestAccess>;
  /** The policy a background job runs under, rebuilt from what `policy.persist()` gave when it was asked for. */
  restoreAccess: (state: unknown) => Promise<FhirAccessPolicy>;
}

export type FhirRouteRegistrar = (routes: FhirRoutes) => void | Promise<void>;

export interface FhirOptions {
  validator?: ConstructorParameters<typeof FhirStore>[1] extends infer O ? (O extends { validator?: infer V } ? V : never) : never;
  operations?: readonly FhirRouteRegistrar[];
  /** The caller's access policy for each request (src/fhir/access.ts). Absent: everything is allowed. */
  accessFor?: FhirAccessResolver<FastifyRequest> | undefined;
  /** Rebuilds a policy for a background job from `persist()`; needed when `accessFor` gives restricted policies. */
  restoreAccess?: FhirAccessRestorer | undefined;
  /** Told of every version written, in the same transaction (the access module keeps its tables with it). */
  onWrite?: FhirWriteHook | undefined;
  /** Partner feeds: provenance and the dead-letter queue of each write request a feed sends. */
  feed?: FhirFeedHook | undefined;
}

const WRITES = new Set<FhirInteraction>(['create', 'update', 'patch', 'delete', 'batch', 'transaction', 'import']);

/** The request body as sent, when it did not parse (kept for the dead-letter queue). */
const unparsedBodies = new WeakMap<FastifyRequest, string>();

/** A request's body as text: NDJSON as sent, JSON re-serialised. */
function bodyText(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** The access state of requests under /fhir, set by `begin`. */
const requestAccess = new WeakMap<FastifyRequest, { access: FhirRequestAccess; interaction: FhirInteraction; what: string }>();

/** The server's base URL as the client addressed it, e.g. http://localhost:3000/fhir. */
export function baseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}/fhir`;
}

/**
 * Sends a FHIR resource (or Bundle, OperationOutcome) with _pretty and the FHIR content type.
 * Every resource in it passes through the caller's policy's `transform`, if it has one.
 */
export function sendResource(request: FastifyRequest, reply: FastifyReply, status: number, body: unknown): FastifyReply {
  const transform = requestAccess.get(request)?.access.policy.transform;
  if (transform && status < 300) body = transformBody(body as Resource, transform);
  const query = request.query as Record<string, unknown>;
  const pretty = query._pretty === 'true';
  const asPlainJson = query._format === 'json' || query._format === 'application/json' || /^application\/json\b/.test(request.headers.accept ?? '');
  return reply
    .status(status)
    .type(`${asPlainJson ? 'application/json' : FHIR_JSON}; charset=utf-8`)
    .send(JSON.stringify(body, null, pretty ? 2 : undefined));
}

export function sendOutcome(request: FastifyRequest, reply: FastifyReply, status: number, issues: readonly Issue[]): FastifyReply {
  return sendResource(request, reply, status, operationOutcome(issues));
}

function versionHeaders(reply: FastifyReply, resource: FhirResource): void {
  void reply.header('etag', `W/"${resource.meta.versionId}"`);
  void reply.header('last-modified', new Date(resource.meta.lastUpdated).toUTCString());
}

/** Answers a write as `Prefer: return=` asks: the resource (default), nothing, or an OperationOutcome. */
export function sendWritten(request: FastifyRequest, reply: FastifyReply, status: number, resource: FhirResource, message: string): FastifyReply {
  versionHeaders(reply, resource);
  if (status === 201) void reply.header('location', `${baseUrl(request)}/${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`);
  const prefer = preference(request, 'return');
  if (prefer === 'minimal') return reply.status(status).send();
  if (prefer === 'OperationOutcome') return sendResource(request, reply, status, informational(message));
  return sendResource(request, reply, status, resource);
}

/** One token of the Prefer header, e.g. preference(request, 'return') → 'minimal'. */
export function preference(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.prefer;
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  for (const part of text.split(/[,;]/)) {
    const [key, value] = part.split('=').map((s) => s.trim());
    if (key === name && value) return value.replaceAll('"', '');
  }
  return undefined;
}

/** A resource through `transform`; a Bundle's entries (and Bundles in them) one by one. */
function transformBody(body: Resource, transform: (resource: Resource) => Resource): Resource {
  if (typeof body !== 'object' || body === null) return body;
  if (body.resourceType === 'OperationOutcome') return body;
  if (body.resourceType !== 'Bundle') return transform(body);
  return { ...body, entry: body.entry?.map((e) => (e.resource ? { ...e, resource: transformBody(e.resource, transform) } : e)) } as Resource;
}

function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw FhirError.of(400, 'structure', `The request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The FhirError a failure is answered with, or undefined for our own fault (a 500 that reveals nothing). */
export function toFhirError(error: unknown): FhirError | undefined {
  if (error instanceof FhirError) return error;
  // Rolled back because another write was changing the same rows (a deadlock, a serialisation
  // failure): nothing was saved, and sending the same request again is safe.
  if (isRetryableConflict(error)) return FhirError.of(503, 'transient', 'Another write to the same records was in progress, so this one was rolled back and nothing was saved. Send the request again.');
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = (error as { code?: string }).code;
    if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return FhirError.of(413, 'too-costly', `The request body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MB; split it into smaller Bundles or use $import`);
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return FhirError.of(415, 'not-supported', 'Send FHIR resources as application/fhir+json (XML is not supported)');
    return FhirError.of(status, 'invalid', (error as Error).message);
  }
  return undefined;
}

/** A FHIR history Bundle (instance, type or system level) with paging links. */
export function historyBundle(base: string, selfPath: string, entries: HistoryEntry[], total: number, count: number, offset: number, query: Record<string, string>): Resource {
  const link = (o: number): string => {
    const params = new URLSearchParams({ ...query, _count: String(count), _offset: String(o) });
    return `${base}${selfPath}?${params.toString()}`;
  };
  const links = [{ relation: 'self', url: link(offset) }];
  if (count > 0 && offset + count < total) links.push({ relation: 'next', url: link(offset + count) });
  if (offset > 0) links.push({ relation: 'previous', url: link(Math.max(0, offset - count)) });
  return {
    resourceType: 'Bundle',
    type: 'history',
    total,
    link: links,
    entry: entries.map((e) => ({
      fullUrl: `${base}/${e.resourceType}/${e.id}`,
      ...(e.resource ? { resource: e.resource } : {}),
      request: { method: e.method === 'PATCH' ? 'PATCH' : e.method, url: e.method === 'POST' ? e.resourceType : `${e.resourceType}/${e.id}` },
      response: { status: e.method === 'DELETE' ? '204' : e.method === 'POST' ? '201' : '200', etag: `W/"${e.versionId}"`, lastModified: e.lastUpdated },
    })),
  };
}

function pageParams(query: Record<string, unknown>): { count: number; offset: number; since: string | undefined } {
  const count = query._count === undefined ? 50 : Number(query._count);
  const offset = query._offset === undefined ? 0 : Number(query._offset);
  if (!Number.isInteger(count) || count < 0 || count > 1000) throw invalid('_count must be a whole number from 0 to 1000', '_count');
  if (!Number.isInteger(offset) || offset < 0) throw invalid('_offset must be a whole number, 0 or more', '_offset');
  if (query._at !== undefined) throw FhirError.of(400, 'not-supported', '_at is not supported on history; use _since (versions changed since an instant)', '_at');
  const since = typeof query._since === 'string' ? query._since : undefined;
  if (since !== undefined && Number.isNaN(Date.parse(since))) throw invalid('_since must be an instant such as 2024-01-01T00:00:00Z', '_since');
  return { count, offset, since };
}

function stringQuery(query: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) if (typeof v === 'string' && k !== '_offset' && k !== '_count') out[k] = v;
  return out;
}

type Params = { type: string; id: string; vid: string };

export async function registerFhirApi(app: FastifyInstance, context: AppContext, options: FhirOptions = {}): Promise<void> {
  await app.register(
    async (fhir) => {
      const storeOptions = { ...(options.validator ? { validator: options.validator } : {}), onWrite: options.onWrite };
      const store = (): FhirStore => new FhirStore(context.db, storeOptions);

      /** The caller's policy; a resolver that fails answers 500 (never a guess at what to allow). */
      const policyFor = async (request: FastifyRequest): Promise<FhirAccessPolicy> => (options.accessFor ? options.accessFor(request) : UNRESTRICTED_ACCESS);

      const begin = async (request: FastifyRequest, interaction: FhirInteraction, type: string | undefined, what: string): Promise<FhirRequestAccess> => {
        const policy = await policyFor(request);
        const touched = new Set<number>();
        const record = (event: FhirAccessEvent): Promise<void> => policy.record(event);
        const feed = options.feed && WRITES.has(interaction) ? options.feed(request, { interaction, body: undefined }) : undefined;
        const onWrite: FhirWriteHook | undefined = feed
          ? async (q, written) => {
              await options.onWrite?.(q, written);
              await feed.written(q, written);
            }
          : options.onWrite;
        const access: FhirRequestAccess = {
          policy,
          touched,
          store: new FhirStore(context.db, { ...storeOptions, onWrite, access: policy, touched }),
          done: (extra = {}) => record({ interaction, outcome: 'success', what, patientKeys: [...touched], ...extra }),
          record,
          feed,
        };
        requestAccess.set(request, { access, interaction, what });
        try {
          policy.allowInteraction(interaction, type);
        } catch (error) {
          if (error instanceof FhirError && !(error instanceof FhirAccessDenied)) throw new FhirAccessDenied(error.status, error.issues);
          throw error;
        }
        return access;
      };

      const restoreAccess = async (state: unknown): Promise<FhirAccessPolicy> => {
        if (state === null || state === undefined) return UNRESTRICTED_ACCESS;
        // A job asked for under a restricted policy never runs unrestricted.
        if (!options.restoreAccess) throw FhirError.of(500, 'exception', 'This server cannot restore the access policy the job was started under');
        return options.restoreAccess(state);
      };

      fhir.removeAllContentTypeParsers();
      fhir.addContentTypeParser(['application/fhir+json', 'application/json', 'application/json-patch+json', 'application/ndjson', 'application/fhir+ndjson'], { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (request, body, done) => {
        if ((request.headers['content-type'] ?? '').includes('ndjson')) {
          done(null, body);
          return;
        }
        if ((body as string).trim() === '') {
          // An empty body is fine for GET and DELETE; requireBody names it where one is needed.
          done(null, undefined);
          return;
        }
        try {
          done(null, parseJsonBody(body as string));
        } catch (error) {
          unparsedBodies.set(request, body as string);
          done(error as Error, undefined);
        }
      });
      // POST _search: kept as text, so repeated parameters (AND) survive.
      fhir.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1_048_576 }, (_request, body, done) => {
        done(null, body);
      });
      fhir.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 }, (request, _body, done) => {
        done(FhirError.of(415, 'not-supported', `Content-Type ${request.headers['content-type'] ?? '(none)'} is not supported; send application/fhir+json`), undefined);
      });

      fhir.addHook('onRequest', async (request, reply) => {
        const query = request.query as Record<string, unknown>;
        const format = typeof query._format === 'string' ? query._format : undefined;
        const accept = request.headers.accept ?? '';
        const wantsXml = (format !== undefined && /xml/.test(format)) || (/xml/.test(accept) && !/json|\*\/\*/.test(accept));
        if (wantsXml) return sendOutcome(request, reply, 406, [{ severity: 'error', code: 'not-supported', diagnostics: 'Only JSON is supported (application/fhir+json); XML is not' }]);
        if (!context.ready) return sendOutcome(request, reply, 503, [{ severity: 'error', code: 'transient', diagnostics: 'OpenICS is starting; try again in a few seconds' }]);
        return undefined;
      });

      fhir.setErrorHandler(async (error, request, reply) => {
        const fhirError = toFhirError(error);
        if (fhirError instanceof FhirAccessDenied) {
          // Every refusal is in the audit trail; if it cannot be recorded, the answer is an error, not the refusal.
          const state = requestAccess.get(request);
          if (state) {
            try {
              await state.access.record({
                interaction: state.interaction,
                outcome: 'refused',
                what: state.what,
                patientKeys: fhirError.patientKeys,
                detail: fhirError.issues.map((i) => i.diagnostics).join('; '),
              });
            } catch (recordError) {
              request.log.error({ err: recordError }, 'FHIR refusal could not be recorded');
              return sendOutcome(request, reply, 500, [{ severity: 'fatal', code: 'exception', diagnostics: 'Something went wrong on our side. It has been logged.' }]);
            }
          }
        }
        // A transient failure is the sender's to retry, not a message to correct: it is not kept as a dead letter.
        if (fhirError && fhirError.status !== 401 && fhirError.status !== 503 && options.feed) {
          // A feed's refused message is kept for an operator to fix and replay (never logged: it is patient data).
          const state = requestAccess.get(request);
          const unparsed = unparsedBodies.get(request);
          const feed = state?.access.feed ?? (unparsed !== undefined && request.method !== 'GET' ? options.feed(request, { interaction: 'unparsed', body: unparsed }) : undefined);
          try {
            if (feed) await feed.rejected(fhirError.status, operationOutcome(fhirError.issues), unparsed ?? bodyText(request.body));
          } catch (keepError) {
            // The sender still gets its precise answer; the queue's failure is ours to see (never the body).
            request.log.error({ err: keepError }, 'a refused feed message could not be kept in the dead-letter queue');
          }
        }
        if (fhirError?.status === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
        if (fhirError) return sendOutcome(request, reply, fhirError.status, fhirError.issues);
        request.log.error({ err: error }, 'FHIR request failed');
        return sendOutcome(request, reply, 500, [{ severity: 'fatal', code: 'exception', diagnostics: 'Something went wrong on our side. It has been logged.' }]);
      });
      fhir.setNotFoundHandler((request, reply) =>
        sendOutcome(request, reply, 404, [{ severity: 'error', code: 'not-supported', diagnostics: `${request.method} ${request.url.split('?')[0]} is not a FHIR interaction this server supports` }]),
      );

      const hide = { schema: { hide: true } };

      // History at system, type and instance level.
      fhir.get('/_history', hide, async (request, reply) => {
        const access = await begin(request, 'history-system', undefined, '_history');
        const { count, offset, since } = pageParams(request.query as Record<string, unknown>);
        const { entries, total } = await access.store.history({ since, count, offset });
        await access.done();
        return sendResource(request, reply, 200, historyBundle(baseUrl(request), '/_history', entries, total, count, offset, stringQuery(request.query)));
      });
      fhir.get<{ Params: Params }>('/:type/_history', hide, async (request, reply) => {
        const { type } = request.params;
        const access = await begin(request, 'history-type', type, `${type}/_history`);
        const { count, offset, since } = pageParams(request.query as Record<string, unknown>);
        const { entries, total } = await access.store.history({ type, since, count, offset });
        await access.done();
        return sendResource(request, reply, 200, historyBundle(baseUrl(request), `/${type}/_history`, entries, total, count, offset, stringQuery(request.query)));
      });
      fhir.get<{ Params: Params }>('/:type/:id/_history', hide, async (request, reply) => {
        const { type, id } = request.params;
        const access = await begin(request, 'history-instance', type, `${type}/${id}/_history`);
        const { count, offset, since } = pageParams(request.query as Record<string, unknown>);
        await access.store.assertVisible(type, id);
        const { entries, total } = await access.store.history({ type, id, since, count, offset });
        if (total === 0 && !(await access.store.exists(type, id))) throw FhirError.of(404, 'not-found', `${type}/${id} is not known`);
        await access.done();
        return sendResource(request, reply, 200, historyBundle(baseUrl(request), `/${type}/${id}/_history`, entries, total, count, offset, stringQuery(request.query)));
      });
      fhir.get<{ Params: Params }>('/:type/:id/_history/:vid', hide, async (request, reply) => {
        const { type, id, vid } = request.params;
        const access = await begin(request, 'vread', type, `${type}/${id}/_history/${vid}`);
        const resource = await access.store.vread(type, id, vid);
        await access.done();
        versionHeaders(reply, resource);
        return sendResource(request, reply, 200, resource);
      });

      // Read, update, patch, delete.
      fhir.get<{ Params: Params }>('/:type/:id', hide, async (request, reply) => {
        const { type, id } = request.params;
        const access = await begin(request, 'read', type, `${type}/${id}`);
        const resource = await access.store.read(type, id);
        await access.done(type === 'Patient' ? { patientIds: [id] } : {});
        const ifNoneMatch = request.headers['if-none-match'];
        if (ifNoneMatch && ifNoneMatch.replace(/^W\//, '').replaceAll('"', '') === resource.meta.versionId) {
          versionHeaders(reply, resource);
          return reply.status(304).send();
        }
        const since = request.headers['if-modified-since'];
        if (since && !Number.isNaN(Date.parse(since)) && Date.parse(resource.meta.lastUpdated) <= Date.parse(since) + 999) {
          versionHeaders(reply, resource);
          return reply.status(304).send();
        }
        versionHeaders(reply, resource);
        return sendResource(request, reply, 200, resource);
      });
      fhir.put<{ Params: Params }>('/:type/:id', hide, async (request, reply) => {
        const { type, id } = request.params;
        const access = await begin(request, 'update', type, `${type}/${id}`);
        const result = await access.store.update(type, id, prepared(access, requireBody(request.body)), { ifMatch: request.headers['if-match'] });
        await access.done();
        return sendWritten(request, reply, result.created ? 201 : 200, result.resource, result.created ? `Created ${type}/${id}` : result.changed ? `Updated ${type}/${id}` : `${type}/${id} was already up to date`);
      });
      fhir.patch<{ Params: Params }>('/:type/:id', hide, async (request, reply) => {
        const { type, id } = request.params;
        const access = await begin(request, 'patch', type, `${type}/${id}`);
        const contentType = request.headers['content-type'] ?? '';
        if (!contentType.startsWith('application/json-patch+json')) {
          throw FhirError.of(415, 'not-supported', 'PATCH takes a JSON Patch document (Content-Type: application/json-patch+json); FHIRPath Patch is not supported');
        }
        const resource = await access.store.patch(type, id, request.body, { ifMatch: request.headers['if-match'] });
        await access.done();
        return sendWritten(request, reply, 200, resource, `Patched ${type}/${id}`);
      });
      fhir.delete<{ Params: Params }>('/:type/:id', hide, async (request, reply) => {
        const { type, id } = request.params;
        const access = await begin(request, 'delete', type, `${type}/${id}`);
        const existed = await access.store.delete(type, id, { ifMatch: request.headers['if-match'] });
        if (!existed) throw FhirError.of(404, 'not-found', `${type}/${id} is not known`);
        await access.done();
        return sendResource(request, reply, 200, informational(`Deleted ${type}/${id}`));
      });

      // Search: GET [base]/[type]?…, POST [base]/[type]/_search, and at system level with _type.
      const search = async (request: FastifyRequest, reply: FastifyReply, type: string | undefined, form: string | undefined): Promise<FastifyReply> => {
        if (type !== undefined && !isResourceType(type)) throw FhirError.of(404, 'not-supported', `${type} is not a FHIR R4 resource type`);
        const params = [...queryParams(request), ...(form ? [...new URLSearchParams(form)] : [])];
        const access = await begin(request, type === undefined ? 'search-system' : 'search-type', type, searchWhat(type, params));
        const strict = preference(request, 'handling') === 'strict';
        const { request: parsed, issues } = parseSearchRequest(type, params, { strict });
        if (strict && issues.length > 0) throw new FhirError(400, issues);
        const bundle = await searchResources(context.db, type, parsed, { baseUrl: baseUrl(request), rowFilter: access.store.access?.rowFilter, touched: access.touched });
        await access.done();
        return sendResource(request, reply, 200, bundle);
      };
      fhir.get('/', hide, async (request, reply) => search(request, reply, undefined, undefined));
      fhir.post('/_search', hide, async (request, reply) => search(request, reply, undefined, formBody(request.body)));
      fhir.get<{ Params: Params }>('/:type', hide, async (request, reply) => search(request, reply, request.params.type, undefined));
      fhir.post<{ Params: Params }>('/:type/_search', hide, async (request, reply) => search(request, reply, request.params.type, formBody(request.body)));

      // Rows the caller may not see never match, so a condition cannot reveal them.
      const conditionalMatches = async (request: FastifyRequest, access: FhirRequestAccess, type: string, query: string): Promise<string[]> =>
        (await findMatching(context.db, type, query, { baseUrl: baseUrl(request), limit: 2, rowFilter: access.store.access?.rowFilter })).map((m) => m.id);
      const conditionalWhat = (type: string, query: string): string => searchWhat(type, [...new URLSearchParams(query)]);

      // Conditional update: PUT [base]/[type]?criteria.
      fhir.put<{ Params: Params }>('/:type', hide, async (request, reply) => {
        const { type } = request.params;
        const criteria = rawQuery(request);
        const access = await begin(request, 'update', type, conditionalWhat(type, criteria));
        if (!criteria) throw FhirError.of(400, 'invalid', `PUT ${type} needs an id in the URL (${type}/[id]) or search criteria (${type}?identifier=…)`);
        const body = prepared(access, requireBody(request.body));
        const matches = await conditionalMatches(request, access, type, criteria);
        if (matches.length > 1) throw FhirError.of(412, 'multiple-matches', `The criteria "${criteria}" match more than one ${type}; make them more selective`);
        const id = matches[0] ?? (typeof body.id === 'string' ? body.id : undefined);
        if (matches[0] && body.id !== undefined && body.id !== matches[0]) {
          throw FhirError.of(400, 'invalid', `The body's id "${String(body.id)}" is not the id of the ${type} the criteria match (${matches[0]})`, `${type}.id`);
        }
        if (id === undefined) {
          const created = await access.store.create(body);
          await access.done();
          return sendWritten(request, reply, 201, created, `Created ${type}/${created.id}`);
        }
        const result = await access.store.update(type, id, { ...body, id }, { ifMatch: request.headers['if-match'] });
        await access.done();
        return sendWritten(request, reply, result.created ? 201 : 200, result.resource, result.created ? `Created ${type}/${id}` : `Updated ${type}/${id}`);
      });

      // Conditional delete (single): DELETE [base]/[type]?criteria.
      fhir.delete<{ Params: Params }>('/:type', hide, async (request, reply) => {
        const { type } = request.params;
        const criteria = rawQuery(request);
        const access = await begin(request, 'delete', type, conditionalWhat(type, criteria));
        if (!criteria) throw FhirError.of(400, 'invalid', `DELETE ${type} needs an id in the URL (${type}/[id]) or search criteria (${type}?identifier=…)`);
        const matches = await conditionalMatches(request, access, type, criteria);
        if (matches.length > 1) throw FhirError.of(412, 'multiple-matches', `The criteria "${criteria}" match more than one ${type}; this server deletes one resource at a time`);
        if (matches.length === 0) throw FhirError.of(404, 'not-found', `No ${type} matches "${criteria}"`);
        await access.store.delete(type, matches[0] as string);
        await access.done();
        return sendResource(request, reply, 200, informational(`Deleted ${type}/${String(matches[0])}`));
      });

      // Create, and conditional create with If-None-Exist.
      fhir.post<{ Params: Params }>('/:type', hide, async (request, reply) => {
        const { type } = request.params;
        if (!isResourceType(type)) throw FhirError.of(404, 'not-supported', `${type} is not a FHIR R4 resource type`);
        const conditional = request.headers['if-none-exist'];
        const access = await begin(request, 'create', type, conditional ? conditionalWhat(type, String(conditional)) : type);
        const body = prepared(access, requireBody(request.body));
        if (body.resourceType !== type) throw FhirError.of(400, 'invalid', `The body is a ${String(body.resourceType)} but the URL is for ${type}`, 'resourceType');
        if (conditional) {
          const matches = await conditionalMatches(request, access, type, String(conditional));
          if (matches.length > 1) throw FhirError.of(412, 'multiple-matches', `If-None-Exist "${String(conditional)}" matches ${matches.length} ${type} resources`);
          if (matches.length === 1) {
            const existing = await access.store.read(type, matches[0] as string);
            await access.done();
            return sendWritten(request, reply, 200, existing, `${type}/${existing.id} already exists and matches If-None-Exist`);
          }
        }
        const created = await access.store.create(body);
        await access.done();
        return sendWritten(request, reply, 201, created, `Created ${type}/${created.id}`);
      });

      const routes: FhirRoutes = { app: fhir, context, store, begin, restoreAccess };
      for (const register of options.operations ?? []) await register(routes);
    },
    { prefix: '/fhir' },
  );
}

/** The query string's parameters in the order sent, repeats kept (AND), without the format ones. */
function queryParams(request: FastifyRequest): Array<[string, string]> {
  return [...new URLSearchParams(rawQuery(request))];
}

function rawQuery(request: FastifyRequest): string {
  const at = request.url.indexOf('?');
  if (at < 0) return '';
  return [...new URLSearchParams(request.url.slice(at + 1))]
    .filter(([name]) => name !== '_format' && name !== '_pretty')
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
}

function formBody(body: unknown): string | undefined {
  return typeof body === 'string' ? body : undefined;
}

/** The body as the caller's feed stores it (meta.source), or as sent. */
function prepared(access: FhirRequestAccess, body: Resource): Resource {
  return access.feed && typeof body === 'object' && !Array.isArray(body) ? access.feed.prepare(body) : body;
}

function requireBody(body: unknown): Resource {
  if (body === undefined || body === null) throw invalid('The request needs a body: a FHIR resource as application/fhir+json');
  return body as Resource;
}
