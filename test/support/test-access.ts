/**
 * TEST-ONLY context injection for the test apps that compose a module's routes on their own
 * (policy-app.ts, audit-app.ts): a request says who it is with the header `x-openics-test-access`
 * (an AccessContext as base64 JSON); without it, it is anonymous. The platform (app.ts) takes
 * `request.access` from the identity plugin alone and never reads this header.
 */
import type { FastifyRequest } from 'fastify';
import { ANONYMOUS, type AccessContext } from '../../src/access/context.js';

export const TEST_ACCESS_HEADER = 'x-openics-test-access';

export function accessHeader(access: AccessContext): Record<string, string> {
  return { [TEST_ACCESS_HEADER]: Buffer.from(JSON.stringify(access)).toString('base64') };
}

/** The AccessContext the request's test header names, or ANONYMOUS. */
export function accessFromTestHeader(request: FastifyRequest): AccessContext {
  const header = request.headers[TEST_ACCESS_HEADER];
  return typeof header === 'string' ? (JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as AccessContext) : ANONYMOUS;
}
