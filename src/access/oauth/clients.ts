/**
 * The apps and systems registered to ask OpenICS for tokens (`oauth_client`), and how each is
 * presented to oidc-provider. Registration is an administrator's act (`npm run clients`) or the
 * demo loader's; there is no dynamic registration.
 *
 *   public_app        a SMART app in a browser or on a device: no secret, authorisation code + PKCE
 *   confidential_app  a SMART app with a server: authorisation code + PKCE, authenticated with its own key (private_key_jwt)
 *   backend_service   a system without a user (SMART Backend Services): client_credentials + private_key_jwt
 */
import type { JWK } from 'jose';
import type { Database, Queryable } from '../../core/db/database.js';
import { type FieldProblem, ValidationError } from '../../core/errors.js';
import { isGrantableScope, OIDC_SCOPES } from './scopes.js';

export const CLIENT_KINDS = ['public_app', 'confidential_app', 'backend_service'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export interface OAuthClient {
  clientId: string;
  name: string;
  kind: ClientKind;
  organisation?: string | undefined;
  redirectUris: string[];
  launchUri?: string | undefined;
  origins: string[];
  jwks?: { keys: JWK[] } | undefined;
  jwksUri?: string | undefined;
  /** Space-separated scopes the client may be granted (SMART syntax, wildcards allowed). */
  scope: string;
}

export interface ClientRow {
  client_id: string;
  name: string;
  kind: ClientKind;
  organisation: string | null;
  redirect_uris: string[];
  launch_uri: string | null;
  origins: string[];
  jwks: { keys: JWK[] } | null;
  jwks_uri: string | null;
  scope: string;
  created_at: Date;
}

export const CLIENT_COLUMNS = 'client_id, name, kind, organisation, redirect_uris, launch_uri, origins, jwks, jwks_uri, scope, created_at';

/** Client metadata OpenICS keeps beside the standard ones (oidc-provider's extraClientMetadata). */
export const EXTRA_CLIENT_METADATA = ['openics_kind', 'openics_organisation', 'openics_scope', 'openics_origins', 'openics_launch_uri'] as const;

/** Algorithms a client may sign its private_key_jwt assertion with: SMART requires RS384 and ES384 to be supported. */
export const CLIENT_ASSERTION_ALGS = ['RS384', 'ES384', 'RS256', 'ES256', 'PS384'] as const;

function fromRow(row: ClientRow): OAuthClient {
  return {
    clientId: row.client_id,
    name: row.name,
    kind: row.kind,
    organisation: row.organisation ?? undefined,
    redirectUris: row.redirect_uris,
    launchUri: row.launch_uri ?? undefined,
    origins: row.origins,
    jwks: row.jwks ?? undefined,
    jwksUri: row.jwks_uri ?? undefined,
    scope: row.scope,
  };
}

/** The client as oidc-provider's client metadata. */
export function clientMetadata(row: ClientRow): Record<string, unknown> {
  const registered = row.scope.split(' ').filter((s) => s !== '');
  const isApp = row.kind !== 'backend_service';
  return {
    client_id: row.client_id,
    client_name: row.name,
    application_type: 'web',
    redirect_uris: row.redirect_uris,
    response_types: isApp ? ['code'] : [],
    grant_types: isApp ? (registered.includes('offline_access') ? ['authorization_code', 'refresh_token'] : ['authorization_code']) : ['client_credentials'],
    token_endpoint_auth_method: row.kind === 'public_app' ? 'none' : 'private_key_jwt',
    ...(row.jwks ? { jwks: row.jwks } : {}),
    ...(row.jwks_uri ? { jwks_uri: row.jwks_uri } : {}),
    // oidc-provider checks only its own (OpenID Connect) scopes against `scope`; the SMART
    // resource scopes are checked against openics_scope when the FHIR resource server is resolved.
    scope: OIDC_SCOPES.filter((s) => registered.includes(s)).join(' ') || 'openid',
    openics_kind: row.kind,
    openics_organisation: row.organisation ?? undefined,
    openics_scope: row.scope,
    openics_origins: row.origins,
    openics_launch_uri: row.launch_uri ?? undefined,
  };
}

export async function findClient(db: Queryable, clientId: string): Promise<OAuthClient | undefined> {
  const { rows } = await db.query<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM oauth_client WHERE client_id = $1 AND disabled_at IS NULL`, [clientId]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function listClients(db: Queryable): Promise<OAuthClient[]> {
  const { rows } = await db.query<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM oauth_client WHERE disabled_at IS NULL ORDER BY client_id`);
  return rows.map(fromRow);
}

/** Apps that can be launched from a patient's page (they have a launch URL). */
export async function launchableApps(db: Queryable): Promise<OAuthClient[]> {
  return (await listClients(db)).filter((c) => c.kind !== 'backend_service' && c.launchUri !== undefined);
}

/**
 * Every browser origin registered by a client: for CORS (A4's @fastify/cors origin check calls
 * this). Cheap: one small query; callers may cache it for a few seconds.
 */
export async function registeredOrigins(db: Queryable): Promise<Set<string>> {
  const { rows } = await db.query<{ origin: string }>('SELECT DISTINCT unnest(origins) AS origin FROM oauth_client WHERE disabled_at IS NULL');
  return new Set(rows.map((r) => r.origin));
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hash === '';
  } catch {
    return false;
  }
}

function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === text;
  } catch {
    return false;
  }
}

/** Checks a registration, collecting every problem (each naming its field). */
export function validateClient(client: OAuthClient): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (!/^[A-Za-z0-9._~-]{3,100}$/.test(client.clientId)) problems.push({ field: 'clientId', message: 'must be 3 to 100 letters, digits or . _ ~ -' });
  if (client.name.trim() === '' || client.name.length > 200) problems.push({ field: 'name', message: 'must be 1 to 200 characters' });
  if (!CLIENT_KINDS.includes(client.kind)) problems.push({ field: 'kind', message: `must be one of ${CLIENT_KINDS.join(', ')}` });
  if (client.kind !== 'backend_service' && client.redirectUris.length === 0) problems.push({ field: 'redirectUris', message: 'an app needs at least one redirect URI' });
  client.redirectUris.forEach((uri, i) => {
    if (!isHttpUrl(uri)) problems.push({ field: `redirectUris.${i}`, message: 'must be an http or https URL without a fragment' });
  });
  if (client.launchUri !== undefined && !isHttpUrl(client.launchUri)) problems.push({ field: 'launchUri', message: 'must be an http or https URL without a fragment' });
  if (client.kind === 'backend_service' && client.launchUri !== undefined) problems.push({ field: 'launchUri', message: 'a backend service is not launched' });
  client.origins.forEach((origin, i) => {
    if (!isOrigin(origin)) problems.push({ field: `origins.${i}`, message: 'must be an origin: scheme, host and port only, e.g. https://app.example.org' });
  });
  if (client.kind !== 'public_app' && !client.jwks && !client.jwksUri) problems.push({ field: 'jwks', message: 'a confidential app or backend service needs its public keys (a JWK Set or a jwks_uri)' });
  if (client.jwks && client.jwksUri) problems.push({ field: 'jwksUri', message: 'give a JWK Set or a jwks_uri, not both' });
  if (client.jwksUri !== undefined && !isHttpUrl(client.jwksUri)) problems.push({ field: 'jwksUri', message: 'must be an http or https URL' });
  client.jwks?.keys.forEach((key, i) => {
    if ('d' in key || 'p' in key || 'k' in key) problems.push({ field: `jwks.keys.${i}`, message: 'must be a public key: never register a private or secret key' });
    if (key.kty !== 'RSA' && key.kty !== 'EC') problems.push({ field: `jwks.keys.${i}`, message: 'must be an RSA or EC key' });
  });
  const scopes = client.scope.split(' ').filter((s) => s !== '');
  if (scopes.length === 0) problems.push({ field: 'scope', message: 'must list at least one scope' });
  for (const scope of scopes) {
    if (!isGrantableScope(scope)) problems.push({ field: 'scope', message: `"${scope}" is not a scope OpenICS can grant` });
    else if (client.kind === 'backend_service' && !scope.startsWith('system/')) problems.push({ field: 'scope', message: `a backend service has only system/ scopes, not "${scope}"` });
    else if (client.kind !== 'backend_service' && scope.startsWith('system/')) problems.push({ field: 'scope', message: `only a backend service has system/ scopes, not "${scope}"` });
  }
  return problems;
}

/** Registers a client, or replaces its registration; refuses with every problem named. */
export async function registerClient(db: Queryable, client: OAuthClient): Promise<void> {
  const problems = validateClient(client);
  if (client.organisation !== undefined) {
    const { rowCount } = await db.query('SELECT 1 FROM organisation WHERE code = $1', [client.organisation]);
    if (rowCount === 0) problems.push({ field: 'organisation', message: `no organisation has the code "${client.organisation}"` });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  await db.query(
    `INSERT INTO oauth_client (client_id, name, kind, organisation, redirect_uris, launch_uri, origins, jwks, jwks_uri, scope)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (client_id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, organisation = EXCLUDED.organisation,
       redirect_uris = EXCLUDED.redirect_uris, launch_uri = EXCLUDED.launch_uri, origins = EXCLUDED.origins, jwks = EXCLUDED.jwks,
       jwks_uri = EXCLUDED.jwks_uri, scope = EXCLUDED.scope, disabled_at = NULL`,
    [
      client.clientId,
      client.name,
      client.kind,
      client.organisation ?? null,
      client.redirectUris,
      client.launchUri ?? null,
      client.origins,
      client.jwks ? JSON.stringify(client.jwks) : null,
      client.jwksUri ?? null,
      client.scope.split(' ').filter((s) => s !== '').join(' '),
    ],
  );
}

/**
 * Removes a client: it can no longer get tokens, and every token and grant it holds is revoked
 * at once. The row is kept (disabled) so audit records naming it still resolve.
 */
export async function removeClient(db: Database, clientId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rowCount } = await tx.query('UPDATE oauth_client SET disabled_at = now() WHERE client_id = $1 AND disabled_at IS NULL', [clientId]);
    if (rowCount === 0) return false;
    await tx.query("DELETE FROM oauth_model WHERE payload->>'clientId' = $1", [clientId]);
    await tx.query('DELETE FROM oauth_grant_context WHERE client_id = $1', [clientId]);
    await tx.query('DELETE FROM oauth_launch WHERE client_id = $1', [clientId]);
    return true;
  });
}
