/**
 * The composition root: one Fastify app serving the API under /api, the FHIR API under /fhir,
 * OAuth under /oauth and the web UI, with each capability module registering its own routes,
 * all behind the access module's guard. Nothing depends on this file but main.ts and the tests.
 */
import fastifyFormbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerAnalyticsRoutes } from './access/analytics/routes.js';
import { registerAuditRoutes } from './access/audit/routes.js';
import { registerAccess } from './access/identity/plugin.js';
import { type OAuthOptions, registerOAuth } from './access/oauth/routes.js';
import { SYSTEM_ACCESS } from './access/context.js';
import { fhirAccessFor, restoreFhirAccess } from './access/policy/fhir-policy.js';
import { registerPolicyRoutes } from './access/policy/routes.js';
import type { Database } from './core/db/database.js';
import { UserError } from './core/errors.js';
import { registerErrorHandling } from './core/http/errors.js';
import { registerFinanceApi } from './finance/api.js';
import { registerFinancePages } from './finance/pages.js';
import { registerBulkRoutes } from './fhir/bulk.js';
import { registerBundleRoutes } from './fhir/bundle.js';
import { registerCapabilityRoutes } from './fhir/capability.js';
import { registerFhirApi } from './fhir/http.js';
import { registerValidateRoutes } from './fhir/validate-operation.js';
import { registerGovernanceApi } from './governance/api.js';
import { registerGovernanceFeeds } from './governance/feeds.js';
import { registerGovernancePages } from './governance/pages.js';
import { registerGovernancePublicPages } from './governance/public-pages.js';
import { partnerFeedHook } from './record/feeds/session.js';
import { recordFhirOperations } from './record/fhir-operations.js';
import { registerRecord } from './record/register.js';
import { recordWriteHook } from './record/write-hook.js';
import { registerStructureApi } from './structure/api.js';
import { registerStructurePages } from './structure/pages.js';
import { NHSUK_ASSETS, WEB_STATIC } from './web/render.js';

/** What routes need, available once start-up has finished. */
export class AppContext {
  private database: Database | undefined;

  get ready(): boolean {
    return this.database !== undefined;
  }

  get db(): Database {
    if (!this.database) throw new UserError(503, 'OpenICS is starting; try again in a few seconds');
    return this.database;
  }

  setDatabase(db: Database): void {
    this.database = db;
  }
}

export interface AppOptions {
  logger: FastifyBaseLogger | false;
  context: AppContext;
  /** OAuth's configuration (default: from the environment). */
  oauth?: OAuthOptions;
  /**
   * 'policy' (the default, and the only choice `npm start` makes): the access policy decides
   * what each caller sees. 'unrestricted': every FHIR request acts as OpenICS itself, for the
   * FHIR module's own tests of FHIR semantics (the policy's tests run with it on).
   */
  fhirAccess?: 'policy' | 'unrestricted';
}

export async function buildApp({ logger, context, oauth, fhirAccess = 'policy' }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    // Ajv reports every problem, not just the first, so a form or API client can fix them all at once.
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: false } },
    bodyLimit: 1_048_576,
  });
  registerErrorHandling(app);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'OpenICS API',
        version: '0.1.0',
        description: 'The API of OpenICS, the open-source platform that runs an NHS integrated care system. Errors are JSON: { error, message, problems: [{ field, message }] }.',
      },
      tags: [
        { name: 'structure', description: 'The ICS itself: organisations, places, PCNs, bodies, people, rules and the functions and decisions map' },
        { name: 'governance', description: 'Meetings, agendas, papers, attendance, registers of interests and gifts, declarations, decisions, actions, minutes and public involvement' },
        { name: 'finance', description: 'The single pot, needs-based allocation to places, scenarios and convergence, investment standards, the system financial position and risk share' },
        { name: 'access', description: 'Who may see what: break-glass grants and the audit trail of every access to patient data' },
        { name: 'analytics', description: 'Counts of residents for planning and secondary use: National Data Opt-outs respected, small numbers suppressed' },
      ],
    },
  });
  await app.register(fastifyFormbody);
  await app.register(fastifyStatic, { root: NHSUK_ASSETS, prefix: '/nhsuk/', decorateReply: false, maxAge: '1d' });
  await app.register(fastifyStatic, { root: WEB_STATIC, prefix: '/static/', decorateReply: false });

  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
    if (!context.ready) return reply.status(503).send({ status: 'starting' });
    await context.db.query('SELECT 1');
    return { status: 'ok', engine: context.db.engine };
  });
  app.get('/api/openapi.json', { schema: { hide: true }, config: { access: { who: 'anyone' } } }, async () => app.swagger());

  // Who is asking, and may they: before every module's routes, so that each is guarded. OAuth
  // (the authorisation server, SMART launch) comes next: it reads its own request bodies.
  await registerAccess(app, context);
  await registerOAuth(app, context, oauth);

  await registerStructureApi(app, context);
  await registerStructurePages(app, context);
  await registerGovernancePublicPages(app, context);
  await registerGovernancePages(app, context);
  await registerGovernanceApi(app, context);
  await registerGovernanceFeeds(app, context);
  await registerFinanceApi(app, context);
  await registerFinancePages(app, context);
  // Patient data: the access policy is applied inside the FHIR store's queries; the write hook
  // keeps the policy's relationships, consents and labels, and the master patient index, in step
  // with every write.
  await registerFhirApi(app, context, {
    operations: [registerCapabilityRoutes, registerBundleRoutes, registerBulkRoutes, registerValidateRoutes, ...recordFhirOperations],
    accessFor: (request) => fhirAccessFor(fhirAccess === 'policy' ? request.access : SYSTEM_ACCESS, context.db),
    restoreAccess: (state) => restoreFhirAccess(state, context.db),
    onWrite: recordWriteHook,
    // Partner feeds: each backend client's write is a message with provenance; a refused one is a dead letter.
    feed: partnerFeedHook(() => context.db),
  });
  await registerPolicyRoutes(app, context);
  await registerAuditRoutes(app, context);
  await registerAnalyticsRoutes(app, context);
  await registerRecord(app, context);
  return app;
}
