/**
 * The official FHIR R4 examples (the hl7.fhir.r4.examples package, 5,307 files) as a proof of
 * the whole server: every example the store's validator accepts is stored with its own id, reads
 * back unchanged, and is found by search by the values its own index rows hold.
 *
 * Loading: the instance examples (patients, observations, claims...) go through the real HTTP
 * PUT, update-as-create. The definitional ones (StructureDefinition, SearchParameter, ValueSet,
 * CodeSystem... about 4,500 of them) are written through the store in batches, with the same
 * `pending` + `writeVersions` a PUT uses, because one PUT each would take minutes on the embedded
 * engine. Examples over 1 MB (the specification's own definition Bundles, up to 35 MB) are left
 * out for the same reason: the embedded engine takes over a minute to write the largest.
 *
 * Search, over HTTP: a query per (type, parameter, value) built from the index rows (token
 * `system|code`, string by prefix, date `ge`start`&`le`end, reference `Type/id` or its URL,
 * quantity `value|system|code`, composites `a$b`), restricted by _id to the resources expected to
 * match and asking only for the total (_summary=count), which must then be all of them. Every
 * (type, parameter) that occurs is tried with its commonest value and one other: all 52,000
 * distinct values would take minutes.
 *
 * The counts (valid, accepted, read back, found per parameter type, and why anything was left
 * out) are printed when the file ends.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/support/app.js';
import { TABLE_FAMILIES, isResourceType, loadFhirDefinitions, searchParam } from './definitions.js';
import { FhirError } from './outcome.js';
import { type FhirResource, FhirStore, isValidId, stamp } from './store.js';

const require = createRequire(import.meta.url);
const EXAMPLES = path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));

/** Larger examples are left out: the embedded engine writes a 30 MB resource in over a minute. */
const MAX_EXAMPLE_BYTES = 1_000_000;

/** Definitional resources (conformance and terminology), written in batches through the store. */
const DEFINITIONAL = new Set([
  'CapabilityStatement', 'CodeSystem', 'CompartmentDefinition', 'ConceptMap', 'ExampleScenario', 'GraphDefinition', 'ImplementationGuide',
  'MessageDefinition', 'NamingSystem', 'OperationDefinition', 'SearchParameter', 'StructureDefinition', 'StructureMap', 'TerminologyCapabilities', 'ValueSet',
]);

/** A batch of the store write: few enough rows and bytes that the embedded engine stays quick. */
const BATCH_RESOURCES = 200;
const BATCH_BYTES = 1_000_000;
const HTTP_CONCURRENCY = 4;
/** Values tried per (type, parameter), and resources per query (their ids go in the URL). */
const VALUES_PER_PARAM = 2;
const IDS_PER_QUERY = 40;

interface Example {
  file: string;
  resource: Resource & { id: string };
  bytes: number;
}

interface Counts {
  files: number;
  notResource: number;
  typeNotServed: number;
  tooLarge: number;
  noValidId: number;
  duplicate: number;
  invalid: number;
  valid: number;
  acceptedByPut: number;
  acceptedByStore: number;
  readBackEqual: number;
}

const counts: Counts = { files: 0, notResource: 0, typeNotServed: 0, tooLarge: 0, noValidId: 0, duplicate: 0, invalid: 0, valid: 0, acceptedByPut: 0, acceptedByStore: 0, readBackEqual: 0 };
const invalidReasons = new Map<string, string[]>();
const skipped = { tooLarge: [] as string[], noValidId: [] as string[], duplicate: [] as string[], typeNotServed: [] as string[] };
/** Index rows no search can find, by design or by a known gap, with why. */
const leftOut = new Map<string, string[]>();
const findable = new Map<string, { queries: number; rows: number; found: number; notBuilt: number; incomplete: number }>();
let totalRows = 0;
const timings: Record<string, number> = {};

let t: TestApp;
let fhirBase: string;
let examples: Example[] = [];
const valid: Example[] = [];

beforeAll(async () => {
  loadFhirDefinitions();
  t = await startTestApp({ demo: 'none', fhirAccess: 'unrestricted' });
  fhirBase = `${t.url}/fhir`;
});

afterAll(async () => {
  await t.close();
  const lines = [
    `FHIR R4 examples: ${counts.files} files`,
    `  not a resource: ${counts.notResource}; type not served: ${counts.typeNotServed} ${skipped.typeNotServed.join(', ')}`,
    `  over ${MAX_EXAMPLE_BYTES / 1_000_000} MB, not loaded: ${counts.tooLarge} (${skipped.tooLarge.join(', ')})`,
    `  no valid id: ${counts.noValidId} ${skipped.noValidId.join(', ')}; same type and id as another file: ${counts.duplicate} ${skipped.duplicate.join(', ')}`,
    `  invalid per the store's validator: ${counts.invalid}`,
    ...[...invalidReasons].map(([reason, files]) => `    ${files.length} × ${reason} (${files.slice(0, 3).join(', ')}${files.length > 3 ? ', …' : ''})`),
    `  valid: ${counts.valid}; accepted by HTTP PUT: ${counts.acceptedByPut}; by the store in batches: ${counts.acceptedByStore}; read back equal: ${counts.readBackEqual}`,
    `  search: ${totalRows} index rows; by parameter type (queries, rows checked, found, rows no query could be built for):`,
    ...[...findable].sort().map(([type, f]) => `    ${type}: ${f.queries} queries, ${f.rows} rows, ${f.found} found, ${f.notBuilt} not built${f.incomplete ? `, ${f.incomplete} composite items without every component` : ''}`),
    ...[...leftOut].map(([reason, rows]) => `  left out, ${rows.length} rows: ${reason} (${rows.slice(0, 3).join('; ')})`),
    `  timings (s): ${Object.entries(timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(', ')}`,
  ];
  console.log(lines.join('\n'));
});

/** Every example file that is a resource of a type we serve, with a valid id of its own. */
function readExamples(): Example[] {
  const seen = new Set<string>();
  const out: Example[] = [];
  for (const file of readdirSync(EXAMPLES).sort()) {
    if (!file.endsWith('.json') || file === 'package.json') continue;
    counts.files++;
    const bytes = statSync(path.join(EXAMPLES, file)).size;
    if (bytes > MAX_EXAMPLE_BYTES) {
      counts.tooLarge++;
      skipped.tooLarge.push(file);
      continue;
    }
    let resource: unknown;
    try {
      resource = JSON.parse(readFileSync(path.join(EXAMPLES, file), 'utf8'));
    } catch {
      counts.notResource++;
      continue;
    }
    const type = (resource as { resourceType?: unknown } | null)?.resourceType;
    if (typeof type !== 'string') {
      counts.notResource++;
      continue;
    }
    if (!isResourceType(type)) {
      counts.typeNotServed++;
      skipped.typeNotServed.push(file);
      continue;
    }
    const id = (resource as { id?: unknown }).id;
    if (typeof id !== 'string' || !isValidId(id)) {
      counts.noValidId++;
      skipped.noValidId.push(file);
      continue;
    }
    if (seen.has(`${type}/${id}`)) {
      counts.duplicate++;
      skipped.duplicate.push(file);
      continue;
    }
    seen.add(`${type}/${id}`);
    out.push({ file, resource: resource as Resource & { id: string }, bytes });
  }
  return out;
}

/** Whether the store's validator accepts the example; if not, its first issue is counted as the reason. */
function validByStore(store: FhirStore, { file, resource }: Example): boolean {
  try {
    store.check(resource, resource.resourceType);
    counts.valid++;
    return true;
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    counts.invalid++;
    const issue = error.issues[0];
    const reason = `${error.status} ${issue?.code ?? ''}: ${(issue?.diagnostics ?? '').replace(/"[^"]*"/g, '"…"').slice(0, 100)}`;
    invalidReasons.set(reason, [...(invalidReasons.get(reason) ?? []), file]);
    return false;
  }
}

/** Runs `work` over the items, a few at a time (the server answers them concurrently). */
async function eachConcurrently<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: HTTP_CONCURRENCY }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

/** The resource without what the server sets: meta.versionId and meta.lastUpdated. */
function withoutServerMeta(resource: Resource): Resource {
  if (!resource.meta) return resource;
  const meta: Record<string, unknown> = { ...resource.meta };
  delete meta.versionId;
  delete meta.lastUpdated;
  const copy: Record<string, unknown> = { ...resource };
  if (Object.keys(meta).length > 0) copy.meta = meta;
  else delete copy.meta;
  return copy as unknown as Resource;
}

describe('the FHIR R4 examples', () => {
  it('are read: resources of the types we serve, with ids of their own', () => {
    const started = performance.now();
    examples = readExamples();
    timings.read = performance.now() - started;
    expect(counts.files).toBeGreaterThan(5000);
    expect(counts.files).toBe(counts.notResource + counts.typeNotServed + counts.tooLarge + counts.noValidId + counts.duplicate + examples.length);
  }, 120_000);

  it('are each, when the store validator finds them valid, accepted with their own id: instances by HTTP PUT, definitions by the store in batches', async () => {
    let started = performance.now();
    const store = new FhirStore(t.database.db);
    const failures: string[] = [];

    // Definitions: validated, then written a batch at a time; the next batch is validated while
    // the database writes the last one.
    const definitions = examples.filter((e) => DEFINITIONAL.has(e.resource.resourceType));
    const keys = await store.newKeys(definitions.length);
    const now = new Date();
    let batch: ReturnType<FhirStore['pending']>[] = [];
    let bytes = 0;
    let writing: Promise<void> = Promise.resolve();
    const flush = async (): Promise<void> => {
      const w0 = performance.now();
      await writing;
      timings.waitWrite = (timings.waitWrite ?? 0) + performance.now() - w0;
      const full = batch;
      batch = [];
      bytes = 0;
      if (full.length > 0) writing = store.writeVersions(full).then(() => void (counts.acceptedByStore += full.length));
    };
    for (const [i, example] of definitions.entries()) {
      const v0 = performance.now();
      const ok = validByStore(store, example);
      timings.validate = (timings.validate ?? 0) + performance.now() - v0;
      if (!ok) continue;
      valid.push(example);
      if (batch.length >= BATCH_RESOURCES || bytes + example.bytes > BATCH_BYTES) await flush();
      const p0 = performance.now();
      batch.push(store.pending(stamp(example.resource, example.resource.id, 1, now), keys[i] as number, 'PUT', false));
      timings.pending = (timings.pending ?? 0) + performance.now() - p0;
      bytes += example.bytes;
    }
    await flush();
    await writing;
    timings.definitions = performance.now() - started;

    started = performance.now();
    const instances = examples.filter((e) => !DEFINITIONAL.has(e.resource.resourceType) && validByStore(store, e));
    valid.push(...instances);
    await eachConcurrently(instances, async ({ file, resource }) => {
      const response = await fetch(`${fhirBase}/${resource.resourceType}/${resource.id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
        body: JSON.stringify(resource),
      });
      const text = await response.text();
      if (response.status === 201) counts.acceptedByPut++;
      else failures.push(`${file}: ${response.status} ${text.slice(0, 200)}`);
    });
    timings.instances = performance.now() - started;

    expect(failures).toEqual([]);
    expect(counts.valid + counts.invalid).toBe(examples.length);
    expect(counts.acceptedByPut + counts.acceptedByStore).toBe(counts.valid);
  }, 300_000);

  it('read back equal apart from meta.versionId and meta.lastUpdated', async () => {
    const started = performance.now();
    const mismatches: string[] = [];
    const compare = (example: Example, stored: Resource | undefined): void => {
      if (stored === undefined) mismatches.push(`${example.file}: not found`);
      else if (!sameJson(withoutServerMeta(stored), withoutServerMeta(example.resource))) mismatches.push(`${example.file}: differs`);
      else counts.readBackEqual++;
    };
    // Instances by HTTP GET; definitions from the resource tables (thousands of GETs take too long).
    await eachConcurrently(
      valid.filter((e) => !DEFINITIONAL.has(e.resource.resourceType)),
      async (example) => {
        const response = await fetch(`${fhirBase}/${example.resource.resourceType}/${example.resource.id}`);
        const body = (await response.json()) as Resource;
        compare(example, response.status === 200 ? body : undefined);
      },
    );
    const stored = new Map<string, Resource>();
    for (const family of TABLE_FAMILIES) {
      const rows = await t.database.db.query<{ resource_type: string; id: string; content: string }>(`SELECT resource_type, id, content FROM ${family}_resource WHERE NOT deleted`);
      for (const row of rows.rows) stored.set(`${row.resource_type}/${row.id}`, JSON.parse(row.content) as FhirResource);
    }
    for (const example of valid.filter((e) => DEFINITIONAL.has(e.resource.resourceType))) compare(example, stored.get(`${example.resource.resourceType}/${example.resource.id}`));
    timings.readBack = performance.now() - started;
    expect(mismatches).toEqual([]);
    expect(counts.readBackEqual).toBe(counts.valid);
  }, 300_000);

  it('are found by search by the values of their own index rows', async () => {
    let started = performance.now();
    const queries = await queriesFromIndexRows();
    timings.buildQueries = performance.now() - started;
    started = performance.now();
    const failures: string[] = [];
    await eachConcurrently(queries, async (q) => {
      // Restricted by _id to the resources expected, the total must be all of them.
      const url = `${fhirBase}/${q.type}?${q.query}&_id=${q.ids.join(',')}&_summary=count`;
      const response = await fetch(url, { headers: { prefer: 'handling=strict' } });
      const body = (await response.json()) as Bundle;
      const tally = findable.get(q.paramType) as { found: number };
      if (response.status !== 200) {
        failures.push(`${q.type}?${q.query}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
        return;
      }
      if (body.total === q.ids.length) tally.found += q.rows;
      else failures.push(`${q.type}?${q.query}: ${body.total ?? '?'} of ${q.ids.length} found (${q.ids.join(',')})`);
    });
    expect(failures).toEqual([]);
  }, 300_000);
});

// ---------------------------------------------------------------------------------------------
// Queries from index rows.

interface Query {
  type: string;
  paramType: string;
  /** `name=value` (or two, for a date range), already URL-encoded. */
  query: string;
  ids: string[];
  /** How many index rows (resource, value) this query checks. */
  rows: number;
}

interface IndexRow {
  resource_type: string;
  id: string;
  param: string;
  item: number;
  [column: string]: unknown;
}

/** Escapes a search value's `\ , $ |` (https://hl7.org/fhir/R4/search.html#escaping). */
function esc(text: string): string {
  return text.replace(/[\\,$|]/g, (c) => `\\${c}`);
}

function instant(value: unknown): string | undefined {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : undefined;
}

/** A string search matches a prefix, so a long value is cut (by code point) to keep the URL short. */
function prefixOf(text: string): string {
  return [...text].slice(0, 60).join('').trim();
}

/** The search value (without name) that should find a row of this index table, or undefined. */
type SearchValue = { modifier: string; value: string } | { range: [string | undefined, string | undefined] } | { leftOut: string };

function valueFor(table: string, row: Record<string, unknown>): SearchValue | undefined {
  const s = (column: string): string | undefined => {
    const value = row[column];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  switch (table) {
    case 'token': {
      const [system, code, display, ofType] = [s('system'), s('code'), s('display'), s('of_type')];
      if (ofType && code) return { modifier: ':of-type', value: `${ofType.split('|').map(esc).join('|')}|${esc(code)}` };
      if (code !== undefined) return { modifier: '', value: `${system !== undefined ? esc(system) : ''}|${esc(code)}` };
      if (system !== undefined) return { modifier: '', value: `${esc(system)}|` };
      if (display !== undefined && prefixOf(display) !== '') return { modifier: ':text', value: esc(prefixOf(display)) };
      return undefined;
    }
    case 'string': {
      const text = prefixOf(s('normalized') ?? '');
      return text === '' ? undefined : { modifier: '', value: esc(text) };
    }
    case 'date': {
      const low = instant(row.low);
      const high = instant(row.high);
      return low || high ? { range: [low, high] } : undefined;
    }
    case 'number':
      return s('value') !== undefined ? { modifier: '', value: s('value') as string } : undefined;
    case 'quantity': {
      const value = s('value');
      if (value === undefined) return undefined;
      const system = s('system');
      const code = s('code') ?? s('unit');
      return { modifier: '', value: code !== undefined ? `${value}|${system !== undefined ? esc(system) : ''}|${esc(code)}` : value };
    }
    case 'reference': {
      const [type, id, url] = [s('target_type'), s('target_id'), s('target_url')];
      if (url !== undefined) return /^[a-z][a-z0-9+.-]*:/i.test(url) || /\//.test(url) ? { modifier: '', value: esc(url) } : { leftOut: 'a reference that is a bare relative URL: indexed by URL, but search reads the value as an id' };
      if (type !== undefined && id !== undefined) return { modifier: '', value: `${type}/${id}` };
      return undefined;
    }
    case 'uri':
      return s('value') !== undefined ? { modifier: '', value: esc(s('value') as string) } : undefined;
    default:
      return undefined;
  }
}

/**
 * A composite's component takes one value: a date range becomes `ge` its start (or `le` its end),
 * which the range must meet; a token known only by its text cannot be a component.
 */
function componentValue(value: SearchValue | undefined): string | undefined {
  if (value === undefined || 'leftOut' in value) return undefined;
  if ('range' in value) {
    const [low, high] = value.range;
    return low ? `ge${low}` : high ? `le${high}` : undefined;
  }
  return value.modifier === '' ? value.value : undefined;
}

function queryText(name: string, value: SearchValue | undefined): string | undefined {
  if (value === undefined || 'leftOut' in value) return undefined;
  if ('range' in value) {
    const [low, high] = value.range;
    return [low ? `${name}=ge${low}` : undefined, high ? `${name}=le${high}` : undefined].filter((p) => p !== undefined).map(encodeQueryPart).join('&');
  }
  return encodeQueryPart(`${name}${value.modifier}=${value.value}`);
}

function encodeQueryPart(part: string): string {
  const eq = part.indexOf('=');
  return `${encodeURIComponent(part.slice(0, eq))}=${encodeURIComponent(part.slice(eq + 1))}`;
}

async function queriesFromIndexRows(): Promise<Query[]> {
  // (type, param) → query text → { ids, rows }
  const groups = new Map<string, Map<string, { ids: Set<string>; rows: number }>>();
  const paramTypeOf = new Map<string, string>();
  const composites = new Map<string, Map<number, Map<number, string>>>();
  const tally = (paramType: string): { queries: number; rows: number; found: number; notBuilt: number; incomplete: number } => {
    let f = findable.get(paramType);
    if (!f) findable.set(paramType, (f = { queries: 0, rows: 0, found: 0, notBuilt: 0, incomplete: 0 }));
    return f;
  };
  const add = (type: string, param: string, paramType: string, query: string, id: string): void => {
    const key = `${type} ${param}`;
    paramTypeOf.set(key, paramType);
    let byQuery = groups.get(key);
    if (!byQuery) groups.set(key, (byQuery = new Map<string, { ids: Set<string>; rows: number }>()));
    let group = byQuery.get(query);
    if (!group) byQuery.set(query, (group = { ids: new Set(), rows: 0 }));
    group.ids.add(id);
    group.rows++;
  };

  for (const family of TABLE_FAMILIES) {
    for (const table of ['token', 'string', 'date', 'number', 'quantity', 'reference', 'uri']) {
      const result = await t.database.db.query<IndexRow>(
        `SELECT r.resource_type, r.id, i.* FROM ${family}_${table} i JOIN ${family}_resource r USING (resource_key) WHERE NOT r.deleted`,
      );
      for (const row of result.rows) {
        totalRows++;
        const dollar = row.param.indexOf('$');
        if (dollar >= 0) {
          // A component of a composite: gathered per resource, parameter and item below.
          const value = valueFor(table, row);
          const key = `${row.resource_type}\u0000${row.id}\u0000${row.param.slice(0, dollar)}`;
          let items = composites.get(key);
          if (!items) composites.set(key, (items = new Map<number, Map<number, string>>()));
          let components = items.get(row.item);
          if (!components) items.set(row.item, (components = new Map<number, string>()));
          const index = Number(row.param.slice(dollar + 1));
          if (!components.has(index)) components.set(index, componentValue(value) ?? '\u0000');
          continue;
        }
        const value = valueFor(table, row);
        if (value !== undefined && 'leftOut' in value) {
          leftOut.set(value.leftOut, [...(leftOut.get(value.leftOut) ?? []), `${row.resource_type}/${row.id} ${row.param}`]);
          continue;
        }
        const query = queryText(row.param, value);
        if (query === undefined) {
          tally(table).notBuilt++;
          continue;
        }
        add(row.resource_type, row.param, table, query, row.id);
      }
    }
  }
  for (const [key, items] of composites) {
    const [type, id, code] = key.split('\u0000') as [string, string, string];
    const def = searchParam(type, code);
    for (const components of items.values()) {
      const parts = (def?.components ?? []).map((_, i) => components.get(i));
      // An element with no value for a component (an Observation whose value is not a Quantity,
      // for code-value-quantity) is rightly not found by the composite.
      if (parts.some((p) => p === undefined)) {
        tally('composite').incomplete++;
        continue;
      }
      if (!def || parts.some((p) => p === '\u0000')) {
        tally('composite').notBuilt++;
        continue;
      }
      add(type, code, 'composite', encodeQueryPart(`${code}=${parts.join('$')}`), id);
    }
  }

  const queries: Query[] = [];
  for (const [key, byQuery] of groups) {
    const type = key.split(' ')[0] as string;
    const paramType = paramTypeOf.get(key) as string;
    const f = tally(paramType);
    // The commonest value, and the first other one in a stable order.
    const ordered = [...byQuery].sort((a, b) => b[1].ids.size - a[1].ids.size || (a[0] < b[0] ? -1 : 1));
    const chosen = [ordered[0], ...ordered.slice(1).sort((a, b) => (a[0] < b[0] ? -1 : 1))].filter((g) => g !== undefined).slice(0, VALUES_PER_PARAM);
    for (const [query, group] of chosen) {
      const ids = [...group.ids].sort();
      for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
        const chunk = ids.slice(i, i + IDS_PER_QUERY);
        const rows = Math.round((group.rows * chunk.length) / ids.length);
        queries.push({ type, paramType, query, ids: chunk, rows });
        f.queries++;
        f.rows += rows;
      }
    }
  }
  return queries;
}

/** Equal as JSON: the same values, whatever the order of object keys. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
