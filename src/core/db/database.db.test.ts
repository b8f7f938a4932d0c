import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { isRetryableConflict } from './database.js';
import { migrate } from './migrate.js';

describe(`database (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase();
  });
  afterAll(async () => {
    await t.close();
  });

  it('runs on the engine DATABASE_URL selects', () => {
    expect(t.engine).toBe(process.env.DATABASE_URL ? 'server' : 'embedded');
  });

  it('returns counts as numbers and dates as plain calendar strings on both engines', async () => {
    const { rows } = await t.db.query<{ n: unknown; d: unknown }>("SELECT count(*) AS n, DATE '2026-04-01' AS d FROM generate_series(1, 3)");
    expect(rows[0]).toEqual({ n: 3, d: '2026-04-01' });
  });

  it('commits a transaction that succeeds and rolls back one that throws, leaving nothing half-written', async () => {
    await t.db.query('CREATE TABLE tx_probe (id int PRIMARY KEY)');
    await t.db.transaction(async (tx) => {
      await tx.query('INSERT INTO tx_probe VALUES (1)');
    });
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_probe VALUES (2)');
        await tx.query('INSERT INTO tx_probe VALUES (1)'); // duplicate key
      }),
    ).rejects.toThrow();
    const { rows } = await t.db.query<{ id: number }>('SELECT id FROM tx_probe ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([1]);
  });

  // One connection on the embedded engine: two transactions never interleave there.
  it.skipIf(!process.env.DATABASE_URL)('marks a transaction PostgreSQL rolled back in a deadlock as one to send again (isRetryableConflict)', async () => {
    await t.db.query('CREATE TABLE deadlock_probe (id int PRIMARY KEY, n int NOT NULL)');
    await t.db.query('INSERT INTO deadlock_probe VALUES (1, 0), (2, 0)');
    let arrived = 0;
    let bothLocked!: () => void;
    const barrier = new Promise<void>((resolve) => (bothLocked = resolve));
    const lockThenCross = (first: number, second: number): Promise<void> =>
      t.db.transaction(async (tx) => {
        await tx.query('UPDATE deadlock_probe SET n = n + 1 WHERE id = $1', [first]);
        if (++arrived === 2) bothLocked();
        await barrier;
        await tx.query('UPDATE deadlock_probe SET n = n + 1 WHERE id = $1', [second]);
      });
    const results = await Promise.allSettled([lockThenCross(1, 2), lockThenCross(2, 1)]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failed.length).toBe(1);
    expect(isRetryableConflict(failed[0]?.reason)).toBe(true);
    expect(isRetryableConflict(new Error('not from PostgreSQL'))).toBe(false);
    // The survivor committed both rows; the victim left nothing.
    const { rows } = await t.db.query<{ n: number }>('SELECT sum(n)::int AS n FROM deadlock_probe');
    expect(rows[0]?.n).toBe(2);
  });

  it('keeps working after an SQL error, inside and outside transactions', async () => {
    await t.db.query('CREATE TABLE error_probe (x int CHECK (x > 0))');
    for (let i = 0; i < 3; i++) await expect(t.db.query('INSERT INTO error_probe VALUES ($1)', [-1])).rejects.toThrow(/check constraint/);
    await expect(t.db.query('SELEC 1')).rejects.toThrow(/syntax error/);
    await expect(t.db.transaction((tx) => tx.query('INSERT INTO error_probe VALUES (-1)'))).rejects.toThrow(/check constraint/);
    const { rows } = await t.db.query<{ one: number }>('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('applies each migration once', async () => {
    expect(await migrate(t.db)).toEqual([]);
    const { rows } = await t.db.query<{ name: string }>('SELECT name FROM schema_migration ORDER BY name');
    expect(rows.map((r) => r.name)).toContain('0001_structure.sql');
  });
});
