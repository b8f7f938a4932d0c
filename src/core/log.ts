/**
 * Structured JSON logs (pino). Requests are logged by method, route and status only: query
 * strings and bodies can carry patient identifiers, so they never reach the log.
 */
import type { FastifyServerOptions } from 'fastify';
import pino from 'pino';
import type { Config } from './config.js';

export function loggerOptions(level: Config['logLevel']): NonNullable<FastifyServerOptions['logger']> & pino.LoggerOptions {
  return {
    level,
    base: { service: 'openics' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
}

export function createLogger(level: Config['logLevel']): pino.Logger {
  return pino(loggerOptions(level));
}
