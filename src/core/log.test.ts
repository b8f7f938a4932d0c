import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions } from './log.js';

describe('request logging', () => {
  it('logs the path of a request but never its query string', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = pino(loggerOptions('info'), sink);
    log.info({ req: { id: '1', method: 'GET', url: '/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018' } }, 'request');
    const entry = JSON.parse(lines[0] ?? '{}') as { req: { path: string } };
    expect(entry.req.path).toBe('/fhir/Patient');
    expect(lines.join('')).not.toContain('9990000018');
  });
});
