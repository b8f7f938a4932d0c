/**
 * Search parameter expressions compiled to plain JavaScript.
 *
 * Why this exists: at write time the indexer takes the value of every search parameter of a
 * resource. Medplum's FHIRPath interpreter walks the expression tree for every resource and looks
 * up the StructureDefinitions at every step, which costs about 175 µs for the 45 parameters of an
 * Observation; bulk import wants 15,000 resources a second on 2 cores. Almost every R4 search
 * parameter is a handful of shapes (dotted paths through choice types, `as` type filters,
 * `where(resolve() is Patient)`, `where(system='phone')`, unions), so we do the schema look-ups
 * once, when the expression is compiled, and keep a chain of small closures that only read JSON.
 *
 * The result has the shape medplum's `eval` gives (`TypedValue[]`: FHIR type names such as
 * 'CodeableConcept', 'Reference', 'dateTime'; primitive extensions merged into boxed primitives;
 * unions without duplicates), and it is tested against medplum on every HL7 R4 example. Anything
 * the compiler does not understand makes `compileExpression` return `undefined`;
 * `compileSearchExpression` (what the indexer calls) then wraps medplum's interpreter instead, and
 * `compileComponentExpression` does the same for the components of composite parameters. Of the
 * 2581 R4 (type, parameter) pairs with an expression, only Bundle's `entry[0].resource` (an
 * indexer) falls back.
 *
 * Semantics. By default the compiler follows FHIRPath where medplum 4.5 does not, in three places
 * that matter for indexing (`medplumCompatible: true` reproduces medplum exactly):
 * - `Resource.x` and `DomainResource.x` (`_id`, `_lastUpdated`, `_tag`, `_profile`, `_security`,
 *   `_source`) start at the resource. Medplum gives nothing for them.
 * - `x.as(T)`, the function form, keeps only values of type T, like the `as` operator. Medplum
 *   returns its input unchanged, so `onset-age` would also get an `onsetDateTime`. System type
 *   names match their FHIR primitive (`as(DateTime)` keeps `dateTime`), and `Quantity` matches its
 *   R4 specialisations (Age, Duration, ...).
 * - `where(resolve() is T)` also accepts an absolute reference URL ending `/T/id` (or
 *   `/T/id/_history/v`). Medplum reads the type from the part before the first `/`.
 */
import {
  AndAtom,
  AsAtom,
  type Atom,
  DotAtom,
  EqualsAtom,
  type FhirPathAtom,
  FunctionAtom,
  type InternalSchemaElement,
  IsAtom,
  LiteralAtom,
  NotEqualsAtom,
  SymbolAtom,
  type TypedValue,
  UnionAtom,
  capitalize,
  fhirPathArrayEquals,
  fhirPathArrayNotEquals,
  fhirPathEquals,
  isEmpty,
  isQuantity,
  toTypedValue,
  tryGetDataType,
} from '@medplum/core';
import { type SearchParamComponent, type SearchParamDefinition } from './definitions.js';

/** A compiled expression: the values it selects from a resource, as medplum would type them. */
export type CompiledExpression = (resource: object) => TypedValue[];

/** A compiled composite component: the values it selects from one item of the composite. */
export type CompiledComponent = (item: TypedValue) => TypedValue[];

export interface CompileOptions {
  /** Reproduce medplum 4.5's interpreter exactly, including where it departs from FHIRPath. */
  readonly medplumCompatible?: boolean;
}

/**
 * Compiles an expression evaluated on resources of `resourceType`, or returns `undefined` when it
 * uses something the compiler does not cover (indexers, variables, most functions).
 */
export function compileExpression(expression: FhirPathAtom, resourceType: string, options: CompileOptions = {}): CompiledExpression | undefined {
  const sink = tryCompile(expression.child, resourceType, options);
  if (!sink) return undefined;
  return (resource) => {
    const out: TypedValue[] = [];
    sink(resource, resourceType, out);
    return out;
  };
}

/**
 * Compiles an expression evaluated on values of `type` (a composite's component on each item the
 * composite's own expression selected), or `undefined`.
 */
export function compileRelativeExpression(expression: FhirPathAtom, type: string, options: CompileOptions = {}): CompiledComponent | undefined {
  const sink = tryCompile(expression.child, type, options);
  if (!sink) return undefined;
  return (item) => {
    const out: TypedValue[] = [];
    sink(item.value, item.type, out);
    return out;
  };
}

const byDefinition = new WeakMap<SearchParamDefinition, CompiledExpression>();
const byComponent = new WeakMap<SearchParamComponent, CompiledComponent>();

/**
 * What the indexer calls: the parameter's expression compiled for the type of each resource it is
 * given (compiled once per definition and type), or medplum's interpreter where the compiler
 * falls back. A parameter without an expression (`_text`, `_content`, `_query`) selects nothing.
 */
export function compileSearchExpression(def: SearchParamDefinition): CompiledExpression {
  const cached = byDefinition.get(def);
  if (cached) return cached;
  const expression = def.expression;
  let compiled: CompiledExpression;
  if (!expression) {
    compiled = () => [];
  } else {
    const byType = new Map<unknown, CompiledExpression>();
    let lastType: unknown;
    let last: CompiledExpression | undefined;
    compiled = (resource) => {
      const type = (resource as { resourceType?: unknown }).resourceType;
      if (type === lastType && last) return last(resource);
      let fn = byType.get(type);
      if (!fn) {
        fn = (typeof type === 'string' ? compileExpression(expression, type) : undefined) ?? interpreted(expression);
        byType.set(type, fn);
      }
      lastType = type;
      last = fn;
      return fn(resource);
    };
  }
  byDefinition.set(def, compiled);
  return compiled;
}

/** The same for a composite parameter's component, compiled per type of item. */
export function compileComponentExpression(component: SearchParamComponent): CompiledComponent {
  const cached = byComponent.get(component);
  if (cached) return cached;
  const expression = component.expression;
  const byType = new Map<string, CompiledComponent>();
  const compiled: CompiledComponent = (item) => {
    let fn = byType.get(item.type);
    if (!fn) {
      fn = compileRelativeExpression(expression, item.type) ?? ((i: TypedValue): TypedValue[] => expression.eval({ variables: {} }, [i]));
      byType.set(item.type, fn);
    }
    return fn(item);
  };
  byComponent.set(component, compiled);
  return compiled;
}

function interpreted(expression: FhirPathAtom): CompiledExpression {
  return (resource) => expression.eval({ variables: {} }, [toTypedValue(resource)]);
}

// ---------------------------------------------------------------------------------------------
// The compiler. Everything is a Sink: given a value and its FHIR type, push what the expression
// selects from it. Types are known when compiling (the schema says what each element holds), so a
// step only reads properties; the one exception is an element of type Resource (contained,
// Bundle.entry.resource), whose type is its resourceType and known only at run time.

type Sink = (value: unknown, type: string, out: TypedValue[]) => void;
type Predicate = (value: unknown, type: string) => boolean;

class Unsupported extends Error {}

interface Context {
  readonly compat: boolean;
}

const NOTHING: Sink = () => undefined;

function tryCompile(atom: Atom, type: string, options: CompileOptions): Sink | undefined {
  try {
    return compileCollection(atom, type, { compat: options.medplumCompatible === true });
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

function unsupported(what: string): never {
  throw new Unsupported(what);
}

/** Any expression that yields a collection: a path, a union, or the boolean forms R4 uses. */
function compileCollection(atom: Atom, type: string, ctx: Context): Sink {
  if (atom instanceof UnionAtom) return union(compileCollection(atom.left, type, ctx), compileCollection(atom.right, type, ctx));
  if (atom instanceof AndAtom) return and(compileBoolean(atom.left, type, ctx), compileBoolean(atom.right, type, ctx));
  if (atom instanceof EqualsAtom || atom instanceof NotEqualsAtom) {
    if (!(atom.right instanceof LiteralAtom)) unsupported('comparison with something other than a literal');
    const left = compileCollection(atom.left, type, ctx);
    const literal = [atom.right.value];
    const compare = atom instanceof EqualsAtom ? fhirPathArrayEquals : fhirPathArrayNotEquals;
    return (value, valueType, out) => {
      const values: TypedValue[] = [];
      left(value, valueType, values);
      out.push(...compare(values, literal));
    };
  }
  const steps = flatten(atom);
  const last = steps[steps.length - 1];
  if (last?.kind === 'exists') {
    const path = buildChain(steps.slice(0, -1), 0, type, ctx);
    return (value, valueType, out) => {
      const values: TypedValue[] = [];
      path(value, valueType, values);
      out.push({ type: 'boolean', value: values.length > 0 && values.every((v) => !isEmpty(v.value)) });
    };
  }
  return buildChain(steps, 0, type, ctx);
}

/** `a | b`: both, without duplicates by FHIRPath equality. */
function union(left: Sink, right: Sink): Sink {
  return (value, type, out) => {
    const start = out.length;
    left(value, type, out);
    right(value, type, out);
    if (out.length - start > 1) out.push(...withoutDuplicates(out.splice(start)));
  };
}

/** medplum's removeDuplicates (the first of equal values stays), without its allocations. */
function withoutDuplicates(values: TypedValue[]): TypedValue[] {
  if (values.every((v) => typeof v.value === 'string')) {
    // Plain strings are equal when they are the same string (their types are not compared), so a
    // Set does it in linear time: a ValueSet's codes or a StructureDefinition's paths run to thousands.
    const seen = new Set<string>();
    return values.filter((v) => !seen.has(v.value as string) && seen.add(v.value as string));
  }
  const kept: TypedValue[] = [];
  next: for (const value of values) {
    for (const k of kept) if (fhirPathEqual(value, k)) continue next;
    kept.push(value);
  }
  return kept;
}

/** medplum's fhirPathEquals as a boolean. */
function fhirPathEqual(x: TypedValue, y: TypedValue): boolean {
  const a = valueOf(x.value);
  const b = valueOf(y.value);
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) < 1e-8;
  if (isQuantity(a) && isQuantity(b)) {
    return Math.abs((a.value as number) - (b.value as number)) < 0.01 && (a.unit === b.unit || a.code === b.code || a.unit === b.code || a.code === b.unit);
  }
  // medplum compares the two TypedValues deeply: their types, then their values.
  if (typeof a === 'object' && typeof b === 'object') return x.type === y.type && deepEquals(a as object, b as object);
  return a === b;
}

function valueOf(value: unknown): unknown {
  return value === null || value === undefined ? undefined : (value as { valueOf(): unknown }).valueOf();
}

function deepEquals(a: object, b: object): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    const x = (a as Record<string, unknown>)[key];
    const y = (b as Record<string, unknown>)[key];
    if (isObject(x) && isObject(y)) {
      if (!deepEquals(x, y)) return false;
    } else if (x !== y) {
      return false;
    }
  }
  return true;
}

/** `a and b` over boolean singletons: true, false or empty, as FHIRPath's three-valued logic. */
function and(left: Sink, right: Sink): Sink {
  return (value, type, out) => {
    const l: TypedValue[] = [];
    const r: TypedValue[] = [];
    left(value, type, l);
    right(value, type, r);
    const a: unknown = l[0]?.value;
    const b: unknown = r[0]?.value;
    if (a === true && b === true) out.push({ type: 'boolean', value: true });
    else if (a === false || b === false) out.push({ type: 'boolean', value: false });
  };
}

/** An operand of `and`: something that yields one boolean or nothing. */
function compileBoolean(atom: Atom, type: string, ctx: Context): Sink {
  const isBoolean = atom instanceof AndAtom || atom instanceof EqualsAtom || atom instanceof NotEqualsAtom || flatten(atom).at(-1)?.kind === 'exists';
  if (!isBoolean) unsupported(`and over ${atom.toString()}`);
  return compileCollection(atom, type, ctx);
}

type Step =
  | { readonly kind: 'symbol'; readonly name: string }
  | { readonly kind: 'ofType'; readonly type: string; readonly fn: boolean }
  | { readonly kind: 'where'; readonly criteria: Atom }
  | { readonly kind: 'exists' };

/** `a.b.where(c).as(T)` as a list of steps, or Unsupported for anything else. */
function flatten(atom: Atom): Step[] {
  if (atom instanceof SymbolAtom) {
    if (atom.name.startsWith('$') || atom.name.startsWith('%')) unsupported(`variable ${atom.name}`);
    return [{ kind: 'symbol', name: atom.name }];
  }
  if (atom instanceof DotAtom) {
    if (!(atom.right instanceof SymbolAtom || atom.right instanceof FunctionAtom)) unsupported('a path step that is not a name or function');
    return [...flatten(atom.left), ...flatten(atom.right)];
  }
  if (atom instanceof AsAtom) {
    if (!(atom.right instanceof SymbolAtom)) unsupported('as without a type name');
    return [...flatten(atom.left), { kind: 'ofType', type: atom.right.name, fn: false }];
  }
  if (atom instanceof FunctionAtom) {
    const [arg, ...rest] = atom.args;
    if (rest.length > 0) unsupported(`${atom.name} with more than one argument`);
    switch (atom.name) {
      case 'where':
        if (!arg) unsupported('where without criteria');
        return [{ kind: 'where', criteria: arg }];
      case 'as':
      case 'ofType':
        if (!(arg instanceof SymbolAtom)) unsupported(`${atom.name} without a type name`);
        return [{ kind: 'ofType', type: arg.name, fn: atom.name === 'as' }];
      case 'exists':
        if (arg) unsupported('exists with criteria');
        return [{ kind: 'exists' }];
      default:
        return unsupported(`function ${atom.name}()`);
    }
  }
  return unsupported(`expression ${atom.toString()}`);
}

/** The sink for steps[i..] applied to values of `type`. */
function buildChain(steps: readonly Step[], i: number, type: string, ctx: Context): Sink {
  const step = steps[i];
  if (!step) return push;
  switch (step.kind) {
    case 'symbol':
      return /^[A-Z]/.test(step.name) ? typeTest(steps, i, step.name, type, ctx) : navigate(steps, i, step.name, type, ctx);
    case 'ofType': {
      if (step.fn && ctx.compat) return buildChain(steps, i + 1, type, ctx); // medplum: as() returns its input
      if (type === 'Resource') {
        const next = buildChain(steps, i + 1, step.type, ctx);
        return (value, valueType, out) => (typeMatches(valueType, step.type, ctx) ? next(value, valueType, out) : undefined);
      }
      // The type is known here, so the filter is decided now; what it lets through keeps its type.
      return typeMatches(type, step.type, ctx) ? buildChain(steps, i + 1, type, ctx) : NOTHING;
    }
    case 'where': {
      const test = predicate(step.criteria, type, ctx);
      const next = buildChain(steps, i + 1, type, ctx);
      return (value, valueType, out) => (test(value, valueType) ? next(value, valueType, out) : undefined);
    }
    case 'exists':
      return unsupported('exists() before the end of a path');
    default:
      return step satisfies never;
  }
}

function push(value: unknown, type: string, out: TypedValue[]): void {
  out.push({ type, value });
}

/** `Observation.…` at the start: the resource itself when it is one (medplum's `isResource`). */
function typeTest(steps: readonly Step[], i: number, name: string, type: string, ctx: Context): Sink {
  if (i !== 0) unsupported(`type name ${name} inside a path`);
  if (name === 'Resource' || name === 'DomainResource') {
    if (ctx.compat) return NOTHING; // medplum: no element called Resource
    const next = buildChain(steps, i + 1, type, ctx);
    return (value, valueType, out) => (isObject(value) && value.resourceType === type ? next(value, valueType, out) : undefined);
  }
  const next = buildChain(steps, i + 1, name, ctx);
  return (value, _valueType, out) => (isObject(value) && value.resourceType === name ? next(value, name, out) : undefined);
}

interface Candidate {
  /** The JSON property: `value[x]` resolved to `valueQuantity`, say. */
  readonly key: string;
  readonly extensionKey: string;
  readonly type: string;
  readonly next: Sink;
}

/**
 * One element of `type` by name, as medplum's getTypedPropertyValueWithSchema reads it: the first
 * of the element's types whose property (or `_property`) is present; primitive extensions merged
 * in; empty values dropped; arrays flattened.
 */
function navigate(steps: readonly Step[], i: number, name: string, type: string, ctx: Context): Sink {
  if (type === 'Resource') unsupported(`.${name} on a Resource whose type is known only at run time`);
  const schema = tryGetDataType(type);
  const element = schema ? elementNamed(schema.elements, name) : undefined;
  if (!element || element.type.length === 0) unsupported(`${type}.${name} is not in the schema`);
  const last = element.path.substring(element.path.lastIndexOf('.') + 1);
  const candidates: Candidate[] = element.type.map((t) => {
    const key = last.replace('[x]', capitalize(t.code));
    const resultType = t.code === 'Element' || t.code === 'BackboneElement' ? (element.type[0]?.code ?? t.code) : t.code;
    return { key, extensionKey: `_${key}`, type: resultType, next: buildChain(steps, i + 1, resultType, ctx) };
  });
  const [only] = candidates;
  if (candidates.length === 1 && only) {
    return (value, _type, out) => {
      if (!isObject(value)) return;
      const v = value[only.key];
      const extension = value[only.extensionKey];
      if (v === undefined && extension === undefined) return;
      emit(only, v, extension, out);
    };
  }
  return (value, _type, out) => {
    if (!isObject(value)) return;
    for (const candidate of candidates) {
      const v = value[candidate.key];
      const extension = value[candidate.extensionKey];
      if (v === undefined && extension === undefined) continue;
      emit(candidate, v, extension, out);
      return;
    }
  };
}

function emit(candidate: Candidate, raw: unknown, extension: unknown, out: TypedValue[]): void {
  const value = extension ? withPrimitiveExtension(raw, extension) : raw;
  if (isEmptyValue(value)) return;
  const { type, next } = candidate;
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) {
      if (item !== undefined) next(item, type === 'Resource' ? resourceTypeOf(item) : type, out);
    }
  } else {
    next(value, type === 'Resource' ? resourceTypeOf(value) : type, out);
  }
}

/** medplum's getElementDefinitionFromElements. */
function elementNamed(elements: Record<string, InternalSchemaElement>, name: string): InternalSchemaElement | undefined {
  const exact = elements[name] ?? elements[`${name}[x]`];
  if (exact) return exact;
  for (let i = 0; i < name.length; i++) {
    const c = name.charAt(i);
    if (c >= 'A' && c <= 'Z') {
      const choice = elements[`${name.slice(0, i)}[x]`];
      if (choice) return choice;
    }
  }
  return undefined;
}

function resourceTypeOf(value: unknown): string {
  return isObject(value) && 'resourceType' in value ? String(value.resourceType) : 'Resource';
}

/**
 * `birthDate` with `_birthDate`: medplum assigns the extension's properties onto the primitive
 * (giving a boxed String, Number or Boolean), element by element for arrays.
 */
function withPrimitiveExtension(raw: unknown, extension: unknown): unknown {
  if (Array.isArray(raw)) {
    const copy: unknown[] = raw.slice();
    const extensions = extension as unknown[];
    for (let i = 0; i < Math.max(copy.length, extensions.length); i++) copy[i] = assignExtension(copy[i], extensions[i]);
    return copy;
  }
  if (!raw && Array.isArray(extension)) return (extension as unknown[]).map((e) => assignExtension(undefined, e));
  return assignExtension(raw, extension);
}

function assignExtension(target: unknown, extension: unknown): unknown {
  if (!extension) return target;
  if (typeof extension !== 'object') throw new Error('Primitive extension must be an object');
  Reflect.deleteProperty(extension, '__proto__');
  Reflect.deleteProperty(extension, 'constructor');
  return Object.assign(target ?? {}, extension);
}

/** medplum's isEmpty, without building the key list. */
function isEmptyValue(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'string') return v === '';
  if (typeof v !== 'object') return false;
  if ('length' in v && (v as { length: number }).length > 0) return false;
  for (const key in v) if (Object.hasOwn(v, key)) return false;
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

// ---------------------------------------------------------------------------------------------
// Types.

const SYSTEM_TYPES: Readonly<Record<string, string>> = {
  Boolean: 'boolean',
  String: 'string',
  Integer: 'integer',
  Decimal: 'decimal',
  Date: 'date',
  DateTime: 'dateTime',
  Time: 'time',
};

/** The R4 profiles of Quantity that appear as element types. */
const QUANTITY_TYPES = new Set(['Quantity', 'Age', 'Count', 'Distance', 'Duration', 'MoneyQuantity', 'SimpleQuantity']);

/** `as T` / `ofType(T)`: medplum compares type names exactly. */
function typeMatches(actual: string, wanted: string, ctx: Context): boolean {
  if (actual === wanted) return true;
  if (ctx.compat) return false;
  const name = wanted.replace(/^(System|FHIR)\./, '');
  if (actual === name || actual === SYSTEM_TYPES[name]) return true;
  return name === 'Quantity' && QUANTITY_TYPES.has(actual);
}

// ---------------------------------------------------------------------------------------------
// where() criteria.

/** fhirPathIs special-cases these names; resource type names compare with the resolved type. */
const SPECIAL_IS_TYPES = new Set(['Boolean', 'Decimal', 'Integer', 'Date', 'DateTime', 'Time', 'Period', 'Quantity']);

function predicate(criteria: Atom, type: string, ctx: Context): Predicate {
  // resolve() is Patient
  if (criteria instanceof IsAtom && criteria.left instanceof FunctionAtom && criteria.left.name === 'resolve' && criteria.left.args.length === 0 && criteria.right instanceof SymbolAtom) {
    const target = criteria.right.name;
    if (!/^[A-Z][A-Za-z]*$/.test(target) || SPECIAL_IS_TYPES.has(target)) unsupported(`resolve() is ${target}`);
    return (value) => resolvedTypeIs(value, target, ctx);
  }
  // system = 'phone'
  if (criteria instanceof EqualsAtom && criteria.right instanceof LiteralAtom) {
    const left = buildChain(flatten(criteria.left), 0, type, ctx);
    const literal = criteria.right.value;
    return (value, valueType) => {
      const values: TypedValue[] = [];
      left(value, valueType, values);
      const [only] = values;
      return values.length === 1 && only !== undefined && fhirPathEquals(only, literal)[0]?.value === true;
    };
  }
  return unsupported(`where(${criteria.toString()})`);
}

const ABSOLUTE_REFERENCE = /\/([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** `resolve() is T` without resolving: the type a reference (or URL string) names, as medplum reads it. */
function resolvedTypeIs(value: unknown, target: string, ctx: Context): boolean {
  let reference: unknown;
  if (typeof value === 'string') {
    reference = value;
  } else if (isObject(value)) {
    if (value.resource) {
      const resolved = toTypedValue(value.resource);
      return resolved.type === target || (isObject(resolved.value) && resolved.value.resourceType === target);
    }
    if (value.reference) {
      reference = value.reference;
    } else if (value.type && value.identifier) {
      const identifier = value.identifier as { system?: string; value?: string };
      reference = `${value.type as string}?identifier=${identifier.system as string}|${identifier.value as string}`;
    }
  }
  if (typeof reference !== 'string') return false;
  if (reference.includes('?')) return reference.split('?')[0] === target;
  if (!ctx.compat && reference.includes('://')) return ABSOLUTE_REFERENCE.exec(reference)?.[1] === target;
  if (reference.includes('/')) return reference.split('/')[0] === target;
  return false;
}
