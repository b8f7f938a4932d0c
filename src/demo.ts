/**
 * The demo ICS, loaded on first start: Herefordshire and Worcestershire's structure (real
 * organisations, practices and populations), a year of its governance and finance (fictional
 * people and papers), its staff and citizen users and OAuth clients, and a small synthetic
 * population whose records come from each partner organisation's own system. Composes the
 * modules' own demo loaders; it lives at the top because it spans them.
 */
import { loadAccessDemo } from './access/identity/demo.js';
import { loadOAuthDemo } from './access/oauth/demo.js';
import { type Database, withinTransaction } from './core/db/database.js';
import { loadFinanceDemo } from './finance/demo.js';
import { loadGovernanceDemo } from './governance/demo.js';
import { loadDemoDocuments } from './record/documents/index-documents.js';
import { loadPdsStandIn } from './record/pds/index.js';
import { recordWriteHook } from './record/write-hook.js';
import { DEMO_ICS } from './structure/demo.js';
import { loadDemoIcs } from './structure/commands.js';
import { DEMO_ICB, DEMO_PEOPLE, DEMO_SEED, loadSyntheticDemo } from './synthetic/demo.js';
import { DEFAULT_AS_OF, type Resident } from './synthetic/model.js';
import { claimPopulation, populationLoaded } from './synthetic/population-registry.js';

export interface DemoOptions {
  now?: Date;
  /**
   * The synthetic residents and their records, in the same transaction (default false: `npm
   * start` loads them after it is ready, with loadDemoResidents, so the first start is quick).
   */
  residents?: boolean;
  /** Where the demo SMART app is registered (default: OPENICS_PUBLIC_URL, else localhost:PORT). */
  appOrigin?: string;
}

/** Loads the demo unless it is already there; returns whether it loaded. */
export async function loadDemo(db: Database, options: DemoOptions = {}): Promise<boolean> {
  const now = options.now ?? new Date();
  // One transaction for the whole demo: it lands complete or not at all (a failed first start
  // leaves no half-loaded ICS), and it is much faster than one commit per command.
  return db.transaction(async (tx) => {
    const scoped = withinTransaction(tx, db.engine);
    if (!(await loadDemoIcs(scoped, 'demo loader'))) return false;
    await loadGovernanceDemo(scoped, DEMO_ICS, now);
    await loadFinanceDemo(scoped, DEMO_ICS);
    await loadAccessDemo(scoped);
    await loadOAuthDemo(scoped, options.appOrigin !== undefined ? { appOrigin: options.appOrigin } : {});
    if (options.residents ?? false) await loadResidents(scoped);
    return true;
  });
}

/**
 * Loads the demo's synthetic residents unless the FHIR store already holds Patients; returns how
 * many residents it loaded. Run by `npm start` once it is ready (the platform answers meanwhile).
 * Loading is idempotent (identical resources make no new version), so a load cut short is
 * simply done again on the next start, while the store still has no Patient.
 */
export async function loadDemoResidents(db: Database): Promise<{ residents: number; resources: number; ms: number } | undefined> {
  const { rows } = await db.query("SELECT 1 FROM fhir_patient_resource WHERE resource_type = 'Patient' LIMIT 1");
  if (rows.length > 0) return undefined;
  const result = await db.transaction((tx) => loadResidents(withinTransaction(tx, db.engine)));
  return { residents: result.residents, resources: result.resources, ms: Math.round(result.ms) };
}

/**
 * The residents' records through the platform's write hook (so relationships, consents, labels
 * and the master patient index's links are known), their true demographics into the stand-in
 * of the national demographics service (PDS), and the acute trusts' discharge summaries indexed
 * as DocumentReferences.
 */
async function loadResidents(db: Database): Promise<{ residents: number; resources: number; ms: number }> {
  const population = { icb: DEMO_ICB, seed: DEMO_SEED, people: DEMO_PEOPLE, asOf: DEFAULT_AS_OF };
  await claimPopulation(db, population, 'npm start');
  const residents: Resident[] = [];
  const result = await loadSyntheticDemo(db, { onWrite: recordWriteHook, onResident: (resident) => void residents.push(resident) });
  await loadPdsStandIn(db, residents);
  await loadDemoDocuments(db);
  await populationLoaded(db, population);
  return result;
}
