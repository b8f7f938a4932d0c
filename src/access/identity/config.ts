/**
 * Sign-in settings and secrets, from documented environment variables only (docs/configuration.md,
 * "Sign-in and sessions"). A bad value stops start-up with a message naming the variable.
 *
 * Demo defaults: outside production (NODE_ENV is not "production") a missing session secret is
 * replaced by a fixed, published demo secret, and `demoSecret` says so (the plugin logs a
 * warning). In production the secret must be configured, or OpenICS does not start.
 */
import { ConfigError } from '../../core/config.js';

export interface AccessConfig {
  production: boolean;
  /** Keys the CSRF tokens (HMAC-SHA-256). At least 32 characters. */
  sessionSecret: string;
  /** True when sessionSecret is the published demo default (never in production). */
  demoSecret: boolean;
  /** Session cookies marked Secure: 'always' (production default), or 'auto' (when the request came over https). */
  secureCookies: 'always' | 'auto';
  /** Sign-in attempts allowed per username, and per client IP address, in each window. */
  signInLimitPerUsername: number;
  signInLimitPerIp: number;
  signInWindowMs: number;
  /** Token requests allowed per client IP address in each window (the OAuth token endpoint). */
  tokenLimitPerIp: number;
  /** Browser origins allowed to call the API besides the registered OAuth clients' origins. */
  corsOrigins: string[];
}

/** Published in docs/configuration.md: it protects nothing, and is refused in production. */
export const DEMO_SESSION_SECRET = 'openics-demo-session-secret-do-not-use-in-production';

function parseCount(variable: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 1_000_000) throw new ConfigError(variable, `must be a whole number from 1 to 1000000, got "${raw}"`);
  return Number(raw);
}

function parseOrigins(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((text) => {
    const origin = text.trim();
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError('OPENICS_CORS_ORIGINS', `"${origin}" is not an origin; expected e.g. https://app.example.org`);
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin) {
      throw new ConfigError('OPENICS_CORS_ORIGINS', `"${origin}" is not an origin (scheme, host and port only, no path), e.g. https://app.example.org`);
    }
    return origin;
  });
}

export function loadAccessConfig(env: NodeJS.ProcessEnv = process.env): AccessConfig {
  const production = env.NODE_ENV === 'production';
  const secret = env.OPENICS_SESSION_SECRET;
  let sessionSecret: string;
  if (secret === undefined || secret === '') {
    if (production) throw new ConfigError('OPENICS_SESSION_SECRET', 'is required in production (NODE_ENV=production): a random string of 32 characters or more');
    sessionSecret = DEMO_SESSION_SECRET;
  } else {
    if (secret.length < 32) throw new ConfigError('OPENICS_SESSION_SECRET', `must be 32 characters or more, got ${secret.length}`);
    if (production && secret === DEMO_SESSION_SECRET) throw new ConfigError('OPENICS_SESSION_SECRET', 'is the published demo secret; set a secret of your own');
    sessionSecret = secret;
  }
  const secure = env.OPENICS_SECURE_COOKIES;
  if (secure !== undefined && secure !== '' && secure !== 'always' && secure !== 'auto') throw new ConfigError('OPENICS_SECURE_COOKIES', `must be always or auto, got "${secure}"`);
  return {
    production,
    sessionSecret,
    demoSecret: sessionSecret === DEMO_SESSION_SECRET,
    secureCookies: secure === 'always' || secure === 'auto' ? secure : production ? 'always' : 'auto',
    signInLimitPerUsername: parseCount('OPENICS_SIGN_IN_LIMIT_PER_USERNAME', env.OPENICS_SIGN_IN_LIMIT_PER_USERNAME, 10),
    signInLimitPerIp: parseCount('OPENICS_SIGN_IN_LIMIT_PER_IP', env.OPENICS_SIGN_IN_LIMIT_PER_IP, 100),
    signInWindowMs: 15 * 60 * 1000,
    tokenLimitPerIp: parseCount('OPENICS_TOKEN_LIMIT_PER_IP', env.OPENICS_TOKEN_LIMIT_PER_IP, 300),
    corsOrigins: parseOrigins(env.OPENICS_CORS_ORIGINS),
  };
}
