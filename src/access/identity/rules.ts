/**
 * Who may use which kind of endpoint: one table for the whole platform, so a new page or API
 * route of an existing kind is protected the moment it is added. A route may name its own rule
 * in its config (`config: { access: { who: 'staff', roles: ['privacy_officer'] } }`), which wins.
 *
 *   kind              what                                             who may
 *   public            home page, /public/…, feeds, /healthz, static,    anyone
 *                     sign-in, OAuth endpoints, the OpenAPI document
 *   staff-page        GET of the staff pages under /ics                 staff acting in any role
 *   api-read          GET of /api/… (structure, governance, finance),   staff acting in any role, backend clients
 *                     and any other /api/… (analytics: its routes check roles)
 *   structure-write   changes to an ICS's structure (API and forms)     administrator or leader, held at that ICS's ICB
 *   governance-write  changes to its meetings, papers, registers …      administrator, leader or board member, at that ICB
 *   finance-write     changes to its allocations, budgets, scenarios …  analyst, leader or administrator, at that ICB
 *   access            /access/…, /my/…, /api/access/…: break-glass,     any signed-in user acting in a role, or a client;
 *                     audit, a citizen's own pages                      the routes check the finer rules themselves
 *   fhir              /fhir/…                                           the FHIR access policy decides, per row (policy/)
 *
 * The rule text in docs/access.md says the same; the role matrix test checks every cell.
 */
import { type AccessContext, ROLES, type RoleCode } from '../context.js';

export type EndpointKind = 'public' | 'staff-page' | 'api-read' | 'structure-write' | 'governance-write' | 'finance-write' | 'access' | 'fhir';

export interface AccessRule {
  /**
   * 'anyone': no sign-in needed. 'staff': a signed-in staff user acting in a role (and, with
   * `clients`, a backend client or OpenICS itself). 'signed-in': any signed-in user acting in a
   * role (staff or citizen) or client. 'fhir': left to the FHIR access policy.
   */
  who: 'anyone' | 'staff' | 'signed-in' | 'fhir';
  /** The roles allowed; absent means any role of that audience. */
  roles?: readonly RoleCode[];
  /** 'ics': the role must be held at the ICB of the ICS the request is about (its code is the ICB's ODS code). */
  at?: 'ics';
  /** Whether a backend client's token (kind 'client') also passes. OpenICS itself ('system') always passes. */
  clients?: boolean;
  /** What the rule protects, in words for a refusal: "change the structure of an ICS". */
  purpose?: string;
}

const STAFF_ROLES = ROLES.filter((r) => r !== 'citizen');

export const RULES: Record<EndpointKind, AccessRule> = {
  public: { who: 'anyone' },
  'staff-page': { who: 'staff', purpose: 'see the staff pages' },
  'api-read': { who: 'staff', clients: true, purpose: 'use the API' },
  'structure-write': { who: 'staff', roles: ['administrator', 'leader'], at: 'ics', purpose: 'change the structure of an ICS' },
  'governance-write': { who: 'staff', roles: ['administrator', 'leader', 'board_member'], at: 'ics', purpose: 'change the governance records of an ICS' },
  'finance-write': { who: 'staff', roles: ['analyst', 'leader', 'administrator'], at: 'ics', purpose: 'change the finances of an ICS' },
  access: { who: 'signed-in', clients: true, purpose: 'do this' },
  fhir: { who: 'fhir' },
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}

/** API reads that are public reference material (the same for every ICS, or national open data). */
const PUBLIC_API = new Set(['/api/openapi.json', '/api/rules', '/api/finance/icbs']);
/** API POSTs that compute an answer and change nothing. */
const COMPUTE_API = new Set(['/api/finance/need-indices']);

/**
 * The kind of endpoint a route is, from its method and its URL pattern as registered
 * (`/ics/:ics/finance/budgets`), or the path when no route matched.
 */
export function endpointKind(method: string, route: string): EndpointKind {
  const path = route.split('?')[0] ?? '';
  const safe = isSafeMethod(method);
  const under = (prefix: string): boolean => path === prefix || path.startsWith(`${prefix}/`);
  if (under('/fhir')) return 'fhir';
  if (under('/access') || under('/my') || under('/api/access')) return 'access';
  if (under('/ics')) {
    if (safe) return 'staff-page';
    const rest = path.split('/').slice(3);
    if (rest[0] === 'finance') return 'finance-write';
    if (rest[0] === 'governance') return 'governance-write';
    return 'structure-write';
  }
  if (under('/api')) {
    if (PUBLIC_API.has(path)) return safe ? 'public' : 'api-read';
    if (safe || COMPUTE_API.has(path)) return 'api-read';
    if (path === '/api/ics') return 'structure-write';
    if (!under('/api/ics')) return 'api-read';
    const rest = path.split('/').slice(4);
    if (rest[0] === 'finance') return 'finance-write';
    if (rest[0] === 'governance') return 'governance-write';
    return 'structure-write';
  }
  return 'public';
}

export type Decision =
  | { outcome: 'allow' }
  /** Nobody is signed in (or the token is not valid): sign in. */
  | { outcome: 'sign-in'; message: string }
  /** Signed in with several roles and none chosen yet. */
  | { outcome: 'choose-role'; message: string }
  | { outcome: 'forbidden'; message: string };

export const ROLE_NAMES: Record<RoleCode, string> = {
  doctor: 'Doctor',
  nurse: 'Nurse',
  allied_health_professional: 'Allied health professional',
  social_worker: 'Social worker',
  care_coordinator: 'Care coordinator',
  administrator: 'Administrator',
  analyst: 'Analyst',
  leader: 'Place or system leader',
  board_member: 'Board member',
  privacy_officer: 'Privacy officer',
  citizen: 'Citizen',
};

function list(roles: readonly RoleCode[]): string {
  const names = roles.map((r) => ROLE_NAMES[r].toLowerCase());
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}`;
}

/**
 * Whether this caller may use an endpoint with this rule. `ics` is the ICS the request is about
 * (upper case), for rules held `at: 'ics'`.
 */
export function decide(access: AccessContext, rule: AccessRule, ics?: string): Decision {
  if (rule.who === 'anyone' || rule.who === 'fhir') return { outcome: 'allow' };
  if (access.kind === 'system') return { outcome: 'allow' };
  const purpose = rule.purpose ?? 'do this';
  if (access.kind === 'anonymous') return { outcome: 'sign-in', message: `Sign in to ${purpose}` };
  if (access.kind === 'client') {
    return rule.clients || rule.who === 'signed-in' ? { outcome: 'allow' } : { outcome: 'forbidden', message: `A client’s token cannot ${purpose}; sign in as a person` };
  }
  if (access.role === undefined || access.organisation === undefined) return { outcome: 'choose-role', message: `Choose the role you are acting in to ${purpose}` };
  if (rule.who === 'staff' && access.role === 'citizen') return { outcome: 'forbidden', message: `This is for staff of the ICS: you cannot ${purpose} as a citizen` };
  const roles = rule.roles ?? (rule.who === 'staff' ? STAFF_ROLES : ROLES);
  const where = rule.at === 'ics' && ics ? ` at ${ics}` : '';
  if (!roles.includes(access.role)) {
    return { outcome: 'forbidden', message: `To ${purpose} you need to act as ${list(roles)}${where}; you are acting as ${ROLE_NAMES[access.role].toLowerCase()}` };
  }
  if (rule.at === 'ics' && (ics === undefined || access.organisation !== ics)) {
    return { outcome: 'forbidden', message: `To ${purpose} you need the role at ${ics ?? 'its ICB'}; you hold it at ${access.organisation}` };
  }
  return { outcome: 'allow' };
}
