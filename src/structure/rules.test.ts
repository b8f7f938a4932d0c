import { describe, expect, it } from 'vitest';
import { buildDemo } from './demo.js';
import type { Membership } from './model.js';
import { RULES, checkRules } from './rules.js';
import { type IcsSeed, structureFromSeed } from './seed.js';

const AS_OF = '2026-11-23';
const YESTERDAY = '2026-11-22';

/** Ends the terms of the named person's memberships of one body. */
function endTerm(seed: IcsSeed, bodyId: string, name: string): void {
  const person = seed.people.find((p) => p.name === name);
  if (!person) throw new Error(`no person ${name} in the demo`);
  const matches = seed.memberships.filter((m) => m.bodyId === bodyId && m.personId === person.id);
  if (matches.length === 0) throw new Error(`${name} is not on ${bodyId}`);
  for (const m of matches) m.endDate = YESTERDAY;
}

function removeBody(seed: IcsSeed, bodyId: string): void {
  seed.bodies = seed.bodies.filter((b) => b.id !== bodyId);
  seed.memberships = seed.memberships.filter((m) => m.bodyId !== bodyId);
  seed.bodyOrganisations = seed.bodyOrganisations.filter((b) => b.bodyId !== bodyId);
  seed.delegations = seed.delegations.filter((d) => d.toBodyId !== bodyId);
}

function removeBodyOrg(seed: IcsSeed, bodyId: string, orgCode: string): void {
  const before = seed.bodyOrganisations.length;
  seed.bodyOrganisations = seed.bodyOrganisations.filter((b) => !(b.bodyId === bodyId && b.orgCode === orgCode));
  if (seed.bodyOrganisations.length === before) throw new Error(`${orgCode} is not in ${bodyId}`);
}

function body(seed: IcsSeed, id: string): IcsSeed['bodies'][number] {
  const found = seed.bodies.find((b) => b.id === id);
  if (!found) throw new Error(`no body ${id}`);
  return found;
}

const boardRules = RULES.filter((r) => r.id.startsWith('icb-board-') || r.id.startsWith('icb-') || r.id.endsWith('-board-representation')).map((r) => r.id);

/** Each case breaks the demo in one way a user could, and names exactly the rules that must then fail. */
const cases: [string, (seed: IcsSeed) => void, string[]][] = [
  ['the ICB has no board', (s) => {
    for (const c of s.bodies.filter((b) => b.parentId === 'QGH-board')) removeBody(s, c.id);
    removeBody(s, 'QGH-board');
  }, boardRules],
  ['the chair leaves', (s) => endTerm(s, 'QGH-board', 'Eleanor Whitcombe'), ['icb-board-chair']],
  ['a non-executive takes a role in a trust', (s) => {
    const rajesh = s.people.find((p) => p.name === 'Rajesh Patel');
    s.organisationRoles.push({ id: 'x', personId: rajesh?.id ?? '', orgCode: 'RWP', role: 'non_executive_director', startDate: '2026-01-01', endDate: null });
  }, ['icb-board-independent-non-executives']],
  ['two non-executives leave, leaving one besides the chair', (s) => {
    endTerm(s, 'QGH-board', 'Samuel Adeyemi');
    endTerm(s, 'QGH-board', "Margaret O'Neill");
  }, ['icb-board-independent-non-executives']],
  ['the chief executive leaves', (s) => endTerm(s, 'QGH-board', 'Simon Trevelyan'), ['icb-board-chief-executive']],
  ['the chief finance officer leaves', (s) => endTerm(s, 'QGH-board', 'Priya Shah'), ['icb-board-chief-finance-officer']],
  ['the director of nursing leaves', (s) => endTerm(s, 'QGH-board', 'Catherine Bowen'), ['icb-board-director-of-nursing']],
  ['the medical director leaves', (s) => endTerm(s, 'QGH-board', 'Dr Owen Hughes'), ['icb-board-medical-director']],
  ['the local authority partner member leaves', (s) => endTerm(s, 'QGH-board', 'Paul Robinson'), ['icb-board-partner-local-authority']],
  ['the primary medical services partner member leaves', (s) => endTerm(s, 'QGH-board', 'Dr Aisha Rahman'), ['icb-board-partner-primary-medical-services']],
  ['both NHS trust partner members leave', (s) => {
    endTerm(s, 'QGH-board', 'Sarah Collins');
    endTerm(s, 'QGH-board', 'Jonathan Price');
  }, ['icb-board-partner-nhs-trust', 'provider-collaborative-board-representation']],
  ['the audit committee is dissolved', (s) => removeBody(s, 'QGH-committee-audit'), ['icb-audit-committee']],
  ['the remuneration committee is dissolved', (s) => removeBody(s, 'QGH-committee-remuneration'), ['icb-remuneration-committee']],
  ['there is no ICP', (s) => removeBody(s, 'QGH-icp'), ['icp-exists']],
  ['Worcestershire County Council leaves the ICP', (s) => removeBodyOrg(s, 'QGH-icp', 'E10000034'), ['icp-membership']],
  ['the ICB leaves the ICP', (s) => removeBodyOrg(s, 'QGH-icp', 'QGH'), ['icp-membership']],
  ['the ICP chair stands down', (s) => endTerm(s, 'QGH-icp', 'Cllr Karen Ellis'), ['icp-chair']],
  ['the ICP loses its VCSE members', (s) => {
    removeBodyOrg(s, 'QGH-icp', 'L-VCSE-HW-ALLIANCE');
    removeBodyOrg(s, 'QGH-icp', 'L-VCSE-AGE-UK-HW');
  }, ['icp-vcse']],
  ['Bromsgrove has no place partnership', (s) => removeBody(s, 'QGH-place-E07000234'), ['place-partnership-exists']],
  ['a place partnership has no form', (s) => {
    body(s, 'QGH-place-E07000234').form = null;
  }, ['place-partnership-form']],
  ['a lead provider partnership names no lead provider', (s) => {
    body(s, 'QGH-place-E07000234').form = 'lead_provider';
  }, ['place-partnership-form']],
  // The place leader was also the partnership's link to the board, so both rules fail.
  ['an individual director partnership has no place leader', (s) => endTerm(s, 'QGH-place-E07000239', 'Daniel Okafor'), ['place-partnership-form', 'place-partnership-board-representation']],
  ['a place partnership loses its primary care leaders', (s) => {
    s.memberships = s.memberships.filter((m: Membership) => !(m.bodyId === 'QGH-place-E07000234' && m.role === 'pcn_clinical_director'));
  }, ['place-partnership-primary-care']],
  ['a place partnership loses its director of public health', (s) => endTerm(s, 'QGH-place-E07000234', 'Dr Michael Ashworth'), ['place-partnership-local-authority']],
  ['a place partnership loses its council', (s) => {
    removeBodyOrg(s, 'QGH-place-E07000234', 'E07000234');
    removeBodyOrg(s, 'QGH-place-E07000234', 'E10000034');
  }, ['place-partnership-local-authority']],
  ['a place partnership loses its mental health provider', (s) => removeBodyOrg(s, 'QGH-place-E07000234', 'R1A'), ['place-partnership-community-mental-health']],
  ['a place partnership loses Healthwatch and its representative', (s) => {
    removeBodyOrg(s, 'QGH-place-E07000234', 'L-HW-WORCESTERSHIRE');
    endTerm(s, 'QGH-place-E07000234', 'Tom Bradley');
  }, ['place-partnership-people']],
  ['the Director of Place for Worcestershire leaves the board', (s) => endTerm(s, 'QGH-board', 'Daniel Okafor'), ['place-partnership-board-representation']],
  ['the ambulance trust leaves its collaborative', (s) => removeBodyOrg(s, 'QGH-collaborative-uec', 'RYA'), ['trust-in-provider-collaborative']],
  ['a collaborative has no model', (s) => {
    body(s, 'QGH-collaborative-acute').model = null;
  }, ['provider-collaborative-model']],
  ['a lead provider collaborative names a lead that is not a member', (s) => {
    body(s, 'QGH-collaborative-mhlda').leadOrgCode = 'RWP';
  }, ['provider-collaborative-model']],
  ['a collaborative has nobody on the board', (s) => {
    s.bodies.push({ ...body(s, 'QGH-collaborative-uec'), id: 'QGH-collaborative-ambulance', name: 'Ambulance collaborative' });
    s.bodyOrganisations.push({ bodyId: 'QGH-collaborative-ambulance', orgCode: 'RYA' });
  }, ['provider-collaborative-board-representation']],
  ['a practice leaves its PCN', (s) => {
    const practice = s.practices.find((p) => p.orgCode === 'M81001');
    if (practice) practice.pcnCode = null;
  }, ['practice-in-pcn-and-place']],
  ['a practice has no place', (s) => {
    const practice = s.practices.find((p) => p.orgCode === 'M81001');
    if (practice) practice.placeId = null;
  }, ['practice-in-pcn-and-place']],
  ['a PCN clinical director stands down', (s) => {
    const role = s.organisationRoles.find((r) => r.orgCode === 'U32349' && r.role === 'pcn_clinical_director');
    if (role) role.endDate = YESTERDAY;
  }, ['pcn-clinical-director']],
  ['a function is shown as accountable elsewhere', (s) => {
    const fn = s.functions.find((f) => f.id === 'QGH-fn-community');
    if (fn) fn.accountableOrgCode = 'R1A';
  }, ['accountability-stays-with-icb']],
  ['delegations exceed a function budget', (s) => {
    s.delegations.push({ id: 'x', functionId: 'QGH-fn-chc', toBodyId: 'QGH-committee-quality', toPersonId: null, placeId: null, budgetPounds: 200_000_000, decisions: 'All', startDate: '2026-01-01', endDate: null });
  }, ['delegated-budget-within-function-budget']],
];

describe('the rules check', () => {
  it('passes every rule for the demo ICS, Herefordshire and Worcestershire', () => {
    const report = checkRules(structureFromSeed(buildDemo()), AS_OF);
    expect(report.breaches).toEqual([]);
    expect(report.passed).toBe(true);
  });

  it('has a case below for every rule, so no rule goes untested', () => {
    const tested = new Set(cases.flatMap(([, , ids]) => ids));
    expect(RULES.map((r) => r.id).filter((id) => !tested.has(id))).toEqual([]);
  });

  it('gives every rule a unique id, its own words and a source', () => {
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
    for (const rule of RULES) {
      expect(rule.words.length).toBeGreaterThan(10);
      expect(rule.source.document).not.toBe('');
      expect(rule.source.section).not.toBe('');
    }
  });

  it.each(cases)('flags exactly the broken rule when %s', (_name, breakIt, expected) => {
    const seed = buildDemo();
    breakIt(seed);
    const report = checkRules(structureFromSeed(seed), AS_OF);
    expect(report.passed).toBe(false);
    expect([...new Set(report.breaches.map((b) => b.ruleId))].sort()).toEqual([...expected].sort());
    for (const breach of report.breaches) {
      const rule = RULES.find((r) => r.id === breach.ruleId);
      expect(breach.words).toBe(rule?.words);
      expect(breach.source).toEqual(rule?.source);
      expect(breach.detail.length).toBeGreaterThan(10);
    }
  });

  it('counts only members whose term has started and not ended', () => {
    const seed = buildDemo();
    const chair = seed.memberships.find((m) => m.bodyId === 'QGH-board' && m.role === 'chair');
    if (!chair) throw new Error('demo has no chair');
    chair.startDate = '2027-01-01';
    expect(checkRules(structureFromSeed(seed), AS_OF).breaches.map((b) => b.ruleId)).toEqual(['icb-board-chair']);
    expect(checkRules(structureFromSeed(seed), '2027-01-01').breaches.map((b) => b.ruleId)).toEqual([]);
  });
});
