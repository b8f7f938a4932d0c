/**
 * Protection against cross-site request forgery for requests a browser's cookie authenticates.
 *
 * A synchroniser token bound to the session: token = HMAC-SHA-256(secret, session token's hash),
 * so it needs no storage, changes with every sign-in, and cannot be computed without the
 * server's secret even by someone who can plant cookies. Before sign-in (the sign-in form itself)
 * it is bound instead to a random pre-session cookie, against login CSRF. Every POST form carries
 * it as the hidden field `_csrf`; scripts may send it as the `x-csrf-token` header. Requests with a
 * bearer token carry no ambient authority and need none. SameSite=Lax cookies are the first line;
 * this is the second.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export function csrfToken(secret: string, binding: string): string {
  return createHmac('sha256', secret).update(`openics-csrf\u0000${binding}`).digest('base64url');
}

/** Whether `presented` is the token for this binding (constant-time). */
export function csrfTokenMatches(secret: string, binding: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length === 0 || presented.length > 100) return false;
  const expected = Buffer.from(csrfToken(secret, binding));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The token a request presents: the form field, or the header. */
export function presentedCsrfToken(body: unknown, headers: Record<string, string | string[] | undefined>): unknown {
  if (body !== null && typeof body === 'object' && CSRF_FIELD in body) {
    const value = (body as Record<string, unknown>)[CSRF_FIELD];
    return Array.isArray(value) ? value[0] : value;
  }
  const header = headers[CSRF_HEADER];
  return Array.isArray(header) ? header[0] : header;
}
