import { beforeAll, describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from './definitions.js';
import { indexResource, normalizeString, parseReference, patientKey, patientKeyOf } from './indexer.js';

beforeAll(() => loadFhirDefinitions());

const observation = {
  resourceType: 'Observation',
  id: 'bp1',
  status: 'final',
  code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006', display: 'Systolic blood pressure' }], text: 'Systolic BP' },
  subject: { reference: 'Patient/p1' },
  performer: [{ reference: 'Patient/p2' }],
  effectivePeriod: { start: '2024-03-02' },
  valueQuantity: { value: 130, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
  meta: { tag: [{ system: 'http://example.org/tags', code: 'feed-a' }] },
};

describe('indexResource', () => {
  it('writes a token row per coding, with the display for :text, and the concept text as its own row', () => {
    const rows = indexResource(observation).token.filter((r) => r.param === 'code');
    expect(rows).toContainEqual(expect.objectContaining({ system: 'http://snomed.info/sct', code: '271649006', display: 'systolic blood pressure' }));
    expect(rows).toContainEqual(expect.objectContaining({ system: null, code: null, display: 'systolic bp' }));
  });

  it('indexes the meta tag for _tag, a Period with an open end, a quantity and the references', () => {
    const rows = indexResource(observation);
    expect(rows.token).toContainEqual(expect.objectContaining({ param: '_tag', code: 'feed-a' }));
    expect(rows.date).toContainEqual(expect.objectContaining({ param: 'date', low: '2024-03-02T00:00:00.000Z', high: 'infinity' }));
    expect(rows.quantity).toContainEqual(expect.objectContaining({ param: 'value-quantity', value: '130', code: 'mm[Hg]' }));
    expect(rows.reference).toContainEqual(expect.objectContaining({ param: 'subject', targetType: 'Patient', targetId: 'p1' }));
  });

  it('splits a HumanName into its parts for string search, without accents or case', () => {
    const patient = { resourceType: 'Patient', id: 'x', name: [{ family: 'Zoë-Brontë', given: ['Ann', 'Marie'] }] };
    const rows = indexResource(patient).string;
    expect(rows.filter((r) => r.param === 'family').map((r) => r.normalized)).toEqual(['zoe-bronte']);
    expect(rows.filter((r) => r.param === 'given').map((r) => r.normalized)).toEqual(['ann', 'marie']);
  });
});

describe('patientKeyOf', () => {
  it('places a resource with the Patient of its first compartment parameter, and a Patient with itself', () => {
    expect(patientKeyOf(observation, indexResource(observation))).toBe(patientKey('p1'));
    const patient = { resourceType: 'Patient', id: 'p1' };
    expect(patientKeyOf(patient, indexResource(patient))).toBe(patientKey('p1'));
  });

  it('gives shared resources 0, and keys that fit a JavaScript number exactly', () => {
    const practitioner = { resourceType: 'Practitioner', id: 'd1' };
    expect(patientKeyOf(practitioner, indexResource(practitioner))).toBe(0);
    expect(Number.isSafeInteger(patientKey('any'))).toBe(true);
    expect(patientKey('a')).not.toBe(patientKey('b'));
  });
});

describe('parseReference and normalizeString', () => {
  it('reads relative, versioned and absolute references', () => {
    expect(parseReference('Patient/123')).toEqual({ base: null, type: 'Patient', id: '123', version: null });
    expect(parseReference('Patient/123/_history/4')).toEqual({ base: null, type: 'Patient', id: '123', version: '4' });
    expect(parseReference('https://x.nhs.uk/fhir/Patient/123')?.base).toBe('https://x.nhs.uk/fhir');
    expect(parseReference('#contained')).toBeUndefined();
  });

  it('folds case, accents and spaces', () => {
    expect(normalizeString('  Ángela   DUPRÉ ')).toBe('angela dupre');
  });
});
