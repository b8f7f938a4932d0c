/**
 * Audit events in plain English, for the citizen's access log and the privacy officer's pages:
 * who (name, role and organisation), what (in words, not FHIR), why (the purpose of use and any
 * break-glass reason) and how it ended.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { OPENICS_ACTION, reasonOf, whatOf } from './audit-event.js';

const ROLE_WORDS: Record<string, string> = {
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
  citizen: 'Resident',
};

/** What kinds of record a resource type holds, as a resident would say it. */
const RECORD_WORDS: Record<string, string> = {
  Patient: 'personal details',
  Observation: 'test results and measurements',
  Condition: 'conditions and diagnoses',
  MedicationRequest: 'medicines',
  MedicationStatement: 'medicines',
  MedicationDispense: 'medicines',
  MedicationAdministration: 'medicines',
  AllergyIntolerance: 'allergies',
  Immunization: 'vaccinations',
  Procedure: 'operations and procedures',
  Encounter: 'appointments and visits',
  Appointment: 'appointments',
  EpisodeOfCare: 'episodes of care',
  ServiceRequest: 'referrals and requests',
  DocumentReference: 'letters and documents',
  DiagnosticReport: 'test reports',
  CarePlan: 'care plans',
  CareTeam: 'care team',
  Consent: 'sharing choices',
  Flag: 'alerts',
  FamilyMemberHistory: 'family history',
  QuestionnaireResponse: 'forms',
};

function recordWords(type: string): string {
  return RECORD_WORDS[type] ?? type.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

export interface EventWords {
  sequence: number;
  recorded: string;
  /** The person or system, e.g. "Dr Aisha Rahman" or "You". */
  who: string;
  /** Their role and organisation, e.g. "Doctor, Worcestershire Acute Hospitals NHS Trust". */
  role: string;
  what: string;
  why: string;
  /** The break-glass reason or the reason for a refusal. */
  reason?: string;
  outcome: 'success' | 'refused' | 'failure';
  breakGlass: boolean;
  action: string;
  agent: string;
  organisation?: string;
}

export function actionOf(event: AuditEvent): string {
  return event.subtype?.find((c) => c.system === OPENICS_ACTION)?.code ?? '';
}

function whatWords(event: AuditEvent, action: string, forCitizen: boolean): string {
  const your = forCitizen ? 'your' : 'the';
  const asked = whatOf(event) ?? '';
  const type = /^\$?([A-Z][A-Za-z]+)/.exec(asked)?.[1] ?? '';
  const records = type ? recordWords(type) : 'record';
  switch (action) {
    case 'read':
    case 'vread':
      return type === 'Patient' ? `Looked at ${your} record` : `Looked at ${your} ${records}`;
    case 'search':
    case 'search-type':
    case 'search-system':
      return `Searched ${your} ${records}`;
    case 'history':
    case 'history-instance':
    case 'history-type':
    case 'history-system':
      return `Looked at earlier versions of ${your} ${records}`;
    case 'create':
      return `Added to ${your} ${records}`;
    case 'update':
    case 'patch':
      return `Changed ${your} ${records}`;
    case 'delete':
      return `Removed an entry from ${your} ${records}`;
    case 'everything':
      return `Looked at ${your} whole record`;
    case 'operation':
      return asked.includes('$everything') ? `Looked at ${your} whole record` : `Used ${your} ${records}`;
    case 'export':
      return `Copied ${your} record in a data export`;
    case 'import':
      return `Loaded ${your} records from another system`;
    case 'transaction':
    case 'batch':
      return `Updated ${your} record from another system`;
    case 'break-glass':
      return `Opened ${your} record in an emergency (break glass)`;
    case 'audit-read':
      return forCitizen ? 'Looked at who has looked at your record' : 'Read the audit trail';
    case 'review':
      return 'Reviewed an emergency access to your record';
    default:
      return `Used ${your} record`;
  }
}

const WHY: Record<string, { citizen: string; staff: string }> = {
  TREAT: { citizen: 'Your care', staff: 'Direct care' },
  ETREAT: { citizen: 'Emergency care without a care relationship (break glass)', staff: 'Emergency (break glass)' },
  PATRQT: { citizen: 'You, or someone you gave access to, looked at your record', staff: 'The resident or their proxy' },
  HOPERAT: { citizen: 'Planning services (without your name or NHS number)', staff: 'Planning (pseudonymised)' },
  HSYSADMIN: { citizen: 'Keeping your record up to date from the systems that hold it', staff: 'System administration' },
  PUBHLTH: { citizen: 'Public health (without your name or NHS number)', staff: 'Public health' },
};

/**
 * An event in words. `viewer` is the signed-in citizen's subject when the reader is the
 * resident, so their own visits read "You"; organisation names come from `organisations`.
 */
export function describeEvent(sequence: number, event: AuditEvent, organisations: ReadonlyMap<string, string>, viewer?: string): EventWords {
  const forCitizen = viewer !== undefined;
  const action = actionOf(event);
  const requestor = event.agent.find((a) => a.requestor) ?? event.agent[0];
  const agent = requestor?.who?.identifier?.value ?? '';
  const kind = (requestor?.who?.identifier?.system ?? '').replace(/^urn:openics:/, '');
  const role = requestor?.role?.[0]?.coding?.[0]?.code;
  const organisation = event.agent.find((a) => a.type?.coding?.[0]?.code === 'PROV')?.who?.identifier?.value;
  let who: string;
  if (forCitizen && agent === viewer) who = 'You';
  else if (role === 'citizen') who = 'Someone you have given access to your record';
  else if (kind === 'system') who = 'OpenICS';
  else if (kind === 'client') who = requestor?.who?.display ?? 'A connected system';
  else who = requestor?.who?.display ?? 'Someone not signed in';
  const roleWords = [role && role !== 'citizen' ? ROLE_WORDS[role] ?? role : undefined, organisation ? organisations.get(organisation) ?? organisation : undefined].filter(Boolean).join(', ');
  const purpose = event.purposeOfEvent?.[0]?.coding?.[0]?.code ?? '';
  const why = WHY[purpose]?.[forCitizen ? 'citizen' : 'staff'] ?? purpose;
  const outcome = event.outcome === '0' ? 'success' : event.outcome === '4' ? 'refused' : 'failure';
  const reason = reasonOf(event);
  const words: EventWords = {
    sequence,
    recorded: event.recorded,
    who,
    role: roleWords,
    what: outcome === 'refused' ? `Tried: ${whatWords(event, action, forCitizen).toLowerCase()} (refused)` : whatWords(event, action, forCitizen),
    why,
    outcome,
    breakGlass: action === 'break-glass' || purpose === 'ETREAT',
    action,
    agent,
    ...(organisation ? { organisation } : {}),
  };
  if (reason) words.reason = reason;
  return words;
}

export { ROLE_WORDS };
