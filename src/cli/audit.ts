/**
 * `npm run audit -- verify`: walk the audit trail's hash chain and say whether it is intact.
 *
 *   audit chain OK: 1234 events                      exit 0
 *   audit chain BROKEN at event 57: <what is wrong>  exit 1
 *
 * Uses the same database as `npm start` (DATABASE_URL or the embedded engine in ./data), so
 * stop the server first when it runs on the embedded engine.
 */
import { verifyAuditChain } from '../access/audit/trail.js';
import { ConfigError, loadConfig } from '../core/config.js';
import { DatabaseUnavailableError, openDatabase } from '../core/db/database.js';
import { migrate } from '../core/db/migrate.js';
import { UserError } from '../core/errors.js';

const USAGE = 'usage: npm run audit -- verify';

async function run(args: string[]): Promise<number> {
  const [command] = args;
  if (command !== 'verify' || args.length > 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrate(db);
    const result = await verifyAuditChain(db);
    if (result.ok) {
      process.stdout.write(`audit chain OK: ${result.count} events\n`);
      return 0;
    }
    process.stdout.write(`audit chain BROKEN at event ${result.brokenAt}: ${result.problem} (${result.count} events before it verify)\n`);
    return 1;
  } finally {
    await db.close();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const known = error instanceof UserError || error instanceof ConfigError || error instanceof DatabaseUnavailableError;
    process.stderr.write(`openics: ${known ? error.message : `unexpected error: ${error instanceof Error ? error.message : String(error)}`}\n`);
    process.exit(1);
  },
);
