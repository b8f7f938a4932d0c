/**
 * Aggregate counts on both engines, over real FHIR records: the right residents counted in the
 * right groups, opted-out residents left out, small numbers suppressed, nothing identifying in
 * the answer, and only analysts, leaders and board members let in.
 */
import type { Condition, Consent, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditTestApp, accessHeader, startAuditTestApp } from '../../../test/support/audit-app.js';
import { FhirStore } from '../../fhir/store.js';
import { accessWriteHook } from '../policy/write-hook.js';
import type { AccessContext } from '../context.js';
import { countResidents } from './counts.js';

const DIABETES = { system: 'http://snomed.info/sct', code: '44054006', display: 'Type 2 diabetes mellitus' };
const ASTHMA = { system: 'http://snomed.info/sct', code: '195967001', display: 'Asthma' };

const ANALYST: AccessContext = { kind: 'user', subject: 'u-analyst', display: 'Chris Analyst', role: 'analyst', organisation: 'QGH', scopes: [], purpose: 'HOPERAT' };
const BOARD: AccessContext = { ...ANALYST, subject: 'u-board', display: 'Board Member', role: 'board_member' };
const DOCTOR: AccessContext = { ...ANALYST, subject: 'u-doc', display: 'Dr Doc', role: 'doctor', organisation: 'M81001', purpose: 'TREAT' };

let t: AuditTestApp;
let optedOut = '';
let asthmaOnly = '';

interface Resident {
  practice: string;
  gender: 'male' | 'female';
  birthDate: string;
  postcode: string;
  conditions: (typeof DIABETES)[];
}

beforeAll(async () => {
  t = await startAuditTestApp();
  // With the policy's write hook, as the app runs it: a Consent becomes an opt-out in access_consent.
  const store = new FhirStore(t.database.db, { onWrite: accessWriteHook });
  const residents: Resident[] = [];
  // Practice M81001: 10 with diabetes (one of whom opts out), women 30-39 and men 70-79.
  for (let i = 0; i < 10; i++) residents.push({ practice: 'M81001', gender: i < 6 ? 'female' : 'male', birthDate: i < 6 ? '1990-05-01' : '1950-01-20', postcode: 'WR1 2AB', conditions: [DIABETES] });
  // Practice M81002: 3 with diabetes, 4 with asthma only.
  for (let i = 0; i < 3; i++) residents.push({ practice: 'M81002', gender: 'female', birthDate: '1960-12-31', postcode: 'WR5 1AA', conditions: [DIABETES, ASTHMA] });
  for (let i = 0; i < 4; i++) residents.push({ practice: 'M81002', gender: 'male', birthDate: '2010-06-15', postcode: 'WR5 1AB', conditions: [ASTHMA] });
  // Practice M81004: 20 with diabetes, all men 40-49.
  for (let i = 0; i < 20; i++) residents.push({ practice: 'M81004', gender: 'male', birthDate: '1980-03-03', postcode: 'HR4 9AA', conditions: [DIABETES] });

  const conditionIds: string[] = [];
  for (const [n, r] of residents.entries()) {
    const patient = await store.create({
      resourceType: 'Patient',
      gender: r.gender,
      birthDate: r.birthDate,
      name: [{ family: `Family${n}`, given: ['Given'] }],
      address: [{ postalCode: r.postcode }],
      generalPractitioner: [{ reference: `Organization/${r.practice}` }],
    } satisfies Patient);
    for (const code of r.conditions) {
      const condition = await store.create({
        resourceType: 'Condition',
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        code: { coding: [code] },
        subject: { reference: `Patient/${patient.id}` },
      } satisfies Condition);
      conditionIds.push(condition.id);
    }
    if (n === 0) optedOut = patient.id;
    if (n === 13) asthmaOnly = patient.id;
  }
  // The first resident has a National Data Opt-out, as NHS England's service records it.
  await store.create({
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/NDOP-Categories-1', code: 'NDOP' }] }],
    patient: { reference: `Patient/${optedOut}` },
    policy: [{ uri: 'https://digital.nhs.uk/services/national-data-opt-out' }],
    provision: {
      type: 'deny',
      purpose: [
        { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HOPERAT' },
        { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HRESCH' },
      ],
    },
  } satisfies Consent);
  // A diabetes record deleted (entered in error) no longer counts.
  const extra = await store.create({ resourceType: 'Condition', code: { coding: [DIABETES] }, subject: { reference: `Patient/${asthmaOnly}` } } satisfies Condition);
  await store.delete('Condition', extra.id);
}, 180_000);

afterAll(async () => {
  await t?.close();
});

describe('countResidents', () => {
  it('counts residents with a coded record by practice, leaving out the opted-out resident', async () => {
    const table = await countResidents(t.database.db, { resourceType: 'Condition', code: `${DIABETES.system}|${DIABETES.code}`, by: ['practice'], asOf: '2026-04-01' });
    expect(table).toEqual({ rows: ['M81001', 'M81002', 'M81004'], columns: ['residents'], counts: [[9], [3], [20]] });
  });

  it('counts by two dimensions at once, and by age band and postcode district', async () => {
    const bySex = await countResidents(t.database.db, { resourceType: 'Condition', code: DIABETES.code, by: ['practice', 'sex'], asOf: '2026-04-01' });
    expect(bySex).toEqual({ rows: ['M81001', 'M81002', 'M81004'], columns: ['female', 'male'], counts: [[5, 4], [3, 0], [0, 20]] });
    const byAge = await countResidents(t.database.db, { resourceType: 'Condition', code: DIABETES.code, by: ['age-band'], asOf: '2026-04-01' });
    expect(byAge).toEqual({ rows: ['30-39', '40-49', '60-69', '70-79'], columns: ['residents'], counts: [[5], [20], [3], [4]] });
    const byDistrict = await countResidents(t.database.db, { resourceType: 'Patient', by: ['postcode-district'], asOf: '2026-04-01' });
    expect(byDistrict).toEqual({ rows: ['HR4', 'WR1', 'WR5'], columns: ['residents'], counts: [[20], [9], [7]] });
  });

  it('names each field it cannot use', async () => {
    await expect(countResidents(t.database.db, { resourceType: 'Organization', code: 'x', by: ['practice'], asOf: '2026-04-01' })).rejects.toMatchObject({ status: 422, problems: [{ field: 'resourceType' }] });
    await expect(countResidents(t.database.db, { resourceType: 'Condition', by: ['practice', 'practice'], asOf: '2026-4-1' })).rejects.toMatchObject({
      problems: [{ field: 'code' }, { field: 'by' }, { field: 'asOf' }],
    });
  });
});

describe('GET /api/analytics/counts', () => {
  const get = (path: string, access?: AccessContext): Promise<Response> => fetch(`${t.url}${path}`, { headers: access ? accessHeader(access) : {} });
  const diabetesByPractice = `/api/analytics/counts?resourceType=Condition&code=${encodeURIComponent(`${DIABETES.system}|${DIABETES.code}`)}&by=practice&asOf=2026-04-01`;

  it('answers analysts with small numbers suppressed, and a total that cannot reveal them', async () => {
    const response = await get(diabetesByPractice, ANALYST);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { table: { rows: string[]; cells: (number | null)[][]; columnTotals: (number | null)[]; primary: number; secondary: number } };
    expect(body.table.rows).toEqual(['M81001', 'M81002', 'M81004']);
    // M81002's 3 is hidden; so is M81001's 9, or 32 - 20 would give the 3 away.
    expect(body.table.cells).toEqual([[null], [null], [20]]);
    expect(body.table.columnTotals).toEqual([32]);
    expect({ primary: body.table.primary, secondary: body.table.secondary }).toEqual({ primary: 1, secondary: 1 });
    const text = JSON.stringify(body);
    expect(text).not.toContain(optedOut);
    expect(text).not.toMatch(/Family\d/);
  });

  it('gives the same table as CSV, suppressed counts as *', async () => {
    const response = await get(diabetesByPractice.replace('/counts?', '/counts.csv?'), BOARD);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="Condition-by-practice-2026-04-01.csv"');
    const lines = (await response.text()).trim().split('\n');
    expect(lines.slice(0, 5)).toEqual(['GP practice,Residents', 'M81001,*', 'M81002,*', 'M81004,20', 'Total,32']);
    const twoWay = await (await get(diabetesByPractice.replace('/counts?', '/counts.csv?').replace('by=practice', 'by=practice%2Csex'), ANALYST)).text();
    expect(twoWay.split('\n').slice(0, 5)).toEqual(['GP practice,female,male,Total', 'M81001,*,*,9', 'M81002,*,0,*', 'M81004,0,*,*', 'Total,8,24,32']);
  });

  it('is for analysts, leaders and board members only, and names a bad parameter', async () => {
    expect((await get(diabetesByPractice)).status).toBe(401);
    expect((await get(diabetesByPractice, DOCTOR)).status).toBe(403);
    const bad = await get('/api/analytics/counts?resourceType=Condition&by=colour', ANALYST);
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { problems: { field: string }[] }).problems.map((p) => p.field)).toEqual(['querystring.by']);
    const noCode = await get('/api/analytics/counts?resourceType=Condition&by=sex', ANALYST);
    expect(noCode.status).toBe(422);
    expect(((await noCode.json()) as { problems: { field: string }[] }).problems.map((p) => p.field)).toEqual(['code']);
  });

  it('records each request in the audit trail as planning use, without Patient ids', async () => {
    const rows = await t.database.db.query<{ purpose: string; patients: string[]; action: string }>(`SELECT purpose, patients, action FROM access_audit_event WHERE agent = 'u-analyst'`);
    expect(rows.rows.length).toBeGreaterThan(0);
    expect(rows.rows.every((r) => r.purpose === 'HOPERAT' && r.patients.length === 0 && r.action === 'search')).toBe(true);
  });
});
