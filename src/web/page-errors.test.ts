import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, UserError } from '../core/errors.js';
import { pageErrorHandler, SHARED_ERROR_PAGES } from './page-errors.js';
import { createRenderer } from './render.js';

let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify({ logger: false });
  // A module with no error pages of its own: only web/views can answer.
  app.setErrorHandler(pageErrorHandler(createRenderer([]), SHARED_ERROR_PAGES));
  app.get<{ Params: { status: string } }>('/fails/:status', async (request) => {
    const status = Number(request.params.status);
    if (status === 404) throw new NotFoundError('Dead letter 7');
    if (status === 500) throw new Error('connection refused to 10.0.0.7');
    throw new UserError(status, status === 503 ? 'The index is being rebuilt' : status === 403 ? 'You need the privacy officer role' : 'The date is not a date');
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
});

async function page(status: number): Promise<{ status: number; heading: string; text: string }> {
  const response = await app.inject({ method: 'GET', url: `/fails/${status}` });
  const html = response.body;
  const main = html.slice(html.indexOf('<main'), html.indexOf('</main>'));
  return { status: response.statusCode, heading: /<h1>([^<]*)<\/h1>/.exec(main)?.[1] ?? '', text: main.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim() };
}

describe('the shared error pages', () => {
  it('say "Page not found", naming what was not found, with the status 404', async () => {
    const notFound = await page(404);
    expect(notFound.status).toBe(404);
    expect(notFound.heading).toBe('Page not found');
    expect(notFound.text).toContain('Dead letter 7 was not found.');
    expect(notFound.text).toContain('If you typed the web address, check it was correct.');
  });

  it('ask to sign in (401), say why not and whom to ask (403), and name the problem with a request (4xx)', async () => {
    const signIn = await page(401);
    expect([signIn.status, signIn.heading]).toEqual([401, 'Sign in to continue']);
    expect(signIn.text).toContain('You need to sign in to see this page.');
    const forbidden = await page(403);
    expect([forbidden.status, forbidden.heading]).toEqual([403, 'You cannot see this page']);
    expect(forbidden.text).toContain('You need the privacy officer role.');
    expect(forbidden.text).toContain('ask your organisation’s administrator');
    const bad = await page(400);
    expect([bad.status, bad.heading]).toEqual([400, 'There is a problem with your request']);
    expect(bad.text).toContain('The date is not a date');
  });

  it('apologise for our own faults without revealing them, and pass on why the service is unavailable (503)', async () => {
    const fault = await page(500);
    expect([fault.status, fault.heading]).toEqual([500, 'Sorry, there is a problem with the service']);
    expect(fault.text).toContain('Try again later.');
    expect(fault.text).not.toContain('10.0.0.7');
    const unavailable = await page(503);
    expect([unavailable.status, unavailable.heading]).toEqual([503, 'Sorry, there is a problem with the service']);
    expect(unavailable.text).toContain('The index is being rebuilt.');
    expect(unavailable.text).toContain('tell the team that runs OpenICS');
  });
});
