import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { ConfigError } from '../../core/config.js';
import { ValidationError } from '../../core/errors.js';
import { loadDemoIcs } from '../../structure/commands.js';
import { hashTokenValue, postgresAdapterFactory, sweepExpired } from './adapter.js';
import { findClient, listClients, type OAuthClient, registerClient, registeredOrigins, removeClient } from './clients.js';
import { loadOAuthKeys } from './keys.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
  await loadDemoIcs(database.db, 'test');
});
afterAll(async () => database?.close());

describe('the oidc-provider adapter', () => {
  it('stores, finds, consumes and destroys a model with its expiry', async () => {
    const sessions = postgresAdapterFactory(() => database.db)('Session');
    await sessions.upsert('s1', { jti: 's1', uid: 'u1', accountId: 'user-1', kind: 'Session' }, 60);
    expect(await sessions.find('s1')).toMatchObject({ jti: 's1', accountId: 'user-1' });
    expect(await sessions.findByUid('u1')).toMatchObject({ jti: 's1' });
    await sessions.consume('s1');
    expect((await sessions.find('s1'))?.consumed).toBeTypeOf('number');
    await sessions.destroy('s1');
    expect(await sessions.find('s1')).toBeUndefined();
  });

  it('keeps tokens under the hash of their value, never the value', async () => {
    const tokens = postgresAdapterFactory(() => database.db)('AccessToken');
    await tokens.upsert('secret-token-value', { jti: 'secret-token-value', grantId: 'g1', clientId: 'c', kind: 'AccessToken' }, 60);
    const { rows } = await database.db.query<{ id: string; payload: unknown }>("SELECT id, payload FROM oauth_model WHERE model = 'AccessToken'");
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).toBe(hashTokenValue('secret-token-value'));
    expect(JSON.stringify(rows[0]?.payload)).not.toContain('secret-token-value');
    expect(await tokens.find('secret-token-value')).toMatchObject({ jti: 'secret-token-value', grantId: 'g1' });
  });

  it('revokes everything issued under a grant', async () => {
    const factory = postgresAdapterFactory(() => database.db);
    await factory('RefreshToken').upsert('rt-1', { jti: 'rt-1', grantId: 'g2', kind: 'RefreshToken' }, 60);
    await factory('AccessToken').upsert('at-2', { jti: 'at-2', grantId: 'g2', kind: 'AccessToken' }, 60);
    await factory('AccessToken').upsert('at-3', { jti: 'at-3', grantId: 'other', kind: 'AccessToken' }, 60);
    await factory('AccessToken').revokeByGrantId('g2');
    expect(await factory('RefreshToken').find('rt-1')).toBeUndefined();
    expect(await factory('AccessToken').find('at-2')).toBeUndefined();
    expect(await factory('AccessToken').find('at-3')).toBeDefined();
  });

  it('does not return expired rows, and sweeps them', async () => {
    const codes = postgresAdapterFactory(() => database.db)('AuthorizationCode');
    await codes.upsert('code-1', { jti: 'code-1', kind: 'AuthorizationCode' }, 60);
    await database.db.query("UPDATE oauth_model SET expires_at = now() - interval '1 second' WHERE model = 'AuthorizationCode'");
    expect(await codes.find('code-1')).toBeUndefined();
    await sweepExpired(database.db);
    const { rowCount } = await database.db.query("SELECT 1 FROM oauth_model WHERE model = 'AuthorizationCode'");
    expect(rowCount).toBe(0);
  });
});

describe('clients', () => {
  const app: OAuthClient = {
    clientId: 'test-app',
    name: 'Test app',
    kind: 'public_app',
    redirectUris: ['https://app.example.org/callback'],
    launchUri: 'https://app.example.org/launch',
    origins: ['https://app.example.org'],
    scope: 'openid fhirUser launch launch/patient patient/*.rs',
  };

  it('registers an app and presents it to oidc-provider as a public PKCE client', async () => {
    await registerClient(database.db, app);
    expect(await findClient(database.db, 'test-app')).toMatchObject({ kind: 'public_app', launchUri: 'https://app.example.org/launch' });
    const metadata = await postgresAdapterFactory(() => database.db)('Client').find('test-app');
    expect(metadata).toMatchObject({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], scope: 'openid fhirUser', openics_scope: app.scope });
    expect(await registeredOrigins(database.db)).toContain('https://app.example.org');
  });

  it('refuses a bad registration, naming every field', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES384', { extractable: true });
    const error = await registerClient(database.db, {
      clientId: 'x',
      name: '',
      kind: 'backend_service',
      organisation: 'NOPE1',
      redirectUris: [],
      origins: ['https://a.example.org/path'],
      jwks: { keys: [await exportJWK(privateKey)] },
      scope: 'patient/*.rs system/*.sr',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const fields = (error as ValidationError).problems.map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['clientId', 'name', 'origins.0', 'jwks.keys.0', 'scope', 'organisation']));
    // A backend service with a public key and system scopes is fine.
    await registerClient(database.db, { clientId: 'feed', name: 'Feed', kind: 'backend_service', organisation: 'RWP', redirectUris: [], origins: [], jwks: { keys: [await exportJWK(publicKey)] }, scope: 'system/*.cruds' });
    expect((await findClient(database.db, 'feed'))?.organisation).toBe('RWP');
  });

  it('removes a client and revokes what it holds', async () => {
    await postgresAdapterFactory(() => database.db)('AccessToken').upsert('feed-token', { jti: 'feed-token', clientId: 'feed', kind: 'ClientCredentials' }, 60);
    expect(await removeClient(database.db, 'feed')).toBe(true);
    expect(await removeClient(database.db, 'feed')).toBe(false);
    expect(await findClient(database.db, 'feed')).toBeUndefined();
    expect(await postgresAdapterFactory(() => database.db)('Client').find('feed')).toBeUndefined();
    expect(await postgresAdapterFactory(() => database.db)('AccessToken').find('feed-token')).toBeUndefined();
    expect((await listClients(database.db)).map((c) => c.clientId)).not.toContain('feed');
  });
});

describe('signing keys', () => {
  it('generates an RSA key on first start and reuses it', async () => {
    const first = await loadOAuthKeys(database.db, undefined);
    expect(first.source).toBe('generated');
    expect(first.signing[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(first.signing[0]?.d).toBeDefined();
    const second = await loadOAuthKeys(database.db, undefined);
    expect(second.source).toBe('database');
    expect(second.signing[0]?.kid).toBe(first.signing[0]?.kid);
    expect(second.cookieKeys).toEqual(first.cookieKeys);
  });

  it('uses a configured key and refuses a public or non-RSA one', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const configured = await loadOAuthKeys(database.db, JSON.stringify(await exportJWK(privateKey)));
    expect(configured.source).toBe('configuration');
    expect(configured.signing[0]?.kid).toBeTypeOf('string');
    await expect(loadOAuthKeys(database.db, JSON.stringify(await exportJWK(publicKey)))).rejects.toThrow(ConfigError);
    const ec = await generateKeyPair('ES256', { extractable: true });
    await expect(loadOAuthKeys(database.db, JSON.stringify({ keys: [await exportJWK(ec.privateKey)] }))).rejects.toThrow(/first key must be RSA/);
    await expect(loadOAuthKeys(database.db, 'not json')).rejects.toThrow(/OAUTH_SIGNING_KEY/);
  });
});
