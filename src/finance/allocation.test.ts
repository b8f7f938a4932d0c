import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { type PracticeNeed, allocateToPenny, convergencePath, distanceFromTarget, excelRound, kahanSum, needIndices, needTotals, policyProblems, targetShares } from './allocation.js';
import { COMPONENTS, COMPONENT_KEYS, FITTED_CORE_WEIGHTS, NHSE_WEIGHTS } from './model.js';
import { type NeedPractice, needIcbs, needPracticesOf, placesBy } from './weighted-populations.js';

/** A small seeded generator, so property tests are repeatable. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function practice(code: string, row: number, population: number, wp: Partial<Record<(typeof COMPONENT_KEYS)[number], number>>): PracticeNeed {
  const full = Object.fromEntries(COMPONENT_KEYS.map((k) => [k, wp[k] ?? population])) as PracticeNeed['wp'];
  return { code, row, population, wp: full };
}

describe('excelRound: half up on the shortest decimal, as NHS England’s tool (Python Decimal) does', () => {
  it('rounds ties away from zero', () => {
    expect(excelRound(2.5)).toBe(3);
    expect(excelRound(3.5)).toBe(4);
    expect(excelRound(-2.5)).toBe(-3);
    expect(excelRound(0.5)).toBe(1);
    expect(excelRound(0.49999)).toBe(0);
    expect(excelRound(123456.5)).toBe(123457);
  });

  it('rounds on the decimal people read, not the binary value', () => {
    // 1.005 is stored as 1.00499999…, so Math.round(1.005 * 100) / 100 gives 1.
    expect(Math.round(1.005 * 100) / 100).toBe(1);
    expect(excelRound(1.005, 2)).toBe(1.01);
    expect(excelRound(1.0005, 3)).toBe(1.001);
    expect(excelRound(1, 3)).toBe(1);
    expect(excelRound(1.2, 3)).toBe(1.2);
    expect(excelRound(12, 0)).toBe(12);
    expect(excelRound(1.0004999, 3)).toBe(1);
    expect(excelRound(0.9995, 3)).toBe(1);
    expect(excelRound(1.2345, 3)).toBe(1.235);
    expect(excelRound(2.675, 2)).toBe(2.68);
    expect(excelRound(0.0005, 3)).toBe(0.001);
    expect(excelRound(1.5e-7, 3)).toBe(0);
    expect(excelRound(5e-4, 3)).toBe(0.001);
    expect(excelRound(1e21)).toBe(1e21);
    expect(excelRound(0)).toBe(0);
    expect(Object.is(excelRound(-0.0001, 3), 0)).toBe(true);
  });
});

describe('need indices, by hand', () => {
  it('sums, rounds each sum to a whole number, divides and rounds to 0.001', () => {
    // ICB: population 1000.4 + 1999.6 + 3000.5 = 6000.5 → 6001 (half up); G&A 1200 + 2100.5 + 2700 = 6000.5 → 6001.
    const a = practice('A', 0, 1000.4, { ga: 1200 });
    const b = practice('B', 1, 1999.6, { ga: 2100.5 });
    const c = practice('C', 2, 3000.5, { ga: 2700 });
    const result = needIndices([{ key: 'ab', name: 'A and B', practices: [a, b] }, { key: 'c', name: 'C', practices: [c] }], [a, b, c]);
    expect(result.icb.totals.population).toBe(6001);
    expect(result.icb.totals.wp.ga).toBe(6001);
    const ab = result.places[0];
    // Place A+B: population 3000, G&A 3300.5 → 3301; index (3301/3000)/(6001/6001) = 1.10033… → 1.100.
    expect(ab?.totals.population).toBe(3000);
    expect(ab?.totals.wp.ga).toBe(3301);
    expect(ab?.index.ga).toBe(1.1);
    // Place C: population 3000.5 → 3001; G&A 2700; 2700/3001 = 0.89970… → 0.900.
    expect(result.places[1]?.index.ga).toBe(0.9);
    expect(result.unassigned.practices).toBe(0);
  });

  it('sums in the order of NHS England’s file, with Kahan’s compensation, whatever order the place lists them in', () => {
    const naive = [1e16, 1, 1, 1, 1].reduce((s, v) => s + v, 0);
    expect(naive).toBe(1e16);
    expect(kahanSum([1e16, 1, 1, 1, 1])).toBe(1e16 + 4);
    const ps = [practice('X', 2, 10, {}), practice('Y', 0, 20, {}), practice('Z', 1, 30, {})];
    expect(needTotals(ps)).toEqual(needTotals([...ps].reverse()));
  });

  it('shows practices no place holds as their own group', () => {
    const a = practice('A', 0, 100, {});
    const b = practice('B', 1, 300, {});
    const result = needIndices([{ key: 'a', name: 'A', practices: [a] }], [a, b]);
    expect(result.unassigned.population).toBe(300);
  });

  it('blends custom weights from the rounded component sums', () => {
    const a = practice('A', 0, 100, { ga: 100, community: 100, mentalHealth: 200, maternity: 100, prescribing: 100, inequalities: 100, pmcNeed: 100 });
    const b = practice('B', 1, 100, {});
    const result = needIndices([{ key: 'a', name: 'A', practices: [a] }, { key: 'b', name: 'B', practices: [b] }], [a, b], {
      core: { ga: 0.5, community: 0, mentalHealth: 0.5, maternity: 0, prescribing: 0, inequalities: 0 },
      pmcInequalitiesShare: 0.15,
    });
    // A: core = 0.5·100 + 0.5·200 = 150; B: 100; ICB: 250 over 200 people. A's index = 1.5 / 1.25 = 1.2.
    expect(result.places[0]?.weighted.core).toBe(150);
    expect(result.places[0]?.index.core).toBe(1.2);
    expect(result.places[1]?.index.core).toBe(0.8);
  });
});

describe('pounds to the penny', () => {
  it('shares by largest remainder so the parts add up exactly', () => {
    expect(allocateToPenny(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(allocateToPenny(101, [1, 1, 1])).toEqual([34, 34, 33]);
    expect(allocateToPenny(-100, [1, 1, 1])).toEqual([-34, -33, -33]);
    expect(allocateToPenny(10, [0, 1, 0])).toEqual([0, 10, 0]);
    expect(allocateToPenny(0, [0, 0])).toEqual([0, 0]);
    expect(allocateToPenny(7, [0.2, 0.5, 0.3])).toEqual([1, 4, 2]);
    expect(() => allocateToPenny(10.5, [1])).toThrow();
    expect(() => allocateToPenny(10, [0, 0])).toThrow();
  });

  it('targets add up to the budget to the penny, whatever the weights (property)', () => {
    const next = random(42);
    for (let run = 0; run < 500; run++) {
      const n = 1 + Math.floor(next() * 40);
      const weights: number[] = Array.from({ length: n }, () => (next() < 0.1 ? 0 : next() * 1e6));
      if (!weights.some((w) => w > 0)) weights[0] = 1;
      const total = Math.floor(next() * 3e11) * (next() < 0.2 ? -1 : 1);
      const parts = allocateToPenny(total, weights);
      expect(parts.reduce((a, p) => a + p, 0)).toBe(total);
      const shares = targetShares(weights);
      parts.forEach((p, i) => {
        expect(Number.isInteger(p)).toBe(true);
        expect(Math.abs(p - total * (shares[i] ?? 0))).toBeLessThan(1.000001);
      });
    }
  });

  it('measures distance from target as (current − target) / target', () => {
    expect(distanceFromTarget(105, 100)).toBeCloseTo(0.05);
    expect(distanceFromTarget(95, 100)).toBeCloseTo(-0.05);
  });
});

describe('pace of change', () => {
  const policy = { years: 5, icbGrowth: 0.03, minGrowth: 0.01, maxGrowth: 0.06, gapClosure: 0.25, protectionBand: 0 };

  it('works a two-place case by hand', () => {
    // Pot £1,000 (100,000p): A has 60,000 with a 50% target; B has 40,000.
    const [base, first] = convergencePath([60_000, 40_000], [0.5, 0.5], { ...policy, years: 1 });
    expect(base?.targets).toEqual([50_000, 50_000]);
    expect(base?.distance[0]).toBeCloseTo(0.2);
    // Year 1: pot 103,000; flat growth gives A 61,800 and B 41,200; targets 51,500 each. A quarter
    // of B's 10,300 gap is 2,575, but the 6% cap (42,400) lets B gain only 1,200; A gives that,
    // which leaves A exactly on its 1% floor (60,600).
    expect(first?.total).toBe(103_000);
    expect(first?.budgets).toEqual([60_600, 42_400]);
    expect(first?.growth[0]).toBeCloseTo(0.01);
    expect(first?.growth[1]).toBeCloseTo(0.06);
  });

  it('closes the share of the gap asked for when nothing binds', () => {
    const loose = { years: 1, icbGrowth: 0.03, minGrowth: -0.2, maxGrowth: 0.3, gapClosure: 0.5, protectionBand: 0 };
    const [, first] = convergencePath([60_000, 40_000], [0.5, 0.5], loose);
    // Flat: 61,800 and 41,200; targets 51,500; half the gap: A 56,650, B 46,350.
    expect(first?.budgets).toEqual([56_650, 46_350]);
    expect(first?.distance[0]).toBeCloseTo(0.1);
  });

  it('protects places within the band above target: they keep the average growth', () => {
    const banded = { years: 1, icbGrowth: 0.03, minGrowth: -0.2, maxGrowth: 0.3, gapClosure: 0.5, protectionBand: 0.05 };
    // C is 2% above target: protected. A (20% above) pays for B's gain alone.
    const [, first] = convergencePath([51_000, 39_000, 10_200], [0.4, 0.5, 0.1], banded);
    // Targets in year 1: 41,282.4, 51,603 and 10,320.6. C: 10,200 × 1.03 = 10,506, unchanged by convergence.
    expect(first?.budgets[2]).toBe(10_506);
    expect(first?.budgets.reduce((a, b) => a + b, 0)).toBe(103_206);
  });

  it('explains what is wrong with a policy', () => {
    expect(policyProblems({ ...policy, minGrowth: 0.04 }).map((p) => p.field)).toEqual(['minGrowth']);
    expect(policyProblems({ ...policy, maxGrowth: 0.02 })[0]?.message).toContain('the pot could not be spent');
    expect(policyProblems({ ...policy, years: 0, gapClosure: 2 }).map((p) => p.field)).toEqual(['years', 'gapClosure']);
  });

  it('never breaches the minimum or maximum growth, always moves towards target, and adds up every year (property)', () => {
    const next = random(7);
    for (let run = 0; run < 300; run++) {
      const n = 2 + Math.floor(next() * 12);
      const current = Array.from({ length: n }, () => Math.round(1e8 + next() * 4e10));
      const shares = targetShares(Array.from({ length: n }, () => 0.2 + next()));
      const icbGrowth = next() * 0.06;
      const p = {
        years: 1 + Math.floor(next() * 6),
        icbGrowth,
        minGrowth: icbGrowth - next() * 0.04,
        maxGrowth: icbGrowth + next() * 0.06,
        gapClosure: next(),
        protectionBand: next() < 0.5 ? 0 : next() * 0.05,
      };
      const path = convergencePath(current, shares, p);
      expect(path).toHaveLength(p.years + 1);
      for (let t = 1; t < path.length; t++) {
        const year = path[t];
        const before = path[t - 1];
        if (!year || !before) continue;
        expect(year.budgets.reduce((a, b) => a + b, 0)).toBe(year.total);
        expect(year.targets.reduce((a, b) => a + b, 0)).toBe(year.total);
        year.budgets.forEach((b, i) => {
          const prev = before.budgets[i] ?? 0;
          expect(b).toBeGreaterThanOrEqual(prev * (1 + p.minGrowth) - 1);
          expect(b).toBeLessThanOrEqual(prev * (1 + p.maxGrowth) + 1);
          const d0 = before.distance[i] ?? 0;
          const d1 = year.distance[i] ?? 0;
          // Towards target: never further away, never past it (a penny either way aside).
          const slack = 2 / (year.targets[i] ?? 1);
          expect(Math.abs(d1)).toBeLessThanOrEqual(Math.abs(d0) + slack);
          if (Math.abs(d1) > slack) expect(Math.sign(d1)).toBe(Math.sign(d0));
        });
      }
    }
  });
});

// ---- parity with NHS England's method ----------------------------------------------------------

/**
 * An independent, deliberately plain implementation of NHS England's method, from the raw CSV:
 * fill blanks and zeros with 1, add up in file order, round half up on the decimal string (with
 * BigInt arithmetic rather than the module's digit handling), divide, round to 0.001.
 */
const raw = parse<Record<string, string>>(gunzipSync(fs.readFileSync(new URL('../../reference-data/nhse-gp-practice-weighted-populations-2025-26.csv.gz', import.meta.url))).toString('utf8'), {
  columns: true,
  bom: true,
});

function fill(v: string | undefined): number {
  const n = v === undefined || v.trim() === '' ? Number.NaN : Number(v);
  return Number.isNaN(n) || n === 0 ? 1 : n;
}

function roundHalfUp(x: number, places: number): number {
  // Scale the shortest decimal string to an integer number of 10^-(places+1) units with BigInt.
  const [mantissa = '0', exponent = '0'] = String(Math.abs(x)).split('e');
  const [whole = '0', fraction = ''] = mantissa.split('.');
  let digits = BigInt(whole + fraction);
  let scale = fraction.length - Number(exponent) - (places + 1);
  while (scale > 0) {
    digits /= 10n;
    scale--;
  }
  while (scale < 0) {
    digits *= 10n;
    scale++;
  }
  // digits is now truncated to one place beyond what we keep; add 5 and drop it (half up).
  const kept = (digits + 5n) / 10n;
  const value = Number(kept) / 10 ** places;
  return x < 0 ? -value : value;
}

function plainIndices(icb: string, practices: Set<string>): Record<string, number> {
  const columns = ['Population', ...COMPONENTS.map((c) => c.column)];
  const sum = (rows: Record<string, string>[], column: string): number => rows.reduce((s, r) => s + fill(r[column]), 0);
  const icbRows = raw.filter((r) => r.ICB === icb);
  const placeRows = icbRows.filter((r) => practices.has(r.Practice_Code ?? ''));
  const icbSums = Object.fromEntries(columns.map((c) => [c, roundHalfUp(sum(icbRows, c), 0)]));
  const placeSums = Object.fromEntries(columns.map((c) => [c, roundHalfUp(sum(placeRows, c), 0)]));
  return Object.fromEntries(
    COMPONENTS.map((c) => [c.key, roundHalfUp((placeSums[c.column] ?? 0) / (placeSums.Population ?? 1) / ((icbSums[c.column] ?? 0) / (icbSums.Population ?? 1)), 3)]),
  );
}

function groups(practices: NeedPractice[], by: Map<string, string>): { key: string; name: string; practices: NeedPractice[] }[] {
  const result = new Map<string, NeedPractice[]>();
  for (const p of practices) {
    const name = by.get(p.code);
    if (name === undefined) continue;
    result.set(name, [...(result.get(name) ?? []), p]);
  }
  return [...result.entries()].map(([name, ps]) => ({ key: name, name, practices: ps }));
}

describe('parity with NHS England’s place-based allocation tool, on the real 2025/26 data', () => {
  const cases: { icb: string; label: string; places: (ps: NeedPractice[]) => ReturnType<typeof groups> }[] = [
    { icb: 'QGH', label: 'Herefordshire and Worcestershire, whole districts', places: (ps) => groups(ps, placesBy(ps, 'districts')) },
    { icb: 'QGH', label: 'Herefordshire and Worcestershire, PCNs', places: (ps) => groups(ps, placesBy(ps, 'pcns')) },
    { icb: 'QGH', label: 'Herefordshire and Worcestershire, the two counties', places: (ps) => groups(ps, placesBy(ps, 'upper_tier')) },
    {
      icb: 'QGH',
      label: 'Herefordshire and Worcestershire, an arbitrary cluster of Hereford City and Malvern practices',
      places: (ps) => [{ key: 'cluster', name: 'Cluster', practices: ps.filter((p) => p.pcnCode === 'U65562' || p.pcnCode === 'U50083' || p.pcnCode === 'U97695') }],
    },
    { icb: 'QHM', label: 'North East and North Cumbria, whole districts', places: (ps) => groups(ps, placesBy(ps, 'districts')) },
    { icb: 'QHM', label: 'North East and North Cumbria, PCNs', places: (ps) => groups(ps, placesBy(ps, 'pcns')) },
    { icb: 'QWE', label: 'South West London, whole boroughs', places: (ps) => groups(ps, placesBy(ps, 'districts')) },
    { icb: 'QWE', label: 'South West London, every third practice', places: (ps) => [{ key: 'thirds', name: 'Every third practice', practices: ps.filter((_, i) => i % 3 === 0) }] },
    { icb: 'QOP', label: 'Greater Manchester, PCNs', places: (ps) => groups(ps, placesBy(ps, 'pcns')) },
  ];

  for (const c of cases) {
    it(`recomputes every index of ${c.label}`, () => {
      const practices = needPracticesOf(c.icb);
      const places = c.places(practices);
      expect(places.length).toBeGreaterThan(0);
      const result = needIndices(places, practices);
      for (const place of result.places) {
        const codes = new Set(places.find((p) => p.key === place.key)?.practices.map((p) => p.code));
        expect(place.index, place.name).toEqual(plainIndices(c.icb, codes));
      }
    });
  }

  it('gives Herefordshire (a whole district) its indices to three decimals, as the tool shows them', () => {
    const practices = needPracticesOf('QGH');
    const result = needIndices(groups(practices, placesBy(practices, 'districts')), practices);
    expect(result.icb.totals.population).toBe(837_510);
    expect(result.icb.totals.wp.core).toBe(837_129);
    const herefordshire = result.places.find((p) => p.name === 'Herefordshire');
    expect(herefordshire?.totals.practices).toBe(18);
    expect(herefordshire?.totals.population).toBe(196_788);
    expect(herefordshire?.index).toEqual({ ga: 1.043, community: 1.116, mentalHealth: 1.027, maternity: 0.944, prescribing: 1.043, inequalities: 0.952, core: 1.022, pmcNeed: 1.018, pmc: 1.01 });
    expect(result.places.find((p) => p.name === 'Worcester')?.index.core).toBe(0.924);
  });

  it('fills blanks and zeros with 1 as the tool does (104 practices have no maternity weighted population)', () => {
    const practices = needIcbs().flatMap((icb) => needPracticesOf(icb.code));
    expect(practices.filter((p) => p.filled.includes('Mat WP'))).toHaveLength(104);
    expect(practices.filter((p) => p.filled.includes('Mat WP')).every((p) => p.wp.maternity === 1)).toBe(true);
  });
});

describe('properties of place indices on the real data', () => {
  it('indices of an ICB’s places, weighted by population, average to 1 within rounding, in all 42 ICBs', () => {
    const icbs = needIcbs();
    expect(icbs).toHaveLength(42);
    const next = random(2025);
    for (const icb of icbs) {
      const practices = needPracticesOf(icb.code);
      // Districts, PCNs, and a random partition into 2 to 6 clusters.
      const k = 2 + Math.floor(next() * 5);
      const clusters = new Map(practices.map((p) => [p.code, `Cluster ${1 + Math.floor(next() * k)}`]));
      for (const [by, weights] of [
        [placesBy(practices, 'districts'), NHSE_WEIGHTS],
        [placesBy(practices, 'pcns'), NHSE_WEIGHTS],
        [clusters, NHSE_WEIGHTS],
        [clusters, { core: FITTED_CORE_WEIGHTS, pmcInequalitiesShare: 0.3 }],
      ] as const) {
        const result = needIndices(groups(practices, by), practices, weights);
        const population = result.places.reduce((s, p) => s + p.totals.population, 0);
        for (const key of COMPONENT_KEYS) {
          const mean = result.places.reduce((s, p) => s + p.totals.population * p.index[key], 0) / population;
          expect(Math.abs(mean - 1), `${icb.code} ${key}`).toBeLessThan(0.0006);
        }
      }
    }
  });
});
