/**
 * SMART launch context. An EHR launch starts on a patient's page: OpenICS records which user
 * opened which app for which patient (`oauth_launch`) and sends the app `launch=<id>`. During
 * authorisation the app trades the id for that patient, and the grant it ends with is bound to
 * it (`oauth_grant_context`), so every token of the grant, refreshes included, carries the patient.
 */
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../core/db/database.js';
import type { RoleCode } from '../context.js';

/** How long an app has to turn a launch into an authorisation request. */
export const LAUNCH_TTL_SECONDS = 5 * 60;

export interface Launch {
  id: string;
  clientId: string;
  userId: string;
  patient: string;
  encounter?: string | undefined;
}

export async function createLaunch(db: Queryable, launch: Omit<Launch, 'id'>): Promise<Launch> {
  const id = randomBytes(24).toString('base64url');
  await db.query(
    `INSERT INTO oauth_launch (id, client_id, user_id, patient, encounter, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::integer))`,
    [id, launch.clientId, launch.userId, launch.patient, launch.encounter ?? null, LAUNCH_TTL_SECONDS],
  );
  return { id, ...launch };
}

/** The launch, if it exists, has not expired and was made for this client. */
export async function findLaunch(db: Queryable, id: string, clientId: string): Promise<Launch | undefined> {
  const { rows } = await db.query<{ id: string; client_id: string; user_id: string; patient: string; encounter: string | null }>(
    'SELECT id, client_id, user_id, patient, encounter FROM oauth_launch WHERE id = $1 AND client_id = $2 AND expires_at > now()',
    [id, clientId],
  );
  const row = rows[0];
  return row ? { id: row.id, clientId: row.client_id, userId: row.user_id, patient: row.patient, encounter: row.encounter ?? undefined } : undefined;
}

export async function markLaunchUsed(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE oauth_launch SET used_at = now() WHERE id = $1', [id]);
}

export interface GrantContext {
  grantId: string;
  accountId: string;
  clientId: string;
  patient?: string | undefined;
  encounter?: string | undefined;
  role?: RoleCode | undefined;
  organisation?: string | undefined;
  launchId?: string | undefined;
}

export async function saveGrantContext(db: Queryable, context: GrantContext, ttlSeconds: number): Promise<void> {
  await db.query(
    `INSERT INTO oauth_grant_context (grant_id, account_id, client_id, patient, encounter, role, organisation, launch_id, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9::integer))
     ON CONFLICT (grant_id) DO UPDATE SET patient = EXCLUDED.patient, encounter = EXCLUDED.encounter, role = EXCLUDED.role,
       organisation = EXCLUDED.organisation, launch_id = EXCLUDED.launch_id, expires_at = EXCLUDED.expires_at`,
    [context.grantId, context.accountId, context.clientId, context.patient ?? null, context.encounter ?? null, context.role ?? null, context.organisation ?? null, context.launchId ?? null, ttlSeconds],
  );
}

export async function findGrantContext(db: Queryable, grantId: string): Promise<GrantContext | undefined> {
  const { rows } = await db.query<{
    grant_id: string;
    account_id: string;
    client_id: string;
    patient: string | null;
    encounter: string | null;
    role: RoleCode | null;
    organisation: string | null;
    launch_id: string | null;
  }>('SELECT grant_id, account_id, client_id, patient, encounter, role, organisation, launch_id FROM oauth_grant_context WHERE grant_id = $1 AND expires_at > now()', [grantId]);
  const row = rows[0];
  if (!row) return undefined;
  return {
    grantId: row.grant_id,
    accountId: row.account_id,
    clientId: row.client_id,
    patient: row.patient ?? undefined,
    encounter: row.encounter ?? undefined,
    role: row.role ?? undefined,
    organisation: row.organisation ?? undefined,
    launchId: row.launch_id ?? undefined,
  };
}
