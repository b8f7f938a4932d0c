/**
 * Schema migrations are plain SQL files in /migrations, applied in name order, each once,
 * each in its own transaction with its bookkeeping row, so a failed migration leaves nothing
 * half-applied. An advisory lock stops two instances migrating the same database at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));
const LOCK_KEY = 7_412_017;

export async function migrate(db: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  const sql = fs.readdirSync(dir).filter((f) => f.endsWith('.sql'));
  // A misnamed migration would otherwise be skipped without a word.
  const misnamed = sql.filter((f) => !/^\d{4}_[a-z0-9_]+\.sql$/.test(f));
  if (misnamed.length > 0) throw new Error(`migration files must be named NNNN_name.sql: ${misnamed.join(', ')}`);
  const files = sql.sort();
  await db.query('CREATE TABLE IF NOT EXISTS schema_migration (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
  const applied: string[] = [];
  for (const file of files) {
    const sql = fs.readFileSync(path.join(dir, file), 'utf8');
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      const seen = await tx.query('SELECT 1 FROM schema_migration WHERE name = $1', [file]);
      if (seen.rowCount > 0) return false;
      await tx.query(sql);
      await tx.query('INSERT INTO schema_migration (name) VALUES ($1)', [file]);
      return true;
    });
    if (done) applied.push(file);
  }
  return applied;
}
