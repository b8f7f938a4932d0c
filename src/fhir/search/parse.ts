/**
 * FHIR R4 search requests: the query parameters of `GET [base]/[type]?…` (or the form body of
 * `POST [base]/[type]/_search`) turned into a `SearchRequest` that `sql.ts` answers from the
 * index tables. Nothing here touches the database.
 *
 *   parseSearchRequest(type, params, { strict }) → { request, issues }
 *
 * Every parameter is either understood or reported: an unknown parameter, a modifier the
 * parameter's type does not have, a malformed value, or a feature we do not serve (`_text`,
 * `_content`, `_query`, `_filter`, `_list`, `near`, `:in`, `:identifier`, ...) becomes an issue
 * naming the parameter, and the parameter is left out of the request. With `strict` (the client
 * sent `Prefer: handling=strict`) the issues are errors and the caller answers 400; otherwise they
 * are warnings, returned to the client in the Bundle as an OperationOutcome (search.mode
 * 'outcome'), and the search goes on without the parameter. `_format` and `_pretty` are not
 * search parameters and are ignored silently.
 *
 * Value syntax (https://hl7.org/fhir/R4/search.html): a comma separates values any of which may
 * match (OR); repeating a parameter means all must match (AND); `\,` `\$` `\|` and `\\` escape.
 * Numbers, dates and quantities take a prefix eq ne gt lt ge le sa eb ap. Chains
 * (`subject:Patient.name=x`, `subject.organization.name=x`) and reverse chains
 * (`_has:Observation:patient:code=x`, nested) go to any depth.
 */
import { fhirDateRange } from '../dates.js';
import { type SearchParamDefinition, type SearchParamType, isResourceType, resourceTypes, searchParam } from '../definitions.js';
import { type IndexTable, normalizeString, parseReference } from '../indexer.js';
import type { Issue } from '../outcome.js';

export type { Issue } from '../outcome.js';

export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';
export const PREFIXES: readonly Prefix[] = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];

/** A date search value: the inclusive instant range it covers at the precision it was written. */
export interface DateMatch {
  readonly type: 'date';
  readonly prefix: Prefix;
  readonly low: string;
  readonly high: string;
}

/**
 * A number as exact decimal text, with the range its implicit precision covers: `100` is
 * [99.5, 100.5), `100.00` is [99.995, 100.005), `1e2` is [50, 150) (one significant figure).
 * `approxLow`/`approxHigh` bound `ap`: 10% either side, and never narrower than the precision.
 */
export interface NumberRange {
  readonly value: string;
  readonly low: string;
  readonly high: string;
  readonly approxLow: string;
  readonly approxHigh: string;
}

export interface NumberMatch extends NumberRange {
  readonly type: 'number';
  readonly prefix: Prefix;
}

export interface QuantityMatch extends NumberRange {
  readonly type: 'quantity';
  readonly prefix: Prefix;
  /** Quantity.system; undefined means any system. */
  readonly system: string | undefined;
  /** Matches Quantity.code, or Quantity.unit when no system is given; undefined means any unit. */
  readonly code: string | undefined;
}

export interface StringMatch {
  readonly type: 'string';
  /** start: normalized starts-with (the default); exact: `:exact`; contains: `:contains`. */
  readonly mode: 'start' | 'exact' | 'contains';
  /** Normalized for start and contains; as written for exact. */
  readonly value: string;
}

export interface TokenMatch {
  readonly type: 'token';
  /** undefined: any system; null: no system (`|code`); a string: that system. */
  readonly system: string | null | undefined;
  /** undefined: any code (`system|`). */
  readonly code: string | undefined;
}

/** `:text`: the display or text of the code, normalized; matches its start or the start of a word. */
export interface TokenTextMatch {
  readonly type: 'token-text';
  readonly text: string;
}

/** `:of-type`: an Identifier of this type (`system|code`) with this value. */
export interface TokenOfTypeMatch {
  readonly type: 'token-of-type';
  readonly ofType: string;
  readonly value: string;
}

export interface UriMatch {
  readonly type: 'uri';
  readonly mode: 'exact' | 'below' | 'above';
  readonly value: string;
}

/** `Type/id`, `Type/id/_history/v`, or a bare id (any type the parameter allows, or the `:Type` modifier's). */
export interface ReferenceMatch {
  readonly type: 'reference';
  readonly targetType: string | undefined;
  readonly id: string;
  readonly version: string | undefined;
}

/** An absolute URL or canonical (`url|version`). */
export interface ReferenceUrlMatch {
  readonly type: 'reference-url';
  readonly url: string;
  /** The `:Type` modifier, if any: a URL on this server must point at this type. */
  readonly targetType: string | undefined;
}

export type ValueMatch =
  | DateMatch
  | NumberMatch
  | QuantityMatch
  | StringMatch
  | TokenMatch
  | TokenTextMatch
  | TokenOfTypeMatch
  | UriMatch
  | ReferenceMatch
  | ReferenceUrlMatch;

/** One search criterion on the resources of the searched type(s); a request ANDs its filters. */
export type Filter =
  /** Rows of `param` in `table` matching any of `matches`; `negate` (token `:not`) wants none. */
  | { readonly kind: 'index'; readonly table: IndexTable; readonly param: string; readonly negate: boolean; readonly matches: readonly ValueMatch[] }
  /** `:missing=true` (no row for the parameter) or `:missing=false` (at least one). */
  | { readonly kind: 'missing'; readonly table: IndexTable; readonly param: string; readonly missing: boolean }
  /** Composite: component n is stored as `param$n`; one element (item) must match every component of a value. */
  | { readonly kind: 'composite'; readonly param: string; readonly tables: readonly IndexTable[]; readonly values: readonly (readonly ValueMatch[])[] }
  | { readonly kind: 'id'; readonly negate: boolean; readonly ids: readonly string[] }
  | { readonly kind: 'lastUpdated'; readonly matches: readonly DateMatch[] }
  /** A chained parameter: a reference `param` to a resource of one of the target types satisfying `next`. */
  | { readonly kind: 'chain'; readonly param: string; readonly targets: readonly ChainTarget[] }
  /** `_has`: some resource of `type` whose reference `param` points at this one satisfies `next`. */
  | { readonly kind: 'has'; readonly type: string; readonly param: string; readonly next: Filter };

export interface ChainTarget {
  readonly type: string;
  readonly next: Filter;
  /**
   * Set by execute.ts when it has looked the targets up first (a chain between two types of the
   * patient family, docs/scale-out.md rule 4): their ids and patient keys.
   */
  readonly resolved?: { readonly ids: readonly string[]; readonly patientKeys: readonly number[] } | undefined;
}

export interface SortKey {
  /** The parameter code, `_id` or `_lastUpdated`. */
  readonly param: string;
  readonly table: IndexTable | '_id' | '_lastUpdated';
  readonly descending: boolean;
}

export interface Include {
  /** The type whose references are followed (`*` for any type, only with `_revinclude=*`). */
  readonly sourceType: string;
  /** A reference parameter code of sourceType, or `*` for all of them. */
  readonly param: string;
  readonly targetType: string | undefined;
  readonly iterate: boolean;
}

export type TotalMode = 'none' | 'estimate' | 'accurate';
export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';

export interface SearchRequest {
  /** The searched types: one for a type-level search; `_type`'s list at system level (empty: every type). */
  readonly types: readonly string[];
  readonly systemLevel: boolean;
  readonly filters: readonly Filter[];
  readonly sort: readonly SortKey[];
  readonly count: number;
  readonly offset: number;
  readonly total: TotalMode;
  readonly summary: SummaryMode | undefined;
  /** Top-level element names from `_elements`, or undefined. */
  readonly elements: readonly string[] | undefined;
  readonly include: readonly Include[];
  readonly revinclude: readonly Include[];
  /** The parameters that were understood, as sent, without `_count` and `_offset`: for the Bundle's links. */
  readonly query: readonly (readonly [string, string])[];
  /** The same issues parseSearchRequest returns, so the Bundle can carry them. */
  readonly issues: readonly Issue[];
}

export interface ParseOptions {
  /** Prefer: handling=strict. Issues are errors (the caller answers 400) rather than warnings. */
  readonly strict: boolean;
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;

/** Not search parameters: they ask for a format; the HTTP layer reads them. */
const IGNORED = new Set(['_format', '_pretty']);

/** Parameters the specification defines that this server does not serve. */
const UNSUPPORTED: ReadonlyMap<string, string> = new Map([
  ['_text', 'full-text search of the narrative is not supported'],
  ['_content', 'full-text search of the content is not supported'],
  ['_query', 'named queries are not supported'],
  ['_filter', 'the _filter parameter is not supported'],
  ['_list', 'searching by List membership is not supported'],
  ['_contained', 'searching contained resources is not supported'],
  ['_containedType', 'searching contained resources is not supported'],
  ['_graph', 'GraphDefinition includes are not supported'],
]);

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

class SearchParseError extends Error {
  constructor(
    readonly code: Issue['code'],
    message: string,
  ) {
    super(message);
  }
}

const fail = (message: string): never => {
  throw new SearchParseError('invalid', message);
};
const unsupported = (message: string): never => {
  throw new SearchParseError('not-supported', message);
};

/**
 * Parses the parameters of a search. `type` is the resource type of a type-level search, or
 * undefined for a system-level search (`GET [base]?_type=…`), where a parameter must be defined
 * alike for every type searched. `params` are the decoded name/value pairs in the order sent.
 */
export function parseSearchRequest(
  type: string | undefined,
  params: ReadonlyArray<readonly [string, string]>,
  options: ParseOptions,
): { request: SearchRequest; issues: Issue[] } {
  const issues: Issue[] = [];
  const report = (code: Issue['code'], name: string, diagnostics: string): void => {
    issues.push({ severity: options.strict ? 'error' : 'warning', code, diagnostics: `${name}: ${diagnostics}`, expression: name });
  };

  let types: string[] = type === undefined ? [] : [type];
  if (type !== undefined && !isResourceType(type)) {
    report('not-supported', type, `${type} is not a FHIR R4 resource type`);
  }
  // _type first: at system level it decides which parameters are allowed.
  for (const [name, value] of params) {
    if (name !== '_type') continue;
    const listed = value.split(',').map((t) => t.trim()).filter((t) => t !== '');
    const unknown = listed.filter((t) => !isResourceType(t));
    if (unknown.length > 0) report('invalid', name, `not resource types: ${unknown.join(', ')}`);
    const known = listed.filter((t) => isResourceType(t));
    if (type === undefined) types = [...new Set([...(types.length > 0 ? types.filter((t) => known.includes(t)) : known)])];
    else if (!known.includes(type)) report('invalid', name, `a search of ${type} cannot ask for ${known.join(', ')}`);
  }

  const filters: Filter[] = [];
  const sort: SortKey[] = [];
  const include: Include[] = [];
  const revinclude: Include[] = [];
  const query: Array<[string, string]> = [];
  let count = DEFAULT_COUNT;
  let offset = 0;
  let total: TotalMode = 'accurate';
  let summary: SummaryMode | undefined;
  let elements: string[] | undefined;
  // The types a parameter is checked against: the type, or at system level each type searched
  // (every type if _type is absent: then only the parameters every resource has are allowed).
  const contextTypes = types.length > 0 ? types : type === undefined ? ['Resource'] : [];

  for (const [rawName, value] of params) {
    const name = rawName.trim();
    if (IGNORED.has(name) || name === '_type') {
      if (name === '_type' && type === undefined) query.push([name, value]);
      continue;
    }
    try {
      const base = name.split(':')[0] ?? name;
      switch (base) {
        case '_count':
          count = parseCount(name, value);
          continue;
        case '_offset':
          offset = parseNonNegative(name, value);
          continue;
        case '_total':
          noModifier(name);
          if (value !== 'none' && value !== 'estimate' && value !== 'accurate') fail(`must be none, estimate or accurate, not '${value}'`);
          total = value as TotalMode;
          break;
        case '_summary':
          noModifier(name);
          if (!['true', 'text', 'data', 'count', 'false'].includes(value)) fail(`must be true, text, data, count or false, not '${value}'`);
          summary = value as SummaryMode;
          break;
        case '_elements':
          noModifier(name);
          elements = [...(elements ?? []), ...parseElements(value, contextTypes)];
          break;
        case '_sort':
          if (name !== '_sort') fail('use _sort=-param for a descending sort (modifiers are not allowed)');
          sort.push(...parseSort(value, contextTypes));
          break;
        case '_include':
        case '_revinclude':
          (base === '_include' ? include : revinclude).push(...parseInclude(name, value, contextTypes, base === '_revinclude'));
          break;
        default: {
          if (value === '') fail('has no value');
          const unsupportedReason = UNSUPPORTED.get(base);
          if (unsupportedReason) unsupported(unsupportedReason);
          filters.push(parseFilterForTypes(contextTypes, name, value));
        }
      }
      query.push([name, value]);
    } catch (error) {
      if (!(error instanceof SearchParseError)) throw error;
      report(error.code, name, error.message);
    }
  }

  const request: SearchRequest = {
    types,
    systemLevel: type === undefined,
    filters,
    sort,
    count,
    offset,
    total,
    summary,
    elements,
    include,
    revinclude,
    query,
    issues,
  };
  return { request, issues };
}

function noModifier(name: string): void {
  if (name.includes(':')) fail('takes no modifier');
}

/** A page larger than MAX_COUNT is cut to MAX_COUNT, as the specification allows (the links say so). */
function parseCount(name: string, value: string): number {
  return Math.min(parseNonNegative(name, value), MAX_COUNT);
}

function parseNonNegative(name: string, value: string): number {
  noModifier(name);
  if (!/^\d{1,9}$/.test(value)) fail(`must be a whole number, not '${value}'`);
  return Number(value);
}

/** The search parameter `code` of every context type; at system level they must agree on the type. */
function definitionFor(contextTypes: readonly string[], code: string): SearchParamDefinition | undefined {
  let found: SearchParamDefinition | undefined;
  for (const t of contextTypes) {
    const def = t === 'Resource' ? resourceParam(code) : searchParam(t, code);
    if (!def) return undefined;
    if (found && found.type !== def.type) return undefined;
    found ??= def;
  }
  return found;
}

/** A parameter every resource has (_id, _lastUpdated, _tag, _profile, _security, _source, ...). */
function resourceParam(code: string): SearchParamDefinition | undefined {
  const def = searchParam('Patient', code);
  return def && def.url.startsWith('http://hl7.org/fhir/SearchParameter/Resource-') ? def : undefined;
}

function parseFilterForTypes(contextTypes: readonly string[], name: string, value: string): Filter {
  if (contextTypes.length === 0) fail('unknown resource type');
  // At system level a parameter must mean the same for every type; it is parsed for the first.
  for (const t of contextTypes.slice(1)) parseFilter(t, name, value);
  return parseFilter(contextTypes[0] as string, name, value);
}

/**
 * One parameter (name with modifiers, chains and `_has`) on resources of `type`, with its raw
 * value (commas not yet split). Throws SearchParseError.
 */
export function parseFilter(type: string, name: string, value: string): Filter {
  if (name.startsWith('_has:')) return parseHas(type, name, value);
  const dot = name.indexOf('.');
  if (dot >= 0) return parseChain(type, name.slice(0, dot), name.slice(dot + 1), value);
  const colon = name.indexOf(':');
  const code = colon >= 0 ? name.slice(0, colon) : name;
  const modifier = colon >= 0 ? name.slice(colon + 1) : undefined;
  if (code === '_has') fail('_has must be written _has:Type:parameter:parameter');
  const def = definitionFor([type], code);
  if (!def) {
    if (UNSUPPORTED.has(code)) unsupported(UNSUPPORTED.get(code) as string);
    return unsupported(`${code} is not a search parameter of ${type}`);
  }
  return parseLeaf(def, modifier, value);
}

function parseHas(type: string, name: string, value: string): Filter {
  // _has:Type:param:rest, where rest is another parameter of Type (perhaps another _has).
  const parts = name.split(':');
  const [, sourceType, param] = parts;
  const rest = parts.slice(3).join(':');
  if (!sourceType || !param || !rest) return fail('_has must be written _has:Type:parameter:parameter');
  if (!isResourceType(sourceType)) fail(`${sourceType} is not a resource type`);
  const def = searchParam(sourceType, param);
  if (!def || def.type !== 'reference') return fail(`${param} is not a reference parameter of ${sourceType}`);
  if (type !== 'Resource' && def.targets.length > 0 && !def.targets.includes(type)) fail(`${sourceType}.${param} does not refer to ${type}`);
  return { kind: 'has', type: sourceType, param, next: parseFilter(sourceType, rest, value) };
}

function parseChain(type: string, head: string, rest: string, value: string): Filter {
  const colon = head.indexOf(':');
  const code = colon >= 0 ? head.slice(0, colon) : head;
  const targetType = colon >= 0 ? head.slice(colon + 1) : undefined;
  const def = definitionFor([type], code);
  if (!def) return fail(`${code} is not a search parameter of ${type}`);
  if (def.type !== 'reference') fail(`${code} is not a reference parameter, so it cannot be chained`);
  if (targetType !== undefined) {
    if (!isResourceType(targetType)) fail(`${targetType} is not a resource type`);
    if (def.targets.length > 0 && !def.targets.includes(targetType)) fail(`${code} does not refer to ${targetType}`);
  }
  const candidates = targetType !== undefined ? [targetType] : def.targets.length > 0 ? def.targets : resourceTypes();
  const targets: ChainTarget[] = [];
  let firstError: SearchParseError | undefined;
  for (const candidate of candidates) {
    try {
      targets.push({ type: candidate, next: parseFilter(candidate, rest, value) });
    } catch (error) {
      if (!(error instanceof SearchParseError)) throw error;
      firstError ??= error;
    }
  }
  if (targets.length === 0) {
    if (candidates.length === 1 && firstError) throw firstError;
    const restCode = rest.split(/[.:]/)[0] ?? rest;
    return fail(`none of the types ${code} refers to has a parameter ${restCode}${firstError ? ` (${firstError.message})` : ''}`);
  }
  return { kind: 'chain', param: code, targets };
}

const MODIFIERS: Record<SearchParamType, readonly string[]> = {
  string: ['exact', 'contains'],
  token: ['not', 'text', 'of-type'],
  date: [],
  number: [],
  quantity: [],
  uri: ['below', 'above'],
  reference: [],
  composite: [],
  special: [],
};

/** Modifiers the specification defines that are not served here. */
const UNSUPPORTED_MODIFIERS: Record<SearchParamType, readonly string[]> = {
  string: [],
  token: ['in', 'not-in', 'below', 'above'],
  date: [],
  number: [],
  quantity: [],
  uri: [],
  reference: ['identifier', 'below', 'above'],
  composite: [],
  special: [],
};

const TABLE_OF: Record<Exclude<SearchParamType, 'composite' | 'special'>, IndexTable> = {
  string: 'string',
  token: 'token',
  date: 'date',
  number: 'number',
  quantity: 'quantity',
  uri: 'uri',
  reference: 'reference',
};

function tableOf(def: SearchParamDefinition): IndexTable {
  if (def.type === 'composite' || def.type === 'special') return unsupported(`${def.code} (${def.type}) has no index table`);
  return TABLE_OF[def.type];
}

function parseLeaf(def: SearchParamDefinition, modifier: string | undefined, value: string): Filter {
  if (def.type === 'special') return unsupported(`${def.code} (a special parameter) is not supported`);
  if (!def.expression && def.code !== '_id' && def.code !== '_lastUpdated') return unsupported(`${def.code} has no FHIRPath expression, so it is not indexed`);

  if (modifier === 'missing') {
    if (value !== 'true' && value !== 'false') fail(`:missing takes true or false, not '${value}'`);
    if (def.code === '_id' || def.code === '_lastUpdated') fail(`every resource has ${def.code}, so :missing is not useful`);
    const table = def.type === 'composite' ? tableOf(def.components[0]?.param ?? def) : tableOf(def);
    return { kind: 'missing', table, param: def.type === 'composite' ? `${def.code}$0` : def.code, missing: value === 'true' };
  }
  if (modifier !== undefined) {
    if (UNSUPPORTED_MODIFIERS[def.type].includes(modifier)) unsupported(`the :${modifier} modifier is not supported`);
    const typeModifier = def.type === 'reference' && isResourceType(modifier);
    if (!MODIFIERS[def.type].includes(modifier) && !typeModifier) fail(`:${modifier} is not a modifier of ${def.type} parameters`);
    if (typeModifier && def.targets.length > 0 && !def.targets.includes(modifier)) fail(`${def.code} does not refer to ${modifier}`);
    if (def.code === '_id' && modifier !== 'not') fail(`:${modifier} is not a modifier of _id`);
  }

  const values = splitUnescaped(value, ',');
  if (values.some((v) => v === '')) fail('has an empty value');

  if (def.code === '_id') {
    const ids = values.map((v) => unescapeValue(v));
    for (const id of ids) if (!ID.test(id)) fail(`'${id}' is not a valid id`);
    return { kind: 'id', negate: modifier === 'not', ids };
  }
  if (def.code === '_lastUpdated') {
    return { kind: 'lastUpdated', matches: values.map((v) => parseDate(unescapeValue(v))) };
  }
  if (def.type === 'composite') {
    if (def.components.length === 0) unsupported(`${def.code} has no components`);
    const tables = def.components.map((c) => tableOf(c.param));
    const parsed = values.map((v) => {
      const parts = splitUnescaped(v, '$');
      if (parts.length !== def.components.length) fail(`'${v}' must have ${def.components.length} parts separated by $`);
      return parts.map((part, i) => parseValue((def.components[i] as { param: SearchParamDefinition }).param, undefined, part));
    });
    return { kind: 'composite', param: def.code, tables, values: parsed };
  }
  const matches = values.map((v) => parseValue(def, modifier, v));
  return { kind: 'index', table: tableOf(def), param: def.code, negate: modifier === 'not', matches };
}

/** One value (a comma-separated part, still escaped) of a parameter of the definition's type. */
function parseValue(def: SearchParamDefinition, modifier: string | undefined, raw: string): ValueMatch {
  switch (def.type) {
    case 'string': {
      const text = unescapeValue(raw);
      if (modifier === 'exact') return { type: 'string', mode: 'exact', value: text };
      const normalized = normalizeString(text);
      if (normalized === '') fail('has an empty value');
      return { type: 'string', mode: modifier === 'contains' ? 'contains' : 'start', value: normalized };
    }
    case 'token':
      return parseToken(modifier, raw);
    case 'date':
      return parseDate(unescapeValue(raw));
    case 'number': {
      const { prefix, rest } = splitPrefix(unescapeValue(raw));
      return { type: 'number', prefix, ...parseNumber(rest) };
    }
    case 'quantity':
      return parseQuantity(raw);
    case 'uri': {
      const text = unescapeValue(raw);
      return { type: 'uri', mode: modifier === 'below' ? 'below' : modifier === 'above' ? 'above' : 'exact', value: text };
    }
    case 'reference':
      return parseReferenceValue(def, modifier, unescapeValue(raw));
    case 'composite':
    case 'special':
      return unsupported(`${def.code} (${def.type}) cannot be a component value`);
  }
}

function parseToken(modifier: string | undefined, raw: string): ValueMatch {
  if (modifier === 'text') {
    const text = normalizeString(unescapeValue(raw));
    if (text === '') fail('has an empty value');
    return { type: 'token-text', text };
  }
  const parts = splitUnescaped(raw, '|').map(unescapeValue);
  if (modifier === 'of-type') {
    if (parts.length !== 3 || !parts[1] || !parts[2]) fail(`:of-type takes system|code|value, not '${raw}'`);
    return { type: 'token-of-type', ofType: `${parts[0] ?? ''}|${parts[1] ?? ''}`, value: parts[2] ?? '' };
  }
  if (parts.length === 1) return { type: 'token', system: undefined, code: parts[0] };
  if (parts.length !== 2) return fail(`'${raw}' has more than one unescaped |`);
  const [system, code] = parts as [string, string];
  if (system === '' && code === '') fail(`'${raw}' has neither system nor code`);
  return { type: 'token', system: system === '' ? null : system, code: code === '' ? undefined : code };
}

export function splitPrefix(text: string): { prefix: Prefix; rest: string } {
  const head = text.slice(0, 2) as Prefix;
  if (PREFIXES.includes(head) && text.length > 2) return { prefix: head, rest: text.slice(2) };
  return { prefix: 'eq', rest: text };
}

function parseDate(text: string): DateMatch {
  const { prefix, rest } = splitPrefix(text);
  // A '+' in a time zone arrives as a space when the client did not encode it.
  const range = fhirDateRange(rest.replace(/ (\d{2}:\d{2})$/, '+$1'));
  if (!range) return fail(`'${text}' is not a date (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][Z|+hh:mm], with an optional prefix)`);
  return { type: 'date', prefix, low: range.low, high: range.high };
}

const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** A decimal's digits and exponent: value = mantissa × 10^exponent, exactly. */
function decimal(text: string): { mantissa: bigint; exponent: number } {
  const m = NUMBER.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return fail(`'${text}' is not a number`);
  const [, sign, whole, fraction = '', exp = '0'] = m;
  const digits = `${whole}${fraction}`.replace(/^0+(?=\d)/, '');
  const mantissa = BigInt(`${sign === '-' ? '-' : ''}${digits}`);
  const exponent = Number(exp) - fraction.length;
  if (Math.abs(exponent) > 1000) fail(`'${text}' is out of range`);
  return { mantissa, exponent };
}

/** Exact decimal text of mantissa × 10^exponent. */
function decimalText(mantissa: bigint, exponent: number): string {
  const negative = mantissa < 0n;
  let digits = (negative ? -mantissa : mantissa).toString();
  if (exponent >= 0) digits += '0'.repeat(exponent);
  else {
    const places = -exponent;
    digits = digits.padStart(places + 1, '0');
    digits = `${digits.slice(0, digits.length - places)}.${digits.slice(digits.length - places)}`.replace(/\.?0+$/, '');
  }
  return `${negative && digits !== '0' ? '-' : ''}${digits}`;
}

/**
 * A search number with its implicit precision (spec 3.1.1.4.1): half a unit of its last
 * significant digit either side. `1e2` has one significant figure, so it covers [50, 150); the
 * specification's table says [95, 105) for it, which contradicts its own "1 significant figure".
 */
export function parseNumber(text: string): NumberRange {
  const { mantissa, exponent } = decimal(text);
  const ten = mantissa * 10n;
  const low = decimalText(ten - 5n, exponent - 1);
  const high = decimalText(ten + 5n, exponent - 1);
  const abs = mantissa < 0n ? -mantissa : mantissa;
  // ap: 10% of the value, but never less than the value's own precision.
  const tenth = abs > 5n ? abs : 5n;
  return {
    value: decimalText(mantissa, exponent),
    low,
    high,
    approxLow: decimalText(ten - tenth, exponent - 1),
    approxHigh: decimalText(ten + tenth, exponent - 1),
  };
}

function parseQuantity(raw: string): QuantityMatch {
  const parts = splitUnescaped(raw, '|').map(unescapeValue);
  if (parts.length !== 1 && parts.length !== 3) fail(`'${raw}' must be number, or number|system|code`);
  const { prefix, rest } = splitPrefix(parts[0] ?? '');
  const system = parts[1] ? parts[1] : undefined;
  const code = parts[2] ? parts[2] : undefined;
  return { type: 'quantity', prefix, ...parseNumber(rest), system, code };
}

function parseReferenceValue(def: SearchParamDefinition, modifier: string | undefined, text: string): ValueMatch {
  const typeModifier = modifier !== undefined && isResourceType(modifier) ? modifier : undefined;
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) return { type: 'reference-url', url: text, targetType: typeModifier };
  if (ID.test(text)) return { type: 'reference', targetType: typeModifier, id: text, version: undefined };
  const parsed = parseReference(text);
  if (!parsed || parsed.base !== null) return fail(`'${text}' is not a reference (Type/id, id or an absolute URL)`);
  if (!isResourceType(parsed.type)) fail(`${parsed.type} is not a resource type`);
  if (typeModifier !== undefined && typeModifier !== parsed.type) fail(`'${text}' is not a ${typeModifier}`);
  if (def.targets.length > 0 && !def.targets.includes(parsed.type)) fail(`${def.code} does not refer to ${parsed.type}`);
  return { type: 'reference', targetType: parsed.type, id: parsed.id, version: parsed.version ?? undefined };
}

function parseSort(value: string, contextTypes: readonly string[]): SortKey[] {
  const keys: SortKey[] = [];
  for (const part of value.split(',')) {
    const item = part.trim();
    if (item === '') fail('has an empty sort key');
    const descending = item.startsWith('-');
    const code = descending ? item.slice(1) : item;
    if (code === '_id' || code === '_lastUpdated') {
      keys.push({ param: code, table: code, descending });
      continue;
    }
    if (code.includes('.') || code.includes(':')) fail(`cannot sort by a chained or modified parameter (${code})`);
    const def = definitionFor(contextTypes, code);
    if (!def) return fail(`${code} is not a search parameter of ${contextTypes.join(', ')}`);
    if (def.type === 'composite' || def.type === 'special') return unsupported(`cannot sort by ${code} (${def.type})`);
    if (!def.expression) return unsupported(`${code} is not indexed, so it cannot sort`);
    keys.push({ param: code, table: TABLE_OF[def.type], descending });
  }
  return keys;
}

function parseInclude(name: string, value: string, contextTypes: readonly string[], reverse: boolean): Include[] {
  const modifier = name.includes(':') ? name.slice(name.indexOf(':') + 1) : undefined;
  if (modifier !== undefined && modifier !== 'iterate' && modifier !== 'recurse') fail(`:${modifier} is not a modifier of ${reverse ? '_revinclude' : '_include'} (use :iterate)`);
  const iterate = modifier !== undefined;
  const out: Include[] = [];
  for (const item of value.split(',')) {
    const spec = item.trim();
    if (spec === '*') {
      // Every reference of the matches (or, iterating, of every resource in the Bundle); reversed,
      // every resource that refers to one of them.
      if (reverse || iterate || contextTypes.includes('Resource')) out.push({ sourceType: '*', param: '*', targetType: undefined, iterate });
      else for (const t of contextTypes) out.push({ sourceType: t, param: '*', targetType: undefined, iterate });
      continue;
    }
    const [sourceType, param, targetType, extra] = spec.split(':');
    if (!sourceType || !param || extra !== undefined) return fail(`'${spec}' must be Type:parameter or Type:parameter:TargetType`);
    if (!isResourceType(sourceType)) fail(`${sourceType} is not a resource type`);
    if (!reverse && !iterate && !contextTypes.includes(sourceType)) fail(`${sourceType} is not a type being searched (use _include:iterate to follow included resources)`);
    if (param !== '*') {
      const def = searchParam(sourceType, param);
      if (!def || def.type !== 'reference') return fail(`${param} is not a reference parameter of ${sourceType}`);
      if (targetType !== undefined) {
        if (!isResourceType(targetType)) fail(`${targetType} is not a resource type`);
        if (def.targets.length > 0 && !def.targets.includes(targetType)) fail(`${sourceType}.${param} does not refer to ${targetType}`);
      }
    }
    out.push({ sourceType, param, targetType, iterate });
  }
  return out;
}

function parseElements(value: string, contextTypes: readonly string[]): string[] {
  const out: string[] = [];
  for (const item of value.split(',')) {
    let element = item.trim();
    if (element === '') continue;
    // R4 lists bare element names; `Patient.name` is accepted too, and `name.family` gives all of `name`.
    const dot = element.indexOf('.');
    if (dot >= 0 && contextTypes.includes(element.slice(0, dot))) element = element.slice(dot + 1);
    element = element.split('.')[0] ?? element;
    if (!/^[a-z][A-Za-z0-9]*$/.test(element)) fail(`'${item}' is not an element name`);
    out.push(element);
  }
  return out;
}

/** Splits on `sep` where it is not escaped by a backslash; the parts keep their escapes. */
export function splitUnescaped(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\' && i + 1 < text.length) {
      current += ch + (text[i + 1] as string);
      i++;
    } else if (ch === sep) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

/** Removes the escapes `\,` `\$` `\|` `\\`; any other backslash stays as it is. */
export function unescapeValue(text: string): string {
  return text.replace(/\\([,$|\\])/g, '$1');
}
