/**
 * Who may use the audit and analytics routes, read from `request.access` (the AccessContext the
 * identity plugin gives every request). A request without one is treated as anonymous, so these
 * routes refuse everyone until the plugin is registered: they fail closed.
 */
import type { FastifyRequest } from 'fastify';
import { UserError } from '../../core/errors.js';
import { ANONYMOUS, type AccessContext, type RoleCode } from '../context.js';

declare module 'fastify' {
  interface FastifyRequest {
    access: AccessContext;
  }
}

export function accessOf(request: FastifyRequest): AccessContext {
  return (request as { access?: AccessContext }).access ?? ANONYMOUS;
}

/** The caller's AccessContext with this request's id, as the audit trail records it. */
export function requestAccess(request: FastifyRequest): AccessContext {
  return { ...accessOf(request), requestId: request.id };
}

/**
 * The caller's AccessContext if they are a signed-in user acting in one of `roles`; otherwise a
 * 401 (not signed in) or 403 (signed in, other role) that says so.
 */
export function requireRole(request: FastifyRequest, roles: readonly RoleCode[]): AccessContext {
  const access = accessOf(request);
  if (access.kind === 'anonymous') throw new UserError(401, 'Sign in to see this');
  if (access.kind !== 'user' || !access.role || !roles.includes(access.role)) {
    throw new UserError(403, `Only a ${roles.map((r) => r.replaceAll('_', ' ')).join(', ')} may see this`);
  }
  return access;
}
