/**
 * The demo SMART app, served by OpenICS for the demo but a client like any other: its pages load
 * one script (smart-demo/app.mjs) that does the SMART App Launch steps against OpenICS's own
 * endpoints with no cookies, as an app from another site would.
 *
 *   /smart-demo/launch.html   its launch URL (EHR launch: ?iss=…&launch=…)
 *   /smart-demo/app.html      its redirect URI, and the standalone start
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HTML } from '../../web/page-errors.js';
import { DEMO_APP_ID, DEMO_APP_PATH } from './demo.js';
import { fhirBaseOf, oauthRenderer } from './provider.js';

const SCRIPT = readFileSync(new URL('./smart-demo/app.mjs', import.meta.url), 'utf8');

export async function registerSmartDemo(app: FastifyInstance, issuerFor: (request: FastifyRequest) => string): Promise<void> {
  const page = (kind: 'launch' | 'app') => async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const origin = issuerFor(request);
    return reply.type(HTML).send(
      oauthRenderer('smart-demo.njk', {
        title: kind === 'launch' ? 'Demo SMART app: launching' : 'Demo SMART app',
        page: kind,
        clientId: DEMO_APP_ID,
        redirectUri: `${origin}${DEMO_APP_PATH}/app.html`,
        fhirBase: fhirBaseOf(origin),
        scriptPath: `${DEMO_APP_PATH}/app.mjs`,
      }),
    );
  };
  app.get(`${DEMO_APP_PATH}/launch.html`, { schema: { hide: true } }, page('launch'));
  app.get(`${DEMO_APP_PATH}/app.html`, { schema: { hide: true } }, page('app'));
  app.get(`${DEMO_APP_PATH}/app.mjs`, { schema: { hide: true } }, async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(SCRIPT));
}
