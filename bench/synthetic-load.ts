/**
 * How long loading a generated population into the FHIR store takes (issue 4: "so that the whole
 * of Herefordshire and Worcestershire can be generated and loaded").
 *
 *   npx tsx bench/synthetic-load.ts                                  # 2,000 and 10,000 residents, embedded
 *   npx tsx bench/synthetic-load.ts --people 2000 --url postgres://postgres@127.0.0.1:5432/bench_synth
 *
 * Each size gets a fresh database: on the embedded engine (PGlite) a new data directory on disk,
 * on a server a new schema (dropped afterwards), migrated as `npm start` migrates. The population
 * is loaded with `loadSyntheticDemo` (src/synthetic/demo.ts): the generator's stages streamed
 * straight into `importNdjson`, every line checked as a REST write would be. Generation alone is
 * timed too, on the same thread, so the load's own cost can be told apart.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase } from '../src/core/db/database.js';
import { migrate } from '../src/core/db/migrate.js';
import type { ImportProfile } from '../src/fhir/bulk.js';
import { loadFhirDefinitions } from '../src/fhir/definitions.js';
import { DEMO_SEED, loadSyntheticDemo } from '../src/synthetic/demo.js';
import { HouseholdProducer } from '../src/synthetic/generate.js';
import { DEFAULT_AS_OF } from '../src/synthetic/model.js';

const { values } = parseArgs({
  options: {
    people: { type: 'string', default: '2000,10000' },
    icb: { type: 'string', default: 'QGH' },
    url: { type: 'string' },
  },
});
const sizes = (values.people ?? '').split(',').map((s) => Number(s.trim()));
const url = values.url;

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const n = (x: number): string => Math.round(x).toLocaleString('en-GB');

function duSync(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? duSync(path) : statSync(path).size;
  }
  return total;
}

/** Generation alone, as loadSyntheticDemo does it (every resource to JSON), without a database. */
function generateOnly(people: number): { ms: number; resources: number } {
  const started = performance.now();
  const producer = new HouseholdProducer({ icb: values.icb ?? 'QGH', people, seed: DEMO_SEED, asOf: DEFAULT_AS_OF });
  let resources = 0;
  let chars = 0;
  for (let index = 0; index < producer.households; index++) {
    for (const { feeds } of producer.household(index)) {
      for (const feed of feeds) {
        chars += JSON.stringify(feed.patient).length;
        resources += 1 + feed.records.length;
        for (const record of feed.records) chars += record.json.length;
      }
    }
  }
  if (chars === 0) throw new Error('nothing generated');
  return { ms: performance.now() - started, resources };
}

loadFhirDefinitions();
process.stdout.write(
  `Synthetic population load benchmark: ${sizes.map((p) => p.toLocaleString('en-GB')).join(', ')} residents of ${values.icb}, seed ${DEMO_SEED}, into ${url ? 'a PostgreSQL server (fresh schema)' : 'embedded PGlite (fresh data directory)'}\n` +
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n\n` +
    '| residents | resources | generate only | load (generate + import) | residents/s | resources/s | parse | validate | index | write (SQL) | wait for write | RSS after | database size |\n' +
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n',
);

for (const people of sizes) {
  const gen = generateOnly(people);
  const dataDir = url ? undefined : mkdtempSync(join(tmpdir(), 'openics-bench-load-'));
  const schema = url ? `bench_synth_${randomBytes(4).toString('hex')}` : undefined;
  const db = await openDatabase(url ? { url, schema } : { dataDir });
  let open = true;
  try {
    await migrate(db);
    const profile: ImportProfile = { parseMs: 0, validateMs: 0, indexMs: 0, writeMs: 0, waitMs: 0 };
    const result = await loadSyntheticDemo(db, { people, icb: values.icb, profile });
    // loadSyntheticDemo counts each Organization too (once); generateOnly does not.
    if (result.failed > 0 || result.residents !== people || result.resources < gen.resources) throw new Error(`loaded ${result.resources} resources (${result.failed} failed) where ${gen.resources} were generated`);
    await db.close();
    open = false;
    let size = 'n/a';
    if (dataDir) size = mib(duSync(dataDir));
    else if (url && schema) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const { rows } = await admin.query<{ bytes: string }>(
        'SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::text AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ($2, $3)',
        [schema, 'r', 'm'],
      );
      size = mib(Number(rows[0]?.bytes ?? 0));
      await admin.end();
    }
    const seconds = result.ms / 1000;
    process.stdout.write(
      `| ${n(people)} | ${n(result.resources)} | ${s(gen.ms)} | ${s(result.ms)} | ${n(people / seconds)} | ${n(result.resources / seconds)} | ${s(profile.parseMs)} | ${s(profile.validateMs)} | ${s(profile.indexMs)} | ${s(profile.writeMs)} | ${s(profile.waitMs)} | ${mib(process.memoryUsage().rss)} | ${size} |\n`,
    );
  } finally {
    if (open) await db.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (url && schema) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  }
}
