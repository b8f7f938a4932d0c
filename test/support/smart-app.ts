/**
 * The platform as issue 5 composes it, for the SMART launch tests: sign-in and sessions
 * (registerAccess), the FHIR API with the access policy (fhirAccessFor, the write hook), the
 * break-glass pages, and OAuth (registerOAuth: the authorisation server, the patient page with
 * "Launch app", the demo SMART app), with the demo users and the demo's OAuth clients, listening
 * on 127.0.0.1.
 *
 * Composed here until app.ts wires these in. Bearer tokens: until the identity plugin calls
 * accessFromBearerToken itself, a hook after it does (the same function the plugin is to call).
 */
import fastifyFormbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import Fastify from 'fastify';
import { ANONYMOUS } from '../../src/access/context.js';
import { loadAccessDemo } from '../../src/access/identity/demo.js';
import { registerAccess } from '../../src/access/identity/plugin.js';
import { loadOAuthDemo } from '../../src/access/oauth/demo.js';
import { registerOAuth } from '../../src/access/oauth/routes.js';
import { accessFromBearerToken } from '../../src/access/oauth/tokens.js';
import { fhirAccessFor, restoreFhirAccess } from '../../src/access/policy/fhir-policy.js';
import { registerPolicyRoutes } from '../../src/access/policy/routes.js';
import { accessWriteHook } from '../../src/access/policy/write-hook.js';
import { AppContext } from '../../src/app.js';
import { registerErrorHandling } from '../../src/core/http/errors.js';
import { loadFhirDefinitions } from '../../src/fhir/definitions.js';
import { registerFhirApi } from '../../src/fhir/http.js';
import { FhirStore } from '../../src/fhir/store.js';
import { loadDemoIcs } from '../../src/structure/commands.js';
import { NHSUK_ASSETS, WEB_STATIC } from '../../src/web/render.js';
import { listenLocally, type TestApp } from './app.js';
import { openTestDatabase } from './database.js';

export interface SmartTestApp extends TestApp {
  /** A store acting as OpenICS itself, with the policy's write hook, for test data. */
  store: FhirStore;
}

export async function startSmartTestApp(): Promise<SmartTestApp> {
  loadFhirDefinitions();
  const database = await openTestDatabase();
  const db = database.db;
  await loadDemoIcs(db, 'test');
  await loadAccessDemo(db, { production: false });
  const context = new AppContext();
  context.setDatabase(db);

  const app = Fastify({ logger: false, ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: false } } });
  registerErrorHandling(app);
  await app.register(fastifyFormbody);
  await app.register(fastifyStatic, { root: NHSUK_ASSETS, prefix: '/nhsuk/', decorateReply: false });
  await app.register(fastifyStatic, { root: WEB_STATIC, prefix: '/static/', decorateReply: false });
  await registerAccess(app, context);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (request.access?.kind !== ANONYMOUS.kind || !header?.toLowerCase().startsWith('bearer ')) return;
    const access = await accessFromBearerToken(db, header.slice(7).trim());
    if (access) request.access = { ...access, requestId: request.id };
  });
  await registerFhirApi(app, context, {
    accessFor: (request) => fhirAccessFor(request.access, db),
    restoreAccess: (state) => restoreFhirAccess(state, db),
    onWrite: accessWriteHook,
  });
  await registerPolicyRoutes(app, context);
  await registerOAuth(app, context, { config: { publicUrl: undefined, signingKey: undefined, external: [] } });
  const url = await listenLocally(app);
  await loadOAuthDemo(db, { appOrigin: url });
  return {
    url,
    app,
    database,
    store: new FhirStore(db, { onWrite: accessWriteHook }),
    async close() {
      await app.close();
      await database.close();
    },
  };
}
