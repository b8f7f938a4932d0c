/**
 * `npm run ics -- <command>`: manage the ICSs held in this OpenICS from the command line.
 *
 *   npm run ics -- list              the 42 ICBs in NHS England's data, and which are loaded
 *   npm run ics -- create QHM        build the skeleton of ICB QHM (practices, PCNs, places,
 *                                    councils, an empty board, the ICP, place partnerships)
 *   npm run ics -- check QGH         run the rules check and print each breach
 *
 * Uses the same database as `npm start` (DATABASE_URL or the embedded engine in ./data), so
 * stop the server first when it runs on the embedded engine.
 */
import { ConfigError, loadConfig } from '../core/config.js';
import { DatabaseUnavailableError, openDatabase } from '../core/db/database.js';
import { migrate } from '../core/db/migrate.js';
import { UserError } from '../core/errors.js';
import { createIcs } from '../structure/commands.js';
import { icbs } from '../structure/reference-data.js';
import { listIcs, loadStructure } from '../structure/repository.js';
import { checkRules } from '../structure/rules.js';

const USAGE = 'usage: npm run ics -- list | create <ICB code> | check <ICB code>';

async function run(args: string[]): Promise<number> {
  const [command, code] = args;
  if (command !== 'list' && command !== 'create' && command !== 'check') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if ((command === 'create' || command === 'check') && !code) {
    process.stderr.write(`${command} needs an ICB code, for example: npm run ics -- ${command} QHM\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrate(db);
    switch (command) {
      case 'list': {
        const loaded = new Set((await listIcs(db)).map((i) => i.code));
        for (const icb of icbs()) {
          process.stdout.write(`${icb.code}  ${icb.name.padEnd(72)} ${String(icb.practices).padStart(4)} practices${loaded.has(icb.code) ? '  (loaded)' : ''}\n`);
        }
        return 0;
      }
      case 'create': {
        const created = await createIcs(db, code ?? '', 'command line');
        const report = checkRules(await loadStructure(db, created.code));
        process.stdout.write(`Created ${created.name} (${created.code}). The rules check finds ${report.breaches.length} breach(es) to resolve; run: npm run ics -- check ${created.code}\n`);
        return 0;
      }
      case 'check': {
        const report = checkRules(await loadStructure(db, (code ?? '').toUpperCase()));
        for (const b of report.breaches) process.stdout.write(`✗ [${b.ruleId}] ${b.subject.name}: ${b.detail}\n    “${b.words}” (${b.source.document}, ${b.source.section})\n`);
        process.stdout.write(report.passed ? `✓ All ${report.rules.length} rules pass.\n` : `${report.breaches.length} breach(es) of ${report.rules.filter((r) => r.breaches.length > 0).length} rule(s).\n`);
        return report.passed ? 0 : 1;
      }
    }
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
