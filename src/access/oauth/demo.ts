/**
 * The demo ICS's OAuth clients: the demo SMART app OpenICS serves at /smart-demo/ (a public
 * client, PKCE, launchable from a patient's page), and one SMART Backend Services client per
 * partner organisation that sends feeds (the GP practices' system, the four trusts, the two
 * councils). Their private keys are demo-only files in docs/demo-keys/: published with the source,
 * so anyone can use them. **Never register them anywhere but a demo.**
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import type { Queryable } from '../../core/db/database.js';
import { findClient, registerClient } from './clients.js';

export const DEMO_KEYS_DIR = fileURLToPath(new URL('../../../docs/demo-keys', import.meta.url));
export const DEMO_APP_ID = 'openics-demo-smart-app';
/** Where OpenICS serves the demo SMART app. */
export const DEMO_APP_PATH = '/smart-demo';

export const DEMO_BACKEND_CLIENTS: readonly { clientId: string; name: string; organisation?: string }[] = [
  { clientId: 'openics-demo-gp-system', name: 'GP system (the demo ICS’s practices)' },
  { clientId: 'openics-demo-rwp', name: 'Worcestershire Acute Hospitals: patient administration feed', organisation: 'RWP' },
  { clientId: 'openics-demo-rlq', name: 'Wye Valley: patient administration feed', organisation: 'RLQ' },
  { clientId: 'openics-demo-r1a', name: 'Herefordshire and Worcestershire Health and Care: community and mental health feed', organisation: 'R1A' },
  { clientId: 'openics-demo-rya', name: 'West Midlands Ambulance Service: incidents feed', organisation: 'RYA' },
  { clientId: 'openics-demo-herefordshire-council', name: 'Herefordshire Council: adult social care feed', organisation: 'E06000019' },
  { clientId: 'openics-demo-worcestershire-council', name: 'Worcestershire County Council: adult social care feed', organisation: 'E10000034' },
];

/** The demo key file of a client. */
export function demoKeyFile(clientId: string): string {
  return path.join(DEMO_KEYS_DIR, `${clientId}.private.jwk.json`);
}

/** The public half of a private JWK: what a client registers. */
export function publicJwk(key: JWK): JWK {
  const PRIVATE = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);
  return Object.fromEntries(Object.entries(key).filter(([name]) => !PRIVATE.has(name)));
}

/** The origin the demo app is registered at: OPENICS_PUBLIC_URL, else http://localhost:<PORT>. */
export function demoAppOrigin(env: NodeJS.ProcessEnv = process.env): string {
  return env.OPENICS_PUBLIC_URL ? new URL(env.OPENICS_PUBLIC_URL).origin : `http://localhost:${env.PORT || 3000}`;
}

/** Registers the demo app (for `appOrigin`) and the demo backend clients; returns whether anything was new. */
export async function loadOAuthDemo(db: Queryable, options: { appOrigin?: string } = {}): Promise<boolean> {
  if (await findClient(db, DEMO_APP_ID)) return false;
  await registerDemoApp(db, options.appOrigin ?? demoAppOrigin());
  for (const client of DEMO_BACKEND_CLIENTS) {
    const key = JSON.parse(fs.readFileSync(demoKeyFile(client.clientId), 'utf8')) as JWK;
    await registerClient(db, {
      clientId: client.clientId,
      name: client.name,
      kind: 'backend_service',
      organisation: client.organisation,
      redirectUris: [],
      origins: [],
      jwks: { keys: [publicJwk(key)] },
      scope: 'system/*.cruds',
    });
  }
  return true;
}

/** (Re-)registers the demo SMART app for an origin, e.g. when OpenICS is reached at another address. */
export async function registerDemoApp(db: Queryable, origin: string): Promise<void> {
  await registerClient(db, {
    clientId: DEMO_APP_ID,
    name: 'OpenICS demo SMART app',
    kind: 'public_app',
    redirectUris: [`${origin}${DEMO_APP_PATH}/app.html`],
    launchUri: `${origin}${DEMO_APP_PATH}/launch.html`,
    origins: [origin],
    scope: 'openid fhirUser launch launch/patient offline_access patient/*.rs',
  });
}
