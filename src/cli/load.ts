/**
 * `npm run load -- --icb QGH --people 20000 --seed 42 [--as-of YYYY-MM-DD]`: generates a synthetic
 * population (the same stages and resources as `npm run generate` with the same arguments) and
 * streams it into OpenICS's own database, the one `npm start` uses, the way the demo loads its
 * residents: `loadSyntheticDemo` through the platform's write hook, so each organisation's
 * Patient is linked by the master patient index as it arrives.
 *
 * Memory stays flat whatever --people is: households are generated one at a time, the residents'
 * true demographics go to the PDS stand-in in batches, and each emergency admission's discharge
 * summary pointer is written just after its Encounter (the demo's `loadDemoDocuments` instead
 * collects every admission of the store at the end, which does not scale to a whole ICB).
 *
 * Each batch of a thousand resources is its own transaction and identical resources make no new
 * version, so running the command again changes nothing, and resumes a load that was cut short.
 */
import { existsSync } from 'node:fs';
import type { Encounter, Resource } from '@medplum/fhirtypes';
import { ConfigError, loadConfig } from '../core/config.js';
import { type Database, DatabaseUnavailableError, openDatabase } from '../core/db/database.js';
import { migrate } from '../core/db/migrate.js';
import { loadDemo } from '../demo.js';
import { loadFhirDefinitions } from '../fhir/definitions.js';
import { dischargeSummaryReference, isEmergencyDischarge } from '../record/documents/index-documents.js';
import { loadPdsStandIn } from '../record/pds/index.js';
import { recordWriteHook } from '../record/write-hook.js';
import { loadSyntheticDemo } from '../synthetic/demo.js';
import type { PlacedRecord } from '../synthetic/feeds.js';
import { loadArea } from '../synthetic/geography.js';
import { PopulationConflict, claimPopulation, holdsPopulation, populationLoaded } from '../synthetic/population-registry.js';
import { DEFAULT_AS_OF, type Resident } from '../synthetic/model.js';
import { UsageError, duration, isMainModule, parseOptions, populationOptions } from './generate.js';
import { describeEstimate, estimateLoad, freeBytes, spaceProblem } from './load-estimate.js';

const USAGE = `usage: npm run load -- --icb <ICB code> --people <n> --seed <n> [--as-of YYYY-MM-DD]

Generates a synthetic population and loads it into the database npm start uses (DATABASE_URL,
else the embedded engine in OPENICS_DATA_DIR, default ./data; stop the server first on the
embedded engine). Migrates the database and, unless OPENICS_DEMO=false, loads the demo ICS first,
as npm start does.

  --icb       the ICB's ODS code, e.g. QGH (Herefordshire and Worcestershire)
  --people    how many residents, e.g. 20000
  --seed      any whole number; the same arguments give the same population as npm run generate
  --as-of     the day histories run up to (five years back from it); default ${DEFAULT_AS_OF}
  --no-space-check
              load even when the database's disk looks too small for the estimate
  --help      this text

Before loading it says how many resources, how much disk and roughly how long (measured on a
2-core machine), and refuses when the database's disk (the data directory, or a PostgreSQL server's
on this machine) has too little free space.

Loading is idempotent: running the same command again changes nothing, so a load that was
interrupted (Ctrl-C, a lost connection) is finished by running it again.

A database holds one synthetic population (synthetic NHS numbers would otherwise be shared by
different people): the load is refused, before anything is written, when the database already
holds another one (for example the demo's 300 residents, which npm start loads) or other Patients.
`;

export interface LoadArgs {
  icb: string;
  people: number;
  seed: number;
  asOf: string;
  /** False with --no-space-check: load even when the disk looks too small. */
  spaceCheck?: boolean;
}

/** The options of a load, or 'help'. Throws UsageError naming the option at fault. */
export function parseLoadArgs(args: string[]): LoadArgs | 'help' {
  const values = parseOptions(args, {
    icb: { type: 'string' },
    people: { type: 'string' },
    seed: { type: 'string' },
    'as-of': { type: 'string' },
    'no-space-check': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) return 'help';
  return { ...populationOptions(values), spaceCheck: values['no-space-check'] !== true };
}

/** Where the server keeps its files, when it runs on this machine and tells us (a superuser may read data_directory). */
async function serverDataDirectory(db: Database, url: string): Promise<string | undefined> {
  const host = new URL(url).hostname;
  if (host !== '' && host !== 'localhost' && host !== '127.0.0.1' && host !== '[::1]') return undefined;
  try {
    const { rows } = await db.query<{ dir: string | null }>("SELECT current_setting('data_directory', true) AS dir");
    const dir = rows[0]?.dir;
    return dir && existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Refuses (with the line to print) a load the database's disk cannot hold; a resumed load is not checked again. */
async function checkSpace(db: Database, options: LoadArgs, url: string | undefined, dataDir: string): Promise<string | undefined> {
  if (options.spaceCheck === false) return undefined;
  if (await holdsPopulation(db, options)) return undefined; // resuming: part of it is on disk already
  const estimate = estimateLoad(options.people, db.engine);
  if (db.engine === 'embedded') return spaceProblem(estimate, freeBytes(dataDir), `the data directory (${dataDir})`);
  const dir = url ? await serverDataDirectory(db, url) : undefined;
  return dir ? spaceProblem(estimate, freeBytes(dir), `PostgreSQL's data directory (${dir})`) : undefined;
}

/** What to do instead when the database holds another population (the end of PopulationConflict's message). */
const ANOTHER_DATABASE =
  'Load this one into a database of its own: on the embedded engine a new data directory (OPENICS_DATA_DIR=./data-qgh npm run load -- …, then OPENICS_DATA_DIR=./data-qgh npm start), on a server a new database (DATABASE_URL).';

/** Residents given to the PDS stand-in together: a batch's demographics are all it holds. */
const PDS_BATCH = 2000;

export interface LoadProgress {
  residents: number;
  people: number;
  /** Resources handed to the FHIR store (up to two batches of a thousand ahead of those committed). */
  resources: number;
  elapsedMs: number;
}

export interface LoadSummary {
  residents: number;
  resources: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  /** Discharge summary pointers (DocumentReferences) among the resources. */
  documents: number;
  ms: number;
}

export interface LoadOptions extends LoadArgs {
  /** Load the demo ICS first unless it is there, as `npm start` does (its OPENICS_DEMO). */
  demo: boolean;
  onProgress?: (progress: LoadProgress) => void;
  /** Checked before each resident: true stops the load there (it throws LoadInterrupted). */
  stopRequested?: () => boolean;
}

/** The load was asked to stop; what was committed stays, and the same command finishes it. */
export class LoadInterrupted extends Error {}

/** The pointer to the discharge summary an emergency admission's trust wrote (as loadDemoDocuments indexes). */
function dischargeSummaries(record: PlacedRecord): Resource[] {
  // Only inpatient Encounters can be; parsing nothing else keeps this off the load's time.
  if (record.type !== 'Encounter' || !record.json.includes('"IMP"')) return [];
  const encounter = JSON.parse(record.json) as Encounter;
  const document = isEmergencyDischarge(encounter) ? dischargeSummaryReference(encounter) : undefined;
  return document ? [document] : [];
}

/** Loads the population into `db` (migrated): the demo ICS first when `demo`, then the residents. */
export async function loadPopulation(db: Database, options: LoadOptions): Promise<LoadSummary> {
  if (options.demo) await loadDemo(db);
  const population = { icb: options.icb, seed: options.seed, people: options.people, asOf: options.asOf };
  // Before anything is written: this store must be empty of Patients or hold this same population.
  await claimPopulation(db, population, 'npm run load', ANOTHER_DATABASE);
  const started = performance.now();
  let documents = 0;
  let pending: Resident[] = [];
  const flushPds = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    if (batch.length > 0) await loadPdsStandIn(db, batch);
  };
  const result = await loadSyntheticDemo(db, {
    icb: options.icb,
    people: options.people,
    seed: options.seed,
    asOf: options.asOf,
    onWrite: recordWriteHook,
    onResident: (resident) => {
      if (options.stopRequested?.()) throw new LoadInterrupted('the load was interrupted');
      pending.push(resident);
      return pending.length >= PDS_BATCH ? flushPds() : undefined;
    },
    implied: (record) => {
      const found = dischargeSummaries(record);
      documents += found.length;
      return found;
    },
    onProgress: (done) => options.onProgress?.({ ...done, people: options.people, elapsedMs: performance.now() - started }),
  });
  await flushPds();
  await populationLoaded(db, population);
  return {
    residents: result.residents,
    resources: result.resources,
    created: result.created,
    updated: result.updated,
    unchanged: result.unchanged,
    failed: result.failed,
    documents,
    ms: performance.now() - started,
  };
}

const count = (n: number): string => Math.round(n).toLocaleString('en-GB');

function progressLine(p: LoadProgress): string {
  const percent = Math.floor((100 * p.residents) / p.people);
  const perSecond = (p.resources * 1000) / Math.max(1, p.elapsedMs);
  const left = p.residents > 0 && p.elapsedMs >= 2000 ? `about ${duration(((p.people - p.residents) * p.elapsedMs) / p.residents)} left` : 'estimating time left';
  return `loaded ${count(p.residents)} of ${count(p.people)} residents (${percent}%), ${count(p.resources)} resources, ${count(perSecond)} resources/s, ${left}`;
}

function summaryLine(s: LoadSummary): string {
  const peakMiB = process.resourceUsage().maxRSS / 1024;
  return (
    `loaded ${count(s.residents)} residents: ${count(s.resources)} resources (${count(s.created)} created, ${count(s.updated)} updated, ${count(s.unchanged)} unchanged, ${count(s.failed)} failed; ` +
    `${count(s.documents)} discharge summary pointers among them) in ${(s.ms / 1000).toFixed(1)} s, ${count((s.resources * 1000) / Math.max(1, s.ms))} resources/s, peak RSS ${count(peakMiB)} MiB`
  );
}

/** Refuses an ICB the reference data does not know, before the database is touched. */
function knownIcb(icb: string): void {
  try {
    loadArea(icb);
  } catch (error) {
    throw new UsageError(`--icb: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function run(args: string[]): Promise<number> {
  let options: ReturnType<typeof parseLoadArgs>;
  try {
    options = parseLoadArgs(args);
    if (options !== 'help') knownIcb(options.icb);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`openics load: ${error.message} (see --help)\n`);
      return 2;
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = loadConfig();
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write('\nopenics load: stopping after the batch being written (again to stop at once); run the same command to finish the load\n');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const tty = process.stderr.isTTY;
  let latest: LoadProgress | undefined;
  let reported: LoadProgress | undefined;
  const report = (): void => {
    if (!latest || latest === reported) return;
    reported = latest;
    process.stderr.write(tty ? `\r${progressLine(latest)}\u001b[K` : `${progressLine(latest)}\n`);
  };
  const timer = setInterval(report, tty ? 1000 : 5000);
  try {
    process.stderr.write(`openics load: preparing the ${db.engine === 'embedded' ? `embedded database in ${config.dataDir}` : 'PostgreSQL database'} as npm start does\n`);
    process.stderr.write(`openics load: ${describeEstimate(options.people, db.engine, estimateLoad(options.people, db.engine))}\n`);
    loadFhirDefinitions();
    await migrate(db);
    const tooBig = await checkSpace(db, options, config.databaseUrl, config.dataDir);
    if (tooBig) {
      process.stderr.write(`openics load: ${tooBig}\n`);
      return 1;
    }
    const summary = await loadPopulation(db, {
      ...options,
      demo: config.loadDemo,
      onProgress: (p) => (latest = p),
      stopRequested: () => stopping,
    });
    report();
    process.stderr.write(`${tty ? '\n' : ''}${summaryLine(summary)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof LoadInterrupted) {
      report();
      process.stderr.write(`${tty ? '\n' : ''}openics load: interrupted; what was loaded stays, and the same command finishes the load\n`);
      return 130;
    }
    throw error;
  } finally {
    clearInterval(timer);
    await db.close();
  }
}

if (isMainModule(import.meta.url)) {
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      const known = error instanceof ConfigError || error instanceof DatabaseUnavailableError || error instanceof PopulationConflict;
      process.stderr.write(`openics load: ${known ? error.message : `unexpected error: ${error instanceof Error ? error.message : String(error)}`}\n`);
      process.exit(1);
    },
  );
}
