/**
 * Pseudonymisation for analysts' extracts: direct identifiers out, stable pseudonyms in, so
 * records of one resident still join within an extract (and across extracts made with the same
 * key) but cannot be traced back to the person without the key.
 *
 * A pseudonym is HMAC-SHA256(key, domain ‖ value), truncated to 96 bits and written as 24 hex
 * characters (a FHIR id): the same value gives the same pseudonym under one key and an unrelated
 * one under another. The key is a secret from configuration (OPENICS_PSEUDONYMISATION_KEY), never
 * stored with an extract; the identifier system names a fingerprint of the key, so extracts made
 * with different keys are never mistaken for each other.
 *
 * The rules `pseudonymiseResource` applies (documented in src/access/README.md too):
 *  1. Narrative (`text`) is removed, and free text: `note`, `comment`, `patientInstruction`,
 *     `description`, `valueString`, attachments and photos.
 *  2. People (Patient, RelatedPerson, Person, Practitioner): `name`, `telecom`, `contact`, `photo`
 *     removed; `address` cut to its postcode district (the outward code, e.g. "WR1");
 *     `birthDate` and `deceasedDateTime` cut to year and month.
 *  3. Identifiers: a Patient's NHS number (or, without one, its id) becomes one pseudonym
 *     identifier in the OpenICS pseudonym system; every other identifier of a person or record is
 *     removed. Organisations keep theirs (ODS codes identify no person).
 *  4. Ids and references: every resource id and every `Type/id` reference becomes
 *     `Type/<pseudonym of Type/id>`, so references still resolve within the extract;
 *     Organization ids (ODS codes) stay. A reference's `display` is removed (it may be a name), and
 *     a logical reference by NHS number becomes the pseudonym identifier.
 *  5. `meta` keeps only `profile`, `security` and `tag`.
 *  6. Extensions holding a name, address, contact point or free text are removed.
 * Clinical codes, values, dates of care and organisations stay: they are what analysis needs.
 */
import { createHash, createHmac } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
/** Pseudonym identifiers: `urn:openics:pseudonym:<key fingerprint>`. */
export const PSEUDONYM_SYSTEM_PREFIX = 'urn:openics:pseudonym:';

/** The smallest key accepted: 32 characters (at least 128 bits of a random key written as text). */
export const MIN_KEY_LENGTH = 32;

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length < MIN_KEY_LENGTH) throw new RangeError(`a pseudonymisation key must be at least ${MIN_KEY_LENGTH} characters`);
}

/** The stable pseudonym of `value` under `key`: 24 hex characters. */
export function pseudonymise(value: string, key: string): string {
  checkKey(key);
  return createHmac('sha256', key).update(value, 'utf8').digest('hex').slice(0, 24);
}

/** A short public fingerprint of a key, naming its pseudonym system; reveals nothing usable about the key. */
export function keyFingerprint(key: string): string {
  checkKey(key);
  return createHash('sha256').update(`openics-pseudonym-key:${key}`, 'utf8').digest('hex').slice(0, 12);
}

export function pseudonymSystem(key: string): string {
  return `${PSEUDONYM_SYSTEM_PREFIX}${keyFingerprint(key)}`;
}

const PERSON_TYPES = new Set(['Patient', 'RelatedPerson', 'Person', 'Practitioner']);
/** Types whose ids are public codes (Organization ids are ODS codes), kept as they are. */
const PUBLIC_ID_TYPES = new Set(['Organization']);
const FREE_TEXT_KEYS = new Set(['note', 'comment', 'patientInstruction', 'description', 'valueString', 'valueMarkdown', 'photo', 'presentedForm', 'valueAttachment', 'content']);
const PERSONAL_EXTENSION_VALUES = ['valueHumanName', 'valueAddress', 'valueContactPoint', 'valueString', 'valueMarkdown', 'valueAttachment', 'valueIdentifier'];
const REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** "WR1 2AB" → "WR1"; "wr12ab" → "WR1": the outward code, which is the postcode district. */
export function postcodeDistrict(postcode: string): string | undefined {
  const compact = postcode.toUpperCase().replace(/\s+/g, '');
  const match = /^([A-Z]{1,2}[0-9][0-9A-Z]?)[0-9][A-Z]{2}$/.exec(compact);
  if (match) return match[1];
  const outward = /^[A-Z]{1,2}[0-9][0-9A-Z]?$/.exec(compact);
  return outward ? outward[0] : undefined;
}

/** "1961-07-14" → "1961-07"; "1961" stays. */
function yearAndMonth(date: string): string {
  return date.slice(0, 7);
}

class Pseudonymiser {
  readonly system: string;

  constructor(private readonly key: string) {
    this.system = pseudonymSystem(key);
  }

  id(type: string, id: string): string {
    return PUBLIC_ID_TYPES.has(type) ? id : pseudonymise(`${type}/${id}`, this.key);
  }

  reference(reference: string): string | undefined {
    const match = REFERENCE.exec(reference);
    if (!match) return undefined; // contained (#x), urn:uuid or external references carry no local id to keep: dropped
    const [, type = '', id = ''] = match;
    return `${type}/${this.id(type, id)}`;
  }

  patientIdentifier(identifiers: Json | undefined, type: string, id: string | undefined): Json {
    const nhs = Array.isArray(identifiers)
      ? identifiers.find((i): i is { [key: string]: Json } => typeof i === 'object' && i !== null && !Array.isArray(i) && i.system === NHS_NUMBER_SYSTEM && typeof i.value === 'string')
      : undefined;
    const nhsNumber = nhs && typeof nhs.value === 'string' ? nhs.value : undefined;
    const value = nhsNumber ? pseudonymise(`nhs-number|${nhsNumber}`, this.key) : id ? pseudonymise(`${type}/${id}`, this.key) : undefined;
    return value ? [{ system: this.system, value }] : [];
  }

  resource(resource: { [key: string]: Json }): { [key: string]: Json } {
    const type = typeof resource.resourceType === 'string' ? resource.resourceType : '';
    const out = this.element(resource, type) as { [key: string]: Json };
    if (typeof resource.id === 'string') out.id = this.id(type, resource.id);
    if (PERSON_TYPES.has(type)) {
      delete out.name;
      delete out.telecom;
      delete out.contact;
      delete out.photo;
      delete out.qualification;
      if (Array.isArray(resource.address)) {
        const districts = resource.address
          .map((a) => (typeof a === 'object' && a !== null && !Array.isArray(a) && typeof a.postalCode === 'string' ? postcodeDistrict(a.postalCode) : undefined))
          .filter((d): d is string => d !== undefined);
        if (districts.length > 0) out.address = [...new Set(districts)].map((postalCode) => ({ postalCode }));
        else delete out.address;
      }
      if (typeof resource.birthDate === 'string') out.birthDate = yearAndMonth(resource.birthDate);
      if (typeof resource.deceasedDateTime === 'string') out.deceasedDateTime = yearAndMonth(resource.deceasedDateTime);
    }
    if (type === 'Patient') {
      const identifier = this.patientIdentifier(resource.identifier, type, typeof resource.id === 'string' ? resource.id : undefined);
      if (Array.isArray(identifier) && identifier.length > 0) out.identifier = identifier;
      else delete out.identifier;
    } else if (!PUBLIC_ID_TYPES.has(type)) {
      delete out.identifier;
    }
    return out;
  }

  /** Rules that apply at any depth: free text, references, meta, personal extensions, contained resources. */
  element(value: Json, resourceType: string, key = ''): Json | undefined {
    if (Array.isArray(value)) {
      const items = value.map((item) => this.element(item, resourceType, key)).filter((item): item is Json => item !== undefined);
      return items.length > 0 ? items : undefined;
    }
    if (typeof value !== 'object' || value === null) return value;
    if (key === 'contained' && typeof value.resourceType === 'string') return this.resource(value);
    if ((key === 'extension' || key === 'modifierExtension') && PERSONAL_EXTENSION_VALUES.some((k) => k in value)) return undefined;
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'text' && typeof v === 'object' && v !== null && !Array.isArray(v) && 'div' in v) continue; // narrative
      if (FREE_TEXT_KEYS.has(k)) continue;
      if (k === 'meta' && typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const meta = Object.fromEntries(Object.entries(v).filter(([m]) => m === 'profile' || m === 'security' || m === 'tag'));
        if (Object.keys(meta).length > 0) out.meta = meta;
        continue;
      }
      const child = this.element(v, resourceType, k);
      if (child !== undefined) out[k] = child;
    }
    // A Reference: Type/id pseudonymised, display dropped, a logical NHS number reference pseudonymised.
    // (Only a Reference has a single `identifier` object; resources and Identifiers have arrays or none.)
    const logical = typeof value.identifier === 'object' && value.identifier !== null && !Array.isArray(value.identifier);
    if (typeof value.reference === 'string' || logical) {
      const isOrganisation = typeof value.reference === 'string' && value.reference.startsWith('Organization/');
      if (typeof value.reference === 'string') {
        const mapped = this.reference(value.reference);
        if (mapped) out.reference = mapped;
        else delete out.reference;
      }
      if (!isOrganisation) delete out.display;
      const identifier = value.identifier;
      if (typeof identifier === 'object' && identifier !== null && !Array.isArray(identifier)) {
        if (identifier.system === NHS_NUMBER_SYSTEM && typeof identifier.value === 'string') out.identifier = { system: this.system, value: pseudonymise(`nhs-number|${identifier.value}`, this.key) };
        else if (identifier.system !== 'https://fhir.nhs.uk/Id/ods-organization-code') delete out.identifier;
      }
    }
    return out;
  }
}

/** The resource with its direct identifiers removed or replaced, by the rules above. */
export function pseudonymiseResource<T extends Resource>(resource: T, key: string): T {
  checkKey(key);
  return new Pseudonymiser(key).resource(resource as unknown as { [key: string]: Json }) as unknown as T;
}
