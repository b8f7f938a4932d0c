import type { Encounter, Observation, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { validateResource } from '../../fhir/validate.js';
import { keyFingerprint, postcodeDistrict, pseudonymSystem, pseudonymise, pseudonymiseResource } from './pseudonymise.js';

const KEY = 'k'.repeat(16) + 'extract-2026-q1-secret';
const OTHER_KEY = 'another-key-for-a-different-extract-0001';

const patient: Patient = {
  resourceType: 'Patient',
  id: 'pat-rwp-1',
  meta: { versionId: '3', lastUpdated: '2026-01-02T03:04:05Z', source: 'urn:openics:source:RWP:pas', security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }] },
  text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Imogen Featherstonehaugh</div>' },
  identifier: [
    { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000018' },
    { system: 'https://fhir.worcsacute.nhs.uk/Id/mrn', value: 'MRN-0042' },
  ],
  name: [{ family: 'Featherstonehaugh', given: ['Imogen'] }],
  telecom: [{ system: 'phone', value: '07700 900123' }],
  gender: 'female',
  birthDate: '1961-07-14',
  address: [{ line: ['14 Mill Lane'], city: 'Worcester', postalCode: 'WR1 2AB' }],
  generalPractitioner: [{ reference: 'Organization/M81001', display: 'Riverside Surgery' }, { reference: 'Practitioner/gp-7', display: 'Dr Ann Jones' }],
  contact: [{ name: { family: 'Featherstonehaugh', given: ['Hugo'] } }],
  extension: [{ url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory', valueCodeableConcept: { coding: [{ system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategory', code: 'A' }] } }],
};

const observation: Observation = {
  resourceType: 'Observation',
  id: 'obs-1',
  status: 'final',
  identifier: [{ system: 'https://lab.example/Id/accession', value: 'ACC-99' }],
  code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006', display: 'Systolic blood pressure' }] },
  subject: { reference: 'Patient/pat-rwp-1', display: 'Imogen Featherstonehaugh' },
  encounter: { reference: 'Encounter/enc-1' },
  performer: [{ reference: 'Organization/RWP' }],
  effectiveDateTime: '2026-02-03T10:00:00Z',
  valueQuantity: { value: 142, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
  note: [{ text: 'Imogen said she felt dizzy' }],
};

const encounter: Encounter = {
  resourceType: 'Encounter',
  id: 'enc-1',
  status: 'finished',
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
  subject: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000018' } },
};

describe('pseudonymise', () => {
  it('is stable under one key, different under another, and 24 hex characters', () => {
    expect(pseudonymise('Patient/pat-rwp-1', KEY)).toBe(pseudonymise('Patient/pat-rwp-1', KEY));
    expect(pseudonymise('Patient/pat-rwp-1', KEY)).toMatch(/^[0-9a-f]{24}$/);
    expect(pseudonymise('Patient/pat-rwp-1', KEY)).not.toBe(pseudonymise('Patient/pat-rwp-1', OTHER_KEY));
    expect(pseudonymise('Patient/pat-rwp-1', KEY)).not.toBe(pseudonymise('Patient/pat-rwp-2', KEY));
    expect(pseudonymSystem(KEY)).toBe(`urn:openics:pseudonym:${keyFingerprint(KEY)}`);
    expect(keyFingerprint(KEY)).not.toBe(keyFingerprint(OTHER_KEY));
    expect(() => pseudonymise('x', 'short')).toThrow(/at least 32 characters/);
  });

  it('cuts a postcode to its district', () => {
    expect(postcodeDistrict('WR1 2AB')).toBe('WR1');
    expect(postcodeDistrict('hr4 9aa')).toBe('HR4');
    expect(postcodeDistrict('B601AA')).toBe('B60');
    expect(postcodeDistrict('EC1A 1BB')).toBe('EC1A');
    expect(postcodeDistrict('not a postcode')).toBeUndefined();
  });
});

describe('pseudonymiseResource', () => {
  const p = pseudonymiseResource(patient, KEY);
  const o = pseudonymiseResource(observation, KEY);
  const e = pseudonymiseResource(encounter, KEY);
  const text = JSON.stringify([p, o, e]);

  it('leaves no direct identifier anywhere', () => {
    for (const identifying of ['Featherstonehaugh', 'Imogen', 'Hugo', '9990000018', 'MRN-0042', 'ACC-99', '07700', 'Mill Lane', 'Worcester', 'WR1 2AB', '1961-07-14', 'Dr Ann Jones', 'pat-rwp-1', 'obs-1', 'enc-1', 'gp-7', 'dizzy']) {
      expect(text, identifying).not.toContain(identifying);
    }
  });

  it('keeps what analysis needs: sex, year and month of birth, postcode district, practice, codes, values and dates', () => {
    expect(p.gender).toBe('female');
    expect(p.birthDate).toBe('1961-07');
    expect(p.address).toEqual([{ postalCode: 'WR1' }]);
    expect(p.generalPractitioner?.[0]).toEqual({ reference: 'Organization/M81001', display: 'Riverside Surgery' });
    expect(p.extension?.[0]?.url).toContain('EthnicCategory');
    expect(p.meta).toEqual({ security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }] });
    expect(o.code).toEqual(observation.code);
    expect(o.valueQuantity).toEqual(observation.valueQuantity);
    expect(o.effectiveDateTime).toBe('2026-02-03T10:00:00Z');
    expect(o.performer).toEqual([{ reference: 'Organization/RWP' }]);
    expect(o.note).toBeUndefined();
    expect(p.text).toBeUndefined();
  });

  it('replaces identifiers and references with pseudonyms that still join within the extract', () => {
    const resident = pseudonymise('nhs-number|9990000018', KEY);
    expect(p.identifier).toEqual([{ system: pseudonymSystem(KEY), value: resident }]);
    expect(o.subject).toEqual({ reference: `Patient/${p.id ?? ''}` });
    expect(o.encounter).toEqual({ reference: `Encounter/${e.id ?? ''}` });
    expect(e.subject).toEqual({ identifier: { system: pseudonymSystem(KEY), value: resident } });
    expect(o.identifier).toBeUndefined();
    // The same resident in another extract made with the same key gets the same pseudonym.
    expect(pseudonymiseResource(patient, KEY).identifier).toEqual(p.identifier);
    expect(pseudonymiseResource(patient, OTHER_KEY).identifier?.[0]?.value).not.toBe(resident);
  });

  it('still gives valid FHIR R4', () => {
    for (const resource of [p, o, e]) expect(validateResource(resource).filter((i) => i.severity === 'error')).toEqual([]);
  });
});
