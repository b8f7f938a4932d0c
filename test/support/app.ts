/**
 * The real platform for a test: a fresh migrated database (either engine) with the demo ICS,
 * the real Fastify app, listening on a free port of 127.0.0.1. Tests talk to it over HTTP.
 */
import type { FastifyInstance } from 'fastify';
import { AppContext, buildApp } from '../../src/app.js';
import { loadDemo } from '../../src/demo.js';
import { loadDemoIcs } from '../../src/structure/commands.js';
import { openTestDatabase, type TestDatabase } from './database.js';

export interface TestApp {
  url: string;
  app: FastifyInstance;
  database: TestDatabase;
  close(): Promise<void>;
}

/**
 * demo: 'full' (default) loads the demo ICS with a year of governance, as on first start;
 * 'structure' only its structure (faster); 'none' an empty database. fhirAccess 'unrestricted':
 * the FHIR API acts for OpenICS itself, for tests of FHIR semantics (see AppOptions).
 */
export async function startTestApp(options: { demo?: 'full' | 'structure' | 'none'; fhirAccess?: 'policy' | 'unrestricted' } = {}): Promise<TestApp> {
  const database = await openTestDatabase();
  const demo = options.demo ?? 'full';
  if (demo === 'full') await loadDemo(database.db);
  if (demo === 'structure') await loadDemoIcs(database.db, 'test');
  const context = new AppContext();
  context.setDatabase(database.db);
  const app = await buildApp({ logger: false, context, ...(options.fhirAccess ? { fhirAccess: options.fhirAccess } : {}) });
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

/** Listens on a free port of 127.0.0.1; returns the app's base URL. */
export async function listenLocally(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/** `headers`: e.g. a signed-in user's (test/support/access.ts). */
export async function getJson<T = Record<string, unknown>>(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { headers });
  return { status: response.status, body: (await response.json()) as T };
}

export async function sendJson<T = Record<string, unknown>>(method: string, url: string, payload: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: typeof payload === 'string' ? payload : JSON.stringify(payload) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}
