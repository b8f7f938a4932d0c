/**
 * One place maps errors to HTTP answers. Users get a status and the fields to fix; internal
 * errors are logged and answered with a 500 that reveals nothing.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type FieldProblem, UserError } from '../errors.js';
import { isRetryableConflict } from '../db/database.js';

export interface ErrorBody {
  error: string;
  message: string;
  problems: FieldProblem[];
}

/** Turns Ajv's schema errors into the same field/message pairs the domain uses. */
function schemaProblems(error: FastifyError): FieldProblem[] {
  const context = error.validationContext ?? 'body';
  return (error.validation ?? []).map((v) => {
    const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const missing = v.keyword === 'required' ? String((v.params as { missingProperty?: string }).missingProperty ?? '') : '';
    const extra = v.keyword === 'additionalProperties' ? String((v.params as { additionalProperty?: string }).additionalProperty ?? '') : '';
    const field = [path, missing || extra].filter(Boolean).join('.') || context;
    const message =
      v.keyword === 'required' ? 'is required' : v.keyword === 'additionalProperties' ? 'is not a field this operation accepts' : (v.message ?? 'is not valid');
    const allowed = v.keyword === 'enum' ? `: ${((v.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(', ')}` : '';
    return { field: context === 'body' ? field : `${context}.${field}`, message: `${message}${allowed}` };
  });
}

/** The ErrorBody above as a JSON schema, for the OpenAPI document of every module's routes. */
export const errorResponseSchema = {
  type: 'object',
  description: 'What went wrong, with each field to fix',
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    problems: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
  },
} as const;

/** The client errors a route that reads and writes an ICS can answer with. */
export const errorResponses = { 404: errorResponseSchema, 409: errorResponseSchema, 422: errorResponseSchema } as const;

export function toErrorBody(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof UserError) {
    return { status: error.status, body: { error: error.name, message: error.message, problems: error.problems } };
  }
  const fe = error as FastifyError;
  if (fe.validation) {
    const problems = schemaProblems(fe);
    return { status: 422, body: { error: 'ValidationError', message: problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems } };
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Malformed JSON, wrong content type, body too large: the client's mistake, said plainly.
    return { status: fe.statusCode, body: { error: 'BadRequest', message: fe.message, problems: [] } };
  }
  if (isRetryableConflict(error)) {
    return { status: 503, body: { error: 'ConcurrentChange', message: 'Another change to the same records was being made at the same moment, so nothing was saved. Send the request again.', problems: [] } };
  }
  return { status: 500, body: { error: 'InternalError', message: 'Something went wrong on our side. It has been logged.', problems: [] } };
}

/** Seconds a client should wait before sending again a request answered 503. */
export const RETRY_AFTER_SECONDS = 1;

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = toErrorBody(error);
    if (status === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    else if (status >= 500) request.log.error({ err: error }, 'request failed');
    void reply.status(status).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).type('application/json; charset=utf-8').send({ error: 'NotFoundError', message: `${request.method} ${request.url.split('?')[0]} was not found`, problems: [] });
  });
}
