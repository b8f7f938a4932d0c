/**
 * An IcsSeed is a whole ICS's structure as plain data, ready to write in one transaction.
 * The skeleton builder (any ICB) and the demo (Herefordshire and Worcestershire) both produce
 * one; writeSeed stores it, so there is one path from data to database.
 */
import { recordChange } from '../core/change-log.js';
import type { Queryable } from '../core/db/database.js';
import { ConflictError } from '../core/errors.js';
import type { Body, Delegation, Ics, IcsFunction, IcsStructure, Membership, Organisation, OrganisationRole, Pcn, Person, Place, Practice } from './model.js';

export interface IcsSeed {
  ics: Ics;
  organisations: Organisation[];
  partners: string[];
  places: Place[];
  pcns: Pcn[];
  practices: Practice[];
  people: Person[];
  organisationRoles: OrganisationRole[];
  bodies: Body[];
  bodyOrganisations: { bodyId: string; orgCode: string }[];
  memberships: Membership[];
  functions: IcsFunction[];
  delegations: Delegation[];
}

/** Inserts many rows with one statement per table (fast on both engines). */
async function insertRows(db: Queryable, table: string, columns: string[], rows: unknown[][], conflict = ''): Promise<void> {
  const chunk = 500;
  for (let i = 0; i < rows.length; i += chunk) {
    const slice = rows.slice(i, i + chunk);
    const params: unknown[] = [];
    const values = slice.map((row) => `(${row.map((v) => `$${params.push(v)}`).join(', ')})`).join(', ');
    await db.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values} ${conflict}`, params);
  }
}

/** Writes a seed. Call inside a transaction: a failure part-way leaves nothing behind. */
export async function writeSeed(tx: Queryable, seed: IcsSeed, actor: string): Promise<void> {
  const existing = await tx.query('SELECT 1 FROM ics WHERE code = $1', [seed.ics.code]);
  if (existing.rowCount > 0) throw new ConflictError(`ICS ${seed.ics.code} already exists`);

  await tx.query('INSERT INTO ics (code, name, region) VALUES ($1, $2, $3)', [seed.ics.code, seed.ics.name, seed.ics.region]);
  // Organisations are national: a trust another ICS already loaded keeps its record.
  await insertRows(
    tx,
    'organisation',
    ['code', 'name', 'kind', 'services', 'postcode', 'latitude', 'longitude', 'website'],
    seed.organisations.map((o) => [o.code, o.name, o.kind, o.services, o.postcode, o.latitude, o.longitude, o.website]),
    'ON CONFLICT (code) DO NOTHING',
  );
  await insertRows(tx, 'ics_partner', ['ics_code', 'org_code'], seed.partners.map((c) => [seed.ics.code, c]));
  await insertRows(
    tx,
    'place',
    ['id', 'ics_code', 'name', 'gss_code', 'council_code', 'upper_tier_code'],
    seed.places.map((p) => [p.id, p.icsCode, p.name, p.gssCode, p.councilCode, p.upperTierCode]),
  );
  await insertRows(tx, 'pcn', ['org_code', 'ics_code', 'place_id'], seed.pcns.map((p) => [p.orgCode, p.icsCode, p.placeId]));
  await insertRows(
    tx,
    'practice',
    ['org_code', 'ics_code', 'pcn_code', 'place_id', 'lad_code', 'registered_patients', 'population', 'weighted_population'],
    seed.practices.map((p) => [p.orgCode, p.icsCode, p.pcnCode, p.placeId, p.ladCode, p.registeredPatients, p.population, p.weightedPopulation]),
  );
  await insertRows(tx, 'person', ['id', 'ics_code', 'name', 'email'], seed.people.map((p) => [p.id, p.icsCode, p.name, p.email]));
  await insertRows(
    tx,
    'organisation_role',
    ['id', 'person_id', 'org_code', 'role', 'start_date', 'end_date'],
    seed.organisationRoles.map((r) => [r.id, r.personId, r.orgCode, r.role, r.startDate, r.endDate]),
  );
  // Parents before children: committees refer to their board.
  const ordered = [...seed.bodies].sort((a, b) => Number(a.parentId !== null) - Number(b.parentId !== null));
  await insertRows(
    tx,
    'body',
    ['id', 'ics_code', 'kind', 'name', 'parent_id', 'committee_type', 'place_id', 'form', 'model', 'lead_org_code', 'quorum', 'description'],
    ordered.map((b) => [b.id, b.icsCode, b.kind, b.name, b.parentId, b.committeeType, b.placeId, b.form, b.model, b.leadOrgCode, b.quorum, b.description]),
  );
  await insertRows(tx, 'body_organisation', ['body_id', 'org_code'], seed.bodyOrganisations.map((b) => [b.bodyId, b.orgCode]));
  await insertRows(
    tx,
    'membership',
    ['id', 'body_id', 'person_id', 'role', 'org_code', 'voting', 'start_date', 'end_date'],
    seed.memberships.map((m) => [m.id, m.bodyId, m.personId, m.role, m.orgCode, m.voting, m.startDate, m.endDate]),
  );
  await insertRows(
    tx,
    'ics_function',
    ['id', 'ics_code', 'name', 'description', 'source_org_code', 'accountable_org_code', 'budget_pounds'],
    seed.functions.map((f) => [f.id, f.icsCode, f.name, f.description, f.sourceOrgCode, f.accountableOrgCode, f.budgetPounds]),
  );
  await insertRows(
    tx,
    'delegation',
    ['id', 'function_id', 'to_body_id', 'to_person_id', 'place_id', 'budget_pounds', 'decisions', 'start_date', 'end_date'],
    seed.delegations.map((d) => [d.id, d.functionId, d.toBodyId, d.toPersonId, d.placeId, d.budgetPounds, d.decisions, d.startDate, d.endDate]),
  );
  await recordChange(tx, {
    icsCode: seed.ics.code,
    module: 'structure',
    actor,
    summary: `Created ${seed.ics.name} ICS with ${seed.practices.length} practices, ${seed.pcns.length} PCNs and ${seed.places.length} places`,
    detail: { bodies: seed.bodies.length, people: seed.people.length, functions: seed.functions.length },
  });
}

/** The structure a seed describes, without a database: what loadStructure returns once it is written. */
export function structureFromSeed(seed: IcsSeed): IcsStructure {
  const organisations = new Map(seed.organisations.map((o) => [o.code, o]));
  const icb = organisations.get(seed.ics.code);
  if (!icb) throw new Error(`seed for ${seed.ics.code} has no ICB organisation`);
  const bodyOrganisations = new Map<string, string[]>();
  for (const { bodyId, orgCode } of seed.bodyOrganisations) bodyOrganisations.set(bodyId, [...(bodyOrganisations.get(bodyId) ?? []), orgCode]);
  return {
    ics: seed.ics,
    icb,
    organisations,
    partners: seed.partners,
    places: seed.places,
    pcns: seed.pcns,
    practices: seed.practices,
    people: new Map(seed.people.map((p) => [p.id, p])),
    organisationRoles: seed.organisationRoles,
    bodies: seed.bodies,
    bodyOrganisations,
    memberships: seed.memberships,
    functions: seed.functions,
    delegations: seed.delegations,
  };
}
