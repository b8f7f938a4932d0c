/**
 * The FHIR API with the access policy wired in, as app.ts will wire it, for the policy's tests:
 * a fresh migrated database (either engine), the real FHIR plugin and operations with
 * `accessFor` / `restoreAccess` / `onWrite`, the break-glass and relationship routes, listening
 * on 127.0.0.1. Tests talk to it over real HTTP.
 *
 * TEST-ONLY context injection: until the identity plugin and the OAuth token endpoint are wired
 * into app.ts, a request says who it is with the header `x-openics-test-access` (an AccessContext
 * as base64 JSON, the same header as test/support/audit-app.ts); without it, it is anonymous.
 * This header exists only in this test helper; the production app takes `request.access` from
 * the identity plugin (session cookie or bearer token) and nothing else.
 */
import fastifyFormbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AccessContext } from '../../src/access/context.js';
import { type PolicyOptions, fhirAccessFor, restoreFhirAccess } from '../../src/access/policy/fhir-policy.js';
import { registerPolicyRoutes } from '../../src/access/policy/routes.js';
import { accessWriteHook } from '../../src/access/policy/write-hook.js';
import { AppContext } from '../../src/app.js';
import { registerErrorHandling } from '../../src/core/http/errors.js';
import { type BulkSettings, bulkRoutes } from '../../src/fhir/bulk.js';
import { registerBundleRoutes } from '../../src/fhir/bundle.js';
import { registerCapabilityRoutes } from '../../src/fhir/capability.js';
import { loadFhirDefinitions } from '../../src/fhir/definitions.js';
import { registerEverythingRoutes } from '../../src/fhir/everything.js';
import { registerFhirApi } from '../../src/fhir/http.js';
import { FhirStore } from '../../src/fhir/store.js';
import { registerValidateRoutes } from '../../src/fhir/validate-operation.js';
import { listenLocally } from './app.js';
import { openTestDatabase, type TestDatabase } from './database.js';
import { accessFromTestHeader } from './test-access.js';

export { TEST_ACCESS_HEADER, accessHeader } from './test-access.js';

export interface PolicyTestApp {
  url: string;
  app: FastifyInstance;
  database: TestDatabase;
  /** A store acting as OpenICS itself, with the policy's write hook (for loading test data). */
  store: FhirStore;
  close(): Promise<void>;
}

export async function startPolicyTestApp(options: { policy?: PolicyOptions; bulk?: Partial<BulkSettings>; breakGlassHours?: number } = {}): Promise<PolicyTestApp> {
  loadFhirDefinitions();
  const database = await openTestDatabase();
  const context = new AppContext();
  context.setDatabase(database.db);
  const app = Fastify({ logger: false });
  registerErrorHandling(app);
  await app.register(fastifyFormbody);
  app.decorateRequest('access', null as unknown as AccessContext);
  app.addHook('onRequest', async (request) => {
    request.access = accessFromTestHeader(request);
  });
  await registerFhirApi(app, context, {
    operations: [registerCapabilityRoutes, registerBundleRoutes, registerEverythingRoutes, bulkRoutes({ fileLimit: 50, batchSize: 7, groupChunk: 2, ...options.bulk }), registerValidateRoutes],
    accessFor: (request) => fhirAccessFor(request.access, context.db, options.policy),
    restoreAccess: (state) => restoreFhirAccess(state, context.db, options.policy),
    onWrite: accessWriteHook,
  });
  await registerPolicyRoutes(app, context, options.breakGlassHours !== undefined ? { breakGlassHours: options.breakGlassHours } : {});
  const url = await listenLocally(app);
  return {
    url,
    app,
    database,
    store: new FhirStore(database.db, { onWrite: accessWriteHook }),
    async close() {
      await app.close();
      await database.close();
    },
  };
}
