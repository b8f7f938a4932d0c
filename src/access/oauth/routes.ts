/**
 * OpenICS's OAuth 2.0 / OpenID Connect / SMART routes:
 *
 *   /oauth/*                               oidc-provider itself (authorize, token, introspect, revoke, jwks, par),
 *                                          given the raw request: Fastify's body parsers are off there
 *   /.well-known/openid-configuration      OpenID Connect discovery (the issuer is OpenICS's origin)
 *   /.well-known/smart-configuration       SMART configuration, also at /fhir/.well-known/smart-configuration
 *   /oauth/interaction/:uid                sign-in and consent pages (NHS design system), with the patient picker
 *   /sign-in/external/:id                  sign-in through NHS CIS2 or NHS login (external.ts), when configured
 *   /record/patients/:id                   a patient's page with "Launch app" (ehr-launch.ts)
 *   /smart-demo/                           the demo SMART app (smart-demo.ts)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { AppContext } from '../../app.js';
import type { Database } from '../../core/db/database.js';
import { findMatching } from '../../fhir/search/execute.js';
import { HTML } from '../../web/page-errors.js';
import { formatDate } from '../../web/render.js';
import type { AccessContext, RoleAssignment } from '../context.js';
import { citizenPatients, NHS_NUMBER_SYSTEM } from '../identity/citizens.js';
import { purposeOf, sessionScopes } from '../identity/sessions.js';
import { fhirAccessFor } from '../policy/fhir-policy.js';
import { patientSummary, type PatientSummary } from './patients.js';
import { authenticatePassword, findUser, type User } from '../identity/users.js';
import { CLIENT_ASSERTION_ALGS, findClient, type OAuthClient } from './clients.js';
import { loadOAuthConfig, type OAuthConfig } from './config.js';
import { registerEhrLaunch } from './ehr-launch.js';
import { registerExternalSignIn } from './external.js';
import { registerSmartDemo } from './smart-demo.js';
import { findLaunch, type Launch, markLaunchUsed, saveGrantContext } from './launch.js';
import { OAUTH_PREFIX, oauthRenderer, TTL } from './provider.js';
import { ProviderRegistry } from './registry.js';
import { OIDC_SCOPES, registrationAllows } from './scopes.js';
import { scopeWords } from './words.js';

export interface OAuthOptions {
  /** Defaults to loadOAuthConfig(process.env). */
  config?: OAuthConfig;
}

type RawRequest = IncomingMessage & { originalUrl?: string };
type Form = Record<string, unknown>;
type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

const hidden = { schema: { hide: true } } as const;

/** "allied_health_professional" → "Allied health professional". */
export function roleName(role: string): string {
  const words = role.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function split(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter((s) => s !== '') : [];
}

function field(form: Form | undefined, name: string): string | undefined {
  const raw = form?.[name];
  const value = Array.isArray(raw) ? (raw[0] as unknown) : raw;
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The request's AccessContext, set by the identity plugin (A4) when it is registered. */
function accessOf(request: FastifyRequest): AccessContext | undefined {
  return (request as FastifyRequest & { access?: AccessContext }).access;
}

/** Hands a request to oidc-provider untouched, as if it were mounted at `mount`. */
async function passToProvider(provider: Provider, request: FastifyRequest, reply: FastifyReply, url: string, mount: string): Promise<void> {
  const raw = request.raw as RawRequest;
  raw.originalUrl = `${mount}${url}`;
  raw.url = url;
  const res: ServerResponse = reply.raw;
  reply.hijack();
  await new Promise<void>((resolve) => {
    res.once('finish', resolve);
    res.once('close', resolve);
    void provider.callback()(raw, res);
  });
}

interface ConsentState {
  user: User;
  client: OAuthClient;
  details: InteractionDetails;
  launch: Launch | undefined;
  /** The role and organisation already chosen (OpenICS session, or a user with one role). */
  acting: RoleAssignment | undefined;
  needsPatient: boolean;
  requested: string[];
  resourceScopes: Record<string, string[]>;
}

export async function registerOAuth(app: FastifyInstance, context: AppContext, options: OAuthOptions = {}): Promise<void> {
  const config = options.config ?? loadOAuthConfig();
  const registry = new ProviderRegistry(context, config, app.log);
  // Sign-in through NHS CIS2- and NHS login-shaped providers, when configured (after registerAccess, whose sign-in page lists them).
  await registerExternalSignIn(app, context, config, (request) => registry.issuerFor(request));
  // The EHR launch from a patient's page, and the demo SMART app OpenICS serves.
  await registerEhrLaunch(app, context, (request) => registry.issuerFor(request));
  await registerSmartDemo(app, (request) => registry.issuerFor(request));

  // oidc-provider reads its own request bodies: no Fastify body parsers in this scope.
  await app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', (_request, _payload, done) => done(null));
    const pass = (mount: string, url: (request: FastifyRequest) => string) => async (request: FastifyRequest, reply: FastifyReply) =>
      passToProvider(await registry.providerFor(request), request, reply, url(request), mount);
    const wildcard = pass(OAUTH_PREFIX, (request) => (request.raw.url ?? '').slice(OAUTH_PREFIX.length) || '/');
    raw.all(`${OAUTH_PREFIX}/*`, hidden, wildcard);
    // Discovery at the issuer (OpenICS's origin), answered by the provider mounted at /oauth.
    raw.get('/.well-known/openid-configuration', hidden, pass(OAUTH_PREFIX, () => '/.well-known/openid-configuration'));
  });

  const smartConfiguration = async (request: FastifyRequest): Promise<Record<string, unknown>> => {
    const issuer = registry.issuerFor(request);
    const oauth = `${issuer}${OAUTH_PREFIX}`;
    return {
      issuer,
      jwks_uri: `${oauth}/jwks`,
      authorization_endpoint: `${oauth}/authorize`,
      token_endpoint: `${oauth}/token`,
      introspection_endpoint: `${oauth}/introspect`,
      revocation_endpoint: `${oauth}/revoke`,
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
      token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
      scopes_supported: ['openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'offline_access', 'patient/*.rs', 'patient/*.cruds', 'user/*.rs', 'user/*.cruds', 'system/*.rs', 'system/*.cruds'],
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      capabilities: [
        'launch-ehr',
        'launch-standalone',
        'client-public',
        'client-confidential-asymmetric',
        'context-ehr-patient',
        'context-standalone-patient',
        'context-banner',
        'sso-openid-connect',
        'permission-offline',
        'permission-patient',
        'permission-user',
        'permission-v1',
        'permission-v2',
      ],
    };
  };
  app.get('/.well-known/smart-configuration', hidden, smartConfiguration);
  // SMART clients look the configuration up at the FHIR base.
  app.get('/fhir/.well-known/smart-configuration', hidden, smartConfiguration);

  const db = (): Database => context.db;
  const render = (reply: FastifyReply, status: number, template: string, values: Record<string, unknown>): FastifyReply =>
    reply.status(status).type(HTML).header('cache-control', 'no-store').send(oauthRenderer(template, values));

  const interaction = async (request: FastifyRequest, reply: FastifyReply): Promise<{ provider: Provider; details: InteractionDetails } | undefined> => {
    const provider = await registry.providerFor(request);
    try {
      return { provider, details: await provider.interactionDetails(request.raw, reply.raw) };
    } catch {
      render(reply, 400, 'oauth-error.njk', { title: 'This sign-in has expired', description: 'Go back to the app and start again.' });
      return undefined;
    }
  };

  const finish = async (request: FastifyRequest, reply: FastifyReply, provider: Provider, result: Record<string, unknown>, merge: boolean): Promise<FastifyReply> => {
    const returnTo = await provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: merge });
    return reply.header('cache-control', 'no-store').redirect(returnTo, 303);
  };

  /** Everything the consent page and its answer need. */
  const consentState = async (details: InteractionDetails): Promise<ConsentState | string> => {
    const accountId = details.session?.accountId;
    const user = accountId ? await findUser(db(), accountId) : undefined;
    if (!user || user.disabled) return 'You are not signed in. Go back to the app and start again.';
    const client = await findClient(db(), String(details.params.client_id));
    if (!client) return 'This app is no longer registered.';
    const launchId = typeof details.params.launch === 'string' ? details.params.launch : undefined;
    const launch = launchId ? await findLaunch(db(), launchId, client.clientId) : undefined;
    if (launchId && !launch) return 'This launch has expired. Launch the app again from the patient’s page.';
    if (launch && launch.userId !== user.id) return 'This app was launched by someone else. Launch it again from the patient’s page.';
    const signedIn = (details.lastSubmission as { openics?: RoleAssignment } | undefined)?.openics;
    const acting =
      signedIn && user.roles.some((r) => r.role === signedIn.role && r.organisation === signedIn.organisation)
        ? { role: signedIn.role, organisation: signedIn.organisation }
        : user.roles.length === 1
          ? user.roles[0]
          : undefined;
    const requested = split(details.params.scope);
    const missing = ((details.prompt.details as { missingResourceScopes?: Record<string, string[]> }).missingResourceScopes ?? {});
    // Citizens act only on records that are theirs (or that they are proxy for): never user/ scopes.
    const resourceScopes = Object.fromEntries(Object.entries(missing).map(([indicator, scopes]) => [indicator, scopes.filter((s) => !(user.kind === 'citizen' && s.startsWith('user/')))]));
    const needsPatient = requested.includes('launch/patient') || Object.values(resourceScopes).some((scopes) => scopes.some((s) => s.startsWith('patient/')));
    return { user, client, details, launch, acting, needsPatient, requested, resourceScopes };
  };

  /** The patients a user may pick: a citizen's own and proxied records; staff search by NHS number. */
  const pickable = async (state: ConsentState, nhsNumber: string | undefined, acting: RoleAssignment | undefined = state.acting): Promise<{ patients: PatientSummary[]; searched: boolean }> => {
    if (state.user.kind === 'citizen') {
      const mine = await citizenPatients(db(), state.user, new Date().toISOString().slice(0, 10));
      const ids = [...mine.ownPatients, ...mine.proxyPatients];
      return { patients: (await Promise.all(ids.map((id) => patientSummary(db(), id)))).filter((p): p is PatientSummary => p !== undefined), searched: false };
    }
    if (!nhsNumber) return { patients: [], searched: false };
    const digits = nhsNumber.replace(/\s+/g, '');
    if (!/^\d{10}$/.test(digits)) return { patients: [], searched: true };
    // Only patients the user may see in the role they act in (before they have chosen one, in any
    // of their roles; the choice is checked again when the form is sent): a picker must not be a
    // way to look up anyone's name and date of birth by NHS number.
    const roles = acting ? [acting] : state.user.roles.filter((r) => r.role !== 'citizen');
    const ids = new Set<string>();
    for (const role of roles) {
      const access: AccessContext = { kind: 'user', subject: state.user.id, display: state.user.displayName, role: role.role, organisation: role.organisation, scopes: sessionScopes(state.user), purpose: purposeOf(role.role) };
      const policy = fhirAccessFor(access, db());
      const found = await findMatching(db(), 'Patient', [['identifier', `${NHS_NUMBER_SYSTEM}|${digits}`]], { baseUrl: 'urn:openics:internal', limit: 10, rowFilter: policy.rowFilter });
      for (const f of found) ids.add(f.id);
    }
    return { patients: (await Promise.all([...ids].map((id) => patientSummary(db(), id)))).filter((p): p is PatientSummary => p !== undefined), searched: true };
  };

  const renderConsent = async (reply: FastifyReply, state: ConsentState, values: { nhsNumber?: string | undefined; errors?: { text: string; href: string }[]; status?: number }): Promise<FastifyReply> => {
    const launched = state.launch ? await patientSummary(db(), state.launch.patient) : undefined;
    const picker = state.needsPatient && !state.launch ? await pickable(state, values.nhsNumber) : undefined;
    const scopes = [...state.requested.filter((s) => OIDC_SCOPES.includes(s) && registrationAllows(state.client.scope, s)), ...Object.values(state.resourceScopes).flat()];
    return render(reply, values.status ?? 200, 'consent.njk', {
      title: `Allow ${state.client.name} to use OpenICS`,
      uid: state.details.uid,
      client: state.client,
      user: state.user,
      acting: state.acting,
      roles: state.user.roles,
      scopes: [...new Set(scopes)].map((s) => ({ scope: s, words: scopeWords(s) })),
      launched,
      needsPatient: state.needsPatient && !state.launch,
      citizen: state.user.kind === 'citizen',
      picker,
      roleItems: state.user.roles.map((r) => ({ value: `${r.role}@${r.organisation}`, text: `${roleName(r.role)} at ${r.organisation}` })),
      patientItems: (picker?.patients ?? []).map((p) => ({
        value: p.id,
        text: p.name,
        hint: { text: [p.birthDate ? `Born ${formatDate(p.birthDate)}` : 'Date of birth not recorded', p.nhsNumber ? `NHS number ${p.nhsNumber}` : undefined].filter(Boolean).join(', ') },
      })),
      nhsNumber: values.nhsNumber,
      errors: values.errors ?? [],
    });
  };

  app.get<{ Params: { uid: string }; Querystring: { nhsNumber?: string } }>(`${OAUTH_PREFIX}/interaction/:uid`, hidden, async (request, reply) => {
    const found = await interaction(request, reply);
    if (!found) return reply;
    const { provider, details } = found;
    if (details.prompt.name === 'login') {
      const access = accessOf(request);
      // Already signed in to OpenICS and acting in a role: that is who authorises the app.
      if (access?.kind === 'user' && access.role && access.organisation) {
        return finish(request, reply, provider, { login: { accountId: access.subject }, openics: { role: access.role, organisation: access.organisation } }, false);
      }
      const client = await findClient(db(), String(details.params.client_id));
      return render(reply, 200, 'sign-in.njk', { title: 'Sign in to OpenICS', uid: details.uid, client, errors: [] });
    }
    const state = await consentState(details);
    if (typeof state === 'string') return render(reply, 400, 'oauth-error.njk', { title: 'The app could not be signed in', description: state });
    return renderConsent(reply, state, { nhsNumber: request.query.nhsNumber });
  });

  app.post<{ Params: { uid: string }; Body: Form }>(`${OAUTH_PREFIX}/interaction/:uid/login`, hidden, async (request, reply) => {
    const found = await interaction(request, reply);
    if (!found) return reply;
    const { provider, details } = found;
    if (details.prompt.name !== 'login') return reply.redirect(`${OAUTH_PREFIX}/interaction/${details.uid}`, 303);
    const username = field(request.body, 'username');
    const password = typeof request.body?.password === 'string' ? request.body.password : '';
    const errors: { text: string; href: string }[] = [];
    if (!username) errors.push({ text: 'Enter your username', href: '#username' });
    if (!password) errors.push({ text: 'Enter your password', href: '#password' });
    const user = errors.length === 0 && username ? await authenticatePassword(db(), username, password) : undefined;
    if (errors.length === 0 && !user) errors.push({ text: 'The username or password is not right', href: '#username' });
    if (!user) {
      const client = await findClient(db(), String(details.params.client_id));
      return render(reply, 422, 'sign-in.njk', { title: 'Sign in to OpenICS', uid: details.uid, client, username, errors });
    }
    return finish(request, reply, provider, { login: { accountId: user.id } }, false);
  });

  app.post<{ Params: { uid: string }; Body: Form }>(`${OAUTH_PREFIX}/interaction/:uid/consent`, hidden, async (request, reply) => {
    const found = await interaction(request, reply);
    if (!found) return reply;
    const { provider, details } = found;
    if (details.prompt.name !== 'consent') return reply.redirect(`${OAUTH_PREFIX}/interaction/${details.uid}`, 303);
    if (field(request.body, 'decision') === 'deny') {
      return finish(request, reply, provider, { error: 'access_denied', error_description: 'The user did not allow the app' }, false);
    }
    const state = await consentState(details);
    if (typeof state === 'string') return render(reply, 400, 'oauth-error.njk', { title: 'The app could not be signed in', description: state });

    const errors: { text: string; href: string }[] = [];
    let acting = state.acting;
    if (!acting) {
      const chosen = field(request.body, 'role');
      acting = state.user.roles.find((r) => `${r.role}@${r.organisation}` === chosen);
      if (!acting) errors.push({ text: 'Choose the role you are acting in', href: '#role' });
    }
    let patient = state.launch?.patient;
    if (state.needsPatient && !patient) {
      const chosen = field(request.body, 'patient');
      const { patients } = await pickable(state, field(request.body, 'nhsNumber'), acting);
      if (chosen && patients.some((p) => p.id === chosen)) patient = chosen;
      else errors.push({ text: state.user.kind === 'citizen' ? 'Choose whose record the app may use' : 'Find the patient by NHS number and choose them', href: '#patient' });
    }
    if (errors.length > 0) return renderConsent(reply, state, { nhsNumber: field(request.body, 'nhsNumber'), errors, status: 422 });

    const grant = new provider.Grant({ accountId: state.user.id, clientId: state.client.clientId });
    const oidc = state.requested.filter((s) => OIDC_SCOPES.includes(s) && registrationAllows(state.client.scope, s));
    if (oidc.length > 0) grant.addOIDCScope(oidc.join(' '));
    const rejectedOidc = state.requested.filter((s) => OIDC_SCOPES.includes(s) && !oidc.includes(s));
    if (rejectedOidc.length > 0) grant.rejectOIDCScope(rejectedOidc.join(' '));
    const missing = ((details.prompt.details as { missingResourceScopes?: Record<string, string[]> }).missingResourceScopes ?? {});
    for (const [indicator, scopes] of Object.entries(missing)) {
      const allowed = state.resourceScopes[indicator] ?? [];
      if (allowed.length > 0) grant.addResourceScope(indicator, allowed.join(' '));
      const refused = scopes.filter((s) => !allowed.includes(s));
      if (refused.length > 0) grant.rejectResourceScope(indicator, refused.join(' '));
    }
    const grantId = await grant.save();
    await saveGrantContext(
      db(),
      { grantId, accountId: state.user.id, clientId: state.client.clientId, patient, encounter: state.launch?.encounter, role: acting?.role, organisation: acting?.organisation, launchId: state.launch?.id },
      TTL.grant,
    );
    if (state.launch) await markLaunchUsed(db(), state.launch.id);
    return finish(request, reply, provider, { consent: { grantId } }, true);
  });
}
