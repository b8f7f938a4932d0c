/**
 * Read models built from a loaded structure: what the API returns and the pages show.
 * Kept here so JSON and HTML never disagree.
 */
import { type Body, type IcsStructure, type Membership, type Organisation, type Practice, isCurrent } from './model.js';
import { type Breach, type RulesReport, RULES } from './rules.js';

export interface PracticeSummary {
  code: string;
  name: string;
  postcode: string | null;
  pcnCode: string | null;
  pcnName: string | null;
  placeId: string | null;
  placeName: string | null;
  registeredPatients: number | null;
  population: number | null;
  weightedPopulation: number | null;
  latitude: number | null;
  longitude: number | null;
}

export interface PcnSummary {
  code: string;
  name: string;
  placeId: string | null;
  placeName: string | null;
  practices: number;
  registeredPatients: number;
  clinicalDirector: { personId: string; name: string; since: string } | null;
}

export interface PlaceSummary {
  id: string;
  name: string;
  gssCode: string | null;
  council: { code: string; name: string } | null;
  upperTierCouncil: { code: string; name: string } | null;
  partnership: { id: string; name: string; form: string | null } | null;
  practices: number;
  pcns: number;
  registeredPatients: number;
  population: number;
  weightedPopulation: number;
}

const sum = (values: (number | null)[]): number => values.reduce<number>((a, v) => a + (v ?? 0), 0);

function orgRef(s: IcsStructure, code: string | null): { code: string; name: string } | null {
  if (!code) return null;
  return { code, name: s.organisations.get(code)?.name ?? code };
}

export function practiceSummary(s: IcsStructure, p: Practice): PracticeSummary {
  const o = s.organisations.get(p.orgCode);
  return {
    code: p.orgCode,
    name: o?.name ?? p.orgCode,
    postcode: o?.postcode ?? null,
    pcnCode: p.pcnCode,
    pcnName: p.pcnCode ? (s.organisations.get(p.pcnCode)?.name ?? p.pcnCode) : null,
    placeId: p.placeId,
    placeName: s.places.find((pl) => pl.id === p.placeId)?.name ?? null,
    registeredPatients: p.registeredPatients,
    population: p.population,
    weightedPopulation: p.weightedPopulation,
    latitude: o?.latitude ?? null,
    longitude: o?.longitude ?? null,
  };
}

export function practiceSummaries(s: IcsStructure, filter: (p: Practice) => boolean = () => true): PracticeSummary[] {
  return s.practices
    .filter(filter)
    .map((p) => practiceSummary(s, p))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function pcnSummaries(s: IcsStructure, asOf: string, filter: (placeId: string | null) => boolean = () => true): PcnSummary[] {
  return s.pcns
    .filter((p) => filter(p.placeId))
    .map((p) => {
      const practices = s.practices.filter((pr) => pr.pcnCode === p.orgCode);
      const cd = s.organisationRoles.find((r) => r.orgCode === p.orgCode && r.role === 'pcn_clinical_director' && isCurrent(r, asOf));
      return {
        code: p.orgCode,
        name: s.organisations.get(p.orgCode)?.name ?? p.orgCode,
        placeId: p.placeId,
        placeName: s.places.find((pl) => pl.id === p.placeId)?.name ?? null,
        practices: practices.length,
        registeredPatients: sum(practices.map((pr) => pr.registeredPatients)),
        clinicalDirector: cd ? { personId: cd.personId, name: s.people.get(cd.personId)?.name ?? cd.personId, since: cd.startDate } : null,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function placeSummaries(s: IcsStructure): PlaceSummary[] {
  return s.places.map((pl) => {
    const practices = s.practices.filter((p) => p.placeId === pl.id);
    const partnership = s.bodies.find((b) => b.kind === 'place_partnership' && b.placeId === pl.id);
    return {
      id: pl.id,
      name: pl.name,
      gssCode: pl.gssCode,
      council: orgRef(s, pl.councilCode),
      upperTierCouncil: orgRef(s, pl.upperTierCode),
      partnership: partnership ? { id: partnership.id, name: partnership.name, form: partnership.form } : null,
      practices: practices.length,
      pcns: s.pcns.filter((p) => p.placeId === pl.id).length,
      registeredPatients: sum(practices.map((p) => p.registeredPatients)),
      population: sum(practices.map((p) => p.population)),
      weightedPopulation: sum(practices.map((p) => p.weightedPopulation)),
    };
  });
}

export interface IcsSummary {
  code: string;
  name: string;
  region: string | null;
  icb: { code: string; name: string };
  practices: number;
  pcns: number;
  places: number;
  bodies: number;
  partners: number;
  registeredPatients: number;
  population: number;
  weightedPopulation: number;
  rulesPassed: boolean;
  breaches: number;
}

export function icsSummary(s: IcsStructure, report: RulesReport): IcsSummary {
  return {
    code: s.ics.code,
    name: s.ics.name,
    region: s.ics.region,
    icb: { code: s.icb.code, name: s.icb.name },
    practices: s.practices.length,
    pcns: s.pcns.length,
    places: s.places.length,
    bodies: s.bodies.length,
    partners: s.partners.length,
    registeredPatients: sum(s.practices.map((p) => p.registeredPatients)),
    population: sum(s.practices.map((p) => p.population)),
    weightedPopulation: sum(s.practices.map((p) => p.weightedPopulation)),
    rulesPassed: report.passed,
    breaches: report.breaches.length,
  };
}

export interface MemberView {
  membershipId: string;
  personId: string;
  name: string;
  role: Membership['role'];
  organisation: { code: string; name: string } | null;
  voting: boolean;
  startDate: string;
  endDate: string | null;
  current: boolean;
}

export interface BodyView {
  id: string;
  kind: Body['kind'];
  name: string;
  description: string | null;
  parent: { id: string; name: string } | null;
  committeeType: Body['committeeType'];
  place: { id: string; name: string } | null;
  form: Body['form'];
  model: Body['model'];
  leadOrganisation: { code: string; name: string } | null;
  quorum: number | null;
  committees: { id: string; name: string; committeeType: Body['committeeType'] }[];
  organisations: Pick<Organisation, 'code' | 'name' | 'kind' | 'services'>[];
  members: MemberView[];
  breaches: Breach[];
}

export function bodyView(s: IcsStructure, body: Body, report: RulesReport, asOf: string): BodyView {
  const parent = body.parentId ? s.bodies.find((b) => b.id === body.parentId) : undefined;
  const place = body.placeId ? s.places.find((p) => p.id === body.placeId) : undefined;
  const members = s.memberships
    .filter((m) => m.bodyId === body.id)
    .map((m) => ({
      membershipId: m.id,
      personId: m.personId,
      name: s.people.get(m.personId)?.name ?? m.personId,
      role: m.role,
      organisation: orgRef(s, m.orgCode),
      voting: m.voting,
      startDate: m.startDate,
      endDate: m.endDate,
      current: isCurrent(m, asOf),
    }));
  return {
    id: body.id,
    kind: body.kind,
    name: body.name,
    description: body.description,
    parent: parent ? { id: parent.id, name: parent.name } : null,
    committeeType: body.committeeType,
    place: place ? { id: place.id, name: place.name } : null,
    form: body.form,
    model: body.model,
    leadOrganisation: orgRef(s, body.leadOrgCode),
    quorum: body.quorum,
    committees: s.bodies.filter((b) => b.parentId === body.id).map((b) => ({ id: b.id, name: b.name, committeeType: b.committeeType })),
    organisations: (s.bodyOrganisations.get(body.id) ?? [])
      .map((c) => s.organisations.get(c))
      .filter((o): o is Organisation => o !== undefined)
      .map((o) => ({ code: o.code, name: o.name, kind: o.kind, services: o.services }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    members,
    breaches: breachesConcerningBody(s, body, report),
  };
}

/** Breaches whose subject is the body, plus, for the board, those about the whole ICS's board rules. */
export function breachesConcerningBody(s: IcsStructure, body: Body, report: RulesReport): Breach[] {
  return report.breaches.filter((b) => (b.subject.kind === 'body' && b.subject.id === body.id) || (body.kind === 'icb_board' && b.subject.kind === 'ics' && RULES.find((r) => r.id === b.ruleId)?.concerns === 'icb_board'));
}
