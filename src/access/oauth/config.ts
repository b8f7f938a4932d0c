/**
 * The OAuth server's configuration, from documented environment variables only
 * (docs/configuration.md, "Sign-in and tokens"). A bad value stops start-up with a message
 * naming the variable (ConfigError), as for the rest of OpenICS.
 */
import { ConfigError } from '../../core/config.js';

/** Claim mapping for an external OpenID Connect provider. */
export interface ExternalProviderConfig {
  /** 'staff': NHS CIS2-shaped (RBAC roles and organisations); 'citizen': NHS login-shaped (NHS number, proofing level). */
  audience: 'staff' | 'citizen';
  /** Short name used in URLs: /sign-in/external/<id>. */
  id: string;
  /** The button's words, e.g. "Sign in with NHS CIS2". */
  label: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Scopes to ask for. */
  scope: string;
  /** Staff: national RBAC role codes (e.g. R8000) → OpenICS roles; merged over the defaults in external.ts. */
  roleMap: Record<string, string>;
  /** Claim names, when a provider uses other names than CIS2 or NHS login. */
  claims: { roles: string; nhsNumber: string; proofingLevel: string; name: string };
}

export interface OAuthConfig {
  /**
   * The public URL OpenICS is reached at (e.g. https://openics.example.nhs.uk): the issuer of
   * its tokens. When unset (development), the issuer is taken from each request's host.
   */
  publicUrl: string | undefined;
  /** A private JWK (RSA, for RS256 ID tokens), or a JWK Set whose first RSA key signs. Unset: generated and kept in the database (development and demo only). */
  signingKey: string | undefined;
  external: ExternalProviderConfig[];
}

function parseUrl(variable: string, raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `is not a URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(variable, `must be an http or https URL, got "${raw}"`);
  return url.origin + url.pathname.replace(/\/+$/, '');
}

function parseJsonObject(variable: string, raw: string | undefined): Record<string, string> {
  if (raw === undefined || raw === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError(variable, 'is not JSON; expected an object such as {"R8000":"doctor"}');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new ConfigError(variable, 'must be a JSON object of strings');
  }
  return value as Record<string, string>;
}

function externalProvider(env: NodeJS.ProcessEnv, prefix: string, audience: 'staff' | 'citizen', defaults: { id: string; label: string; scope: string }): ExternalProviderConfig | undefined {
  const issuer = parseUrl(`${prefix}_ISSUER`, env[`${prefix}_ISSUER`]);
  if (!issuer) return undefined;
  const clientId = env[`${prefix}_CLIENT_ID`];
  const clientSecret = env[`${prefix}_CLIENT_SECRET`];
  if (!clientId) throw new ConfigError(`${prefix}_CLIENT_ID`, `is required when ${prefix}_ISSUER is set`);
  if (!clientSecret) throw new ConfigError(`${prefix}_CLIENT_SECRET`, `is required when ${prefix}_ISSUER is set`);
  const claims = parseJsonObject(`${prefix}_CLAIMS`, env[`${prefix}_CLAIMS`]);
  for (const key of Object.keys(claims)) {
    if (!['roles', 'nhsNumber', 'proofingLevel', 'name'].includes(key)) throw new ConfigError(`${prefix}_CLAIMS`, `"${key}" is not a claim OpenICS maps; use roles, nhsNumber, proofingLevel, name`);
  }
  return {
    audience,
    id: defaults.id,
    label: env[`${prefix}_LABEL`] || defaults.label,
    issuer,
    clientId,
    clientSecret,
    scope: env[`${prefix}_SCOPE`] || defaults.scope,
    roleMap: parseJsonObject(`${prefix}_ROLE_MAP`, env[`${prefix}_ROLE_MAP`]),
    claims: {
      roles: claims.roles ?? 'nhsid_nrbac_roles',
      nhsNumber: claims.nhsNumber ?? 'nhs_number',
      proofingLevel: claims.proofingLevel ?? 'identity_proofing_level',
      name: claims.name ?? 'name',
    },
  };
}

export function loadOAuthConfig(env: NodeJS.ProcessEnv = process.env): OAuthConfig {
  const external = [
    externalProvider(env, 'OIDC_STAFF', 'staff', { id: 'staff', label: 'Sign in with NHS Care Identity Service 2', scope: 'openid profile nationalrbacaccess' }),
    externalProvider(env, 'OIDC_CITIZEN', 'citizen', { id: 'citizen', label: 'Continue to NHS login', scope: 'openid profile nhs_number' }),
  ].filter((p): p is ExternalProviderConfig => p !== undefined);
  const publicUrl = parseUrl('OPENICS_PUBLIC_URL', env.OPENICS_PUBLIC_URL);
  if (publicUrl && new URL(publicUrl).pathname !== '/') throw new ConfigError('OPENICS_PUBLIC_URL', 'must be an origin only (scheme, host and port), e.g. https://openics.example.nhs.uk');
  return {
    publicUrl: publicUrl ? new URL(publicUrl).origin : undefined,
    signingKey: env.OAUTH_SIGNING_KEY || undefined,
    external,
  };
}
