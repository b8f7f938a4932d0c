import { beforeAll, describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../../fhir/definitions.js';
import { isGrantableScope, parseScopes, parseSmartScope, registrationAllows, ScopeError, scopesAllow } from './scopes.js';

// The resource types come from the FHIR definitions, parsed once (a second or two).
beforeAll(() => loadFhirDefinitions(), 30_000);

describe('parseScopes', () => {
  it('parses v2 scopes in each context', () => {
    expect(parseScopes('patient/Observation.rs user/*.cruds system/*.cruds')).toEqual([
      { context: 'patient', type: 'Observation', actions: 'rs' },
      { context: 'user', type: '*', actions: 'cruds' },
      { context: 'system', type: '*', actions: 'cruds' },
    ]);
  });

  it('maps v1 read, write and * to v2 actions', () => {
    expect(parseScopes('patient/Observation.read user/Patient.write system/*.*')).toEqual([
      { context: 'patient', type: 'Observation', actions: 'rs' },
      { context: 'user', type: 'Patient', actions: 'cud' },
      { context: 'system', type: '*', actions: 'cruds' },
    ]);
  });

  it('skips the context scopes and tolerates repeated spaces', () => {
    expect(parseScopes('openid  fhirUser launch launch/patient offline_access patient/Patient.r')).toEqual([{ context: 'patient', type: 'Patient', actions: 'r' }]);
    expect(parseScopes('')).toEqual([]);
  });

  it('keeps the query of a query-limited scope', () => {
    const scope = 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';
    expect(parseScopes(scope)).toEqual([
      { context: 'patient', type: 'Observation', actions: 'rs', query: 'category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory' },
    ]);
  });

  it.each([
    ['patient/Observation.sr', /order c, r, u, d, s/],
    ['patient/Observation.rr', /order c, r, u, d, s/],
    ['patient/Observation.x', /not a subset of cruds/],
    ['patient/Observation.', /no actions/],
    ['patient/Observation', /expected context\/Type.actions/],
    ['patient/observation.rs', /not a resource type/],
    ['patient/Spaceship.rs', /not a FHIR R4 resource type/],
    ['group/Patient.rs', /not a scope OpenICS knows/],
    ['patient/Observation.read?code=1234', /v2 syntax/],
    ['patient/Observation.rs?', /name=value/],
    ['patient/Observation.rs?category', /name=value/],
    ['email', /not a scope OpenICS knows/],
  ])('refuses %s, saying why', (scope, message) => {
    expect(() => parseScopes(scope)).toThrow(ScopeError);
    expect(() => parseScopes(scope)).toThrow(message);
  });
});

describe('registrationAllows', () => {
  const registered = 'openid fhirUser launch launch/patient offline_access patient/*.rs user/Observation.cruds';

  it('allows what a wildcard covers, narrower actions included', () => {
    expect(registrationAllows(registered, 'patient/Observation.rs')).toBe(true);
    expect(registrationAllows(registered, 'patient/Condition.r')).toBe(true);
    expect(registrationAllows(registered, 'patient/*.read')).toBe(true);
    expect(registrationAllows(registered, 'user/Observation.cud')).toBe(true);
    expect(registrationAllows(registered, 'launch/patient')).toBe(true);
  });

  it('refuses wider actions, other contexts, other types and unregistered context scopes', () => {
    expect(registrationAllows(registered, 'patient/Observation.cruds')).toBe(false);
    expect(registrationAllows(registered, 'patient/*.write')).toBe(false);
    expect(registrationAllows(registered, 'user/Patient.rs')).toBe(false);
    expect(registrationAllows(registered, 'system/*.rs')).toBe(false);
    expect(registrationAllows(registered, 'launch/encounter')).toBe(false);
    expect(registrationAllows(registered, 'not a scope')).toBe(false);
  });
});

describe('isGrantableScope', () => {
  it('grants context and resource scopes, not query-limited or unknown ones', () => {
    expect(isGrantableScope('launch')).toBe(true);
    expect(isGrantableScope('patient/*.rs')).toBe(true);
    expect(isGrantableScope('patient/Observation.rs?category=laboratory')).toBe(false);
    expect(isGrantableScope('patient/Observation.sr')).toBe(false);
    expect(isGrantableScope('email')).toBe(false);
  });
});

describe('scopesAllow', () => {
  it('checks context, type and action', () => {
    const scopes = parseScopes('patient/Observation.rs patient/Patient.r');
    expect(scopesAllow(scopes, 'Observation', 's', ['patient'])).toBe(true);
    expect(scopesAllow(scopes, 'Patient', 's', ['patient'])).toBe(false);
    expect(scopesAllow(scopes, 'Observation', 'r', ['user'])).toBe(false);
    expect(scopesAllow(scopes, 'Condition', 'r')).toBe(false);
    expect(scopesAllow(parseScopes('system/*.cruds'), 'Condition', 'c')).toBe(true);
  });

  it('never lets a query-limited scope stand for the whole type', () => {
    expect(scopesAllow([parseSmartScope('patient/Observation.rs?category=laboratory')], 'Observation', 'r')).toBe(false);
  });
});
