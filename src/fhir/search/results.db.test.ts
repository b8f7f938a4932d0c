/**
 * What a search returns: _sort, paging links, _total, _summary, _elements, the Bundle itself,
 * unknown parameters (lenient and strict), system-level search and conditional matching.
 * https://hl7.org/fhir/R4/search.html#sort, #count, #total, #summary, #elements, #errors.
 */
import type { Bundle, Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, openTestDatabase } from '../../../test/support/database.js';
import { loadFhirDefinitions } from '../definitions.js';
import { FhirError } from '../outcome.js';
import { FhirStore } from '../store.js';
import { findMatching, resourceMatches } from './execute.js';
import { parseSearchRequest } from './parse.js';
import { TEST_BASE, matchIds, search, searchLenient } from './testing.js';

let t: TestDatabase;
let store: FhirStore;

async function put(resource: Resource & { id: string }): Promise<void> {
  await store.update(resource.resourceType, resource.id, resource);
}

const SORT = 'identifier=urn:sort|';

function patient(id: string, rest: Partial<Patient>): Patient & { id: string } {
  return { resourceType: 'Patient', id, identifier: [{ system: 'urn:sort', value: id }], ...rest };
}

beforeAll(async () => {
  loadFhirDefinitions();
  t = await openTestDatabase();
  store = new FhirStore(t.db);
  await put(
    patient('so-1', {
      name: [{ family: 'Adams' }],
      birthDate: '1980-01-01',
      gender: 'female',
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Adams</div>' },
      maritalStatus: { text: 'Married' },
      _birthDate: { extension: [{ url: 'http://example.org/birth-time', valueDateTime: '1980-01-01T03:00:00Z' }] },
    } as Partial<Patient>),
  );
  await put(patient('so-2', { name: [{ family: 'baker' }], birthDate: '1975-06-01', gender: 'male' }));
  await put(patient('so-3', { name: [{ family: 'Clark' }], birthDate: '1990', gender: 'female' }));
  await put(patient('so-4', { name: [{ family: 'adams' }], birthDate: '1985', gender: 'male' }));
  await put(patient('so-5', { gender: 'other' }));
  await put(patient('so-6', { name: [{ family: 'Zulu' }, { family: 'Able' }], birthDate: '1980-01-01' }));
  await put(patient('so-deleted', { name: [{ family: 'Aardvark' }] }));
  await store.delete('Patient', 'so-deleted');

  await put({ resourceType: 'Practitioner', id: 'pr-adams', name: [{ family: 'Adams' }] });
  await put({ resourceType: 'Organization', id: 'org-adams', name: 'Adams Surgery' });
  await put({
    resourceType: 'Observation',
    id: 'ob-1',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    subject: { reference: 'Patient/so-1' },
    valueQuantity: { value: 72, unit: '/min' },
    note: [{ text: 'after exercise' }],
    interpretation: [{ text: 'normal' }],
  });
});

afterAll(async () => t.close());

async function order(query: string): Promise<string[]> {
  return matchIds(await search(t.db, 'Patient', `${SORT}&${query}`));
}

describe('_sort', () => {
  it('sorts ascending by the smallest value, resources without a value last, ties by creation', async () => {
    expect(await order('_sort=family')).toEqual(['so-6', 'so-1', 'so-4', 'so-2', 'so-3', 'so-5']);
  });

  it('sorts descending by the largest value, resources without a value still last', async () => {
    expect(await order('_sort=-family')).toEqual(['so-6', 'so-3', 'so-2', 'so-1', 'so-4', 'so-5']);
  });

  it('sorts dates by the start of their range ascending and by the end descending', async () => {
    // 1980-01-01 < 1985 (all year) < 1990; descending compares the ends: 1990-12-31 > 1985-12-31 > 1980-01-01.
    expect(await order('_sort=birthdate,family')).toEqual(['so-2', 'so-6', 'so-1', 'so-4', 'so-3', 'so-5']);
    expect(await order('_sort=-birthdate,-family')).toEqual(['so-3', 'so-4', 'so-6', 'so-1', 'so-2', 'so-5']);
  });

  it('sorts by tokens and _id, several keys in both directions', async () => {
    expect(await order('_sort=gender,-_id')).toEqual(['so-3', 'so-1', 'so-4', 'so-2', 'so-5', 'so-6']);
    expect(await order('_sort=_id')).toEqual(['so-1', 'so-2', 'so-3', 'so-4', 'so-5', 'so-6']);
    expect(await order('_sort=-_id')).toEqual(['so-6', 'so-5', 'so-4', 'so-3', 'so-2', 'so-1']);
  });

  it('sorts by _lastUpdated', async () => {
    const bundle = await search(t.db, 'Patient', `${SORT}&_sort=-_lastUpdated`);
    const times = (bundle.entry ?? []).map((e) => e.resource?.meta?.lastUpdated ?? '');
    expect(times).toHaveLength(6);
    expect([...times].sort().reverse()).toEqual(times);
  });
});

/** The parameters of a link, as the client would send them back. */
function follow(bundle: Bundle, relation: string): Promise<Bundle> | undefined {
  const url = bundle.link?.find((l) => l.relation === relation)?.url;
  if (!url) return undefined;
  const parsed = new URL(url);
  expect(`${parsed.origin}${parsed.pathname}`).toBe(`${TEST_BASE}/Patient`);
  return search(t.db, 'Patient', parsed.search.slice(1));
}

describe('paging', () => {
  it('pages with _count through next links to the end, and back through previous', async () => {
    const first = await search(t.db, 'Patient', `${SORT}&_sort=family&_count=2`);
    expect(matchIds(first)).toEqual(['so-6', 'so-1']);
    expect(first.total).toBe(6);
    expect(first.link?.map((l) => l.relation)).toEqual(['self', 'first', 'next', 'last']);
    const second = (await follow(first, 'next')) as Bundle;
    expect(matchIds(second)).toEqual(['so-4', 'so-2']);
    const third = (await follow(second, 'next')) as Bundle;
    expect(matchIds(third)).toEqual(['so-3', 'so-5']);
    expect(follow(third, 'next')).toBeUndefined();
    expect(matchIds((await follow(third, 'previous')) as Bundle)).toEqual(['so-4', 'so-2']);
    expect(matchIds((await follow(second, 'previous')) as Bundle)).toEqual(['so-6', 'so-1']);
    expect(matchIds((await follow(first, 'last')) as Bundle)).toEqual(['so-3', 'so-5']);
    expect(first.link?.find((l) => l.relation === 'self')?.url).toBe(`${TEST_BASE}/Patient?identifier=urn%3Asort%7C&_sort=family&_count=2`);
    expect(second.link?.find((l) => l.relation === 'self')?.url).toBe(`${TEST_BASE}/Patient?identifier=urn%3Asort%7C&_sort=family&_count=2&_offset=2`);
  });

  it('is stable without _sort: every resource once, across pages of 4', async () => {
    const seen: string[] = [];
    let page: Bundle | undefined = await search(t.db, 'Patient', `${SORT}&_count=4`);
    while (page) {
      seen.push(...matchIds(page));
      page = await follow(page, 'next');
    }
    expect(seen.sort()).toEqual(['so-1', 'so-2', 'so-3', 'so-4', 'so-5', 'so-6']);
  });

  it('defaults to 20 a page and gives an empty page past the end', async () => {
    expect(matchIds(await search(t.db, 'Patient', SORT))).toHaveLength(6);
    const past = await search(t.db, 'Patient', `${SORT}&_offset=10`);
    expect(matchIds(past)).toEqual([]);
    expect(past.total).toBe(6);
  });
});

describe('_total and _summary=count', () => {
  it('counts by default and for accurate and estimate; none leaves total out but keeps next', async () => {
    expect((await search(t.db, 'Patient', `${SORT}&_count=1`)).total).toBe(6);
    expect((await search(t.db, 'Patient', `${SORT}&_count=1&_total=accurate`)).total).toBe(6);
    expect((await search(t.db, 'Patient', `${SORT}&_count=1&_total=estimate`)).total).toBe(6);
    const none = await search(t.db, 'Patient', `${SORT}&_count=1&_total=none`);
    expect(none.total).toBeUndefined();
    expect(none.link?.map((l) => l.relation)).toEqual(['self', 'first', 'next']);
  });

  it('_summary=count gives the total and no entries', async () => {
    const bundle = await search(t.db, 'Patient', `${SORT}&_summary=count`);
    expect(bundle.total).toBe(6);
    expect(bundle.entry).toBeUndefined();
    expect((await search(t.db, 'Patient', `family=adams&_summary=count`)).total).toBe(2);
    expect((await search(t.db, 'Patient', `${SORT}&_count=0`)).entry).toBeUndefined();
  });
});

describe('_summary and _elements', () => {
  const one = async (query: string, type = 'Patient', id = 'so-1'): Promise<Record<string, unknown>> => {
    const bundle = await search(t.db, type, `_id=${id}&${query}`);
    return bundle.entry?.[0]?.resource as unknown as Record<string, unknown>;
  };
  const tagged = (r: Record<string, unknown>): boolean => ((r.meta as { tag?: { code?: string }[] } | undefined)?.tag ?? []).some((x) => x.code === 'SUBSETTED');

  it('_summary=true keeps the summary elements, id and meta, and marks the resource SUBSETTED', async () => {
    const r = await one('_summary=true');
    expect(Object.keys(r).sort()).toEqual(['_birthDate', 'birthDate', 'gender', 'id', 'identifier', 'meta', 'name', 'resourceType']);
    expect(tagged(r)).toBe(true);
    const o = await one('_summary=true', 'Observation', 'ob-1');
    expect(Object.keys(o).sort()).toEqual(['code', 'id', 'meta', 'resourceType', 'status', 'subject', 'valueQuantity']);
  });

  it('_summary=text keeps the narrative, id, meta and mandatory elements', async () => {
    expect(Object.keys(await one('_summary=text')).sort()).toEqual(['id', 'meta', 'resourceType', 'text']);
    expect(Object.keys(await one('_summary=text', 'Observation', 'ob-1')).sort()).toEqual(['code', 'id', 'meta', 'resourceType', 'status']);
  });

  it('_summary=data drops only the narrative; _summary=false changes nothing', async () => {
    const data = await one('_summary=data');
    expect(data.text).toBeUndefined();
    expect(data.maritalStatus).toEqual({ text: 'Married' });
    expect(tagged(data)).toBe(true);
    const full = await one('_summary=false');
    expect(full.text).toBeDefined();
    expect(tagged(full)).toBe(false);
  });

  it('_elements keeps the listed elements (choice types by their base name) and the mandatory ones', async () => {
    expect(Object.keys(await one('_elements=gender')).sort()).toEqual(['gender', 'id', 'meta', 'resourceType']);
    expect(Object.keys(await one('_elements=value,note', 'Observation', 'ob-1')).sort()).toEqual(['code', 'id', 'meta', 'note', 'resourceType', 'status', 'valueQuantity']);
    expect(Object.keys(await one('_elements=Observation.subject', 'Observation', 'ob-1')).sort()).toEqual(['code', 'id', 'meta', 'resourceType', 'status', 'subject']);
  });

  it('leaves included resources whole', async () => {
    const bundle = await search(t.db, 'Observation', '_id=ob-1&_elements=status&_include=Observation:subject');
    const included = bundle.entry?.find((e) => e.search?.mode === 'include')?.resource as Patient;
    expect(included.maritalStatus).toEqual({ text: 'Married' });
    expect(included.meta?.tag).toBeUndefined();
  });
});

describe('the Bundle', () => {
  it('is a searchset with fullUrls and match entries', async () => {
    const bundle = await search(t.db, 'Patient', 'family=clark');
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
    expect(bundle.entry).toEqual([{ fullUrl: `${TEST_BASE}/Patient/so-3`, resource: expect.objectContaining({ id: 'so-3' }) as unknown, search: { mode: 'match' } }]);
  });

  it('never returns deleted resources', async () => {
    expect(matchIds(await search(t.db, 'Patient', 'family=aardvark'))).toEqual([]);
    expect(matchIds(await search(t.db, 'Patient', '_id=so-deleted'))).toEqual([]);
  });
});

describe('parameters that are not understood', () => {
  it('lenient: the search goes on without them, and an OperationOutcome entry says why', async () => {
    const bundle = await searchLenient(t.db, 'Patient', 'family=adams&colour=red&birthdate=nonsense');
    expect(matchIds(bundle).sort()).toEqual(['so-1', 'so-4']);
    const outcome = bundle.entry?.find((e) => e.search?.mode === 'outcome');
    expect(outcome?.resource).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        { severity: 'warning', code: 'not-supported', diagnostics: 'colour: colour is not a search parameter of Patient', expression: ['colour'] },
        { severity: 'warning', code: 'invalid', diagnostics: expect.stringMatching(/^birthdate: 'nonsense' is not a date/) as unknown, expression: ['birthdate'] },
      ],
    });
    expect(bundle.link?.[0]?.url).toBe(`${TEST_BASE}/Patient?family=adams&_count=20`);
  });

  it('strict: errors naming each parameter, for the caller to answer 400', () => {
    const { issues } = parseSearchRequest('Patient', [['family', 'adams'], ['colour', 'red'], ['_text', 'x']], { strict: true });
    expect(issues.map((i) => [i.severity, i.code, i.expression])).toEqual([
      ['error', 'not-supported', 'colour'],
      ['error', 'not-supported', '_text'],
    ]);
  });
});

describe('system-level search', () => {
  it('searches several types across both families with _type, sorted together', async () => {
    const bundle = await search(t.db, undefined, '_type=Patient,Practitioner,Organization&name=adams&_sort=-_id');
    expect(matchIds(bundle)).toEqual(['so-4', 'so-1', 'pr-adams', 'org-adams']);
    expect(bundle.total).toBe(4);
    expect(bundle.entry?.[2]?.fullUrl).toBe(`${TEST_BASE}/Practitioner/pr-adams`);
    expect(bundle.link?.[0]?.url).toBe(`${TEST_BASE}?_type=Patient%2CPractitioner%2COrganization&name=adams&_sort=-_id&_count=20`);
  });

  it('searches every type by the parameters all resources share', async () => {
    expect(matchIds(await search(t.db, undefined, '_id=so-1,pr-adams,ob-1&_sort=_id'))).toEqual(['ob-1', 'pr-adams', 'so-1']);
    const paged = await search(t.db, undefined, '_id=so-1,pr-adams,ob-1&_sort=_id&_count=1&_offset=1');
    expect(matchIds(paged)).toEqual(['pr-adams']);
    expect(paged.total).toBe(3);
  });
});

describe('conditional matching', () => {
  it('finds the ids a query string matches, for conditional create, update and delete', async () => {
    expect(await findMatching(t.db, 'Patient', 'identifier=urn:sort|so-2', { baseUrl: TEST_BASE })).toEqual([{ id: 'so-2' }]);
    expect(await findMatching(t.db, 'Patient', '?family=adams', { baseUrl: TEST_BASE })).toHaveLength(2);
    expect(await findMatching(t.db, 'Patient', 'family=adams', { baseUrl: TEST_BASE, limit: 1 })).toHaveLength(1);
    expect(await findMatching(t.db, 'Patient', 'family=nobody', { baseUrl: TEST_BASE })).toEqual([]);
  });

  it('refuses a query it does not fully understand', async () => {
    const error = await findMatching(t.db, 'Patient', 'identifier=x&colour=red', { baseUrl: TEST_BASE }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FhirError);
    expect((error as FhirError).status).toBe(400);
    expect((error as FhirError).issues[0]?.expression).toBe('colour');
  });

  it('tells whether one resource matches', async () => {
    expect(await resourceMatches(t.db, 'Patient', 'so-1', 'family=adams&gender=female', { baseUrl: TEST_BASE })).toBe(true);
    expect(await resourceMatches(t.db, 'Patient', 'so-4', 'family=adams&gender=female', { baseUrl: TEST_BASE })).toBe(false);
  });
});
