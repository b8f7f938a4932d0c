import type { BundleEntry, Composition, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../../fhir/definitions.js';
import { hasErrors, validateResource } from '../../fhir/validate.js';
import { buildPatientSummary } from './ips.js';

const BASE = 'https://openics.example/fhir';
const entry = (resource: Resource): BundleEntry => ({ fullUrl: `${BASE}/${resource.resourceType}/${resource.id ?? ''}`, resource, search: { mode: 'match' } });
const clinical = (code: string): { coding: Array<{ system: string; code: string }> } => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code }] });
const lab = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }];
const gp = { source: 'urn:openics:source:M85001:emis' };

function sectionOf(bundle: ReturnType<typeof buildPatientSummary>, loinc: string): NonNullable<Composition['section']>[number] | undefined {
  return (bundle.entry?.[0]?.resource as Composition).section?.find((s) => s.code?.coding?.[0]?.code === loinc);
}

beforeAll(() => {
  loadFhirDefinitions();
});

describe('the International Patient Summary builder', () => {
  const patient: Resource = { resourceType: 'Patient', id: 'p1', meta: gp, name: [{ family: 'Okoro' }] };
  const egfr = (id: string, date: string): Resource => ({ resourceType: 'Observation', id, meta: gp, status: 'final', category: lab, code: { coding: [{ system: 'http://loinc.org', code: '33914-3' }], text: 'eGFR' }, subject: { reference: 'Patient/p1' }, effectiveDateTime: date, valueQuantity: { value: 55, unit: 'mL/min' } });
  const entries: BundleEntry[] = [
    entry(patient),
    entry({ resourceType: 'Organization', id: 'M85001', name: 'Riverside <Surgery>' }),
    entry({ resourceType: 'Condition', id: 'active', meta: gp, subject: { reference: 'Patient/p1' }, clinicalStatus: clinical('active'), code: { text: 'Asthma <script>alert(1)</script>' } }),
    entry({ resourceType: 'Condition', id: 'resolved', meta: gp, subject: { reference: 'Patient/p1' }, clinicalStatus: clinical('resolved'), code: { text: 'Fractured wrist' }, abatementDateTime: '2019-01-01' }),
    entry({ resourceType: 'Condition', id: 'wrong', meta: gp, subject: { reference: 'Patient/p1' }, clinicalStatus: clinical('active'), verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] }, code: { text: 'Not this' } }),
    entry({ resourceType: 'MedicationRequest', id: 'stopped', meta: gp, status: 'stopped', intent: 'order', subject: { reference: 'Patient/p1' }, medicationCodeableConcept: { text: 'Old medicine' } }),
    ...['2021-01-01', '2022-01-01', '2023-01-01', '2024-01-01', '2025-01-01'].map((d, i) => entry(egfr(`egfr${i}`, d))),
  ];

  it('keeps active problems, moves resolved ones to past problems, and leaves out records entered in error and stopped medicines', () => {
    const bundle = buildPatientSummary({ patientId: 'p1', entries, base: BASE });
    expect(sectionOf(bundle, '11450-4')?.entry?.map((e) => e.reference)).toEqual([`${BASE}/Condition/active`]);
    expect(sectionOf(bundle, '11348-0')?.entry?.map((e) => e.reference)).toEqual([`${BASE}/Condition/resolved`]);
    expect(JSON.stringify(bundle)).not.toContain('Not this');
    const medication = sectionOf(bundle, '10160-0');
    expect(medication?.entry).toBeUndefined();
    expect(medication?.emptyReason?.coding?.[0]?.code).toBe('unavailable');
  });

  it('keeps the three most recent results of each test, newest first', () => {
    const bundle = buildPatientSummary({ patientId: 'p1', entries, base: BASE });
    expect(sectionOf(bundle, '30954-2')?.entry?.map((e) => e.reference)).toEqual([`${BASE}/Observation/egfr4`, `${BASE}/Observation/egfr3`, `${BASE}/Observation/egfr2`]);
  });

  it('has the required sections always and the recommended ones only with entries; the narrative escapes what the records say', () => {
    const bundle = buildPatientSummary({ patientId: 'p1', entries, base: BASE });
    const codes = (bundle.entry?.[0]?.resource as Composition).section?.map((s) => s.code?.coding?.[0]?.code);
    expect(codes).toEqual(expect.arrayContaining(['11450-4', '10160-0', '48765-2']));
    expect(codes).not.toContain('11369-6');
    const div = sectionOf(bundle, '11450-4')?.text?.div ?? '';
    expect(div).toContain('Asthma &lt;script&gt;');
    expect(div).toContain('Riverside &lt;Surgery&gt;');
    expect(div).not.toContain('<script>');
  });

  it('is a valid R4 document Bundle: Composition first, identifier, timestamp, no search modes, every section entry present', () => {
    const bundle = buildPatientSummary({ patientId: 'p1', entries, base: BASE, now: new Date('2026-01-01T00:00:00Z') });
    expect(hasErrors(validateResource(bundle))).toBe(false);
    expect(bundle).toMatchObject({ type: 'document', timestamp: '2026-01-01T00:00:00.000Z', identifier: { system: 'urn:ietf:rfc:3986' } });
    expect(bundle.entry?.[0]?.resource?.resourceType).toBe('Composition');
    expect(bundle.entry?.[1]?.resource?.id).toBe('p1');
    expect(bundle.entry?.some((e) => e.search)).toBe(false);
    const urls = new Set(bundle.entry?.map((e) => e.fullUrl));
    const composition = bundle.entry?.[0]?.resource as Composition;
    for (const reference of [composition.subject?.reference, ...(composition.author ?? []).map((a) => a.reference), ...(composition.section ?? []).flatMap((s) => s.entry?.map((e) => e.reference) ?? [])]) {
      expect(urls.has(reference)).toBe(true);
    }
  });

  it('refuses to build a summary without the Patient asked for', () => {
    expect(() => buildPatientSummary({ patientId: 'p2', entries, base: BASE })).toThrow();
  });
});
