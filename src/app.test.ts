import { describe, expect, it } from 'vitest';
import { AppContext, buildApp } from './app.js';

describe('buildApp', () => {
  // npm start listens before the database is open (main.ts): no module may need it to register its routes.
  it('registers every module before there is a database, and answers 503 until there is', async () => {
    const app = await buildApp({ logger: false, context: new AppContext() });
    try {
      await app.ready();
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toEqual({ status: 'starting' });
    } finally {
      await app.close();
    }
  });
});
