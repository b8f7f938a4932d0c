import { describe, expect, it } from 'vitest';
import { toFhirError } from './http.js';

describe('toFhirError', () => {
  it('answers a write rolled back for a concurrent change with 503 transient (safe to send again), not a 500', () => {
    const error = toFhirError(Object.assign(new Error('deadlock detected'), { code: '40P01' }));
    expect(error?.status).toBe(503);
    expect(error?.issues[0]).toMatchObject({ severity: 'error', code: 'transient' });
    expect(toFhirError(Object.assign(new Error('could not serialize access'), { code: '40001' }))?.status).toBe(503);
  });

  it('leaves other failures to the 500 that reveals nothing', () => {
    expect(toFhirError(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBeUndefined();
    expect(toFhirError(new Error('a bug'))).toBeUndefined();
  });
});
