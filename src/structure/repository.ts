/** Reads the structure of an ICS from the database. All writes live in commands.ts. */
import { recentChanges as changeLog } from '../core/change-log.js';
import type { Queryable } from '../core/db/database.js';
import { NotFoundError } from '../core/errors.js';
import type {
  Body,
  Delegation,
  Ics,
  IcsFunction,
  IcsStructure,
  Membership,
  Organisation,
  OrganisationRole,
  Pcn,
  Person,
  Place,
  Practice,
} from './model.js';

type Row = Record<string, unknown>;

/** Column values arrive as strings, numbers or Dates; anything else is a schema mistake. */
const str = (v: unknown): string => (typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : JSON.stringify(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : str(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export async function listIcs(db: Queryable): Promise<(Ics & { practices: number; registeredPatients: number })[]> {
  const { rows } = await db.query<Row>(
    `SELECT i.code, i.name, i.region, count(p.org_code) AS practices, coalesce(sum(p.registered_patients), 0) AS registered_patients
       FROM ics i LEFT JOIN practice p ON p.ics_code = i.code
      GROUP BY i.code, i.name, i.region ORDER BY i.name`,
  );
  return rows.map((r) => ({
    code: str(r.code),
    name: str(r.name),
    region: strOrNull(r.region),
    practices: Number(r.practices),
    registeredPatients: Number(r.registered_patients),
  }));
}

/** The names of the organisations with these codes (ODS or ONS), for showing codes as words; unknown codes are left out. */
export async function organisationNames(db: Queryable, codes: readonly string[]): Promise<Map<string, string>> {
  if (codes.length === 0) return new Map();
  const { rows } = await db.query<{ code: string; name: string }>('SELECT code, name FROM organisation WHERE code = ANY($1::text[])', [[...new Set(codes)]]);
  return new Map(rows.map((r) => [r.code, r.name]));
}

export async function icsExists(db: Queryable, code: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM ics WHERE code = $1', [code]);
  return rowCount > 0;
}

export async function loadStructure(db: Queryable, icsCode: string): Promise<IcsStructure> {
  const icsRows = await db.query<Row>('SELECT code, name, region FROM ics WHERE code = $1', [icsCode]);
  const icsRow = icsRows.rows[0];
  if (!icsRow) throw new NotFoundError(`ICS ${icsCode}`);
  const ics: Ics = { code: str(icsRow.code), name: str(icsRow.name), region: strOrNull(icsRow.region) };

  // Organisations: the ICB, its partners, its practices and PCNs, and anything a body or role names.
  const orgRows = await db.query<Row>(
    `SELECT o.* FROM organisation o
      WHERE o.code = $1
         OR o.code IN (SELECT org_code FROM ics_partner WHERE ics_code = $1)
         OR o.code IN (SELECT org_code FROM practice WHERE ics_code = $1)
         OR o.code IN (SELECT org_code FROM pcn WHERE ics_code = $1)
         OR o.code IN (SELECT bo.org_code FROM body_organisation bo JOIN body b ON b.id = bo.body_id WHERE b.ics_code = $1)
         OR o.code IN (SELECT m.org_code FROM membership m JOIN body b ON b.id = m.body_id WHERE b.ics_code = $1)
         OR o.code IN (SELECT r.org_code FROM organisation_role r JOIN person p ON p.id = r.person_id WHERE p.ics_code = $1)
         OR o.code IN (SELECT source_org_code FROM ics_function WHERE ics_code = $1)
      ORDER BY o.name`,
    [icsCode],
  );
  const organisations = new Map<string, Organisation>(orgRows.rows.map((r) => [str(r.code), toOrganisation(r)]));
  const icb = organisations.get(icsCode);
  if (!icb) throw new NotFoundError(`the ICB organisation ${icsCode}`);

  const [partners, places, pcns, practices, people, orgRoles, bodies, bodyOrgs, memberships, functions, delegations] = await Promise.all([
    db.query<Row>('SELECT org_code FROM ics_partner WHERE ics_code = $1 ORDER BY org_code', [icsCode]),
    db.query<Row>('SELECT * FROM place WHERE ics_code = $1 ORDER BY name', [icsCode]),
    db.query<Row>('SELECT * FROM pcn WHERE ics_code = $1', [icsCode]),
    db.query<Row>('SELECT * FROM practice WHERE ics_code = $1', [icsCode]),
    db.query<Row>('SELECT * FROM person WHERE ics_code = $1 ORDER BY name', [icsCode]),
    db.query<Row>('SELECT r.* FROM organisation_role r JOIN person p ON p.id = r.person_id WHERE p.ics_code = $1 ORDER BY r.start_date', [icsCode]),
    db.query<Row>('SELECT * FROM body WHERE ics_code = $1 ORDER BY name', [icsCode]),
    db.query<Row>('SELECT bo.* FROM body_organisation bo JOIN body b ON b.id = bo.body_id WHERE b.ics_code = $1', [icsCode]),
    db.query<Row>('SELECT m.* FROM membership m JOIN body b ON b.id = m.body_id WHERE b.ics_code = $1 ORDER BY m.start_date, m.id', [icsCode]),
    db.query<Row>('SELECT * FROM ics_function WHERE ics_code = $1 ORDER BY name', [icsCode]),
    db.query<Row>('SELECT d.* FROM delegation d JOIN ics_function f ON f.id = d.function_id WHERE f.ics_code = $1 ORDER BY d.start_date, d.id', [icsCode]),
  ]);

  const bodyOrganisations = new Map<string, string[]>();
  for (const r of bodyOrgs.rows) {
    const list = bodyOrganisations.get(str(r.body_id)) ?? [];
    list.push(str(r.org_code));
    bodyOrganisations.set(str(r.body_id), list);
  }

  return {
    ics,
    icb,
    organisations,
    partners: partners.rows.map((r) => str(r.org_code)),
    places: places.rows.map(toPlace),
    pcns: pcns.rows.map(toPcn),
    practices: practices.rows.map(toPractice),
    people: new Map(people.rows.map((r) => [str(r.id), toPerson(r)])),
    organisationRoles: orgRoles.rows.map(toOrganisationRole),
    bodies: bodies.rows.map(toBody),
    bodyOrganisations,
    memberships: memberships.rows.map(toMembership),
    functions: functions.rows.map(toFunction),
    delegations: delegations.rows.map(toDelegation),
  };
}

/** Recent changes to the ICS's structure, from the shared change log. */
export async function recentChanges(db: Queryable, icsCode: string, limit = 20): Promise<{ at: Date; module: string; actor: string; summary: string }[]> {
  return changeLog(db, icsCode, { module: 'structure', limit });
}

function toOrganisation(r: Row): Organisation {
  return {
    code: str(r.code),
    name: str(r.name),
    kind: str(r.kind) as Organisation['kind'],
    services: (r.services as Organisation['services'] | null) ?? [],
    postcode: strOrNull(r.postcode),
    latitude: numOrNull(r.latitude),
    longitude: numOrNull(r.longitude),
    website: strOrNull(r.website),
  };
}

function toPlace(r: Row): Place {
  return {
    id: str(r.id),
    icsCode: str(r.ics_code),
    name: str(r.name),
    gssCode: strOrNull(r.gss_code),
    councilCode: strOrNull(r.council_code),
    upperTierCode: strOrNull(r.upper_tier_code),
  };
}

function toPcn(r: Row): Pcn {
  return { orgCode: str(r.org_code), icsCode: str(r.ics_code), placeId: strOrNull(r.place_id) };
}

function toPractice(r: Row): Practice {
  return {
    orgCode: str(r.org_code),
    icsCode: str(r.ics_code),
    pcnCode: strOrNull(r.pcn_code),
    placeId: strOrNull(r.place_id),
    ladCode: strOrNull(r.lad_code),
    registeredPatients: numOrNull(r.registered_patients),
    population: numOrNull(r.population),
    weightedPopulation: numOrNull(r.weighted_population),
  };
}

function toPerson(r: Row): Person {
  return { id: str(r.id), icsCode: str(r.ics_code), name: str(r.name), email: strOrNull(r.email) };
}

function toOrganisationRole(r: Row): OrganisationRole {
  return {
    id: str(r.id),
    personId: str(r.person_id),
    orgCode: str(r.org_code),
    role: str(r.role) as OrganisationRole['role'],
    startDate: str(r.start_date),
    endDate: strOrNull(r.end_date),
  };
}

function toBody(r: Row): Body {
  return {
    id: str(r.id),
    icsCode: str(r.ics_code),
    kind: str(r.kind) as Body['kind'],
    name: str(r.name),
    parentId: strOrNull(r.parent_id),
    committeeType: strOrNull(r.committee_type) as Body['committeeType'],
    placeId: strOrNull(r.place_id),
    form: strOrNull(r.form) as Body['form'],
    model: strOrNull(r.model) as Body['model'],
    leadOrgCode: strOrNull(r.lead_org_code),
    quorum: numOrNull(r.quorum),
    description: strOrNull(r.description),
  };
}

function toMembership(r: Row): Membership {
  return {
    id: str(r.id),
    bodyId: str(r.body_id),
    personId: str(r.person_id),
    role: str(r.role) as Membership['role'],
    orgCode: strOrNull(r.org_code),
    voting: Boolean(r.voting),
    startDate: str(r.start_date),
    endDate: strOrNull(r.end_date),
  };
}

function toFunction(r: Row): IcsFunction {
  return {
    id: str(r.id),
    icsCode: str(r.ics_code),
    name: str(r.name),
    description: strOrNull(r.description),
    sourceOrgCode: str(r.source_org_code),
    accountableOrgCode: str(r.accountable_org_code),
    budgetPounds: numOrNull(r.budget_pounds),
  };
}

function toDelegation(r: Row): Delegation {
  return {
    id: str(r.id),
    functionId: str(r.function_id),
    toBodyId: strOrNull(r.to_body_id),
    toPersonId: strOrNull(r.to_person_id),
    placeId: strOrNull(r.place_id),
    budgetPounds: numOrNull(r.budget_pounds),
    decisions: str(r.decisions),
    startDate: str(r.start_date),
    endDate: strOrNull(r.end_date),
  };
}
