/**
 * Measures the database linker as it runs (the write hook on the FHIR store) against the
 * generator's ground truth: pairwise precision and recall of the source patients it put in one
 * resident, the possible matches it queued, and how long loading took with and without it.
 *
 *   npx tsx bench/mpi-linker.ts [people=300] [seed=DEMO_SEED]
 */
import { accessWriteHook } from '../src/access/policy/write-hook.js';
import { type Database, openDatabase } from '../src/core/db/database.js';
import { migrate } from '../src/core/db/migrate.js';
import { DEMO_SEED, loadSyntheticDemo } from '../src/synthetic/demo.js';
import { HouseholdProducer } from '../src/synthetic/generate.js';
import { DEFAULT_AS_OF } from '../src/synthetic/model.js';
import { recordWriteHook } from '../src/record/write-hook.js';

const people = Number(process.argv[2] ?? 300);
const seed = Number(process.argv[3] ?? DEMO_SEED);

async function fresh(): Promise<Database> {
  const url = process.env.DATABASE_URL || undefined;
  // On a server, each load gets a schema of its own (left behind for inspection: bench_mpi_*).
  const db = await openDatabase({ url, schema: url ? `bench_mpi_${Date.now().toString(36)}` : undefined });
  await migrate(db);
  return db;
}

const truth = new Map<string, string>();
const producer = new HouseholdProducer({ icb: 'QGH', people, seed, asOf: DEFAULT_AS_OF });
for (let i = 0; i < producer.households; i++) for (const { feeds } of producer.household(i)) for (const f of feeds) truth.set(f.patient.id, f.link.resident);

const baseline = await fresh();
let started = performance.now();
await loadSyntheticDemo(baseline, { people, seed, onWrite: accessWriteHook });
const accessOnly = performance.now() - started;
await baseline.close();

const db = await fresh();
started = performance.now();
await loadSyntheticDemo(db, { people, seed, onWrite: recordWriteHook });
const withLinker = performance.now() - started;

const { rows } = await db.query<{ patient_id: string; resident_id: string }>('SELECT patient_id, resident_id FROM mpi_source_patient');
const byResident = new Map<string, string[]>();
for (const r of rows) byResident.set(r.resident_id, [...(byResident.get(r.resident_id) ?? []), r.patient_id]);
const byTruth = new Map<string, string[]>();
for (const [patient, resident] of truth) byTruth.set(resident, [...(byTruth.get(resident) ?? []), patient]);
const pairs = (groups: Iterable<string[]>): number => [...groups].reduce((n, g) => n + (g.length * (g.length - 1)) / 2, 0);
let truePositive = 0;
for (const group of byResident.values()) {
  const counts = new Map<string, number>();
  for (const p of group) counts.set(truth.get(p) ?? `?${p}`, (counts.get(truth.get(p) ?? `?${p}`) ?? 0) + 1);
  for (const c of counts.values()) truePositive += (c * (c - 1)) / 2;
}
const linked = pairs(byResident.values());
const actual = pairs(byTruth.values());
const reviews = await db.query<{ n: number | string }>(`SELECT count(*) AS n FROM mpi_review WHERE status = 'open'`);
console.log(
  JSON.stringify(
    {
      engine: db.engine,
      people,
      sourcePatients: rows.length,
      residentsFound: byResident.size,
      linkedPairs: linked,
      truePairs: actual,
      precision: linked === 0 ? 1 : truePositive / linked,
      recall: actual === 0 ? 1 : truePositive / actual,
      queuedForReview: Number(reviews.rows[0]?.n ?? 0),
      loadMsAccessHookOnly: Math.round(accessOnly),
      loadMsWithLinker: Math.round(withLinker),
    },
    null,
    2,
  ),
);
await db.close();
