/**
 * $validate (https://hl7.org/fhir/R4/resource-operation-validate.html): checks a resource exactly
 * as a create or update would, without writing it, and answers 200 with an OperationOutcome of
 * what is wrong (or one information issue saying it is valid). A 4xx means the check itself
 * could not be done: an unknown type, no resource, a mode or profile we do not serve.
 *
 *   POST [base]/[type]/$validate        body: the resource, or Parameters { resource, mode }
 *   POST [base]/[type]/[id]/$validate   the same, against that instance (mode update or delete)
 */
import type { Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import type { FastifyRequest } from 'fastify';
import { isResourceType } from './definitions.js';
import { type FhirRouteRegistrar, sendOutcome } from './http.js';
import { FhirError, type Issue, invalid } from './outcome.js';
import { type FhirStore, isValidId } from './store.js';

type Mode = 'create' | 'update' | 'delete';

interface ValidateRequest {
  resource: Resource | undefined;
  mode: Mode | undefined;
  profile: string | undefined;
}

const VALID: Issue = { severity: 'information', code: 'informational', diagnostics: 'The resource is valid: no issues found' };

function parameterValue(p: ParametersParameter): string | undefined {
  return p.valueCode ?? p.valueString ?? p.valueUri ?? p.valueCanonical;
}

/** The body is the resource itself, or a Parameters resource carrying it (`resource`, `mode`, `profile`). */
function readRequest(type: string, body: unknown, query: Record<string, unknown>): ValidateRequest {
  let resource: Resource | undefined;
  let mode: string | undefined = typeof query.mode === 'string' ? query.mode : undefined;
  let profile: string | undefined = typeof query.profile === 'string' ? query.profile : undefined;
  if (body !== undefined && body !== null) {
    if (typeof body !== 'object' || Array.isArray(body)) throw invalid('The body must be a FHIR resource, or a Parameters resource with a resource parameter');
    const parameters = (body as Parameters).resourceType === 'Parameters' ? (body as Parameters).parameter ?? [] : undefined;
    // A Parameters body for any type but Parameters is the operation's wrapper; for Parameters it is
    // the wrapper only if it has a resource parameter.
    if (parameters && (type !== 'Parameters' || parameters.some((p) => p.name === 'resource' && p.resource))) {
      for (const p of parameters) {
        if (p.name === 'resource') resource = p.resource;
        else if (p.name === 'mode') mode = parameterValue(p);
        else if (p.name === 'profile') profile = parameterValue(p);
        else throw invalid(`$validate has no parameter ${String(p.name)}; it takes resource, mode and profile`, `Parameters.parameter.where(name='${String(p.name)}')`);
      }
    } else {
      resource = body as Resource;
    }
  }
  if (mode !== undefined && mode !== 'create' && mode !== 'update' && mode !== 'delete') throw invalid(`mode must be create, update or delete, not '${mode}'`, 'mode');
  return { resource, mode, profile };
}

/** The issues with the request, as a create, update or delete would raise them. */
async function validate(store: FhirStore, type: string, id: string | undefined, request: ValidateRequest): Promise<Issue[]> {
  if (request.mode === 'delete') {
    if (id === undefined) throw invalid('mode delete needs the instance: POST [base]/[type]/[id]/$validate', 'mode');
    // Deleting never breaks a rule here (references are not checked on delete); only a resource that is there can be deleted.
    // A resource the caller may not see answers exactly as one that does not exist (exists() is filtered).
    if (!(await store.exists(type, id))) return [{ severity: 'error', code: 'not-found', diagnostics: `${type}/${id} is not known or is already deleted` }];
    return [VALID];
  }
  const resource = request.resource;
  if (resource === undefined) throw invalid('$validate needs the resource to check: the body itself, or the resource parameter of a Parameters body');
  const issues: Issue[] = [];
  const rawId = (resource as { id?: unknown }).id;
  const resourceId = rawId === undefined ? undefined : typeof rawId === 'string' ? rawId : JSON.stringify(rawId);
  if (id !== undefined && resourceId !== undefined && resourceId !== id) {
    issues.push({ severity: 'error', code: 'invalid', diagnostics: `The resource's id "${resourceId}" does not match the id in the URL "${id}"`, expression: `${type}.id` });
  }
  if (request.mode === 'update') {
    // R4 http.html#update: the body SHALL carry the id, and it must be the one in the URL.
    if (resourceId === undefined) issues.push({ severity: 'error', code: 'required', diagnostics: 'An update needs the resource id in the body', expression: `${type}.id` });
    else if (!isValidId(resourceId)) issues.push({ severity: 'error', code: 'invalid', diagnostics: `"${resourceId}" is not a valid FHIR id (1 to 64 letters, digits, '-' and '.')`, expression: `${type}.id` });
  }
  try {
    issues.push(...store.check(resource, type));
  } catch (error) {
    // 400 (not well-formed) and 422 (breaks a rule) are both findings of the check.
    if (!(error instanceof FhirError) || error.status >= 500) throw error;
    issues.push(...error.issues);
  }
  return issues.length > 0 ? issues : [VALID];
}

export const registerValidateRoutes: FhirRouteRegistrar = (routes) => {
  const handle = async (fastifyRequest: FastifyRequest, type: string, id: string | undefined, body: unknown, query: unknown): Promise<Issue[]> => {
    if (!isResourceType(type)) throw FhirError.of(404, 'not-supported', `${type} is not a FHIR R4 resource type`);
    const access = await routes.begin(fastifyRequest, 'validate', type, `${type}${id !== undefined ? `/${id}` : ''}/$validate`);
    if (id !== undefined && !isValidId(id)) throw invalid(`"${id}" is not a valid FHIR id (1 to 64 letters, digits, '-' and '.')`, 'id');
    const request = readRequest(type, body, (query ?? {}) as Record<string, unknown>);
    if (request.profile !== undefined) {
      throw FhirError.of(400, 'not-supported', `Validation against profile ${request.profile} is not supported; leave profile out to validate against base R4`, 'profile');
    }
    const issues = await validate(access.store, type, id, request);
    await access.done();
    return issues;
  };
  const hide = { schema: { hide: true } };
  routes.app.post<{ Params: { type: string } }>('/:type/$validate', hide, async (request, reply) =>
    sendOutcome(request, reply, 200, await handle(request, request.params.type, undefined, request.body, request.query)),
  );
  routes.app.post<{ Params: { type: string; id: string } }>('/:type/:id/$validate', hide, async (request, reply) =>
    sendOutcome(request, reply, 200, await handle(request, request.params.type, request.params.id, request.body, request.query)),
  );
};
