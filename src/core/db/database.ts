/**
 * The one way the platform talks to PostgreSQL, whichever engine is underneath.
 *
 * Both engines are reached through node-postgres: a PostgreSQL server directly, the embedded
 * engine (PGlite) over a Unix socket served from a worker thread. So SQL, type parsing and
 * transactions behave identically, and a test that passes on one engine means the same on the other.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import pg from 'pg';

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

export interface Database extends Queryable {
  readonly engine: 'embedded' | 'server';
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export class DatabaseUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * SQLSTATEs of a transaction PostgreSQL rolled back because another was changing the same rows at
 * the same moment (deadlock_detected, serialization_failure). Nothing of it was written, and the
 * same request may simply be sent again, so the HTTP layers answer 503 with Retry-After, not 500.
 */
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);

export function isRetryableConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && RETRYABLE_SQLSTATES.has(code);
}

export interface OpenOptions {
  /** PostgreSQL server URL; absent means the embedded engine. */
  url?: string | undefined;
  /** Embedded engine directory; absent means in memory (tests). */
  dataDir?: string | undefined;
  /** Server only: the schema to work in (tests give each file its own, so they can run in parallel). */
  schema?: string | undefined;
}

// Consistent value types on both engines: counts (int8) as numbers, calendar dates as
// 'YYYY-MM-DD' strings so no time zone can shift them.
const INT8_OID = 20;
const DATE_OID = 1082;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === INT8_OID) return (value: string) => Number(value);
    if (oid === DATE_OID) return (value: string) => value;
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  },
};

class PoolDatabase implements Database {
  constructor(
    readonly engine: 'embedded' | 'server',
    private readonly pool: pg.Pool,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    // Not pool.query(): it destroys the connection on any SQL error, and reconnecting to the
    // embedded engine's single-session socket races the old connection's close. An SQL error
    // leaves the connection usable; only a broken connection is thrown away.
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      const result = await client.query(sql, params as unknown[]);
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    } catch (error) {
      if (!isSqlError(error)) broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // One connection runs one query at a time: queue them, so work may use Promise.all freely.
    let queue: Promise<unknown> = Promise.resolve();
    const run = <R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> => {
      const next = queue.then(async () => {
        const result = await client.query(sql, params as unknown[]);
        return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
      });
      queue = next.catch(() => undefined);
      return next;
    };
    let reusable = true;
    try {
      await run('BEGIN');
      const value = await work({ query: run });
      await run('COMMIT');
      return value;
    } catch (error) {
      // A connection that cannot roll back is not safe to reuse: its session may still be in the transaction.
      reusable = await run('ROLLBACK').then(
        () => true,
        () => false,
      );
      throw error;
    } finally {
      client.release(reusable ? undefined : new Error('rollback failed'));
    }
  }


  async close(): Promise<void> {
    await this.pool.end();
    await this.onClose();
  }
}

/**
 * A Database whose every query and nested transaction runs inside one enclosing transaction.
 * For work that must land whole or not at all, such as loading the demo ICS through the
 * modules' own commands: a failure anywhere rolls everything back.
 */
export function withinTransaction(tx: Queryable, engine: Database['engine']): Database {
  return {
    engine,
    query: (sql, params) => tx.query(sql, params),
    transaction: (work) => work(tx),
    close: async () => {},
  };
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  return options.url ? openServer(options.url, options.schema) : openEmbedded(options.dataDir);
}

async function openServer(url: string, schema: string | undefined): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    types,
    connectionTimeoutMillis: 10_000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // Idle clients can lose their server (restart, network); log-free here, the next query reconnects.
  pool.on('error', () => undefined);
  try {
    if (schema) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema.replaceAll('"', '')}"`);
      await admin.end();
    }
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new DatabaseUnavailableError(`cannot reach the PostgreSQL server at ${redactUrl(url)}: ${describe(error)}`);
  }
  return new PoolDatabase('server', pool);
}

async function openEmbedded(dataDir: string | undefined): Promise<Database> {
  const releaseLock = dataDir ? lockDataDir(dataDir) : () => undefined;
  const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openics-pg-'));
  const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), {
    workerData: { dataDir, socketPath: path.join(socketDir, '.s.PGSQL.5432') },
  });
  const cleanup = async (): Promise<void> => {
    await worker.terminate();
    fs.rmSync(socketDir, { recursive: true, force: true });
    releaseLock();
  };
  const started = await new Promise<{ type: string; message?: string }>((resolve) => {
    worker.once('message', resolve);
    worker.once('error', (error) => resolve({ type: 'error', message: error.message }));
  });
  if (started.type !== 'ready') {
    await cleanup();
    throw new DatabaseUnavailableError(`the embedded database in ${dataDir ?? 'memory'} did not start: ${started.message ?? 'unknown reason'}`);
  }
  // PGlite has one session, so one pooled connection; transactions queue behind each other.
  const pool = new pg.Pool({ host: socketDir, user: 'postgres', database: 'postgres', max: 1, idleTimeoutMillis: 0, types });
  pool.on('error', () => undefined);
  return new PoolDatabase('embedded', pool, async () => {
    // Ask the worker to close PGlite cleanly so everything is flushed to disk.
    const closed = new Promise<void>((resolve) => worker.once('message', () => resolve()));
    worker.postMessage({ type: 'close' });
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000))]);
    await cleanup();
  });
}

/** Two processes writing one PGlite directory would corrupt it; refuse the second. */
function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockFile = path.join(dataDir, 'openics.pid');
  if (fs.existsSync(lockFile)) {
    const pid = Number(fs.readFileSync(lockFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid !== process.pid && isRunning(pid)) {
      throw new DatabaseUnavailableError(`the data directory ${dataDir} is in use by process ${pid}; stop it or set OPENICS_DATA_DIR`);
    }
  }
  fs.writeFileSync(lockFile, String(process.pid));
  return () => fs.rmSync(lockFile, { force: true });
}

/** Errors PostgreSQL reports in the protocol carry a five-character SQLSTATE code. */
function isSqlError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured URL';
  }
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  if (error instanceof Error) return error.message || (error as NodeJS.ErrnoException).code || error.name;
  return String(error);
}
