/**
 * The demo ICS: Herefordshire and Worcestershire (ICB QGH). Practices, PCNs, places and
 * populations are NHS England's real data (via the skeleton); the NHS trusts and councils are
 * the real organisations of the area. Every person is fictional, and so are the board's
 * composition, the delegations and the budgets, written to pass the rules check as a mature
 * ICS would.
 */
import type { Body, BodyKind, Delegation, IcsFunction, Membership, Organisation, OrganisationKind, OrganisationRole, Person, Role, Service } from './model.js';
import type { IcsSeed } from './seed.js';
import { buildSkeleton } from './skeleton.js';

export const DEMO_ICS = 'QGH';

const HEREFORDSHIRE = 'E06000019';
const WORCESTERSHIRE = 'E10000034';
const WYE_VALLEY = 'RLQ';
const WORCS_ACUTE = 'RWP';
const HEALTH_AND_CARE = 'R1A';
const AMBULANCE = 'RYA';
const BSMHFT = 'RXT';
const NHS_ENGLAND = 'X24';
const HW_HEREFORDSHIRE = 'L-HW-HEREFORDSHIRE';
const HW_WORCESTERSHIRE = 'L-HW-WORCESTERSHIRE';
const VCSE_ALLIANCE = 'L-VCSE-HW-ALLIANCE';
const AGE_UK = 'L-VCSE-AGE-UK-HW';
const SPIRE = 'L-IP-SPIRE-SOUTH-BANK';
const CARE_FORUM = 'L-SC-CARE-PROVIDERS-FORUM';

/** Councils by ONS code with their real names (the skeleton can only guess them). */
const COUNCIL_NAMES: Record<string, string> = {
  [HEREFORDSHIRE]: 'Herefordshire Council',
  [WORCESTERSHIRE]: 'Worcestershire County Council',
  E07000234: 'Bromsgrove District Council',
  E07000235: 'Malvern Hills District Council',
  E07000236: 'Redditch Borough Council',
  E07000237: 'Worcester City Council',
  E07000238: 'Wychavon District Council',
  E07000239: 'Wyre Forest District Council',
};

function org(code: string, name: string, kind: OrganisationKind, services: Service[] = [], website: string | null = null): Organisation {
  return { code, name, kind, services, postcode: null, latitude: null, longitude: null, website };
}

const PARTNERS: Organisation[] = [
  org(NHS_ENGLAND, 'NHS England', 'nhs_england', [], 'https://www.england.nhs.uk'),
  org(WYE_VALLEY, 'Wye Valley NHS Trust', 'nhs_trust', ['acute', 'community'], 'https://www.wvt.nhs.uk'),
  org(WORCS_ACUTE, 'Worcestershire Acute Hospitals NHS Trust', 'nhs_trust', ['acute'], 'https://www.worcsacute.nhs.uk'),
  org(HEALTH_AND_CARE, 'Herefordshire and Worcestershire Health and Care NHS Trust', 'nhs_trust', ['community', 'mental_health'], 'https://www.hacw.nhs.uk'),
  org(AMBULANCE, 'West Midlands Ambulance Service University NHS Foundation Trust', 'foundation_trust', ['ambulance'], 'https://wmas.nhs.uk'),
  org(BSMHFT, 'Birmingham and Solihull Mental Health NHS Foundation Trust', 'foundation_trust', ['mental_health', 'specialist'], 'https://www.bsmhft.nhs.uk'),
  org(HW_HEREFORDSHIRE, 'Healthwatch Herefordshire', 'healthwatch', [], 'https://www.healthwatchherefordshire.co.uk'),
  org(HW_WORCESTERSHIRE, 'Healthwatch Worcestershire', 'healthwatch', [], 'https://www.healthwatchworcestershire.co.uk'),
  org(VCSE_ALLIANCE, 'Herefordshire and Worcestershire VCSE Alliance', 'vcse'),
  org(AGE_UK, 'Age UK Herefordshire and Worcestershire', 'vcse'),
  org(SPIRE, 'Spire South Bank Hospital', 'independent_provider', ['acute']),
  // Illustrative: social care providers are usually represented through a local providers' forum.
  org(CARE_FORUM, 'Herefordshire and Worcestershire Care Providers Forum', 'social_care_provider'),
];

/** PCN code → fictional clinical director. */
const CLINICAL_DIRECTORS: Record<string, string> = {
  U32349: 'Dr Aisha Rahman',
  U84529: 'Dr Thomas Whitfield',
  U21359: 'Dr Grace Okonkwo',
  U62975: 'Dr William Harte',
  U38064: 'Dr Lucy Fenwick',
  U98974: 'Dr Mark Prosser',
  U10834: 'Dr Nadia Hussain',
  U96198: 'Dr Peter Langford',
  U78694: 'Dr Joanna Kerr',
  U86948: 'Dr Imran Qureshi',
  U12199: 'Dr Sophie Vaughan',
  U97695: 'Dr Alan Cartwright',
  U50083: 'Dr Emma Lewis',
  U66005: 'Dr Richard Moss',
  U65562: 'Dr Hannah Birch',
};

export function buildDemo(): IcsSeed {
  const seed = buildSkeleton(DEMO_ICS);
  const ics = seed.ics.code;
  const board = `${ics}-board`;
  const icp = `${ics}-icp`;

  for (const o of seed.organisations) {
    const name = COUNCIL_NAMES[o.code];
    if (name) o.name = name;
  }
  seed.organisations.push(...PARTNERS);
  seed.partners.push(...PARTNERS.filter((o) => o.code !== NHS_ENGLAND && o.code !== BSMHFT).map((o) => o.code));

  const people = new Map<string, Person>();
  const person = (name: string): string => {
    const id = `${ics}-p-${name.toLowerCase().replace(/^(dr|cllr) /, '').replace(/[^a-z]+/g, '-')}`;
    if (!people.has(id)) people.set(id, { id, icsCode: ics, name, email: null });
    return id;
  };
  const roles: OrganisationRole[] = [];
  const holds = (name: string, orgCode: string, role: Role, startDate = '2022-07-01', endDate: string | null = null): string => {
    const personId = person(name);
    roles.push({ id: `${ics}-r-${roles.length + 1}`, personId, orgCode, role, startDate, endDate });
    return personId;
  };
  const memberships: Membership[] = [];
  const sits = (bodyId: string, name: string, role: Role, orgCode: string | null, options: { voting?: boolean; startDate?: string; endDate?: string | null } = {}): void => {
    memberships.push({
      id: `${ics}-m-${memberships.length + 1}`,
      bodyId,
      personId: person(name),
      role,
      orgCode,
      voting: options.voting ?? true,
      startDate: options.startDate ?? '2022-07-01',
      endDate: options.endDate ?? null,
    });
  };
  const body = (id: string, kind: BodyKind, name: string, extra: Partial<Body> = {}): Body => ({
    id,
    icsCode: ics,
    kind,
    name,
    parentId: null,
    committeeType: null,
    placeId: null,
    form: null,
    model: null,
    leadOrgCode: null,
    quorum: null,
    description: null,
    ...extra,
  });
  const bodyOrgs = (bodyId: string, ...codes: string[]): void => {
    seed.bodyOrganisations.push(...codes.map((orgCode) => ({ bodyId, orgCode })));
  };

  // Roles people hold in their own organisations: these decide independence and sectors.
  for (const [pcn, name] of Object.entries(CLINICAL_DIRECTORS)) holds(name, pcn, 'pcn_clinical_director', '2023-04-01');
  holds('Paul Robinson', WORCESTERSHIRE, 'chief_executive');
  holds('Sarah Collins', HEALTH_AND_CARE, 'chief_executive');
  holds('Jonathan Price', WYE_VALLEY, 'chief_executive');
  holds('Matthew Hale', WORCS_ACUTE, 'chief_executive');
  holds('Andrew Fenton', AMBULANCE, 'chief_executive');
  holds('Dr Rebecca Lloyd', HEREFORDSHIRE, 'director_of_public_health');
  holds('Dr Michael Ashworth', WORCESTERSHIRE, 'director_of_public_health');
  holds('Cllr Karen Ellis', WORCESTERSHIRE, 'elected_member');
  holds('Cllr David Hinton', HEREFORDSHIRE, 'elected_member');
  holds('Fiona Grant', HW_HEREFORDSHIRE, 'chief_executive');
  holds('Tom Bradley', HW_WORCESTERSHIRE, 'chief_executive');
  holds('Naomi Clarke', VCSE_ALLIANCE, 'chief_executive');
  for (const name of ['Simon Trevelyan', 'Priya Shah', 'Catherine Bowen', 'Dr Owen Hughes', 'Hayley Morgan', 'Daniel Okafor']) holds(name, ics, 'executive_director');

  // The ICB board: the minimum membership of the system design framework, plus place leaders.
  const bodies: Body[] = seed.bodies.map((b) => (b.id === board ? { ...b, quorum: 7 } : b.id === icp ? { ...b, quorum: 5 } : b));
  sits(board, 'Eleanor Whitcombe', 'chair', ics, { endDate: '2029-06-30' });
  sits(board, 'Rajesh Patel', 'non_executive_director', ics, { endDate: '2028-06-30' });
  sits(board, "Margaret O'Neill", 'non_executive_director', ics, { endDate: '2028-06-30' });
  sits(board, 'Geoffrey Lane', 'non_executive_director', ics, { endDate: '2025-06-30' });
  sits(board, 'Samuel Adeyemi', 'non_executive_director', ics, { startDate: '2025-07-01', endDate: '2029-06-30' });
  sits(board, 'Simon Trevelyan', 'chief_executive', ics);
  sits(board, 'Priya Shah', 'chief_finance_officer', ics);
  sits(board, 'Catherine Bowen', 'director_of_nursing', ics);
  sits(board, 'Dr Owen Hughes', 'medical_director', ics);
  sits(board, 'Paul Robinson', 'partner_member', WORCESTERSHIRE, { endDate: '2027-06-30' });
  sits(board, 'Dr Aisha Rahman', 'partner_member', 'U32349', { endDate: '2027-06-30' });
  sits(board, 'Sarah Collins', 'partner_member', HEALTH_AND_CARE, { endDate: '2027-06-30' });
  sits(board, 'Jonathan Price', 'partner_member', WYE_VALLEY, { endDate: '2027-06-30' });
  sits(board, 'Hayley Morgan', 'place_leader', ics, { voting: false });
  sits(board, 'Daniel Okafor', 'place_leader', ics, { voting: false });

  // Committees of the board. Committee members need not be board members or ICB employees.
  const committee = (slug: string, name: string, type: Body['committeeType'], quorum: number, description: string): string => {
    const id = `${ics}-committee-${slug}`;
    bodies.push(body(id, 'committee', name, { parentId: board, committeeType: type, quorum, description }));
    return id;
  };
  const audit = committee('audit', 'Audit and Risk Committee', 'audit', 2, 'Assurance on internal control, risk management, counter-fraud and the annual accounts.');
  sits(audit, 'Rajesh Patel', 'chair', ics);
  sits(audit, "Margaret O'Neill", 'member', ics);
  sits(audit, 'Janet Fielding', 'member', null);
  const remuneration = committee('remuneration', 'Remuneration Committee', 'remuneration', 2, 'Pay and terms of the chief executive, directors and other very senior managers.');
  sits(remuneration, "Margaret O'Neill", 'chair', ics);
  sits(remuneration, 'Rajesh Patel', 'member', ics);
  sits(remuneration, 'Eleanor Whitcombe', 'member', ics);
  const quality = committee('quality', 'Quality and Performance Committee', 'quality', 3, 'Quality, safety and patient experience across the system; safeguarding, children in care and SEND duties.');
  sits(quality, 'Samuel Adeyemi', 'chair', ics);
  sits(quality, 'Catherine Bowen', 'member', ics);
  sits(quality, 'Dr Owen Hughes', 'member', ics);
  sits(quality, 'Tom Bradley', 'healthwatch_representative', HW_WORCESTERSHIRE, { voting: false });
  const finance = committee('finance', 'Finance and Resources Committee', 'finance', 3, 'The system financial plan, the single pot and capital.');
  sits(finance, 'Rajesh Patel', 'chair', ics);
  sits(finance, 'Priya Shah', 'member', ics);
  sits(finance, 'Simon Trevelyan', 'member', ics);
  const primaryCare = committee('primary-care', 'Primary Care Commissioning Committee', 'primary_care_commissioning', 3, 'Primary medical, pharmaceutical, optometry and dental services delegated by NHS England.');
  sits(primaryCare, "Margaret O'Neill", 'chair', ics);
  sits(primaryCare, 'Dr Owen Hughes', 'member', ics);
  sits(primaryCare, 'Priya Shah', 'member', ics);
  sits(primaryCare, 'Dr Aisha Rahman', 'pcn_clinical_director', 'U32349', { voting: false });
  sits(primaryCare, 'Fiona Grant', 'healthwatch_representative', HW_HEREFORDSHIRE, { voting: false });
  const peopleCommittee = committee('people', 'People Committee', 'people', 3, 'The one workforce strategy and the NHS People Plan across the system.');
  sits(peopleCommittee, 'Samuel Adeyemi', 'chair', ics);
  sits(peopleCommittee, 'Catherine Bowen', 'member', ics);
  sits(peopleCommittee, 'Simon Trevelyan', 'member', ics);

  // The integrated care partnership: the ICB, both upper-tier councils, and wider partners.
  bodyOrgs(icp, WYE_VALLEY, WORCS_ACUTE, HEALTH_AND_CARE, AMBULANCE, HW_HEREFORDSHIRE, HW_WORCESTERSHIRE, VCSE_ALLIANCE, AGE_UK, CARE_FORUM);
  sits(icp, 'Cllr Karen Ellis', 'chair', WORCESTERSHIRE);
  sits(icp, 'Cllr David Hinton', 'vice_chair', HEREFORDSHIRE);
  sits(icp, 'Eleanor Whitcombe', 'member', ics);
  sits(icp, 'Simon Trevelyan', 'member', ics);
  sits(icp, 'Dr Rebecca Lloyd', 'director_of_public_health', HEREFORDSHIRE);
  sits(icp, 'Dr Michael Ashworth', 'director_of_public_health', WORCESTERSHIRE);
  sits(icp, 'Fiona Grant', 'healthwatch_representative', HW_HEREFORDSHIRE);
  sits(icp, 'Tom Bradley', 'healthwatch_representative', HW_WORCESTERSHIRE);
  sits(icp, 'Naomi Clarke', 'vcse_representative', VCSE_ALLIANCE);

  // Place-based partnerships: One Herefordshire, and one for each Worcestershire district.
  const placeForms: Record<string, Pick<Body, 'form' | 'leadOrgCode'> & { name?: string }> = {
    [HEREFORDSHIRE]: { form: 'joint_committee', leadOrgCode: null, name: 'One Herefordshire Partnership' },
    E07000234: { form: 'consultative_forum', leadOrgCode: null },
    E07000235: { form: 'consultative_forum', leadOrgCode: null },
    E07000236: { form: 'icb_committee', leadOrgCode: null },
    E07000237: { form: 'lead_provider', leadOrgCode: HEALTH_AND_CARE },
    E07000238: { form: 'icb_committee', leadOrgCode: null },
    E07000239: { form: 'individual_director', leadOrgCode: null },
  };
  for (const place of seed.places) {
    const partnershipIndex = bodies.findIndex((b) => b.kind === 'place_partnership' && b.placeId === place.id);
    const partnership = bodies[partnershipIndex];
    if (!partnership || !place.gssCode) continue;
    const settings = placeForms[place.gssCode];
    bodies[partnershipIndex] = { ...partnership, form: settings?.form ?? null, leadOrgCode: settings?.leadOrgCode ?? null, name: settings?.name ?? partnership.name, quorum: 4 };
    const inHerefordshire = place.upperTierCode === HEREFORDSHIRE;
    bodyOrgs(partnership.id, ics, HEALTH_AND_CARE, inHerefordshire ? WYE_VALLEY : WORCS_ACUTE, inHerefordshire ? HW_HEREFORDSHIRE : HW_WORCESTERSHIRE, VCSE_ALLIANCE);
    sits(partnership.id, inHerefordshire ? 'Hayley Morgan' : 'Daniel Okafor', 'place_leader', ics);
    sits(partnership.id, inHerefordshire ? 'Dr Rebecca Lloyd' : 'Dr Michael Ashworth', 'director_of_public_health', place.upperTierCode);
    for (const pcn of seed.pcns.filter((p) => p.placeId === place.id)) {
      const cd = CLINICAL_DIRECTORS[pcn.orgCode];
      if (cd) sits(partnership.id, cd, 'pcn_clinical_director', pcn.orgCode);
    }
    sits(partnership.id, inHerefordshire ? 'Fiona Grant' : 'Tom Bradley', 'healthwatch_representative', inHerefordshire ? HW_HEREFORDSHIRE : HW_WORCESTERSHIRE);
    if (inHerefordshire) sits(partnership.id, 'Jonathan Price', 'provider_representative', WYE_VALLEY);
  }

  // Provider collaboratives and clinical networks.
  const acute = `${ics}-collaborative-acute`;
  bodies.push(body(acute, 'provider_collaborative', 'Herefordshire and Worcestershire Acute Provider Collaborative', { model: 'provider_leadership_board', quorum: 2, description: 'Elective recovery, shared waiting lists and mutual aid between the two acute trusts.' }));
  bodyOrgs(acute, WYE_VALLEY, WORCS_ACUTE);
  sits(acute, 'Jonathan Price', 'chair', WYE_VALLEY);
  sits(acute, 'Matthew Hale', 'provider_representative', WORCS_ACUTE);
  const mentalHealth = `${ics}-collaborative-mhlda`;
  bodies.push(body(mentalHealth, 'provider_collaborative', 'Mental Health, Learning Disability and Autism Provider Collaborative', { model: 'lead_provider', leadOrgCode: HEALTH_AND_CARE, quorum: 2, description: 'Specialised mental health services for the population, led by the Health and Care Trust.' }));
  bodyOrgs(mentalHealth, HEALTH_AND_CARE, BSMHFT);
  sits(mentalHealth, 'Sarah Collins', 'chair', HEALTH_AND_CARE);
  const uec = `${ics}-collaborative-uec`;
  bodies.push(body(uec, 'provider_collaborative', 'Urgent and Emergency Care Collaborative', { model: 'shared_leadership', quorum: 3, description: 'Ambulance handovers, same-day emergency care and winter resilience.' }));
  bodyOrgs(uec, AMBULANCE, WORCS_ACUTE, WYE_VALLEY, HEALTH_AND_CARE);
  sits(uec, 'Andrew Fenton', 'chair', AMBULANCE);
  sits(uec, 'Matthew Hale', 'provider_representative', WORCS_ACUTE);
  sits(uec, 'Sarah Collins', 'provider_representative', HEALTH_AND_CARE);
  const cancer = `${ics}-network-cancer`;
  bodies.push(body(cancer, 'clinical_network', 'West Midlands Cancer Alliance (Herefordshire and Worcestershire)', { description: 'Cancer pathways and the faster diagnosis standard.' }));
  bodyOrgs(cancer, WYE_VALLEY, WORCS_ACUTE);
  sits(cancer, 'Dr Owen Hughes', 'clinical_lead', ics);
  const stroke = `${ics}-network-stroke`;
  bodies.push(body(stroke, 'clinical_network', 'Stroke Clinical Network', { description: 'Hyperacute stroke pathway and rehabilitation.' }));
  bodyOrgs(stroke, WYE_VALLEY, WORCS_ACUTE, HEALTH_AND_CARE, AMBULANCE);
  sits(stroke, 'Dr Owen Hughes', 'clinical_lead', ics);

  // The functions and decisions map (budgets are illustrative, 2025/26).
  const functions: IcsFunction[] = [];
  const delegations: Delegation[] = [];
  const fn = (slug: string, name: string, source: string, budget: number | null, description: string): string => {
    const id = `${ics}-fn-${slug}`;
    functions.push({ id, icsCode: ics, name, description, sourceOrgCode: source, accountableOrgCode: ics, budgetPounds: budget });
    return id;
  };
  const delegate = (functionId: string, to: { body?: string; person?: string }, decisions: string, budget: number | null, placeId: string | null = null): void => {
    delegations.push({
      id: `${ics}-d-${delegations.length + 1}`,
      functionId,
      toBodyId: to.body ?? null,
      toPersonId: to.person ? person(to.person) : null,
      placeId,
      budgetPounds: budget,
      decisions,
      startDate: '2025-04-01',
      endDate: null,
    });
  };
  const placeBody = (gss: string): string => `${ics}-place-${gss}`;
  const placeId = (gss: string): string => `${ics}-${gss}`;

  const primaryMedical = fn('primary-medical', 'Primary medical services commissioning', NHS_ENGLAND, 112_000_000, 'GP contracts (GMS, PMS, APMS), enhanced services and practice premises, delegated to the ICB by NHS England.');
  delegate(primaryMedical, { body: primaryCare }, 'Approve contract awards, variations, mergers and closures; approve local enhanced services and premises schemes.', 112_000_000);
  const pod = fn('pod', 'Pharmaceutical, optometry and dental services', NHS_ENGLAND, 78_000_000, 'Community pharmacy, general ophthalmic and NHS dental services, delegated by NHS England from April 2023.');
  delegate(pod, { body: primaryCare }, 'Approve dental commissioning plans, pharmacy market entry and contract changes.', 78_000_000);
  const community = fn('community', 'Community health services commissioning', ics, 148_000_000, 'District nursing, community therapies, intermediate care and community hospitals.');
  delegate(community, { body: placeBody(HEREFORDSHIRE) }, 'Agree the Herefordshire community services plan and contract variations within budget.', 52_000_000, placeId(HEREFORDSHIRE));
  delegate(community, { body: placeBody('E07000237') }, 'Lead provider integrates community services for Worcester within the agreed budget.', 18_000_000, placeId('E07000237'));
  delegate(community, { person: 'Daniel Okafor' }, 'Director of Place decides Wyre Forest community service changes within budget.', 14_000_000, placeId('E07000239'));
  const mh = fn('mental-health', 'Mental health, learning disability and autism services', ics, 186_000_000, 'Adult and children’s mental health, learning disability and autism services; subject to the Mental Health Investment Standard.');
  delegate(mh, { body: mentalHealth }, 'Lead provider commissions and manages specialised and local mental health pathways.', 186_000_000);
  const chc = fn('chc', 'NHS continuing healthcare', ics, 96_000_000, 'Assessment, eligibility and funding of NHS continuing healthcare and funded nursing care.');
  delegate(chc, { person: 'Catherine Bowen' }, 'Approve individual packages above £1,500 a week and the CHC policy.', null);
  const elective = fn('elective', 'Acute and elective care commissioning', ics, 824_000_000, 'Hospital services, the system-wide waiting list and mutual aid between acute providers.');
  delegate(elective, { body: acute }, 'Agree elective recovery plans, mutual aid transfers between trusts and the shared patient tracking list.', null);
  const uecFn = fn('uec', 'Urgent and emergency care', ics, 142_000_000, 'NHS 111, ambulance, emergency departments and same-day emergency care.');
  delegate(uecFn, { body: uec }, 'Agree the winter plan, ambulance handover improvement and same-day emergency care model.', null);
  fn('specialised', 'Specialised services (delegated)', NHS_ENGLAND, 264_000_000, 'Specialised acute services delegated to the ICB by NHS England from April 2025, jointly overseen with neighbouring ICBs.');
  const safeguarding = fn('safeguarding', 'Safeguarding, children in care and SEND', ics, 4_500_000, 'Statutory duties for safeguarding adults and children, looked-after children and special educational needs and disabilities.');
  delegate(safeguarding, { body: quality }, 'Assure the statutory duties; approve the safeguarding annual report.', null);
  const inequalities = fn('inequalities', 'Health inequalities funding', ics, 7_000_000, 'Core20PLUS5 and place-level prevention programmes.');
  for (const place of seed.places) {
    if (place.gssCode) delegate(inequalities, { body: placeBody(place.gssCode) }, 'Choose and fund local Core20PLUS5 and prevention schemes.', place.gssCode === HEREFORDSHIRE ? 1_900_000 : 850_000, place.id);
  }

  return { ...seed, bodies, people: [...people.values()], organisationRoles: roles, memberships, functions, delegations };
}
