import { describe, expect, it } from 'vitest';
import { icbs } from '../structure/reference-data.js';
import { acuteTrustFor, ambulanceTrustFor, areaProviders, communityTrustFor, councilFor, loadArea, mentalHealthTrustFor, nationalLsoas } from './geography.js';
import { Random } from './random.js';

const HEREFORDSHIRE = 'E06000019';
const WORCESTER = 'E07000237';

describe('loadArea', () => {
  it('gives Herefordshire and Worcestershire its seven districts, their LSOAs and real partners', () => {
    const area = loadArea('QGH');
    expect([...area.districts.values()].map((d) => d.name).sort()).toEqual(['Bromsgrove', 'Herefordshire', 'Malvern Hills', 'Redditch', 'Worcester', 'Wychavon', 'Wyre Forest']);
    const national = nationalLsoas().filter((l) => [...area.districts.keys()].includes(l.lad));
    expect(area.lsoas.length).toBe(national.length);
    expect(area.lsoas.length).toBeGreaterThan(400);
    // About 0.77 million people in 2015 (the practices list about 0.82 million in 2025).
    expect(area.population).toBeGreaterThan(700_000);
    expect(area.population).toBeLessThan(850_000);
    for (const l of area.lsoas) {
      expect(l.imdDecile).toBeGreaterThanOrEqual(1);
      expect(l.imdDecile).toBeLessThanOrEqual(10);
      expect(l.council).toBe(l.lad === HEREFORDSHIRE ? HEREFORDSHIRE : 'E10000034');
      expect(l.children + l.adults + l.older).toBeGreaterThan(500);
    }
    // Both ends of deprivation are present (Hereford and Redditch have decile-1 LSOAs).
    expect(new Set(area.lsoas.map((l) => l.imdDecile)).size).toBe(10);

    const orgs = area.organisations;
    expect(orgs.icb).toEqual({ code: 'QGH', name: 'NHS Herefordshire and Worcestershire ICB' });
    expect(orgs.acuteTrusts.map((t) => t.code)).toEqual(['RWP', 'RLQ']);
    expect(orgs.acuteTrusts.reduce((s, t) => s + t.share, 0)).toBeCloseTo(1, 10);
    expect(orgs.communityTrust.code).toBe('R1A');
    expect(orgs.mentalHealthTrust.code).toBe('R1A');
    expect(orgs.ambulanceTrust).toEqual({ code: 'RYA', name: 'West Midlands Ambulance Service University NHS Foundation Trust' });
    expect(orgs.councils).toEqual([
      { code: HEREFORDSHIRE, name: 'Herefordshire Council' },
      { code: 'E10000034', name: 'Worcestershire County Council' },
    ]);
    expect(orgs.practices.length).toBe(80);
    expect(areaProviders(orgs).map((o) => o.code).sort()).toEqual(['E06000019', 'E10000034', 'R1A', 'RLQ', 'RWP', 'RYA']);
  });

  it('sends each district’s residents to their own trusts', () => {
    const orgs = loadArea('QGH').organisations;
    expect(acuteTrustFor(orgs, HEREFORDSHIRE).code).toBe('RLQ');
    expect(acuteTrustFor(orgs, WORCESTER).code).toBe('RWP');
    expect(communityTrustFor(orgs, HEREFORDSHIRE).code).toBe('RLQ');
    expect(communityTrustFor(orgs, WORCESTER).code).toBe('R1A');
    expect(mentalHealthTrustFor(orgs, HEREFORDSHIRE).code).toBe('R1A');
    expect(councilFor(orgs, HEREFORDSHIRE).code).toBe(HEREFORDSHIRE);
    expect(councilFor(orgs, WORCESTER).code).toBe('E10000034');
    const random = new Random(1, 0);
    let wyeValley = 0;
    for (let i = 0; i < 10_000; i++) if (acuteTrustFor(orgs, HEREFORDSHIRE, random).code === 'RLQ') wyeValley += 1;
    expect(wyeValley / 10_000).toBeGreaterThan(0.88);
    expect(wyeValley / 10_000).toBeLessThan(0.96);
  });

  it('gives every district’s practices an outward code and post town, weighted by current list size', () => {
    const area = loadArea('QGH');
    for (const d of area.districts.values()) {
      expect(d.practices.length).toBeGreaterThan(0);
      expect(d.cumulativeWeights.at(-1)).toBeGreaterThan(0);
      for (const p of d.practices) {
        expect(p.outward).toMatch(/^[A-Z]{1,2}\d[A-Z\d]?$/);
        expect(p.town).not.toBe('');
      }
    }
    const redditch = area.districts.get('E07000236');
    expect(new Set(redditch?.practices.map((p) => p.town))).toEqual(new Set(['Redditch']));
  });

  it('maps the 2019 districts merged into Buckinghamshire to the new council, with placeholder trusts', () => {
    const area = loadArea('QU9');
    const bucks = area.lsoas.filter((l) => l.district === 'E06000060');
    expect(new Set(bucks.map((l) => l.lad))).toEqual(new Set(['E07000004', 'E07000005', 'E07000006', 'E07000007']));
    expect(bucks.every((l) => l.council === 'E06000060')).toBe(true);
    expect(area.districts.get('E06000060')?.council).toEqual({ code: 'E06000060', name: 'Buckinghamshire Council' });
    expect(area.lsoas.some((l) => l.council === 'E10000025')).toBe(true); // Oxfordshire
    const orgs = area.organisations;
    expect(orgs.ambulanceTrust.code).toBe('RYE');
    // No trust data for QU9: placeholders, labelled as such, one acute trust per council area.
    expect(orgs.acuteTrusts.length).toBe(orgs.councils.length);
    for (const t of [...orgs.acuteTrusts, orgs.communityTrust]) {
      expect(t.code).toMatch(/^QU9-/);
      expect(t.name).toMatch(/^Placeholder /);
    }
    expect(acuteTrustFor(orgs, 'E07000004').name).toContain('Buckinghamshire');
    expect(acuteTrustFor(orgs, 'E06000060').code).toBe(acuteTrustFor(orgs, 'E07000007').code);
    expect(councilFor(orgs, 'E07000005').code).toBe('E06000060');
    expect(orgs.acuteTrusts.reduce((s, t) => s + t.share, 0)).toBeCloseTo(1, 10);
  });

  it('gives North and West Northamptonshire their older districts', () => {
    const area = loadArea('QPM');
    expect(new Set(area.lsoas.map((l) => l.district))).toEqual(new Set(['E06000061', 'E06000062']));
    expect(new Set(area.lsoas.map((l) => l.lad)).size).toBe(7);
    expect(ambulanceTrustFor(area.organisations, 'E07000154').code).toBe('RX9');
  });

  it('uses the ambulance service that serves the district where it differs from the ICB’s', () => {
    expect(ambulanceTrustFor(loadArea('QHM').organisations, 'E07000028').code).toBe('RX7'); // Carlisle
    expect(ambulanceTrustFor(loadArea('QHM').organisations, 'E08000021').code).toBe('RX6'); // Newcastle
    expect(ambulanceTrustFor(loadArea('QRL').organisations, 'E06000046').code).toBe('R1F'); // Isle of Wight
    expect(ambulanceTrustFor(loadArea('QNQ').organisations, 'E07000214').code).toBe('RYD'); // Surrey Heath
    expect(ambulanceTrustFor(loadArea('QNQ').organisations, 'E06000039').code).toBe('RYE'); // Slough
    expect(loadArea('QMJ').organisations.ambulanceTrust.code).toBe('RRU');
  });

  it('puts every LSOA in England in exactly one ICB', () => {
    const owner = new Map<string, string>();
    for (const icb of icbs()) {
      const area = loadArea(icb.code);
      expect(area.lsoas.length, icb.code).toBeGreaterThan(0);
      for (const l of area.lsoas) {
        expect(owner.get(l.code), `${l.code} in ${icb.code}`).toBeUndefined();
        owner.set(l.code, icb.code);
      }
    }
    expect(owner.size).toBe(nationalLsoas().length);
    expect(owner.size).toBe(32_844);
  });

  it('refuses an unknown ICB, naming it', () => {
    expect(() => loadArea('QZZ')).toThrow(/Unknown ICB code "QZZ"/);
    expect(loadArea(' qgh ').icb.code).toBe('QGH');
  });
});
