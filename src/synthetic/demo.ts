/**
 * The demo's synthetic residents: a small population of an ICB (Herefordshire and Worcestershire
 * by default), generated in memory and loaded into the FHIR store, so the demo ICS has residents
 * whose records come from their practice, the hospitals, the community and mental health trust,
 * the council and the ambulance service, each as that organisation's own copy.
 *
 * It runs the same stages as `npm run generate` (the same seed gives the same resources) and
 * streams them into `importNdjson`: Organizations first time they are referred to, then each
 * copy's Patient and records. Loading again changes nothing (identical resources make no new
 * version). `npm run load` (src/cli/load.ts) loads a population of any size the same way.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Database } from '../core/db/database.js';
import { type ImportProfile, type ImportResult, importNdjson } from '../fhir/bulk.js';
import { loadFhirDefinitions } from '../fhir/definitions.js';
import { type FhirWriteHook, FhirStore } from '../fhir/store.js';
import type { PlacedRecord } from './feeds.js';
import { HouseholdProducer } from './generate.js';
import { DEFAULT_AS_OF, type Resident } from './model.js';

/**
 * Residents in the demo: enough for every kind of holder and a few hundred matching problems,
 * few enough that a first start stays quick (about 1.3 s on the embedded engine, see README).
 */
export const DEMO_PEOPLE = 300;
export const DEMO_SEED = 20_261_123;
/** The demo ICS's ICB: Herefordshire and Worcestershire. */
export const DEMO_ICB = 'QGH';

export interface SyntheticDemoOptions {
  icb?: string;
  people?: number;
  seed?: number;
  asOf?: string;
  /** Filled with where the import's time went, when given (for benchmarks). */
  profile?: ImportProfile;
  /** The store's write hook (the access policy's, so that what the records establish is known). */
  onWrite?: FhirWriteHook;
  /**
   * Told of each resident as the truth the feeds were made from (for the demo's stand-in of the
   * national demographics service). When it returns a promise, generation waits for it, so a
   * caller can write residents in batches as they stream rather than keep them all.
   */
  onResident?: (resident: Resident) => void | Promise<void>;
  /** Resources a record implies (e.g. the pointer to a document it was written with), loaded just after it. */
  implied?: (record: PlacedRecord) => Resource[];
  /** Told of the counts so far after each resident's records are handed to the store. */
  onProgress?: (done: { residents: number; resources: number }) => void;
}

export interface SyntheticDemoResult extends ImportResult {
  residents: number;
  resources: number;
  ms: number;
}

/** Every resource of the population as NDJSON lines, household by household. */
async function* demoLines(producer: HouseholdProducer, counter: { residents: number; resources: number }, options: SyntheticDemoOptions): AsyncGenerator<string> {
  const organizations = new Set<string>();
  for (let index = 0; index < producer.households; index++) {
    for (const { resident, feeds } of producer.household(index)) {
      counter.residents += 1;
      const pending = options.onResident?.(resident);
      if (pending) await pending;
      for (const feed of feeds) {
        for (const org of feed.organizations) {
          if (organizations.has(org.id)) continue;
          organizations.add(org.id);
          counter.resources += 1;
          yield JSON.stringify(org);
        }
        counter.resources += 1 + feed.records.length;
        yield JSON.stringify(feed.patient);
        for (const record of feed.records) {
          yield record.json;
          for (const implied of options.implied?.(record) ?? []) {
            counter.resources += 1;
            yield JSON.stringify(implied);
          }
        }
      }
      options.onProgress?.({ ...counter });
    }
  }
}

/** Generates the demo population and loads it into the FHIR store of `db`. */
export async function loadSyntheticDemo(db: Database, options: SyntheticDemoOptions = {}): Promise<SyntheticDemoResult> {
  const started = performance.now();
  loadFhirDefinitions();
  const parameters = { icb: options.icb ?? DEMO_ICB, people: options.people ?? DEMO_PEOPLE, seed: options.seed ?? DEMO_SEED, asOf: options.asOf ?? DEFAULT_AS_OF };
  const producer = new HouseholdProducer(parameters);
  const counter = { residents: 0, resources: 0 };
  const result = await importNdjson(new FhirStore(db, options.onWrite ? { onWrite: options.onWrite } : {}), demoLines(producer, counter, options), { maxErrors: 5, ...(options.profile ? { profile: options.profile } : {}) });
  if (result.failed > 0) {
    // A generator bug, not a user's mistake: say which lines and why, without any patient data.
    const why = result.errors.map((e) => `line ${e.line}: ${e.issues.map((i) => `${i.expression ?? ''} ${i.diagnostics}`).join('; ')}`).join(' | ');
    throw new Error(`${result.failed} generated resources were refused by the FHIR store: ${why}`);
  }
  if (counter.residents !== parameters.people) {
    throw new Error(`the demo population has ${counter.residents} residents, not ${parameters.people}`);
  }
  return { ...result, residents: counter.residents, resources: counter.resources, ms: performance.now() - started };
}
