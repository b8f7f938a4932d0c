import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.js';
import { registerErrorHandling, toErrorBody } from './errors.js';

/** What node-postgres and PGlite throw when PostgreSQL rolls a transaction back (they carry the SQLSTATE as `code`). */
const rolledBack = (code: string): Error => Object.assign(new Error('deadlock detected'), { code });

describe('toErrorBody', () => {
  it('answers a transaction rolled back for a concurrent change (deadlock, serialisation failure) with 503, not 500', () => {
    for (const code of ['40P01', '40001']) {
      const { status, body } = toErrorBody(rolledBack(code));
      expect(status).toBe(503);
      expect(body.message).toMatch(/nothing was saved\. Send the request again/);
    }
  });

  it('keeps other database errors as a 500 that reveals nothing, and user errors as they are', () => {
    expect(toErrorBody(rolledBack('23505'))).toEqual({ status: 500, body: { error: 'InternalError', message: 'Something went wrong on our side. It has been logged.', problems: [] } });
    expect(toErrorBody(ValidationError.field('name', 'is required')).status).toBe(422);
  });

  it('tells the client when to retry', async () => {
    const app = Fastify({ logger: false });
    registerErrorHandling(app);
    app.get('/busy', () => {
      throw rolledBack('40P01');
    });
    app.get('/broken', () => {
      throw new Error('a bug');
    });
    const busy = await app.inject({ method: 'GET', url: '/busy' });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('1');
    const broken = await app.inject({ method: 'GET', url: '/broken' });
    expect(broken.statusCode).toBe(500);
    expect(broken.headers['retry-after']).toBeUndefined();
    await app.close();
  });
});
