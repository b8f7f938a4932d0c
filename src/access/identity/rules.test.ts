import { describe, expect, it } from 'vitest';
import { ANONYMOUS, SYSTEM_ACCESS, type AccessContext } from '../context.js';
import { RULES, decide, endpointKind } from './rules.js';

describe('endpointKind', () => {
  it.each([
    ['GET', '/', 'public'],
    ['GET', '/healthz', 'public'],
    ['GET', '/public/:ics/decisions.atom', 'public'],
    ['GET', '/nhsuk/*', 'public'],
    ['POST', '/sign-in', 'public'],
    ['POST', '/oauth/token', 'public'],
    ['GET', '/api/openapi.json', 'public'],
    ['GET', '/api/rules', 'public'],
    ['GET', '/api/finance/icbs', 'public'],
    ['GET', '/ics', 'staff-page'],
    ['GET', '/ics/:ics/finance/places/:place', 'staff-page'],
    ['HEAD', '/ics/:ics/governance', 'staff-page'],
    ['POST', '/ics/:ics/bodies/:bodyId/members', 'structure-write'],
    ['POST', '/ics/:ics/functions/delegations', 'structure-write'],
    ['POST', '/ics/:ics/governance/meetings/:meetingId/minutes', 'governance-write'],
    ['POST', '/ics/:ics/finance/data/import', 'finance-write'],
    ['GET', '/api/ics', 'api-read'],
    ['GET', '/api/ics/:ics/governance/decisions', 'api-read'],
    ['POST', '/api/finance/need-indices', 'api-read'],
    ['POST', '/api/ics', 'structure-write'],
    ['PATCH', '/api/ics/:ics/bodies/:bodyId', 'structure-write'],
    ['DELETE', '/api/ics/:ics/bodies/:bodyId/organisations/:orgCode', 'structure-write'],
    ['POST', '/api/ics/:ics/governance/items/:itemId/papers', 'governance-write'],
    ['PUT', '/api/ics/:ics/finance/risk-share/:year', 'finance-write'],
    ['GET', '/api/analytics/counts', 'api-read'],
    ['POST', '/api/access/break-glass', 'access'],
    ['GET', '/access/privacy', 'access'],
    ['POST', '/access/privacy/break-glass/:id', 'access'],
    ['GET', '/my/record/access-log', 'access'],
    ['GET', '/fhir/Patient/:id', 'fhir'],
    ['POST', '/fhir', 'fhir'],
    ['GET', '/fhir/metadata', 'fhir'],
  ])('%s %s is %s', (method, route, kind) => {
    expect(endpointKind(method, route)).toBe(kind);
  });
});

describe('decide', () => {
  const staff = (role: NonNullable<AccessContext['role']>, organisation: string): AccessContext => ({ kind: 'user', subject: 'u', display: 'U', role, organisation, scopes: [], purpose: 'TREAT' });
  const client: AccessContext = { kind: 'client', subject: 'feed', display: 'Feed', scopes: [], purpose: 'HSYSADMIN' };

  it('lets anyone use public endpoints and leaves FHIR to its policy', () => {
    expect(decide(ANONYMOUS, RULES.public).outcome).toBe('allow');
    expect(decide(ANONYMOUS, RULES.fhir).outcome).toBe('allow');
  });

  it('asks nobody to sign in, a user without a role to choose one, and lets OpenICS itself do anything', () => {
    expect(decide(ANONYMOUS, RULES['staff-page'])).toEqual({ outcome: 'sign-in', message: 'Sign in to see the staff pages' });
    expect(decide({ kind: 'user', subject: 'u', display: 'U', scopes: [], purpose: 'TREAT' }, RULES['api-read']).outcome).toBe('choose-role');
    expect(decide(SYSTEM_ACCESS, RULES['finance-write'], 'QGH').outcome).toBe('allow');
  });

  it('lets backend clients read the API but not change it', () => {
    expect(decide(client, RULES['api-read']).outcome).toBe('allow');
    expect(decide(client, RULES['structure-write'], 'QGH').outcome).toBe('forbidden');
    expect(decide(client, RULES['staff-page']).outcome).toBe('forbidden');
  });

  it('needs the right role at the ICS’s own ICB for a change', () => {
    expect(decide(staff('administrator', 'QGH'), RULES['structure-write'], 'QGH').outcome).toBe('allow');
    expect(decide(staff('administrator', 'QHM'), RULES['structure-write'], 'QGH').outcome).toBe('forbidden');
    expect(decide(staff('administrator', 'QGH'), RULES['structure-write']).outcome).toBe('forbidden');
    expect(decide(staff('board_member', 'QGH'), RULES['governance-write'], 'QGH').outcome).toBe('allow');
    expect(decide(staff('board_member', 'QGH'), RULES['finance-write'], 'QGH').outcome).toBe('forbidden');
    expect(decide(staff('doctor', 'M81026'), RULES['staff-page']).outcome).toBe('allow');
    expect(decide(staff('citizen', 'QGH'), RULES['staff-page']).outcome).toBe('forbidden');
  });
});
