import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults to port 3000, the embedded engine under ./data and the demo ICS', () => {
    const config = loadConfig({}, '/srv/openics');
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toBe('/srv/openics/data');
    expect(config.loadDemo).toBe(true);
    // Only this machine until sign-in exists: editing is open to anyone who can reach the server.
    expect(config.host).toBe('localhost');
  });

  it('reads PORT, DATABASE_URL, OPENICS_DATA_DIR and OPENICS_DEMO', () => {
    const config = loadConfig(
      { PORT: '8080', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', OPENICS_DATA_DIR: '/var/lib/openics', OPENICS_DEMO: 'false' },
      '/srv',
    );
    expect(config).toMatchObject({ port: 8080, databaseUrl: 'postgres://postgres@127.0.0.1:5432/test', dataDir: '/var/lib/openics', loadDemo: false });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://localhost/test' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ OPENICS_DEMO: 'maybe' }, 'OPENICS_DEMO'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ])('rejects %o naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrowError(ConfigError);
    expect(() => loadConfig(env)).toThrowError(new RegExp(`^${variable}:`));
  });
});
