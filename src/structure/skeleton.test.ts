import { describe, expect, it } from 'vitest';
import { buildDemo } from './demo.js';
import { checkRules } from './rules.js';
import { structureFromSeed } from './seed.js';
import { buildSkeleton, cleanAreaName } from './skeleton.js';
import { icbs } from './reference-data.js';

describe('the skeleton of an ICS from NHS England data', () => {
  it("knows England's 42 ICBs", () => {
    const list = icbs();
    expect(list).toHaveLength(42);
    expect(list.find((i) => i.code === 'QGH')?.name).toBe('NHS Herefordshire and Worcestershire ICB');
  });

  it('builds Herefordshire and Worcestershire with its 80 practices, 15 PCNs and 7 places from the real data', () => {
    const seed = buildSkeleton('qgh');
    expect(seed.ics).toEqual({ code: 'QGH', name: 'Herefordshire and Worcestershire', region: 'Midlands' });
    expect(seed.practices).toHaveLength(80);
    expect(seed.pcns).toHaveLength(15);
    expect(seed.places.map((p) => p.name)).toEqual(['Bromsgrove', 'Herefordshire', 'Malvern Hills', 'Redditch', 'Worcester', 'Wychavon', 'Wyre Forest']);
    const registered = seed.practices.reduce((sum, p) => sum + (p.registeredPatients ?? 0), 0);
    expect(registered).toBe(812_712);
    // Two upper-tier councils: Herefordshire (unitary) and Worcestershire (county) over six districts.
    const upperTier = new Set(seed.places.map((p) => p.upperTierCode));
    expect([...upperTier].sort()).toEqual(['E06000019', 'E10000034']);
    expect(seed.organisations.filter((o) => o.kind === 'lower_tier_council')).toHaveLength(6);
  });

  it('puts each PCN in the place where most of its patients are', () => {
    const seed = buildSkeleton('QGH');
    // North & West Herefordshire PCN has 41,584 patients in Herefordshire and 9,421 in Malvern Hills.
    expect(seed.pcns.find((p) => p.orgCode === 'U38064')?.placeId).toBe('QGH-E06000019');
    // South Worcs Pershore & Upton: 21,973 in Wychavon, 11,700 in Malvern Hills.
    expect(seed.pcns.find((p) => p.orgCode === 'U66005')?.placeId).toBe('QGH-E07000238');
  });

  it('builds any other ICB, and its rules check lists what the ICS must still set up', () => {
    const seed = buildSkeleton('QHM');
    expect(seed.ics.name).toBe('North East and North Cumbria');
    expect(seed.practices.length).toBeGreaterThan(300);
    const report = checkRules(structureFromSeed(seed), '2026-11-23');
    const broken = new Set(report.breaches.map((b) => b.ruleId));
    for (const id of ['icb-board-chair', 'icb-audit-committee', 'icp-chair', 'place-partnership-form', 'pcn-clinical-director']) expect(broken).toContain(id);
    // The ICP of a skeleton already includes the ICB and every upper-tier council.
    expect(broken).not.toContain('icp-membership');
  });

  it('refuses an ICB code that is not in the data', () => {
    expect(() => buildSkeleton('XYZ')).toThrowError(/XYZ/);
  });

  it('cleans ONS area names', () => {
    expect(cleanAreaName('Herefordshire, County of')).toBe('Herefordshire');
    expect(cleanAreaName('Bristol, City of')).toBe('Bristol');
    expect(cleanAreaName('Wyre Forest')).toBe('Wyre Forest');
  });
});

describe('the demo ICS', () => {
  it('has the real NHS trusts of Herefordshire and Worcestershire as partners', () => {
    const seed = buildDemo();
    const trusts = seed.organisations.filter((o) => seed.partners.includes(o.code) && (o.kind === 'nhs_trust' || o.kind === 'foundation_trust'));
    expect(trusts.map((t) => t.code).sort()).toEqual(['R1A', 'RLQ', 'RWP', 'RYA']);
    expect(seed.organisations.find((o) => o.code === 'E10000034')?.name).toBe('Worcestershire County Council');
  });
});
