/**
 * The policy's HTTP routes:
 *
 *   POST /api/access/break-glass            { patient, reason } → 201 the grant (direct-care users)
 *   GET  /api/access/break-glass            the caller's unexpired grants
 *   GET  /api/access/relationships?patient= a resident's relationships, objections and opt-outs,
 *                                           and break-glass grants (privacy officers)
 *   GET  /access/break-glass?patient=       the break-glass form (NHS design system)
 *   POST /access/break-glass                the form's submission → the confirmation page
 *
 * The caller is `request.access` (the identity plugin's AccessContext); without the plugin every
 * request is anonymous and these routes refuse (fail closed).
 */
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../app.js';
import { type FieldProblem, NotFoundError, UserError, ValidationError } from '../../core/errors.js';
import { errorResponseSchema } from '../../core/http/errors.js';
import { isValidId } from '../../fhir/store.js';
import { HTML, pageErrorHandler } from '../../web/page-errors.js';
import { createRenderer, formatDateTime } from '../../web/render.js';
import { accessOf, requireRole } from '../audit/guard.js';
import { recordAccess } from '../audit/trail.js';
import { type AccessContext } from '../context.js';
import { DEFAULT_BREAK_GLASS_HOURS, MAX_REASON_LENGTH, MIN_REASON_LENGTH, activeGrants, breakGlass, mayBreakGlass, residentAccessFacts } from './break-glass.js';

const VIEWS = fileURLToPath(new URL('./views', import.meta.url));
const hidden = { schema: { hide: true } } as const;

export interface PolicyRoutesOptions {
  /** How long a break-glass grant lasts, in hours (default 4; OPENICS_BREAK_GLASS_HOURS). */
  breakGlassHours?: number;
}

/** OPENICS_BREAK_GLASS_HOURS, if set to a number of hours from 0.25 to 24; otherwise the default. */
export function breakGlassHoursFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const hours = Number(env.OPENICS_BREAK_GLASS_HOURS);
  return Number.isFinite(hours) && hours >= 0.25 && hours <= 24 ? hours : DEFAULT_BREAK_GLASS_HOURS;
}

function grantJson(g: { id: string; patient: string; reason: string; purpose: string; grantedAt: Date; expiresAt: Date }): Record<string, string> {
  return { id: g.id, patient: g.patient, reason: g.reason, purpose: g.purpose, grantedAt: g.grantedAt.toISOString(), expiresAt: g.expiresAt.toISOString() };
}

const grantSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, patient: { type: 'string' }, reason: { type: 'string' }, purpose: { type: 'string' }, grantedAt: { type: 'string' }, expiresAt: { type: 'string' } },
} as const;

export async function registerPolicyRoutes(app: FastifyInstance, ctx: AppContext, options: PolicyRoutesOptions = {}): Promise<void> {
  const hours = options.breakGlassHours ?? breakGlassHoursFromEnv();

  app.post<{ Body: { patient: string; reason: string } }>(
    '/api/access/break-glass',
    {
      schema: {
        tags: ['access'],
        summary: 'Break glass: emergency access to one resident’s record, for a limited time, with a reason, reviewed by the privacy officer',
        body: {
          type: 'object',
          required: ['patient', 'reason'],
          additionalProperties: false,
          properties: {
            patient: { type: 'string', description: 'The Patient id (or Patient/id)', minLength: 1, maxLength: 72 },
            reason: { type: 'string', description: `Why, in at least ${MIN_REASON_LENGTH} characters`, minLength: MIN_REASON_LENGTH, maxLength: MAX_REASON_LENGTH },
          },
        },
        response: { 201: grantSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 422: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const granted = await breakGlass(ctx.db, accessOf(request), request.body, { hours, network: request.ip });
      return reply.status(201).send(grantJson(granted));
    },
  );

  app.get('/api/access/break-glass', { schema: { tags: ['access'], summary: 'Your unexpired break-glass grants', response: { 200: { type: 'object', properties: { grants: { type: 'array', items: grantSchema } } }, 401: errorResponseSchema } } }, async (request) => {
    const access = accessOf(request);
    if (access.kind === 'anonymous') throw new UserError(401, 'Sign in to see your break-glass access');
    return { grants: (await activeGrants(ctx.db, access)).map(grantJson) };
  });

  app.get<{ Querystring: { patient: string } }>(
    '/api/access/relationships',
    {
      schema: {
        tags: ['access'],
        summary: 'A resident’s legitimate relationships, objections and opt-outs, and break-glass grants (privacy officers)',
        querystring: { type: 'object', required: ['patient'], properties: { patient: { type: 'string', pattern: '^[A-Za-z0-9\\-.]{1,64}$', description: 'The Patient id' } } },
        response: { 401: errorResponseSchema, 403: errorResponseSchema, 422: errorResponseSchema },
      },
    },
    async (request) => {
      const access = accessOf(request);
      if (access.kind !== 'system') requireRole(request, ['privacy_officer']);
      const facts = await residentAccessFacts(ctx.db, request.query.patient);
      // Looking at who may see a resident is itself a look at their record.
      await recordAccess(ctx.db, { context: access, action: 'audit-read', outcome: 'success', patients: [request.query.patient], what: 'relationships', at: new Date(), network: request.ip });
      return facts;
    },
  );

  const render = createRenderer([VIEWS]);
  await app.register(async (scope) => {
    scope.setErrorHandler(pageErrorHandler(render, { notFound: 'policy-not-found.njk', error: 'policy-error.njk' }));
    const send = (reply: FastifyReply, template: string, context: Record<string, unknown>, status = 200): FastifyReply => reply.status(status).type(HTML).send(render(template, context));

    const caller = (request: FastifyRequest): AccessContext => {
      const access = accessOf(request);
      if (access.kind === 'anonymous') throw new UserError(401, 'Sign in to break glass');
      if (!mayBreakGlass(access)) throw new UserError(403, 'Only doctors, nurses, allied health professionals, social workers and care coordinators acting for an organisation may break glass');
      return access;
    };
    const formPage = async (reply: FastifyReply, access: AccessContext, values: Record<string, string>, problems: FieldProblem[] = [], status = 200): Promise<FastifyReply> => {
      const grants = await activeGrants(ctx.db, access);
      const csrf = (reply as unknown as { generateCsrf?: () => string }).generateCsrf?.();
      return send(
        reply,
        'break-glass-form.njk',
        {
          title: 'Break glass',
          crumbs: [{ href: '/', text: 'Home' }],
          hours,
          values,
          csrf,
          errors: problems.map((p) => ({ text: p.message, href: `#${p.field}` })),
          fieldErrors: Object.fromEntries(problems.map((p) => [p.field, p.message])),
          grants,
          grantRows: grants.map((g) => [{ text: g.patient }, { text: formatDateTime(g.expiresAt) }]),
        },
        status,
      );
    };

    scope.get<{ Querystring: { patient?: string } }>('/access/break-glass', hidden, async (request, reply) => {
      const access = caller(request);
      const patient = typeof request.query.patient === 'string' && isValidId(request.query.patient) ? request.query.patient : '';
      return formPage(reply, access, { patient, reason: '' });
    });

    scope.post<{ Body: Record<string, unknown> | undefined }>('/access/break-glass', hidden, async (request, reply) => {
      const access = caller(request);
      const body = request.body ?? {};
      const text = (name: string): string => (typeof body[name] === 'string' ? body[name] : '');
      const values = { patient: text('patient'), reason: text('reason') };
      try {
        const granted = await breakGlass(ctx.db, access, values, { hours, network: request.ip });
        return reply.redirect(`/access/break-glass/${encodeURIComponent(granted.id)}`, 303);
      } catch (error) {
        if (error instanceof ValidationError) return formPage(reply, access, values, error.problems, 422);
        if (error instanceof NotFoundError) return formPage(reply, access, values, [{ field: 'patient', message: 'No resident has this Patient id: check it and try again' }], 422);
        throw error;
      }
    });

    scope.get<{ Params: { id: string } }>('/access/break-glass/:id', hidden, async (request, reply) => {
      const access = caller(request);
      const grant = (await activeGrants(ctx.db, access)).find((g) => g.id === request.params.id);
      if (!grant) throw new UserError(404, 'That break-glass access has ended or is not yours');
      return send(reply, 'break-glass-granted.njk', { title: 'Break glass: access granted', crumbs: [{ href: '/', text: 'Home' }], grant });
    });
  });
}
