import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { NHS_NUMBER_SYSTEM, type ValidationIssue, hasErrors, isValidNhsNumber, loadValidation, validateResource } from './validate.js';

const require = createRequire(import.meta.url);
const EXAMPLES = path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));

/** Each issue as `severity code expression`, the part the tests pin down. */
function summary(resource: unknown): string[] {
  return validateResource(resource).map((i) => `${i.severity} ${i.code} ${i.expression}`);
}

const observation = {
  resourceType: 'Observation',
  id: 'bp-1',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
  subject: { reference: 'Patient/example', identifier: { system: NHS_NUMBER_SYSTEM, value: '9434765919' } },
  effectiveDateTime: '2024-02-29T09:30:00+00:00',
  valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
};

const patient = {
  resourceType: 'Patient',
  id: 'example',
  meta: { profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient'] },
  text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Ann Smith</div>' },
  identifier: [{ system: NHS_NUMBER_SYSTEM, value: '9434765919' }],
  name: [{ use: 'official', family: 'Smith', given: ['Ann', 'Marie'] }],
  gender: 'female',
  birthDate: '1980-02-29',
  _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1980-02-29T10:15:00+00:00' }] },
  address: [{ line: ['1 High Street'], city: 'Leeds', postalCode: 'LS1 1AA', period: { start: '2001-05-06' } }],
  generalPractitioner: [{ reference: 'Organization/M81001' }],
};

function withChanges(base: object, changes: Record<string, unknown>): Record<string, unknown> {
  return { ...structuredClone(base), ...changes };
}

beforeAll(() => loadValidation(), 60_000);

describe('NHS numbers', () => {
  it('accept ten digits whose last is the Modulus 11 check digit', () => {
    expect(isValidNhsNumber('9434765919')).toBe(true);
    expect(isValidNhsNumber('9000000009')).toBe(true);
    // 11 - (sum mod 11) = 11 becomes 0.
    expect(isValidNhsNumber('9434765900')).toBe(true);
  });

  it('refuse a wrong check digit, a check digit of 10, and anything but ten digits', () => {
    expect(isValidNhsNumber('9434765918')).toBe(false);
    // 943476596: the check digit would be 10, so no number starts with it.
    for (let d = 0; d <= 9; d++) expect(isValidNhsNumber(`943476596${d}`)).toBe(false);
    expect(isValidNhsNumber('943476591')).toBe(false);
    expect(isValidNhsNumber('94347659190')).toBe(false);
    expect(isValidNhsNumber('943 476 5919')).toBe(false);
    expect(isValidNhsNumber('943476591X')).toBe(false);
  });
});

describe('validateResource', () => {
  it('accepts valid resources', () => {
    expect(validateResource(observation)).toEqual([]);
    expect(validateResource(patient)).toEqual([]);
  });

  it('refuses input that is not a resource, without throwing', () => {
    for (const input of [[], 'Patient', 42, null, undefined, true]) {
      expect(summary(input)).toEqual(['error structure Resource']);
    }
    expect(summary({ id: 'x' })).toEqual(['error required Resource']);
    expect(summary({ resourceType: 'Pateint' })).toEqual(['error invalid Resource']);
    expect(summary({ resourceType: 7 })).toEqual(['error invalid Resource']);
    expect(validateResource({ resourceType: 'Pateint' })[0]?.message).toContain('Pateint');
  });

  it('names a value of the wrong JSON type', () => {
    expect(summary(withChanges(patient, { active: 'yes' }))).toEqual(['error structure Patient.active']);
    expect(summary(withChanges(patient, { maritalStatus: 4 }))).toEqual(['error structure Patient.maritalStatus']);
    expect(summary(withChanges(patient, { name: ['Ann Smith'] }))).toEqual(['error structure Patient.name[0]']);
    expect(summary(withChanges(observation, { valueQuantity: { value: '72' } }))).toEqual(['error structure Observation.value.ofType(Quantity).value']);
    expect(summary(withChanges(patient, { active: null }))).toEqual(['error structure Patient.active']);
  });

  it('names a missing required element', () => {
    const noStatus: Record<string, unknown> = structuredClone(observation);
    delete noStatus.status;
    expect(summary(noStatus)).toEqual(['error required Observation.status']);
    expect(summary(withChanges(patient, { extension: [{ valueString: 'x' }] }))).toEqual(['error required Patient.extension[0].url']);
  });

  it('names an unknown element, at any depth', () => {
    expect(summary(withChanges(patient, { name: [{ family: 'Smith', middle: 'M' }], nickname: 'Annie' }))).toEqual([
      'error structure Patient.name[0].middle',
      'error structure Patient.nickname',
    ]);
    expect(summary(withChanges(observation, { valueBogus: 1 }))).toEqual(['error structure Observation.valueBogus']);
    expect(summary(withChanges(patient, { _birthDate: { note: 'x' } }))).toEqual(['error structure Patient.birthDate.note']);
  });

  it('checks cardinality: single values, arrays, one type of a choice, no empty arrays or objects', () => {
    expect(summary(withChanges(patient, { gender: ['female'] }))).toEqual(['error structure Patient.gender']);
    expect(summary(withChanges(patient, { name: { family: 'Smith' } }))).toEqual(['error structure Patient.name']);
    expect(summary(withChanges(patient, { telecom: [] }))).toEqual(['error structure Patient.telecom']);
    expect(summary(withChanges(patient, { name: [{}] }))).toEqual(['error structure Patient.name[0]']);
    expect(summary(withChanges(observation, { valueString: '72' }))).toEqual(['error structure Observation.value']);
    // null only where a repeating primitive has extensions instead of a value.
    expect(summary(withChanges(patient, { name: [{ given: ['Ann', null] }] }))).toEqual(['error structure Patient.name[0].given[1]']);
    expect(validateResource(withChanges(patient, { name: [{ given: ['Ann', null], _given: [null, { extension: [{ url: 'http://example.org/x', valueCode: 'unknown' }] }] }] }))).toEqual([]);
  });

  it('checks the format of primitives', () => {
    expect(summary(withChanges(patient, { birthDate: '1981-02-29' }))).toEqual(['error value Patient.birthDate']);
    expect(summary(withChanges(patient, { id: 'has space' }))).toEqual(['error value Patient.id']);
    expect(summary(withChanges(patient, { multipleBirthInteger: 1.5 }))).toEqual(['error value Patient.multipleBirth.ofType(integer)']);
    expect(summary(withChanges(patient, { name: [{ family: '' }] }))).toEqual(['error value Patient.name[0].family']);
    // R4 allows whitespace in base64Binary (medplum does not).
    expect(validateResource(withChanges(patient, { photo: [{ contentType: 'image/png', data: 'iVBO Rw0K\nGgo=' }] }))).toEqual([]);
  });

  it('refuses a code outside a required value set, and names the code', () => {
    expect(summary(withChanges(observation, { status: 'bogus' }))).toEqual(['error code-invalid Observation.status']);
    expect(summary(withChanges(patient, { gender: 'F' }))).toEqual(['error code-invalid Patient.gender']);
    expect(summary(withChanges(observation, { valueQuantity: { value: 72, comparator: '~' } }))).toEqual(['error code-invalid Observation.value.ofType(Quantity).comparator']);
    const condition = {
      resourceType: 'Condition',
      subject: { reference: 'Patient/example' },
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    };
    expect(validateResource(condition)).toEqual([]);
    expect(summary({ ...condition, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'cured' }] } })).toEqual([
      'error code-invalid Condition.clinicalStatus.coding[0].code',
    ]);
    expect(summary({ ...condition, clinicalStatus: { text: 'Active' } })).toEqual(['error code-invalid Condition.clinicalStatus']);
    // A translation alongside a coding from the value set is fine.
    const translated = { coding: [{ system: 'http://snomed.info/sct', code: '55561003' }, { system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] };
    expect(validateResource({ ...condition, clinicalStatus: translated })).toEqual([]);
  });

  it('refuses an NHS number that fails the Modulus 11 check, wherever the identifier is', () => {
    expect(summary(withChanges(patient, { identifier: [{ system: NHS_NUMBER_SYSTEM, value: '9434765918' }] }))).toEqual(['error value Patient.identifier[0].value']);
    expect(summary(withChanges(observation, { subject: { identifier: { system: NHS_NUMBER_SYSTEM, value: '943 476 5919' } } }))).toEqual([
      'error value Observation.subject.identifier.value',
    ]);
    const [issue] = validateResource(withChanges(patient, { identifier: [{ system: 'https://example.org/mrn', value: 'x' }, { system: NHS_NUMBER_SYSTEM, value: '1234567890' }] }));
    expect(issue).toMatchObject({ severity: 'error', code: 'value', expression: 'Patient.identifier[1].value' } satisfies Partial<ValidationIssue>);
    expect(validateResource(withChanges(patient, { identifier: [{ system: 'https://example.org/mrn', value: '9434765918' }] }))).toEqual([]);
  });

  it('evaluates invariants, on data types at any depth too', () => {
    expect(summary(withChanges(observation, { dataAbsentReason: { text: 'not measured' } }))).toEqual(['error invariant Observation']);
    const period: Record<string, unknown> = withChanges(observation, { effectivePeriod: { start: '2024-03-01', end: '2024-02-01' } });
    delete period.effectiveDateTime;
    expect(summary(period)).toEqual([
      'error invariant Observation.effective.ofType(Period)',
    ]);
    expect(summary(withChanges(patient, { extension: [{ url: 'http://example.org/x', valueString: 'a', extension: [{ url: 'y', valueString: 'b' }] }] }))).toEqual([
      'error invariant Patient.extension[0]',
    ]);
    expect(summary(withChanges(patient, { managingOrganization: { reference: '#org' } }))).toEqual(['error invariant Patient.managingOrganization']);
    expect(validateResource(withChanges(patient, { contained: [{ resourceType: 'Organization', id: 'org', name: 'GP' }], managingOrganization: { reference: '#org' } }))).toEqual([]);
  });

  it('checks the resource types a reference may point at', () => {
    expect(summary(withChanges(observation, { subject: { reference: 'Medication/1' } }))).toEqual(['error structure Observation.subject.reference']);
    expect(validateResource(withChanges(observation, { subject: { reference: 'https://example.org/fhir/Patient/1/_history/2' } }))).toEqual([]);
    expect(validateResource(withChanges(observation, { subject: { reference: 'urn:uuid:c757873d-ec9a-4326-a141-556f43239520' } }))).toEqual([]);
  });

  it('validates resources inside resources', () => {
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: withChanges(patient, { gender: 7 }) }, { resource: { id: 'x' } }] };
    expect(summary(bundle)).toEqual(['error structure Bundle.entry[0].resource.gender', 'error required Bundle.entry[1].resource']);
    expect(summary(withChanges(patient, { contained: [{ resourceType: 'Nope' }] }))).toEqual(['error invalid Patient.contained[0]']);
  });

  it('refuses scripts in the narrative', () => {
    const div = '<div xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="alert(1)"/></div>';
    expect(summary(withChanges(patient, { text: { status: 'generated', div } }))).toEqual(['error value Patient.text.div']);
    expect(summary(withChanges(patient, { text: { status: 'generated', div: '<p>hi</p>' } }))).toEqual(['error value Patient.text.div']);
  });

  it('never throws, even for a resource nested too deep for the call stack', () => {
    let extension: Record<string, unknown> = { url: 'http://example.org/x', valueString: 'end' };
    for (let i = 0; i < 50_000; i++) extension = { url: 'http://example.org/x', extension: [extension] };
    const issues = validateResource({ resourceType: 'Patient', extension: [extension] });
    expect(hasErrors(issues)).toBe(true);
    expect(issues[0]?.code).toBe('exception');
  });
});

/**
 * The official R4 examples (hl7.fhir.r4.examples, 5,306 files). Validating all of them takes
 * about 40 s, mostly the large definition bundles and the StructureDefinitions, so this takes
 * every example under 300 KB except the conformance resources: of those every 25th, and every
 * 100th StructureDefinition. Across all 5,306 (measured when this was written), 5,283 are
 * accepted and 23 rejected, every one for a real breach of R4 (not for a gap in the validator):
 *   - a required element missing: ImplementationGuide-fhir and ig-r4 (name, status),
 *     Questionnaire-qs1 (item.linkId), 10 SearchParameters of extensions (base);
 *   - a reference to a type the element does not allow: DeviceMetric-example (parent is a
 *     DeviceDefinition), DeviceUseStatement-example (reasonReference is a Procedure),
 *     MedicationRequest-medrx0301 (dispenseRequest.performer is a Practitioner),
 *     Observation-clinical-gender (performer is an Encounter);
 *   - an invariant: four logical models with no baseDefinition (sdf-4), Bundle-dataelements
 *     (the same fullUrl twice, bdl-7);
 *   - an id longer than 64 characters: one SearchParameter.
 */
describe('the official R4 examples', () => {
  const CONFORMANCE = /^(StructureDefinition|SearchParameter|ValueSet|CodeSystem|ConceptMap|OperationDefinition|CapabilityStatement|ImplementationGuide)-/;
  let conformance = 0;
  let structureDefinitions = 0;
  const files = readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.json') && f !== 'package.json')
    .sort()
    .filter((f) => (f.startsWith('StructureDefinition-') ? structureDefinitions++ % 100 === 0 : !CONFORMANCE.test(f) || conformance++ % 25 === 0))
    .filter((f) => statSync(path.join(EXAMPLES, f)).size <= 300_000);
  const examples = files.map((f) => ({ file: f, resource: JSON.parse(readFileSync(path.join(EXAMPLES, f), 'utf8')) as unknown }));

  it('are accepted when they are valid R4', () => {
    const rejected: string[] = [];
    for (const { file, resource } of examples) {
      const errors = validateResource(resource).filter((i) => i.severity === 'error');
      if (errors.length > 0) rejected.push(`${file}: ${errors.map((e) => `${e.expression} ${e.message}`).join('; ')}`);
    }
    // Measured: 884 in the sample, 879 accepted; the 5 rejected are among those listed above.
    expect(examples.length).toBeGreaterThan(850);
    expect(examples.length - rejected.length, `rejected:\n${rejected.join('\n')}`).toBeGreaterThanOrEqual(examples.length - 5);
  }, 60_000);

  it('get the same answers from the JavaScript shortcuts as from FHIRPath alone', () => {
    for (const { file, resource } of examples) {
      if (CONFORMANCE.test(file)) continue;
      expect(validateResource(resource), file).toEqual(validateResource(resource, { fhirPathOnly: true }));
    }
  }, 60_000);
});
