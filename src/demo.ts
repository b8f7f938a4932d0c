/**
 * The demo ICS, loaded on first start: Herefordshire and Worcestershire's structure (real
 * organisations, practices and populations) and a year of its governance (fictional people
 * and papers). Composes the modules' own demo loaders; it lives at the top because it spans them.
 */
import { type Database, withinTransaction } from './core/db/database.js';
import { loadFinanceDemo } from './finance/demo.js';
import { loadGovernanceDemo } from './governance/demo.js';
import { DEMO_ICS } from './structure/demo.js';
import { loadDemoIcs } from './structure/commands.js';

/** Loads the demo unless it is already there; returns whether it loaded. */
export async function loadDemo(db: Database, now: Date = new Date()): Promise<boolean> {
  // One transaction for the whole demo: it lands complete or not at all (a failed first start
  // leaves no half-loaded ICS), and it is much faster than one commit per command.
  return db.transaction(async (tx) => {
    const scoped = withinTransaction(tx, db.engine);
    if (!(await loadDemoIcs(scoped, 'demo loader'))) return false;
    await loadGovernanceDemo(scoped, DEMO_ICS, now);
    await loadFinanceDemo(scoped, DEMO_ICS);
    return true;
  });
}
