/**
 * The FHIR API with the access policy alone (no master patient index: that is the record
 * module's, above access), for the policy's own tests: a fresh migrated database (either engine),
 * the real FHIR plugin and operations with `accessFor` / `restoreAccess` / `onWrite`, the
 * break-glass and relationship routes, listening on 127.0.0.1, and policy options (a clock) the
 * platform does not expose. Tests talk to it over real HTTP.
 *
 * TEST-ONLY context injection: a request says who it is with the header `x-openics-test-access`
 * (an AccessContext as base64 JSON, test/support/test-access.ts), so the leak suite can try any
 * role, scope set and launch context directly; without it, it is anonymous. The production app
 * takes `request.access` from the identity plugin (session cookie or bearer token) and nothing
 * else; the role matrix (src/access/identity/matrix.db.test.ts) covers that path.
 */
import type { FastifyInstance } from 'fastify';
import { type PolicyOptions, fhirAccessFor, restoreFhirAccess } from '../../src/access/policy/fhir-policy.js';
import { registerPolicyRoutes } from '../../src/access/policy/routes.js';
import { accessWriteHook } from '../../src/access/policy/write-hook.js';
import { type BulkSettings, bulkRoutes } from '../../src/fhir/bulk.js';
import { registerBundleRoutes } from '../../src/fhir/bundle.js';
import { registerCapabilityRoutes } from '../../src/fhir/capability.js';
import { registerEverythingRoutes } from '../../src/fhir/everything.js';
import { registerFhirApi } from '../../src/fhir/http.js';
import { FhirStore } from '../../src/fhir/store.js';
import { registerValidateRoutes } from '../../src/fhir/validate-operation.js';
import type { TestDatabase } from './database.js';
import { startHeaderTestApp } from './test-access.js';

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
  const t = await startHeaderTestApp(async (app, context) => {
    await registerFhirApi(app, context, {
      operations: [registerCapabilityRoutes, registerBundleRoutes, registerEverythingRoutes, bulkRoutes({ fileLimit: 50, batchSize: 7, groupChunk: 2, ...options.bulk }), registerValidateRoutes],
      accessFor: (request) => fhirAccessFor(request.access, context.db, options.policy),
      restoreAccess: (state) => restoreFhirAccess(state, context.db, options.policy),
      onWrite: accessWriteHook,
    });
    await registerPolicyRoutes(app, context, options.breakGlassHours !== undefined ? { breakGlassHours: options.breakGlassHours } : {});
  });
  return { ...t, store: new FhirStore(t.database.db, { onWrite: accessWriteHook }) };
}
