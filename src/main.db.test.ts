/**
 * `npm start` as a newcomer runs it: the real process, its exit codes and its one-line messages.
 * On the server lane each start gets its own schema through the URL's search_path option.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMINISTRATOR, signInAt } from '../test/support/access.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const SERVER_URL = process.env.DATABASE_URL || undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>): Run {
  const child = spawn(TSX, ['src/main.ts'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

async function until(done: () => boolean, timeoutMs: number, say: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms: ${say()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function untilHealthy(url: string, run: Run, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (run.child.exitCode !== null) throw new Error(`exited early: ${run.output()}`);
    const status = await fetch(`${url}/healthz`).then((r) => r.status, () => 0);
    // Our process must say it is ready too: freePort's port can be taken by another test's server
    // before ours binds it, and that server would answer /healthz (ours then stops: port in use).
    if (status === 200 && run.output().includes('OpenICS is ready')) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not healthy within ${timeoutMs} ms: ${run.output()}`);
}

/** Starts on a free port and waits until healthy; tries another port if another test took this one first. */
async function startHealthy(env: Record<string, string>): Promise<{ run: Run; url: string; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const run = start({ ...env, PORT: String(port) });
    try {
      await untilHealthy(url, run);
      return { run, url, port };
    } catch (error) {
      if (attempt >= 3 || !run.output().includes('is already in use')) throw error;
    }
  }
}

async function stop(run: Run): Promise<number | null> {
  run.child.kill('SIGTERM');
  return run.exited;
}

describe(`npm start (${SERVER_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  let dataDir: string;
  let databaseEnv: Record<string, string>;
  let schema: string | undefined;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openics-start-'));
    databaseEnv = { OPENICS_DATA_DIR: dataDir };
    if (SERVER_URL) {
      schema = `start_${randomBytes(5).toString('hex')}`;
      const admin = new pg.Client({ connectionString: SERVER_URL });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.end();
      const url = new URL(SERVER_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      databaseEnv = { DATABASE_URL: url.toString() };
    }
  });

  afterAll(async () => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (SERVER_URL && schema) {
      const admin = new pg.Client({ connectionString: SERVER_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  });

  it('starts, migrates, loads the demo ICS once, and keeps it across restarts', async () => {
    const { run: first, url, port } = await startHealthy(databaseEnv);
    // The API needs sign-in: the demo's users are there from the first start.
    const anonymous = await fetch(`${url}/api/ics`).catch((error: unknown) => {
      throw new Error(`the started platform stopped answering (${String(error)}); its output: ${first.output()}`);
    });
    expect(anonymous.status).toBe(401);
    const admin = await signInAt(url, ADMINISTRATOR);
    const ics = (await (await fetch(`${url}/api/ics`, { headers: admin.headers })).json()) as { ics: { code: string; practices: number }[] };
    expect(ics.ics).toEqual([expect.objectContaining({ code: 'QGH', practices: 80 })]);
    expect(first.output()).toContain('demo ICS (Herefordshire and Worcestershire, QGH) loaded');
    // Logs are structured JSON, one object a line.
    const ready = first.output().split('\n').find((l) => l.includes('OpenICS is ready'));
    expect(JSON.parse(ready ?? '{}')).toMatchObject({ level: 30, msg: 'OpenICS is ready' });
    // An edit made through the API survives a restart.
    const patched = await fetch(`${url}/api/ics/QGH/bodies/QGH-board`, { method: 'PATCH', headers: { ...admin.headers, 'content-type': 'application/json' }, body: JSON.stringify({ quorum: 8 }) });
    expect(patched.status).toBe(200);
    // The synthetic residents load once the platform is ready: a nurse then sees her practice's patients.
    await until(() => first.output().includes('demo residents loaded'), 150_000, () => first.output());
    const nurse = await signInAt(url, 'priya.patel');
    const patients = (await (await fetch(`${url}/fhir/Patient?_summary=count`, { headers: { ...nurse.headers, accept: 'application/fhir+json' } })).json()) as { total: number };
    expect(patients.total).toBeGreaterThan(0);
    expect(await stop(first)).toBe(0);
    if (!SERVER_URL) expect(fs.existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);

    const second = start({ ...databaseEnv, PORT: String(port) });
    await untilHealthy(url, second);
    expect(second.output()).not.toContain('demo ICS (Herefordshire and Worcestershire, QGH) loaded');
    const again = await signInAt(url, ADMINISTRATOR);
    const board = (await (await fetch(`${url}/api/ics/QGH/bodies/QGH-board`, { headers: again.headers })).json()) as { quorum: number };
    expect(board.quorum).toBe(8);

    // A second instance on the same port stops with a clear message, not a stack trace.
    const clash = start({ ...databaseEnv, PORT: String(port) });
    expect(await clash.exited).toBe(1);
    expect(clash.output()).toContain(`openics: port ${port} is already in use`);
    expect(clash.output()).not.toMatch(/\n\s+at /);
    expect(second.output()).not.toContain('demo residents loaded');
    expect(await stop(second)).toBe(0);
  }, 300_000);

  it('refuses a bad PORT with exit code 2 and names the variable', async () => {
    const run = start({ ...databaseEnv, PORT: 'eighty' });
    expect(await run.exited).toBe(2);
    expect(run.output().trim()).toBe('openics: bad configuration: PORT: must be a whole number from 0 to 65535, got "eighty"');
  });

  it('stops with a clear message when the database server cannot be reached', async () => {
    const run = start({ PORT: String(await freePort()), DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('openics: cannot reach the PostgreSQL server at postgres://postgres@127.0.0.1:1/test');
    expect(run.output()).not.toMatch(/\n\s+at /);
  });
});
