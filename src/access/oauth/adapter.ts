/**
 * oidc-provider's storage on OpenICS's PostgreSQL (either engine): one table, `oauth_model`,
 * holds sessions, interactions, grants, codes, tokens and replay records, each with its expiry;
 * clients are read from `oauth_client`, which only an administrator or the demo loader writes.
 *
 * Codes and tokens are bearer credentials, so their rows are keyed by the SHA-256 of the value
 * and the value itself (the payload's `jti`) is never stored: a copy of the table gives nobody a
 * usable token. `accessFromBearerToken` looks tokens up the same way.
 */
import { createHash } from 'node:crypto';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Database, Queryable } from '../../core/db/database.js';
import { clientMetadata, type ClientRow, CLIENT_COLUMNS } from './clients.js';

/** Models whose id is a bearer credential: stored hashed. */
export const HASHED_MODELS: ReadonlySet<string> = new Set([
  'AccessToken',
  'ClientCredentials',
  'RefreshToken',
  'AuthorizationCode',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'RegistrationAccessToken',
  'InitialAccessToken',
]);

export function hashTokenValue(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

interface ModelRow {
  payload: AdapterPayload;
}

const SWEEP_EVERY_MS = 10 * 60 * 1000;
let lastSweep = 0;

/** Deletes expired rows of the OAuth tables; run now and then by the adapter, and by tests. */
export async function sweepExpired(db: Queryable): Promise<void> {
  await db.query('DELETE FROM oauth_model WHERE expires_at < now()');
  await db.query('DELETE FROM oauth_launch WHERE expires_at < now()');
  await db.query('DELETE FROM oauth_grant_context WHERE expires_at < now()');
}

class PostgresAdapter implements Adapter {
  private readonly hashed: boolean;

  constructor(
    private readonly model: string,
    private readonly db: () => Database,
  ) {
    this.hashed = HASHED_MODELS.has(model);
  }

  private key(id: string): string {
    return this.hashed ? hashTokenValue(id) : id;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const stored: AdapterPayload = { ...payload };
    if (this.hashed) delete stored.jti;
    const db = this.db();
    await db.query(
      `INSERT INTO oauth_model (model, id, payload, grant_id, uid, user_code, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::integer IS NULL THEN NULL ELSE now() + make_interval(secs => $7::integer) END)
       ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, uid = EXCLUDED.uid,
         user_code = EXCLUDED.user_code, expires_at = EXCLUDED.expires_at`,
      [this.model, this.key(id), JSON.stringify(stored), payload.grantId ?? null, payload.uid ?? null, payload.userCode ?? null, expiresIn ?? null],
    );
    if (Date.now() - lastSweep > SWEEP_EVERY_MS) {
      lastSweep = Date.now();
      await sweepExpired(db);
    }
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const { rows } = await this.db().query<ModelRow>('SELECT payload FROM oauth_model WHERE model = $1 AND id = $2 AND (expires_at IS NULL OR expires_at > now())', [this.model, this.key(id)]);
    const row = rows[0];
    if (!row) return undefined;
    return this.hashed ? { ...row.payload, jti: id } : row.payload;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const { rows } = await this.db().query<ModelRow>('SELECT payload FROM oauth_model WHERE model = $1 AND uid = $2 AND (expires_at IS NULL OR expires_at > now())', [this.model, uid]);
    return rows[0]?.payload;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    // Device codes are not enabled; kept for the interface, never a hashed lookup by its own id.
    const { rows } = await this.db().query<ModelRow>('SELECT payload FROM oauth_model WHERE model = $1 AND user_code = $2 AND (expires_at IS NULL OR expires_at > now())', [this.model, userCode]);
    return rows[0]?.payload;
  }

  async consume(id: string): Promise<void> {
    await this.db().query(
      `UPDATE oauth_model SET consumed_at = now(), payload = payload || jsonb_build_object('consumed', floor(extract(epoch FROM now()))::bigint)
       WHERE model = $1 AND id = $2`,
      [this.model, this.key(id)],
    );
  }

  async destroy(id: string): Promise<void> {
    const db = this.db();
    await db.query('DELETE FROM oauth_model WHERE model = $1 AND id = $2', [this.model, this.key(id)]);
    if (this.model === 'Grant') await db.query('DELETE FROM oauth_grant_context WHERE grant_id = $1', [id]);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db().query('DELETE FROM oauth_model WHERE grant_id = $1', [grantId]);
  }
}

/** Clients come from oauth_client; oidc-provider never writes them (dynamic registration is off). */
class ClientAdapter implements Adapter {
  constructor(private readonly db: () => Database) {}

  async find(id: string): Promise<AdapterPayload | undefined> {
    const { rows } = await this.db().query<ClientRow>(`SELECT ${CLIENT_COLUMNS} FROM oauth_client WHERE client_id = $1 AND disabled_at IS NULL`, [id]);
    const row = rows[0];
    return row ? clientMetadata(row) : undefined;
  }

  upsert(): Promise<void> {
    return Promise.reject(new Error('clients are registered with npm run clients, not through oidc-provider'));
  }

  async findByUid(): Promise<undefined> {
    return undefined;
  }

  async findByUserCode(): Promise<undefined> {
    return undefined;
  }

  async consume(): Promise<void> {}

  async destroy(): Promise<void> {}

  async revokeByGrantId(): Promise<void> {}
}

/** The adapter factory oidc-provider calls once per model name. */
export function postgresAdapterFactory(db: () => Database): (model: string) => Adapter {
  return (model) => (model === 'Client' ? new ClientAdapter(db) : new PostgresAdapter(model, db));
}
