/**
 * The access plugin: gives every request its `request.access` (an AccessContext), guards every
 * route by the rules in rules.ts, and adds what a service with sign-in needs: the sign-in and
 * sign-out pages, session cookies, CSRF protection, security headers (helmet, with a Content
 * Security Policy the pages pass), CORS for registered apps only, and rate limits on sign-in.
 *
 * Order in app.ts: after the shared plugins (formbody, static), before every module's routes.
 *
 *   onRequest   page locals (CSP nonce) → helmet headers → CORS → who is asking
 *               (bearer token, else session cookie, else anonymous) → the route's rule:
 *               401 / sign-in redirect, "choose a role", 403, or on
 *   preHandler  CSRF check for unsafe requests authenticated by the session cookie
 *               (after the body is parsed, multipart forms included)
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../app.js';
import { UserError } from '../../core/errors.js';
import { organisationNames } from '../../structure/repository.js';
import { tasksForRole } from '../../web/navigation.js';
import { type PageRequestLocals, runWithPageLocals } from '../../web/request-locals.js';
import { HTML, pageErrorHandler } from '../../web/page-errors.js';
import { createRenderer } from '../../web/render.js';
import { ANONYMOUS, type AccessContext, type RoleCode } from '../context.js';
import { registeredOrigins } from '../oauth/clients.js';
import { accessFromBearerToken } from '../oauth/tokens.js';
import { citizenPatients } from './citizens.js';
import { type AccessConfig, loadAccessConfig } from './config.js';
import { CSRF_FIELD, csrfToken, csrfTokenMatches, presentedCsrfToken } from './csrf.js';
import { type AccessRule, type Decision, RULES, ROLE_NAMES, decide, endpointKind, isSafeMethod } from './rules.js';
import { type Session, accessFromSession, chooseRole, createSession, endSession, findSession } from './sessions.js';
import { type User, authenticatePassword, normaliseUsername } from './users.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking: set for every request by registerAccess (ANONYMOUS when nobody is signed in). */
    access: AccessContext;
    /** The session cookie's session, when the request came with one that is live. */
    accessSession: Session | undefined;
  }
  interface FastifyContextConfig {
    /** This route's own access rule, instead of the rule for its kind of endpoint (rules.ts). */
    access?: AccessRule;
  }
}

/** An external sign-in a colleague's plugin offers on the sign-in page (NHS CIS2, NHS login). */
export interface ExternalSignIn {
  label: string;
  href: string;
}

const VIEWS = fileURLToPath(new URL('./views', import.meta.url));
const PRESESSION_COOKIE = 'openics_presession';
/** Paths of the OAuth token endpoint, rate limited per IP address like sign-in. */
const TOKEN_PATHS = new Set(['/oauth/token', '/token']);
const SIGN_IN_PATHS = ['/sign-in', '/sign-out'];

interface PerRequest {
  locals: PageRequestLocals;
  /** How the caller was identified. */
  via: 'bearer' | 'cookie' | 'none';
  secure: boolean;
}
const perRequest = new WeakMap<FastifyRequest, PerRequest>();

/** The HTTP error a refusal becomes; thrown from requireAccess. */
export class AccessDeniedError extends UserError {
  constructor(
    status: 401 | 403,
    message: string,
    readonly decision: Decision['outcome'],
  ) {
    super(status, message);
  }
}

/**
 * Refuses the request unless its caller meets the rule (401 when nobody is signed in, 403
 * otherwise). For checks inside a handler that the route-level rule cannot express.
 */
export function requireAccess(request: FastifyRequest, rule: AccessRule, ics?: string): void {
  const decision = decide(request.access, rule, ics ?? icsOf(request));
  if (decision.outcome === 'allow') return;
  throw new AccessDeniedError(decision.outcome === 'sign-in' ? 401 : 403, decision.message, decision.outcome);
}

/** The ICS a request is about: the `:ics` route parameter, or the ICS a POST /api/ics creates. */
function icsOf(request: FastifyRequest): string | undefined {
  const params = request.params as Record<string, unknown> | undefined;
  if (typeof params?.ics === 'string') return params.ics.toUpperCase();
  const body = request.body as Record<string, unknown> | undefined;
  if (request.routeOptions.url === '/api/ics' && typeof body?.code === 'string') return body.code.toUpperCase();
  return undefined;
}

/** A return address that stays on this site: a path, not `//host` or `/\host`. */
export function safeReturn(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\') || value.length > 2000) return fallback;
  if (SIGN_IN_PATHS.some((p) => value === p || value.startsWith(`${p}/`) || value.startsWith(`${p}?`))) return fallback;
  return value;
}

function isPageRoute(route: string): boolean {
  return ['/', '/ics', '/access', '/my'].includes(route) || ['/ics/', '/access/', '/my/', '/record/', '/sign-in', '/public'].some((prefix) => route.startsWith(prefix));
}

export async function registerAccess(app: FastifyInstance, context: AppContext): Promise<void> {
  const config = loadAccessConfig();
  if (config.demoSecret) app.log.warn('OPENICS_SESSION_SECRET is not set: using the published demo secret (development and demo only; refused in production)');
  const external: ExternalSignIn[] = [];
  app.decorate('accessExternalSignIn', external);

  await app.register(fastifyCookie);
  app.decorateRequest('access', null as unknown as AccessContext);
  app.decorateRequest('accessSession', undefined);

  const secureFor = (request: FastifyRequest): boolean => config.secureCookies === 'always' || request.protocol === 'https';
  // __Host-: the browser refuses it unless Secure, from this host only, for the whole site.
  const sessionCookie = (secure: boolean): string => (secure ? '__Host-openics_session' : 'openics_session');

  // ---- page locals: the CSP nonce, and (filled below) who is signed in and the CSRF token ----
  app.addHook('onRequest', (request, reply, done) => {
    const path = request.url;
    const locals: PageRequestLocals = { signIn: !path.startsWith('/sign-in'), cspNonce: randomBytes(16).toString('base64'), ...(request.method === 'GET' && !path.startsWith('/sign-in') ? { path } : {}) };
    perRequest.set(request, { locals, via: 'none', secure: secureFor(request) });
    (reply.raw as unknown as { openicsCspNonce: string }).openicsCspNonce = locals.cspNonce ?? '';
    runWithPageLocals(locals, done);
  });
  // Body parsing runs on the socket's events, outside the request's async context: enter it again.
  const reenter = (request: FastifyRequest, _reply: FastifyReply, done: () => void): void => {
    const state = perRequest.get(request);
    if (state) runWithPageLocals(state.locals, done);
    else done();
  };
  app.addHook('preValidation', reenter);
  app.addHook('preHandler', reenter);

  // ---- security headers ----
  const nonceOf = (_req: unknown, res: unknown): string => `'nonce-${(res as { openicsCspNonce?: string }).openicsCspNonce ?? ''}'`;
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        scriptSrc: ["'self'", nonceOf],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        // The NHS design system's fonts (Frutiger) come from the NHS's own asset server.
        fontSrc: ["'self'", 'https://assets.nhs.uk'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'self'"],
        // Sign-in may continue to a registered app's redirect URI on another site (OAuth), and
        // browsers apply form-action to the redirects after a form is sent.
        formAction: ["'self'", (req: unknown) => (isSignInFlow((req as { url?: string }).url ?? '') ? 'https: http:' : "'self'")],
      },
    },
    // Same-origin pages; SMART apps on other origins read the API through CORS, which CORP does not affect.
    crossOriginResourcePolicy: { policy: 'same-site' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: config.production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });

  // ---- CORS: registered apps' origins only ----
  let origins: { at: number; set: Set<string> } | undefined;
  const allowedOrigins = async (): Promise<Set<string>> => {
    if (origins && Date.now() - origins.at < 10_000) return origins.set;
    const set = new Set(config.corsOrigins);
    for (const origin of await registeredClientOrigins(context)) set.add(origin);
    origins = { at: Date.now(), set };
    return set;
  };
  await app.register(fastifyCors, {
    origin: (origin, callback) => {
      if (origin === undefined) return callback(null, false);
      allowedOrigins().then(
        (set) => callback(null, set.has(origin)),
        () => callback(null, false),
      );
    },
    credentials: false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'accept', 'prefer', 'if-match', 'if-none-match', 'if-modified-since', 'x-csrf-token'],
    exposedHeaders: ['location', 'content-location', 'etag', 'last-modified', 'x-progress', 'retry-after', 'www-authenticate'],
    maxAge: 600,
  });

  // ---- rate limits ----
  // Sign-in counts failed attempts only (per username and per address), so a busy shared
  // network is not locked out by its colleagues' successful sign-ins; the token endpoint counts
  // every request per address.
  await app.register(fastifyRateLimit, { global: false });
  const window = config.signInWindowMs;
  const signInLimits: SignInLimits = {
    perIp: app.createRateLimit({ max: config.signInLimitPerIp, timeWindow: window, keyGenerator: (request) => `sign-in-ip:${request.ip}` }),
    perUsername: app.createRateLimit({
      max: config.signInLimitPerUsername,
      timeWindow: window,
      keyGenerator: (request) => {
        const username = (request.body as Record<string, unknown> | undefined)?.username;
        return `sign-in-user:${normaliseUsername(typeof username === 'string' ? username : '')}`;
      },
    }),
  };
  const tokenPerIp = app.createRateLimit({ max: config.tokenLimitPerIp, timeWindow: window, keyGenerator: (request) => `token-ip:${request.ip}` });
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST' || !TOKEN_PATHS.has(request.url.split('?')[0] ?? '')) return;
    const limit = await tokenPerIp(request);
    if (limit.isAllowed || !limit.isExceeded) return;
    return reply
      .status(429)
      .header('retry-after', String(limit.ttlInSeconds))
      .send({ error: 'too_many_requests', error_description: `Too many token requests from this address. Wait ${waitWords(limit.ttlInSeconds)}, then try again.` });
  });

  // ---- who is asking, and may they ----
  const names = new Map<string, { name: string; at: number }>();
  const organisationName = async (code: string): Promise<string> => {
    const cached = names.get(code);
    if (cached && Date.now() - cached.at < 300_000) return cached.name;
    const found = (await organisationNames(context.db, [code])).get(code) ?? code;
    names.set(code, { name: found, at: Date.now() });
    return found;
  };

  app.addHook('onRequest', async (request, reply) => {
    const state = perRequest.get(request);
    if (!state) return;
    request.access = ANONYMOUS;
    request.accessSession = undefined;
    const path = request.url.split('?')[0] ?? '';
    if (path.startsWith('/nhsuk/') || path.startsWith('/static/') || path === '/healthz') return;

    const authorization = request.headers.authorization;
    if (typeof authorization === 'string' && /^bearer\s/i.test(authorization)) {
      state.via = 'bearer';
      const token = authorization.replace(/^bearer\s+/i, '').trim();
      const fromToken = context.ready ? await accessFromBearer(context, token) : undefined;
      if (fromToken) request.access = { ...fromToken, requestId: request.id };
      else reply.header('www-authenticate', 'Bearer realm="OpenICS", error="invalid_token"');
    } else {
      const token = request.cookies[sessionCookie(state.secure)];
      if (token && context.ready) {
        const session = await findSession(context.db, token);
        if (session) {
          state.via = 'cookie';
          request.accessSession = session;
          request.access = accessFromSession(session, request.id);
          const acting = session.acting ? `${ROLE_NAMES[session.acting.role]}, ${await organisationName(session.acting.organisation)}` : undefined;
          state.locals.account = {
            name: session.user.displayName,
            ...(acting ? { acting } : {}),
            ...(session.user.roles.length > 1 ? { changeRoleHref: '/sign-in/role' } : {}),
            tasks: tasksForRole(session.acting?.role).map(({ href, text, description }) => ({ href, text, description })),
          };
          state.locals.csrfToken = csrfToken(config.sessionSecret, session.tokenHash);
        } else {
          void reply.clearCookie(sessionCookie(state.secure), { path: '/' });
        }
      }
    }

    const route = request.routeOptions.url ?? path;
    const rule = request.routeOptions.config.access ?? RULES[endpointKind(request.method, route)];
    // The ICS may be named only in the body (POST /api/ics), which is not parsed yet: check the
    // role now and where it is held once the body is there (preHandler below).
    const ics = icsOf(request);
    const decision = decide(request.access, rule.at === 'ics' && ics === undefined ? withoutPlace(rule) : rule, ics);
    if (decision.outcome === 'allow') return;
    if (isPageRoute(route)) {
      const back = request.method === 'GET' ? `?return=${encodeURIComponent(request.url)}` : '';
      if (decision.outcome === 'sign-in') return reply.redirect(`/sign-in${back}${back ? '&' : '?'}expired=1`, 303);
      if (decision.outcome === 'choose-role') return reply.redirect(`/sign-in/role${back}`, 303);
    }
    if (decision.outcome === 'sign-in' && state.via !== 'bearer') reply.header('www-authenticate', 'Bearer realm="OpenICS"');
    throw new AccessDeniedError(decision.outcome === 'sign-in' ? 401 : 403, decision.message, decision.outcome);
  });

  app.addHook('preHandler', async (request) => {
    const state = perRequest.get(request);
    if (!state) return;
    const rule = request.routeOptions.config.access ?? RULES[endpointKind(request.method, request.routeOptions.url ?? '')];
    if (rule.at === 'ics') requireAccess(request, rule);
    if (state.via !== 'cookie' || isSafeMethod(request.method) || !request.accessSession) return;
    // The sign-in routes check their own tokens; public endpoints (OAuth) authenticate by their own means.
    const route = request.routeOptions.url ?? '';
    if (SIGN_IN_PATHS.some((p) => route === p || route.startsWith(`${p}/`))) return;
    if (rule.who === 'anyone') return;
    if (!csrfTokenMatches(config.sessionSecret, request.accessSession.tokenHash, presentedCsrfToken(request.body, request.headers))) {
      throw new UserError(403, 'This form has expired or did not come from OpenICS. Go back, reload the page and try again.', [
        { field: CSRF_FIELD, message: 'is missing or does not match this session' },
      ]);
    }
  });

  await registerSignInPages(app, context, config, { limits: signInLimits, sessionCookie, secureFor, external });
}

/** The rule without where the role must be held. */
function withoutPlace(rule: AccessRule): AccessRule {
  const copy = { ...rule };
  delete copy.at;
  return copy;
}

/** Whether a URL is part of signing in (whose forms may end at a registered app on another site). */
function isSignInFlow(url: string): boolean {
  return url.startsWith('/sign-in') || url.startsWith('/oauth/');
}

/** The AccessContext of a bearer token issued by OpenICS's authorisation server (oauth/tokens.ts). */
async function accessFromBearer(context: AppContext, token: string): Promise<AccessContext | undefined> {
  return accessFromBearerToken(context.db, token);
}

/** The browser origins of registered OAuth clients: CORS is open to them only. */
async function registeredClientOrigins(context: AppContext): Promise<string[]> {
  return [...(await registeredOrigins(context.db))];
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;
interface SignInLimits {
  perIp: Limiter;
  perUsername: Limiter;
}

/** "14 minutes", "1 minute", "30 seconds". */
function waitWords(seconds: number): string {
  if (seconds >= 90) return `${Math.ceil(seconds / 60)} minutes`;
  if (seconds >= 60) return '1 minute';
  return `${Math.max(1, seconds)} seconds`;
}

interface SignInDeps {
  limits: SignInLimits;
  sessionCookie: (secure: boolean) => string;
  secureFor: (request: FastifyRequest) => boolean;
  external: ExternalSignIn[];
}

/**
 * Starts a session for a user who has just proved who they are (password here; an external
 * provider in A1's code), sets the cookie, and says where to go next: the role choice when the
 * user holds several roles, else `returnTo`. Ends any session the browser had before.
 */
export async function signIn(context: AppContext, request: FastifyRequest, reply: FastifyReply, user: User, returnTo: string, options: { patients?: { ownPatients: string[]; proxyPatients: string[] } } = {}): Promise<string> {
  const secure = request.protocol === 'https' || loadAccessConfig().secureCookies === 'always';
  const name = secure ? '__Host-openics_session' : 'openics_session';
  if (request.accessSession) await endSession(context.db, request.accessSession.tokenHash);
  const patients = options.patients ?? (await citizenPatients(context.db, user, new Date().toISOString().slice(0, 10)));
  const { token, session } = await createSession(context.db, user, { patients });
  void reply.setCookie(name, token, { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: Math.floor((session.expiresAt.getTime() - Date.now()) / 1000) });
  return session.acting ? returnTo : `/sign-in/role?return=${encodeURIComponent(returnTo)}`;
}

async function registerSignInPages(app: FastifyInstance, context: AppContext, config: AccessConfig, deps: SignInDeps): Promise<void> {
  const render = createRenderer([VIEWS]);
  const page = (reply: FastifyReply, template: string, values: Record<string, unknown>, status = 200): FastifyReply => reply.status(status).type(HTML).header('cache-control', 'no-store').send(render(template, values));

  await app.register(async (scope) => {
    /** The pre-session binding of the sign-in form's CSRF token (a cookie on /sign-in only). */
    const presession = (request: FastifyRequest, reply: FastifyReply): string => {
      const existing = request.cookies[PRESESSION_COOKIE];
      if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
      const value = randomBytes(32).toString('base64url');
      void reply.setCookie(PRESESSION_COOKIE, value, { path: '/sign-in', httpOnly: true, sameSite: 'lax', secure: deps.secureFor(request) });
      return value;
    };

    const signInPage = (request: FastifyRequest, reply: FastifyReply, values: { username?: string; returnTo: string }, fieldErrors: Record<string, string> = {}, status = 200): FastifyReply => {
      const query = request.query as Record<string, unknown>;
      const errorList = Object.entries(fieldErrors).map(([field, text]) => ({ text, href: `#${field}` }));
      return page(
        reply,
        'sign-in.njk',
        {
          title: 'Sign in',
          csrf: csrfToken(config.sessionSecret, presession(request, reply)),
          returnTo: values.returnTo,
          values: { username: values.username ?? '' },
          fieldErrors,
          errors: errorList,
          signedOut: query['signed-out'] === '1',
          expired: query.expired === '1',
          external: deps.external,
          demo: !config.production,
        },
        status,
      );
    };

    scope.setErrorHandler(pageErrorHandler(render, { notFound: 'not-found.njk', error: 'error.njk' }));

    scope.get('/sign-in', { schema: { hide: true } }, async (request, reply) => {
      const returnTo = safeReturn((request.query as Record<string, unknown>).return);
      if (request.accessSession?.acting) return reply.redirect(returnTo, 303);
      return signInPage(request, reply, { returnTo });
    });

    /** Refuses (429) when this username or address has had too many failed sign-ins lately. */
    const throttled = async (request: FastifyRequest, increment: boolean): Promise<string | undefined> => {
      for (const [limiter, what] of [
        [deps.limits.perUsername, 'for this username'],
        [deps.limits.perIp, 'from your network'],
      ] as const) {
        const limit = await limiter(request, { increment });
        if (!limit.isAllowed && limit.remaining === 0 && (!increment || limit.isExceeded)) {
          return `Too many failed sign-in attempts ${what}. Wait ${waitWords(limit.ttlInSeconds)}, then try again.`;
        }
      }
      return undefined;
    };

    scope.post<{ Body: Record<string, unknown> }>('/sign-in', { schema: { hide: true } }, async (request, reply) => {
      const body = request.body ?? {};
      const username = typeof body.username === 'string' ? body.username.trim() : '';
      const password = typeof body.password === 'string' ? body.password : '';
      const returnTo = safeReturn(body.return);
      const binding = request.cookies[PRESESSION_COOKIE];
      if (!binding || !csrfTokenMatches(config.sessionSecret, binding, body[CSRF_FIELD])) {
        return signInPage(request, reply, { username, returnTo }, { username: 'The sign-in page had expired. Enter your username and password again.' }, 403);
      }
      const problems: Record<string, string> = {};
      if (username === '') problems.username = 'Enter your username';
      if (password === '') problems.password = 'Enter your password';
      if (Object.keys(problems).length > 0) return signInPage(request, reply, { username, returnTo }, problems, 422);
      const refused = await throttled(request, false);
      if (refused) return signInPage(request, reply, { username, returnTo }, { username: refused }, 429);
      const user = await authenticatePassword(context.db, username, password);
      if (!user) {
        await throttled(request, true);
        return signInPage(request, reply, { username, returnTo }, { username: 'The username or password is not right. Check them and try again.' }, 401);
      }
      const next = await signIn(context, request, reply, user, returnTo);
      void reply.clearCookie(PRESESSION_COOKIE, { path: '/sign-in' });
      return reply.redirect(next, 303);
    });

    const roleItems = async (session: Session, chosen?: string): Promise<{ value: string; text: string; checked: boolean }[]> => {
      const names = await organisationNames(
        context.db,
        session.user.roles.map((r) => r.organisation),
      );
      return session.user.roles.map((r) => {
        const value = `${r.role}|${r.organisation}`;
        const current = chosen ?? (session.acting ? `${session.acting.role}|${session.acting.organisation}` : undefined);
        return { value, text: `${ROLE_NAMES[r.role]} at ${names.get(r.organisation) ?? r.organisation} (${r.organisation})`, checked: value === current };
      });
    };

    scope.get('/sign-in/role', { schema: { hide: true } }, async (request, reply) => {
      const session = request.accessSession;
      const returnTo = safeReturn((request.query as Record<string, unknown>).return);
      if (!session) return reply.redirect(`/sign-in?return=${encodeURIComponent(`/sign-in/role`)}`, 303);
      return page(reply, 'choose-role.njk', { title: 'Choose the role you are acting in', roleItems: await roleItems(session), returnTo, fieldErrors: {}, errors: [] });
    });

    scope.post<{ Body: Record<string, unknown> }>('/sign-in/role', { schema: { hide: true } }, async (request, reply) => {
      const session = request.accessSession;
      if (!session) return reply.redirect('/sign-in?expired=1', 303);
      const body = request.body ?? {};
      if (!csrfTokenMatches(config.sessionSecret, session.tokenHash, body[CSRF_FIELD])) throw new UserError(403, 'This form has expired or did not come from OpenICS. Go back, reload the page and try again.');
      const returnTo = safeReturn(body.return);
      const [role, organisation] = typeof body.role === 'string' ? body.role.split('|') : [];
      const holds = session.user.roles.some((r) => r.role === role && r.organisation === organisation);
      if (!holds || role === undefined || organisation === undefined) {
        const message = 'Choose the role you are acting in';
        return page(reply, 'choose-role.njk', { title: 'Choose the role you are acting in', roleItems: await roleItems(session), returnTo, fieldErrors: { role: message }, errors: [{ text: message, href: '#role' }] }, 422);
      }
      await chooseRole(context.db, session, { role: role as RoleCode, organisation });
      return reply.redirect(returnTo, 303);
    });

    scope.post<{ Body: Record<string, unknown> }>('/sign-out', { schema: { hide: true } }, async (request, reply) => {
      const session = request.accessSession;
      if (session) {
        if (!csrfTokenMatches(config.sessionSecret, session.tokenHash, (request.body ?? {})[CSRF_FIELD])) throw new UserError(403, 'This form has expired or did not come from OpenICS. Go back, reload the page and try again.');
        await endSession(context.db, session.tokenHash);
      }
      void reply.clearCookie(deps.sessionCookie(deps.secureFor(request)), { path: '/' });
      return reply.redirect('/sign-in?signed-out=1', 303);
    });
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    /** External sign-in options shown on the sign-in page; OAuth's plugin adds NHS CIS2 and NHS login here. */
    accessExternalSignIn: ExternalSignIn[];
  }
}
