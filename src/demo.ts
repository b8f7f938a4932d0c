/**
 * The demo ICS, loaded on first start: Herefordshire and Worcestershire's structure (real
 * organisations, practices and populations) and a year of its governance (fictional people
 * and papers). Composes the modules' own demo loaders; it lives at the top because it spans them.
 */
import type { Database } from './core/db/database.js';
import { loadFinanceDemo } from './finance/demo.js';
import { loadGovernanceDemo } from './governance/demo.js';
import { DEMO_ICS } from './structure/demo.js';
import { loadDemoIcs } from './structure/commands.js';

/** Loads the demo unless it is already there; returns whether it loaded. */
export async function loadDemo(db: Database, now: Date = new Date()): Promise<boolean> {
  if (!(await loadDemoIcs(db, 'demo loader'))) return false;
  await loadGovernanceDemo(db, DEMO_ICS, now);
  await loadFinanceDemo(db, DEMO_ICS);
  return true;
}
