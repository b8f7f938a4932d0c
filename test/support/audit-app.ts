/**
 * The audit and analytics routes on their own, for their tests: a fresh migrated database
 * (either engine) with the demo ICS's structure (organisation names), listening on 127.0.0.1.
 *
 * TEST-ONLY context injection: a request says who it is with the header `x-openics-test-access`
 * (an AccessContext as base64 JSON); without it, it is anonymous. This lets the tests act as
 * any AccessContext (roles and organisations no demo user holds). The header exists only in
 * this helper; the platform (app.ts) takes `request.access` from the identity plugin alone, and
 * the role matrix (src/access/identity/matrix.db.test.ts) tests these routes through it.
 */
import fastifyFormbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerAnalyticsRoutes } from '../../src/access/analytics/routes.js';
import type { UnusualAccessConfig } from '../../src/access/audit/config.js';
import { registerAuditRoutes } from '../../src/access/audit/routes.js';
import type { AccessContext } from '../../src/access/context.js';
import { AppContext } from '../../src/app.js';
import { registerErrorHandling } from '../../src/core/http/errors.js';
import { NHSUK_ASSETS, WEB_STATIC } from '../../src/web/render.js';
import { loadDemoIcs } from '../../src/structure/commands.js';
import { listenLocally } from './app.js';
import { openTestDatabase, type TestDatabase } from './database.js';
import { accessFromTestHeader } from './test-access.js';

export { TEST_ACCESS_HEADER, accessHeader } from './test-access.js';

export interface AuditTestApp {
  url: string;
  app: FastifyInstance;
  database: TestDatabase;
  close(): Promise<void>;
}

export async function startAuditTestApp(options: { today?: string; unusual?: UnusualAccessConfig } = {}): Promise<AuditTestApp> {
  const database = await openTestDatabase();
  await loadDemoIcs(database.db, 'test');
  const context = new AppContext();
  context.setDatabase(database.db);
  const app = Fastify({ logger: false, ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: false } } });
  registerErrorHandling(app);
  await app.register(fastifyFormbody);
  await app.register(fastifyStatic, { root: NHSUK_ASSETS, prefix: '/nhsuk/', decorateReply: false });
  await app.register(fastifyStatic, { root: WEB_STATIC, prefix: '/static/', decorateReply: false });
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (request) => {
      (request as unknown as { access: AccessContext }).access = accessFromTestHeader(request);
    });
    const today = options.today;
    await registerAuditRoutes(scope, context, { ...(today ? { today: () => today } : {}), ...(options.unusual ? { unusual: options.unusual } : {}) });
    await registerAnalyticsRoutes(scope, context);
  });
  const url = await listenLocally(app);
  return {
    url,
    app,
    database,
    async close() {
      await app.close();
      await database.close();
    },
  };
}
