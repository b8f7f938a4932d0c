import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, openTestDatabase } from '../../../test/support/database.js';
import { HouseholdProducer } from '../../synthetic/generate.js';
import { DEFAULT_AS_OF, type Resident } from '../../synthetic/model.js';
import { LocalPds, loadPdsStandIn } from './index.js';

let t: TestDatabase;
let residents: Resident[];

beforeAll(async () => {
  t = await openTestDatabase();
  const producer = new HouseholdProducer({ icb: 'QGH', people: 30, seed: 11, asOf: DEFAULT_AS_OF });
  residents = [];
  for (let i = 0; i < producer.households; i++) residents.push(...producer.household(i).map((h) => h.resident));
  expect(await loadPdsStandIn(t.db, residents)).toBe(30);
  // Loading again updates, never duplicates.
  await loadPdsStandIn(t.db, residents);
}, 120_000);
afterAll(async () => {
  await t.close();
});

describe('the PDS stand-in', () => {
  it('traces a resident by demographics to their NHS number, and retrieves them by it', async () => {
    const pds = new LocalPds(t.db);
    for (const r of residents.slice(0, 10)) {
      const found = await pds.trace({ family: r.family.toUpperCase(), given: r.given[0], birthDate: r.birthDate, sex: r.sex, postcode: r.address.postcode.replace(' ', '') });
      expect(found.map((f) => f.nhsNumber)).toEqual([r.nhsNumber]);
      const record = await pds.retrieve(r.nhsNumber);
      expect(record?.birthDate).toBe(r.birthDate);
      expect(record?.family).toBe(r.family);
    }
    const count = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM pds_standin');
    expect(count.rows[0]?.n).toBe(30);
  });

  it('finds nobody for demographics it does not hold, or for a malformed date', async () => {
    const pds = new LocalPds(t.db);
    const r = residents[0] as Resident;
    expect(await pds.trace({ family: 'Nobodyhere', birthDate: r.birthDate })).toEqual([]);
    expect(await pds.trace({ family: r.family, birthDate: '14/03/1951' })).toEqual([]);
    expect(await pds.retrieve('9990000000')).toBeUndefined();
  });
});
