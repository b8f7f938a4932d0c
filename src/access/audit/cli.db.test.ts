/**
 * `npm run audit -- verify` as an operator runs it: the real command against a database with
 * events in it, before and after someone has changed one.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../core/db/database.js';
import { migrate } from '../../core/db/migrate.js';
import type { AccessRecord } from '../context.js';
import { recordAccess } from './trail.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const SERVER_URL = process.env.DATABASE_URL || undefined;

describe(`npm run audit -- verify (${SERVER_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  let dataDir: string;
  let schema: string | undefined;
  let env: Record<string, string>;

  const open = (): Promise<Database> => openDatabase(SERVER_URL ? { url: SERVER_URL, schema } : { dataDir });
  const verify = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const run = spawnSync(TSX, ['src/cli/audit.ts', ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: '', ...env }, encoding: 'utf8', timeout: 120_000 });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openics-audit-'));
    env = { OPENICS_DATA_DIR: dataDir };
    if (SERVER_URL) {
      schema = `audit_${randomBytes(5).toString('hex')}`;
      const url = new URL(SERVER_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      env = { DATABASE_URL: url.toString() };
    }
    const db = await open();
    try {
      await migrate(db);
      const record = (i: number): AccessRecord => ({
        context: { kind: 'user', subject: 'u-1', display: 'Dr One', role: 'doctor', organisation: 'M81001', scopes: [], purpose: 'TREAT' },
        action: 'read',
        outcome: 'success',
        patients: [`p-${i}`],
        what: `Patient/p-${i}`,
        at: new Date(Date.UTC(2026, 0, 5, 10, i)),
      });
      for (let i = 0; i < 12; i++) await recordAccess(db, record(i));
    } finally {
      await db.close();
    }
  });

  afterAll(async () => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (SERVER_URL && schema) {
      const admin = new pg.Client({ connectionString: SERVER_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });

  it('says the chain is intact, with the number of events', () => {
    const run = verify('verify');
    expect(run.stdout).toBe('audit chain OK: 12 events\n');
    expect(run.status).toBe(0);
  });

  it('names the broken link and exits non-zero after a change', async () => {
    const db = await open();
    try {
      await db.transaction(async (tx) => {
        await tx.query('ALTER TABLE access_audit_event DISABLE TRIGGER access_audit_event_append_only');
        await tx.query(`UPDATE access_audit_event SET event = replace(event, 'Dr One', 'Dr Two') WHERE sequence = 7`);
        await tx.query('ALTER TABLE access_audit_event ENABLE TRIGGER access_audit_event_append_only');
      });
    } finally {
      await db.close();
    }
    const run = verify('verify');
    expect(run.stdout).toBe('audit chain BROKEN at event 7: its content does not match its hash (6 events before it verify)\n');
    expect(run.status).toBe(1);
  });

  it('explains its usage', () => {
    const run = verify('check');
    expect(run.stderr).toContain('usage: npm run audit -- verify');
    expect(run.status).toBe(2);
  });
});
