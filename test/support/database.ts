/**
 * A fresh, migrated database for one test file: in memory on the embedded engine, or a schema
 * of its own on the server named by DATABASE_URL, so test files can run in parallel.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Database, openDatabase } from '../../src/core/db/database.js';
import { migrate } from '../../src/core/db/migrate.js';

export interface TestDatabase {
  db: Database;
  engine: 'embedded' | 'server';
  close(): Promise<void>;
}

export async function openTestDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL || undefined;
  const schema = url ? `test_${randomBytes(6).toString('hex')}` : undefined;
  const db = await openDatabase({ url, schema });
  await migrate(db);
  return {
    db,
    engine: db.engine,
    async close() {
      await db.close();
      if (url && schema) {
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.end();
      }
    },
  };
}
