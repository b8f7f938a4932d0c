import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
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
