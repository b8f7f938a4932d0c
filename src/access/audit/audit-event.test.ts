import { describe, expect, it } from 'vitest';
import { validateResource } from '../../fhir/validate.js';
import { type AccessContext, type AccessRecord, SYSTEM_ACCESS } from '../context.js';
import { DICOM, OPENICS_ACTION, RESTFUL_INTERACTION, factsOf, reasonOf, redactQuery, scrubNhsNumbers, toAuditEvent, whatOf } from './audit-event.js';
import { canonicalJson } from './canonical.js';

const DOCTOR: AccessContext = {
  kind: 'user',
  subject: 'u-aisha',
  display: 'Dr Aisha Rahman',
  role: 'doctor',
  organisation: 'RWP',
  scopes: [{ context: 'user', type: '*', actions: 'cruds' }],
  purpose: 'TREAT',
  clientId: 'demo-smart-app',
};
const CITIZEN: AccessContext = { kind: 'user', subject: 'c-17', display: 'Jane Example', role: 'citizen', scopes: [], ownPatients: ['p1'], purpose: 'PATRQT' };

const record = (overrides: Partial<AccessRecord> = {}): AccessRecord => ({
  context: DOCTOR,
  action: 'read',
  outcome: 'success',
  patients: ['p1'],
  what: 'Patient/p1',
  at: new Date('2026-03-01T09:30:00Z'),
  ...overrides,
});

describe('an access as a FHIR AuditEvent', () => {
  it('is valid FHIR R4 for every kind of action and outcome', () => {
    const actions = ['read', 'vread', 'search', 'history', 'create', 'update', 'patch', 'delete', 'export', 'import', 'operation', 'search-type', 'search-system', 'history-instance', 'history-type', 'everything', 'validate', 'capabilities', 'break-glass', 'login', 'logout', 'token', 'audit-read', 'review', 'something-new'];
    for (const action of actions) {
      for (const outcome of ['success', 'refused', 'failure'] as const) {
        const event = toAuditEvent(record({ action, outcome, detail: 'a reason', what: 'Observation?patient=p1&code=http://loinc.org|8480-6', network: '10.0.0.8' }), 7);
        const errors = validateResource(event).filter((i) => i.severity === 'error');
        expect(errors, `${action}/${outcome}: ${JSON.stringify(errors)}`).toEqual([]);
      }
    }
  });

  it('says what happened with the standard codes: REST interaction, action, outcome, purpose', () => {
    const read = toAuditEvent(record(), 1);
    expect(read.type).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' });
    expect(read.subtype?.[0]).toMatchObject({ system: RESTFUL_INTERACTION, code: 'read' });
    expect(read.action).toBe('R');
    expect(read.outcome).toBe('0');
    expect(read.purposeOfEvent?.[0]?.coding?.[0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' });
    expect(toAuditEvent(record({ action: 'search' }), 1).action).toBe('E');
    expect(toAuditEvent(record({ action: 'create' }), 1).action).toBe('C');
    expect(toAuditEvent(record({ action: 'patch' }), 1).action).toBe('U');
    expect(toAuditEvent(record({ action: 'delete' }), 1).action).toBe('D');
    expect(toAuditEvent(record({ outcome: 'refused' }), 1).outcome).toBe('4');
    expect(toAuditEvent(record({ outcome: 'failure' }), 1).outcome).toBe('8');
    const login = toAuditEvent(record({ action: 'login', patients: [], what: '' }), 1);
    expect(login.type).toMatchObject({ system: DICOM, code: '110114' });
    expect(login.subtype?.[0]).toMatchObject({ system: DICOM, code: '110122' });
    expect(toAuditEvent(record({ action: 'export' }), 1).type).toMatchObject({ system: DICOM, code: '110106' });
    const glass = toAuditEvent(record({ action: 'break-glass', detail: 'Unconscious in ED, no relationship yet', context: { ...DOCTOR, purpose: 'ETREAT' } }), 1);
    expect(glass.type).toMatchObject({ system: DICOM, code: '110113' });
    expect(glass.subtype?.[0]).toMatchObject({ system: DICOM, code: '110127', display: 'Emergency Override Started' });
    expect(glass.entity?.[0]?.detail).toEqual([{ type: 'break-glass-reason', valueString: 'Unconscious in ED, no relationship yet' }]);
    expect(reasonOf(glass)).toBe('Unconscious in ED, no relationship yet');
    expect(glass.subtype?.some((c) => c.system === OPENICS_ACTION && c.code === 'break-glass')).toBe(true);
  });

  it('names the user, their role, their organisation by ODS code, the app and the network address', () => {
    const event = toAuditEvent(record({ network: '192.0.2.10' }), 1);
    const [user, organisation, app] = event.agent;
    expect(user).toMatchObject({
      who: { identifier: { system: 'urn:openics:user', value: 'u-aisha' }, display: 'Dr Aisha Rahman' },
      role: [{ coding: [{ code: 'doctor' }] }],
      requestor: true,
      network: { address: '192.0.2.10', type: '2' },
    });
    expect(organisation).toMatchObject({ who: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RWP' } }, requestor: false });
    expect(app).toMatchObject({ who: { identifier: { system: 'urn:openics:client', value: 'demo-smart-app' } }, requestor: false });
    expect(event.source.observer.display).toBe('OpenICS');
    const council = toAuditEvent(record({ context: { ...DOCTOR, role: 'social_worker', organisation: 'E10000034' } }), 1);
    expect(council.agent[1]?.who?.identifier?.system).toBe('http://statistics.data.gov.uk/id/statistical-geography');
  });

  it('keeps a citizen known by their user id only, never by name', () => {
    const event = toAuditEvent(record({ context: CITIZEN }), 1);
    expect(canonicalJson(event)).not.toContain('Jane');
    expect(event.agent[0]?.type?.coding?.[0]?.code).toBe('PAT');
  });

  it('lists each Patient touched once, and the query as base64', () => {
    const event = toAuditEvent(record({ action: 'search', patients: ['p1', 'p2', 'p1', 'not an id!'], what: 'Observation?patient=p1,p2&_count=10' }), 1);
    expect(event.entity?.filter((e) => e.role?.code === '1').map((e) => e.what?.reference)).toEqual(['Patient/p1', 'Patient/p2']);
    const query = event.entity?.find((e) => e.role?.code === '24');
    expect(Buffer.from(query?.query ?? '', 'base64').toString()).toBe('Observation?patient=p1,p2&_count=10');
    expect(whatOf(event)).toBe('Observation?patient=p1,p2&_count=10');
  });

  it('reads back the facts the trail indexes', () => {
    const facts = factsOf(toAuditEvent(record({ patients: ['p2', 'p1'] }), 3));
    expect(facts).toEqual({
      recorded: '2026-03-01T09:30:00.000Z',
      action: 'read',
      outcome: 'success',
      agentKind: 'user',
      agent: 'u-aisha',
      role: 'doctor',
      organisation: 'RWP',
      purpose: 'TREAT',
      patients: ['p2', 'p1'],
    });
    expect(factsOf(toAuditEvent(record({ context: SYSTEM_ACCESS }), 1))).toMatchObject({ agentKind: 'system', agent: 'openics', role: null, organisation: null });
  });
});

describe('redaction', () => {
  it('hides the values of identifying search parameters, in chains and with modifiers', () => {
    expect(redactQuery('Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018&_count=5')).toBe('Patient?identifier=***&_count=5');
    expect(redactQuery('Patient?family:exact=Smith&given=Jane&birthdate=1970-01-01')).toBe('Patient?family:exact=***&given=***&birthdate=***');
    expect(redactQuery('Observation?subject:Patient.name=Smith&code=8480-6')).toBe('Observation?subject:Patient.name=***&code=8480-6');
    expect(redactQuery('Observation?patient.identifier=x|1&code=8480-6')).toBe('Observation?patient.identifier=***&code=8480-6');
    expect(redactQuery('Patient?address-postalcode=WR1%202AB&phone=07700900123')).toBe('Patient?address-postalcode=***&phone=***');
  });

  it('hides NHS numbers anywhere, and only valid ones', () => {
    expect(scrubNhsNumbers('called about 999 000 0018 today')).toBe('called about *** today');
    expect(scrubNhsNumbers('9990000018')).toBe('***');
    expect(scrubNhsNumbers('order 1234567890 and 9990000019')).toBe('order 1234567890 and 9990000019');
    expect(redactQuery('Observation?note=9990000018')).toBe('Observation?note=***');
  });
});

describe('canonical JSON (RFC 8785)', () => {
  it('sorts members by UTF-16 code units at every depth, with no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, { d: 'x', c: 2.5 }], A: 'é' })).toBe('{"A":"é","a":[true,null,{"c":2.5,"d":"x"}],"b":1}');
    // RFC 8785 §3.2.3's example: U+1F600 (😀, surrogates D83D DE00) sorts before U+FB33 by code units, not code points.
    expect(canonicalJson({ '\ufb33': 1, '😀': 2, '€': 3, '\r': 4, '1': 5 })).toBe('{"\\r":4,"1":5,"€":3,"😀":2,"\ufb33":1}');
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
  });
});
