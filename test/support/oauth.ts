/**
 * Test helpers for the OAuth routes: the real app with registerOAuth on a free port, and a
 * small browser-like HTTP client (cookies, manual redirects) to walk authorisation flows.
 * Used only by tests.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AppContext, buildApp } from '../../src/app.js';
import type { Database } from '../../src/core/db/database.js';
import type { OAuthOptions } from '../../src/access/oauth/routes.js';
import { listenLocally } from './app.js';

export interface OAuthTestApp {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** The platform as `npm start` composes it (buildApp, OAuth configured by the test), listening on 127.0.0.1. */
export async function startOAuthApp(db: Database, options: OAuthOptions = {}): Promise<OAuthTestApp> {
  const context = new AppContext();
  context.setDatabase(db);
  const app = await buildApp({ logger: false, context, oauth: { config: options.config ?? { publicUrl: undefined, signingKey: undefined, external: [] } } });
  return { url: await listenLocally(app), app, close: () => app.close() };
}

export interface BrowserResponse {
  status: number;
  location: string | undefined;
  text: string;
  url: string;
}

/** Cookies per origin, manual redirects: enough of a browser to walk an authorisation. */
export class TestBrowser {
  private readonly jar = new Map<string, Map<string, string>>();

  private cookieHeader(url: URL): string {
    const cookies = this.jar.get(url.origin);
    return cookies ? [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }

  private store(url: URL, response: Response): void {
    const cookies = this.jar.get(url.origin) ?? new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (!pair || at < 0) continue;
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    this.jar.set(url.origin, cookies);
  }

  async request(method: string, target: string, form?: Record<string, string>): Promise<BrowserResponse> {
    const url = new URL(target);
    const headers: Record<string, string> = { accept: 'text/html,application/json' };
    const cookie = this.cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, { method, headers, redirect: 'manual', ...(form ? { body: new URLSearchParams(form) } : {}) });
    this.store(url, response);
    const location = response.headers.get('location') ?? undefined;
    return { status: response.status, location: location ? new URL(location, url).href : undefined, text: await response.text(), url: url.href };
  }

  /** Follows redirects within `origin`; stops at the first page, or at a redirect elsewhere (the app's callback). */
  async follow(method: string, target: string, origin: string, form?: Record<string, string>): Promise<BrowserResponse> {
    let response = await this.request(method, target, form);
    for (let hops = 0; hops < 10 && response.location && new URL(response.location).origin === origin; hops++) {
      response = await this.request('GET', response.location);
    }
    return response;
  }
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The interaction uid in a page's form action. */
export function interactionUid(html: string): string {
  const match = /\/oauth\/interaction\/([A-Za-z0-9_-]+)/.exec(html);
  if (!match?.[1]) throw new Error('no interaction form on the page');
  return match[1];
}
