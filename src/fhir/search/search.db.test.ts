/**
 * FHIR R4 search, parameter type by parameter type, against https://hl7.org/fhir/R4/search.html:
 * resources are written through the store, and each case names exactly the ids that come back.
 */
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, openTestDatabase } from '../../../test/support/database.js';
import { loadFhirDefinitions } from '../definitions.js';
import { FhirStore } from '../store.js';
import { ids } from './testing.js';

let t: TestDatabase;
let store: FhirStore;

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

async function put(resource: Resource & { id: string }): Promise<void> {
  await store.update(resource.resourceType, resource.id, resource);
}

/** An Observation in a named group (its category), so each group's cases see only its own. */
function obs(id: string, group: string, rest: Record<string, unknown>): Resource & { id: string } {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    category: [{ coding: [{ system: 'http://example.org/group', code: group }] }],
    code: { coding: [{ system: LOINC, code: group }] },
    ...rest,
  };
}

const find = (type: string, query: string, now?: Date): Promise<string[]> => ids(t.db, type, query, now ? { now } : {});

beforeAll(async () => {
  loadFhirDefinitions();
  t = await openTestDatabase();
  store = new FhirStore(t.db);

  // Dates (Observation.effective, parameter `date`) at every precision, and Periods open at either end.
  await put(obs('d-instant', 'dates', { effectiveDateTime: '2024-03-15T10:00:00Z' }));
  await put(obs('d-day', 'dates', { effectiveDateTime: '2024-03-15' }));
  await put(obs('d-month', 'dates', { effectiveDateTime: '2024-03' }));
  await put(obs('d-april', 'dates', { effectiveDateTime: '2024-04-02' }));
  await put(obs('d-feb', 'dates', { effectiveDateTime: '2024-02-28T23:00:00Z' }));
  await put(obs('d-closed', 'dates', { effectivePeriod: { start: '2024-03-10', end: '2024-03-20' } }));
  await put(obs('d-open-end', 'dates', { effectivePeriod: { start: '2024-03-10' } }));
  await put(obs('d-open-start', 'dates', { effectivePeriod: { end: '2024-02-01' } }));
  await put(obs('d-none', 'dates', {}));

  // Numbers (RiskAssessment.prediction.probability).
  for (const [id, p] of [['n-39', 39], ['n-49-4', 49.4], ['n-49-5', 49.5], ['n-50', 50], ['n-50-4', 50.4], ['n-50-5', 50.5], ['n-61', 61]] as const) {
    await put({ resourceType: 'RiskAssessment', id, status: 'final', subject: { reference: 'Patient/nobody' }, prediction: [{ probabilityDecimal: p }] });
  }
  await put({ resourceType: 'RiskAssessment', id: 'n-none', status: 'final', subject: { reference: 'Patient/nobody' } });

  // Quantities (Observation.valueQuantity).
  await put(obs('q-mg', 'qty', { valueQuantity: { value: 5.4, unit: 'mg', system: UCUM, code: 'mg' } }));
  await put(obs('q-unit-only', 'qty', { valueQuantity: { value: 5.4, unit: 'mg' } }));
  await put(obs('q-g', 'qty', { valueQuantity: { value: 5.4, unit: 'g', system: UCUM, code: 'g' } }));
  await put(obs('q-mg-5-5', 'qty', { valueQuantity: { value: 5.5, unit: 'milligram', system: UCUM, code: 'mg' } }));
  await put(obs('q-bp', 'qty', { valueQuantity: { value: 120, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } }));
  await put(obs('q-none', 'qty', { valueString: 'not measured' }));

  // Tokens (Observation.code, status), Identifier types, booleans.
  const tok = (id: string, code: Record<string, unknown>, status: string): Resource & { id: string } => ({ ...obs(id, 'tok', {}), code, status } as Resource & { id: string });
  await put(tok('t-loinc', { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] }, 'final'));
  await put(tok('t-snomed', { coding: [{ system: 'http://snomed.info/sct', code: '8480-6' }] }, 'preliminary'));
  await put(tok('t-nosystem', { coding: [{ code: '8480-6' }] }, 'final'));
  await put(tok('t-diastolic', { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }] }, 'amended'));
  await put(tok('t-text', { text: 'Heart rate' }, 'final'));
  await put({
    resourceType: 'Patient',
    id: 'p-ids',
    active: true,
    identifier: [
      { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' },
      { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: 'urn:oid:1.2.3', value: 'MR-1' },
    ],
    meta: {
      tag: [{ system: 'http://example.org/tags', code: 'vip' }],
      security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }],
      profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient'],
    },
  });
  await put({ resourceType: 'Patient', id: 'p-inactive', active: false, identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000017' }] });

  // Strings (Patient names): case, accents, LIKE wildcards.
  await put({ resourceType: 'Patient', id: 's-jose', name: [{ family: 'José', given: ['María'] }] });
  await put({ resourceType: 'Patient', id: 's-jones', name: [{ family: 'Jones', given: ['Ann'] }] });
  await put({ resourceType: 'Patient', id: 's-smith', name: [{ family: 'Smith', given: ['John'] }], birthDate: '1970-05-01' });
  await put({ resourceType: 'Patient', id: 's-osmith', name: [{ family: "O'Smith" }], address: [{ city: 'Leeds', postalCode: 'LS1 4AP' }] });
  await put({ resourceType: 'Patient', id: 's-percent', name: [{ family: '50%_off' }] });
  await put({ resourceType: 'Patient', id: 's-500', name: [{ family: '500x' }] });

  // URIs (ValueSet.url) and canonicals (QuestionnaireResponse.questionnaire).
  await put({ resourceType: 'ValueSet', id: 'vs-a', status: 'active', url: 'http://acme.org/fhir/ValueSet/a' });
  await put({ resourceType: 'ValueSet', id: 'vs-ab', status: 'active', url: 'http://acme.org/fhir/ValueSet/a/b' });
  await put({ resourceType: 'ValueSet', id: 'vs-other', status: 'active', url: 'http://other.org/ValueSet/a' });
  await put({ resourceType: 'QuestionnaireResponse', id: 'qr-v1', status: 'completed', questionnaire: 'http://acme.org/Questionnaire/q|1.0' });
  await put({ resourceType: 'QuestionnaireResponse', id: 'qr-plain', status: 'completed', questionnaire: 'http://acme.org/Questionnaire/q' });
  await put({ resourceType: 'QuestionnaireResponse', id: 'qr-other', status: 'completed', questionnaire: 'http://acme.org/Questionnaire/qq' });

  // References in every form.
  await put(obs('r-relative', 'ref', { subject: { reference: 'Patient/p-ref' } }));
  await put(obs('r-absolute-here', 'ref', { subject: { reference: 'http://fhir.test/fhir/Patient/p-ref' } }));
  await put(obs('r-absolute-elsewhere', 'ref', { subject: { reference: 'http://other.org/fhir/Patient/p-ref' } }));
  await put(obs('r-group', 'ref', { subject: { reference: 'Group/g1' } }));
  await put(obs('r-other-patient', 'ref', { subject: { reference: 'Patient/p-other' } }));
  await put(obs('r-versioned', 'ref', { subject: { reference: 'Patient/p-ref/_history/2' } }));
  await put(obs('r-none', 'ref', {}));

  // Composites: blood pressure components; the second has the values the other way round.
  const component = (code: string, value: number): Record<string, unknown> => ({ code: { coding: [{ system: LOINC, code }] }, valueQuantity: { value, system: UCUM, code: 'mm[Hg]', unit: 'mmHg' } });
  await put(obs('bp-high', 'bp', { component: [component('8480-6', 150), component('8462-4', 95)] }));
  await put(obs('bp-swapped', 'bp', { component: [component('8480-6', 95), component('8462-4', 150)] }));
  await put(obs('bp-normal', 'bp', { component: [component('8480-6', 118), component('8462-4', 76)] }));
});

afterAll(async () => t.close());

describe('date', () => {
  const dates = (q: string, now?: Date): Promise<string[]> => find('Observation', `category=dates&date=${q}`, now);

  it('eq (the default): the stored range lies within the search range, at the search value\'s precision', async () => {
    expect(await dates('2024-03')).toEqual(['d-closed', 'd-day', 'd-instant', 'd-month']);
    expect(await dates('eq2024-03')).toEqual(['d-closed', 'd-day', 'd-instant', 'd-month']);
    expect(await dates('2024-03-15')).toEqual(['d-day', 'd-instant']);
    expect(await dates('2024-03-15T10:00:00Z')).toEqual(['d-instant']);
    expect(await dates('2024-03-15T11:00:00%2B01:00')).toEqual(['d-instant']);
    expect(await dates('2024')).toEqual(['d-april', 'd-closed', 'd-day', 'd-feb', 'd-instant', 'd-month']);
  });

  it('ne: a value that is not eq (resources without the value do not match)', async () => {
    expect(await dates('ne2024-03')).toEqual(['d-april', 'd-feb', 'd-open-end', 'd-open-start']);
    expect(await dates('ne2024-03-15')).toEqual(['d-april', 'd-closed', 'd-feb', 'd-month', 'd-open-end', 'd-open-start']);
  });

  it('gt and lt: the stored range reaches past the end (before the start) of the search range', async () => {
    expect(await dates('gt2024-03')).toEqual(['d-april', 'd-open-end']);
    expect(await dates('gt2024-03-15')).toEqual(['d-april', 'd-closed', 'd-month', 'd-open-end']);
    expect(await dates('lt2024-03')).toEqual(['d-feb', 'd-open-start']);
    expect(await dates('lt2024-03-15')).toEqual(['d-closed', 'd-feb', 'd-month', 'd-open-end', 'd-open-start']);
  });

  it('ge and le: gt or eq, lt or eq', async () => {
    expect(await dates('ge2024-03')).toEqual(['d-april', 'd-closed', 'd-day', 'd-instant', 'd-month', 'd-open-end']);
    expect(await dates('le2024-03')).toEqual(['d-closed', 'd-day', 'd-feb', 'd-instant', 'd-month', 'd-open-start']);
    expect(await dates('ge2024-03-15')).toEqual(['d-april', 'd-closed', 'd-day', 'd-instant', 'd-month', 'd-open-end']);
    expect(await dates('le2024-03-15')).toEqual(['d-closed', 'd-day', 'd-feb', 'd-instant', 'd-month', 'd-open-end', 'd-open-start']);
  });

  it('sa and eb: the stored range starts after (ends before) the search range, no overlap', async () => {
    expect(await dates('sa2024-03')).toEqual(['d-april']);
    expect(await dates('sa2024-03-15')).toEqual(['d-april']);
    expect(await dates('eb2024-03')).toEqual(['d-feb', 'd-open-start']);
    expect(await dates('eb2024-03-15')).toEqual(['d-feb', 'd-open-start']);
    expect(await dates('sa2023')).toEqual(['d-april', 'd-closed', 'd-day', 'd-feb', 'd-instant', 'd-month', 'd-open-end']);
  });

  it('ap: overlaps the search range widened by 10% of the time between now and the value', async () => {
    // Now 2024-04-30: March's far end is 60 days away, so the range widens by 6 days each side,
    // [2024-02-24, 2024-04-06]: the end of February and the start of April are approximately March.
    const now = new Date('2024-04-30T00:00:00Z');
    expect(await dates('ap2024-03', now)).toEqual(['d-april', 'd-closed', 'd-day', 'd-feb', 'd-instant', 'd-month', 'd-open-end']);
    // Seen from 2034, ten years on, a year either side is approximately March 2024.
    expect(await dates('ap2024-03', new Date('2034-03-01T00:00:00Z'))).toEqual(['d-april', 'd-closed', 'd-day', 'd-feb', 'd-instant', 'd-month', 'd-open-end', 'd-open-start']);
    // And close to now, barely wider than the day itself.
    expect(await dates('ap2024-03-15', new Date('2024-03-16T00:00:00Z'))).toEqual(['d-closed', 'd-day', 'd-instant', 'd-month', 'd-open-end']);
  });

  it('ANDs repetitions (a date range) and ORs commas', async () => {
    expect(await find('Observation', 'category=dates&date=ge2024-03-01&date=le2024-03-31')).toEqual(['d-closed', 'd-day', 'd-instant', 'd-month', 'd-open-end']);
    expect(await dates('2024-04,2024-02')).toEqual(['d-april', 'd-feb']);
  });

  it(':missing', async () => {
    expect(await find('Observation', 'category=dates&date:missing=true')).toEqual(['d-none']);
    expect(await find('Observation', 'category=dates&date:missing=false')).toHaveLength(8);
  });

  it('_lastUpdated compares the time the store wrote the resource', async () => {
    const today = new Date().toISOString().slice(0, 10);
    expect(await find('Observation', 'category=dates&_lastUpdated=lt2020-01-01')).toEqual([]);
    expect(await find('Observation', `category=dates&_lastUpdated=ge${today}`)).toHaveLength(9);
    expect(await find('Observation', 'category=dates&_lastUpdated=gt2020&_lastUpdated=lt2999')).toHaveLength(9);
  });
});

describe('number', () => {
  const prob = (q: string): Promise<string[]> => find('RiskAssessment', `probability=${q}`);

  it('eq uses the implicit precision of the value: 50 is [49.5, 50.5), 50.0 is [49.95, 50.05)', async () => {
    expect(await prob('50')).toEqual(['n-49-5', 'n-50', 'n-50-4']);
    expect(await prob('eq50')).toEqual(['n-49-5', 'n-50', 'n-50-4']);
    expect(await prob('50.0')).toEqual(['n-50']);
    expect(await prob('49.5')).toEqual(['n-49-5']);
  });

  it('reads exponents as significant figures: 5e1 is one figure, [45, 55); 5.0e1 is [49.5, 50.5)', async () => {
    expect(await prob('5e1')).toEqual(['n-49-4', 'n-49-5', 'n-50', 'n-50-4', 'n-50-5']);
    expect(await prob('5.0e1')).toEqual(['n-49-5', 'n-50', 'n-50-4']);
    expect(await prob('5.00E1')).toEqual(['n-50']);
  });

  it('ne is the complement of eq among resources with a value', async () => {
    expect(await prob('ne50')).toEqual(['n-39', 'n-49-4', 'n-50-5', 'n-61']);
  });

  it('gt, lt, ge and le compare with the exact value', async () => {
    expect(await prob('gt50')).toEqual(['n-50-4', 'n-50-5', 'n-61']);
    expect(await prob('ge50')).toEqual(['n-50', 'n-50-4', 'n-50-5', 'n-61']);
    expect(await prob('lt50')).toEqual(['n-39', 'n-49-4', 'n-49-5']);
    expect(await prob('le50')).toEqual(['n-39', 'n-49-4', 'n-49-5', 'n-50']);
  });

  it('sa and eb are beyond the precision range; ap is within 10%', async () => {
    expect(await prob('sa50')).toEqual(['n-50-5', 'n-61']);
    expect(await prob('eb50')).toEqual(['n-39', 'n-49-4']);
    expect(await prob('ap50')).toEqual(['n-49-4', 'n-49-5', 'n-50', 'n-50-4', 'n-50-5']);
  });

  it('ORs values and reports :missing', async () => {
    expect(await prob('39,61')).toEqual(['n-39', 'n-61']);
    expect(await find('RiskAssessment', 'probability:missing=true')).toEqual(['n-none']);
  });
});

describe('quantity', () => {
  const qty = (q: string): Promise<string[]> => find('Observation', `category=qty&value-quantity=${q}`);

  it('a number alone matches any unit', async () => {
    expect(await qty('5.4')).toEqual(['q-g', 'q-mg', 'q-unit-only']);
    expect(await qty('5.40')).toEqual(['q-g', 'q-mg', 'q-unit-only']);
    expect(await qty('1.2e2')).toEqual(['q-bp']);
  });

  it('number|system|code matches the system and code', async () => {
    expect(await qty(`5.4|${UCUM}|mg`)).toEqual(['q-mg']);
    expect(await qty(`5.4|${UCUM}|g`)).toEqual(['q-g']);
    expect(await qty('5.4|http://other.org|mg')).toEqual([]);
  });

  it('number||code matches the code or the unit text', async () => {
    expect(await qty('5.4||mg')).toEqual(['q-mg', 'q-unit-only']);
    expect(await qty('5.4||milligram')).toEqual([]);
    expect(await qty('5.5||milligram')).toEqual(['q-mg-5-5']);
  });

  it('takes prefixes with units', async () => {
    expect(await qty('gt5.4||mg')).toEqual(['q-mg-5-5']);
    expect(await qty(`ge5.4|${UCUM}|mg`)).toEqual(['q-mg', 'q-mg-5-5']);
    expect(await qty(`ap5|${UCUM}|mg`)).toEqual(['q-mg', 'q-mg-5-5']);
    expect(await qty('lt100')).toEqual(['q-g', 'q-mg', 'q-mg-5-5', 'q-unit-only']);
    expect(await qty(`sa5.4|${UCUM}|mg`)).toEqual(['q-mg-5-5']);
    expect(await qty('eb5.5')).toEqual(['q-g', 'q-mg', 'q-unit-only']);
    expect(await qty('ne5.4')).toEqual(['q-bp', 'q-mg-5-5']);
  });

  it(':missing', async () => {
    expect(await find('Observation', 'category=qty&value-quantity:missing=true')).toEqual(['q-none']);
  });
});

describe('token', () => {
  const tok = (q: string): Promise<string[]> => find('Observation', `category=tok&${q}`);

  it('code, system|code, |code and system|', async () => {
    expect(await tok('code=8480-6')).toEqual(['t-loinc', 't-nosystem', 't-snomed']);
    expect(await tok(`code=${LOINC}|8480-6`)).toEqual(['t-loinc']);
    expect(await tok('code=|8480-6')).toEqual(['t-nosystem']);
    expect(await tok(`code=${LOINC}|`)).toEqual(['t-diastolic', 't-loinc']);
    expect(await tok('code=8480-6,8462-4')).toEqual(['t-diastolic', 't-loinc', 't-nosystem', 't-snomed']);
  });

  it('matches codes case-sensitively', async () => {
    expect(await tok('status=FINAL')).toEqual([]);
    expect(await tok('status=final')).toEqual(['t-loinc', 't-nosystem', 't-text']);
  });

  it(':not finds resources with no matching code, including those without the element', async () => {
    expect(await tok('status:not=final')).toEqual(['t-diastolic', 't-snomed']);
    expect(await tok('code:not=8480-6')).toEqual(['t-diastolic', 't-text']);
    expect(await tok(`code:not=${LOINC}|8480-6`)).toEqual(['t-diastolic', 't-nosystem', 't-snomed', 't-text']);
    expect(await tok('status:not=final,amended')).toEqual(['t-snomed']);
    expect(await find('Patient', '_id=p-ids,s-jose&identifier:not=https://fhir.nhs.uk/Id/nhs-number|9000000009')).toEqual(['s-jose']);
  });

  it(':text matches the start of the display or text, or of a word in it, ignoring case and accents', async () => {
    expect(await tok('code:text=systolic')).toEqual(['t-loinc']);
    expect(await tok('code:text=blood')).toEqual(['t-diastolic', 't-loinc']);
    expect(await tok('code:text=PRESS')).toEqual(['t-diastolic', 't-loinc']);
    expect(await tok('code:text=héart')).toEqual(['t-text']);
    expect(await tok('code:text=ressure')).toEqual([]);
  });

  it('identifiers by system|value and :of-type', async () => {
    expect(await find('Patient', 'identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009')).toEqual(['p-ids']);
    expect(await find('Patient', 'identifier=9000000017')).toEqual(['p-inactive']);
    expect(await find('Patient', 'identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|MR-1')).toEqual(['p-ids']);
    expect(await find('Patient', 'identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|9000000009')).toEqual([]);
    expect(await find('Patient', 'identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|DL|MR-1')).toEqual([]);
  });

  it('booleans and _id', async () => {
    expect(await find('Patient', 'active=true')).toEqual(['p-ids']);
    expect(await find('Patient', 'active=false')).toEqual(['p-inactive']);
    expect(await find('Patient', '_id=p-ids,s-jose')).toEqual(['p-ids', 's-jose']);
    expect(await find('Patient', '_id=nobody')).toEqual([]);
    expect(await find('Patient', '_id:not=p-ids&identifier=https://fhir.nhs.uk/Id/nhs-number|')).toEqual(['p-inactive']);
  });

  it('the meta tokens _tag and _security; _profile is a uri', async () => {
    expect(await find('Patient', '_tag=http://example.org/tags|vip')).toEqual(['p-ids']);
    expect(await find('Patient', '_tag=vip')).toEqual(['p-ids']);
    expect(await find('Patient', '_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R')).toEqual(['p-ids']);
    expect(await find('Patient', '_profile=https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient')).toEqual(['p-ids']);
    expect(await find('Patient', '_tag:not=vip&identifier=https://fhir.nhs.uk/Id/nhs-number|')).toEqual(['p-inactive']);
  });

  it(':missing', async () => {
    expect(await find('Patient', 'identifier:missing=false')).toEqual(['p-ids', 'p-inactive']);
    expect(await find('Patient', '_id=p-ids,s-jose&identifier:missing=true')).toEqual(['s-jose']);
  });
});

describe('string', () => {
  it('starts-with by default, ignoring case and accents', async () => {
    expect(await find('Patient', 'family=jos')).toEqual(['s-jose']);
    expect(await find('Patient', 'family=JOSÉ')).toEqual(['s-jose']);
    expect(await find('Patient', 'family=jo')).toEqual(['s-jones', 's-jose']);
    expect(await find('Patient', 'family=smi')).toEqual(['s-smith']);
    expect(await find('Patient', 'name=maria')).toEqual(['s-jose']);
    expect(await find('Patient', 'given=john')).toEqual(['s-smith']);
  });

  it(':exact is the whole string, case and accents as written', async () => {
    expect(await find('Patient', 'family:exact=José')).toEqual(['s-jose']);
    expect(await find('Patient', 'family:exact=jose')).toEqual([]);
    expect(await find('Patient', 'family:exact=Jos')).toEqual([]);
  });

  it(':contains matches anywhere', async () => {
    expect(await find('Patient', 'family:contains=MITH')).toEqual(['s-osmith', 's-smith']);
    expect(await find('Patient', 'name:contains=ari')).toEqual(['s-jose']);
  });

  it('takes % and _ literally', async () => {
    expect(await find('Patient', 'family=50%25')).toEqual(['s-percent']);
    expect(await find('Patient', 'family=50_')).toEqual([]);
    expect(await find('Patient', 'family=50%25_')).toEqual(['s-percent']);
    expect(await find('Patient', 'family:contains=%25')).toEqual(['s-percent']);
  });

  it('searches the parts of an address, and ORs and ANDs values', async () => {
    expect(await find('Patient', 'address=leeds')).toEqual(['s-osmith']);
    expect(await find('Patient', 'address-postalcode=ls1')).toEqual(['s-osmith']);
    expect(await find('Patient', 'family=jones,smith')).toEqual(['s-jones', 's-smith']);
    expect(await find('Patient', 'name=jos&name=mar')).toEqual(['s-jose']);
    expect(await find('Patient', 'name=jos&name=ann')).toEqual([]);
  });

  it(':missing', async () => {
    expect(await find('Patient', 'family:missing=true&_id=p-ids,s-jose')).toEqual(['p-ids']);
  });
});

describe('uri', () => {
  it('matches exactly, :below by prefix and :above when the stored uri is a prefix of the value', async () => {
    expect(await find('ValueSet', 'url=http://acme.org/fhir/ValueSet/a')).toEqual(['vs-a']);
    expect(await find('ValueSet', 'url=http://acme.org/fhir/ValueSet')).toEqual([]);
    expect(await find('ValueSet', 'url:below=http://acme.org/fhir/')).toEqual(['vs-a', 'vs-ab']);
    expect(await find('ValueSet', 'url:above=http://acme.org/fhir/ValueSet/a/b/c')).toEqual(['vs-a', 'vs-ab']);
    expect(await find('ValueSet', 'url:above=http://acme.org/fhir/ValueSet/a')).toEqual(['vs-a']);
  });

  it('a canonical reference without a version matches every version of it', async () => {
    expect(await find('QuestionnaireResponse', 'questionnaire=http://acme.org/Questionnaire/q')).toEqual(['qr-plain', 'qr-v1']);
    expect(await find('QuestionnaireResponse', 'questionnaire=http://acme.org/Questionnaire/q|1.0')).toEqual(['qr-v1']);
    expect(await find('QuestionnaireResponse', 'questionnaire=http://acme.org/Questionnaire/q|2.0')).toEqual([]);
  });
});

describe('reference', () => {
  const ref = (q: string): Promise<string[]> => find('Observation', `category=ref&${q}`);

  it('Type/id matches relative references and absolute ones to this server, any version', async () => {
    expect(await ref('subject=Patient/p-ref')).toEqual(['r-absolute-here', 'r-relative', 'r-versioned']);
    expect(await ref('subject=Patient/p-ref/_history/2')).toEqual(['r-versioned']);
  });

  it('a bare id matches any type the parameter allows, or the :Type modifier\'s', async () => {
    expect(await ref('subject=p-ref')).toEqual(['r-absolute-here', 'r-relative', 'r-versioned']);
    expect(await ref('subject=g1')).toEqual(['r-group']);
    expect(await ref('subject:Patient=p-ref')).toEqual(['r-absolute-here', 'r-relative', 'r-versioned']);
    expect(await ref('subject:Group=p-ref')).toEqual([]);
    expect(await ref('subject:Group=g1')).toEqual(['r-group']);
  });

  it('an absolute URL matches that URL; one under this server\'s base also matches the local reference', async () => {
    expect(await ref('subject=http://other.org/fhir/Patient/p-ref')).toEqual(['r-absolute-elsewhere']);
    expect(await ref('subject=http://fhir.test/fhir/Patient/p-ref')).toEqual(['r-absolute-here', 'r-relative', 'r-versioned']);
  });

  it('parameters restricted to one target type (patient) and OR of values', async () => {
    expect(await ref('patient=Patient/p-ref&_id=r-relative,r-versioned,r-group')).toEqual(['r-relative', 'r-versioned']);
    expect(await ref('patient=g1')).toEqual([]);
    expect(await ref('subject=Patient/p-other,Group/g1')).toEqual(['r-group', 'r-other-patient']);
  });

  it('patient also matches an absolute reference to this server', async () => {
    expect(await ref('patient=Patient/p-ref')).toEqual(['r-absolute-here', 'r-relative', 'r-versioned']);
  });

  it(':missing', async () => {
    expect(await ref('subject:missing=true')).toEqual(['r-none']);
    expect(await ref('subject:missing=false')).toHaveLength(6);
  });
});

describe('composite', () => {
  const bp = (q: string): Promise<string[]> => find('Observation', `category=bp&${q}`);

  it('the components of one element must match together', async () => {
    expect(await bp(`component-code-value-quantity=${LOINC}|8480-6$150`)).toEqual(['bp-high']);
    expect(await bp(`component-code-value-quantity=${LOINC}|8480-6$gt140`)).toEqual(['bp-high']);
    expect(await bp(`component-code-value-quantity=8462-4$gt90|${UCUM}|mm[Hg]`)).toEqual(['bp-high', 'bp-swapped']);
    expect(await bp(`component-code-value-quantity=8462-4$lt90`)).toEqual(['bp-normal']);
  });

  it('ORs composite values and ANDs repetitions', async () => {
    expect(await bp(`component-code-value-quantity=8480-6$150,8480-6$118`)).toEqual(['bp-high', 'bp-normal']);
    expect(await bp(`component-code-value-quantity=8480-6$gt100&component-code-value-quantity=8462-4$gt100`)).toEqual([]);
    expect(await bp(`component-code-value-quantity=8480-6$ge95&component-code-value-quantity=8462-4$ge95`)).toEqual(['bp-high', 'bp-swapped']);
  });

  it('composite of the resource itself: code-value-quantity', async () => {
    expect(await find('Observation', `code-value-quantity=${LOINC}|qty$5.4|${UCUM}|g`)).toEqual(['q-g']);
    expect(await find('Observation', `code-value-quantity=${LOINC}|qty$gt100`)).toEqual(['q-bp']);
    expect(await find('Observation', `code-value-quantity=${LOINC}|tok$gt100`)).toEqual([]);
  });

  it(':missing', async () => {
    expect(await bp('component-code-value-quantity:missing=false')).toEqual(['bp-high', 'bp-normal', 'bp-swapped']);
    expect(await find('Observation', 'category=qty&component-code-value-quantity:missing=true')).toHaveLength(6);
  });
});
