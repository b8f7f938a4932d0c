/**
 * Signing in to OpenICS through an external OpenID Connect provider, with openid-client (panva,
 * OpenID certified) as the relying party: authorisation code + PKCE + state + nonce.
 *
 *   staff     shaped like NHS Care Identity Service 2: the `nhsid_nrbac_roles` claim (scope
 *             nationalrbacaccess) lists national RBAC roles, each with `org_code` and `role_code`
 *             ("S8000:G8000:R8000"); each R code OpenICS knows becomes a role at that organisation
 *   citizen   shaped like NHS login: `nhs_number` and `identity_proofing_level`; P9 (verified)
 *             gets the citizen's own records, P5 only what needs no record
 *
 * Claims are read from the ID token and the userinfo endpoint (CIS2 and NHS login put most
 * there). The user is found by the provider's issuer and subject, or created; a staff user's
 * roles follow the provider's at every sign-in. The session is A4's (`signIn`), as for a password.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import type { AppContext } from '../../app.js';
import { UserError } from '../../core/errors.js';
import { HTML } from '../../web/page-errors.js';
import { listIcs } from '../../structure/repository.js';
import { ROLES, type RoleAssignment, type RoleCode } from '../context.js';
import { citizenPatients } from '../identity/citizens.js';
import { safeReturn, signIn } from '../identity/plugin.js';
import { createUser, findCitizenByNhsNumber, findUser, findUserByExternalSubject, grantRole, revokeRole, type User } from '../identity/users.js';
import { postgresAdapterFactory } from './adapter.js';
import type { ExternalProviderConfig, OAuthConfig } from './config.js';
import { oauthRenderer } from './provider.js';

/**
 * National RBAC job roles (R codes) OpenICS maps by default; a deployment adds or overrides
 * with OIDC_STAFF_ROLE_MAP. Roles without a national equivalent (social worker, care
 * coordinator, analyst, leader, board member) come only from that map.
 */
export const DEFAULT_ROLE_MAP: Readonly<Record<string, RoleCode>> = {
  R8000: 'doctor', // Clinical Practitioner Access Role
  R8001: 'nurse', // Nurse Access Role
  R8003: 'allied_health_professional', // Health Professional Access Role
  R8008: 'administrator', // Admin/Clinical Support Access Role
  R0001: 'privacy_officer', // Privacy Officer
  R5105: 'privacy_officer', // Caldicott Guardian
};

const PENDING_COOKIE = 'openics_external';
const PENDING_TTL_SECONDS = 10 * 60;
const ORGANISATION = /^[A-Z0-9-]{3,12}$/;

interface Pending {
  provider: string;
  nonce: string;
  verifier: string;
  returnTo: string;
}

/** One national RBAC role as CIS2 sends it. */
interface NrbacRole {
  org_code?: unknown;
  role_code?: unknown;
  role_name?: unknown;
  person_roleid?: unknown;
}

/** The OpenICS roles a CIS2-shaped roles claim gives, each at its organisation. */
export function rolesFromClaims(claim: unknown, roleMap: Readonly<Record<string, string>>): RoleAssignment[] {
  if (!Array.isArray(claim)) return [];
  const map: Record<string, string> = { ...DEFAULT_ROLE_MAP, ...roleMap };
  const found = new Map<string, RoleAssignment>();
  for (const entry of claim as NrbacRole[]) {
    if (!entry || typeof entry !== 'object') continue;
    const organisation = typeof entry.org_code === 'string' ? entry.org_code.toUpperCase() : '';
    if (!ORGANISATION.test(organisation)) continue;
    const codes = typeof entry.role_code === 'string' ? entry.role_code.split(':') : [];
    for (const code of codes) {
      const role = map[code];
      if (!role || !(ROLES as readonly string[]).includes(role) || role === 'citizen') continue;
      found.set(`${role}@${organisation}`, { role: role as RoleCode, organisation, nationalCode: code });
      break;
    }
  }
  return [...found.values()];
}

/** A stable OpenICS id for an external identity: `ext-` and 24 hex of SHA-256(issuer, subject). */
export function externalUserId(issuer: string, subject: string): string {
  return `ext-${createHash('sha256').update(`${issuer}\u0000${subject}`).digest('hex').slice(0, 24)}`;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/** Only https issuers, except on the loopback interface (development and tests). */
function allowsHttp(issuer: string): boolean {
  const { protocol, hostname } = new URL(issuer);
  return protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(hostname);
}

class SignInRefused extends UserError {
  constructor(message: string) {
    super(403, message);
  }
}

/** Adds the external sign-in routes, and their buttons to A4's sign-in page. */
export async function registerExternalSignIn(app: FastifyInstance, context: AppContext, config: OAuthConfig, issuerFor: (request: FastifyRequest) => string): Promise<void> {
  if (config.external.length === 0) return;
  const providers = new Map(config.external.map((p) => [p.id, p]));
  const discovered = new Map<string, Promise<client.Configuration>>();
  const pending = postgresAdapterFactory(() => context.db)('ExternalSignIn');

  const configuration = (provider: ExternalProviderConfig): Promise<client.Configuration> => {
    let found = discovered.get(provider.id);
    if (!found) {
      found = client.discovery(new URL(provider.issuer), provider.clientId, provider.clientSecret, undefined, allowsHttp(provider.issuer) ? { execute: [client.allowInsecureRequests] } : undefined);
      // A provider that is down now may be up at the next attempt.
      found.catch(() => discovered.delete(provider.id));
      discovered.set(provider.id, found);
    }
    return found;
  };

  const buttons = (app as FastifyInstance & { accessExternalSignIn?: { label: string; href: string }[] }).accessExternalSignIn;
  for (const provider of config.external) buttons?.push({ label: provider.label, href: `/sign-in/external/${provider.id}` });

  const page = (reply: FastifyReply, status: number, title: string, description: string): FastifyReply =>
    reply.status(status).type(HTML).header('cache-control', 'no-store').send(oauthRenderer('oauth-error.njk', { title, description }));
  const callbackUrl = (request: FastifyRequest, provider: ExternalProviderConfig): string => `${issuerFor(request)}/sign-in/external/${provider.id}/callback`;
  const secure = (request: FastifyRequest): boolean => request.protocol === 'https';

  app.get<{ Params: { id: string }; Querystring: { return?: string } }>('/sign-in/external/:id', { schema: { hide: true } }, async (request, reply) => {
    const provider = providers.get(request.params.id);
    if (!provider) return page(reply, 404, 'Page not found', 'There is no such way to sign in.');
    let server: client.Configuration;
    try {
      server = await configuration(provider);
    } catch (error) {
      request.log.warn({ provider: provider.id, err: error }, 'external identity provider unreachable');
      return page(reply, 503, `${provider.label} is not available`, 'OpenICS could not reach the sign-in service. Try again in a few minutes, or sign in with your OpenICS username and password.');
    }
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const entry: Pending = { provider: provider.id, nonce, verifier, returnTo: safeReturn(request.query.return) };
    await pending.upsert(state, { ...entry }, PENDING_TTL_SECONDS);
    const url = client.buildAuthorizationUrl(server, {
      redirect_uri: callbackUrl(request, provider),
      scope: provider.scope,
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return reply
      .header('set-cookie', `${PENDING_COOKIE}=${state}; Path=/sign-in/external; HttpOnly; SameSite=Lax; Max-Age=${PENDING_TTL_SECONDS}${secure(request) ? '; Secure' : ''}`)
      .header('cache-control', 'no-store')
      .redirect(url.href, 303);
  });

  app.get<{ Params: { id: string } }>('/sign-in/external/:id/callback', { schema: { hide: true } }, async (request, reply) => {
    const provider = providers.get(request.params.id);
    if (!provider) return page(reply, 404, 'Page not found', 'There is no such way to sign in.');
    void reply.header('set-cookie', `${PENDING_COOKIE}=; Path=/sign-in/external; HttpOnly; SameSite=Lax; Max-Age=0${secure(request) ? '; Secure' : ''}`);
    const state = readCookie(request, PENDING_COOKIE);
    const stored = state ? ((await pending.find(state)) as unknown as Pending | undefined) : undefined;
    if (state) await pending.destroy(state);
    if (!state || !stored || stored.provider !== provider.id) return page(reply, 400, 'This sign-in has expired', 'Start again from the sign-in page.');
    const query = new URL(request.url, 'http://x').searchParams;
    if (query.has('error')) return page(reply, 403, 'You were not signed in', `${provider.label} said: ${query.get('error_description') ?? query.get('error') ?? 'no reason given'}.`);

    let claims: Record<string, unknown>;
    try {
      const server = await configuration(provider);
      const current = new URL(`${callbackUrl(request, provider)}?${query.toString()}`);
      const tokens = await client.authorizationCodeGrant(server, current, { pkceCodeVerifier: stored.verifier, expectedState: state, expectedNonce: stored.nonce, idTokenExpected: true });
      const idClaims = tokens.claims();
      if (!idClaims) throw new Error('no ID token');
      claims = { ...idClaims };
      if (server.serverMetadata().userinfo_endpoint) Object.assign(claims, await client.fetchUserInfo(server, tokens.access_token, idClaims.sub));
    } catch (error) {
      request.log.warn({ provider: provider.id, err: error instanceof Error ? error.message : String(error) }, 'external sign-in failed');
      return page(reply, 403, 'You were not signed in', `OpenICS could not confirm who you are with ${provider.label}. Start again from the sign-in page.`);
    }

    try {
      const { user, patients } = provider.audience === 'staff' ? await staffUser(context, provider, claims) : await citizenUser(context, provider, claims);
      const next = await signIn(context, request, reply, user, stored.returnTo, patients ? { patients } : {});
      return reply.header('cache-control', 'no-store').redirect(next, 303);
    } catch (error) {
      if (error instanceof SignInRefused) return page(reply, 403, 'You cannot sign in to OpenICS', error.message);
      throw error;
    }
  });
}

async function staffUser(context: AppContext, provider: ExternalProviderConfig, claims: Record<string, unknown>): Promise<{ user: User; patients?: undefined }> {
  const subject = text(claims.sub) ?? '';
  const roles = rolesFromClaims(claims[provider.claims.roles], provider.roleMap);
  if (roles.length === 0) throw new SignInRefused(`None of your roles in ${provider.label} is one OpenICS recognises. Ask your Registration Authority, or your OpenICS administrator, to check your roles.`);
  const db = context.db;
  const existing = await findUserByExternalSubject(db, provider.issuer, subject);
  if (!existing) {
    const id = externalUserId(provider.issuer, subject);
    const user = await createUser(db, { id, username: id, displayName: text(claims[provider.claims.name]) ?? 'NHS staff user', kind: 'staff', roles, external: { issuer: provider.issuer, subject } });
    return { user };
  }
  if (existing.disabled) throw new SignInRefused('Your OpenICS account is disabled. Ask your OpenICS administrator.');
  // The provider is the source of truth for an external user's roles: follow it at each sign-in.
  const key = (r: RoleAssignment): string => `${r.role}@${r.organisation}`;
  const wanted = new Set(roles.map(key));
  for (const r of existing.roles) if (!wanted.has(key(r))) await revokeRole(db, existing.id, r.role, r.organisation);
  for (const r of roles) await grantRole(db, existing.id, r);
  const user = await findUser(db, existing.id);
  if (!user) throw new Error('the user just updated was not found');
  return { user };
}

async function citizenUser(context: AppContext, provider: ExternalProviderConfig, claims: Record<string, unknown>): Promise<{ user: User; patients: { ownPatients: string[]; proxyPatients: string[] } }> {
  const db = context.db;
  const subject = text(claims.sub) ?? '';
  const nhsNumber = text(claims[provider.claims.nhsNumber])?.replace(/\s+/g, '');
  const level = text(claims[provider.claims.proofingLevel]);
  if (!nhsNumber) throw new SignInRefused(`${provider.label} did not confirm your NHS number, which OpenICS needs to know which records are yours.`);
  let user = (await findUserByExternalSubject(db, provider.issuer, subject)) ?? (await findCitizenByNhsNumber(db, nhsNumber));
  if (!user) {
    const ics = (await listIcs(db))[0];
    if (!ics) throw new SignInRefused('OpenICS holds no integrated care system yet.');
    const id = externalUserId(provider.issuer, subject);
    const name = text(claims[provider.claims.name]) ?? ([text(claims.given_name), text(claims.family_name)].filter(Boolean).join(' ') || 'NHS login user');
    user = await createUser(db, { id, username: id, displayName: name, kind: 'citizen', roles: [{ role: 'citizen', organisation: ics.code }], nhsNumber, external: { issuer: provider.issuer, subject } });
  }
  if (user.disabled) throw new SignInRefused('Your OpenICS account is disabled.');
  if (user.kind !== 'citizen' || user.nhsNumber !== nhsNumber) throw new SignInRefused(`Your ${provider.label} account does not match your OpenICS account. Contact the service desk.`);
  // Only a verified identity (P9) opens records; P5 signs in for what needs none.
  const patients = level === 'P9' ? await citizenPatients(db, user, new Date().toISOString().slice(0, 10)) : { ownPatients: [], proxyPatients: [] };
  return { user, patients };
}
