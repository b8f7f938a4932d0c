import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/config.js';
import { DEMO_SESSION_SECRET, loadAccessConfig } from './config.js';

describe('access configuration', () => {
  it('uses the published demo secret outside production only, and says so', () => {
    const dev = loadAccessConfig({});
    expect(dev.sessionSecret).toBe(DEMO_SESSION_SECRET);
    expect(dev.demoSecret).toBe(true);
    expect(dev.secureCookies).toBe('auto');
    expect(() => loadAccessConfig({ NODE_ENV: 'production' })).toThrow(/OPENICS_SESSION_SECRET: is required in production/);
    expect(() => loadAccessConfig({ NODE_ENV: 'production', OPENICS_SESSION_SECRET: DEMO_SESSION_SECRET })).toThrow(/published demo secret/);
  });

  it('takes a configured secret of 32 characters or more; production cookies are always Secure', () => {
    const secret = 'x'.repeat(40);
    const prod = loadAccessConfig({ NODE_ENV: 'production', OPENICS_SESSION_SECRET: secret });
    expect([prod.sessionSecret, prod.demoSecret, prod.secureCookies, prod.production]).toEqual([secret, false, 'always', true]);
    expect(() => loadAccessConfig({ OPENICS_SESSION_SECRET: 'short' })).toThrow(ConfigError);
  });

  it('reads limits and CORS origins, naming the variable when one is wrong', () => {
    const config = loadAccessConfig({ OPENICS_SIGN_IN_LIMIT_PER_USERNAME: '5', OPENICS_CORS_ORIGINS: 'https://a.example, http://localhost:8080' });
    expect(config.signInLimitPerUsername).toBe(5);
    expect(config.signInLimitPerIp).toBe(100);
    expect(config.corsOrigins).toEqual(['https://a.example', 'http://localhost:8080']);
    expect(() => loadAccessConfig({ OPENICS_SIGN_IN_LIMIT_PER_IP: 'lots' })).toThrow(/OPENICS_SIGN_IN_LIMIT_PER_IP/);
    expect(() => loadAccessConfig({ OPENICS_CORS_ORIGINS: 'https://a.example/path' })).toThrow(/OPENICS_CORS_ORIGINS/);
    expect(() => loadAccessConfig({ OPENICS_SECURE_COOKIES: 'sometimes' })).toThrow(/OPENICS_SECURE_COOKIES/);
  });
});
