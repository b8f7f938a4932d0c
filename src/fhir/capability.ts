/**
 * GET /fhir/metadata: the server's CapabilityStatement (https://hl7.org/fhir/R4/capabilitystatement.html),
 * which FHIR clients and test suites read first to learn what they may ask.
 *
 * It is built from the same definitions the server runs on, so it says exactly what is served:
 * every R4 resource type, the interactions http.ts answers, and each type's search parameters
 * minus those search does not serve. It is large (every type, some 3,000 parameters), so it is
 * built once per base URL and kept.
 */
import type { CapabilityStatement, CapabilityStatementRest, CapabilityStatementRestResource, CapabilityStatementRestResourceOperation, CapabilityStatementRestResourceSearchParam } from '@medplum/fhirtypes';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type SearchParamDefinition, resourceTypes, searchParamsOf } from './definitions.js';
import { type FhirRouteRegistrar, FHIR_JSON, baseUrl, sendResource } from './http.js';
import { FhirError } from './outcome.js';

const SOFTWARE = { name: 'OpenICS', version: '0.1.0' };

/** Parameters the specification defines for every resource, searchable at system level too. */
const RESOURCE_PARAM_PREFIX = 'http://hl7.org/fhir/SearchParameter/Resource-';

/**
 * What search serves. search/parse.ts refuses these names (and special parameters, and any
 * parameter with no FHIRPath expression except _id and _lastUpdated, which are columns); it does
 * not export the list, so it is repeated here and must follow it.
 */
const UNSERVED_PARAMS: ReadonlySet<string> = new Set(['_text', '_content', '_query', '_filter', '_list', '_contained', '_containedType', '_graph']);

export function isServedSearchParam(def: SearchParamDefinition): boolean {
  if (UNSERVED_PARAMS.has(def.code) || def.type === 'special') return false;
  return def.expression !== undefined || def.code === '_id' || def.code === '_lastUpdated';
}

const OPERATIONS = {
  everything: { name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' },
  summary: { name: 'summary', definition: 'http://hl7.org/fhir/uv/ips/OperationDefinition/summary', documentation: 'The International Patient Summary (IPS document Bundle) of the Patient and the Patients linked with it' },
  validate: { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' },
  export: { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' },
  patientExport: { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export' },
  groupExport: { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export' },
} satisfies Record<string, CapabilityStatementRestResourceOperation>;

/**
 * Operations another module may register (the shared care record's $summary): listed only when
 * their route is there, so the statement says what this server serves.
 */
const OPTIONAL_OPERATIONS: ReadonlyArray<{ type: string; route: string; operation: CapabilityStatementRestResourceOperation }> = [
  { type: 'Patient', route: '/Patient/:id/$summary', operation: OPERATIONS.summary },
];

function searchParamEntry(def: SearchParamDefinition): CapabilityStatementRestResourceSearchParam {
  return { name: def.code, definition: def.url, type: def.type, ...(def.description ? { documentation: def.description } : {}) };
}

/** For each type, the `Source:param` pairs of reference parameters that may point at it. */
function revIncludes(types: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>(types.map((t) => [t, []]));
  for (const source of types) {
    for (const def of searchParamsOf(source).values()) {
      if (def.type !== 'reference' || !isServedSearchParam(def)) continue;
      const targets = def.targets.length > 0 ? def.targets : types;
      for (const target of targets) out.get(target)?.push(`${source}:${def.code}`);
    }
  }
  return out;
}

function resourceEntry(type: CapabilityStatementRestResource['type'], revinclude: readonly string[], optional: readonly CapabilityStatementRestResourceOperation[]): CapabilityStatementRestResource {
  const params = [...searchParamsOf(type).values()].filter(isServedSearchParam);
  const operations: CapabilityStatementRestResourceOperation[] = [OPERATIONS.validate, ...optional];
  if (type === 'Patient') operations.unshift(OPERATIONS.everything, OPERATIONS.patientExport);
  if (type === 'Group') operations.unshift(OPERATIONS.groupExport);
  return {
    type,
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    interaction: (['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'] as const).map((code) => ({ code })),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalUpdate: true,
    conditionalDelete: 'single',
    searchInclude: ['*', ...params.filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`)],
    searchRevInclude: [...revinclude],
    searchParam: params.map(searchParamEntry),
    operation: operations,
  };
}

/** `served`: the routes of the optional operations (OPTIONAL_OPERATIONS) that are registered. */
export function buildCapabilityStatement(base: string, date = new Date(), served: ReadonlySet<string> = new Set()): CapabilityStatement {
  const types = resourceTypes();
  const reverse = revIncludes(types);
  const systemParams = [...searchParamsOf('Patient').values()].filter((def) => def.url.startsWith(RESOURCE_PARAM_PREFIX) && isServedSearchParam(def));
  const rest: CapabilityStatementRest = {
    mode: 'server',
    documentation: 'FHIR R4 RESTful API of OpenICS. JSON only; JSON Patch for PATCH.',
    resource: types.map((type) =>
      resourceEntry(
        type as CapabilityStatementRestResource['type'],
        reverse.get(type) ?? [],
        OPTIONAL_OPERATIONS.filter((o) => o.type === type && served.has(o.route)).map((o) => o.operation),
      ),
    ),
    interaction: (['transaction', 'batch', 'history-system', 'search-system'] as const).map((code) => ({ code })),
    searchParam: systemParams.map(searchParamEntry),
    operation: [OPERATIONS.export, { name: 'import', definition: `${base}/OperationDefinition/import`, documentation: 'Loads NDJSON files of resources in bulk' }],
  };
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: date.toISOString(),
    publisher: 'OpenICS',
    kind: 'instance',
    software: SOFTWARE,
    implementation: { description: 'OpenICS FHIR R4 server', url: base },
    fhirVersion: '4.0.1',
    format: [FHIR_JSON, 'json'],
    patchFormat: ['application/json-patch+json'],
    rest: [rest],
  };
}

/**
 * Built once per base URL: the same server can be reached by several names. The Host header is
 * the client's to choose, so only the few most recent are kept.
 */
const cache = new Map<string, CapabilityStatement>();
const CACHED_BASES = 8;

function capabilityFor(base: string, served: ReadonlySet<string>): CapabilityStatement {
  // Keyed by what is served too: two apps in one process (tests) may register different operations.
  const key = `${base} ${[...served].join(' ')}`;
  let statement = cache.get(key);
  if (!statement) {
    statement = buildCapabilityStatement(base, new Date(), served);
    if (cache.size >= CACHED_BASES) cache.delete(cache.keys().next().value as string);
    cache.set(key, statement);
  }
  return statement;
}

export const registerCapabilityRoutes: FhirRouteRegistrar = ({ app }) => {
  // Asked at the first request, when every operation has registered its routes.
  let served: ReadonlySet<string> | undefined;
  const servedOperations = (): ReadonlySet<string> =>
    (served ??= new Set(OPTIONAL_OPERATIONS.filter((o) => app.hasRoute({ method: 'GET', url: `${app.prefix}${o.route}` })).map((o) => o.route)));
  app.get('/metadata', { schema: { hide: true } }, async (request: FastifyRequest, reply: FastifyReply) => {
    const mode = (request.query as Record<string, unknown>).mode;
    if (mode === 'terminology') throw FhirError.of(400, 'not-supported', 'This server has no terminology service, so it has no TerminologyCapabilities');
    if (mode !== undefined && mode !== 'full' && mode !== 'normative') throw FhirError.of(400, 'invalid', 'mode must be full, normative or terminology', 'mode');
    return sendResource(request, reply, 200, capabilityFor(baseUrl(request), servedOperations()));
  });
};
