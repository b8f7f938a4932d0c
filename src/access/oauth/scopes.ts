/**
 * SMART on FHIR scopes (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html):
 * the v2 syntax `patient/Observation.rs`, `user/*.cruds`, `system/*.cruds`, the v1 syntax
 * `patient/Observation.read`, `.write` and `.*`, and v2 query-limited scopes
 * `patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory`.
 *
 * Resource scopes become `SmartScope`s; the other scopes OpenICS knows (openid, fhirUser,
 * launch, launch/patient, offline_access...) are not resource scopes and are skipped.
 * Anything else that looks like a resource scope but is malformed is refused with a ScopeError
 * saying what is wrong, never silently widened or narrowed.
 */
import type { SmartScope } from '../context.js';
import { isResourceType } from '../../fhir/definitions.js';

/** The SMART interactions in the order the v2 syntax requires: create, read, update, delete, search. */
export const SMART_ACTIONS = 'cruds';
export type SmartAction = 'c' | 'r' | 'u' | 'd' | 's';

/** Scopes that are not about resources: identity, launch context, refresh tokens. */
export const CONTEXT_SCOPES: ReadonlySet<string> = new Set([
  'openid',
  'profile',
  'fhirUser',
  'launch',
  'launch/patient',
  'launch/encounter',
  'offline_access',
  'online_access',
]);

/** The OpenID Connect scopes oidc-provider itself handles (the rest go to the FHIR resource server). */
export const OIDC_SCOPES: readonly string[] = ['openid', 'profile', 'fhirUser', 'offline_access'];

export class ScopeError extends Error {
  constructor(
    readonly scope: string,
    message: string,
  ) {
    super(`scope "${scope}": ${message}`);
    this.name = 'ScopeError';
  }
}

/** A parsed scope with its query restriction, when it has one (v2 query-limited scopes). */
export interface ParsedSmartScope extends SmartScope {
  /** The text after `?`, e.g. "category=…|laboratory"; undefined for an unrestricted scope. */
  query?: string;
}

const V1_ACTIONS: Readonly<Record<string, string>> = { read: 'rs', write: 'cud', '*': 'cruds' };

/** Whether a scope is shaped like a resource scope (context/Type.actions), well formed or not. */
export function looksLikeResourceScope(scope: string): boolean {
  return /^(patient|user|system)\//.test(scope);
}

/** Parses one resource scope; throws ScopeError naming the problem. */
export function parseSmartScope(scope: string): ParsedSmartScope {
  const match = /^(patient|user|system)\/([^.?]*)\.([^?]*)(?:\?(.*))?$/.exec(scope);
  if (!match) throw new ScopeError(scope, 'expected context/Type.actions, e.g. patient/Observation.rs');
  const context = match[1] as SmartScope['context'];
  const type = match[2] ?? '';
  const actionText = match[3] ?? '';
  const query = match[4];
  if (type !== '*' && !/^[A-Z][A-Za-z]+$/.test(type)) throw new ScopeError(scope, `"${type}" is not a resource type or *`);
  if (type !== '*' && !isResourceType(type)) throw new ScopeError(scope, `"${type}" is not a FHIR R4 resource type`);
  const actions = V1_ACTIONS[actionText] ?? parseV2Actions(scope, actionText);
  const parsed: ParsedSmartScope = { context, type, actions };
  if (query !== undefined) {
    if (V1_ACTIONS[actionText] !== undefined) throw new ScopeError(scope, 'query-limited scopes need the v2 syntax (e.g. .rs?…)');
    if (query === '' || !/^[^=&]+=[^&]*(&[^=&]+=[^&]*)*$/.test(query)) throw new ScopeError(scope, 'the query after "?" must be name=value pairs joined by &');
    parsed.query = query;
  }
  return parsed;
}

function parseV2Actions(scope: string, text: string): string {
  if (text === '') throw new ScopeError(scope, 'no actions after the "."; use a subset of cruds (e.g. rs) or v1 read, write, *');
  let last = -1;
  for (const ch of text) {
    const at = SMART_ACTIONS.indexOf(ch);
    if (at < 0) throw new ScopeError(scope, `"${text}" is not a subset of cruds, nor v1 read, write or *`);
    if (at <= last) throw new ScopeError(scope, `actions must be in the order c, r, u, d, s, each once (got "${text}")`);
    last = at;
  }
  return text;
}

/**
 * The resource scopes in a space-separated scope string. Context scopes (openid, launch...) are
 * skipped; a malformed resource scope or an unknown scope throws ScopeError.
 */
export function parseScopes(scope: string): SmartScope[] {
  const result: SmartScope[] = [];
  for (const one of scope.split(' ')) {
    if (one === '' || CONTEXT_SCOPES.has(one)) continue;
    if (!looksLikeResourceScope(one)) throw new ScopeError(one, 'is not a scope OpenICS knows');
    result.push(parseSmartScope(one));
  }
  return result;
}

/** Whether one scope string is something OpenICS can grant (a context scope or a well-formed resource scope). */
export function isGrantableScope(scope: string): boolean {
  if (CONTEXT_SCOPES.has(scope)) return true;
  if (!looksLikeResourceScope(scope)) return false;
  try {
    // Query-limited scopes parse, but nothing enforces the query yet, so they are not granted:
    // granting one would give the app everything the unrestricted scope gives.
    return parseSmartScope(scope).query === undefined;
  } catch {
    return false;
  }
}

/** Whether `granted` covers `wanted`: same context, type equal or *, every wanted action included, and no looser query. */
export function scopeCovers(granted: ParsedSmartScope, wanted: ParsedSmartScope): boolean {
  if (granted.context !== wanted.context) return false;
  if (granted.type !== '*' && granted.type !== wanted.type) return false;
  if (granted.query !== undefined && granted.query !== wanted.query) return false;
  return [...wanted.actions].every((a) => granted.actions.includes(a));
}

/**
 * Whether a client registered for `registered` (space-separated, wildcards allowed) may be
 * granted `requested`: a context scope must be registered as is; a resource scope must be
 * covered by one registered resource scope.
 */
export function registrationAllows(registered: string, requested: string): boolean {
  const list = registered.split(' ').filter((s) => s !== '');
  if (CONTEXT_SCOPES.has(requested)) return list.includes(requested);
  let wanted: ParsedSmartScope;
  try {
    wanted = parseSmartScope(requested);
  } catch {
    return false;
  }
  return list.some((r) => {
    if (!looksLikeResourceScope(r)) return false;
    try {
      return scopeCovers(parseSmartScope(r), wanted);
    } catch {
      return false;
    }
  });
}

/**
 * Whether a set of granted scopes allows an interaction on a resource type, in any of the
 * given contexts (e.g. a patient-bound token asks for ['patient']; staff for ['user']).
 */
export function scopesAllow(scopes: readonly SmartScope[], type: string, action: SmartAction, contexts: readonly SmartScope['context'][] = ['patient', 'user', 'system']): boolean {
  return scopes.some((s) => contexts.includes(s.context) && (s.type === '*' || s.type === type) && s.actions.includes(action) && (s as ParsedSmartScope).query === undefined);
}
