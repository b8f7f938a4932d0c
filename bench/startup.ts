/**
 * `npm run bench:startup`: how long `npm start` takes to be ready, measured the way a person
 * meets it. Spawns what `npm start` runs (node_modules/.bin/tsx src/main.ts) on a free port and
 * polls GET /healthz until it answers 200.
 *
 *   cold: an empty data directory (embedded) or a freshly created database (server): create the
 *         database files, apply every migration, load the demo ICS.
 *   warm: the second start on the same data: open and check, nothing to load.
 *
 * Each is run on the embedded engine and, when a PostgreSQL server is reachable, on the server
 * (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; the benchmark creates and
 * drops its own database, openics_bench). Phases come from the server's own log lines. On
 * Linux it also reads the CPU time the server's processes have used by the moment it is ready,
 * which varies much less than wall time when other work shares the machine.
 *
 * Then, in this process, the embedded cold start's database work step by step (create the
 * files, migrate, load the structure demo, load the governance demo), to show where time goes.
 *
 * Options: --runs N (default 5), --engine embedded|server|both (default both).
 * Results are recorded in docs/benchmarks.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openDatabase } from '../src/core/db/database.js';
import { migrate } from '../src/core/db/migrate.js';
import { loadGovernanceDemo } from '../src/governance/demo.js';
import { loadDemoIcs } from '../src/structure/commands.js';
import { DEMO_ICS } from '../src/structure/demo.js';
import { freePort, sleep } from './support.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const BENCH_DATABASE = 'openics_bench';
const TIMEOUT_MS = 120_000;

interface Run {
  engine: 'embedded' | 'server';
  start: 'cold' | 'warm';
  /** Spawn to the first 200 from /healthz. */
  readyMs: number;
  /** CPU time (user + system, every thread and child process) used by then: less sensitive to a busy machine than wall time. */
  cpuMs: number | null;
  /** What the server itself logs as readyInMs (from its first line of code, so without Node and tsx start-up). */
  loggedReadyMs: number | null;
  /** Spawn to "Server listening": Node start, tsx compiling and importing every module. */
  listeningMs: number | null;
  /** Listening to "database migrated" (cold) or to ready (warm): open the database (cold: PGlite creates its files) and migrate. */
  openAndMigrateMs: number | null;
  /** Migrated to "demo loaded" (cold only). */
  demoMs: number | null;
}

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}


async function healthy(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** CPU milliseconds used so far by a process and its descendants (Linux /proc; null elsewhere). */
function cpuOfTree(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    let total = (ticks * 1000) / 100; // USER_HZ is 100 on Linux
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      const children = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      for (const child of children === '' ? [] : children.split(' ')) total += cpuOfTree(Number(child)) ?? 0;
    }
    return total;
  } catch {
    return null;
  }
}

interface LogLine {
  time?: string;
  msg?: string;
  readyInMs?: number;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function startOnce(engine: Run['engine'], start: Run['start'], env: NodeJS.ProcessEnv): Promise<Run> {
  const port = await freePort();
  const spawnedAt = Date.now();
  const child = spawn(TSX, ['src/main.ts'], {
    cwd: ROOT,
    env: { ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let stderr = '';
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const text = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        lines.push(JSON.parse(text) as LogLine);
      } catch {
        // Not a log line (npm or tsx noise): ignore.
      }
      newline = buffered.indexOf('\n');
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });

  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}: ${stderr.trim()}`);
      if (Date.now() - spawnedAt > TIMEOUT_MS) throw new Error(`not ready after ${TIMEOUT_MS} ms: ${stderr.trim()}`);
      if (await healthy(port)) break;
      await sleep(25);
    }
    const readyMs = Date.now() - spawnedAt;
    const cpuMs = child.pid === undefined ? null : cpuOfTree(child.pid);
    // Let the "ready" line reach us before reading the phases.
    await sleep(100);
    const at = (message: string): number | null => {
      const line = lines.find((l) => l.msg?.startsWith(message));
      return line?.time ? Date.parse(line.time) - spawnedAt : null;
    };
    const listening = at('Server listening');
    const migrated = at('database migrated');
    const demo = at('demo ICS');
    const ready = at('OpenICS is ready');
    const opened = migrated ?? (demo === null ? ready : null);
    return {
      engine,
      start,
      readyMs,
      cpuMs,
      loggedReadyMs: lines.find((l) => typeof l.readyInMs === 'number')?.readyInMs ?? null,
      listeningMs: listening,
      openAndMigrateMs: listening !== null && opened !== null ? opened - listening : null,
      demoMs: migrated !== null && demo !== null ? demo - migrated : null,
    };
  } finally {
    await stop(child);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

const seconds = (ms: number | null): string => (ms === null ? '–' : (ms / 1000).toFixed(2));

function statistic(runs: Run[], pick: (r: Run) => number | null): { median: number | null; max: number | null } {
  const values = runs.map(pick).filter((v): v is number => v !== null);
  return values.length === 0 ? { median: null, max: null } : { median: median(values), max: Math.max(...values) };
}

async function benchEmbedded(runs: number, results: Run[]): Promise<void> {
  for (let i = 1; i <= runs; i += 1) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openics-bench-'));
    const env: NodeJS.ProcessEnv = { ...process.env, OPENICS_DATA_DIR: dataDir };
    delete env.DATABASE_URL;
    try {
      for (const start of ['cold', 'warm'] as const) {
        const run = await startOnce('embedded', start, env);
        results.push(run);
        process.stderr.write(`embedded ${start} ${i}/${runs}: ready in ${seconds(run.readyMs)} s\n`);
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
}

async function benchServer(adminUrl: string, runs: number, results: Run[]): Promise<boolean> {
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (error) {
    process.stderr.write(`no PostgreSQL server at ${adminUrl} (${error instanceof Error ? error.message : String(error)}); skipping the server engine\n`);
    return false;
  }
  const url = new URL(adminUrl);
  url.pathname = `/${BENCH_DATABASE}`;
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url.toString() };
  try {
    for (let i = 1; i <= runs; i += 1) {
      await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE}`);
      await admin.query(`CREATE DATABASE ${BENCH_DATABASE}`);
      for (const start of ['cold', 'warm'] as const) {
        const run = await startOnce('server', start, env);
        results.push(run);
        process.stderr.write(`server ${start} ${i}/${runs}: ready in ${seconds(run.readyMs)} s\n`);
      }
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE}`).catch(() => undefined);
    await admin.end();
  }
  return true;
}

interface Steps {
  createFiles: number[];
  migrate: number[];
  structureDemo: number[];
  governanceDemo: number[];
  close: number[];
}

/** The embedded cold start's database work, step by step, in this process. */
async function embeddedSteps(runs: number): Promise<Steps> {
  const steps: Steps = { createFiles: [], migrate: [], structureDemo: [], governanceDemo: [], close: [] };
  for (let i = 0; i < runs; i += 1) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openics-bench-steps-'));
    try {
      let t = performance.now();
      const lap = (list: number[]): void => {
        const now = performance.now();
        list.push(now - t);
        t = now;
      };
      const db = await openDatabase({ dataDir });
      lap(steps.createFiles);
      await migrate(db);
      lap(steps.migrate);
      await loadDemoIcs(db, 'bench');
      lap(steps.structureDemo);
      await loadGovernanceDemo(db, DEMO_ICS);
      lap(steps.governanceDemo);
      await db.close();
      lap(steps.close);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return steps;
}

const LOAD_BEFORE = os.loadavg()[0] ?? 0;

function report(results: Run[], runs: number, steps: Steps | null): string {
  const cpu = /model name\s*:\s*(.+)/.exec(fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '')?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const out: string[] = [];
  out.push(`Measured ${new Date().toISOString().slice(0, 10)} on ${os.availableParallelism()} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}; ${runs} runs each; load average ${LOAD_BEFORE.toFixed(1)} before, ${(os.loadavg()[0] ?? 0).toFixed(1)} after.`);
  out.push('');
  out.push('| engine | start | ready (median) | ready (max) | server-logged readyInMs (median) | CPU time to ready (median) |');
  out.push('|---|---|---:|---:|---:|---:|');
  for (const engine of ['embedded', 'server'] as const) {
    for (const start of ['cold', 'warm'] as const) {
      const group = results.filter((r) => r.engine === engine && r.start === start);
      if (group.length === 0) continue;
      const ready = statistic(group, (r) => r.readyMs);
      const logged = statistic(group, (r) => r.loggedReadyMs);
      const cpu = statistic(group, (r) => r.cpuMs);
      out.push(`| ${engine} | ${start} | ${seconds(ready.median)} s | ${seconds(ready.max)} s | ${seconds(logged.median)} s | ${seconds(cpu.median)} s |`);
    }
  }
  out.push('');
  out.push('Where the time goes (medians, seconds):');
  out.push('');
  out.push('| engine | start | Node + tsx + imports (spawn → listening) | open database + migrate | load demo |');
  out.push('|---|---|---:|---:|---:|');
  for (const engine of ['embedded', 'server'] as const) {
    for (const start of ['cold', 'warm'] as const) {
      const group = results.filter((r) => r.engine === engine && r.start === start);
      if (group.length === 0) continue;
      const listening = statistic(group, (r) => r.listeningMs).median;
      const open = statistic(group, (r) => r.openAndMigrateMs).median;
      const demo = statistic(group, (r) => r.demoMs).median;
      out.push(`| ${engine} | ${start} | ${seconds(listening)} | ${seconds(open)} | ${seconds(demo)} |`);
    }
  }
  if (steps) {
    out.push('');
    out.push('Embedded cold start, database work step by step in one process (medians, seconds):');
    out.push('');
    out.push('| create the data directory (PGlite initdb, in its worker) | apply migrations | load demo structure | load demo governance | close (flush to disk) |');
    out.push('|---:|---:|---:|---:|---:|');
    out.push(`| ${[steps.createFiles, steps.migrate, steps.structureDemo, steps.governanceDemo, steps.close].map((v) => seconds(median(v))).join(' | ')} |`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const runs = Number(argument('runs', '5'));
  const engine = argument('engine', 'both');
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number of at least 1');
  if (!['embedded', 'server', 'both'].includes(engine)) throw new Error('--engine must be embedded, server or both');
  if (!fs.existsSync(TSX)) throw new Error('node_modules/.bin/tsx is missing: run npm install first');

  const results: Run[] = [];
  if (engine !== 'server') await benchEmbedded(runs, results);
  if (engine !== 'embedded') await benchServer(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test', runs, results);
  const steps = engine !== 'server' ? await embeddedSteps(runs) : null;
  process.stdout.write(`${report(results, runs, steps)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
