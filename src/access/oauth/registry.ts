/**
 * One oidc-provider per issuer. In production the issuer is OPENICS_PUBLIC_URL; in development
 * (no public URL configured) it is the origin each request was addressed to, so
 * http://localhost:3000 and http://127.0.0.1:3000 each get a consistent issuer. Keys are loaded
 * once, on first use, when the database is ready.
 */
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { AppContext } from '../../app.js';
import { UserError } from '../../core/errors.js';
import type { OAuthConfig } from './config.js';
import { loadOAuthKeys, type OAuthKeys } from './keys.js';
import { createProvider } from './provider.js';

/** Hosts a development server answers as issuers before refusing others (each costs a provider). */
const MAX_ISSUERS = 8;

export class ProviderRegistry {
  private keys: Promise<OAuthKeys> | undefined;
  private readonly providers = new Map<string, Provider>();

  constructor(
    private readonly context: AppContext,
    private readonly config: OAuthConfig,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** The issuer a request is answered as. */
  issuerFor(request: FastifyRequest): string {
    return this.config.publicUrl ?? `${request.protocol}://${request.host}`;
  }

  async providerFor(request: FastifyRequest): Promise<Provider> {
    return this.provider(this.issuerFor(request));
  }

  async provider(issuer: string): Promise<Provider> {
    const existing = this.providers.get(issuer);
    if (existing) return existing;
    if (this.providers.size >= MAX_ISSUERS) throw new UserError(400, 'This server does not answer for that host name; set OPENICS_PUBLIC_URL');
    const keys = await this.loadKeys();
    // Another request may have built it while the keys loaded.
    const again = this.providers.get(issuer);
    if (again) return again;
    const provider = createProvider({ issuer, db: () => this.context.db, signingKeys: keys.signing, cookieKeys: keys.cookieKeys, proxy: this.config.publicUrl !== undefined });
    this.providers.set(issuer, provider);
    return provider;
  }

  private loadKeys(): Promise<OAuthKeys> {
    this.keys ??= loadOAuthKeys(this.context.db, this.config.signingKey).then(
      (keys) => {
        if (keys.source !== 'configuration') {
          this.log.warn({ source: keys.source }, 'OAuth signing key kept in the database: development and demo only; production must set OAUTH_SIGNING_KEY');
        }
        return keys;
      },
      (error: unknown) => {
        this.keys = undefined;
        throw error;
      },
    );
    return this.keys;
  }
}
