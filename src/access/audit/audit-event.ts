/**
 * One access to patient data as a FHIR R4 AuditEvent, shaped after IHE's Basic Audit Log
 * Patterns: what kind of event (`type`, `subtype`, `action`), when (`recorded`), how it ended
 * (`outcome`), why (`purposeOfEvent`), who (`agent`: the user or client, their organisation, the
 * app they used), where it was recorded (`source`: OpenICS) and which residents and data
 * (`entity`). And the reverse: the few facts the trail's queries need, read back from the event,
 * so the database's copies of them can be checked against the hashed JSON.
 *
 * Nothing that identifies a resident is written except a Patient reference id: query values
 * that could carry a name, an NHS number, a date of birth, an address or a telephone number are
 * replaced by "***", and any NHS number in free text is too.
 */
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding } from '@medplum/fhirtypes';
import { isValidNhsNumber } from '../../fhir/validate.js';
import { type AccessContext, type AccessRecord, type PurposeOfUse } from '../context.js';

export const AUDIT_EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
export const DICOM = 'http://dicom.nema.org/resources/ontology/DCM';
export const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
export const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
/** ONS statistical geography (GSS) codes, which councils are keyed by. */
export const GSS_SYSTEM = 'http://statistics.data.gov.uk/id/statistical-geography';
/** OpenICS's own words for what happened (AccessRecord.action), kept beside the standard codes. */
export const OPENICS_ACTION = 'urn:openics:access-action';
/** OpenICS's role codes (RoleCode in context.ts). */
export const OPENICS_ROLE = 'urn:openics:role';
/** Identifier systems of the agents: urn:openics:user, urn:openics:client, urn:openics:system, urn:openics:anonymous. */
export const agentSystem = (kind: AccessContext['kind']): string => `urn:openics:${kind}`;

const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const SECURITY_ROLE_TYPE = 'http://terminology.hl7.org/CodeSystem/extra-security-role-type';
const ROLE_CLASS = 'http://terminology.hl7.org/CodeSystem/v3-RoleClass';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';

export const PURPOSE_DISPLAY: Record<PurposeOfUse, string> = {
  TREAT: 'treatment',
  ETREAT: 'Emergency Treatment',
  PATRQT: 'patient requested',
  HOPERAT: 'healthcare operations',
  HSYSADMIN: 'health system administration',
  PUBHLTH: 'public health',
};

const REST: Coding = { system: AUDIT_EVENT_TYPE, code: 'rest', display: 'RESTful Operation' };
const dicom = (code: string, display: string): Coding => ({ system: DICOM, code, display });
const interaction = (code: string): Coding => ({ system: RESTFUL_INTERACTION, code, display: code });

interface EventKind {
  type: Coding;
  subtype?: Coding;
  action: 'C' | 'R' | 'U' | 'D' | 'E';
}

/**
 * The standard codes for each of the access layer's actions: FHIR REST interactions are type
 * `rest` with the interaction as subtype; sign-in, export, import and break-glass take DICOM's
 * event codes (PS3.15 A.5.3), as IHE's audit profiles do. Search is an Execute, as in FHIR.
 */
function eventKind(action: string): EventKind {
  switch (action) {
    case 'read':
    case 'vread':
      return { type: REST, subtype: interaction(action), action: 'R' };
    case 'history':
    case 'history-instance':
    case 'history-type':
    case 'history-system':
      return { type: REST, subtype: interaction(action), action: 'R' };
    case 'search':
    case 'search-type':
    case 'search-system':
      return { type: REST, subtype: interaction(action), action: 'E' };
    case 'capabilities':
      return { type: REST, subtype: interaction('capabilities'), action: 'R' };
    case 'create':
      return { type: REST, subtype: interaction('create'), action: 'C' };
    case 'update':
    case 'patch':
      return { type: REST, subtype: interaction(action), action: 'U' };
    case 'delete':
      return { type: REST, subtype: interaction('delete'), action: 'D' };
    case 'operation':
    case 'everything':
    case 'validate':
      return { type: REST, subtype: interaction('operation'), action: 'E' };
    case 'transaction':
    case 'batch':
      return { type: REST, subtype: interaction(action), action: 'E' };
    case 'export':
      return { type: dicom('110106', 'Export'), subtype: interaction('operation'), action: 'R' };
    case 'import':
      return { type: dicom('110107', 'Import'), subtype: interaction('operation'), action: 'C' };
    case 'break-glass':
      return { type: dicom('110113', 'Security Alert'), subtype: dicom('110127', 'Emergency Override Started'), action: 'E' };
    case 'login':
      return { type: dicom('110114', 'User Authentication'), subtype: dicom('110122', 'Login'), action: 'E' };
    case 'logout':
      return { type: dicom('110114', 'User Authentication'), subtype: dicom('110123', 'Logout'), action: 'E' };
    case 'token':
      return { type: dicom('110114', 'User Authentication'), action: 'E' };
    case 'audit-read':
      return { type: dicom('110101', 'Audit Log Used'), action: 'R' };
    case 'review':
      return { type: dicom('110101', 'Audit Log Used'), action: 'U' };
    default:
      return { type: dicom('110100', 'Application Activity'), action: 'E' };
  }
}

const OUTCOME_CODE = { success: '0', refused: '4', failure: '8' } as const;

// ---------------------------------------------------------------------------------------------
// Redaction: nothing that identifies a resident leaves a query except as a Patient reference id.

/** Search parameters (or chain links) whose values can identify a person. */
const IDENTIFYING_PARAMS = new Set([
  'identifier',
  'name',
  'family',
  'given',
  'phonetic',
  'birthdate',
  'death-date',
  'address',
  'address-city',
  'address-postalcode',
  'address-state',
  'address-country',
  'telecom',
  'phone',
  'email',
  '_content',
  '_text',
  '_filter',
]);

/** Ten digits, optionally spaced 3-3-4 as NHS numbers are printed, not inside a longer number. */
const NHS_NUMBER_LIKE = /(?<![0-9])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![0-9])/g;

/** Replaces every valid NHS number in free text (Modulus 11 checked, so ordinary numbers stay) with ***. */
export function scrubNhsNumbers(text: string): string {
  return text.replace(NHS_NUMBER_LIKE, (match, a: string, b: string, c: string) => (isValidNhsNumber(`${a}${b}${c}`) ? '***' : match));
}

/**
 * A request as the trail keeps it: the path and query as given, except that values of
 * identifying parameters (in any chain or modifier: `subject:Patient.name:exact=…`) become
 * "***", and so does any NHS number elsewhere.
 */
export function redactQuery(what: string): string {
  const question = what.indexOf('?');
  if (question < 0) return scrubNhsNumbers(what);
  const path = what.slice(0, question);
  const query = what
    .slice(question + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals < 0) return scrubNhsNumbers(pair);
      const name = pair.slice(0, equals);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // a malformed escape: judge the name as written
      }
      const identifying = decoded.split(/[.:]/).some((part) => IDENTIFYING_PARAMS.has(part.toLowerCase()));
      if (identifying) return `${name}=***`;
      const value = pair.slice(equals + 1);
      let plain: string;
      try {
        plain = decodeURIComponent(value.replaceAll('+', ' '));
      } catch {
        return `${name}=${scrubNhsNumbers(value)}`;
      }
      // Re-encode only a value that held an NHS number, so the query otherwise stays as sent.
      const scrubbed = scrubNhsNumbers(plain);
      return scrubbed === plain ? `${name}=${scrubNhsNumbers(value)}` : `${name}=${encodeURIComponent(scrubbed).replaceAll('%2A', '*')}`;
    })
    .join('&');
  return `${scrubNhsNumbers(path)}?${query}`;
}

// ---------------------------------------------------------------------------------------------

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const GSS_CODE = /^[EWSN]\d{8}$/;

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function patientEntity(id: string, reason: string | undefined): AuditEventEntity {
  return {
    what: { reference: `Patient/${id}` },
    type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
    role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
    ...(reason ? { detail: [{ type: 'break-glass-reason', valueString: reason }] } : {}),
  };
}

/** The entity for what was asked for: a resource reference, a query (base64, as R4 has it), or a named operation. */
function whatEntity(what: string, patients: readonly string[]): AuditEventEntity | undefined {
  const redacted = redactQuery(what.trim());
  if (redacted === '') return undefined;
  const systemObject = { system: ENTITY_TYPE, code: '2', display: 'System Object' };
  const reference = REFERENCE.exec(redacted);
  if (reference) {
    // A Patient already listed as a touched Patient needs no second entity.
    if (reference[1] === 'Patient' && patients.includes(reference[2] ?? '') && !redacted.includes('/_history/')) return undefined;
    return { what: { reference: redacted }, type: systemObject, role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' } };
  }
  if (redacted.includes('?')) return { type: systemObject, role: { system: OBJECT_ROLE, code: '24', display: 'Query' }, query: base64(redacted) };
  return { type: systemObject, name: redacted };
}

function agentType(context: AccessContext): Coding {
  if (context.kind === 'user' && context.role === 'citizen') return { system: ROLE_CLASS, code: 'PAT', display: 'patient' };
  if (context.kind === 'user') return { system: SECURITY_ROLE_TYPE, code: 'humanuser', display: 'human user' };
  if (context.kind === 'anonymous') return { system: SECURITY_ROLE_TYPE, code: 'humanuser', display: 'human user' };
  return dicom('110150', 'Application');
}

function agents(context: AccessContext, network: string | undefined): AuditEventAgent[] {
  const citizen = context.kind === 'user' && context.role === 'citizen';
  const requestor: AuditEventAgent = {
    type: { coding: [agentType(context)] },
    ...(context.role ? { role: [{ coding: [{ system: OPENICS_ROLE, code: context.role, display: context.role.replaceAll('_', ' ') }] }] } : {}),
    // A citizen's name is a resident's name: they are known by their user id only.
    who: { identifier: { system: agentSystem(context.kind), value: context.subject }, ...(citizen ? {} : { display: context.display }) },
    ...(citizen ? {} : { name: context.display }),
    requestor: true,
    ...(network ? { network: { address: network, type: '2' as const } } : {}),
    purposeOfUse: [{ coding: [{ system: ACT_REASON, code: context.purpose, display: PURPOSE_DISPLAY[context.purpose] }] }],
  };
  const result = [requestor];
  if (context.organisation) {
    const system = GSS_CODE.test(context.organisation) ? GSS_SYSTEM : ODS_SYSTEM;
    result.push({
      type: { coding: [{ system: ROLE_CLASS, code: 'PROV', display: 'healthcare provider' }] },
      who: { identifier: { system, value: context.organisation } },
      requestor: false,
    });
  }
  if (context.clientId && context.kind !== 'client') {
    result.push({ type: { coding: [dicom('110150', 'Application')] }, who: { identifier: { system: agentSystem('client'), value: context.clientId } }, requestor: false });
  }
  return result;
}

/** The AuditEvent for one record, numbered `sequence` in the chain. Never throws for odd input: odd parts are dropped or redacted. */
export function toAuditEvent(record: AccessRecord, sequence: number): AuditEvent {
  const kind = eventKind(record.action);
  const at = record.at instanceof Date && !Number.isNaN(record.at.getTime()) ? record.at : new Date();
  const patients = uniquePatients(record.patients);
  const detail = record.detail?.trim() ? scrubNhsNumbers(record.detail.trim()).slice(0, 2000) : undefined;
  const breakGlass = record.action === 'break-glass';
  const entities = patients.map((id) => patientEntity(id, breakGlass ? detail : undefined));
  const what = whatEntity(record.what ?? '', patients);
  if (what) entities.push(breakGlass && patients.length === 0 && detail ? { ...what, detail: [{ type: 'break-glass-reason', valueString: detail }] } : what);
  const outcome = OUTCOME_CODE[record.outcome] ?? '8';
  return {
    resourceType: 'AuditEvent',
    id: String(sequence),
    type: kind.type,
    subtype: [...(kind.subtype ? [kind.subtype] : []), { system: OPENICS_ACTION, code: record.action || 'unknown' }],
    action: kind.action,
    recorded: at.toISOString(),
    outcome,
    ...(detail && !breakGlass ? { outcomeDesc: detail } : {}),
    purposeOfEvent: [{ coding: [{ system: ACT_REASON, code: record.context.purpose, display: PURPOSE_DISPLAY[record.context.purpose] }] }],
    agent: agents(record.context, record.network),
    source: {
      site: 'OpenICS',
      observer: { identifier: { system: agentSystem('system'), value: 'openics' }, display: 'OpenICS' },
      type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }],
    },
    ...(entities.length > 0 ? { entity: entities } : {}),
  };
}

function uniquePatients(ids: readonly string[] | undefined): string[] {
  return [...new Set((ids ?? []).filter((id) => typeof id === 'string' && FHIR_ID.test(id)))];
}

/** The facts the trail's columns hold, read back from an event: verification compares them with the columns. */
export interface EventFacts {
  recorded: string;
  action: string;
  outcome: AccessRecord['outcome'];
  agentKind: AccessContext['kind'];
  agent: string;
  role: string | null;
  organisation: string | null;
  purpose: string;
  patients: string[];
}

export function factsOf(event: AuditEvent): EventFacts {
  const requestor = event.agent?.find((a) => a.requestor) ?? event.agent?.[0];
  const system = requestor?.who?.identifier?.system ?? '';
  const kind = system.replace(/^urn:openics:/, '') as AccessContext['kind'];
  const organisation = event.agent?.find((a) => a.type?.coding?.[0]?.code === 'PROV')?.who?.identifier?.value ?? null;
  const outcome = event.outcome === '0' ? 'success' : event.outcome === '4' ? 'refused' : 'failure';
  return {
    recorded: event.recorded,
    action: event.subtype?.find((c) => c.system === OPENICS_ACTION)?.code ?? '',
    outcome,
    agentKind: kind,
    agent: requestor?.who?.identifier?.value ?? '',
    role: requestor?.role?.[0]?.coding?.[0]?.code ?? null,
    organisation,
    purpose: event.purposeOfEvent?.[0]?.coding?.[0]?.code ?? '',
    patients: (event.entity ?? [])
      .filter((e) => e.role?.code === '1' && e.what?.reference?.startsWith('Patient/'))
      .map((e) => (e.what?.reference ?? '').slice('Patient/'.length)),
  };
}

/** The request or operation an event was about, as recorded (already redacted). */
export function whatOf(event: AuditEvent): string | undefined {
  for (const entity of event.entity ?? []) {
    if (entity.role?.code === '1') continue;
    if (entity.query) return Buffer.from(entity.query, 'base64').toString('utf8');
    if (entity.what?.reference) return entity.what.reference;
    if (entity.name) return entity.name;
  }
  const patient = event.entity?.find((e) => e.role?.code === '1')?.what?.reference;
  return patient;
}

/** The break-glass reason or the reason for a refusal, if the event has one. */
export function reasonOf(event: AuditEvent): string | undefined {
  for (const entity of event.entity ?? []) {
    const reason = entity.detail?.find((d) => d.type === 'break-glass-reason')?.valueString;
    if (reason) return reason;
  }
  return event.outcomeDesc;
}
