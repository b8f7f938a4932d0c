/**
 * Users and the roles they hold. Staff hold roles (the national RBAC roles, simplified: see
 * ../context.ts) at organisations; citizens hold the `citizen` role and are known by their NHS
 * number. Passwords are only ever stored as scrypt hashes (passwords.ts).
 */
import { type Database, type Queryable } from '../../core/db/database.js';
import { type FieldProblem, ValidationError } from '../../core/errors.js';
import { isValidNhsNumber } from '../../fhir/validate.js';
import { ROLES, type RoleAssignment, type RoleCode } from '../context.js';
import { MAX_PASSWORD_LENGTH, hashPassword, needsRehash, passwordProblems, verifyAgainstNothing, verifyPassword } from './passwords.js';

export type UserKind = 'staff' | 'citizen';

export interface User {
  /** Opaque and stable: what sessions, tokens and the audit trail name. Never an NHS number. */
  id: string;
  username: string;
  displayName: string;
  kind: UserKind;
  /** Every role the user holds, each at one organisation; a session acts in one of them. */
  roles: RoleAssignment[];
  /** Citizens: their NHS number. */
  nhsNumber?: string;
  /** Users who sign in through an external provider (NHS CIS2, NHS login). */
  external?: { issuer: string; subject: string };
  disabled: boolean;
}

export interface NewUser {
  id: string;
  username: string;
  displayName: string;
  kind: UserKind;
  roles: RoleAssignment[];
  nhsNumber?: string | undefined;
  /** Absent for users who only sign in through an external provider. */
  password?: string | undefined;
  /** A hash made earlier with hashPassword (the demo loader hashes its one password once). */
  passwordHash?: string | undefined;
  external?: { issuer: string; subject: string } | undefined;
}

const ID = /^[a-z0-9][a-z0-9._-]{2,63}$/;
const USERNAME = /^[a-z0-9][a-z0-9._@-]{2,99}$/;
const ORGANISATION = /^[A-Z0-9-]{3,12}$/;

/** Usernames are compared in lower case, without surrounding spaces. */
export function normaliseUsername(username: string): string {
  return username.trim().toLowerCase();
}

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  kind: UserKind;
  nhs_number: string | null;
  password_hash: string | null;
  external_issuer: string | null;
  external_subject: string | null;
  disabled_at: Date | null;
}

const USER_COLUMNS = 'id, username, display_name, kind, nhs_number, password_hash, external_issuer, external_subject, disabled_at';

async function rolesOf(db: Queryable, userId: string): Promise<RoleAssignment[]> {
  const { rows } = await db.query<{ role: RoleCode; organisation: string; national_code: string | null }>(
    'SELECT role, organisation, national_code FROM access_role_assignment WHERE user_id = $1 ORDER BY organisation, role',
    [userId],
  );
  return rows.map((r) => ({ role: r.role, organisation: r.organisation, ...(r.national_code ? { nationalCode: r.national_code } : {}) }));
}

async function toUser(db: Queryable, row: UserRow): Promise<User> {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    kind: row.kind,
    roles: await rolesOf(db, row.id),
    ...(row.nhs_number ? { nhsNumber: row.nhs_number } : {}),
    ...(row.external_issuer && row.external_subject ? { external: { issuer: row.external_issuer, subject: row.external_subject } } : {}),
    disabled: row.disabled_at !== null,
  };
}

export async function findUser(db: Queryable, id: string): Promise<User | undefined> {
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM access_user WHERE id = $1`, [id]);
  return rows[0] ? toUser(db, rows[0]) : undefined;
}

export async function findUserByUsername(db: Queryable, username: string): Promise<User | undefined> {
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM access_user WHERE username = $1`, [normaliseUsername(username)]);
  return rows[0] ? toUser(db, rows[0]) : undefined;
}

/** The user an external provider's subject belongs to (for sign-in through NHS CIS2 or NHS login). */
export async function findUserByExternalSubject(db: Queryable, issuer: string, subject: string): Promise<User | undefined> {
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM access_user WHERE external_issuer = $1 AND external_subject = $2`, [issuer, subject]);
  return rows[0] ? toUser(db, rows[0]) : undefined;
}

/** Citizens: the user with this NHS number, if they have an account. */
export async function findCitizenByNhsNumber(db: Queryable, nhsNumber: string): Promise<User | undefined> {
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM access_user WHERE nhs_number = $1`, [nhsNumber]);
  return rows[0] ? toUser(db, rows[0]) : undefined;
}

function assignmentProblems(roles: readonly RoleAssignment[], kind: UserKind): FieldProblem[] {
  const problems: FieldProblem[] = [];
  roles.forEach((r, i) => {
    if (!(ROLES as readonly string[]).includes(r.role)) problems.push({ field: `roles.${i}.role`, message: `must be one of ${ROLES.join(', ')}` });
    else if ((r.role === 'citizen') !== (kind === 'citizen')) problems.push({ field: `roles.${i}.role`, message: kind === 'citizen' ? 'a citizen holds only the citizen role' : 'staff cannot hold the citizen role' });
    if (!ORGANISATION.test(r.organisation)) problems.push({ field: `roles.${i}.organisation`, message: 'must be an ODS code or an ONS council code (capital letters and digits)' });
  });
  return problems;
}

/** Creates a user with their roles, or refuses with a problem for each field to fix. */
export async function createUser(db: Database, input: NewUser): Promise<User> {
  const problems: FieldProblem[] = [];
  const username = normaliseUsername(input.username);
  if (!ID.test(input.id)) problems.push({ field: 'id', message: 'must be 3 to 64 lower-case letters, digits, dots, hyphens or underscores' });
  if (!USERNAME.test(username)) problems.push({ field: 'username', message: 'must be 3 to 100 lower-case letters, digits, dots, hyphens, underscores or @' });
  if (input.displayName.trim() === '' || input.displayName.length > 200) problems.push({ field: 'displayName', message: 'must be 1 to 200 characters' });
  if (input.kind === 'citizen') {
    if (input.nhsNumber === undefined || !isValidNhsNumber(input.nhsNumber)) problems.push({ field: 'nhsNumber', message: 'must be a valid NHS number: 10 digits, the last a Modulus 11 check digit' });
  } else if (input.nhsNumber !== undefined) {
    problems.push({ field: 'nhsNumber', message: 'only citizens are known by their NHS number' });
  }
  if (input.roles.length === 0) problems.push({ field: 'roles', message: 'a user must hold at least one role' });
  problems.push(...assignmentProblems(input.roles, input.kind));
  if (input.password !== undefined) problems.push(...passwordProblems(input.password, username).map((message) => ({ field: 'password', message })));
  if (input.password !== undefined && input.passwordHash !== undefined) problems.push({ field: 'passwordHash', message: 'give a password or a hash, not both' });
  if (problems.length > 0) throw new ValidationError(problems);

  const passwordHash = input.passwordHash ?? (input.password !== undefined ? await hashPassword(input.password) : null);
  await db.transaction(async (tx) => {
    const taken = await tx.query<{ field: string }>(
      `SELECT CASE WHEN id = $1 THEN 'id' WHEN username = $2 THEN 'username' ELSE 'nhsNumber' END AS field
         FROM access_user WHERE id = $1 OR username = $2 OR nhs_number = $3`,
      [input.id, username, input.nhsNumber ?? null],
    );
    if (taken.rows.length > 0) throw new ValidationError(taken.rows.map((r) => ({ field: r.field, message: 'is already taken by another user' })));
    await tx.query(
      `INSERT INTO access_user (id, username, display_name, kind, nhs_number, password_hash, external_issuer, external_subject)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [input.id, username, input.displayName.trim(), input.kind, input.nhsNumber ?? null, passwordHash, input.external?.issuer ?? null, input.external?.subject ?? null],
    );
    for (const r of input.roles) {
      await tx.query('INSERT INTO access_role_assignment (user_id, role, organisation, national_code) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
        input.id,
        r.role,
        r.organisation,
        r.nationalCode ?? null,
      ]);
    }
  });
  const user = await findUser(db, input.id);
  if (!user) throw new Error('the user just created was not found');
  return user;
}

/**
 * The user whose username and password these are, or undefined: for an unknown username, a
 * wrong password, a disabled user, or one who signs in only through an external provider. The
 * answer takes as long whichever it is. A hash made with older parameters is replaced by one
 * with the current parameters (the password is known to be right at this moment).
 */
export async function authenticatePassword(db: Queryable, username: string, password: string): Promise<User | undefined> {
  if (password.length > MAX_PASSWORD_LENGTH) return undefined;
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM access_user WHERE username = $1`, [normaliseUsername(username)]);
  const row = rows[0];
  if (!row || row.password_hash === null) return verifyAgainstNothing(password).then(() => undefined);
  if (!(await verifyPassword(password, row.password_hash))) return undefined;
  if (row.disabled_at !== null) return undefined;
  if (needsRehash(row.password_hash)) {
    // Compare-and-set: a concurrent change of password wins over the upgrade.
    await db.query('UPDATE access_user SET password_hash = $1 WHERE id = $2 AND password_hash = $3', [await hashPassword(password), row.id, row.password_hash]);
  }
  return toUser(db, row);
}

/** Sets a new password (checked against the rules for new passwords); ends the user's sessions. */
export async function setPassword(db: Database, userId: string, password: string): Promise<void> {
  const user = await findUser(db, userId);
  if (!user) throw ValidationError.field('userId', 'is not a user');
  const problems = passwordProblems(password, user.username);
  if (problems.length > 0) throw new ValidationError(problems.map((message) => ({ field: 'password', message })));
  const hash = await hashPassword(password);
  await db.transaction(async (tx) => {
    await tx.query('UPDATE access_user SET password_hash = $1 WHERE id = $2', [hash, userId]);
    await tx.query('DELETE FROM access_session WHERE user_id = $1', [userId]);
  });
}

/** Disables (or enables again) a user; disabling ends their sessions. */
export async function setUserDisabled(db: Database, userId: string, disabled: boolean): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`UPDATE access_user SET disabled_at = ${disabled ? 'coalesce(disabled_at, now())' : 'NULL'} WHERE id = $1`, [userId]);
    if (disabled) await tx.query('DELETE FROM access_session WHERE user_id = $1', [userId]);
  });
}

export async function grantRole(db: Queryable, userId: string, assignment: RoleAssignment): Promise<void> {
  const user = await findUser(db, userId);
  if (!user) throw ValidationError.field('userId', 'is not a user');
  const problems = assignmentProblems([assignment], user.kind).map((p) => ({ ...p, field: p.field.replace(/^roles\.0\./, '') }));
  if (problems.length > 0) throw new ValidationError(problems);
  await db.query(
    `INSERT INTO access_role_assignment (user_id, role, organisation, national_code) VALUES ($1, $2, $3, $4)
     ON CONFLICT (user_id, role, organisation) DO UPDATE SET national_code = EXCLUDED.national_code`,
    [userId, assignment.role, assignment.organisation, assignment.nationalCode ?? null],
  );
}

/** Takes a role away; sessions acting in it end with it (a foreign key cascades). */
export async function revokeRole(db: Queryable, userId: string, role: RoleCode, organisation: string): Promise<void> {
  await db.query('DELETE FROM access_role_assignment WHERE user_id = $1 AND role = $2 AND organisation = $3', [userId, role, organisation]);
}

export interface ProxyGrant {
  /** NHS number of the resident the proxy may act for. */
  nhsNumber: string;
  /** HL7 v3 RoleCode of the proxy's relationship to the resident, e.g. PRN (parent). */
  relationship: string;
  validFrom: string;
  validTo?: string | undefined;
}

/** Gives a citizen proxy access to another resident's record (a parent for a child, a carer). */
export async function grantProxy(db: Queryable, proxyUserId: string, grant: ProxyGrant): Promise<void> {
  const problems: FieldProblem[] = [];
  const proxy = await findUser(db, proxyUserId);
  if (!proxy || proxy.kind !== 'citizen') problems.push({ field: 'proxyUserId', message: 'must be a citizen user' });
  if (!isValidNhsNumber(grant.nhsNumber)) problems.push({ field: 'nhsNumber', message: 'must be a valid NHS number: 10 digits, the last a Modulus 11 check digit' });
  else if (proxy?.nhsNumber === grant.nhsNumber) problems.push({ field: 'nhsNumber', message: 'is the proxy’s own NHS number' });
  if (!/^[A-Z]{2,12}$/.test(grant.relationship)) problems.push({ field: 'relationship', message: 'must be an HL7 v3 RoleCode, e.g. PRN or GUARD' });
  if (!/^\d{4}-\d{2}-\d{2}$/.test(grant.validFrom)) problems.push({ field: 'validFrom', message: 'must be a date, YYYY-MM-DD' });
  if (grant.validTo !== undefined && !(/^\d{4}-\d{2}-\d{2}$/.test(grant.validTo) && grant.validTo >= grant.validFrom)) problems.push({ field: 'validTo', message: 'must be a date, YYYY-MM-DD, not before validFrom' });
  if (problems.length > 0) throw new ValidationError(problems);
  await db.query(
    `INSERT INTO access_proxy (proxy_user_id, patient_nhs_number, relationship, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (proxy_user_id, patient_nhs_number) DO UPDATE SET relationship = EXCLUDED.relationship, valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to`,
    [proxyUserId, grant.nhsNumber, grant.relationship, grant.validFrom, grant.validTo ?? null],
  );
}

/** The NHS numbers a citizen holds proxy access for on the given day. */
export async function proxyNhsNumbers(db: Queryable, proxyUserId: string, asOf: string): Promise<string[]> {
  const { rows } = await db.query<{ patient_nhs_number: string }>(
    `SELECT patient_nhs_number FROM access_proxy
      WHERE proxy_user_id = $1 AND valid_from <= $2::date AND (valid_to IS NULL OR valid_to >= $2::date)
      ORDER BY patient_nhs_number`,
    [proxyUserId, asOf],
  );
  return rows.map((r) => r.patient_nhs_number);
}
