import { describe, expect, it } from 'vitest';
import { fhirDateRange } from './dates.js';

describe('fhirDateRange', () => {
  it('gives a year, a month and a day their whole range', () => {
    expect(fhirDateRange('2024')).toEqual({ low: '2024-01-01T00:00:00.000Z', high: '2024-12-31T23:59:59.999Z' });
    expect(fhirDateRange('2024-02')).toEqual({ low: '2024-02-01T00:00:00.000Z', high: '2024-02-29T23:59:59.999Z' });
    expect(fhirDateRange('2023-02-28')).toEqual({ low: '2023-02-28T00:00:00.000Z', high: '2023-02-28T23:59:59.999Z' });
  });

  it('gives a time its precision: minutes, seconds, milliseconds', () => {
    expect(fhirDateRange('2024-03-02T10:15Z')).toEqual({ low: '2024-03-02T10:15:00.000Z', high: '2024-03-02T10:15:59.999Z' });
    expect(fhirDateRange('2024-03-02T10:15:30Z')).toEqual({ low: '2024-03-02T10:15:30.000Z', high: '2024-03-02T10:15:30.999Z' });
    expect(fhirDateRange('2024-03-02T10:15:30.250Z')).toEqual({ low: '2024-03-02T10:15:30.250Z', high: '2024-03-02T10:15:30.250Z' });
  });

  it('applies the time zone offset, and reads a time without one as UTC', () => {
    expect(fhirDateRange('2024-06-01T09:00:00+01:00')?.low).toBe('2024-06-01T08:00:00.000Z');
    expect(fhirDateRange('2024-06-01T09:00:00-05:30')?.low).toBe('2024-06-01T14:30:00.000Z');
    expect(fhirDateRange('2024-06-01T09:00:00')?.low).toBe('2024-06-01T09:00:00.000Z');
  });

  it('refuses what is not a FHIR date', () => {
    for (const bad of ['2024-13', '2023-02-29', '2024-1-5', 'yesterday', '2024-03-02T25:00Z', '']) expect(fhirDateRange(bad), bad).toBeUndefined();
  });
});
