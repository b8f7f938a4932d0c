/**
 * `Authorization: Bearer <token>` → AccessContext. Access tokens are opaque: the token is looked
 * up by its SHA-256 in oidc-provider's storage (adapter.ts), so revocation, a removed client, a
 * disabled user or a role taken away take effect at the next request, not when the token expires.
 */
import type { Database } from '../../core/db/database.js';
import type { AccessContext, RoleCode } from '../context.js';
import { purposeOf } from '../identity/sessions.js';
import { findUser } from '../identity/users.js';
import { hashTokenValue } from './adapter.js';
import { type OAuthClient, findClient } from './clients.js';
import { parseScopes, ScopeError } from './scopes.js';

interface StoredToken {
  model: 'AccessToken' | 'ClientCredentials';
  payload: {
    accountId?: string;
    clientId?: string;
    scope?: string;
    exp?: number;
    extra?: Record<string, unknown>;
  };
}

/** What an opaque token can look like (oidc-provider: 256 bits of base64url); anything else is not looked up. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,512}$/;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `https://host/fhir/Practitioner/x` → `Practitioner/x`, as AccessContext.fhirUser holds it. */
function relativeReference(url: string | undefined): string | undefined {
  const match = url ? /([A-Z][A-Za-z]+\/[A-Za-z0-9.-]{1,64})$/.exec(url) : null;
  return match?.[1];
}

/**
 * The AccessContext of a request carrying this bearer token, or undefined when the token is
 * unknown, expired, revoked, or its user or client can no longer act.
 */
/** Who a backend client (SMART Backend Services) is when it acts with these scopes: its organisation's system feeding or reading records. */
export function backendClientAccess(client: Pick<OAuthClient, 'clientId' | 'name' | 'organisation'>, scopes: AccessContext['scopes']): AccessContext {
  return {
    kind: 'client',
    subject: client.clientId,
    display: client.name,
    ...(client.organisation ? { organisation: client.organisation } : {}),
    scopes,
    purpose: 'HSYSADMIN',
    clientId: client.clientId,
  };
}

export async function accessFromBearerToken(db: Database, token: string): Promise<AccessContext | undefined> {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  const { rows } = await db.query<StoredToken>(
    "SELECT model, payload FROM oauth_model WHERE model IN ('AccessToken', 'ClientCredentials') AND id = $1 AND (expires_at IS NULL OR expires_at > now())",
    [hashTokenValue(token)],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { payload } = row;
  if (typeof payload.exp === 'number' && payload.exp * 1000 <= Date.now()) return undefined;
  const clientId = text(payload.clientId);
  if (!clientId) return undefined;
  let scopes;
  try {
    scopes = parseScopes(payload.scope ?? '');
  } catch (error) {
    // Only scopes OpenICS granted are ever stored; one that does not parse means the token is not ours to honour.
    if (error instanceof ScopeError) return undefined;
    throw error;
  }
  const client = await findClient(db, clientId);
  if (!client) return undefined;
  const extra = payload.extra ?? {};

  if (row.model === 'ClientCredentials') return backendClientAccess(client, scopes);

  const accountId = text(payload.accountId);
  if (!accountId) return undefined;
  const user = await findUser(db, accountId);
  if (!user || user.disabled) return undefined;
  const role = text(extra.openics_role) as RoleCode | undefined;
  const organisation = text(extra.openics_organisation);
  // The role the grant was made in must still be held: taking a role away ends its tokens too.
  if (role && !user.roles.some((r) => r.role === role && r.organisation === organisation)) return undefined;
  const patient = text(extra.patient);
  const fhirUser = relativeReference(text(extra.fhirUser));
  const context: AccessContext = {
    kind: 'user',
    subject: user.id,
    display: user.displayName,
    ...(role ? { role } : {}),
    ...(organisation ? { organisation } : {}),
    scopes: role || user.kind === 'citizen' ? scopes : [],
    ...(patient ? { patient } : {}),
    purpose: role ? purposeOf(role) : user.kind === 'citizen' ? 'PATRQT' : 'TREAT',
    ...(fhirUser ? { fhirUser } : {}),
    clientId: client.clientId,
  };
  if (user.kind === 'citizen') {
    // A citizen's token is bound to one record: their own, or one they are proxy for.
    context.ownPatients = patient && extra.openics_relation === 'own' ? [patient] : [];
    context.proxyPatients = patient && extra.openics_relation === 'proxy' ? [patient] : [];
  }
  return context;
}
