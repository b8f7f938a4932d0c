/**
 * OpenICS's authorisation server: oidc-provider (panva, OpenID certified) configured for SMART
 * App Launch 2.0 and SMART Backend Services. What SMART needs beyond plain OAuth is added through
 * oidc-provider's own extension points (see src/access/README.md, "OAuth and SMART"):
 *
 *   SMART resource scopes   the FHIR API is a resource server (features.resourceIndicators): its
 *                           scopes are the requested SMART scopes the client is registered for
 *   aud, launch             extraParams, each validated
 *   launch context          the consent interaction binds the grant to a patient (launch.ts);
 *                           extraTokenClaims puts it on every token of the grant
 *   token response          `patient`, `fhirUser` and the full granted `scope` added by a
 *                           provider.use middleware
 *   sign-in each time       a login check: each authorisation confirms who is signed in
 *   offline_access          granted without prompt=consent (every authorisation is consented anyway)
 */
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
// Before oidc-provider itself: it warns about Node 20 when imported.
import './quiet-runtime-warning.js';
import Provider, { type Configuration, errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../../core/db/database.js';
import { createRenderer, type Renderer } from '../../web/render.js';
import { citizenPatients } from '../identity/citizens.js';
import { findUser, type User } from '../identity/users.js';
import { postgresAdapterFactory } from './adapter.js';
import { CLIENT_ASSERTION_ALGS, EXTRA_CLIENT_METADATA } from './clients.js';
import { findGrantContext, findLaunch } from './launch.js';
import { isGrantableScope, OIDC_SCOPES, registrationAllows } from './scopes.js';

const VIEWS = fileURLToPath(new URL('./views', import.meta.url));
export const oauthRenderer: Renderer = createRenderer([VIEWS]);

/** Where oidc-provider is mounted; its endpoints are /oauth/authorize, /oauth/token... */
export const OAUTH_PREFIX = '/oauth';

export const TTL = {
  accessToken: 60 * 60,
  clientCredentials: 15 * 60,
  authorizationCode: 60,
  idToken: 60 * 60,
  refreshToken: 14 * 24 * 60 * 60,
  grant: 14 * 24 * 60 * 60,
  interaction: 60 * 60,
  session: 12 * 60 * 60,
} as const;

export interface ProviderOptions {
  /** The issuer: OpenICS's origin, e.g. https://openics.example.nhs.uk */
  issuer: string;
  db: () => Database;
  signingKeys: JWK[];
  cookieKeys: string[];
  /** Trust X-Forwarded-Proto and -Host (behind a TLS-terminating proxy). */
  proxy?: boolean;
}

/** The FHIR API's base URL for an issuer: the resource server and the `aud` of every token. */
export function fhirBaseOf(issuer: string): string {
  return `${new URL(issuer).origin}/fhir`;
}

function split(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter((s) => s !== '') : [];
}

function metadata(ctx: KoaContextWithOIDC, key: (typeof EXTRA_CLIENT_METADATA)[number]): unknown {
  return (ctx.oidc.client as unknown as Record<string, unknown> | undefined)?.[key];
}

/** The SMART user resource: a citizen's own Patient, or a Practitioner named by the staff user's id. */
export async function fhirUserOf(db: Database, user: User, fhirBase: string): Promise<string | undefined> {
  if (user.kind === 'citizen') {
    const own = (await citizenPatients(db, user, new Date().toISOString().slice(0, 10))).ownPatients[0];
    return own ? `${fhirBase}/Patient/${own}` : undefined;
  }
  return `${fhirBase}/Practitioner/${user.id}`;
}

/** Each authorisation confirms who is signed in (from OpenICS's own session, or the sign-in form): no silent reuse of an old provider session. */
function signInEachTime(): interactionPolicy.Check {
  return new interactionPolicy.Check('openics_sign_in', 'OpenICS confirms who is signed in for each authorisation', 'login_required', (ctx) =>
    ctx.oidc.result?.login ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT,
  );
}

/** Each authorisation passes the consent page, which binds the new grant to its launch context and role. */
function consentEachTime(): interactionPolicy.Check {
  return new interactionPolicy.Check('openics_consent', 'each authorisation is confirmed and bound to its launch context', 'consent_required', (ctx) =>
    ctx.oidc.result?.consent ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT,
  );
}

export function createProvider(options: ProviderOptions): Provider {
  const { db } = options;
  const fhirBase = fhirBaseOf(options.issuer);
  const policy = interactionPolicy.base();
  policy.get('login')?.checks.add(signInEachTime());
  policy.get('consent')?.checks.add(consentEachTime());

  const configuration: Configuration = {
    adapter: postgresAdapterFactory(db),
    clients: [],
    async findAccount(_ctx, sub) {
      const user = await findUser(db(), sub);
      if (!user || user.disabled) return undefined;
      return {
        accountId: user.id,
        async claims() {
          const fhirUser = await fhirUserOf(db(), user, fhirBase);
          return { sub: user.id, name: user.displayName, ...(fhirUser ? { fhirUser } : {}) };
        },
      };
    },
    claims: { openid: ['sub'], fhirUser: ['fhirUser'], profile: ['name'] },
    scopes: [...OIDC_SCOPES],
    extraClientMetadata: { properties: [...EXTRA_CLIENT_METADATA] },
    extraParams: {
      // SMART: the FHIR server the app means to call; it must be ours.
      aud(ctx, value) {
        if (value !== undefined && String(value).replace(/\/$/, '') !== fhirBase) {
          throw new errors.InvalidRequest(`aud must be this server's FHIR base URL, ${fhirBase}`);
        }
      },
      // SMART EHR launch: the id OpenICS gave the app when a user launched it from a patient.
      async launch(ctx, value) {
        const scopes = split(ctx.oidc.params?.scope);
        if (value === undefined) {
          if (scopes.includes('launch')) throw new errors.InvalidRequest('the launch scope needs the launch parameter OpenICS sent to the app');
          return;
        }
        const clientId = ctx.oidc.client?.clientId;
        if (typeof value !== 'string' || !clientId || !(await findLaunch(db(), value, clientId))) {
          throw new errors.InvalidRequest('launch is unknown, has expired, or was made for another app');
        }
      },
    },
    features: {
      devInteractions: { enabled: false },
      // Tokens are checked by their hash in the database; sender-constrained tokens are not supported.
      dPoP: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      userinfo: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // A client may introspect its own tokens only.
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => fhirBase,
        useGrantedResource: () => true,
        getResourceServerInfo(ctx, indicator) {
          if (indicator.replace(/\/$/, '') !== fhirBase) throw new errors.InvalidTarget(`OpenICS issues tokens for its FHIR API only: ${fhirBase}`);
          const registeredValue = metadata(ctx, 'openics_scope');
          const registered = typeof registeredValue === 'string' ? registeredValue : '';
          // The scopes in play: requested now, or carried by the code or refresh token being exchanged.
          const candidates = new Set([...split(ctx.oidc.params?.scope), ...split(ctx.oidc.entities.AuthorizationCode?.scope), ...split(ctx.oidc.entities.RefreshToken?.scope)]);
          const scope = [...candidates].filter((s) => !OIDC_SCOPES.includes(s) && isGrantableScope(s) && registrationAllows(registered, s)).join(' ');
          const backend = metadata(ctx, 'openics_kind') === 'backend_service';
          if (backend && scope === '') {
            throw new errors.InvalidScope('none of the requested scopes is registered for this client (a backend service has system/ scopes)', [...candidates].join(' '));
          }
          return { scope, audience: fhirBase, accessTokenFormat: 'opaque', accessTokenTTL: backend ? TTL.clientCredentials : TTL.accessToken };
        },
      },
    },
    async extraTokenClaims(ctx, token) {
      if (token.kind === 'ClientCredentials') {
        const organisation = metadata(ctx, 'openics_organisation');
        return typeof organisation === 'string' ? { openics_organisation: organisation } : undefined;
      }
      const grantId = (token as { grantId?: string }).grantId;
      const accountId = (token as { accountId?: string }).accountId;
      if (!grantId || !accountId) return undefined;
      const [context, user] = await Promise.all([findGrantContext(db(), grantId), findUser(db(), accountId)]);
      if (!context || !user) return undefined;
      const claims: Record<string, unknown> = {};
      if (context.patient) claims.patient = context.patient;
      if (context.encounter) claims.encounter = context.encounter;
      if (context.role) claims.openics_role = context.role;
      if (context.organisation) claims.openics_organisation = context.organisation;
      if (user.kind === 'citizen') {
        const patients = await citizenPatients(db(), user, new Date().toISOString().slice(0, 10));
        if (context.patient) claims.openics_relation = patients.ownPatients.includes(context.patient) ? 'own' : patients.proxyPatients.includes(context.patient) ? 'proxy' : 'none';
        if (patients.ownPatients[0]) claims.fhirUser = `${fhirBase}/Patient/${patients.ownPatients[0]}`;
      } else {
        claims.fhirUser = `${fhirBase}/Practitioner/${user.id}`;
      }
      return claims;
    },
    clientBasedCORS(_ctx, origin, client) {
      const origins = (client as unknown as { openics_origins?: unknown }).openics_origins;
      return Array.isArray(origins) && origins.includes(origin);
    },
    // SMART App Launch 2.0: PKCE with S256 for every authorisation code, whatever the client.
    pkce: { required: () => true },
    interactions: { policy, url: (_ctx, interaction) => `${OAUTH_PREFIX}/interaction/${interaction.uid}` },
    // A grant is only ever the one the consent page has just made: a new launch must never
    // inherit an earlier grant's patient.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId;
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    expiresWithSession: () => false,
    jwks: { keys: options.signingKeys },
    cookies: {
      keys: options.cookieKeys,
      names: { session: 'openics_oauth_session', interaction: 'openics_oauth_interaction', resume: 'openics_oauth_resume' },
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    clientDefaults: { grant_types: ['authorization_code'], id_token_signed_response_alg: 'RS256', response_types: ['code'], token_endpoint_auth_method: 'none' },
    clientAuthMethods: ['none', 'private_key_jwt'],
    enabledJWA: {
      clientAuthSigningAlgValues: [...CLIENT_ASSERTION_ALGS],
      idTokenSigningAlgValues: ['RS256'],
    },
    responseTypes: ['code'],
    routes: {
      authorization: '/authorize',
      token: '/token',
      introspection: '/introspect',
      revocation: '/revoke',
      jwks: '/jwks',
      pushed_authorization_request: '/par',
    },
    ttl: {
      AccessToken: TTL.accessToken,
      ClientCredentials: TTL.clientCredentials,
      AuthorizationCode: TTL.authorizationCode,
      IdToken: TTL.idToken,
      RefreshToken: TTL.refreshToken,
      Grant: TTL.grant,
      Interaction: TTL.interaction,
      Session: TTL.session,
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = oauthRenderer('oauth-error.njk', { title: 'The app could not be signed in', error: out.error, description: out.error_description });
    },
  };

  const provider = new Provider(options.issuer, configuration);
  provider.proxy = options.proxy ?? false;
  provider.use(offlineAccessMeansConsent);
  provider.use(smartTokenResponse);
  return provider;
}

/**
 * OpenID Connect grants offline_access only with prompt=consent; SMART apps do not send it. Every
 * authorisation passes OpenICS's consent page anyway, so it is made explicit for them.
 */
async function offlineAccessMeansConsent(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  if (ctx.method === 'GET' && ctx.path === '/authorize') {
    const params = new URLSearchParams(ctx.querystring);
    if (split(params.get('scope')).includes('offline_access') && !params.has('prompt')) {
      params.set('prompt', 'consent');
      ctx.querystring = params.toString();
      // oidc-provider finds its mount path by comparing the original URL with the current one.
      (ctx.req as { originalUrl?: string }).originalUrl = `${OAUTH_PREFIX}${ctx.url}`;
    }
  }
  await next();
}

/** SMART's additions to the token response: the launch context, the user, and every granted scope. */
async function smartTokenResponse(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  await next();
  if (ctx.oidc?.route !== 'token' || ctx.status !== 200) return;
  const body = ctx.body as Record<string, unknown> | undefined;
  if (!body || typeof body.access_token !== 'string') return;
  const token = ctx.oidc.entities.AccessToken;
  const extra = (token as { extra?: Record<string, unknown> } | undefined)?.extra;
  if (typeof extra?.patient === 'string') body.patient = extra.patient;
  if (typeof extra?.encounter === 'string') body.encounter = extra.encounter;
  const source = ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken;
  const grant = ctx.oidc.entities.Grant;
  if (source && grant) {
    const oidc = split(grant.getOIDCScopeFiltered(new Set(split(source.scope))));
    if (oidc.includes('fhirUser') && typeof extra?.fhirUser === 'string') body.fhirUser = extra.fhirUser;
    body.scope = [...new Set([...oidc, ...split(body.scope)])].join(' ');
  }
}
