/**
 * Server-side sessions of the built-in sign-in (and of external sign-in, which A1's OpenID
 * Connect client ends in the same way). The browser holds a random 256-bit token in an HttpOnly
 * cookie; the database holds only its SHA-256, the user, the role and organisation chosen for the
 * session, and (for citizens) the Patient ids resolved at sign-in.
 *
 * A session ends after SESSION_IDLE_MS without a request, or SESSION_MAX_MS after sign-in,
 * whichever is first, or at sign-out. A user holding several roles gets a session with no role
 * until they choose one; such a session allows nothing else.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../../core/db/database.js';
import { ValidationError } from '../../core/errors.js';
import { type AccessContext, DIRECT_CARE_ROLES, type PurposeOfUse, type RoleAssignment, type RoleCode, type SmartScope } from '../context.js';
import { type CitizenPatients } from './citizens.js';
import { type User, findUser } from './users.js';

/** Idle limit: 30 minutes, as NHS staff systems commonly lock after. */
export const SESSION_IDLE_MS = 30 * 60 * 1000;
/** Absolute limit: 12 hours, a long shift; then sign in again. */
export const SESSION_MAX_MS = 12 * 60 * 60 * 1000;
/** last_seen_at is written at most this often, not on every request. */
const TOUCH_EVERY_MS = 60 * 1000;

export interface Session {
  tokenHash: string;
  user: User;
  /** The assignment the session acts in; undefined until a user holding several has chosen. */
  acting?: RoleAssignment;
  ownPatients: string[];
  proxyPatients: string[];
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Starts a session; returns the token for the cookie (shown once, never stored). */
export async function createSession(
  db: Queryable,
  user: User,
  options: { patients?: CitizenPatients; acting?: RoleAssignment; now?: Date } = {},
): Promise<{ token: string; session: Session }> {
  const now = options.now ?? new Date();
  const token = randomBytes(32).toString('base64url');
  const tokenHash = hashToken(token);
  const acting = options.acting ?? (user.roles.length === 1 ? user.roles[0] : undefined);
  if (acting && !holds(user, acting)) throw ValidationError.field('role', 'is not a role this user holds');
  const expiresAt = new Date(now.getTime() + SESSION_MAX_MS);
  const patients = options.patients ?? { ownPatients: [], proxyPatients: [] };
  await db.query(
    `INSERT INTO access_session (token_hash, user_id, role, organisation, own_patients, proxy_patients, created_at, last_seen_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)`,
    [tokenHash, user.id, acting?.role ?? null, acting?.organisation ?? null, patients.ownPatients, patients.proxyPatients, now, expiresAt],
  );
  return {
    token,
    session: { tokenHash, user, ...(acting ? { acting } : {}), ownPatients: patients.ownPatients, proxyPatients: patients.proxyPatients, createdAt: now, lastSeenAt: now, expiresAt },
  };
}

function holds(user: User, assignment: { role: RoleCode; organisation: string }): boolean {
  return user.roles.some((r) => r.role === assignment.role && r.organisation === assignment.organisation);
}

interface SessionRow {
  token_hash: string;
  user_id: string;
  role: RoleCode | null;
  organisation: string | null;
  own_patients: string[];
  proxy_patients: string[];
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
}

/**
 * The live session this cookie token names, or undefined (no such session, idle too long,
 * past its end, or its user disabled). Expired sessions are deleted when met.
 */
export async function findSession(db: Queryable, token: string, now: Date = new Date()): Promise<Session | undefined> {
  if (!TOKEN.test(token)) return undefined;
  const tokenHash = hashToken(token);
  const { rows } = await db.query<SessionRow>('SELECT * FROM access_session WHERE token_hash = $1', [tokenHash]);
  const row = rows[0];
  if (!row) return undefined;
  if (row.expires_at.getTime() <= now.getTime() || now.getTime() - row.last_seen_at.getTime() > SESSION_IDLE_MS) {
    await db.query('DELETE FROM access_session WHERE token_hash = $1', [tokenHash]);
    return undefined;
  }
  const user = await findUser(db, row.user_id);
  if (!user || user.disabled) return undefined;
  let lastSeenAt = row.last_seen_at;
  if (now.getTime() - lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await db.query('UPDATE access_session SET last_seen_at = $2 WHERE token_hash = $1', [tokenHash, now]);
    lastSeenAt = now;
  }
  const acting = row.role && row.organisation ? user.roles.find((r) => r.role === row.role && r.organisation === row.organisation) : undefined;
  return {
    tokenHash,
    user,
    ...(acting ? { acting } : {}),
    ownPatients: row.own_patients,
    proxyPatients: row.proxy_patients,
    createdAt: row.created_at,
    lastSeenAt,
    expiresAt: row.expires_at,
  };
}

/** Sets the role and organisation a session acts in: one of the user's own assignments. */
export async function chooseRole(db: Queryable, session: Session, assignment: { role: RoleCode; organisation: string }): Promise<Session> {
  const acting = session.user.roles.find((r) => r.role === assignment.role && r.organisation === assignment.organisation);
  if (!acting) throw ValidationError.field('role', 'Choose one of the roles you hold');
  await db.query('UPDATE access_session SET role = $2, organisation = $3 WHERE token_hash = $1', [session.tokenHash, acting.role, acting.organisation]);
  return { ...session, acting };
}

export async function endSession(db: Queryable, tokenHash: string): Promise<void> {
  await db.query('DELETE FROM access_session WHERE token_hash = $1', [tokenHash]);
}

/** Deletes sessions past their end or idle limit; returns how many. */
export async function deleteExpiredSessions(db: Queryable, now: Date = new Date()): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM access_session WHERE expires_at <= $1 OR last_seen_at < $2', [now, new Date(now.getTime() - SESSION_IDLE_MS)]);
  return rowCount;
}

/** The purpose of use a role acts for by default (HL7 v3 ActReason). */
export function purposeOf(role: RoleCode): PurposeOfUse {
  if (DIRECT_CARE_ROLES.includes(role)) return 'TREAT';
  if (role === 'citizen') return 'PATRQT';
  if (role === 'administrator') return 'HSYSADMIN';
  return 'HOPERAT';
}

/**
 * What a cookie session may do, as SMART scopes: staff `user/*.cruds` (the data layer's policy
 * narrows it by role and relationship), citizens `patient/*.rs` (their own and proxied records).
 */
export function sessionScopes(user: User): SmartScope[] {
  return user.kind === 'citizen' ? [{ context: 'patient', type: '*', actions: 'rs' }] : [{ context: 'user', type: '*', actions: 'cruds' }];
}

/** The AccessContext of a request made in this session. A session with no role chosen yet gets no scopes. */
export function accessFromSession(session: Session, requestId?: string): AccessContext {
  const { user, acting } = session;
  return {
    kind: 'user',
    subject: user.id,
    display: user.displayName,
    ...(acting ? { role: acting.role, organisation: acting.organisation } : {}),
    scopes: acting ? sessionScopes(user) : [],
    ...(user.kind === 'citizen' ? { ownPatients: session.ownPatients, proxyPatients: session.proxyPatients } : {}),
    purpose: acting ? purposeOf(acting.role) : 'TREAT',
    ...(requestId ? { requestId } : {}),
  };
}
