import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type FhirPathAtom, type TypedValue, parseFhirPath, toTypedValue } from '@medplum/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type SearchParamDefinition, isResourceType, loadFhirDefinitions, resourceTypes, searchParam, searchParamsOf } from './definitions.js';
import { type CompiledExpression, compileComponentExpression, compileExpression, compileRelativeExpression, compileSearchExpression } from './fhirpath-compiler.js';

type Resource = { resourceType: string } & Record<string, unknown>;

beforeAll(() => loadFhirDefinitions());

function interpret(expression: FhirPathAtom, resource: object): TypedValue[] {
  return expression.eval({ variables: {} }, [toTypedValue(resource)]);
}

function param(type: string, code: string): SearchParamDefinition {
  const def = searchParam(type, code);
  if (!def?.expression) throw new Error(`no search parameter ${type}.${code}`);
  return def;
}

/** Compiled with the default (FHIRPath) semantics, or fails the test. */
function compiled(type: string, code: string): CompiledExpression {
  const def = param(type, code);
  const fn = def.expression && compileExpression(def.expression, type);
  if (!fn) throw new Error(`${type}.${code} did not compile`);
  return fn;
}

function compat(type: string, code: string): CompiledExpression {
  const def = param(type, code);
  const fn = def.expression && compileExpression(def.expression, type, { medplumCompatible: true });
  if (!fn) throw new Error(`${type}.${code} did not compile`);
  return fn;
}

/** Every (type, parameter) pair of R4, with its expression text. */
function allParams(): { type: string; code: string; def: SearchParamDefinition }[] {
  return resourceTypes().flatMap((type) => [...searchParamsOf(type)].map(([code, def]) => ({ type, code, def })));
}

/** A name for the shape of an expression: `Observation.code.coding` is `T.x.x`. */
function shapeOf(expressionText: string): string {
  return expressionText
    .split(' | ')
    .map((part) =>
      part
        .replace(/^\(?[A-Z][A-Za-z]*\./, (head) => `${head.startsWith('(') ? '(' : ''}T.`)
        .replace(/'[^']*'/g, "'s'")
        .replace(/\b[a-z][A-Za-z]*\b(?!\()/g, 'x'),
    )
    .join(' | ');
}

const CORE_TYPES = [
  'Patient', 'Observation', 'Encounter', 'Condition', 'MedicationRequest', 'Procedure', 'AllergyIntolerance', 'Immunization',
  'ServiceRequest', 'EpisodeOfCare', 'DocumentReference', 'Practitioner', 'Organization',
];

describe('coverage of the R4 search parameters', () => {
  it('compiles every parameter with an expression except Bundle.entry[0].resource, in both modes', () => {
    const params = allParams();
    const withExpression = params.filter((p) => p.def.expression);
    const fallbacks = withExpression.filter((p) => p.def.expression && !compileExpression(p.def.expression, p.type)).map((p) => `${p.type}.${p.code}`);
    const compatFallbacks = withExpression.filter((p) => p.def.expression && !compileExpression(p.def.expression, p.type, { medplumCompatible: true })).map((p) => `${p.type}.${p.code}`);
    expect(fallbacks).toEqual(['Bundle.composition', 'Bundle.message']);
    expect(compatFallbacks).toEqual(fallbacks);
    // 3020 pairs: 2581 have an expression, and the other 439 (_text, _content, _query) have none.
    expect(params.length - withExpression.length).toBeLessThan(500);
    expect((withExpression.length - fallbacks.length) / withExpression.length).toBeGreaterThan(0.99);

    if (process.env.OPENICS_FHIRPATH_SHAPES) {
      const shapes = new Map<string, { pairs: number; compiled: number; example: string }>();
      for (const p of withExpression) {
        const shape = shapeOf(p.def.expressionText);
        const row = shapes.get(shape) ?? { pairs: 0, compiled: 0, example: `${p.type}.${p.code}: ${p.def.expressionText}` };
        row.pairs++;
        if (!fallbacks.includes(`${p.type}.${p.code}`)) row.compiled++;
        shapes.set(shape, row);
      }
      console.log(`${withExpression.length - fallbacks.length} of ${withExpression.length} expressions compiled (${params.length} pairs)`);
      console.table([...shapes].sort((a, b) => b[1].pairs - a[1].pairs).map(([shape, row]) => ({ shape, ...row })));
    }
  });

  it('compiles every parameter of the core clinical and administrative types', () => {
    for (const type of CORE_TYPES) {
      for (const [code, def] of searchParamsOf(type)) {
        if (def.expression) expect(compileExpression(def.expression, type), `${type}.${code}`).toBeDefined();
      }
    }
  });
});

// -----------------------------------------------------------------------------------------------
// Against medplum, on the HL7 R4 examples.

interface Example {
  readonly name: string;
  readonly resource: Resource;
}

/** Largest example file read: the eight bigger ones are Bundles of definitions (100 MB). */
const MAX_FILE_BYTES = 3_000_000;
/** Examples per resource type checked against medplum for every parameter. */
const SAMPLE_PER_TYPE = 25;
/** After those, every tenth example is checked in full too. */
const THEN_EVERY = 10;

function isResource(value: unknown): value is Resource {
  return typeof value === 'object' && value !== null && typeof (value as { resourceType?: unknown }).resourceType === 'string' && isResourceType((value as Resource).resourceType);
}

/** The examples by type: each file's resource, the resources in its Bundle entries and its contained ones. */
function loadExamples(): Map<string, Example[]> {
  const dir = path.dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
  const byType = new Map<string, Example[]>();
  const add = (name: string, resource: unknown): void => {
    if (!isResource(resource)) return;
    const list = byType.get(resource.resourceType) ?? [];
    list.push({ name, resource });
    byType.set(resource.resourceType, list);
    const contained = Array.isArray(resource.contained) ? (resource.contained as unknown[]) : [];
    contained.forEach((r, i) => add(`${name} contained[${i}]`, r));
    const entries = resource.resourceType === 'Bundle' && Array.isArray(resource.entry) ? (resource.entry as { resource?: unknown }[]) : [];
    entries.forEach((e, i) => add(`${name} entry[${i}]`, e.resource));
  };
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.json') || file === 'package.json' || statSync(path.join(dir, file)).size > MAX_FILE_BYTES) continue;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    } catch {
      continue;
    }
    add(file, json);
  }
  return byType;
}

/**
 * Runs `check` on examples and the parameters of their type, deterministically, so that it takes
 * seconds yet checks every expression on the examples that exercise it: the first SAMPLE_PER_TYPE
 * examples of a type and every THEN_EVERY-th after them are checked in full (`full`); the others
 * only for parameters no example has exercised yet, and `check` compares with medplum only when
 * the compiled expression selects something. `check` says whether the example exercised the
 * parameter. Returns the parameters exercised, as `Type.code`.
 */
function forExamples<P>(
  examples: Map<string, Example[]>,
  paramsOf: (type: string) => readonly (readonly [string, P])[],
  check: (example: Example, code: string, p: P, full: boolean) => boolean,
): Set<string> {
  const exercised = new Set<string>();
  for (const [type, list] of examples) {
    const params = paramsOf(type);
    list.forEach((example, n) => {
      const full = n < SAMPLE_PER_TYPE || n % THEN_EVERY === 0;
      for (const [code, p] of params) {
        const key = `${type}.${code}`;
        if (!full && exercised.has(key)) continue;
        if (check(example, code, p, full)) exercised.add(key);
      }
    });
  }
  return exercised;
}

function describeValues(values: TypedValue[] | string): string {
  return (typeof values === 'string' ? values : JSON.stringify(values)).slice(0, 400);
}

const SYSTEM_TYPES: Record<string, string> = { DateTime: 'dateTime', Date: 'date', String: 'string', Boolean: 'boolean', Integer: 'integer', Decimal: 'decimal', Time: 'time' };

/**
 * The expression medplum evaluates to what FHIRPath means: `Resource.x` written as `Type.x` and
 * `x.as(T)` as the operator `(x as T)`, which medplum implements.
 */
function fhirPathRewrite(expressionText: string, type: string): string {
  return expressionText
    .replace(/\b(Resource|DomainResource)\./g, `${type}.`)
    .replace(/([A-Za-z][\w.]*)\.as\((\w+)\)/g, (_, p: string, t: string) => `(${p} as ${SYSTEM_TYPES[t] ?? t})`);
}

describe('compiled expressions against medplum on the HL7 R4 examples', () => {
  let examples: Map<string, Example[]>;
  beforeAll(() => {
    examples = loadExamples();
  }, 60_000);

  it('loads the examples', () => {
    const count = [...examples.values()].reduce((n, list) => n + list.length, 0);
    expect(count).toBeGreaterThan(5000);
    expect(examples.size).toBeGreaterThan(140);
  });

  it('with medplumCompatible, gives exactly what medplum gives', () => {
    const failures: string[] = [];
    const exercised = forExamples(
      examples,
      (type) =>
        [...searchParamsOf(type)].flatMap(([code, def]) => {
          const fn = def.expression && compileExpression(def.expression, type, { medplumCompatible: true });
          return fn && def.expression ? [[code, { expression: def.expression, fn }] as const] : [];
        }),
      (example, code, { expression, fn }, full) => {
        const actual = fn(example.resource);
        if (!full && actual.length === 0) return false;
        const expected = interpret(expression, example.resource);
        if (!isDeepStrictEqual(actual, expected)) {
          failures.push(`${example.name} ${code} = ${expression.original}\n  medplum:  ${describeValues(expected)}\n  compiled: ${describeValues(actual)}`);
        }
        return expected.length > 0 || actual.length > 0;
      },
    );
    expect(failures).toEqual([]);
    expect(exercised.size).toBeGreaterThan(1300);
  }, 60_000);

  it('by default, gives what medplum gives for the FHIRPath-correct expression, and absolute references too', () => {
    const failures: string[] = [];
    let absolute = 0;
    const exercised = forExamples(
      examples,
      (type) =>
        [...searchParamsOf(type)].flatMap(([code, def]) =>
          def.expression ? [[code, { def, oracle: parseFhirPath(fhirPathRewrite(def.expressionText, type)), fn: compileSearchExpression(def) }] as const] : [],
        ),
      (example, code, { def, oracle, fn }, full) => {
        let actual = fn(example.resource);
        if (!full && actual.length === 0) return false;
        const expected = interpret(oracle, example.resource);
        const target = /resolve\(\) is (\w+)/.exec(def.expressionText)?.[1];
        if (target) {
          // medplum never matches an absolute reference; the compiler does when it ends /Type/id.
          const isAbsolute = (v: TypedValue): boolean => String((v.value as { reference?: unknown }).reference).includes('://');
          for (const v of actual.filter(isAbsolute)) {
            absolute++;
            const reference = String((v.value as { reference?: unknown }).reference);
            if (!new RegExp(`/${target}/[^/]+$`).test(reference)) failures.push(`${example.name} ${code}: ${reference} is not a ${target}`);
          }
          actual = actual.filter((v) => !isAbsolute(v));
        }
        if (!isDeepStrictEqual(actual, expected)) {
          failures.push(`${example.name} ${code} = ${def.expressionText}\n  medplum:  ${describeValues(expected)}\n  compiled: ${describeValues(actual)}`);
        }
        return expected.length > 0 || actual.length > 0;
      },
    );
    expect(failures).toEqual([]);
    expect(exercised.size).toBeGreaterThan(1300);
    expect(absolute).toBeGreaterThan(0);
  }, 60_000);

  it('composite components: compiled per item type, as medplum (compatible) and as FHIRPath (default)', () => {
    const failures: string[] = [];
    let checked = 0;
    forExamples(
      examples,
      (type) => [...searchParamsOf(type)].filter(([, def]) => def.type === 'composite' && def.expression),
      (example, code, def) => {
        const items = compileSearchExpression(def)(example.resource);
        for (const item of items) {
          for (const component of def.components) {
            checked++;
            const run = (f: () => TypedValue[]): TypedValue[] | string => {
              try {
                return f();
              } catch (error) {
                return `throws ${(error as Error).message}`;
              }
            };
            const medplum = run(() => component.expression.eval({ variables: {} }, [item]));
            const strict = compileRelativeExpression(component.expression, item.type, { medplumCompatible: true });
            const compatible = strict ? run(() => strict(item)) : medplum;
            const oracle = run(() => parseFhirPath(fhirPathRewrite(component.expression.original, item.type)).eval({ variables: {} }, [item]));
            const actual = run(() => compileComponentExpression(component)(item));
            if (!isDeepStrictEqual(compatible, medplum)) failures.push(`${example.name} ${code} ${component.expression.original} (compatible): ${describeValues(medplum)} vs ${describeValues(compatible)}`);
            if (!isDeepStrictEqual(actual, oracle)) failures.push(`${example.name} ${code} ${component.expression.original}: ${describeValues(oracle)} vs ${describeValues(actual)}`);
          }
        }
        return items.length > 0;
      },
    );
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  }, 60_000);
});

// -----------------------------------------------------------------------------------------------
// The shapes, one by one.

describe('what a compiled expression gives', () => {
  const observation: Resource = {
    resourceType: 'Observation',
    id: 'bp',
    meta: { lastUpdated: '2024-05-01T10:00:00Z', tag: [{ system: 'urn:tags', code: 'import' }] },
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }], text: 'Blood pressure' },
    subject: { reference: 'Patient/p1' },
    effectivePeriod: { start: '2024-05-01T09:00:00Z' },
    valueString: 'normal',
    component: [
      { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120, unit: 'mmHg' } },
      { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 80, unit: 'mmHg' } },
      { code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }], text: 'Blood pressure' } },
    ],
  };

  it('reads a choice type by whichever value[x] is present, with its FHIR type', () => {
    expect(compiled('Observation', 'date')(observation)).toEqual([{ type: 'Period', value: { start: '2024-05-01T09:00:00Z' } }]);
    expect(compiled('Observation', 'value-string')(observation)).toEqual([{ type: 'string', value: 'normal' }]);
    expect(compiled('Observation', 'value-quantity')(observation)).toEqual([]);
    expect(compiled('Observation', 'component-value-quantity')(observation).map((v) => v.type)).toEqual(['Quantity', 'Quantity']);
  });

  it('flattens arrays and drops duplicates from a union by FHIRPath equality', () => {
    const codes = compiled('Observation', 'combo-code')(observation);
    expect(codes.map((v) => (v.value as { coding: { code: string }[] }).coding[0]?.code)).toEqual(['85354-9', '8480-6', '8462-4']);
    expect(codes).toEqual(interpret(param('Observation', 'combo-code').expression as FhirPathAtom, observation));
  });

  it('merges primitive extensions as medplum does (boxed primitives, element by element)', () => {
    const patient: Resource = {
      resourceType: 'Patient',
      birthDate: '1970-01-01',
      _birthDate: { extension: [{ url: 'http://example.org/accuracy', valueCode: 'estimated' }] },
      name: [{ given: ['Ann', 'Bea'], _given: [null, { extension: [{ url: 'http://example.org/x', valueString: 'y' }] }] }],
    };
    for (const code of ['birthdate', 'given']) {
      const def = param('Patient', code);
      expect(compiled('Patient', code)(patient), code).toEqual(interpret(def.expression as FhirPathAtom, patient));
    }
    const [birthDate] = compiled('Patient', 'birthdate')(patient);
    expect(birthDate?.type).toBe('date');
    expect(String(birthDate?.value)).toBe('1970-01-01');
    expect((birthDate?.value as { extension: unknown[] }).extension).toHaveLength(1);
  });

  it('keeps the telecom of one system with where(system=...)', () => {
    const patient: Resource = {
      resourceType: 'Patient',
      telecom: [{ system: 'phone', value: '0113 496 0000' }, { system: 'email', value: 'ann@example.org' }, { value: 'unknown' }],
    };
    expect(compiled('Patient', 'phone')(patient)).toEqual([{ type: 'ContactPoint', value: { system: 'phone', value: '0113 496 0000' } }]);
    expect(compiled('Patient', 'email')(patient)).toEqual([{ type: 'ContactPoint', value: { system: 'email', value: 'ann@example.org' } }]);
  });

  it('keeps the references to one type with where(resolve() is Patient)', () => {
    const subjects = [
      { reference: 'Patient/p1' },
      { reference: 'Patient/p1/_history/2' },
      { reference: 'Group/g1' },
      { reference: 'https://fhir.example.org/r4/Patient/p2' },
      { reference: 'https://fhir.example.org/r4/Patient/p2/_history/3' },
      { reference: 'https://fhir.example.org/r4/Group/g2' },
      { reference: 'Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009' },
      { type: 'Patient', identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' } },
      { reference: '#contained' },
      { reference: 'urn:uuid:6b0d4c6e-0c2f-4bd6-9c52-3f0d3d4d3e4f' },
      { display: 'no reference' },
    ];
    const patientOf = (subject: object): boolean => compiled('Observation', 'patient')({ resourceType: 'Observation', subject }).length === 1;
    const medplumPatientOf = (subject: object): boolean => compat('Observation', 'patient')({ resourceType: 'Observation', subject }).length === 1;
    expect(subjects.map(patientOf)).toEqual([true, true, false, true, true, false, true, true, false, false, false]);
    // medplum reads the type before the first '/', so it misses absolute references.
    expect(subjects.map(medplumPatientOf)).toEqual([true, true, false, false, false, false, true, true, false, false, false]);
    for (const subject of subjects) {
      const resource = { resourceType: 'Observation', subject };
      expect(compat('Observation', 'patient')(resource)).toEqual(interpret(param('Observation', 'patient').expression as FhirPathAtom, resource));
    }
  });

  it('computes Patient.deceased.exists() and Patient.deceased != false', () => {
    const deceased = compiled('Patient', 'deceased');
    const def = param('Patient', 'deceased');
    const cases: [Resource, boolean][] = [
      [{ resourceType: 'Patient' }, false],
      [{ resourceType: 'Patient', deceasedBoolean: false }, false],
      [{ resourceType: 'Patient', deceasedBoolean: true }, true],
      [{ resourceType: 'Patient', deceasedDateTime: '2020-02-02' }, true],
    ];
    for (const [patient, value] of cases) {
      expect(deceased(patient)).toEqual([{ type: 'boolean', value }]);
      expect(deceased(patient)).toEqual(interpret(def.expression as FhirPathAtom, patient));
    }
  });

  it('starts Resource.x at the resource (medplum gives nothing; medplumCompatible agrees with it)', () => {
    expect(compiled('Observation', '_id')(observation)).toEqual([{ type: 'string', value: 'bp' }]);
    expect(compiled('Observation', '_lastUpdated')(observation)).toEqual([{ type: 'instant', value: '2024-05-01T10:00:00Z' }]);
    expect(compiled('Observation', '_tag')(observation)).toEqual([{ type: 'Coding', value: { system: 'urn:tags', code: 'import' } }]);
    expect(compat('Observation', '_tag')(observation)).toEqual([]);
    expect(interpret(param('Observation', '_tag').expression as FhirPathAtom, observation)).toEqual([]);
  });

  it('makes x.as(T) keep values of type T (medplum returns them all)', () => {
    const condition: Resource = { resourceType: 'Condition', onsetDateTime: '2019-03-01' };
    expect(compiled('Condition', 'onset-date')(condition)).toEqual([{ type: 'dateTime', value: '2019-03-01' }]);
    expect(compiled('Condition', 'onset-age')(condition)).toEqual([]);
    expect(compiled('Condition', 'onset-info')(condition)).toEqual([]);
    expect(compat('Condition', 'onset-age')(condition)).toEqual([{ type: 'dateTime', value: '2019-03-01' }]);
    const aged: Resource = { resourceType: 'Condition', onsetAge: { value: 52, unit: 'a' } };
    expect(compiled('Condition', 'onset-age')(aged)).toEqual([{ type: 'Age', value: { value: 52, unit: 'a' } }]);
  });

  it('selects nothing from a resource of another type', () => {
    expect(compiled('Observation', 'code')({ resourceType: 'Condition', code: { text: 'x' } })).toEqual([]);
    expect(compiled('Observation', '_tag')({ resourceType: 'Condition', meta: { tag: [{ code: 'x' }] } })).toEqual([]);
  });
});

describe('compileSearchExpression', () => {
  it('caches one function per definition', () => {
    const def = param('Observation', 'code');
    expect(compileSearchExpression(def)).toBe(compileSearchExpression(def));
  });

  it('compiles for the type of each resource, so shared Resource.x parameters work on any type', () => {
    const tag = { system: 'urn:tags', code: 't' };
    expect(compileSearchExpression(param('Patient', '_tag'))({ resourceType: 'Patient', meta: { tag: [tag] } })).toEqual([{ type: 'Coding', value: tag }]);
    expect(compileSearchExpression(param('Observation', '_tag'))({ resourceType: 'Observation', meta: { tag: [tag] } })).toEqual([{ type: 'Coding', value: tag }]);
  });

  it("falls back to medplum's interpreter for what it does not compile", () => {
    const def = param('Bundle', 'composition');
    expect(def.expression && compileExpression(def.expression, 'Bundle')).toBeUndefined();
    const bundle = { resourceType: 'Bundle', type: 'document', entry: [{ resource: { resourceType: 'Composition', id: 'c1' } }] };
    expect(compileSearchExpression(def)(bundle)).toEqual(interpret(def.expression as FhirPathAtom, bundle));
    expect(compileSearchExpression(def)(bundle)).toEqual([{ type: 'Composition', value: { resourceType: 'Composition', id: 'c1' } }]);
  });

  it('gives nothing for a parameter without an expression', () => {
    const def = searchParam('Observation', '_text');
    expect(def?.expression).toBeUndefined();
    expect(def && compileSearchExpression(def)({ resourceType: 'Observation' })).toEqual([]);
  });
});
