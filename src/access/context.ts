/**
 * Who is asking, on whose behalf and why: the one shape every part of the access layer shares.
 *
 *   sign-in (identity/)      request → AccessContext (session cookie, bearer token, or anonymous)
 *   authorisation (policy/)  AccessContext → what rows of patient data a query may see, and
 *                            whether a write or an operation is allowed; applied in the SQL
 *   audit (audit/)           AccessContext + what happened → an AuditEvent in the hash chain
 *
 * Roles follow the national RBAC roles (https://digital.nhs.uk/services/care-identity-service/
 * applications-and-services/manage-nhs-smartcards/rbac-database), simplified to the jobs OpenICS
 * distinguishes; each is held at one organisation (ODS code, or ONS code for a council).
 */

export const ROLES = [
  'doctor',
  'nurse',
  'allied_health_professional',
  'social_worker',
  'care_coordinator',
  'administrator',
  'analyst',
  'leader',
  'board_member',
  'privacy_officer',
  'citizen',
] as const;
export type RoleCode = (typeof ROLES)[number];

/** Roles that give direct care to residents, and so may see identifiable records given a legitimate relationship. */
export const DIRECT_CARE_ROLES: readonly RoleCode[] = ['doctor', 'nurse', 'allied_health_professional', 'social_worker', 'care_coordinator'];

export interface RoleAssignment {
  role: RoleCode;
  /** ODS code of the organisation (or ONS code of a council) the role is held at. */
  organisation: string;
  /** The national RBAC role code this maps from or to, e.g. "R8000" (clinical practitioner), when known. */
  nationalCode?: string;
}

/** HL7 v3 PurposeOfUse (http://terminology.hl7.org/CodeSystem/v3-ActReason). */
export type PurposeOfUse =
  | 'TREAT' // direct care
  | 'ETREAT' // emergency treatment: break-glass
  | 'PATRQT' // a citizen looking at their own (or a proxied) record
  | 'HOPERAT' // healthcare operations: planning, analytics (pseudonymised only)
  | 'HSYSADMIN' // system administration: feeds, imports, the demo loader
  | 'PUBHLTH'; // population health (pseudonymised or aggregated only)

/** SMART v2 scope, parsed: `patient/Observation.rs` → { context: 'patient', type: 'Observation', actions: 'rs' }. */
export interface SmartScope {
  context: 'patient' | 'user' | 'system';
  /** A resource type, or '*'. */
  type: string;
  /** Subset of 'cruds' (v1 `read` = 'rs', `write` = 'cud', `*` = 'cruds'). */
  actions: string;
}

export interface AccessContext {
  /** 'user': a signed-in person (staff or citizen); 'client': a backend service with its own token; 'system': OpenICS itself (demo loader, CLI imports); 'anonymous': nobody signed in. */
  kind: 'user' | 'client' | 'system' | 'anonymous';
  /** Stable id of the user or client; never an NHS number. */
  subject: string;
  /** Name to show in audit trails and pages, e.g. "Dr Aisha Rahman" or "WVT PAS feed". */
  display: string;
  /** The role and organisation the user acts in for this session (one of their assignments). */
  role?: RoleCode;
  organisation?: string;
  /** What the token or session allows. Cookie sessions of staff have `user/*.cruds` limited by role. */
  scopes: SmartScope[];
  /** SMART launch context: the FHIR Patient id the token is bound to (patient/… scopes). */
  patient?: string;
  /** Citizens: the FHIR Patient ids that are theirs, and those they hold proxy access for. */
  ownPatients?: string[];
  proxyPatients?: string[];
  purpose: PurposeOfUse;
  /**
   * The FHIR resource the user is, as `Type/id` (SMART `fhirUser`, e.g. "Practitioner/123"), when
   * known: the policy counts care team membership of that Practitioner as a relationship.
   */
  fhirUser?: string;
  /** The OAuth client the request came through, if any (for audit). */
  clientId?: string;
  /** Request id, to join the audit trail to the request log. */
  requestId?: string;
}

/** OpenICS acting on its own behalf (demo loader, command-line imports): full access, still audited. */
export const SYSTEM_ACCESS: AccessContext = {
  kind: 'system',
  subject: 'openics',
  display: 'OpenICS',
  scopes: [{ context: 'system', type: '*', actions: 'cruds' }],
  purpose: 'HSYSADMIN',
};

export const ANONYMOUS: AccessContext = { kind: 'anonymous', subject: 'anonymous', display: 'Not signed in', scopes: [], purpose: 'TREAT' };

/** What the audit trail records about one access; audit/ turns it into a FHIR AuditEvent in the hash chain. */
export interface AccessRecord {
  context: AccessContext;
  /** 'read' | 'vread' | 'search' | 'history' | 'create' | 'update' | 'patch' | 'delete' | 'export' | 'import' | 'operation' | 'break-glass' | 'login' | 'logout' | 'token'. */
  action: string;
  /** 'success' or 'refused' (or 'failure' for errors). */
  outcome: 'success' | 'refused' | 'failure';
  /** The FHIR Patient ids whose data was touched (or would have been, when refused). */
  patients: string[];
  /** e.g. "Patient/123", "Observation?patient=123&code=…", "$export". Never an NHS number in free text. */
  what: string;
  /** Why refused, or the break-glass reason. */
  detail?: string;
  at: Date;
  /** The client's network address (IP) as the server saw it, when known (AuditEvent.agent.network). */
  network?: string;
}
