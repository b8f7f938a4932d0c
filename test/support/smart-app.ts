/**
 * The platform as `npm start` composes it (buildApp), for the SMART launch tests: the test ICS,
 * the demo users and the demo's OAuth clients (registered for this server's origin), listening on
 * 127.0.0.1.
 */
import { loadAccessDemo } from '../../src/access/identity/demo.js';
import { loadOAuthDemo } from '../../src/access/oauth/demo.js';
import { AppContext, buildApp } from '../../src/app.js';
import { loadFhirDefinitions } from '../../src/fhir/definitions.js';
import { FhirStore } from '../../src/fhir/store.js';
import { recordWriteHook } from '../../src/record/write-hook.js';
import { loadDemoIcs } from '../../src/structure/commands.js';
import { listenLocally, type TestApp } from './app.js';
import { openTestDatabase } from './database.js';

export interface SmartTestApp extends TestApp {
  /** A store acting as OpenICS itself, with the platform's write hook, for test data. */
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
  const app = await buildApp({ logger: false, context, oauth: { config: { publicUrl: undefined, signingKey: undefined, external: [] } } });
  const url = await listenLocally(app);
  await loadOAuthDemo(db, { appOrigin: url });
  return {
    url,
    app,
    database,
    store: new FhirStore(db, { onWrite: recordWriteHook }),
    async close() {
      await app.close();
      await database.close();
    },
  };
}
