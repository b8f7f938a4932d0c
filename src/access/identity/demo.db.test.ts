import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { ROLES } from '../context.js';
import { isValidNhsNumber } from '../../fhir/validate.js';
import { loadDemoIcs } from '../../structure/commands.js';
import { organisationNames } from '../../structure/repository.js';
import { DEMO_CITIZENS, DEMO_PASSWORD, DEMO_STAFF, loadAccessDemo } from './demo.js';
import { authenticatePassword, findUser, proxyNhsNumbers } from './users.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
  await loadDemoIcs(t.db, 'test');
});
afterAll(async () => t?.close());

describe('the demo users', () => {
  it('creates none in production', async () => {
    expect(await loadAccessDemo(t.db, { production: true })).toBe(0);
    expect((await t.db.query('SELECT 1 FROM access_user')).rows).toEqual([]);
  });

  it('creates every demo user once, at least one per role, each organisation one the demo ICS holds', async () => {
    expect(await loadAccessDemo(t.db, { production: false })).toBe(DEMO_STAFF.length + DEMO_CITIZENS.length);
    expect(await loadAccessDemo(t.db, { production: false })).toBe(0);
    const users = [...DEMO_STAFF, ...DEMO_CITIZENS];
    const held = new Set(users.flatMap((u) => u.roles.map((r) => r.role)));
    expect([...ROLES].filter((r) => !held.has(r))).toEqual([]);
    const organisations = [...new Set(users.flatMap((u) => u.roles.map((r) => r.organisation)))];
    const names = await organisationNames(t.db, organisations);
    expect(organisations.filter((o) => !names.has(o))).toEqual([]);
    for (const code of ['QGH', 'RWP', 'RLQ', 'R1A', 'RYA', 'E06000019', 'E10000034']) expect(organisations).toContain(code);
    expect(organisations.filter((o) => /^M\d{5}$/.test(o)).length).toBeGreaterThanOrEqual(3);
    for (const c of DEMO_CITIZENS) expect(isValidNhsNumber(c.nhsNumber ?? '')).toBe(true);
  });

  it('signs in with the published password, and Janet Clarke is proxy for her husband', async () => {
    expect((await authenticatePassword(t.db, 'chidi.okafor', DEMO_PASSWORD))?.roles).toEqual([{ role: 'doctor', organisation: 'RWP', nationalCode: 'R8000' }]);
    expect((await findUser(t.db, 'demo-janet-clarke'))?.nhsNumber).toBe('9998538696');
    expect(await proxyNhsNumbers(t.db, 'demo-janet-clarke', '2026-01-01')).toEqual(['9995354209']);
  });
});
