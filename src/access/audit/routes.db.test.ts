/**
 * Reading the audit trail over real HTTP, on both engines: the privacy officer's JSON search,
 * the citizen's access log, the break-glass review (recorded and itself audited), unusual access,
 * and who may see each.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditTestApp, accessHeader, startAuditTestApp } from '../../../test/support/audit-app.js';
import type { AccessContext, AccessRecord, RoleCode } from '../context.js';
import { patientKey } from '../../fhir/indexer.js';
import { UNUSUAL_ACCESS_DEFAULTS } from './config.js';
import { recordAccess, verifyAuditChain } from './trail.js';
import { unusualAccess } from './unusual.js';

const staff = (subject: string, display: string, role: RoleCode, organisation: string, purpose: AccessContext['purpose'] = 'TREAT'): AccessContext => ({
  kind: 'user',
  subject,
  display,
  role,
  organisation,
  scopes: [],
  purpose,
});
const DOCTOR = staff('u-rahman', 'Dr Aisha Rahman', 'doctor', 'RWP');
const NURSE = staff('u-okafor', 'Sam Okafor', 'nurse', 'RWP');
const ED_DOCTOR = staff('u-price', 'Dr Tom Price', 'doctor', 'RLQ', 'ETREAT');
const OFFICER = staff('u-privacy', 'Priya Shah', 'privacy_officer', 'QGH', 'HSYSADMIN');
const CITIZEN: AccessContext = { kind: 'user', subject: 'c-jane', display: 'Jane Example', role: 'citizen', scopes: [], ownPatients: ['jane-gp', 'jane-rwp'], purpose: 'PATRQT' };

const at = (iso: string): Date => new Date(iso);
const read = (context: AccessContext, patient: string, when: string, extra: Partial<AccessRecord> = {}): AccessRecord => ({
  context,
  action: 'read',
  outcome: 'success',
  patients: [patient],
  what: `Patient/${patient}`,
  at: at(when),
  ...extra,
});

let t: AuditTestApp;
const TODAY = '2026-03-10';

beforeAll(async () => {
  t = await startAuditTestApp({ today: TODAY });
  const db = t.database.db;
  const records: AccessRecord[] = [
    read(DOCTOR, 'jane-rwp', '2026-03-02T09:00:00Z'),
    read(NURSE, 'jane-rwp', '2026-03-03T10:15:00Z', { action: 'search', what: 'Observation?code,patient' }),
    read(DOCTOR, 'bob-rwp', '2026-03-03T11:00:00Z'),
    read(ED_DOCTOR, 'jane-gp', '2026-03-04T23:40:00Z', { action: 'break-glass', detail: 'Brought in unconscious, no care relationship' }),
    read(ED_DOCTOR, 'jane-gp', '2026-03-04T23:41:00Z', { context: ED_DOCTOR, action: 'operation', what: 'Patient/jane-gp/$everything' }),
    read(NURSE, 'bob-rwp', '2026-03-05T12:00:00Z', { outcome: 'refused', detail: 'no legitimate relationship' }),
    read(CITIZEN, 'jane-gp', '2026-03-06T08:00:00Z'),
  ];
  for (const r of records) await recordAccess(db, r);
  // The break-glass grant the policy module keeps (0009), as its break-glass action writes it.
  await db.query(
    `INSERT INTO access_break_glass (id, user_subject, user_display, role, organisation, patient_id, patient_key, person_key, reason, granted_at, expires_at)
     VALUES ('bg-1', $1, $2, $3, $4, 'jane-gp', $5, $5, 'Brought in unconscious, no care relationship', '2026-03-04T23:40:00Z', '2026-03-05T07:40:00Z')`,
    [ED_DOCTOR.subject, ED_DOCTOR.display, ED_DOCTOR.role, ED_DOCTOR.organisation, patientKey('jane-gp')],
  );
});

afterAll(async () => {
  await t?.close();
});

async function get(path: string, access?: AccessContext): Promise<Response> {
  return fetch(`${t.url}${path}`, { headers: access ? accessHeader(access) : {}, redirect: 'manual' });
}

async function post(path: string, form: Record<string, string>, access: AccessContext): Promise<Response> {
  return fetch(`${t.url}${path}`, { method: 'POST', headers: { ...accessHeader(access), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString(), redirect: 'manual' });
}

describe('GET /api/access/audit', () => {
  it('is for privacy officers only', async () => {
    expect((await get('/api/access/audit')).status).toBe(401);
    const doctor = await get('/api/access/audit', DOCTOR);
    expect(doctor.status).toBe(403);
    expect(((await doctor.json()) as { message: string }).message).toContain('privacy officer');
    expect((await get('/api/access/audit', CITIZEN)).status).toBe(403);
  });

  it('finds a resident’s accesses, newest first, as FHIR AuditEvents', async () => {
    const response = await get('/api/access/audit?patient=jane-gp', OFFICER);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { events: AuditEvent[]; next: string | null };
    expect(body.events.map((e) => e.recorded)).toEqual(['2026-03-06T08:00:00.000Z', '2026-03-04T23:41:00.000Z', '2026-03-04T23:40:00.000Z']);
    expect(body.events.every((e) => e.resourceType === 'AuditEvent' && e.entity?.some((x) => x.what?.reference === 'Patient/jane-gp'))).toBe(true);
    expect(body.next).toBeNull();
  });

  it('filters by user and by UK day, and pages with next', async () => {
    const byAgent = (await (await get('/api/access/audit?agent=u-okafor', OFFICER)).json()) as { events: AuditEvent[] };
    expect(byAgent.events).toHaveLength(2);
    expect(byAgent.events[0]?.outcome).toBe('4');
    const oneDay = (await (await get('/api/access/audit?from=2026-03-03&to=2026-03-03', OFFICER)).json()) as { events: AuditEvent[] };
    expect(oneDay.events.map((e) => e.recorded)).toEqual(['2026-03-03T11:00:00.000Z', '2026-03-03T10:15:00.000Z']);
    const first = (await (await get('/api/access/audit?agent=u-rahman&_count=1', OFFICER)).json()) as { events: AuditEvent[]; next: string };
    expect(first.events).toHaveLength(1);
    expect(first.next).toMatch(/^\/api\/access\/audit\?agent=u-rahman&_count=1&before=\d+$/);
    const second = (await (await get(first.next, OFFICER)).json()) as { events: AuditEvent[]; next: string | null };
    expect(second.events[0]?.recorded).toBe('2026-03-02T09:00:00.000Z');
    expect(second.next).toBeNull();
  });

  it('names the field of a bad filter', async () => {
    const response = await get('/api/access/audit?from=yesterday&colour=blue', OFFICER);
    expect(response.status).toBe(422);
    const body = (await response.json()) as { problems: { field: string }[] };
    expect(body.problems.map((p) => p.field).sort()).toEqual(['querystring.colour', 'querystring.from']);
  });

  it('records that the trail was read, with the residents it showed', async () => {
    const mine = (await (await get('/api/access/audit?agent=u-privacy', OFFICER)).json()) as { events: AuditEvent[] };
    const read = mine.events.find((e) => e.entity?.some((x) => x.what?.reference === 'Patient/jane-gp'));
    expect(read?.type).toMatchObject({ code: '110101', display: 'Audit Log Used' });
  });
});

describe('the citizen’s access log', () => {
  it('shows who looked at their own records, newest first, in words, and nobody else’s', async () => {
    const response = await get('/my/record/access-log', CITIZEN);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('Who has looked at your record');
    expect(html).toContain('Dr Aisha Rahman');
    expect(html).toContain('Worcestershire Acute Hospitals NHS Trust');
    expect(html).toContain('Emergency access');
    expect(html).toContain('Brought in unconscious, no care relationship');
    expect(html).toContain('Looked at your whole record');
    expect(html).toContain('Searched your test results and measurements');
    expect(html).toContain('Privacy officer');
    // Bob's records are not Jane's business; the refused attempt was on Bob's record.
    expect(html).not.toContain('Refused');
    const order = ['You', 'Dr Tom Price', 'Sam Okafor', 'Dr Aisha Rahman'].map((who) => html.indexOf(`<strong>${who}</strong>`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('is for citizens, and answers a page that does not exist with 404', async () => {
    expect((await get('/my/record/access-log')).status).toBe(401);
    expect((await get('/my/record/access-log', DOCTOR)).status).toBe(403);
    expect((await get('/my/record/access-log?page=9', CITIZEN)).status).toBe(404);
    expect((await get('/my/record/access-log?page=x', CITIZEN)).status).toBe(404);
  });
});

describe('the privacy officer’s pages', () => {
  it('lists break-glass access awaiting review, and records the review on the grant and in the trail', async () => {
    expect((await get('/access/privacy', NURSE)).status).toBe(403);
    const page = await (await get('/access/privacy', OFFICER)).text();
    expect(page).toContain('Break-glass access to review (1)');
    expect(page).toContain('Dr Tom Price');
    expect(page).toContain('Doctor, Wye Valley NHS Trust');
    expect(page).toContain('href="/access/privacy/break-glass/bg-1"');

    const form = await (await get('/access/privacy/break-glass/bg-1', OFFICER)).text();
    expect(form).toContain('Brought in unconscious, no care relationship');
    expect(form).toContain('Was this access appropriate?');

    const mistake = await post('/access/privacy/break-glass/bg-1', { verdict: 'inappropriate', note: '' }, OFFICER);
    expect(mistake.status).toBe(422);
    const mistakeHtml = await mistake.text();
    expect(mistakeHtml).toContain('There is a problem');
    expect(mistakeHtml).toContain('Say why the access was inappropriate');
    expect(mistakeHtml).toMatch(/value="inappropriate"[^>]*checked/);

    const done = await post('/access/privacy/break-glass/bg-1', { verdict: 'appropriate', note: 'ED attendance confirmed on the PAS.' }, OFFICER);
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/access/privacy?reviewed=bg-1');
    const after = await (await get('/access/privacy?reviewed=bg-1', OFFICER)).text();
    expect(after).toContain('Break-glass access to review (0)');
    expect(after).toContain('Review recorded.');
    expect(after).toContain('Appropriate');
    expect(after).toContain('by Priya Shah');

    const again = await post('/access/privacy/break-glass/bg-1', { verdict: 'inappropriate', note: 'changed my mind' }, OFFICER);
    expect(again.status).toBe(409);

    // The review is on the grant, and in the chain against the resident; the chain still verifies.
    const stored = await t.database.db.query<{ review_status: string; review_note: string; reviewed_by: string }>(`SELECT review_status, review_note, reviewed_by FROM access_break_glass WHERE id = 'bg-1'`);
    expect(stored.rows).toEqual([{ review_status: 'appropriate', review_note: 'ED attendance confirmed on the PAS.', reviewed_by: 'u-privacy' }]);
    const trail = (await (await get('/api/access/audit?agent=u-privacy&patient=jane-gp', OFFICER)).json()) as { events: AuditEvent[] };
    expect(trail.events.some((e) => e.subtype?.some((c) => c.code === 'review') && e.outcomeDesc === 'break-glass reviewed: appropriate')).toBe(true);
    expect((await verifyAuditChain(t.database.db)).ok).toBe(true);
  });

  it('answers an unknown break-glass access with 404', async () => {
    expect((await get('/access/privacy/break-glass/bg-404', OFFICER)).status).toBe(404);
    expect((await get('/access/privacy/break-glass/a%20b', OFFICER)).status).toBe(404);
  });
});

describe('unusual access', () => {
  it('finds many break-glass records in a day, a day far above the organisation’s norm, and night-time access', async () => {
    const db = t.database.db;
    const day = '2026-03-08';
    // Ward staff at RWP: a handful of residents a day each.
    for (let d = 1; d <= 7; d++) {
      for (const who of [DOCTOR, NURSE]) for (let p = 0; p < 3; p++) await recordAccess(db, read(who, `ward-${d}-${p}`, `2026-03-0${d}T10:0${p}:00Z`));
    }
    // A new member of staff at RWP who opens 30 residents' records on one day.
    const curious = staff('u-curious', 'Alex Curious', 'administrator', 'RWP');
    for (let p = 0; p < 30; p++) await recordAccess(db, read(curious, `resident-${p}`, `${day}T14:${String(p).padStart(2, '0')}:00Z`));
    // Five residents by break-glass in one day (more than 3).
    for (let p = 0; p < 5; p++) await recordAccess(db, read(ED_DOCTOR, `ed-${p}`, `${day}T09:0${p}:00Z`, { action: 'break-glass', detail: 'ED' }));
    // Six looks at records between 22:00 and 06:00 UK time (in March, UK time is UTC).
    for (let p = 0; p < 6; p++) await recordAccess(db, read(NURSE, `night-${p}`, `2026-03-09T02:1${p}:00Z`));
    // A citizen reading their own record at night is nobody's concern.
    for (let p = 0; p < 8; p++) await recordAccess(db, read(CITIZEN, 'jane-gp', `2026-03-09T03:0${p}:00Z`));

    const found = await unusualAccess(db, { from: '2026-03-01', to: '2026-03-10' }, UNUSUAL_ACCESS_DEFAULTS);
    const summary = found.map((f) => `${f.rule} ${f.agent} ${f.day} ${f.count}`);
    expect(summary).toContain('above-norm u-curious 2026-03-08 30');
    expect(summary).toContain('break-glass u-price 2026-03-08 5');
    expect(summary).toContain('night u-okafor 2026-03-09 6');
    expect(summary.some((s) => s.includes('c-jane'))).toBe(false);
    expect(summary.some((s) => s.includes('u-rahman'))).toBe(false);
    expect(found.find((f) => f.rule === 'above-norm')?.norm).toBe(3);

    // Thresholds come from configuration: raise them and nothing is unusual.
    const relaxed = await unusualAccess(db, { from: '2026-03-01', to: '2026-03-10' }, { ...UNUSUAL_ACCESS_DEFAULTS, breakGlassPerDay: 10, normMinimum: 50, nightMinimum: 10 });
    expect(relaxed).toEqual([]);

    const page = await (await get('/access/privacy', OFFICER)).text();
    expect(page).toContain('Alex Curious');
    expect(page).toContain('Far more records than usual for their organisation');
    expect(page).toContain('Many records looked at during the night');
    expect(page).toContain('<svg');
    expect(page).toContain('The numbers in the chart');
  });
});
