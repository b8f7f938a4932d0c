/**
 * Next of kin: who in a resident's own household their GP practice (and the council, for people
 * it supports) records as a contact (Patient.contact), and how they are related.
 *
 * From the household's roles (population.ts `householdRoles`): a child's or a young adult's
 * parent (the recorded mother first), a partner's partner (husband or wife when married, which
 * the model shows as a couple of opposite sexes sharing a surname; otherwise partner), a lone
 * parent's adult child, a grandparent's son or daughter (the head; "family member" when their
 * surnames differ, since the grandparent may be the partner's parent). Sharers are not kin. The
 * kin must be alive and, unless a parent, an adult. Whether it is recorded is drawn from
 * `NEXT_OF_KIN_SHARE` (prevalence.ts), one draw per resident always, so the draws never shift.
 *
 * The contact carries the kin's true name (the household member's own), their sex and the
 * relationship (UK Core PersonRelationshipType: v3 RoleCode, then v2-0131 Next-of-Kin). The model
 * has no telephone numbers, so contacts have none. Nothing about the resident's own demographics
 * changes: the master patient index links copies on Patient.name, birthDate, gender, address and
 * identifier, never on contact.
 */
import type { PatientContact } from '@medplum/fhirtypes';
import { NEXT_OF_KIN, RELATIONSHIPS, type RelationshipKey } from './codes.js';
import type { Resident } from './model.js';
import { type HouseholdRole, ageOn } from './population.js';
import { NEXT_OF_KIN_SHARE } from './prevalence.js';
import type { Random } from './random.js';

/** A resident's next of kin: another resident of the same household, and how they are related. */
export interface NextOfKin {
  kin: Resident;
  relationship: RelationshipKey;
}

/** The household member each resident would name, before whether it is recorded is drawn. */
function candidate(residents: readonly Resident[], roles: readonly HouseholdRole[], i: number, asOf: string): NextOfKin | undefined {
  const me = residents[i] as Resident;
  const role = roles[i];
  const alive = (j: number): boolean => j >= 0 && j !== i && residents[j]?.deathDate === undefined;
  const ageOf = (j: number): number => ageOn((residents[j] as Resident).birthDate, asOf);
  const find = (wanted: HouseholdRole): number => roles.findIndex((r, j) => r === wanted && j !== i);
  const parentWord = (j: number): RelationshipKey => ((residents[j] as Resident).sex === 'female' ? 'mother' : 'father');
  const childWord = (j: number): RelationshipKey => ((residents[j] as Resident).sex === 'female' ? 'daughter' : 'son');
  const olderBy = (j: number): number => (Date.parse(me.birthDate) - Date.parse((residents[j] as Resident).birthDate)) / (365.25 * 86_400_000);

  if (role === 'child' || role === 'young-adult') {
    // The recorded mother first; otherwise the head or partner old enough to be a parent.
    const mother = me.mother === undefined ? -1 : residents.findIndex((r) => r.id === me.mother);
    if (alive(mother)) return { kin: residents[mother] as Resident, relationship: 'mother' };
    for (const j of [find('head'), find('partner')]) {
      if (alive(j) && olderBy(j) >= 16) return { kin: residents[j] as Resident, relationship: parentWord(j) };
    }
    return undefined;
  }
  if (role === 'head' || role === 'partner') {
    const other = role === 'head' ? find('partner') : find('head');
    if (alive(other)) {
      const them = residents[other] as Resident;
      const married = them.sex !== me.sex && them.family === me.family;
      return { kin: them, relationship: married ? (them.sex === 'female' ? 'wife' : 'husband') : 'partner' };
    }
    if (role === 'partner') return undefined;
    // A lone parent: their eldest adult child at home.
    for (let j = 0; j < residents.length; j++) {
      if ((roles[j] === 'young-adult' || roles[j] === 'child') && alive(j) && ageOf(j) >= 18 && olderBy(j) <= -16) return { kin: residents[j] as Resident, relationship: childWord(j) };
    }
    return undefined;
  }
  if (role === 'grandparent') {
    const head = find('head');
    if (!alive(head) || ageOf(head) < 18) return undefined;
    const them = residents[head] as Resident;
    return { kin: them, relationship: them.family === me.family ? childWord(head) : 'familyMember' };
  }
  return undefined;
}

/** Who each resident of one household would name as next of kin (undefined: nobody), before whether it is recorded is drawn. */
export function nextOfKinCandidates(residents: readonly Resident[], roles: readonly HouseholdRole[], asOf: string): (NextOfKin | undefined)[] {
  if (roles.length !== residents.length) throw new Error(`contacts: ${roles.length} roles for a household of ${residents.length}`);
  return residents.map((_, i) => candidate(residents, roles, i, asOf));
}

/**
 * The next of kin recorded for each resident of one household (undefined: none), in the
 * household's order. `random` is the household's own contacts stream: one draw per resident.
 */
export function householdNextOfKin(residents: readonly Resident[], roles: readonly HouseholdRole[], random: Random, asOf: string): (NextOfKin | undefined)[] {
  const candidates = nextOfKinCandidates(residents, roles, asOf);
  return residents.map((r, i) => {
    const draw = random.next();
    const found = candidates[i];
    if (found === undefined) return undefined;
    const age = ageOn(r.birthDate, r.deathDate ?? asOf);
    const share = age < 16 ? NEXT_OF_KIN_SHARE.child : age < 65 ? NEXT_OF_KIN_SHARE.adultUnder65 : NEXT_OF_KIN_SHARE.adult65Plus;
    return draw < share ? found : undefined;
  });
}

/** The Patient.contact of a next of kin: the relationship, their true name and their sex. */
export function patientContact(next: NextOfKin): PatientContact {
  const { kin, relationship } = next;
  return {
    relationship: [RELATIONSHIPS[relationship], NEXT_OF_KIN],
    name: { use: 'official', family: kin.family, given: kin.given.slice() },
    gender: kin.sex,
  };
}
