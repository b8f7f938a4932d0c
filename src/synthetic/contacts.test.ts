import { describe, expect, it } from 'vitest';
import { type NextOfKin, householdNextOfKin, nextOfKinCandidates } from './contacts.js';
import { loadArea } from './geography.js';
import type { Resident } from './model.js';
import { type HouseholdRole, ageOn, household, householdCount, householdRoles } from './population.js';
import { NEXT_OF_KIN_SHARE, tolerance } from './prevalence.js';
import { Random } from './random.js';

const AS_OF = '2026-10-31';
const area = loadArea('QGH');
const options = { people: 6000, seed: 42, asOf: AS_OF };

interface Made {
  residents: Resident[];
  roles: HouseholdRole[];
  kin: (NextOfKin | undefined)[];
}

function make(seed: number): Made[] {
  const out: Made[] = [];
  for (let i = 0; i < householdCount(area, options); i++) {
    const residents = household(area, options, i);
    const roles = householdRoles(area, options, i);
    out.push({ residents, roles, kin: householdNextOfKin(residents, roles, new Random(seed, i), AS_OF) });
  }
  return out;
}
const made = make(1);

describe('householdNextOfKin', () => {
  it('gives the same next of kin for the same stream, and others for another', () => {
    expect(make(1)).toEqual(made);
    const other = make(2);
    const ids = (m: Made[]): string[] => m.flatMap((h) => h.kin.map((k) => k?.kin.id ?? '-'));
    expect(ids(other)).not.toEqual(ids(made));
  });

  it('names only another living member of the resident’s own household, related as the household says', () => {
    let named = 0;
    for (const { residents, roles, kin } of made) {
      expect(roles).toHaveLength(residents.length);
      for (const [i, next] of kin.entries()) {
        const me = residents[i] as Resident;
        if (next === undefined) continue;
        named += 1;
        const j = residents.indexOf(next.kin);
        expect(j).toBeGreaterThanOrEqual(0);
        expect(j).not.toBe(i);
        expect(next.kin.household).toBe(me.household);
        expect(next.kin.deathDate).toBeUndefined();
        const role = roles[i];
        const theirs = roles[j];
        // Sharers are nobody's next of kin and have none.
        expect(role).not.toBe('sharer');
        expect(theirs).not.toBe('sharer');
        if (role === 'child' || role === 'young-adult') {
          expect(['mother', 'father']).toContain(next.relationship);
          // The recorded mother while she lives; the father (or the other parent) after her death.
          const mother = residents.find((x) => x.id === me.mother);
          if (mother !== undefined && mother.deathDate === undefined) expect(next.kin.id).toBe(me.mother);
          else expect(next.kin.id).not.toBe(me.mother);
        }
        if (next.relationship === 'wife' || next.relationship === 'husband' || next.relationship === 'partner') expect([role, theirs].sort()).toEqual(['head', 'partner']);
        if (next.relationship === 'wife' || next.relationship === 'mother' || next.relationship === 'daughter') expect(next.kin.sex).toBe('female');
        if (next.relationship === 'husband' || next.relationship === 'father' || next.relationship === 'son') expect(next.kin.sex).toBe('male');
        if (next.relationship !== 'mother' && next.relationship !== 'father') expect(ageOn(next.kin.birthDate, AS_OF)).toBeGreaterThanOrEqual(18);
      }
    }
    expect(named).toBeGreaterThan(1500);
  });

  it('records a parent for most children and next of kin for more older adults than younger ones (NEXT_OF_KIN_SHARE)', () => {
    const counts: Record<keyof typeof NEXT_OF_KIN_SHARE, [number, number]> = { child: [0, 0], adultUnder65: [0, 0], adult65Plus: [0, 0] };
    for (const { residents, roles, kin } of made) {
      const candidates = nextOfKinCandidates(residents, roles, AS_OF);
      for (const [i, r] of residents.entries()) {
        // Recorded only ever for someone with a candidate, and then that candidate.
        if (candidates[i] === undefined) {
          expect(kin[i]).toBeUndefined();
          continue;
        }
        if (kin[i] !== undefined) expect(kin[i]).toEqual(candidates[i]);
        const age = ageOn(r.birthDate, r.deathDate ?? AS_OF);
        const group = counts[age < 16 ? 'child' : age < 65 ? 'adultUnder65' : 'adult65Plus'];
        group[1] += 1;
        if (kin[i] !== undefined) group[0] += 1;
      }
    }
    for (const [group, [withKin, eligible]] of Object.entries(counts) as [keyof typeof counts, [number, number]][]) {
      const share = NEXT_OF_KIN_SHARE[group];
      expect(eligible, group).toBeGreaterThan(300);
      expect(Math.abs(withKin / eligible - share), group).toBeLessThan(tolerance(share, eligible));
    }
  });

  it('refuses roles that do not fit the household', () => {
    const residents = household(area, options, 0);
    expect(() => householdNextOfKin(residents, [], new Random(1, 0), AS_OF)).toThrow(/roles for a household/);
  });
});
