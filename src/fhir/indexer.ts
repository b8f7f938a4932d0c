/**
 * What a resource can be found by: the value of every search parameter of its type, turned into
 * rows for the index tables (migrations/0004_fhir.sql) at write time. Search (search/) reads only
 * these rows, so what is written here and what search compares must agree: both use
 * `normalizeString` and `fhirDateRange`.
 */
import { createHash } from 'node:crypto';
import type { TypedValue } from '@medplum/core';
import { fhirDateRange } from './dates.js';
import { type SearchParamDefinition, patientCompartmentParams, searchParamsOf, tableFamily } from './definitions.js';
import { compileComponentExpression, compileSearchExpression } from './fhirpath-compiler.js';

export interface TokenRow { param: string; item: number; system: string | null; code: string | null; display: string | null; ofType: string | null }
export interface StringRow { param: string; item: number; value: string; normalized: string }
export interface DateRow { param: string; item: number; low: string; high: string }
export interface NumberRow { param: string; item: number; value: string }
export interface QuantityRow { param: string; item: number; value: string; system: string | null; code: string | null; unit: string | null }
export interface ReferenceRow { param: string; item: number; targetType: string | null; targetId: string | null; targetVersion: string | null; targetUrl: string | null }
export interface UriRow { param: string; item: number; value: string }

export interface IndexRows {
  token: TokenRow[];
  string: StringRow[];
  date: DateRow[];
  number: NumberRow[];
  quantity: QuantityRow[];
  reference: ReferenceRow[];
  uri: UriRow[];
}

export type IndexTable = keyof IndexRows;
export const INDEX_TABLES: readonly IndexTable[] = ['token', 'string', 'date', 'number', 'quantity', 'reference', 'uri'];

// Expressions are compiled to plain functions (fhirpath-compiler.ts): about 13 times faster than
// interpreting them, which is most of the cost of a write.
const evaluate = (def: SearchParamDefinition, resource: object): TypedValue[] => compileSearchExpression(def)(resource);

/** `_id` and `_lastUpdated` are columns of the resource table, not index rows. */
const RESOURCE_COLUMNS = new Set(['_id', '_lastUpdated']);

export function indexResource(resource: { resourceType: string }): IndexRows {
  const rows: IndexRows = { token: [], string: [], date: [], number: [], quantity: [], reference: [], uri: [] };
  for (const def of searchParamsOf(resource.resourceType).values()) {
    if (RESOURCE_COLUMNS.has(def.code) || def.type === 'special' || !def.expression) continue;
    let values: TypedValue[];
    try {
      values = evaluate(def, resource);
    } catch {
      // A few R4 expressions use functions a resource's shape can trip (resolve() on contained
      // references, say); a value that cannot be evaluated is not searchable, the write goes on.
      continue;
    }
    if (values.length === 0) continue;
    if (def.type === 'composite') addComposite(rows, def, values);
    else for (const value of values) addValue(rows, def.type, def.code, 0, value);
  }
  return dedupe(rows);
}

function addComposite(rows: IndexRows, def: SearchParamDefinition, items: TypedValue[]): void {
  items.forEach((item, n) => {
    const values = def.components.map((component) => {
      try {
        return compileComponentExpression(component)(item);
      } catch {
        return [];
      }
    });
    // A composite search names every component, so an element missing one can never match:
    // its rows would only take space (a fifth of an Observation's index rows).
    if (values.some((v) => v.length === 0)) return;
    def.components.forEach((component, c) => {
      for (const value of values[c] ?? []) addValue(rows, component.param.type, `${def.code}$${c}`, n + 1, value);
    });
  });
}

function addValue(rows: IndexRows, type: SearchParamDefinition['type'], param: string, item: number, typed: TypedValue): void {
  const tv = unwrapPrimitive(typed);
  const value = tv.value as unknown;
  if (value === undefined || value === null) return;
  switch (type) {
    case 'token':
      addToken(rows.token, param, item, tv);
      return;
    case 'string':
      for (const text of stringsOf(tv)) rows.string.push({ param, item, value: text, normalized: normalizeString(text) });
      return;
    case 'date':
      addDate(rows.date, param, item, tv);
      return;
    case 'number': {
      const n = typeof value === 'number' ? value : (value as { value?: unknown }).value;
      if (typeof n === 'number' && Number.isFinite(n)) rows.number.push({ param, item, value: String(n) });
      return;
    }
    case 'quantity':
      addQuantity(rows.quantity, param, item, tv);
      return;
    case 'reference':
      addReference(rows.reference, param, item, tv);
      return;
    case 'uri':
      if (typeof value === 'string') rows.uri.push({ param, item, value });
      return;
    case 'composite':
    case 'special':
      // Composites are split into their components by the caller; special parameters are not indexed.
      return;
  }
}

/** A primitive with extensions arrives as a String/Number/Boolean object; compare its value. */
function unwrapPrimitive(tv: TypedValue): TypedValue {
  const value = tv.value as unknown;
  if (value instanceof String || value instanceof Number || value instanceof Boolean) return { type: tv.type, value: value.valueOf() };
  return tv;
}

interface Coding { system?: string; code?: string; display?: string }

function addToken(out: TokenRow[], param: string, item: number, tv: TypedValue): void {
  const value = tv.value as Record<string, unknown> | string | boolean | number;
  const push = (system: unknown, code: unknown, display: unknown, ofType: string | null = null): void => {
    const s = typeof system === 'string' ? system : null;
    const c = typeof code === 'string' ? code : typeof code === 'boolean' || typeof code === 'number' ? String(code) : null;
    const d = typeof display === 'string' ? normalizeString(display) : null;
    if (c !== null || d !== null || s !== null) out.push({ param, item, system: s, code: c, display: d, ofType });
  };
  if (typeof value !== 'object') {
    push(null, value, null);
    return;
  }
  switch (tv.type) {
    case 'CodeableConcept': {
      const cc = value as { coding?: Coding[]; text?: string };
      for (const coding of cc.coding ?? []) push(coding.system, coding.code, coding.display ?? cc.text);
      // The concept's own text is searchable by :text even when its codings have displays.
      if (cc.text && (cc.coding ?? []).some((c) => c.display !== undefined && c.display !== cc.text)) push(null, null, cc.text);
      else if (cc.text && !(cc.coding ?? []).length) push(null, null, cc.text);
      return;
    }
    case 'Coding': {
      const coding = value as Coding;
      push(coding.system, coding.code, coding.display);
      return;
    }
    case 'Identifier': {
      const identifier = value as { system?: string; value?: string; type?: { coding?: Coding[]; text?: string } };
      const types = (identifier.type?.coding ?? []).map((c) => `${c.system ?? ''}|${c.code ?? ''}`);
      if (types.length === 0) push(identifier.system, identifier.value, identifier.type?.text);
      for (const ofType of types) push(identifier.system, identifier.value, identifier.type?.text, ofType);
      return;
    }
    case 'ContactPoint': {
      const cp = value as { system?: string; value?: string; use?: string };
      push(cp.system, cp.value, cp.use);
      return;
    }
    default: {
      // Quantity, Reference or a backbone element used as a token: the code, system and text it carries.
      const v = value as { system?: string; code?: string; value?: unknown; display?: string };
      push(v.system, v.code ?? (typeof v.value === 'string' ? v.value : undefined), v.display);
    }
  }
}

/** The texts a string parameter matches: a HumanName's and an Address's parts, or the string itself. */
function stringsOf(tv: TypedValue): string[] {
  const value = tv.value as unknown;
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' || value === null) return [];
  const v = value as Record<string, unknown>;
  const out: string[] = [];
  const take = (x: unknown): void => {
    if (typeof x === 'string') out.push(x);
    else if (Array.isArray(x)) for (const y of x) take(y);
  };
  if (tv.type === 'HumanName') {
    take(v.text); take(v.family); take(v.given); take(v.prefix); take(v.suffix);
  } else if (tv.type === 'Address') {
    take(v.text); take(v.line); take(v.city); take(v.district); take(v.state); take(v.postalCode); take(v.country);
  } else {
    take(v.text); take(v.value); take(v.display); take(v.name);
  }
  return out;
}

function addDate(out: DateRow[], param: string, item: number, tv: TypedValue): void {
  const value = tv.value as unknown;
  if (typeof value === 'string') {
    const range = fhirDateRange(value);
    if (range) out.push({ param, item, ...range });
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const v = value as { start?: string; end?: string; event?: string[]; repeat?: { boundsPeriod?: { start?: string; end?: string } } };
  if (tv.type === 'Period' || v.start !== undefined || v.end !== undefined) {
    const low = v.start ? fhirDateRange(v.start)?.low : '-infinity';
    const high = v.end ? fhirDateRange(v.end)?.high : 'infinity';
    if (low && high && (v.start || v.end)) out.push({ param, item, low, high });
    return;
  }
  if (tv.type === 'Timing') {
    for (const event of v.event ?? []) {
      const range = fhirDateRange(event);
      if (range) out.push({ param, item, ...range });
    }
    const bounds = v.repeat?.boundsPeriod;
    if (bounds && (bounds.start || bounds.end)) {
      const low = bounds.start ? fhirDateRange(bounds.start)?.low : '-infinity';
      const high = bounds.end ? fhirDateRange(bounds.end)?.high : 'infinity';
      if (low && high) out.push({ param, item, low, high });
    }
  }
}

function addQuantity(out: QuantityRow[], param: string, item: number, tv: TypedValue): void {
  const v = tv.value as { value?: unknown; system?: string; code?: string; unit?: string; currency?: string; low?: unknown; high?: unknown };
  if (typeof v !== 'object') return;
  if (typeof v.value === 'number' && Number.isFinite(v.value)) {
    out.push({ param, item, value: String(v.value), system: v.system ?? (v.currency ? 'urn:iso:std:iso:4217' : null), code: v.code ?? v.currency ?? null, unit: v.unit ?? null });
    return;
  }
  if (tv.type === 'Range') {
    for (const end of [v.low, v.high]) if (end && typeof end === 'object') addQuantity(out, param, item, { type: 'Quantity', value: end });
  }
}

/** `Type/id`, `Type/id/_history/v`, or an absolute URL ending in either. */
const REFERENCE = /^(?:(.*)\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;

export function parseReference(reference: string): { type: string; id: string; version: string | null; base: string | null } | undefined {
  const match = REFERENCE.exec(reference);
  if (!match) return undefined;
  return { base: match[1] ?? null, type: match[2] as string, id: match[3] as string, version: match[4] ?? null };
}

function addReference(out: ReferenceRow[], param: string, item: number, tv: TypedValue): void {
  const value = tv.value as unknown;
  const text = typeof value === 'string' ? value : typeof value === 'object' && value !== null ? (value as { reference?: unknown }).reference : undefined;
  if (typeof text !== 'string' || text.startsWith('#')) return;
  const parsed = parseReference(text);
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(text);
  if (parsed) {
    out.push({ param, item, targetType: parsed.type, targetId: parsed.id, targetVersion: parsed.version, targetUrl: absolute ? text : null });
  } else {
    // A canonical (`http://…/Questionnaire/x|1.0`), a URN or a logical reference: found by URL only.
    out.push({ param, item, targetType: null, targetId: null, targetVersion: null, targetUrl: text });
  }
}

/** Lower case, accents removed, whitespace collapsed: what string search compares. */
export function normalizeString(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

function dedupe(rows: IndexRows): IndexRows {
  for (const table of INDEX_TABLES) {
    const seen = new Set<string>();
    const list = rows[table] as unknown as Record<string, unknown>[];
    const kept = list.filter((row) => {
      let key = '';
      for (const value of Object.values(row)) key += `${String(value)}\u0001`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    (rows[table] as unknown as Record<string, unknown>[]) = kept;
  }
  return rows;
}

/**
 * The key that places a resource with its Patient's data (Citus distributes by it): a stable
 * 52-bit hash of the Patient's id, so it fits a JavaScript number and needs no lookup to compute.
 */
export function patientKey(patientId: string): number {
  const digest = createHash('sha1').update(`Patient/${patientId}`).digest();
  return digest.readUIntBE(0, 6) * 16 + (digest[6] as number >> 4);
}

/**
 * Which Patient a resource belongs with: itself for a Patient; otherwise the first Patient its
 * compartment parameters point at, in the order the compartment definition lists them. A
 * resource of a compartment type that points at no Patient gets a key of its own, and resources
 * outside the compartment (the shared family) all have 0.
 */
export function patientKeyOf(resource: { resourceType: string; id?: string }, rows: IndexRows): number {
  const type = resource.resourceType;
  if (tableFamily(type) === 'fhir_shared') return 0;
  if (type === 'Patient') return patientKey(resource.id ?? '');
  for (const param of patientCompartmentParams(type)) {
    const ref = rows.reference.find((r) => r.param === param && r.targetType === 'Patient' && r.targetId);
    if (ref?.targetId) return patientKey(ref.targetId);
  }
  return patientKey(`${type}/${resource.id ?? ''}`);
}
