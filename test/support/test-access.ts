/**
 * TEST-ONLY context injection for the test apps that compose a module's routes on their own
 * (policy-app.ts, audit-app.ts, `startHeaderTestApp` below): a request says who it is with the header `x-openics-test-access`
 * (an AccessContext as base64 JSON); without it, it is anonymous. The platform (app.ts) takes
 * `request.access` from the identity plugin alone and never reads this header.
 */
import fastifyFormbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { ANONYMOUS, type AccessContext } from '../../src/access/context.js';
import { AppContext } from '../../src/app.js';
import { registerErrorHandling } from '../../src/core/http/errors.js';
import { loadFhirDefinitions } from '../../src/fhir/definitions.js';
import { listenLocally } from './app.js';
import { type TestDatabase, openTestDatabase } from './database.js';

export const TEST_ACCESS_HEADER = 'x-openics-test-access';

export function accessHeader(access: AccessContext): Record<string, string> {
  return { [TEST_ACCESS_HEADER]: Buffer.from(JSON.stringify(access)).toString('base64') };
}

/** The AccessContext the request's test header names, or ANONYMOUS. */
export function accessFromTestHeader(request: FastifyRequest): AccessContext {
  const header = request.headers[TEST_ACCESS_HEADER];
  return typeof header === 'string' ? (JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as AccessContext) : ANONYMOUS;
}

export interface HeaderTestApp {
  url: string;
  app: FastifyInstance;
  database: TestDatabase;
  context: AppContext;
  close(): Promise<void>;
}

/**
 * A fresh migrated database (either engine) and a Fastify app whose requests say who they are
 * with the test header, with the routes `register` adds, listening on 127.0.0.1: for tests of a
 * module's routes on their own, without sign-in.
 */
export async function startHeaderTestApp(register: (app: FastifyInstance, context: AppContext) => Promise<void>): Promise<HeaderTestApp> {
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
  await register(app, context);
  const url = await listenLocally(app);
  return {
    url,
    app,
    database,
    context,
    async close() {
      await app.close();
      await database.close();
    },
  };
}
