/**
 * The demo's users: staff across Herefordshire and Worcestershire's organisations (the ICB,
 * practices, the four trusts and both councils), at least one for every role, and citizens who
 * are residents of the synthetic population. Everyone is fictional and shares one published
 * password (DEMO_PASSWORD); docs/access.md lists them all ("Demo sign-in").
 *
 * Citizens are linked to their records by NHS number when they sign in (citizens.ts), so they
 * work whichever residents the FHIR store holds: with the synthetic demo loaded (seed 20261123,
 * 300 people) their numbers are residents of it; without it they simply have no records yet.
 *
 * Never in production: with NODE_ENV=production no demo user is created, because their password
 * is public.
 */
import { type Database } from '../../core/db/database.js';
import type { RoleAssignment } from '../context.js';
import { hashPassword } from './passwords.js';
import { type NewUser, createUser, grantProxy } from './users.js';

/** The one password of every demo user. Published: never use it for anything real. */
export const DEMO_PASSWORD = 'openics-demo-2025';

const ICB = 'QGH';
const HEREFORDSHIRE = 'E06000019';
const WORCESTERSHIRE = 'E10000034';

export interface DemoUser {
  id: string;
  username: string;
  displayName: string;
  /** What they do, for the docs table. */
  job: string;
  roles: RoleAssignment[];
  nhsNumber?: string;
}

export const DEMO_STAFF: readonly DemoUser[] = [
  {
    id: 'demo-aisha-rahman',
    username: 'aisha.rahman',
    displayName: 'Dr Aisha Rahman',
    job: 'GP at Hereford Medical Group, and the ICB’s clinical lead for primary care (two roles: she chooses one at sign-in)',
    roles: [
      { role: 'doctor', organisation: 'M81026', nationalCode: 'R8000' },
      { role: 'leader', organisation: ICB },
    ],
  },
  { id: 'demo-chidi-okafor', username: 'chidi.okafor', displayName: 'Dr Chidi Okafor', job: 'Consultant physician, Worcestershire Acute Hospitals', roles: [{ role: 'doctor', organisation: 'RWP', nationalCode: 'R8000' }] },
  { id: 'demo-priya-patel', username: 'priya.patel', displayName: 'Priya Patel', job: 'Practice nurse, St Stephen’s Medical Partnership', roles: [{ role: 'nurse', organisation: 'M81001', nationalCode: 'R8001' }] },
  { id: 'demo-megan-evans', username: 'megan.evans', displayName: 'Megan Evans', job: 'District nurse, Herefordshire and Worcestershire Health and Care', roles: [{ role: 'nurse', organisation: 'R1A', nationalCode: 'R8001' }] },
  { id: 'demo-tom-fletcher', username: 'tom.fletcher', displayName: 'Tom Fletcher', job: 'Physiotherapist, Wye Valley NHS Trust', roles: [{ role: 'allied_health_professional', organisation: 'RLQ', nationalCode: 'R8003' }] },
  { id: 'demo-harjit-singh', username: 'harjit.singh', displayName: 'Harjit Singh', job: 'Paramedic, West Midlands Ambulance Service', roles: [{ role: 'allied_health_professional', organisation: 'RYA', nationalCode: 'R8003' }] },
  { id: 'demo-claire-brown', username: 'claire.brown', displayName: 'Claire Brown', job: 'Social worker, Worcestershire County Council', roles: [{ role: 'social_worker', organisation: WORCESTERSHIRE }] },
  { id: 'demo-rhys-davies', username: 'rhys.davies', displayName: 'Rhys Davies', job: 'Social worker, Herefordshire Council', roles: [{ role: 'social_worker', organisation: HEREFORDSHIRE }] },
  { id: 'demo-yasmin-ahmed', username: 'yasmin.ahmed', displayName: 'Yasmin Ahmed', job: 'Care coordinator, Alton Street Surgery (South and West Herefordshire PCN)', roles: [{ role: 'care_coordinator', organisation: 'M81044' }] },
  { id: 'demo-gareth-wilson', username: 'gareth.wilson', displayName: 'Gareth Wilson', job: 'Head of corporate governance, NHS Herefordshire and Worcestershire ICB', roles: [{ role: 'administrator', organisation: ICB }] },
  { id: 'demo-li-chen', username: 'li.chen', displayName: 'Li Chen', job: 'Finance and business intelligence analyst, the ICB', roles: [{ role: 'analyst', organisation: ICB }] },
  { id: 'demo-rebecca-harris', username: 'rebecca.harris', displayName: 'Rebecca Harris', job: 'Director of strategy, the ICB', roles: [{ role: 'leader', organisation: ICB }] },
  { id: 'demo-sam-taylor', username: 'sam.taylor', displayName: 'Sam Taylor', job: 'Director of the Herefordshire place partnership, Herefordshire Council', roles: [{ role: 'leader', organisation: HEREFORDSHIRE }] },
  { id: 'demo-jane-morris', username: 'jane.morris', displayName: 'Professor Jane Morris', job: 'Non-executive member of the ICB board', roles: [{ role: 'board_member', organisation: ICB }] },
  { id: 'demo-imran-khan', username: 'imran.khan', displayName: 'Imran Khan', job: 'Data protection officer, the ICB', roles: [{ role: 'privacy_officer', organisation: ICB }] },
];

export const DEMO_CITIZENS: readonly DemoUser[] = [
  // Keith Clarke is held by his practice, both acute trusts, the mental health trust, the ambulance
  // service and the county council's social care system, whose copy has no NHS number: the shared
  // care record joins them (src/record). His wife Janet is his carer. Each citizen is a resident of
  // the demo population under the name their practice holds (demo-citizens.test.ts).
  { id: 'demo-janet-clarke', username: 'janet.clarke', displayName: 'Janet Clarke', job: 'Resident of Wychavon, Worcestershire; her husband Keith’s carer, with proxy access to his record', roles: [{ role: 'citizen', organisation: ICB }], nhsNumber: '9998538696' },
  { id: 'demo-keith-clarke', username: 'keith.clarke', displayName: 'Keith Clarke', job: 'Resident of Wychavon, Worcestershire, supported by adult social care', roles: [{ role: 'citizen', organisation: ICB }], nhsNumber: '9995354209' },
  { id: 'demo-karen-thornby', username: 'karen.thornby', displayName: 'Karen Thornby', job: 'Resident of Redditch, Worcestershire', roles: [{ role: 'citizen', organisation: ICB }], nhsNumber: '9992777516' },
];

/** Proxy access in the demo: Janet Clarke for her husband Keith (HL7 v3 RoleCode WIFE: she is his wife). */
export const DEMO_PROXIES = [{ proxy: 'demo-janet-clarke', nhsNumber: '9995354209', relationship: 'WIFE', validFrom: '2024-01-01' }] as const;

/**
 * Creates the demo users unless they exist; returns how many it created. Creates none in
 * production (their password is published).
 */
export async function loadAccessDemo(db: Database, options: { production?: boolean } = {}): Promise<number> {
  if (options.production ?? process.env.NODE_ENV === 'production') return 0;
  const { rows } = await db.query<{ id: string }>('SELECT id FROM access_user WHERE id = ANY($1::text[])', [[...DEMO_STAFF, ...DEMO_CITIZENS].map((u) => u.id)]);
  const existing = new Set(rows.map((r) => r.id));
  const missing = [...DEMO_STAFF, ...DEMO_CITIZENS].filter((u) => !existing.has(u.id));
  if (missing.length === 0) return 0;
  // One hash for the one shared, published password: scrypt is slow on purpose, and a salt per
  // demo user would protect nothing when everyone knows the password.
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  for (const u of missing) {
    const input: NewUser = { id: u.id, username: u.username, displayName: u.displayName, kind: u.nhsNumber ? 'citizen' : 'staff', roles: u.roles, nhsNumber: u.nhsNumber, passwordHash };
    await createUser(db, input);
  }
  for (const p of DEMO_PROXIES) {
    if (!existing.has(p.proxy)) await grantProxy(db, p.proxy, { nhsNumber: p.nhsNumber, relationship: p.relationship, validFrom: p.validFrom });
  }
  return missing.length;
}
