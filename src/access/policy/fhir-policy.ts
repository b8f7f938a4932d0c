/**
 * The FHIR access policy: an AccessContext (who is asking, in which role, with which scopes)
 * turned into the FHIR module's hook (src/fhir/access.ts). Everything that decides which rows a
 * caller sees is SQL inside the queries, so totals, paging, includes, chains, `$everything` and
 * bulk export cannot show more than a read would.
 *
 * Who sees what (src/access/README.md has the full tables):
 *
 *  - OpenICS itself (`kind: 'system'`): everything, still audited.
 *  - Citizens, and tokens bound to a patient (`patient/…` scopes): the Patient compartments of
 *    their own Patients and of those they are proxy for (a launch `patient` narrows it to that
 *    one), plus the directory resources (Practitioner, Organization, Location, Medication...)
 *    those records refer to. Sensitive classes are withheld as labels.ts says. Group resources
 *    (which list other people) are never shown to them.
 *  - Direct-care staff (doctor, nurse, allied health professional, social worker, care
 *    coordinator) and backend clients of an organisation: the compartments of residents with a
 *    legitimate relationship with their organisation (or, for care teams, with them), or for
 *    whom they hold an unexpired break-glass grant; minus, for a resident who objects to sharing,
 *    the records their organisation does not hold (unless break-glass); minus sensitive records
 *    labels.ts withholds. Directory resources are open to them; Groups (cohorts of residents)
 *    only to the organisation that holds them.
 *  - Analysts: no identifiable access. They may run `$export` for secondary use: residents with
 *    a National Data Opt-out and every labelled record are left out, and each resource is
 *    pseudonymised (src/access/analytics/pseudonymise.ts).
 *  - Leaders, board members, privacy officers, administrators, anonymous callers: no FHIR
 *    data (the CapabilityStatement is public).
 *
 * SMART scopes narrow all of this: an interaction needs a scope for its type with the right
 * action letter, and rows of types no read or search scope covers are filtered out.
 *
 * A read of something the caller may not see answers 404, as for something that does not exist,
 * so nothing reveals existence to citizens or apps; the one exception is a direct-care user
 * naming a record of a resident they have no relationship with (or who objects to sharing): 403
 * with an OperationOutcome saying that break-glass is possible, and the Patient to break glass
 * for. Every refusal is audited.
 */
import { randomBytes } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../../core/db/database.js';
import {
  type FhirAccessEvent,
  type FhirAccessPolicy,
  type FhirInteraction,
  type HiddenRow,
  type RowFilter,
  type WriteCheck,
  FhirAccessDenied,
} from '../../fhir/access.js';
import { type TableFamily, tableFamily } from '../../fhir/definitions.js';
import { indexResource, patientKey, patientKeyOf } from '../../fhir/indexer.js';
import type { FhirError } from '../../fhir/outcome.js';
import { SqlBuilder } from '../../fhir/search/sql.js';
import { pseudonymiseResource } from '../analytics/pseudonymise.js';
import { recordAccess } from '../audit/trail.js';
import { type AccessContext, type AccessRecord, DIRECT_CARE_ROLES, type RoleCode } from '../context.js';
import { type SmartAction, scopesAllow } from '../oauth/scopes.js';
import { consentExists } from './consent.js';
import { type SensitiveClass, classesForBreakGlass, classesForRelated, classesHiddenFromProxy, classesHiddenFromResident, holderOf, sourcePrefix } from './labels.js';
import { relationshipsFrom } from './relationships.js';

/** Shared (non-compartment) types anyone with FHIR access may read: directories, medicines, terminology and knowledge. */
export const DIRECTORY_TYPES: readonly string[] = [
  'Organization', 'OrganizationAffiliation', 'Practitioner', 'PractitionerRole', 'Location', 'HealthcareService', 'Endpoint',
  'Medication', 'MedicationKnowledge', 'Substance', 'SubstanceSpecification', 'SubstancePolymer', 'SubstanceProtein', 'SubstanceNucleicAcid',
  'SubstanceReferenceInformation', 'SubstanceSourceMaterial', 'MedicinalProduct', 'MedicinalProductAuthorization', 'MedicinalProductContraindication',
  'MedicinalProductIndication', 'MedicinalProductIngredient', 'MedicinalProductInteraction', 'MedicinalProductManufactured', 'MedicinalProductPackaged',
  'MedicinalProductPharmaceutical', 'MedicinalProductUndesirableEffect', 'DeviceDefinition',
  'CodeSystem', 'ValueSet', 'ConceptMap', 'NamingSystem', 'StructureDefinition', 'StructureMap', 'SearchParameter', 'OperationDefinition',
  'CapabilityStatement', 'CompartmentDefinition', 'ImplementationGuide', 'GraphDefinition', 'MessageDefinition', 'TerminologyCapabilities',
  'ActivityDefinition', 'PlanDefinition', 'Questionnaire', 'Library', 'Measure', 'ObservationDefinition', 'SpecimenDefinition', 'EventDefinition',
  'ChargeItemDefinition', 'InsurancePlan', 'CatalogEntry',
];

export interface PolicyOptions {
  /** How long after a relationship ends it still counts (days; default 90). */
  relationshipWindowDays?: number;
  /** Key for analysts' pseudonyms (OPENICS_PSEUDONYMISATION_KEY). Without one, a random key per process: identifiers still go, pseudonyms do not join across restarts. */
  pseudonymisationKey?: string | undefined;
  /** Where audit records go (default: the hash chain, recordAccess). */
  record?: ((record: AccessRecord) => Promise<unknown>) | undefined;
  /** The clock (tests). */
  now?: () => Date;
}

export const DEFAULT_RELATIONSHIP_WINDOW_DAYS = 90;
const PROCESS_KEY = randomBytes(32).toString('hex');

type Mode =
  | { kind: 'unrestricted' }
  | { kind: 'none'; why: string; status: 401 | 403 }
  | { kind: 'secondary' }
  | { kind: 'staff'; staff: StaffRule }
  | { kind: 'patient'; ownKeys: number[]; proxyKeys: number[]; staff: StaffRule | undefined };

/** A direct-care user's or an organisation's client's rule. */
interface StaffRule {
  organisation: string;
  /** The organisation, and the user's Practitioner (care teams). */
  parties: string[];
  role: RoleCode | undefined;
  subject: string;
  /** Sensitive classes the role sees through a relationship (besides its own organisation's). */
  relatedClasses: SensitiveClass[];
  /** Whether the holder's own staff rule applies (direct-care roles and clients both hold their records). */
  breakGlass: boolean;
}

const ACTION: Partial<Record<FhirInteraction, SmartAction>> = {
  read: 'r',
  vread: 'r',
  'history-instance': 'r',
  everything: 'r',
  export: 'r',
  'search-type': 's',
  'search-system': 's',
  'history-type': 's',
  'history-system': 's',
  create: 'c',
  update: 'u',
  patch: 'u',
  delete: 'd',
  import: 'c',
};

function modeOf(context: AccessContext): Mode {
  if (context.kind === 'system') return { kind: 'unrestricted' };
  if (context.kind === 'anonymous') return { kind: 'none', status: 401, why: 'Sign in, or send a bearer token (Authorization: Bearer …), to use the FHIR API' };
  const staff = staffRule(context);
  const patientScoped = context.scopes.some((s) => s.context === 'patient');
  if (context.role === 'citizen' || patientScoped) {
    const own = context.role === 'citizen' ? (context.ownPatients ?? []) : [];
    const proxy = context.role === 'citizen' ? (context.proxyPatients ?? []) : [];
    // A launch context narrows a citizen to that Patient (if it is theirs); staff in a patient launch see that Patient only.
    if (context.patient !== undefined) {
      const key = patientKey(context.patient);
      if (context.role === 'citizen') {
        return { kind: 'patient', ownKeys: own.includes(context.patient) ? [key] : [], proxyKeys: proxy.includes(context.patient) ? [key] : [], staff: undefined };
      }
      if (!staff) return { kind: 'none', status: 403, why: 'This token is bound to a patient, but its user has no direct-care role to see records with' };
      return { kind: 'patient', ownKeys: [key], proxyKeys: [], staff };
    }
    if (context.role !== 'citizen') return { kind: 'none', status: 403, why: 'A token with patient/ scopes must be bound to a patient (launch/patient)' };
    return { kind: 'patient', ownKeys: own.map(patientKey), proxyKeys: proxy.map(patientKey), staff: undefined };
  }
  if (context.role === 'analyst') return { kind: 'secondary' };
  if (context.kind === 'client' && (context.purpose === 'HOPERAT' || context.purpose === 'PUBHLTH')) return { kind: 'secondary' };
  if (staff) return { kind: 'staff', staff };
  const role = context.role ? context.role.replace('_', ' ') : 'no role';
  return { kind: 'none', status: 403, why: `Your role (${role}) gives no access to identifiable patient records` };
}

function staffRule(context: AccessContext): StaffRule | undefined {
  if (!context.organisation) return undefined;
  const directCare = context.kind === 'user' && context.role !== undefined && DIRECT_CARE_ROLES.includes(context.role);
  if (!directCare && context.kind !== 'client') return undefined;
  const practitioner = /^(?:.*\/)?(Practitioner\/[A-Za-z0-9\-.]{1,64})$/.exec(context.fhirUser ?? '')?.[1];
  return {
    organisation: context.organisation,
    parties: [context.organisation, ...(practitioner ? [practitioner] : [])],
    role: directCare ? context.role : undefined,
    subject: context.subject,
    relatedClasses: directCare ? classesForRelated(context.role) : [],
    breakGlass: directCare,
  };
}

/** Types the scopes let the caller read or search; undefined when every type is covered. */
function readableTypes(context: AccessContext): string[] | undefined {
  if (context.kind === 'system') return undefined;
  if (context.scopes.some((s) => s.type === '*' && /[rs]/.test(s.actions))) return undefined;
  return [...new Set(context.scopes.filter((s) => /[rs]/.test(s.actions)).map((s) => s.type))];
}

/** The SQL pieces of a policy, bound into one statement's SqlBuilder. */
class Conditions {
  constructor(
    private readonly sql: SqlBuilder,
    private readonly now: string,
    private readonly cutoff: string,
  ) {}

  bind(value: unknown, type?: string): string {
    const placeholder = this.sql.bind(value);
    return type ? `${placeholder}::${type}` : placeholder;
  }

  /** The person of `a` has a relationship with one of the parties, open or ended after the cutoff. */
  related(a: string, staff: StaffRule): string {
    return `EXISTS (SELECT 1 FROM access_person_link rl JOIN access_relationship ar ON ar.person_key = rl.person_key
      WHERE rl.patient_key = ${a}.patient_key AND ar.party = ANY(${this.bind(staff.parties, 'text[]')}) AND (ar.until IS NULL OR ar.until >= ${this.bind(this.cutoff, 'timestamptz')}))`;
  }

  /** The user holds an unexpired break-glass grant for the person of `a`. */
  brokeGlass(a: string, staff: StaffRule): string {
    if (!staff.breakGlass) return 'false';
    return `EXISTS (SELECT 1 FROM access_person_link gl JOIN access_break_glass g ON g.person_key = gl.person_key
      WHERE gl.patient_key = ${a}.patient_key AND g.user_subject = ${this.bind(staff.subject)} AND g.organisation = ${this.bind(staff.organisation)}
        AND g.expires_at > ${this.bind(this.now, 'timestamptz')})`;
  }

  /** Row `a` is held (meta.source) by the organisation. */
  heldBy(a: string, family: TableFamily, organisation: string): string {
    return `EXISTS (SELECT 1 FROM ${family}_uri hu WHERE hu.patient_key = ${a}.patient_key AND hu.resource_key = ${a}.resource_key
      AND hu.param = '_source' AND starts_with(hu.value, ${this.bind(sourcePrefix(organisation))}))`;
  }

  /** The resident of `a` objects to sharing with the organisation. */
  objects(a: string, organisation: string): string {
    return consentExists(a, 'objection', this.bind(this.now, 'timestamptz'), ` AND (c.organisations IS NULL OR ${this.bind(organisation)} = ANY(c.organisations))`);
  }

  optedOut(a: string): string {
    return consentExists(a, 'national-opt-out', this.bind(this.now, 'timestamptz'));
  }

  /** No label of `a` is in a class for which `allowed(s)` (a condition on label row s) fails. */
  labelsAllow(a: string, allowed: string): string {
    return `NOT EXISTS (SELECT 1 FROM access_resource_label s WHERE s.resource_key = ${a}.resource_key AND s.patient_key = ${a}.patient_key AND NOT (${allowed}))`;
  }

  /** Row `a` belongs to one of these patients, or to a Patient linked to one of them. */
  ofPatients(a: string, keys: readonly number[]): string {
    if (keys.length === 0) return 'false';
    const bound = this.bind(keys.map(String), 'int8[]');
    return `(${a}.patient_key = ANY(${bound}) OR EXISTS (SELECT 1 FROM access_person_link k1 JOIN access_person_link k2 ON k2.person_key = k1.person_key
      WHERE k1.patient_key = ANY(${bound}) AND k2.patient_key = ${a}.patient_key))`;
  }
}

export class FhirPolicy implements FhirAccessPolicy {
  readonly owner: string;
  readonly unrestricted: boolean;
  readonly mayCreateWithId: boolean;
  readonly transform: ((resource: Resource) => Resource) | undefined;
  private readonly mode: Mode;
  private readonly types: string[] | undefined;
  private readonly windowMs: number;
  private readonly clock: () => Date;

  constructor(
    readonly context: AccessContext,
    private readonly db: Database,
    private readonly options: PolicyOptions = {},
  ) {
    this.mode = modeOf(context);
    this.owner = `${context.kind}:${context.subject}`;
    this.unrestricted = this.mode.kind === 'unrestricted';
    this.mayCreateWithId = context.kind === 'system' || context.kind === 'client';
    this.types = readableTypes(context);
    this.windowMs = (options.relationshipWindowDays ?? DEFAULT_RELATIONSHIP_WINDOW_DAYS) * 86_400_000;
    this.clock = options.now ?? (() => new Date());
    const key = options.pseudonymisationKey ?? PROCESS_KEY;
    this.transform = this.mode.kind === 'secondary' ? (resource: Resource): Resource => pseudonymiseResource(resource, key) : undefined;
  }

  allowInteraction(interaction: FhirInteraction, type: string | undefined): void {
    const mode = this.mode;
    if (interaction === 'capabilities' || mode.kind === 'unrestricted') return;
    if (mode.kind === 'none') throw FhirAccessDenied.refuse(mode.status, mode.status === 401 ? 'login' : 'forbidden', mode.why);
    if (mode.kind === 'secondary' && interaction !== 'export') {
      throw FhirAccessDenied.refuse(403, 'forbidden', 'Analysts see pseudonymised or aggregated data only: use $export (pseudonymised, National Data Opt-out applied) or the aggregate counts');
    }
    // Bundles are allowed as such; each entry is then checked as the interaction it is.
    if (interaction === 'batch' || interaction === 'transaction') return;
    if (interaction === 'import' && this.context.kind !== 'client') throw FhirAccessDenied.refuse(403, 'forbidden', '$import is for OpenICS itself and registered backend clients');
    if (interaction === 'validate') {
      if (this.context.scopes.length === 0) throw FhirAccessDenied.refuse(403, 'forbidden', 'Your access includes no FHIR scopes');
      return;
    }
    const action = ACTION[interaction];
    if (!action) return;
    const contexts = this.scopeContexts();
    const allowed = type === undefined ? this.context.scopes.some((s) => contexts.includes(s.context) && s.actions.includes(action)) : scopesAllow(this.context.scopes, type, action, contexts);
    if (!allowed) {
      throw FhirAccessDenied.refuse(403, 'forbidden', `Your access (scopes ${this.scopeText()}) does not allow ${interaction}${type ? ` of ${type}` : ''}`);
    }
  }

  private scopeContexts(): Array<'patient' | 'user' | 'system'> {
    if (this.mode.kind === 'patient') return ['patient'];
    return this.context.kind === 'client' ? ['system', 'user'] : ['user'];
  }

  private scopeText(): string {
    return this.context.scopes.map((s) => `${s.context}/${s.type}.${s.actions}`).join(' ') || 'none';
  }

  /** Called detached by the FHIR module (no `this` binding needed). */
  readonly rowFilter: RowFilter = (sql, family, alias) => {
    const mode = this.mode;
    if (mode.kind === 'unrestricted') return null;
    if (mode.kind === 'none') return 'false';
    const now = this.clock();
    const c = new Conditions(sql, now.toISOString(), new Date(now.getTime() - this.windowMs).toISOString());
    const parts: string[] = [];
    if (this.types !== undefined) parts.push(`${alias}.resource_type = ANY(${c.bind(this.types, 'text[]')})`);
    parts.push(family === 'fhir_patient' ? this.patientRows(c, alias) : this.sharedRows(c, alias, sql));
    return parts.join(' AND ');
  };

  /** Which rows of the Patient compartment family: see the header. */
  private patientRows(c: Conditions, a: string): string {
    const mode = this.mode;
    switch (mode.kind) {
      case 'unrestricted':
        return 'true';
      case 'none':
        return 'false';
      case 'secondary':
        return `NOT ${c.optedOut(a)} AND NOT EXISTS (SELECT 1 FROM access_resource_label s WHERE s.resource_key = ${a}.resource_key AND s.patient_key = ${a}.patient_key)`;
      case 'staff':
        return this.staffRows(c, a, mode.staff);
      case 'patient': {
        const own = c.ofPatients(a, mode.ownKeys);
        const parts = [`(${own} OR ${c.ofPatients(a, mode.proxyKeys)})`, `${a}.resource_type <> 'Group'`];
        const hiddenOwn = c.bind(classesHiddenFromResident(), 'text[]');
        const hiddenProxy = c.bind(classesHiddenFromProxy(), 'text[]');
        parts.push(c.labelsAllow(a, `NOT (s.class = ANY(${hiddenOwn})) AND (NOT (s.class = ANY(${hiddenProxy})) OR ${own})`));
        if (mode.staff) parts.push(this.staffRows(c, a, mode.staff));
        return parts.join(' AND ');
      }
    }
  }

  private staffRows(c: Conditions, a: string, staff: StaffRule): string {
    const related = c.related(a, staff);
    const brokeGlass = c.brokeGlass(a, staff);
    const held = `s.holder = ${c.bind(staff.organisation)}`;
    const labelRule = [held];
    if (staff.relatedClasses.length > 0) labelRule.push(`(s.class = ANY(${c.bind(staff.relatedClasses, 'text[]')}) AND ${c.related(a, staff)})`);
    if (staff.breakGlass) labelRule.push(`(s.class = ANY(${c.bind(classesForBreakGlass(), 'text[]')}) AND ${c.brokeGlass(a, staff)})`);
    return [
      `(${related} OR ${brokeGlass})`,
      // A Group lists many residents: only the organisation that made it sees it.
      `(${a}.resource_type <> 'Group' OR ${c.heldBy(a, 'fhir_patient', staff.organisation)})`,
      // An objection hides what other organisations hold, unless the user broke glass.
      `NOT (${c.objects(a, staff.organisation)} AND NOT ${c.heldBy(a, 'fhir_patient', staff.organisation)} AND NOT ${c.brokeGlass(a, staff)})`,
      c.labelsAllow(a, labelRule.join(' OR ')),
    ].join(' AND ');
  }

  /** Which shared rows: directory types; for patient-bound callers only those their visible records refer to. */
  private sharedRows(c: Conditions, a: string, sql: SqlBuilder): string {
    const directory = `${a}.resource_type = ANY(${c.bind(DIRECTORY_TYPES, 'text[]')})`;
    if (this.mode.kind !== 'patient') return directory;
    const base = sql.options.baseUrl.replace(/\/+$/, '');
    const local = base === '' ? 'x.target_url IS NULL' : `(x.target_url IS NULL OR starts_with(x.target_url, ${c.bind(`${base}/`)}))`;
    return `${directory} AND EXISTS (SELECT 1 FROM fhir_patient_reference x JOIN fhir_patient_resource p ON p.patient_key = x.patient_key AND p.resource_key = x.resource_key
      WHERE x.target_type = ${a}.resource_type AND x.target_id = ${a}.id AND ${local} AND NOT p.deleted AND ${this.patientRows(c, 'p')})`;
  }

  async refuseHidden(row: HiddenRow, q: Queryable): Promise<FhirError> {
    // Exactly what the caller would get if the row did not exist, recorded as a refusal.
    const notKnown = new FhirAccessDenied(row.absent.status, row.absent.issues, row.family === 'fhir_patient' ? [row.patientKey] : []);
    const mode = this.mode;
    if (mode.kind !== 'staff' || !mode.staff.breakGlass || row.family !== 'fhir_patient') return notKnown;
    // A clinician may learn why, and that break-glass is possible, unless the record is hidden for what it is (a sensitive class).
    const sql = new SqlBuilder({ baseUrl: '' });
    const now = this.clock();
    const c = new Conditions(sql, now.toISOString(), new Date(now.getTime() - this.windowMs).toISOString());
    const k = `(SELECT ${c.bind(String(row.patientKey), 'int8')} AS patient_key)`;
    const { rows } = await q.query<{ related: boolean; objects: boolean; patient: string | null }>(
      `SELECT ${c.related('k', mode.staff)} AS related, ${c.objects('k', mode.staff.organisation)} AS objects,
              (SELECT min(p.id) FROM fhir_patient_resource p WHERE p.patient_key = k.patient_key AND p.resource_type = 'Patient' AND NOT p.deleted) AS patient
       FROM ${k} k`,
      sql.values,
    );
    const answer = rows[0];
    if (!answer || (answer.related && !answer.objects)) return notKnown;
    const patient = row.type === 'Patient' ? row.id : answer.patient;
    const why = answer.related
      ? 'The resident has objected to their record being shared with your organisation.'
      : `Your organisation (${mode.staff.organisation}) has no legitimate relationship with this resident: no registration, open episode, encounter, referral, care team or social care involvement.`;
    const patientText = patient ? ` for Patient/${patient}` : '';
    return FhirAccessDenied.refuse(
      403,
      'forbidden',
      `${why} In an emergency you may break glass${patientText}: POST /api/access/break-glass with the patient and your reason (or use the form at /access/break-glass). Access is then granted for a limited time, recorded and reviewed by the privacy officer.`,
      [row.patientKey],
      patient ? [patient] : [],
    );
  }

  async checkWrite(check: WriteCheck, q: Queryable): Promise<void> {
    const mode = this.mode;
    if (mode.kind === 'unrestricted') return;
    const refuse = (why: string): FhirAccessDenied => FhirAccessDenied.refuse(403, 'forbidden', why);
    if (mode.kind === 'none' || mode.kind === 'secondary') throw refuse('You may not write patient records');
    const resource = check.resource ?? check.existing;
    if (!resource) return;
    const family = tableFamily(resource.resourceType);
    if (family === 'fhir_shared') {
      if (this.context.kind === 'client') return;
      throw refuse(`${resource.resourceType} is directory data, maintained by its source systems`);
    }
    const key = patientKeyOf(resource, indexResource(resource));
    if (mode.kind === 'patient') {
      if (mode.staff === undefined) {
        const own = await keysOfPersons(q, mode.ownKeys);
        if (!own.includes(key)) throw refuse('You may write only to your own record');
        if (check.resource && check.resource.meta?.security?.length) throw refuse('Security labels are set by the organisations that hold records');
        return;
      }
      if (!mode.ownKeys.includes(key)) throw refuse('This token may write only to the record of the patient it is bound to');
    }
    const staff = mode.staff;
    if (!staff) throw refuse('You may not write patient records');
    // Organisations write their own records only.
    for (const version of [check.existing, check.resource]) {
      const holder = version ? holderOf(version) : undefined;
      if (holder !== undefined && holder !== staff.organisation) throw refuse(`This record is held by ${holder}; only ${holder} may change it`);
    }
    if (!check.resource) return;
    // The resident must be one the organisation cares for, or the record must make them so.
    // (A Patient being created has no id yet; what it establishes does not depend on which.)
    const candidate = check.resource.resourceType === 'Patient' && !check.resource.id ? { ...check.resource, id: 'new' } : check.resource;
    // An ended relationship counts while it is recent, as it does for reading (windowMs).
    const since = new Date(this.clock().getTime() - this.windowMs).toISOString();
    const establishes = relationshipsFrom(candidate).some((r) => (r.until === undefined || r.until >= since) && r.party.kind === 'organisation' && r.party.id === staff.organisation);
    if (establishes) return;
    const sql = new SqlBuilder({ baseUrl: '' });
    const now = this.clock();
    const c = new Conditions(sql, now.toISOString(), new Date(now.getTime() - this.windowMs).toISOString());
    const k = `(SELECT ${c.bind(String(key), 'int8')} AS patient_key)`;
    const { rows } = await q.query<{ ok: boolean }>(`SELECT (${c.related('k', staff)} OR ${c.brokeGlass('k', staff)}) AS ok FROM ${k} k`, sql.values);
    if (!rows[0]?.ok) throw refuse('You may write only to the records of residents your organisation has a legitimate relationship with');
  }

  async record(event: FhirAccessEvent): Promise<void> {
    const patients = new Set(event.patientIds ?? []);
    if (event.patientKeys.length > 0) for (const id of await patientIdsOf(this.db, event.patientKeys)) patients.add(id);
    const record: AccessRecord = {
      context: this.context,
      action: event.interaction,
      outcome: event.outcome,
      patients: [...patients],
      what: event.what,
      ...(event.detail ? { detail: event.detail } : {}),
      at: this.clock(),
    };
    await (this.options.record ?? ((r: AccessRecord) => recordAccess(this.db, r)))(record);
  }

  persist(): unknown {
    return this.unrestricted ? null : this.context;
  }
}

/** The keys of these Patients and of every Patient linked to them. */
async function keysOfPersons(q: Queryable, keys: readonly number[]): Promise<number[]> {
  if (keys.length === 0) return [];
  const { rows } = await q.query<{ patient_key: number | string }>(
    `SELECT k2.patient_key FROM access_person_link k1 JOIN access_person_link k2 ON k2.person_key = k1.person_key WHERE k1.patient_key = ANY($1::int8[])`,
    [keys.map(String)],
  );
  return [...new Set([...keys, ...rows.map((r) => Number(r.patient_key))])];
}

/** Patient ids of patient keys (one Patient per key; a key with no Patient resource gives none). */
async function patientIdsOf(q: Queryable, keys: readonly number[]): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(
    `SELECT id FROM fhir_patient_resource WHERE resource_type = 'Patient' AND patient_key = ANY($1::int8[])`,
    [[...new Set(keys)].map(String)],
  );
  return rows.map((r) => r.id);
}

/** The FHIR access policy of a caller. */
export function fhirAccessFor(context: AccessContext, db: Database, options: PolicyOptions = {}): FhirAccessPolicy {
  return new FhirPolicy(context, db, options);
}

/** Rebuilds a policy from what `persist()` stored with a bulk job; anything unrecognisable gets no access. */
export function restoreFhirAccess(state: unknown, db: Database, options: PolicyOptions = {}): FhirAccessPolicy {
  const context = state as Partial<AccessContext> | null;
  const valid =
    context !== null &&
    typeof context === 'object' &&
    typeof context.kind === 'string' &&
    ['user', 'client', 'system', 'anonymous'].includes(context.kind) &&
    typeof context.subject === 'string' &&
    Array.isArray(context.scopes);
  return new FhirPolicy(valid ? (context as AccessContext) : { kind: 'anonymous', subject: 'anonymous', display: 'Not signed in', scopes: [], purpose: 'TREAT' }, db, options);
}
