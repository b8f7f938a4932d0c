import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import { addMember, createIcs, delegateFunction, endMembership, loadDemoIcs, updateBody } from './commands.js';
import { buildDemo } from './demo.js';
import { loadStructure } from './repository.js';
import { checkRules } from './rules.js';
import { structureFromSeed, writeSeed } from './seed.js';
import { buildSkeleton } from './skeleton.js';

async function count(t: TestDatabase, table: string): Promise<number> {
  const { rows } = await t.db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`);
  return rows[0]?.n ?? 0;
}

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ValidationError) return error.problems.map((p) => p.field);
    throw error;
  }
  throw new Error('expected a ValidationError');
}

const byId = <T extends { id: string }>(items: Iterable<T>): T[] => [...items].sort((a, b) => a.id.localeCompare(b.id));

describe(`structure commands (${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'})`, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase();
    expect(await loadDemoIcs(t.db, 'test')).toBe(true);
  });
  afterAll(async () => {
    await t.close();
  });

  it('stores the demo and reads back exactly the structure it was built from', async () => {
    const stored = await loadStructure(t.db, 'QGH');
    const built = structureFromSeed(buildDemo());
    expect(stored.practices.length).toBe(80);
    expect(byId(stored.bodies)).toEqual(byId(built.bodies));
    expect(byId(stored.memberships)).toEqual(byId(built.memberships));
    expect(byId(stored.organisationRoles)).toEqual(byId(built.organisationRoles));
    expect(byId(stored.functions)).toEqual(byId(built.functions));
    expect(byId(stored.delegations)).toEqual(byId(built.delegations));
    expect([...stored.practices].sort((a, b) => a.orgCode.localeCompare(b.orgCode))).toEqual([...built.practices].sort((a, b) => a.orgCode.localeCompare(b.orgCode)));
    expect(checkRules(stored).passed).toBe(true);
  });

  it('loads the demo only once', async () => {
    expect(await loadDemoIcs(t.db, 'test')).toBe(false);
    expect(await count(t, 'ics')).toBe(1);
  });

  it('names every wrong field of a new member and writes nothing', async () => {
    const before = [await count(t, 'membership'), await count(t, 'person'), await count(t, 'change_log')];
    const fields = await problemsOf(addMember(t.db, 'QGH', 'QGH-board', { role: 'overlord', startDate: '2026-02-30', endDate: '2025-13-01', orgCode: 'NOPE' }, 'test'));
    expect(fields.sort()).toEqual(['endDate', 'orgCode', 'personName', 'role', 'startDate']);
    expect([await count(t, 'membership'), await count(t, 'person'), await count(t, 'change_log')]).toEqual(before);
  });

  it('adds a member as a new person, records the change, and the rules check sees them', async () => {
    const stored = await loadStructure(t.db, 'QGH');
    const nursing = stored.memberships.find((m) => m.bodyId === 'QGH-board' && m.role === 'director_of_nursing');
    if (!nursing) throw new Error('no director of nursing in the demo');
    await endMembership(t.db, 'QGH', 'QGH-board', nursing.id, '2026-01-31', 'test');
    expect(checkRules(await loadStructure(t.db, 'QGH'), '2026-11-23').breaches.map((b) => b.ruleId)).toEqual(['icb-board-director-of-nursing']);

    const { personId } = await addMember(t.db, 'QGH', 'QGH-board', { personName: 'Ruth Adebayo', role: 'director_of_nursing', orgCode: 'QGH', startDate: '2026-02-01' }, 'test');
    const after = await loadStructure(t.db, 'QGH');
    expect(after.people.get(personId)?.name).toBe('Ruth Adebayo');
    expect(checkRules(after, '2026-11-23').passed).toBe(true);
    const { rows } = await t.db.query<{ summary: string }>('SELECT summary FROM change_log ORDER BY id DESC LIMIT 1');
    expect(rows[0]?.summary).toBe('Added Ruth Adebayo to NHS Herefordshire and Worcestershire ICB board as director of nursing');
  });

  it('refuses to end a term before it started', async () => {
    const stored = await loadStructure(t.db, 'QGH');
    const chair = stored.memberships.find((m) => m.bodyId === 'QGH-board' && m.role === 'chair');
    expect(await problemsOf(endMembership(t.db, 'QGH', 'QGH-board', chair?.id ?? '', '2020-01-01', 'test'))).toEqual(['endDate']);
  });

  it('changes a place partnership form, and only a place partnership has one', async () => {
    await updateBody(t.db, 'QGH', 'QGH-place-E07000234', { form: 'lead_provider' }, 'test');
    const report = checkRules(await loadStructure(t.db, 'QGH'));
    expect(report.breaches.map((b) => [b.ruleId, b.subject.id])).toEqual([['place-partnership-form', 'QGH-place-E07000234']]);
    await updateBody(t.db, 'QGH', 'QGH-place-E07000234', { leadOrgCode: 'R1A' }, 'test');
    expect(checkRules(await loadStructure(t.db, 'QGH')).passed).toBe(true);

    expect(await problemsOf(updateBody(t.db, 'QGH', 'QGH-board', { form: 'lead_provider' }, 'test'))).toEqual(['form']);
    expect(await problemsOf(updateBody(t.db, 'QGH', 'QGH-place-E07000234', { form: 'dictatorship' }, 'test'))).toEqual(['form']);
    await expect(updateBody(t.db, 'QGH', 'QGH-nothing', { quorum: 2 }, 'test')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('delegates a function to exactly one body or person, never to the ICP', async () => {
    const base = { functionId: 'QGH-fn-chc', decisions: 'Approve packages', startDate: '2026-04-01' };
    expect(await problemsOf(delegateFunction(t.db, 'QGH', { ...base }, 'test'))).toEqual(['toBodyId']);
    expect(await problemsOf(delegateFunction(t.db, 'QGH', { ...base, toBodyId: 'QGH-icp' }, 'test'))).toEqual(['toBodyId']);
    expect(await problemsOf(delegateFunction(t.db, 'QGH', { ...base, functionId: 'QGH-fn-none', toBodyId: 'QGH-committee-quality', budgetPounds: -5 }, 'test'))).toEqual(['functionId', 'budgetPounds']);
    const id = await delegateFunction(t.db, 'QGH', { ...base, toBodyId: 'QGH-committee-quality', budgetPounds: 1_000_000 }, 'test');
    const stored = await loadStructure(t.db, 'QGH');
    expect(stored.delegations.find((d) => d.id === id)).toMatchObject({ functionId: 'QGH-fn-chc', toBodyId: 'QGH-committee-quality', budgetPounds: 1_000_000 });
    // Accountability is not something a delegation carries: the function still answers to the ICB.
    expect(stored.functions.find((f) => f.id === 'QGH-fn-chc')?.accountableOrgCode).toBe('QGH');
  });

  it('builds another ICB skeleton beside the demo, sharing national organisations', async () => {
    const created = await createIcs(t.db, 'QHL', 'test');
    expect(created).toEqual({ code: 'QHL', name: 'Birmingham and Solihull' });
    const s = await loadStructure(t.db, 'QHL');
    expect(s.practices.length).toBeGreaterThan(150);
    await expect(createIcs(t.db, 'QHL', 'test')).rejects.toBeInstanceOf(ConflictError);
  });

  it('never half-writes an ICS: a failure part-way leaves nothing behind', async () => {
    const seed = buildSkeleton('QOX');
    const practice = seed.practices[0];
    if (!practice) throw new Error('no practices');
    seed.practices.push({ ...practice }); // a duplicate key fails the practice insert, after ics, organisations and places
    await expect(t.db.transaction((tx) => writeSeed(tx, seed, 'test'))).rejects.toThrow();
    expect((await t.db.query("SELECT 1 FROM ics WHERE code = 'QOX'")).rowCount).toBe(0);
    expect((await t.db.query("SELECT 1 FROM place WHERE ics_code = 'QOX'")).rowCount).toBe(0);
  });
});
