/**
 * `npm start`: read the configuration, start listening at once (GET /healthz says 503 until
 * ready), open and migrate the database, load the demo ICS on first start, then answer.
 * Bad configuration ends the process with one clear line and a non-zero exit, not a stack trace.
 */
import { AppContext, buildApp } from './app.js';
import { ConfigError, loadConfig } from './core/config.js';
import { DatabaseUnavailableError, type Database, openDatabase } from './core/db/database.js';
import { migrate } from './core/db/migrate.js';
import { createLogger } from './core/log.js';
import { loadDemo, loadDemoResidents } from './demo.js';
import { loadFhirDefinitions } from './fhir/definitions.js';
import { loadValidation } from './fhir/validate.js';

function fail(message: string, code: number): never {
  process.stderr.write(`openics: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const started = performance.now();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(`bad configuration: ${error.message}`, 2);
    throw error;
  }
  const log = createLogger(config.logLevel);
  const context = new AppContext();
  const app = await buildApp({ logger: log, context });

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') fail(`port ${config.port} is already in use; stop the other program or set PORT`, 1);
    if (code === 'EACCES') fail(`not allowed to listen on port ${config.port}; choose a port above 1023 with PORT`, 1);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') fail(`cannot listen on host ${config.host}; check HOST`, 1);
    throw error;
  }

  let db: Database;
  try {
    db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  } catch (error) {
    await app.close();
    if (error instanceof DatabaseUnavailableError) fail(error.message, 1);
    throw error;
  }
  // The FHIR R4 definitions (resource types, search parameters) take about a second to parse.
  loadFhirDefinitions();
  const applied = await migrate(db);
  if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');
  if (config.loadDemo && (await loadDemo(db))) log.info('demo ICS (Herefordshire and Worcestershire, QGH) loaded');
  context.setDatabase(db);
  // The validator's tables (value sets, invariants) take a second or two; build them now rather
  // than on the first FHIR write, but after the platform is ready to answer.
  setImmediate(() => loadValidation());
  // The demo's synthetic residents take a few seconds more: loaded while the platform answers.
  if (config.loadDemo) {
    loadDemoResidents(db).then(
      (loaded) => loaded && log.info(loaded, 'demo residents loaded (a synthetic population of QGH, each held by several organisations)'),
      (error: unknown) => log.error({ err: error }, 'the demo residents could not be loaded'),
    );
  }
  log.info(
    { url: `http://localhost:${config.port}`, engine: db.engine, ...(db.engine === 'embedded' ? { dataDir: config.dataDir } : {}), readyInMs: Math.round(performance.now() - started) },
    'OpenICS is ready',
  );

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await app.close();
    await db.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  fail(`could not start: ${error instanceof Error ? error.message : String(error)}`, 1);
});
