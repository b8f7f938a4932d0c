/**
 * How long loading a generated population into OpenICS takes, and how much disk it needs (issue 4:
 * "so that the whole of Herefordshire and Worcestershire can be generated and loaded").
 *
 *   npx tsx bench/synthetic-load.ts --people 2000                       # embedded (PGlite)
 *   npx tsx bench/synthetic-load.ts --people 20000,50000 --url postgres://postgres@127.0.0.1:5432/postgres
 *
 * Each size gets a fresh database: on the embedded engine a new data directory, on a server a new
 * database made for it (dropped afterwards). The population is loaded exactly as `npm run load`
 * loads it (`loadPopulation`, src/cli/load.ts): generated household by household and streamed
 * through `importNdjson` with the platform's write hook, so access relationships and the master
 * patient index are kept as the records arrive. The rate is also taken over the first and the last
 * tenth of the residents, to see whether it falls as the tables grow; the whole ICB is then
 * extrapolated from the last tenth's rate and the bytes per resource.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadPopulation } from '../src/cli/load.js';
import { openDatabase } from '../src/core/db/database.js';
import { migrate } from '../src/core/db/migrate.js';
import { loadFhirDefinitions } from '../src/fhir/definitions.js';
import { DEFAULT_AS_OF } from '../src/synthetic/model.js';

const { values } = parseArgs({
  options: {
    people: { type: 'string', default: '2000' },
    icb: { type: 'string', default: 'QGH' },
    seed: { type: 'string', default: '42' },
    url: { type: 'string' },
    /** Residents of the whole ICB, for the extrapolation (QGH: about 820,000 registered). */
    whole: { type: 'string', default: '820000' },
  },
});
const sizes = (values.people ?? '').split(',').map((s) => Number(s.trim()));
const url = values.url;
const whole = Number(values.whole);

const n = (x: number): string => Math.round(x).toLocaleString('en-GB');
const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 2 : 1)} GiB`;

function duSync(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? duSync(path) : statSync(path).size;
  }
  return total;
}

async function onServer<T>(work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

loadFhirDefinitions();
process.stdout.write(
  `Population load benchmark: ${sizes.map(n).join(', ')} residents of ${values.icb}, seed ${values.seed}, as npm run load does it, into ${url ? 'a PostgreSQL server (a fresh database)' : 'embedded PGlite (a fresh data directory)'}\n` +
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${gib(totalmem())}, Node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n\n` +
    `| residents | resources | load | resources/s | first tenth → last tenth | peak RSS | database growth | bytes per resource | ${n(whole)} residents at the last tenth's rate |\n` +
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n',
);

for (const people of sizes) {
  const dataDir = url ? undefined : mkdtempSync(join(tmpdir(), 'openics-bench-load-'));
  const database = url ? `bench_load_${randomBytes(4).toString('hex')}` : undefined;
  if (database) await onServer((admin) => admin.query(`CREATE DATABASE ${database}`));
  const dbUrl = url && database ? Object.assign(new URL(url), { pathname: `/${database}` }).toString() : undefined;
  const db = await openDatabase(dbUrl ? { url: dbUrl } : { dataDir });
  let open = true;
  try {
    await migrate(db);
    // The empty, migrated database is not the population's: its size is taken off.
    const sizeNow = async (): Promise<number> =>
      dbUrl ? Number((await db.query<{ bytes: string }>('SELECT pg_database_size(current_database())::text AS bytes')).rows[0]?.bytes ?? 0) : duSync(dataDir as string);
    const empty = await sizeNow();
    const tenth = Math.max(1, Math.floor(people / 10));
    const marks: Array<{ residents: number; resources: number; ms: number }> = [];
    const summary = await loadPopulation(db, {
      icb: values.icb ?? 'QGH',
      people,
      seed: Number(values.seed),
      asOf: DEFAULT_AS_OF,
      demo: false,
      onProgress: (p) => {
        if (p.residents === tenth || p.residents === people - tenth || p.residents === people) marks.push({ residents: p.residents, resources: p.resources, ms: p.elapsedMs });
      },
    });
    if (summary.failed > 0 || summary.residents !== people) throw new Error(`${summary.failed} resources failed, ${summary.residents} residents loaded`);
    if (dbUrl) await db.query('CHECKPOINT');
    const size = dbUrl ? await sizeNow() : undefined;
    await db.close();
    open = false;
    const bytes = (size ?? duSync(dataDir as string)) - empty;
    const [first, beforeLast, last] = marks;
    const rate = (from: { resources: number; ms: number } | undefined, to: { resources: number; ms: number } | undefined): number =>
      from && to ? ((to.resources - from.resources) * 1000) / (to.ms - from.ms) : Number.NaN;
    const firstRate = first ? (first.resources * 1000) / first.ms : Number.NaN;
    const lastRate = rate(beforeLast, last);
    const wholeResources = (summary.resources * whole) / people;
    process.stdout.write(
      `| ${n(people)} | ${n(summary.resources)} | ${(summary.ms / 1000).toFixed(0)} s | ${n((summary.resources * 1000) / summary.ms)} | ${n(firstRate)} → ${n(lastRate)} | ${n(process.resourceUsage().maxRSS / 1024)} MiB | ${gib(bytes)} | ${n(bytes / summary.resources)} | ${n(wholeResources)} resources: ${(wholeResources / lastRate / 3600).toFixed(1)} h, ${gib((bytes / summary.resources) * wholeResources)} |\n`,
    );
  } finally {
    if (open) await db.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (database) await onServer((admin) => admin.query(`DROP DATABASE IF EXISTS ${database}`));
  }
}
