/**
 * The feeds stage: a resident's `HeldRecord[]` become each holder's own records, as that
 * organisation's system would send them.
 *
 * For every holder that holds anything about the resident (always the registered practice) it
 * makes a Patient that is *that holder's copy* of the demographics, with the holder's own local
 * identifier and the flaws its kind of system has (flaws.ts): a missing NHS number, a typo, a
 * nickname, an old surname or address, a wrong date of birth, an unrecorded death. Then it places
 * the holder's records: an opaque id for each (ids.ts), `meta.source` naming the holder's system,
 * `ref(key)` references rewritten to `Type/id`, the subject/patient element pointing at the
 * holder's Patient, and `reference: "Organization/<code>"` added to every ODS reference. Each
 * organisation a copy refers to comes back as an Organization resource (id = its code), which the
 * writer emits once per holder feed.
 *
 * Everything is a pure function of (resident, records, area, seed, draws): the same input gives
 * the same output byte for byte.
 */
import type { Identifier, Organization, Patient, PatientContact, Reference, Resource } from '@medplum/fhirtypes';
import { type Draws, FLAW_RATES, type SourceKind, respaced, typo, wrongBirthDate } from './flaws.js';
import { type CopyKey, FeedIds } from './ids.js';
import { type Address, type AreaOrganisations, type HeldRecord, NHS_NUMBER_SYSTEM, ODS_SYSTEM, type Resident, sourceUri } from './model.js';
import { NICKNAMES, SPELLING_VARIANTS } from './names.js';
import { hash32 } from './random.js';

export const NHS_NUMBER_VERIFICATION_URL = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus';
export const NHS_NUMBER_VERIFICATION_SYSTEM = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland';
export const ETHNIC_CATEGORY_URL = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory';
export const ETHNIC_CATEGORY_SYSTEM = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland';
const ORGANIZATION_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/organization-type';
const IDENTIFIER_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0203';

/** A placed record, as the JSON the holder's system sends (its type and id alongside). */
export interface PlacedRecord {
  type: string;
  id: string;
  json: string;
}

/** What the ground truth says about one holder's copy of one resident. */
export interface GroundTruthLink {
  resident: string;
  holder: string;
  /** The id of the holder's Patient. */
  patient: string;
  /** The holder's local identifier of the resident. */
  identifier: { system: string; value: string };
  /** The flaws this copy carries (see `Flaw`), for scoring record matching. */
  flaws: Flaw[];
}

/** The flaws a copy can carry, as recorded in the ground truth. */
export type Flaw =
  | 'no-nhs-number'
  | 'untraced-nhs-number'
  | 'family-typo'
  | 'given-typo'
  | 'nickname'
  | 'spelling-variant'
  | 'old-surname'
  | 'name-spacing'
  | 'first-given-only'
  | 'birth-date'
  | 'old-address'
  | 'death-not-recorded';

/** One holder's records about one resident, placed and ready to write. */
export interface HolderFeed {
  holder: string;
  kind: SourceKind;
  /** The name of the holder's system in `meta.source`, e.g. `pas`. */
  system: string;
  patient: Patient & { id: string };
  /** The holder's records, in the order history.ts gave them, serialised. */
  records: PlacedRecord[];
  /** Every organisation the Patient and records refer to, in order of first reference. */
  organizations: Array<Organization & { id: string }>;
  link: GroundTruthLink;
}

/** A nickname for a given name (Bill for William), or undefined when there is none. */
export type NicknameOf = (given: string, draws: Draws) => string | undefined;

export interface FeedOptions {
  /** Nicknames for the nickname flaw (default: names.ts `NICKNAMES`). */
  nickname?: NicknameOf;
  /** Groups of spellings of one name for the spelling-variant flaw (default: names.ts `SPELLING_VARIANTS`). */
  spellingVariants?: readonly (readonly string[])[];
}

const nicknameFromNames: NicknameOf = (given, draws) => {
  const options = NICKNAMES[given];
  return options === undefined || options.length === 0 ? undefined : draws.pick(options);
};

/** Which element of each resource type refers to the Patient (R4). Types not listed get none. */
export const PATIENT_ELEMENT: Readonly<Record<string, 'subject' | 'patient' | 'beneficiary' | 'for' | 'subject[]' | 'participant.actor'>> = {
  Account: 'subject[]',
  AdverseEvent: 'subject',
  AllergyIntolerance: 'patient',
  Appointment: 'participant.actor',
  Basic: 'subject',
  BodyStructure: 'patient',
  CarePlan: 'subject',
  CareTeam: 'subject',
  ChargeItem: 'subject',
  Claim: 'patient',
  ClinicalImpression: 'subject',
  Communication: 'subject',
  CommunicationRequest: 'subject',
  Composition: 'subject',
  Condition: 'subject',
  Consent: 'patient',
  Coverage: 'beneficiary',
  DetectedIssue: 'patient',
  DeviceRequest: 'subject',
  DeviceUseStatement: 'subject',
  DiagnosticReport: 'subject',
  DocumentReference: 'subject',
  Encounter: 'subject',
  EpisodeOfCare: 'patient',
  ExplanationOfBenefit: 'patient',
  FamilyMemberHistory: 'patient',
  Flag: 'subject',
  Goal: 'subject',
  ImagingStudy: 'subject',
  Immunization: 'patient',
  ImmunizationRecommendation: 'patient',
  Invoice: 'subject',
  List: 'subject',
  Media: 'subject',
  MedicationAdministration: 'subject',
  MedicationDispense: 'subject',
  MedicationRequest: 'subject',
  MedicationStatement: 'subject',
  NutritionOrder: 'patient',
  Observation: 'subject',
  Procedure: 'subject',
  QuestionnaireResponse: 'subject',
  RelatedPerson: 'patient',
  RiskAssessment: 'subject',
  ServiceRequest: 'subject',
  Specimen: 'subject',
  Task: 'for',
  VisionPrescription: 'patient',
};

/**
 * What `place` rewrites in a record's JSON: a `#key` reference; an ODS reference that has no
 * `reference` yet (history.ts's `odsReference`: identifier first, then perhaps a display); and any
 * reference to an Organization, so that every organisation a record names is written once.
 */
const REFERENCES = new RegExp(
  [
    '"reference":"#((?:[^"\\\\]|\\\\.)*)"',
    `\\{"identifier":\\{"system":"${ODS_SYSTEM.replace(/[/.]/g, (c) => `\\${c}`)}","value":"([^"\\\\]*)"\\}(?:,"display":"((?:[^"\\\\]|\\\\.)*)")?`,
    '"reference":"Organization/([^"\\\\]*)"',
  ].join('|'),
  'g',
);

/** The name of each kind's system in `meta.source`. GP practices use one of the two main GP systems. */
function systemOf(kind: SourceKind, holder: string): string {
  switch (kind) {
    case 'gp':
      // About half of English practices use EMIS Web and most of the rest SystmOne.
      return hash32(holder) % 100 < 55 ? 'gp-emis' : 'gp-systmone';
    case 'acute':
      return 'pas';
    case 'community':
    case 'mental-health':
      return 'rio';
    case 'social-care':
      return 'mosaic';
    case 'ambulance':
      return 'cad';
  }
}

interface LocalIdScheme {
  /** The last segment of the identifier system. */
  name: string;
  typeCode: 'MR' | 'PI';
  typeDisplay: string;
  /** How many numbers the system's range holds (residents beyond it cannot be numbered). */
  size: number;
  format(holder: string, n: number, firstSeen: string): string;
}

const LOCAL_IDS: Readonly<Record<SourceKind, LocalIdScheme>> = {
  // GP systems number patients from 1 upwards within the practice.
  gp: { name: 'gp-patient-number', typeCode: 'PI', typeDisplay: 'Patient internal identifier', size: 9_999_999, format: (_h, n) => String(n + 1) },
  // Hospital numbers: a letter the trust uses and seven digits.
  acute: { name: 'hospital-number', typeCode: 'MR', typeDisplay: 'Medical record number', size: 10_000_000, format: (h, n) => `${String.fromCharCode(65 + (hash32(h) % 26))}${String(n).padStart(7, '0')}` },
  // RiO client ids: seven digits.
  community: { name: 'client-id', typeCode: 'PI', typeDisplay: 'Patient internal identifier', size: 9_000_000, format: (_h, n) => String(1_000_000 + n) },
  'mental-health': { name: 'client-id', typeCode: 'PI', typeDisplay: 'Patient internal identifier', size: 9_000_000, format: (_h, n) => String(1_000_000 + n) },
  // Social care person ids: six or seven digits.
  'social-care': { name: 'person-id', typeCode: 'PI', typeDisplay: 'Patient internal identifier', size: 9_900_000, format: (_h, n) => String(100_000 + n) },
  // Ambulance patient records are made at an incident: the date of the first one and a number.
  ambulance: { name: 'incident-patient-id', typeCode: 'PI', typeDisplay: 'Patient internal identifier', size: 10_000_000, format: (_h, n, first) => `${first.slice(2, 4)}${first.slice(5, 7)}${first.slice(8, 10)}-${String(n).padStart(7, '0')}` },
};

/**
 * The identifier system of a holder's local patient identifiers, following NHS England's
 * convention for local identifiers (`https://fhir.<ODS code>.nhs.uk/Id/<name>`); councils, which
 * have no nhs.uk name, get the same shape under gov.uk.
 */
export function localIdentifierSystem(holder: string, kind: SourceKind): string {
  const domain = kind === 'social-care' ? 'gov.uk' : 'nhs.uk';
  return `https://fhir.${holder.toLowerCase()}.${domain}/Id/${LOCAL_IDS[kind].name}`;
}

/** The resident's sequence number, from its id ("R0000123" → 123). */
function sequenceOf(residentId: string): number {
  const n = Number(residentId.replace(/^\D+/, ''));
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`resident id ${JSON.stringify(residentId)} does not end in a sequence number`);
  return n;
}

/** The date a record is about (the first of the usual date elements), YYYY-MM-DD. */
export function recordDate(resource: Resource): string | undefined {
  const r = resource as unknown as Record<string, unknown>;
  for (const key of ['effectiveDateTime', 'performedDateTime', 'occurrenceDateTime', 'authoredOn', 'onsetDateTime', 'recordedDate', 'issued', 'date', 'created', 'start', 'dateAsserted']) {
    const value = r[key];
    if (typeof value === 'string') return value.slice(0, 10);
  }
  for (const key of ['period', 'effectivePeriod', 'performedPeriod', 'occurrencePeriod']) {
    const value = r[key] as { start?: unknown } | undefined;
    if (typeof value?.start === 'string') return value.start.slice(0, 10);
  }
  return undefined;
}

function fhirAddress(address: Address): { use: 'home'; line: string[]; city: string; postalCode: string } {
  return { use: 'home', line: [address.line], city: address.town, postalCode: address.postcode };
}

/** Builds each holder's copy; construct once per area and seed (it caches what it looks up). */
export class Feeds {
  private readonly kinds = new Map<string, SourceKind>();
  private readonly organisations = new Map<string, { name: string; type: 'prov' | 'govt' }>();
  private readonly ids: FeedIds;
  private readonly made = new Map<string, Organization & { id: string }>();
  private readonly nickname: NicknameOf;
  /** Each name that can be spelt another way → its other spellings. */
  private readonly variants = new Map<string, string[]>();

  constructor(
    readonly area: AreaOrganisations,
    readonly seed: number,
    options: FeedOptions = {},
  ) {
    this.ids = new FeedIds(seed);
    this.nickname = options.nickname ?? nicknameFromNames;
    for (const group of options.spellingVariants ?? SPELLING_VARIANTS) {
      for (const name of group) this.variants.set(name, group.filter((other) => other !== name));
    }
    const note = (code: string, name: string, type: 'prov' | 'govt', kind?: SourceKind): void => {
      if (!this.organisations.has(code)) this.organisations.set(code, { name, type });
      if (kind !== undefined && !this.kinds.has(code)) this.kinds.set(code, kind);
    };
    // Order matters where one trust plays two parts (a combined community and mental health
    // trust, an acute trust that runs community services): the first part named wins.
    // The organisations serving each district come after the area-wide ones.
    const districts = Object.keys(area.districts ?? {})
      .sort()
      .map((lad) => area.districts?.[lad])
      .filter((d) => d !== undefined);
    for (const p of area.practices) note(p.code, p.name, 'prov', 'gp');
    for (const t of [...area.acuteTrusts, ...districts.flatMap((d) => d.acuteTrusts)]) note(t.code, t.name, 'prov', 'acute');
    for (const t of [area.mentalHealthTrust, ...districts.map((d) => d.mentalHealthTrust)]) note(t.code, t.name, 'prov', 'mental-health');
    for (const t of [area.communityTrust, ...districts.map((d) => d.communityTrust)]) note(t.code, t.name, 'prov', 'community');
    for (const t of [area.ambulanceTrust, ...districts.map((d) => d.ambulanceTrust)]) note(t.code, t.name, 'prov', 'ambulance');
    for (const c of [...area.councils, ...districts.map((d) => d.council)]) note(c.code, c.name, 'govt', 'social-care');
    note(area.icb.code, area.icb.name, 'govt');
  }

  /** What kind of system a holder runs; an unknown holder is an error of history.ts. */
  kindOf(holder: string): SourceKind {
    const kind = this.kinds.get(holder);
    if (kind === undefined) throw new Error(`records are held by ${holder}, which is not a practice, trust or council of ${this.area.icb.code}`);
    return kind;
  }

  /**
   * The Organization resource of a code (its id is the code), the same whichever feed it is in.
   * Made once per code and shared: treat it as read-only.
   */
  organization(code: string, display?: string): Organization & { id: string } {
    // Only the area's own organisations are cached: the name of any other comes from the copy's
    // own reference, so it never depends on which resident a worker happened to see first.
    if (!this.organisations.has(code)) return this.makeOrganization(code, display);
    let made = this.made.get(code);
    if (made === undefined) {
      made = this.makeOrganization(code, undefined);
      this.made.set(code, made);
    }
    return made;
  }

  private makeOrganization(code: string, display: string | undefined): Organization & { id: string } {
    const known = this.organisations.get(code);
    return {
      resourceType: 'Organization',
      id: code,
      identifier: [{ system: ODS_SYSTEM, value: code }],
      active: true,
      type: [{ coding: [known?.type === 'govt' ? { system: ORGANIZATION_TYPE_SYSTEM, code: 'govt', display: 'Government' } : { system: ORGANIZATION_TYPE_SYSTEM, code: 'prov', display: 'Healthcare Provider' }] }],
      name: known?.name ?? display ?? code,
    };
  }

  /**
   * Each holder's feed for one resident: the registered practice first, then the other holders
   * in code order. `random` is the resident's own stream; each holder's flaws draw from a fork of
   * it named by the holder, so adding a holder never changes another holder's copy. `contacts`
   * (contacts.ts: the next of kin from the household) go on the copies of the practice and the
   * council, the holders that record next of kin; nothing else about a copy depends on them.
   */
  feedsOf(resident: Resident, records: readonly HeldRecord[], random: { fork(label: number): Draws }, contacts: readonly PatientContact[] = []): HolderFeed[] {
    const byHolder = new Map<string, HeldRecord[]>();
    byHolder.set(resident.practice, []);
    for (const record of records) {
      let list = byHolder.get(record.holder);
      if (list === undefined) {
        list = [];
        byHolder.set(record.holder, list);
      }
      list.push(record);
    }
    const holders = [...byHolder.keys()].sort((a, b) => (a === resident.practice ? -1 : b === resident.practice ? 1 : a < b ? -1 : a > b ? 1 : 0));
    return holders.map((holder) => this.holderFeed(resident, holder, byHolder.get(holder) ?? [], random.fork(hash32(holder)), contacts));
  }

  private holderFeed(resident: Resident, holder: string, held: readonly HeldRecord[], draws: Draws, contacts: readonly PatientContact[]): HolderFeed {
    const kind = this.kindOf(holder);
    const system = systemOf(kind, holder);
    const source = sourceUri(holder, system);
    const copy = this.ids.copyKey(holder, resident.id);

    // When the holder first saw the resident (and whether on the day they died) matters only for
    // some residents and kinds of holder: looked for only then.
    let firstSeen: string | undefined;
    let seenOnDeathDate = false;
    if (resident.previousFamily !== undefined || resident.previousAddress !== undefined || resident.deathDate !== undefined || kind === 'ambulance') {
      for (const record of held) {
        const date = recordDate(record.resource);
        if (date === undefined) continue;
        if (firstSeen === undefined || date < firstSeen) firstSeen = date;
        if (date === resident.deathDate) seenOnDeathDate = true;
      }
    }

    const { patient, link } = this.patientCopy(resident, holder, kind, source, copy, firstSeen, seenOnDeathDate, draws, kind === 'gp' || kind === 'social-care' ? contacts : []);
    const organizations = new Map<string, string | undefined>();
    organizations.set(resident.practice, undefined);
    organizations.set(holder, undefined);

    // Every record's id first, so references can point forwards as well as back.
    const targets = new Map<string, string>();
    for (const record of held) {
      if (targets.has(record.key)) throw new Error(`two records of resident ${resident.id} at ${holder} have the key ${JSON.stringify(record.key)}`);
      targets.set(record.key, `${record.resource.resourceType}/${this.ids.resourceId(copy, record.key)}`);
    }
    const patientReference = `{"reference":"Patient/${patient.id}"}`;
    const header = `,"meta":{"source":${JSON.stringify(source)}}`;
    const placed: PlacedRecord[] = [];
    for (const record of held) placed.push(this.place(record, targets, header, source, patientReference, organizations, resident.id));

    return {
      holder,
      kind,
      system,
      patient,
      records: placed,
      organizations: [...organizations].map(([code, display]) => this.organization(code, display)),
      link,
    };
  }

  private patientCopy(
    resident: Resident,
    holder: string,
    kind: SourceKind,
    source: string,
    copy: CopyKey,
    firstSeen: string | undefined,
    seenOnDeathDate: boolean,
    draws: Draws,
    contacts: readonly PatientContact[],
  ): { patient: Patient & { id: string }; link: GroundTruthLink } {
    const rates = FLAW_RATES[kind];
    const flaws: Flaw[] = [];
    // Every decision is drawn first, in a fixed order, whether or not it can apply, so whether
    // one flaw happens never shifts the draws that decide another.
    const noNhsNumber = draws.chance(rates.missingNhsNumber);
    const untraced = draws.chance(rates.untracedNhsNumber);
    const nameTypo = draws.chance(rates.nameTypo);
    const typoInFamily = draws.chance(0.6);
    const nickname = draws.chance(rates.nickname);
    const oldSurname = draws.chance(rates.oldSurname);
    const spacing = draws.chance(rates.nameSpacing);
    const firstGivenOnly = draws.chance(rates.firstGivenOnly);
    const birthDateError = draws.chance(rates.birthDateError);
    const oldAddress = draws.chance(rates.oldAddress);
    const deathKnown = draws.chance(rates.deathKnown);
    const variant = draws.chance(rates.spellingVariant);
    const variantInFamily = draws.chance(0.5);

    // The registered practice saw the resident at registration, before any of its records.
    const knownSince = kind === 'gp' ? '0000-00-00' : (firstSeen ?? '9999-99-99');

    let family = resident.family;
    if (oldSurname && resident.previousFamily !== undefined && knownSince < resident.previousFamily.until) {
      family = resident.previousFamily.family;
      flaws.push('old-surname');
    }
    let given = resident.given.slice();
    if (firstGivenOnly && given.length > 1) {
      given = given.slice(0, 1);
      flaws.push('first-given-only');
    }
    if (nickname && given[0] !== undefined) {
      const short = this.nickname(given[0], draws);
      if (short !== undefined && short !== given[0]) {
        given[0] = short;
        flaws.push('nickname');
      }
    }
    if (variant) {
      // The family name or the first given name, whichever has another spelling (family first when both do).
      const familyOthers = this.variants.get(family);
      const givenOthers = given[0] === undefined || flaws.includes('nickname') ? undefined : this.variants.get(given[0]);
      const inFamily = familyOthers !== undefined && (variantInFamily || givenOthers === undefined);
      if (inFamily) {
        family = draws.pick(familyOthers);
        flaws.push('spelling-variant');
      } else if (givenOthers !== undefined) {
        given[0] = draws.pick(givenOthers);
        flaws.push('spelling-variant');
      }
    }
    if (spacing) {
      const other = respaced(family, draws);
      if (other !== undefined) {
        family = other;
        flaws.push('name-spacing');
      }
    }
    if (nameTypo) {
      if (typoInFamily || given[0] === undefined) {
        const wrong = typo(family, draws);
        if (wrong !== family) {
          family = wrong;
          flaws.push('family-typo');
        }
      } else {
        const wrong = typo(given[0], draws);
        if (wrong !== given[0]) {
          given[0] = wrong;
          flaws.push('given-typo');
        }
      }
    }
    let birthDate = resident.birthDate;
    if (birthDateError) {
      birthDate = wrongBirthDate(birthDate, draws);
      flaws.push('birth-date');
    }
    let address = resident.address;
    if (oldAddress && resident.previousAddress !== undefined && knownSince < resident.previousAddress.until) {
      address = resident.previousAddress.address;
      flaws.push('old-address');
    }
    let deceased: string | undefined;
    if (resident.deathDate !== undefined) {
      if (deathKnown || seenOnDeathDate) deceased = resident.deathDate;
      else flaws.push('death-not-recorded');
    }

    const scheme = LOCAL_IDS[kind];
    const localNumber = this.ids.localNumber(holder, sequenceOf(resident.id), scheme.size);
    const local = { system: localIdentifierSystem(holder, kind), value: scheme.format(holder, localNumber, firstSeen ?? '2000-01-01') };
    const identifier: Identifier[] = [{ use: 'usual', type: { coding: [{ system: IDENTIFIER_TYPE_SYSTEM, code: scheme.typeCode, display: scheme.typeDisplay }] }, ...local }];
    if (noNhsNumber) {
      flaws.push('no-nhs-number');
    } else {
      if (untraced) flaws.push('untraced-nhs-number');
      const [code, display] = untraced ? ['02', 'Number present but not traced'] : ['01', 'Number present and verified'];
      identifier.push({
        extension: [{ url: NHS_NUMBER_VERIFICATION_URL, valueCodeableConcept: { coding: [{ system: NHS_NUMBER_VERIFICATION_SYSTEM, code, display }] } }],
        use: 'official',
        system: NHS_NUMBER_SYSTEM,
        value: resident.nhsNumber,
      });
    }

    const practice = this.organisations.get(resident.practice);
    const patient: Patient & { id: string } = {
      resourceType: 'Patient',
      id: copy.patientId,
      meta: { source },
      ...(kind === 'ambulance' ? {} : { extension: [{ url: ETHNIC_CATEGORY_URL, valueCodeableConcept: { coding: [{ system: ETHNIC_CATEGORY_SYSTEM, code: resident.ethnicity }] } }] }),
      identifier,
      name: [{ use: 'official', family, given }],
      gender: resident.sex,
      birthDate,
      ...(deceased === undefined ? {} : { deceasedDateTime: deceased }),
      address: [fhirAddress(address)],
      ...(contacts.length === 0 ? {} : { contact: contacts.map((c) => structuredClone(c)) }),
      generalPractitioner: [{ reference: `Organization/${resident.practice}`, identifier: { system: ODS_SYSTEM, value: resident.practice }, ...(practice ? { display: practice.name } : {}) }],
      managingOrganization: { reference: `Organization/${holder}`, identifier: { system: ODS_SYSTEM, value: holder } },
    };
    return { patient, link: { resident: resident.id, holder, patient: patient.id, identifier: local, flaws } };
  }

  /**
   * A record as the holder's JSON: its id and `meta.source` first, references placed, the
   * Patient element last. The work is done on the JSON text, which is a quarter of the cost of
   * copying and walking the object: `#key` references become `Type/id`, ODS references gain
   * `reference: "Organization/<code>"`, and every organisation referred to is noted.
   */
  private place(record: HeldRecord, targets: ReadonlyMap<string, string>, header: string, source: string, patientReference: string, organizations: Map<string, string | undefined>, residentId: string): PlacedRecord {
    const resource = record.resource as unknown as Record<string, unknown>;
    const type = record.resource.resourceType;
    const id = (targets.get(record.key) ?? '').slice(type.length + 1);
    const element = PATIENT_ELEMENT[type];
    const start = `{"resourceType":${JSON.stringify(type)}`;
    let json: string | undefined;
    if (resource.id === undefined && resource.meta === undefined && element !== 'participant.actor') {
      const body = JSON.stringify(record.resource);
      // history.ts writes resourceType first; anything else takes the object route below.
      if (body.startsWith(start)) {
        let rest = body.slice(start.length);
        const name = element === 'subject[]' ? 'subject' : element;
        if (name !== undefined && resource[name] === undefined) rest = `${rest.slice(0, -1)},"${name}":${element === 'subject[]' ? `[${patientReference}]` : patientReference}}`;
        json = `${start},"id":"${id}"${header}${rest}`;
      }
    }
    json ??= JSON.stringify(this.placedObject(record, id, source, patientReference));
    json = json.replace(REFERENCES, (match: string, key: string | undefined, code: string | undefined, display: string | undefined, referenced: string | undefined) => {
      if (key !== undefined) {
        const target = targets.get(key);
        if (target === undefined) {
          throw new Error(`a ${type} (key ${record.key}) of resident ${residentId} at ${record.holder} refers to #${key}, which is no record of the same resident at the same holder`);
        }
        return `"reference":"${target}"`;
      }
      if (code !== undefined) {
        if (organizations.get(code) === undefined) organizations.set(code, display === undefined ? undefined : (JSON.parse(`"${display}"`) as string));
        return `{"reference":"Organization/${code}",${match.slice(1)}`;
      }
      if (referenced !== undefined && !organizations.has(referenced)) organizations.set(referenced, undefined);
      return match;
    });
    return { type, id, json };
  }

  /** The placed record as an object: for the rare record the text route does not cover. */
  private placedObject(record: HeldRecord, id: string, source: string, patientReference: string): Record<string, unknown> {
    const input = record.resource as unknown as Record<string, unknown>;
    const type = record.resource.resourceType;
    const placed: Record<string, unknown> = { resourceType: type, id, meta: { ...(record.resource.meta ?? {}), source } };
    for (const key in input) {
      if (key === 'resourceType' || key === 'id' || key === 'meta') continue;
      placed[key] = input[key];
    }
    const element = PATIENT_ELEMENT[type];
    const subject = JSON.parse(patientReference) as Reference;
    if (element === 'subject[]') {
      if (placed.subject === undefined) placed.subject = [subject];
    } else if (element === 'participant.actor') {
      const participants = Array.isArray(placed.participant) ? (placed.participant as unknown[]) : [];
      placed.participant = [{ actor: subject, status: 'accepted' }, ...participants];
    } else if (element !== undefined && placed[element] === undefined) {
      placed[element] = subject;
    }
    return placed;
  }
}
