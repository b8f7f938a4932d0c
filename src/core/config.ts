/**
 * Configuration comes only from documented environment variables (see docs/configuration.md).
 * A bad value stops start-up with a message naming the variable, never a stack trace.
 */
import path from 'node:path';

export interface Config {
  /** TCP port for the API and web UI. */
  port: number;
  /**
   * Interface to bind. localhost by default: until sign-in exists (the access module) anyone who
   * can reach the server can edit, so other machines must be let in on purpose (HOST=0.0.0.0).
   */
  host: string;
  /** PostgreSQL server URL; when absent the embedded engine (PGlite) is used. */
  databaseUrl: string | undefined;
  /** Where the embedded engine keeps its files. */
  dataDir: string;
  /** Load the demo ICS (Herefordshire and Worcestershire) on first start. */
  loadDemo: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 3000;
  if (!/^\d+$/.test(raw)) throw new ConfigError('PORT', `must be a whole number from 0 to 65535, got "${raw}"`);
  const port = Number(raw);
  if (port > 65535) throw new ConfigError('PORT', `must be a whole number from 0 to 65535, got "${raw}"`);
  return port;
}

function parseDatabaseUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a URL; expected postgres://user@host:port/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must start with postgres:// or postgresql://, got "${url.protocol}//"`);
  }
  return raw;
}

function parseBoolean(variable: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(variable, `must be true or false, got "${raw}"`);
}

function parseLogLevel(raw: string | undefined): Config['logLevel'] {
  if (raw === undefined || raw === '') return 'info';
  const level = LOG_LEVELS.find((l) => l === raw.toLowerCase());
  if (!level) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return level;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  return {
    port: parsePort(env.PORT),
    host: env.HOST === undefined || env.HOST === '' ? 'localhost' : env.HOST,
    databaseUrl: parseDatabaseUrl(env.DATABASE_URL),
    dataDir: path.resolve(cwd, env.OPENICS_DATA_DIR === undefined || env.OPENICS_DATA_DIR === '' ? 'data' : env.OPENICS_DATA_DIR),
    loadDemo: parseBoolean('OPENICS_DEMO', env.OPENICS_DEMO, true),
    logLevel: parseLogLevel(env.LOG_LEVEL),
  };
}
