/**
 * Helpers for the search tests (*.db.test.ts in this folder): run a query string as the HTTP
 * layer would, and read the ids out of the Bundle.
 */
import type { Bundle } from '@medplum/fhirtypes';
import type { Queryable } from '../../core/db/database.js';
import { FhirError } from '../outcome.js';
import { searchResources } from './execute.js';
import { parseSearchRequest } from './parse.js';

export const TEST_BASE = 'http://fhir.test/fhir';

export interface TestSearchOptions {
  strict?: boolean;
  now?: Date;
  /** See SearchOptions.maxResolvedTargets: 0 makes every chain one joined query. */
  maxResolvedTargets?: number;
}

/** Parses and runs a search; any issue in the query fails (use `searchLenient` to see them). */
export async function search(db: Queryable, type: string | undefined, query: string, options: TestSearchOptions = {}): Promise<Bundle> {
  const { request, issues } = parseSearchRequest(type, [...new URLSearchParams(query)], { strict: options.strict ?? true });
  if (issues.length > 0) throw new FhirError(400, issues);
  return searchResources(db, type, request, { baseUrl: TEST_BASE, now: options.now, maxResolvedTargets: options.maxResolvedTargets });
}

/** Parses leniently and runs the search, issues and all. */
export async function searchLenient(db: Queryable, type: string | undefined, query: string): Promise<Bundle> {
  const { request } = parseSearchRequest(type, [...new URLSearchParams(query)], { strict: false });
  return searchResources(db, type, request, { baseUrl: TEST_BASE });
}

/** The ids of the match entries, in Bundle order. */
export function matchIds(bundle: Bundle): string[] {
  return (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource?.id ?? '?');
}

/** The `Type/id` of the include entries, sorted. */
export function includeRefs(bundle: Bundle): string[] {
  return (bundle.entry ?? [])
    .filter((e) => e.search?.mode === 'include')
    .map((e) => `${e.resource?.resourceType ?? '?'}/${e.resource?.id ?? '?'}`)
    .sort();
}

/** The sorted ids a search matches (every page: _count is raised to the maximum). */
export async function ids(db: Queryable, type: string, query: string, options: TestSearchOptions = {}): Promise<string[]> {
  const bundle = await search(db, type, `${query}${query ? '&' : ''}_count=1000`, options);
  return matchIds(bundle).sort();
}
