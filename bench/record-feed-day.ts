/**
 * A day's partner feeds for the whole demo ICS (issue 6: "a day's feeds for the whole demo ICS
 * (all partners, about 820,000 residents) load in minutes, not hours; measure and record it").
 *
 *   npx tsx bench/record-feed-day.ts                                   # 10,000 residents × 82 days, embedded
 *   npx tsx bench/record-feed-day.ts --people 2000 --days 410          # the same resident-days, fewer people
 *   npx tsx bench/record-feed-day.ts --url postgres://127.0.0.1:5432/test   # a fresh schema on a server
 *
 * The day is built from the generator honestly: N residents' records of the last D days of the
 * window (N × D ≈ 820,000 resident-days ≈ one day of 820,000 residents' activity), and for each
 * resident with activity at a holder, that holder's Patient (its demographics) with them.
 * Acute, community, mental health and ambulance trusts send transaction Bundles (up to 1,000
 * entries, PUT by id, as a PAS or EPR interface engine would); GP practices and councils send
 * NDJSON ($import). Each holder's messages are processed as that holder's backend client:
 * the access policy for a client of that organisation, meta.source and provenance from a feed
 * session, and the platform's write hook (access policy tables + master patient index).
 *
 * In-process, not over HTTP: the same functions the /fhir routes call (processBundle,
 * importNdjson) with the same store options; HTTP would add JSON parsing of the body and a
 * token lookup per request (a few ms per message of up to 1,000 resources), and on this
 * two-core machine a client process would compete with the server for the CPU, so the
 * measurement would say more about the machine than about OpenICS.
 *
 * Then each message is sent again (the retry a feed makes after a timeout): the time of a day's
 * feed that changes nothing, and a check that it writes no version and no Provenance.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import pg from 'pg';
import type { AccessContext } from '../src/access/context.js';
import { fhirAccessFor } from '../src/access/policy/fhir-policy.js';
import { type Database, type Queryable, openDatabase } from '../src/core/db/database.js';
import { migrate } from '../src/core/db/migrate.js';
import { type ImportProfile, importNdjson } from '../src/fhir/bulk.js';
import { processBundle } from '../src/fhir/bundle.js';
import { loadFhirDefinitions } from '../src/fhir/definitions.js';
import { FhirStore, type FhirWriteHook } from '../src/fhir/store.js';
import { FeedSession } from '../src/record/feeds/session.js';
import { recordWriteHook } from '../src/record/write-hook.js';
import { loadDemoIcs } from '../src/structure/commands.js';
import { recordDate } from '../src/synthetic/feeds.js';
import { DEMO_SEED } from '../src/synthetic/demo.js';
import { HouseholdProducer } from '../src/synthetic/generate.js';
import { DEFAULT_AS_OF } from '../src/synthetic/model.js';

const { values } = parseArgs({
  options: {
    people: { type: 'string', default: '10000' },
    days: { type: 'string', default: '82' },
    icb: { type: 'string', default: 'QGH' },
    url: { type: 'string' },
    'bundle-size': { type: 'string', default: '1000' },
  },
});
const people = Number(values.people);
const days = Number(values.days);
const bundleSize = Number(values['bundle-size']);
const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const n = (x: number): string => Math.round(x).toLocaleString('en-GB');

/** One holder's day: its Patients and records, as the messages it sends. */
interface HolderDay {
  holder: string;
  kind: string;
  resources: Resource[];
  /** The holder's Patients as they stood before the day (loaded first, untimed). */
  before: Resource[];
}

function buildDay(): { holders: Map<string, HolderDay>; residentsActive: number; ms: number } {
  const started = performance.now();
  const producer = new HouseholdProducer({ icb: values.icb ?? 'QGH', people, seed: DEMO_SEED, asOf: DEFAULT_AS_OF });
  const from = new Date(Date.parse(`${DEFAULT_AS_OF}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
  const holders = new Map<string, HolderDay>();
  let residentsActive = 0;
  for (let index = 0; index < producer.households; index++) {
    for (const { feeds } of producer.household(index)) {
      let active = false;
      for (const feed of feeds) {
        const recent = feed.records.map((r) => JSON.parse(r.json) as Resource).filter((r) => (recordDate(r) ?? '') >= from);
        if (recent.length === 0) continue;
        active = true;
        const day = holders.get(feed.holder) ?? { holder: feed.holder, kind: feed.kind, resources: [], before: [] };
        day.resources.push(feed.patient, ...recent);
        // Before the day the holder had this resident without today's address and phone: the day updates them.
        const earlier: Partial<typeof feed.patient> = { ...feed.patient };
        delete earlier.address;
        delete earlier.telecom;
        day.before.push(earlier);
        holders.set(feed.holder, day);
      }
      if (active) residentsActive += 1;
    }
  }
  return { holders, residentsActive, ms: performance.now() - started };
}

/** Trusts' systems send transaction Bundles; practices' and councils' send NDJSON. */
function sendsBundles(kind: string): boolean {
  return !/gp|practice|council|social/i.test(kind);
}

function clientOf(holder: string): AccessContext {
  return { kind: 'client', subject: `bench-feed-${holder}`, display: `${holder} feed`, organisation: holder, scopes: [{ context: 'system', type: '*', actions: 'cruds' }], purpose: 'HSYSADMIN', clientId: `bench-feed-${holder}` };
}

interface Pass {
  ms: number;
  /** Inside the platform's write hook (access policy tables, master patient index). */
  hookMs: number;
  /** Writing the Provenance of each message. */
  provenanceMs: number;
  /** NDJSON: where $import's time went. */
  profile: ImportProfile;
  bundleMs: number;
  ndjsonMs: number;
  resources: number;
  messages: number;
  failed: number;
}

/** The platform's write hook, then the session's provenance, each timed. */
function timedHook(pass: Pass, session: FeedSession): FhirWriteHook {
  return async (q, written) => {
    let t = performance.now();
    await recordWriteHook(q, written);
    pass.hookMs += performance.now() - t;
    t = performance.now();
    await session.written(q, written);
    pass.provenanceMs += performance.now() - t;
  };
}

async function loadDay(db: Database, holders: Map<string, HolderDay>): Promise<Pass> {
  const pass: Pass = { ms: 0, hookMs: 0, provenanceMs: 0, profile: { parseMs: 0, validateMs: 0, indexMs: 0, writeMs: 0, waitMs: 0 }, bundleMs: 0, ndjsonMs: 0, resources: 0, messages: 0, failed: 0 };
  const started = performance.now();
  for (const day of holders.values()) {
    const access = clientOf(day.holder);
    const policy = fhirAccessFor(access, db);
    const sender = { clientId: access.clientId as string, display: access.display, organisation: day.holder };
    const t = performance.now();
    if (sendsBundles(day.kind)) {
      for (let i = 0; i < day.resources.length; i += bundleSize) {
        const chunk = day.resources.slice(i, i + bundleSize);
        const session = new FeedSession(db, sender, { method: 'POST', endpoint: '/fhir', contentType: 'application/fhir+json', scopes: 'system/*.cruds' });
        const touched = new Set<number>();
        const store = new FhirStore(db, { access: policy, touched, onWrite: timedHook(pass, session) });
        const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: chunk.map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id ?? ''}` } })) };
        session.hold();
        try {
          const beforeCommit = async (q: Queryable): Promise<void> => {
            const started = performance.now();
            await session.release(q);
            pass.provenanceMs += performance.now() - started;
          };
          await processBundle(store, bundle, { baseUrl: 'http://bench/fhir', preferReturn: 'minimal', prepare: (r) => session.prepare(r), beforeCommit });
          // As the route's access.done(): the message in the audit trail, with the residents it touched.
          await policy.record({ interaction: 'transaction', outcome: 'success', what: 'Bundle (transaction)', patientKeys: [...touched] });
        } catch (error) {
          pass.failed += chunk.length;
          if (pass.failed <= chunk.length) console.error(`a ${day.holder} Bundle failed:`, JSON.stringify((error as { issues?: unknown }).issues ?? String(error)).slice(0, 400));
        }
        pass.messages += 1;
        pass.resources += chunk.length;
      }
      pass.bundleMs += performance.now() - t;
    } else {
      const session = new FeedSession(db, sender, { method: 'POST', endpoint: '/fhir/$import', contentType: 'application/fhir+ndjson', scopes: 'system/*.cruds' });
      const touched = new Set<number>();
      const store = new FhirStore(db, { access: policy, touched, onWrite: timedHook(pass, session) });
      const result = await importNdjson(store, day.resources.map((r) => JSON.stringify(r)), { prepare: (r) => session.prepare(r), maxErrors: 3, profile: pass.profile });
      await policy.record({ interaction: 'import', outcome: 'success', what: '$import', patientKeys: [...touched] });
      if (result.failed > 0 && pass.failed === 0) console.error(`${day.holder} NDJSON lines failed:`, JSON.stringify(result.errors).slice(0, 400));
      pass.failed += result.failed;
      pass.messages += 1;
      pass.resources += day.resources.length;
      pass.ndjsonMs += performance.now() - t;
    }
  }
  pass.ms = performance.now() - started;
  return pass;
}

async function counts(db: Database): Promise<{ versions: number; provenances: number }> {
  const v = await db.query<{ n: string }>(`SELECT count(*) AS n FROM fhir_patient_history`);
  const p = await db.query<{ n: string }>(`SELECT count(*) AS n FROM fhir_patient_resource WHERE resource_type = 'Provenance'`);
  return { versions: Number(v.rows[0]?.n), provenances: Number(p.rows[0]?.n) };
}

async function main(): Promise<void> {
  loadFhirDefinitions();
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
  const { holders, residentsActive, ms: genMs } = buildDay();
  const all = [...holders.values()];
  const total = all.reduce((sum, h) => sum + h.resources.length, 0);
  const bundled = all.filter((h) => sendsBundles(h.kind)).reduce((sum, h) => sum + h.resources.length, 0);
  console.log(`day: ${n(people)} residents × ${days} days = ${n(people * days)} resident-days; ${n(residentsActive)} residents with activity at ${holders.size} holders; ${n(total)} resources (${n(bundled)} in transaction Bundles, ${n(total - bundled)} as NDJSON); built in ${s(genMs)}`);

  let db: Database;
  let cleanup: () => Promise<void>;
  if (values.url) {
    const schema = `bench_feed_${Date.now()}`;
    const admin = new pg.Client({ connectionString: values.url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    db = await openDatabase({ url: values.url, schema });
    cleanup = async () => {
      await db.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    };
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'openics-feed-day-'));
    db = await openDatabase({ dataDir: dir });
    cleanup = async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  try {
    await migrate(db);
    await loadDemoIcs(db, 'bench');
    // The store as it stood before the day: every active resident's Patient at each holder (untimed).
    const baseline = performance.now();
    const system = new FhirStore(db, { onWrite: recordWriteHook });
    const before = await importNdjson(system, all.flatMap((h) => h.before.map((r) => JSON.stringify(r))));
    console.log(`before the day: ${n(before.created)} Patients loaded in ${s(performance.now() - baseline)} (${before.failed} failed)`);
    const engine = values.url ? 'PostgreSQL server' : 'embedded PGlite';
    const first = await loadDay(db, holders);
    const after = await counts(db);
    const p = first.profile;
    console.log(`where the time went: write hook (access policy + MPI) ${s(first.hookMs)}, provenance ${s(first.provenanceMs)}; NDJSON parse ${s(p.parseMs)}, validate ${s(p.validateMs)}, index ${s(p.indexMs)}, write batches (incl. policy checks and hook) ${s(p.writeMs)}`);
    console.log(`${engine}: first load ${s(first.ms)} — ${n((first.resources * 1000) / first.ms)} resources/s; Bundles ${s(first.bundleMs)}, NDJSON ${s(first.ndjsonMs)}; ${first.messages} messages, ${first.failed} resources refused; ${n(after.versions)} versions, ${n(after.provenances)} Provenance`);
    const retry = await loadDay(db, holders);
    const again = await counts(db);
    console.log(`${engine}: retry of the whole day ${s(retry.ms)} — ${n((retry.resources * 1000) / retry.ms)} resources/s; new versions ${n(again.versions - after.versions)}, new Provenance ${n(again.provenances - after.provenances)}`);
    const scale = 820_000 / (people * days);
    console.log(`a day for 820,000 residents ≈ ${s(first.ms * scale)} (first load scaled by ${scale.toFixed(2)})`);
  } finally {
    await cleanup();
  }
}

await main();
