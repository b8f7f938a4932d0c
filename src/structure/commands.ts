/**
 * Every change to an ICS's structure. Each command checks its input (naming the field that is
 * wrong), writes in one transaction, and records what changed in the structure change log.
 * Rule breaches are not refused here: a board may be incomplete for a while, and the rules
 * check shows the breach the moment an edit causes one.
 */
import { Problems, isCalendarDate } from '../core/validation.js';
import { randomUUID } from 'node:crypto';
import { recordChange } from '../core/change-log.js';
import type { Database, Queryable } from '../core/db/database.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { COLLABORATIVE_MODELS, PLACE_FORMS, ROLES, type CollaborativeModel, type PlaceForm, type Role } from './model.js';
import { DEMO_ICS, buildDemo } from './demo.js';
import { writeSeed } from './seed.js';
import { buildSkeleton } from './skeleton.js';

async function bodyIn(db: Queryable, icsCode: string, bodyId: string): Promise<{ id: string; kind: string; name: string }> {
  const { rows } = await db.query<{ id: string; kind: string; name: string }>('SELECT id, kind, name FROM body WHERE id = $1 AND ics_code = $2', [bodyId, icsCode]);
  const body = rows[0];
  if (!body) throw new NotFoundError(`Body ${bodyId} in ICS ${icsCode}`);
  return body;
}

async function organisationExists(db: Queryable, code: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM organisation WHERE code = $1', [code])).rowCount > 0;
}

async function logChange(db: Queryable, icsCode: string, actor: string, summary: string, detail: Record<string, unknown>): Promise<void> {
  await recordChange(db, { icsCode, module: 'structure', actor, summary, detail });
}

export interface NewMember {
  /** An existing person, or a name to create a new person. Exactly one. */
  personId?: string | undefined;
  personName?: string | undefined;
  role: string;
  orgCode?: string | undefined;
  voting?: boolean | undefined;
  startDate: string;
  endDate?: string | undefined;
}

export async function addMember(db: Database, icsCode: string, bodyId: string, input: NewMember, actor: string): Promise<{ membershipId: string; personId: string }> {
  return db.transaction(async (tx) => {
    const body = await bodyIn(tx, icsCode, bodyId);
    const problems = new Problems();
    const personName = input.personName?.trim() ?? '';
    if (!input.personId && personName === '') problems.add('personName', 'Enter the name of the member, or choose an existing person');
    if (input.personId && personName !== '') problems.add('personId', 'Choose an existing person or enter a new name, not both');
    if (!(input.role in ROLES)) problems.add('role', `Choose a role from: ${Object.keys(ROLES).join(', ')}`);
    if (!isCalendarDate(input.startDate)) problems.add('startDate', 'Enter the start of the term as a real date, YYYY-MM-DD');
    if (input.endDate && !isCalendarDate(input.endDate)) problems.add('endDate', 'Enter the end of the term as a real date, YYYY-MM-DD');
    if (input.endDate && isCalendarDate(input.endDate) && isCalendarDate(input.startDate) && input.endDate < input.startDate) problems.add('endDate', 'The end of the term must be on or after its start');
    if (input.orgCode && !(await organisationExists(tx, input.orgCode))) problems.add('orgCode', `No organisation has the code ${input.orgCode}`);
    if (input.personId) {
      const found = await tx.query('SELECT 1 FROM person WHERE id = $1 AND ics_code = $2', [input.personId, icsCode]);
      if (found.rowCount === 0) problems.add('personId', `No person ${input.personId} in this ICS`);
    }
    problems.throwIfAny();

    let personId = input.personId ?? '';
    if (!personId) {
      personId = `${icsCode}-p-${randomUUID()}`;
      await tx.query('INSERT INTO person (id, ics_code, name) VALUES ($1, $2, $3)', [personId, icsCode, personName]);
    }
    const membershipId = `${icsCode}-m-${randomUUID()}`;
    await tx.query('INSERT INTO membership (id, body_id, person_id, role, org_code, voting, start_date, end_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      membershipId,
      bodyId,
      personId,
      input.role,
      input.orgCode || null,
      input.voting ?? true,
      input.startDate,
      input.endDate || null,
    ]);
    const who = (await tx.query<{ name: string }>('SELECT name FROM person WHERE id = $1', [personId])).rows[0]?.name ?? personId;
    await logChange(tx, icsCode, actor, `Added ${who} to ${body.name} as ${ROLES[input.role as Role].toLowerCase()}`, { bodyId, membershipId, personId, role: input.role });
    return { membershipId, personId };
  });
}

/** Ends a term of office (the record stays, so the history of the body is kept). */
export async function endMembership(db: Database, icsCode: string, bodyId: string, membershipId: string, endDate: string, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const body = await bodyIn(tx, icsCode, bodyId);
    const { rows } = await tx.query<{ start_date: string; name: string }>(
      'SELECT m.start_date, p.name FROM membership m JOIN person p ON p.id = m.person_id WHERE m.id = $1 AND m.body_id = $2',
      [membershipId, bodyId],
    );
    const membership = rows[0];
    if (!membership) throw new NotFoundError(`Membership ${membershipId} of ${body.name}`);
    if (!isCalendarDate(endDate)) throw ValidationError.field('endDate', 'Enter the end of the term as a real date, YYYY-MM-DD');
    if (endDate < membership.start_date) throw ValidationError.field('endDate', `The end of the term must be on or after its start (${membership.start_date})`);
    await tx.query('UPDATE membership SET end_date = $1 WHERE id = $2', [endDate, membershipId]);
    await logChange(tx, icsCode, actor, `Ended ${membership.name}'s term on ${body.name} on ${endDate}`, { bodyId, membershipId, endDate });
  });
}

export interface BodyChanges {
  form?: string | null | undefined;
  model?: string | null | undefined;
  leadOrgCode?: string | null | undefined;
  quorum?: number | null | undefined;
}

/** Changes how a body is set up: a place partnership's form, a collaborative's model, its lead provider or quorum. */
export async function updateBody(db: Database, icsCode: string, bodyId: string, changes: BodyChanges, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const body = await bodyIn(tx, icsCode, bodyId);
    const problems = new Problems();
    if (changes.form !== undefined) {
      if (body.kind !== 'place_partnership') problems.add('form', 'Only a place-based partnership has a form');
      else if (changes.form !== null && !(changes.form in PLACE_FORMS)) problems.add('form', `Choose one of the five forms: ${Object.keys(PLACE_FORMS).join(', ')}`);
    }
    if (changes.model !== undefined) {
      if (body.kind !== 'provider_collaborative') problems.add('model', 'Only a provider collaborative has a governance model');
      else if (changes.model !== null && !(changes.model in COLLABORATIVE_MODELS)) problems.add('model', `Choose one of: ${Object.keys(COLLABORATIVE_MODELS).join(', ')}`);
    }
    if (changes.leadOrgCode && !(await organisationExists(tx, changes.leadOrgCode))) problems.add('leadOrgCode', `No organisation has the code ${changes.leadOrgCode}`);
    if (changes.quorum !== undefined && changes.quorum !== null && (!Number.isInteger(changes.quorum) || changes.quorum < 1)) problems.add('quorum', 'The quorum must be a whole number of at least 1');
    problems.throwIfAny();

    const sets: string[] = [];
    const params: unknown[] = [];
    const set = (column: string, value: unknown): void => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    if (changes.form !== undefined) set('form', changes.form);
    if (changes.model !== undefined) set('model', changes.model);
    if (changes.leadOrgCode !== undefined) set('lead_org_code', changes.leadOrgCode || null);
    if (changes.quorum !== undefined) set('quorum', changes.quorum);
    if (sets.length === 0) throw ValidationError.field('body', 'Nothing to change: give form, model, leadOrgCode or quorum');
    params.push(bodyId);
    await tx.query(`UPDATE body SET ${sets.join(', ')} WHERE id = $${params.length}`, params);
    const what = [
      changes.form !== undefined ? `form to ${changes.form ? PLACE_FORMS[changes.form as PlaceForm].toLowerCase() : 'none'}` : null,
      changes.model !== undefined ? `model to ${changes.model ? COLLABORATIVE_MODELS[changes.model as CollaborativeModel].toLowerCase() : 'none'}` : null,
      changes.leadOrgCode !== undefined ? `lead provider to ${changes.leadOrgCode || 'none'}` : null,
      changes.quorum !== undefined ? `quorum to ${changes.quorum ?? 'none'}` : null,
    ].filter((w): w is string => w !== null);
    await logChange(tx, icsCode, actor, `Changed ${body.name}: ${what.join(', ')}`, { bodyId, ...changes });
  });
}

export async function addBodyOrganisation(db: Database, icsCode: string, bodyId: string, orgCode: string, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const body = await bodyIn(tx, icsCode, bodyId);
    if (!orgCode || !(await organisationExists(tx, orgCode))) throw ValidationError.field('orgCode', `No organisation has the code ${orgCode || '(blank)'}`);
    const added = await tx.query('INSERT INTO body_organisation (body_id, org_code) VALUES ($1, $2) ON CONFLICT DO NOTHING', [bodyId, orgCode]);
    if (added.rowCount > 0) await logChange(tx, icsCode, actor, `Added organisation ${orgCode} to ${body.name}`, { bodyId, orgCode });
  });
}

export async function removeBodyOrganisation(db: Database, icsCode: string, bodyId: string, orgCode: string, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const body = await bodyIn(tx, icsCode, bodyId);
    const removed = await tx.query('DELETE FROM body_organisation WHERE body_id = $1 AND org_code = $2', [bodyId, orgCode]);
    if (removed.rowCount === 0) throw new NotFoundError(`Organisation ${orgCode} in ${body.name}`);
    await logChange(tx, icsCode, actor, `Removed organisation ${orgCode} from ${body.name}`, { bodyId, orgCode });
  });
}

export interface NewDelegation {
  functionId: string;
  toBodyId?: string | undefined;
  toPersonId?: string | undefined;
  placeId?: string | undefined;
  budgetPounds?: number | undefined;
  decisions: string;
  startDate: string;
  endDate?: string | undefined;
}

/** Delegates a function. Accountability is not a field: it stays with the ICB whatever is delegated. */
export async function delegateFunction(db: Database, icsCode: string, input: NewDelegation, actor: string): Promise<string> {
  return db.transaction(async (tx) => {
    const problems = new Problems();
    const fn = (await tx.query<{ name: string }>('SELECT name FROM ics_function WHERE id = $1 AND ics_code = $2', [input.functionId, icsCode])).rows[0];
    if (!fn) problems.add('functionId', `No function ${input.functionId || '(blank)'} in this ICS`);
    if (Boolean(input.toBodyId) === Boolean(input.toPersonId)) problems.add('toBodyId', 'Delegate to exactly one body or one person');
    let delegate = '';
    if (input.toBodyId) {
      const body = (await tx.query<{ name: string; kind: string }>('SELECT name, kind FROM body WHERE id = $1 AND ics_code = $2', [input.toBodyId, icsCode])).rows[0];
      if (!body) problems.add('toBodyId', `No body ${input.toBodyId} in this ICS`);
      else if (body.kind === 'icp') problems.add('toBodyId', 'The integrated care partnership is a forum of partners; ICB functions cannot be delegated to it');
      else delegate = body.name;
    }
    if (input.toPersonId) {
      const person = (await tx.query<{ name: string }>('SELECT name FROM person WHERE id = $1 AND ics_code = $2', [input.toPersonId, icsCode])).rows[0];
      if (!person) problems.add('toPersonId', `No person ${input.toPersonId} in this ICS`);
      else delegate = person.name;
    }
    if (input.placeId && (await tx.query('SELECT 1 FROM place WHERE id = $1 AND ics_code = $2', [input.placeId, icsCode])).rowCount === 0) problems.add('placeId', `No place ${input.placeId} in this ICS`);
    if (input.budgetPounds !== undefined && (!Number.isFinite(input.budgetPounds) || input.budgetPounds < 0)) problems.add('budgetPounds', 'The budget must be a number of pounds, zero or more');
    if (!input.decisions || input.decisions.trim().length < 3) problems.add('decisions', 'Say what the delegate may decide');
    if (!isCalendarDate(input.startDate)) problems.add('startDate', 'Enter the start date as a real date, YYYY-MM-DD');
    if (input.endDate && !isCalendarDate(input.endDate)) problems.add('endDate', 'Enter the end date as a real date, YYYY-MM-DD');
    if (input.endDate && isCalendarDate(input.endDate) && isCalendarDate(input.startDate) && input.endDate < input.startDate) problems.add('endDate', 'The end date must be on or after the start date');
    problems.throwIfAny();

    const id = `${icsCode}-d-${randomUUID()}`;
    await tx.query(
      'INSERT INTO delegation (id, function_id, to_body_id, to_person_id, place_id, budget_pounds, decisions, start_date, end_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [id, input.functionId, input.toBodyId || null, input.toPersonId || null, input.placeId || null, input.budgetPounds ?? null, input.decisions.trim(), input.startDate, input.endDate || null],
    );
    await logChange(tx, icsCode, actor, `Delegated ${fn?.name ?? input.functionId} to ${delegate}`, { delegationId: id, ...input });
    return id;
  });
}

/** Appoints (or replaces) a PCN's clinical director: the previous one's term ends the day before. */
export async function appointClinicalDirector(db: Database, icsCode: string, pcnCode: string, input: { personId?: string | undefined; personName?: string | undefined; startDate: string }, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const pcn = (await tx.query<{ name: string }>('SELECT o.name FROM pcn JOIN organisation o ON o.code = pcn.org_code WHERE pcn.org_code = $1 AND pcn.ics_code = $2', [pcnCode, icsCode])).rows[0];
    if (!pcn) throw new NotFoundError(`PCN ${pcnCode} in ICS ${icsCode}`);
    const problems = new Problems();
    const name = input.personName?.trim() ?? '';
    if (!input.personId && name === '') problems.add('personName', 'Enter the name of the clinical director');
    if (!isCalendarDate(input.startDate)) problems.add('startDate', 'Enter the start date as a real date, YYYY-MM-DD');
    problems.throwIfAny();
    let personId = input.personId ?? '';
    if (!personId) {
      personId = `${icsCode}-p-${randomUUID()}`;
      await tx.query('INSERT INTO person (id, ics_code, name) VALUES ($1, $2, $3)', [personId, icsCode, name]);
    }
    await tx.query(
      `UPDATE organisation_role SET end_date = ($1::date - 1) WHERE org_code = $2 AND role = 'pcn_clinical_director' AND end_date IS NULL AND start_date < $1::date`,
      [input.startDate, pcnCode],
    );
    await tx.query('INSERT INTO organisation_role (id, person_id, org_code, role, start_date) VALUES ($1, $2, $3, $4, $5)', [`${icsCode}-r-${randomUUID()}`, personId, pcnCode, 'pcn_clinical_director', input.startDate]);
    await logChange(tx, icsCode, actor, `Appointed a clinical director of ${pcn.name} from ${input.startDate}`, { pcnCode, personId });
  });
}

/** Creates the skeleton of any ICB from the reference data. */
export async function createIcs(db: Database, icbCode: string, actor: string): Promise<{ code: string; name: string }> {
  const seed = buildSkeleton(icbCode);
  await db.transaction((tx) => writeSeed(tx, seed, actor));
  return { code: seed.ics.code, name: seed.ics.name };
}

/** Loads the demo ICS unless it is already there; returns whether it loaded. */
export async function loadDemoIcs(db: Database, actor: string): Promise<boolean> {
  if ((await db.query('SELECT 1 FROM ics WHERE code = $1', [DEMO_ICS])).rowCount > 0) return false;
  const seed = buildDemo();
  await db.transaction((tx) => writeSeed(tx, seed, actor));
  return true;
}
