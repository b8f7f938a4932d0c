/**
 * Errors on pages are pages, in every module: "Page not found" for anything unknown, a plain
 * message for a request we cannot serve, and an apology that reveals nothing for our own faults.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { UserError } from '../core/errors.js';
import type { Renderer } from './render.js';

export const HTML = 'text/html; charset=utf-8';

export interface ErrorTemplates {
  notFound: string;
  error: string;
}

/**
 * The shared error pages in web/views (`page-not-found.njk`, `page-error.njk`: sign in for 401,
 * "You cannot see this page" for 403, an apology for 5xx), for any module whose error pages say
 * nothing of their own.
 */
export const SHARED_ERROR_PAGES: ErrorTemplates = { notFound: 'page-not-found.njk', error: 'page-error.njk' };

export function pageErrorHandler(render: Renderer, templates: ErrorTemplates): (error: unknown, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    let status = 500;
    let message: string | undefined;
    if (error instanceof UserError) {
      status = error.status;
      message = error.message;
    } else {
      // Fastify's own client errors (a malformed form, a body too large) keep their status and words.
      const fastifyError = error as { statusCode?: unknown; message?: unknown };
      if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
        status = fastifyError.statusCode;
        message = typeof fastifyError.message === 'string' ? fastifyError.message : undefined;
      }
    }
    if (status === 404) {
      void reply.status(404).type(HTML).send(render(templates.notFound, { title: 'Page not found', what: message }));
      return;
    }
    const ours = status >= 500 && !(error instanceof UserError);
    if (ours) request.log.error({ err: error }, 'page failed');
    void reply
      .status(status)
      .type(HTML)
      .send(render(templates.error, { title: status >= 500 ? 'Sorry, there is a problem with the service' : 'There is a problem with your request', status, message: ours ? undefined : message }));
  };
}
