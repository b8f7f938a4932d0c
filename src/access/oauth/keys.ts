/**
 * The keys OpenICS signs ID tokens with, and the secret that signs oidc-provider's cookies.
 *
 * Production configures its signing key (OAUTH_SIGNING_KEY, a private RSA JWK or a JWK Set).
 * Without one (development, the demo), an RSA key is generated on first start and kept in
 * `oauth_signing_key`, so tokens survive a restart. A key kept in the database is only as safe
 * as the database: production must configure its own, from a secret store.
 */
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { ConfigError } from '../../core/config.js';
import type { Queryable } from '../../core/db/database.js';

export interface OAuthKeys {
  /** Private JWKs, the signing key first. */
  signing: JWK[];
  /** Where the signing key came from, for the start-up log. */
  source: 'configuration' | 'database' | 'generated';
  /** Secrets for oidc-provider's signed cookies. */
  cookieKeys: string[];
}

const COOKIE_SECRET_KID = 'openics-cookie-secret';

/** Parses OAUTH_SIGNING_KEY: one private JWK or a JWK Set; the signing key must be RSA (SMART ID tokens are RS256). */
export async function parseConfiguredKeys(raw: string): Promise<JWK[]> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError('OAUTH_SIGNING_KEY', 'is not JSON; expected a private JWK or a JWK Set');
  }
  const keys: unknown = value && typeof value === 'object' && 'keys' in value ? value.keys : [value];
  if (!Array.isArray(keys) || keys.length === 0) throw new ConfigError('OAUTH_SIGNING_KEY', 'holds no keys');
  const result: JWK[] = [];
  for (const key of keys as JWK[]) {
    if (!key || typeof key !== 'object' || typeof key.kty !== 'string') throw new ConfigError('OAUTH_SIGNING_KEY', 'holds something that is not a JWK');
    if (key.d === undefined) throw new ConfigError('OAUTH_SIGNING_KEY', 'must hold private keys (with "d"), not public ones');
    try {
      await importJWK({ ...key, alg: key.alg ?? (key.kty === 'RSA' ? 'RS256' : key.crv === 'P-384' ? 'ES384' : 'ES256') });
    } catch (error) {
      throw new ConfigError('OAUTH_SIGNING_KEY', `holds a key that cannot be used: ${error instanceof Error ? error.message : String(error)}`);
    }
    result.push({ ...key, use: 'sig', kid: key.kid ?? (await calculateJwkThumbprint(key)) });
  }
  if (result[0]?.kty !== 'RSA') throw new ConfigError('OAUTH_SIGNING_KEY', 'the first key must be RSA: SMART apps expect RS256 ID tokens');
  return result;
}

async function generateRsaKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg: 'RS256', use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}

/**
 * The keys to sign with: the configured ones, else those kept in the database, else a new one
 * stored there (two instances starting at once agree on the first one stored).
 */
export async function loadOAuthKeys(db: Queryable, configured: string | undefined): Promise<OAuthKeys> {
  const cookieKeys = [await cookieSecret(db)];
  if (configured) return { signing: await parseConfiguredKeys(configured), source: 'configuration', cookieKeys };
  const stored = await storedKeys(db);
  if (stored.length > 0) return { signing: stored, source: 'database', cookieKeys };
  const key = await generateRsaKey();
  await db.query('INSERT INTO oauth_signing_key (kid, private_jwk) VALUES ($1, $2) ON CONFLICT (kid) DO NOTHING', [key.kid, JSON.stringify(key)]);
  return { signing: await storedKeys(db), source: 'generated', cookieKeys };
}

async function storedKeys(db: Queryable): Promise<JWK[]> {
  const { rows } = await db.query<{ private_jwk: JWK }>("SELECT private_jwk FROM oauth_signing_key WHERE private_jwk->>'kty' <> 'oct' ORDER BY created_at, kid");
  return rows.map((r) => r.private_jwk);
}

/** A random secret kept in the database for signing oidc-provider's cookies (not a token key). */
async function cookieSecret(db: Queryable): Promise<string> {
  const fresh: JWK = { kty: 'oct', k: randomBytes(32).toString('base64url'), kid: COOKIE_SECRET_KID };
  await db.query('INSERT INTO oauth_signing_key (kid, private_jwk) VALUES ($1, $2) ON CONFLICT (kid) DO NOTHING', [COOKIE_SECRET_KID, JSON.stringify(fresh)]);
  const { rows } = await db.query<{ private_jwk: JWK }>('SELECT private_jwk FROM oauth_signing_key WHERE kid = $1', [COOKIE_SECRET_KID]);
  const k = rows[0]?.private_jwk.k;
  if (!k) throw new Error('the cookie secret could not be stored');
  return k;
}
