/**
 * The rules check: every statutory and guidance rule the seed documents state about an ICS's
 * structure, each with the rule's own words and where they come from.
 *
 * A rule is data (id, words, source) plus one small function that lists breaches. To add a rule,
 * add an entry to RULES; nothing else in the code needs to change.
 */
import {
  type Body,
  type IcsStructure,
  type Membership,
  type Organisation,
  type PartnerSector,
  PARTNER_SECTORS,
  type Role,
  isCurrent,
  isNhsTrust,
  isUpperTierCouncil,
  partnerSector,
  today,
} from './model.js';

export const SOURCES = {
  designFramework: 'Integrated care system development: system design framework summary (Herefordshire and Worcestershire ICS)',
  nextSteps: 'NHS England and NHS Improvement, Integrating care: next steps to building strong and effective integrated care systems across England (November 2020)',
  longTermPlan: 'NHS Long Term Plan (2019)',
  openIcs: 'OpenICS consistency check (not a rule of the seed documents)',
} as const;

export interface Subject {
  kind: 'ics' | 'body' | 'place' | 'pcn' | 'practice' | 'organisation' | 'function';
  id: string;
  name: string;
}

export interface Finding {
  subject: Subject;
  detail: string;
}

export interface Rule {
  id: string;
  /** The rule in the words of its source. */
  words: string;
  source: { document: string; section: string };
  /** What the rule is about, so a body's page can show only the rules that concern it. */
  concerns: 'icb_board' | 'icp' | 'committee' | 'place_partnership' | 'provider_collaborative' | 'primary_care' | 'functions';
  check(structure: IcsStructure, asOf: string): Finding[];
}

export interface Breach extends Finding {
  ruleId: string;
  words: string;
  source: { document: string; section: string };
}

export interface RulesReport {
  asOf: string;
  passed: boolean;
  rules: { rule: Rule; breaches: Breach[] }[];
  breaches: Breach[];
}

export function checkRules(structure: IcsStructure, asOf: string = today(), rules: readonly Rule[] = RULES): RulesReport {
  const results = rules.map((rule) => ({
    rule,
    breaches: rule.check(structure, asOf).map((f) => ({ ...f, ruleId: rule.id, words: rule.words, source: rule.source })),
  }));
  const breaches = results.flatMap((r) => r.breaches);
  return { asOf, passed: breaches.length === 0, rules: results, breaches };
}

/** Breaches that concern one body (its own rules, and rules about its subject). */
export function breachesFor(report: RulesReport, subject: { kind: Subject['kind']; id: string }): Breach[] {
  return report.breaches.filter((b) => b.subject.kind === subject.kind && b.subject.id === subject.id);
}

// ---- helpers over the structure ---------------------------------------------------------

const ics = (s: IcsStructure): Subject => ({ kind: 'ics', id: s.ics.code, name: s.ics.name });
const bodySubject = (b: Body): Subject => ({ kind: 'body', id: b.id, name: b.name });

function board(s: IcsStructure): Body | undefined {
  return s.bodies.find((b) => b.kind === 'icb_board');
}

function currentMembers(s: IcsStructure, bodyId: string, asOf: string): Membership[] {
  return s.memberships.filter((m) => m.bodyId === bodyId && isCurrent(m, asOf));
}

function withRole(members: Membership[], ...roles: Role[]): Membership[] {
  return members.filter((m) => roles.includes(m.role));
}

function org(s: IcsStructure, code: string | null): Organisation | undefined {
  return code ? s.organisations.get(code) : undefined;
}

function personName(s: IcsStructure, personId: string): string {
  return s.people.get(personId)?.name ?? personId;
}

/** Non-executives must not hold roles in other bodies: any current role outside the ICB breaks independence. */
function otherRoles(s: IcsStructure, personId: string, asOf: string): Organisation[] {
  return s.organisationRoles
    .filter((r) => r.personId === personId && r.orgCode !== s.icb.code && isCurrent(r, asOf))
    .map((r) => org(s, r.orgCode))
    .filter((o): o is Organisation => o !== undefined);
}

/** Rules about the ICB board report one finding when there is no board at all. */
function onBoard(check: (s: IcsStructure, board: Body, asOf: string) => Finding[]): Rule['check'] {
  return (s, asOf) => {
    const b = board(s);
    if (!b) return [{ subject: ics(s), detail: 'The ICB has no board.' }];
    return check(s, b, asOf);
  };
}

function placePartnerships(s: IcsStructure): Body[] {
  return s.bodies.filter((b) => b.kind === 'place_partnership');
}

function memberOrgs(s: IcsStructure, bodyId: string): Organisation[] {
  return (s.bodyOrganisations.get(bodyId) ?? []).map((c) => org(s, c)).filter((o): o is Organisation => o !== undefined);
}

// ---- rule factories: one rule, many instances ------------------------------------------

function boardRole(role: Role, title: string, words: string): Rule {
  return {
    id: `icb-board-${role.replaceAll('_', '-')}`,
    words,
    source: { document: SOURCES.designFramework, section: 'ICS Body minimum membership' },
    concerns: 'icb_board',
    check: onBoard((s, b, asOf) =>
      withRole(currentMembers(s, b.id, asOf), role).length > 0 ? [] : [{ subject: bodySubject(b), detail: `The board has no ${title} in post.` }],
    ),
  };
}

function partnerMember(sector: PartnerSector): Rule {
  return {
    id: `icb-board-partner-${sector.replaceAll('_', '-')}`,
    words: 'Partner Members (At least one from each of the groups): Local authority, Primary Care Medical Services, NHS Trust',
    source: { document: SOURCES.designFramework, section: 'ICS Body minimum membership' },
    concerns: 'icb_board',
    check: onBoard((s, b, asOf) => {
      const found = withRole(currentMembers(s, b.id, asOf), 'partner_member').some((m) => {
        const from = org(s, m.orgCode);
        return from !== undefined && partnerSector(from) === sector;
      });
      return found ? [] : [{ subject: bodySubject(b), detail: `The board has no partner member from ${PARTNER_SECTORS[sector].toLowerCase()}.` }];
    }),
  };
}

function boardCommittee(type: 'audit' | 'remuneration', title: string): Rule {
  return {
    id: `icb-${type}-committee`,
    words: 'Must have an Audit Committee and a Remuneration Committee.',
    source: { document: SOURCES.designFramework, section: 'ICS NHS Body' },
    concerns: 'committee',
    check: onBoard((s, b) =>
      s.bodies.some((c) => c.kind === 'committee' && c.committeeType === type && c.parentId === b.id)
        ? []
        : [{ subject: bodySubject(b), detail: `The ICB has no ${title} committee.` }],
    ),
  };
}

function placeMinimum(id: string, words: string, detail: string, satisfied: (s: IcsStructure, p: Body, members: Membership[], orgs: Organisation[]) => boolean): Rule {
  return {
    id: `place-partnership-${id}`,
    words,
    source: { document: SOURCES.designFramework, section: 'Place-based partnerships (minimum membership); Integrating care: next steps 2.31 ii' },
    concerns: 'place_partnership',
    check: (s, asOf) =>
      placePartnerships(s)
        .filter((p) => !satisfied(s, p, currentMembers(s, p.id, asOf), memberOrgs(s, p.id)))
        .map((p) => ({ subject: bodySubject(p), detail })),
  };
}

// ---- the rules --------------------------------------------------------------------------

export const RULES: readonly Rule[] = [
  {
    id: 'icb-board-exists',
    words: 'Will be supported by a Unitary Board responsible for ensuring the statutory duties are met.',
    source: { document: SOURCES.designFramework, section: 'ICS NHS Body' },
    concerns: 'icb_board',
    check: (s) => (board(s) ? [] : [{ subject: ics(s), detail: 'The ICB has no board.' }]),
  },
  boardRole('chair', 'chair', 'Non Executives (not holding roles in other bodies): Chair'),
  {
    id: 'icb-board-independent-non-executives',
    words: 'Non Executives (not holding roles in other bodies): Chair, 2 other independent non-executive directors',
    source: { document: SOURCES.designFramework, section: 'ICS Body minimum membership' },
    concerns: 'icb_board',
    check: onBoard((s, b, asOf) => {
      const members = currentMembers(s, b.id, asOf);
      const findings: Finding[] = [];
      for (const m of withRole(members, 'chair', 'non_executive_director')) {
        const roles = otherRoles(s, m.personId, asOf);
        if (roles.length > 0) {
          findings.push({
            subject: bodySubject(b),
            detail: `${personName(s, m.personId)} (${m.role === 'chair' ? 'chair' : 'non-executive director'}) also holds a role in ${roles.map((o) => o.name).join(', ')}, so is not independent.`,
          });
        }
      }
      const independent = withRole(members, 'non_executive_director').filter((m) => otherRoles(s, m.personId, asOf).length === 0);
      if (independent.length < 2) {
        findings.push({ subject: bodySubject(b), detail: `The board has ${independent.length} independent non-executive director(s) besides the chair; it needs at least 2.` });
      }
      return findings;
    }),
  },
  boardRole('chief_executive', 'chief executive', '1 Chief Executive Officer (Accountable Officer for NHS Funding allocated)'),
  boardRole('chief_finance_officer', 'chief finance officer', 'Executives (employed by NHS Body): Chief Finance Officer'),
  boardRole('director_of_nursing', 'director of nursing', 'Executives (employed by NHS Body): Chief Nursing Officer'),
  boardRole('medical_director', 'medical director', 'Executives (employed by NHS Body): Chief Medical Officer'),
  partnerMember('local_authority'),
  partnerMember('primary_medical_services'),
  partnerMember('nhs_trust'),
  boardCommittee('audit', 'audit'),
  boardCommittee('remuneration', 'remuneration'),
  {
    id: 'icp-exists',
    words: 'Each ICS to have a Partnership at system level based on equal partnership between NHS and Local Authorities.',
    source: { document: SOURCES.designFramework, section: 'ICS Partnership' },
    concerns: 'icp',
    check: (s) => (s.bodies.some((b) => b.kind === 'icp') ? [] : [{ subject: ics(s), detail: 'The ICS has no integrated care partnership.' }]),
  },
  {
    id: 'icp-membership',
    words: 'Membership must include NHS (could be just the ICS NHS Body) and the upper tier local authorities providing social care.',
    source: { document: SOURCES.designFramework, section: 'ICS Partnership' },
    concerns: 'icp',
    check: (s: IcsStructure): Finding[] => {
      const findings: Finding[] = [];
      const councils = new Set(s.places.map((p) => p.upperTierCode).filter((c): c is string => c !== null));
      for (const icp of s.bodies.filter((b) => b.kind === 'icp')) {
        const members = new Set(s.bodyOrganisations.get(icp.id) ?? []);
        if (!members.has(s.icb.code)) findings.push({ subject: bodySubject(icp), detail: `The partnership does not include the ICB (${s.icb.name}).` });
        for (const code of councils) {
          if (!members.has(code)) findings.push({ subject: bodySubject(icp), detail: `The partnership does not include ${org(s, code)?.name ?? code}, an upper-tier council in the area.` });
        }
      }
      return findings;
    },
  },
  {
    id: 'icp-chair',
    words: 'NHS and Local Authorities to jointly agree on the chair, their role, term of office and accountabilities.',
    source: { document: SOURCES.designFramework, section: 'ICS Partnership' },
    concerns: 'icp',
    check: (s, asOf) =>
      s.bodies
        .filter((b) => b.kind === 'icp' && withRole(currentMembers(s, b.id, asOf), 'chair').length === 0)
        .map((b) => ({ subject: bodySubject(b), detail: 'The partnership has no chair in post.' })),
  },
  {
    id: 'icp-vcse',
    words: 'VCSE should be embedded as essential partners at all levels of decision making, including: Governance structures.',
    source: { document: SOURCES.designFramework, section: 'Voluntary, Community and Social Enterprises' },
    concerns: 'icp',
    check: (s) =>
      s.bodies
        .filter((b) => b.kind === 'icp' && !memberOrgs(s, b.id).some((o) => o.kind === 'vcse'))
        .map((b) => ({ subject: bodySubject(b), detail: 'The partnership has no voluntary, community or social enterprise member.' })),
  },
  {
    id: 'place-partnership-exists',
    words: "every locally determined 'place' in the system operating a partnership with joined-up decision-making arrangements for defined functions",
    source: { document: SOURCES.nextSteps, section: '2.31 i' },
    concerns: 'place_partnership',
    check: (s) =>
      s.places
        .filter((p) => !placePartnerships(s).some((b) => b.placeId === p.id))
        .map((p) => ({ subject: { kind: 'place', id: p.id, name: p.name }, detail: `${p.name} has no place-based partnership.` })),
  },
  {
    id: 'place-partnership-form',
    words:
      'Expected to take one of five forms: Consultative forum. Committee of the ICS NHS Body. Joint Committee of the ICS NHS Body with one or more partners. Individual director of the ICS NHS Body with delegated responsibility. Lead provider at Place.',
    source: { document: SOURCES.designFramework, section: 'Place-based partnerships' },
    concerns: 'place_partnership',
    check: (s, asOf) =>
      placePartnerships(s).flatMap((p): Finding[] => {
        if (!p.form) return [{ subject: bodySubject(p), detail: 'The partnership has not chosen one of the five forms.' }];
        if (p.form === 'lead_provider' && !org(s, p.leadOrgCode)) return [{ subject: bodySubject(p), detail: 'The partnership takes the lead provider form but names no lead provider.' }];
        if (p.form === 'individual_director' && withRole(currentMembers(s, p.id, asOf), 'place_leader').length === 0) {
          return [{ subject: bodySubject(p), detail: 'The partnership takes the individual director form but has no place leader (the director with delegated responsibility) in post.' }];
        }
        return [];
      }),
  },
  placeMinimum(
    'primary-care',
    'Minimum membership should include: Primary Care provider leadership.',
    'The partnership has no primary care provider leader (for example a PCN clinical director) in post.',
    (_s, _p, members) => withRole(members, 'pcn_clinical_director', 'primary_care_provider_lead').length > 0,
  ),
  placeMinimum(
    'local-authority',
    'Minimum membership should include: Local authorities, including Director of Public Health.',
    'The partnership needs a local authority among its organisations and its director of public health among its members.',
    (_s, _p, members, orgs) => orgs.some((o) => o.kind.endsWith('_council')) && withRole(members, 'director_of_public_health').length > 0,
  ),
  placeMinimum(
    'community-mental-health',
    'the partnership involving, at a minimum, primary care provider leadership, local authorities, including Director of Public Health and providers of community and mental health services and Healthwatch',
    'The partnership needs providers of both community and mental health services among its organisations.',
    (_s, _p, _members, orgs) => orgs.some((o) => o.services.includes('community')) && orgs.some((o) => o.services.includes('mental_health')),
  ),
  placeMinimum(
    'people',
    'Minimum membership should include: Representatives of people who access care and support.',
    'The partnership has neither Healthwatch among its organisations nor a representative of people who access care among its members.',
    (_s, _p, members, orgs) => orgs.some((o) => o.kind === 'healthwatch') || withRole(members, 'healthwatch_representative', 'people_representative').length > 0,
  ),
  {
    id: 'place-partnership-board-representation',
    words: 'representation on the ICS board',
    source: { document: SOURCES.nextSteps, section: '2.31 iv (place leadership arrangements)' },
    concerns: 'place_partnership',
    check: onBoard((s, b, asOf) => {
      const boardPeople = new Set(currentMembers(s, b.id, asOf).map((m) => m.personId));
      return placePartnerships(s)
        .filter((p) => !currentMembers(s, p.id, asOf).some((m) => boardPeople.has(m.personId)))
        .map((p) => ({ subject: bodySubject(p), detail: 'No member of the partnership sits on the ICB board.' }));
    }),
  },
  {
    id: 'trust-in-provider-collaborative',
    words: 'All NHS provider trusts will be expected to be part of a provider collaborative.',
    source: { document: SOURCES.nextSteps, section: '2.6; system design framework, Provider collaborations' },
    concerns: 'provider_collaborative',
    check: (s: IcsStructure): Finding[] => {
      const inCollaborative = new Set(s.bodies.filter((b) => b.kind === 'provider_collaborative').flatMap((b) => s.bodyOrganisations.get(b.id) ?? []));
      return s.partners
        .map((c) => org(s, c))
        .filter((o): o is Organisation => o !== undefined && isNhsTrust(o) && !inCollaborative.has(o.code))
        .map((o) => ({ subject: { kind: 'organisation', id: o.code, name: o.name }, detail: `${o.name} is not a member of any provider collaborative.` }));
    },
  },
  {
    id: 'provider-collaborative-model',
    words: 'It is for providers to work together to decide on the best governance model for their collaboration, but expected to be one of the following: Provider Leadership Board. Lead Provider. Shared Leadership or Group.',
    source: { document: SOURCES.designFramework, section: 'Provider collaborations' },
    concerns: 'provider_collaborative',
    check: (s) =>
      s.bodies
        .filter((b) => b.kind === 'provider_collaborative')
        .flatMap((b): Finding[] => {
          if (!b.model) return [{ subject: bodySubject(b), detail: 'The collaborative has not chosen a governance model.' }];
          if (b.model === 'lead_provider' && !(s.bodyOrganisations.get(b.id) ?? []).includes(b.leadOrgCode ?? '')) {
            return [{ subject: bodySubject(b), detail: 'The collaborative uses the lead provider model but its lead provider is not named among its members.' }];
          }
          return [];
        }),
  },
  {
    id: 'provider-collaborative-board-representation',
    words: 'provider collaboratives represented on the appropriate ICS board(s)',
    source: { document: SOURCES.nextSteps, section: '2.31 ii (provider collaborative leadership arrangements)' },
    concerns: 'provider_collaborative',
    check: onBoard((s, b, asOf) => {
      const boardMembers = currentMembers(s, b.id, asOf);
      return s.bodies
        .filter((c) => c.kind === 'provider_collaborative')
        .filter((c) => {
          const orgs = new Set(s.bodyOrganisations.get(c.id) ?? []);
          const people = new Set(currentMembers(s, c.id, asOf).map((m) => m.personId));
          return !boardMembers.some((m) => people.has(m.personId) || (m.orgCode !== null && orgs.has(m.orgCode)));
        })
        .map((c) => ({ subject: bodySubject(c), detail: 'Neither a member of the collaborative nor anyone from its organisations sits on the ICB board.' }));
    }),
  },
  {
    id: 'practice-in-pcn-and-place',
    words: 'Within each place, services are joined up through primary care networks (PCNs) integrating care in neighbourhoods.',
    source: { document: SOURCES.nextSteps, section: '1.14' },
    concerns: 'primary_care',
    check: (s) =>
      s.practices.flatMap((p): Finding[] => {
        const name = org(s, p.orgCode)?.name ?? p.orgCode;
        const subject: Subject = { kind: 'practice', id: p.orgCode, name };
        const missing = [p.pcnCode ? null : 'a PCN', p.placeId ? null : 'a place'].filter((m): m is string => m !== null);
        return missing.length === 0 ? [] : [{ subject, detail: `${name} is not in ${missing.join(' or ')}.` }];
      }),
  },
  {
    id: 'pcn-clinical-director',
    words: 'full engagement with primary care, including through a named accountable Clinical Director of each primary care network',
    source: { document: SOURCES.longTermPlan, section: '1.52' },
    concerns: 'primary_care',
    check: (s, asOf) =>
      s.pcns
        .filter((p) => !s.organisationRoles.some((r) => r.orgCode === p.orgCode && r.role === 'pcn_clinical_director' && isCurrent(r, asOf)))
        .map((p) => {
          const name = org(s, p.orgCode)?.name ?? p.orgCode;
          return { subject: { kind: 'pcn', id: p.orgCode, name }, detail: `${name} has no clinical director in post.` };
        }),
  },
  {
    id: 'accountability-stays-with-icb',
    words: 'Accountability for delivery cannot be delegated from the ICS NHS Body to Place so robust oversight and assurance arrangements are needed.',
    source: { document: SOURCES.designFramework, section: 'ICS NHS Body' },
    concerns: 'functions',
    check: (s) =>
      s.functions
        .filter((f) => f.accountableOrgCode !== s.icb.code)
        .map((f) => ({
          subject: { kind: 'function', id: f.id, name: f.name },
          detail: `${f.name} shows ${org(s, f.accountableOrgCode)?.name ?? f.accountableOrgCode} as accountable; accountability stays with ${s.icb.name} whatever is delegated.`,
        })),
  },
  {
    id: 'delegated-budget-within-function-budget',
    words: 'The budgets delegated for a function add up to no more than the function’s budget.',
    source: { document: SOURCES.openIcs, section: 'functions and decisions map' },
    concerns: 'functions',
    check: (s, asOf) =>
      s.functions.flatMap((f): Finding[] => {
        if (f.budgetPounds === null) return [];
        const delegated = s.delegations.filter((d) => d.functionId === f.id && isCurrent(d, asOf)).reduce((sum, d) => sum + (d.budgetPounds ?? 0), 0);
        return delegated > f.budgetPounds
          ? [{ subject: { kind: 'function', id: f.id, name: f.name }, detail: `Delegations total £${formatPounds(delegated)} against a budget of £${formatPounds(f.budgetPounds)}.` }]
          : [];
      }),
  },
];

function formatPounds(value: number): string {
  return value.toLocaleString('en-GB', { maximumFractionDigits: 0 });
}

/** Upper-tier councils of the ICS's places (for the ICP and place rules). */
export function upperTierCouncils(s: IcsStructure): Organisation[] {
  const codes = new Set(s.places.map((p) => p.upperTierCode).filter((c): c is string => c !== null));
  return [...codes].map((c) => org(s, c)).filter((o): o is Organisation => o !== undefined && isUpperTierCouncil(o));
}
