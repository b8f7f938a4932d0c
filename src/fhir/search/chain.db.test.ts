/**
 * Chained parameters, reverse chaining (_has) and _include/_revinclude (with :iterate), across
 * both table families: https://hl7.org/fhir/R4/search.html#chaining, #has and #include.
 */
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, openTestDatabase } from '../../../test/support/database.js';
import { loadFhirDefinitions } from '../definitions.js';
import { FhirStore } from '../store.js';
import { ids, includeRefs, matchIds, search } from './testing.js';

let t: TestDatabase;
let store: FhirStore;

async function put(resource: Resource & { id: string }): Promise<void> {
  await store.update(resource.resourceType, resource.id, resource);
}

const code = (c: string): Record<string, unknown> => ({ coding: [{ system: 'http://example.org/codes', code: c }] });

beforeAll(async () => {
  loadFhirDefinitions();
  t = await openTestDatabase();
  store = new FhirStore(t.db);

  // Shared family: organisations (a ward part of a trust), a practitioner, a location.
  await put({ resourceType: 'Organization', id: 'org-trust', name: 'Leeds Teaching Hospitals' });
  await put({ resourceType: 'Organization', id: 'org-ward', name: 'Ward 5', partOf: { reference: 'Organization/org-trust' } });
  await put({ resourceType: 'Organization', id: 'org-other', name: 'Other Trust' });
  await put({ resourceType: 'Practitioner', id: 'pr-who', name: [{ family: 'Who', prefix: ['Dr'] }] });
  await put({ resourceType: 'Location', id: 'loc-smith', name: 'Smith Street Clinic' });

  // Patient family.
  await put({ resourceType: 'Patient', id: 'pa-ann', name: [{ family: 'Smith', given: ['Ann'] }], managingOrganization: { reference: 'Organization/org-ward' }, generalPractitioner: [{ reference: 'Practitioner/pr-who' }] });
  await put({ resourceType: 'Patient', id: 'pa-bob', name: [{ family: 'Jones', given: ['Bob'] }], managingOrganization: { reference: 'Organization/org-other' } });
  await put({ resourceType: 'Patient', id: 'pa-carl', name: [{ family: 'Carlsson', given: ['Carl'] }] });
  await put({ resourceType: 'Patient', id: 'pa-gone', name: [{ family: 'Deleted' }], managingOrganization: { reference: 'Organization/org-gone' } });
  await put({ resourceType: 'Organization', id: 'org-gone', name: 'Closed Trust' });

  await put({ resourceType: 'Observation', id: 'ob-ann-glucose', status: 'final', code: code('glucose'), subject: { reference: 'Patient/pa-ann' }, performer: [{ reference: 'Practitioner/pr-who' }] });
  await put({ resourceType: 'Observation', id: 'ob-bob-glucose', status: 'final', code: code('glucose'), subject: { reference: 'Patient/pa-bob' } });
  await put({ resourceType: 'Observation', id: 'ob-ann-hba1c', status: 'final', code: code('hba1c'), subject: { reference: 'Patient/pa-ann' } });
  await put({ resourceType: 'Observation', id: 'ob-clinic', status: 'final', code: code('air'), subject: { reference: 'Location/loc-smith' } });
  await put({ resourceType: 'Observation', id: 'ob-panel', status: 'final', code: code('panel'), subject: { reference: 'Patient/pa-ann' }, hasMember: [{ reference: 'Observation/ob-ann-glucose' }, { reference: 'Observation/ob-ann-hba1c' }] });
  await put({ resourceType: 'Observation', id: 'ob-gone', status: 'final', code: code('glucose'), subject: { reference: 'Patient/pa-gone' } });
  await put({ resourceType: 'Provenance', id: 'prov-1', recorded: '2024-01-01T00:00:00Z', target: [{ reference: 'Observation/ob-ann-glucose' }], agent: [{ who: { reference: 'Practitioner/pr-who' } }] });
  await put({ resourceType: 'Encounter', id: 'enc-ann', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/pa-ann' } });

  // Deleted resources are neither matched through a chain nor included.
  await store.delete('Patient', 'pa-gone');
  await store.delete('Organization', 'org-gone');
});

afterAll(async () => t.close());

describe('chained parameters', () => {
  it('follow a reference with a type modifier', async () => {
    expect(await ids(t.db, 'Observation', 'subject:Patient.name=smith')).toEqual(['ob-ann-glucose', 'ob-ann-hba1c', 'ob-panel']);
    expect(await ids(t.db, 'Observation', 'patient.name=jones')).toEqual(['ob-bob-glucose']);
  });

  it('without a type, follow every target type that has the parameter (Patient and Location here)', async () => {
    expect(await ids(t.db, 'Observation', 'subject.name=smith')).toEqual(['ob-ann-glucose', 'ob-ann-hba1c', 'ob-clinic', 'ob-panel']);
  });

  it('go two and three references deep, from the patient family into the shared one', async () => {
    expect(await ids(t.db, 'Observation', 'subject:Patient.organization.name=ward')).toEqual(['ob-ann-glucose', 'ob-ann-hba1c', 'ob-panel']);
    expect(await ids(t.db, 'Observation', 'patient.organization.partof.name=leeds')).toEqual(['ob-ann-glucose', 'ob-ann-hba1c', 'ob-panel']);
    expect(await ids(t.db, 'Observation', 'patient.organization.partof.name:exact=Leeds Teaching Hospitals')).toEqual(['ob-ann-glucose', 'ob-ann-hba1c', 'ob-panel']);
    expect(await ids(t.db, 'Observation', 'patient.organization.partof.name:exact=leeds teaching hospitals')).toEqual([]);
    expect(await ids(t.db, 'Observation', 'patient.general-practitioner.name=who')).toEqual(['ob-ann-glucose', 'ob-ann-hba1c', 'ob-panel']);
    expect(await ids(t.db, 'Observation', 'patient.organization=Organization/org-other')).toEqual(['ob-bob-glucose']);
  });

  it('OR the values at the end of the chain, AND repeated chains and other parameters', async () => {
    expect(await ids(t.db, 'Observation', 'patient.name=smith,jones')).toEqual(['ob-ann-glucose', 'ob-ann-hba1c', 'ob-bob-glucose', 'ob-panel']);
    expect(await ids(t.db, 'Observation', 'patient.name=smith&code=glucose')).toEqual(['ob-ann-glucose']);
    expect(await ids(t.db, 'Observation', 'patient.name=smith&patient.name=ann')).toEqual(['ob-ann-glucose', 'ob-ann-hba1c', 'ob-panel']);
    expect(await ids(t.db, 'Observation', 'patient.name=smith&patient.name=bob')).toEqual([]);
  });

  it('take modifiers at the end of the chain, :missing included', async () => {
    expect(await ids(t.db, 'Observation', 'patient.organization:missing=true')).toEqual([]);
    expect(await ids(t.db, 'Observation', 'patient.general-practitioner:missing=true')).toEqual(['ob-bob-glucose']);
    expect(await ids(t.db, 'Observation', 'patient._id=pa-bob')).toEqual(['ob-bob-glucose']);
  });

  it('never pass through a deleted resource', async () => {
    expect(await ids(t.db, 'Observation', 'patient.name=deleted')).toEqual([]);
    expect(await ids(t.db, 'Observation', 'code=glucose')).toEqual(['ob-ann-glucose', 'ob-bob-glucose', 'ob-gone']);
    expect(await ids(t.db, 'Observation', 'patient._id=pa-gone')).toEqual([]);
  });
});

describe('chains between patient-family types, looked up first or joined', () => {
  // Observation → Patient chains are resolved to the Patients' ids first (docs/scale-out.md rule 4)
  // unless they match more than maxResolvedTargets; both forms must give the same answer.
  const queries = [
    'subject:Patient.name=smith',
    'patient.name=smith,jones',
    'patient.name=smith&code=glucose',
    'patient.organization.partof.name=leeds',
    'patient.name=nobody',
    'patient._id=pa-gone',
    'patient.general-practitioner:missing=true',
  ];
  it('gives the same matches either way', async () => {
    for (const q of queries) {
      const resolved = await ids(t.db, 'Observation', q);
      expect(await ids(t.db, 'Observation', q, { maxResolvedTargets: 0 }), q).toEqual(resolved);
    }
    expect(await ids(t.db, 'Patient', '_has:Observation:patient:patient.name=ann', { maxResolvedTargets: 0 })).toEqual(['pa-ann']);
    expect(await ids(t.db, 'Patient', '_has:Observation:patient:patient.name=ann')).toEqual(['pa-ann']);
  });
});

describe('_has', () => {
  it('finds resources that other resources refer to, with a criterion on those', async () => {
    expect(await ids(t.db, 'Patient', '_has:Observation:patient:code=glucose')).toEqual(['pa-ann', 'pa-bob']);
    expect(await ids(t.db, 'Patient', '_has:Observation:patient:code=hba1c')).toEqual(['pa-ann']);
    expect(await ids(t.db, 'Patient', '_has:Observation:subject:performer=Practitioner/pr-who')).toEqual(['pa-ann']);
    expect(await ids(t.db, 'Patient', '_has:Observation:patient:code:not=glucose')).toEqual(['pa-ann']);
    expect(await ids(t.db, 'Patient', '_has:Observation:patient:code=air')).toEqual([]);
  });

  it('nests, and crosses families both ways', async () => {
    expect(await ids(t.db, 'Patient', '_has:Observation:patient:_has:Provenance:target:agent=Practitioner/pr-who')).toEqual(['pa-ann']);
    expect(await ids(t.db, 'Practitioner', '_has:Patient:general-practitioner:name=smith')).toEqual(['pr-who']);
    expect(await ids(t.db, 'Organization', '_has:Patient:organization:_has:Observation:patient:code=glucose')).toEqual(['org-other', 'org-ward']);
  });

  it('combines with other parameters, and ignores deleted referrers', async () => {
    expect(await ids(t.db, 'Patient', 'name=smith&_has:Observation:patient:code=glucose')).toEqual(['pa-ann']);
    expect(await ids(t.db, 'Patient', '_has:Observation:patient:code=glucose&_has:Observation:patient:code=hba1c')).toEqual(['pa-ann']);
    expect(await ids(t.db, 'Organization', '_has:Patient:organization:name=deleted')).toEqual([]);
  });

  it('ends in a chain', async () => {
    expect(await ids(t.db, 'Practitioner', '_has:Observation:performer:patient.name=ann')).toEqual(['pr-who']);
  });
});

describe('_include and _revinclude', () => {
  it('includes the resources the matches refer to, once each, marked include', async () => {
    const bundle = await search(t.db, 'Observation', 'code=glucose&_include=Observation:patient');
    expect(matchIds(bundle).sort()).toEqual(['ob-ann-glucose', 'ob-bob-glucose', 'ob-gone']);
    expect(includeRefs(bundle)).toEqual(['Patient/pa-ann', 'Patient/pa-bob']);
    expect(bundle.total).toBe(3);
    const included = bundle.entry?.find((e) => e.search?.mode === 'include');
    expect(included?.fullUrl).toBe(`http://fhir.test/fhir/${included?.resource?.resourceType ?? ''}/${included?.resource?.id ?? ''}`);
  });

  it('follows a target type, every reference (*), and several includes', async () => {
    expect(includeRefs(await search(t.db, 'Observation', '_id=ob-ann-glucose,ob-clinic&_include=Observation:subject:Location'))).toEqual(['Location/loc-smith']);
    expect(includeRefs(await search(t.db, 'Observation', '_id=ob-ann-glucose&_include=*'))).toEqual(['Patient/pa-ann', 'Practitioner/pr-who']);
    expect(includeRefs(await search(t.db, 'Observation', '_id=ob-ann-glucose&_include=Observation:patient&_include=Observation:performer'))).toEqual(['Patient/pa-ann', 'Practitioner/pr-who']);
  });

  it(':iterate follows the included resources too, to any depth', async () => {
    expect(includeRefs(await search(t.db, 'Observation', 'code=glucose&_include=Observation:patient&_include:iterate=Patient:organization'))).toEqual([
      'Organization/org-other', 'Organization/org-ward', 'Patient/pa-ann', 'Patient/pa-bob',
    ]);
    expect(includeRefs(await search(t.db, 'Observation', 'code=glucose&_include=Observation:patient&_include:iterate=Patient:organization&_include:iterate=Organization:partof'))).toEqual([
      'Organization/org-other', 'Organization/org-trust', 'Organization/org-ward', 'Patient/pa-ann', 'Patient/pa-bob',
    ]);
    // Without :iterate an include applies to the matches only.
    expect(includeRefs(await search(t.db, 'Observation', 'code=glucose&_include=Observation:patient&_include:iterate=Patient:organization&_include:iterate=Organization:partof&_count=1&_sort=_id'))).toEqual([
      'Organization/org-trust', 'Organization/org-ward', 'Patient/pa-ann',
    ]);
  });

  it('does not include a match again, or a deleted resource', async () => {
    const bundle = await search(t.db, 'Observation', '_id=ob-panel,ob-ann-glucose&_include=Observation:has-member');
    expect(matchIds(bundle).sort()).toEqual(['ob-ann-glucose', 'ob-panel']);
    expect(includeRefs(bundle)).toEqual(['Observation/ob-ann-hba1c']);
    expect(includeRefs(await search(t.db, 'Observation', '_id=ob-gone&_include=Observation:patient'))).toEqual([]);
  });

  it('revincludes the resources that refer to the matches, with :iterate', async () => {
    expect(includeRefs(await search(t.db, 'Patient', '_id=pa-ann&_revinclude=Observation:patient'))).toEqual(['Observation/ob-ann-glucose', 'Observation/ob-ann-hba1c', 'Observation/ob-panel']);
    expect(includeRefs(await search(t.db, 'Patient', '_id=pa-ann&_revinclude=Observation:patient&_revinclude:iterate=Provenance:target'))).toEqual([
      'Observation/ob-ann-glucose', 'Observation/ob-ann-hba1c', 'Observation/ob-panel', 'Provenance/prov-1',
    ]);
    expect(includeRefs(await search(t.db, 'Patient', '_id=pa-ann&_revinclude=*'))).toEqual(['Encounter/enc-ann', 'Observation/ob-ann-glucose', 'Observation/ob-ann-hba1c', 'Observation/ob-panel']);
    expect(includeRefs(await search(t.db, 'Organization', '_id=org-trust&_revinclude=Organization:partof&_revinclude:iterate=Patient:organization'))).toEqual(['Organization/org-ward', 'Patient/pa-ann']);
    expect(includeRefs(await search(t.db, 'Organization', '_id=org-gone&_revinclude=Patient:organization'))).toEqual([]);
  });

  it('mixes _include and _revinclude from the same matches', async () => {
    expect(includeRefs(await search(t.db, 'Observation', '_id=ob-ann-glucose&_include=Observation:performer&_revinclude=Provenance:target'))).toEqual(['Practitioner/pr-who', 'Provenance/prov-1']);
  });
});
