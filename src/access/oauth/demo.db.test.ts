/**
 * The demo clients and the two commands: `npm run token` run as a real process against the
 * running server with a demo key, and `npm run clients` (keygen, add, list, remove) on a database
 * of its own.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { type OAuthTestApp, startOAuthApp } from '../../../test/support/oauth.js';
import { loadDemoIcs } from '../../structure/commands.js';
import { listClients } from './clients.js';
import { DEMO_APP_ID, DEMO_BACKEND_CLIENTS, demoKeyFile, loadOAuthDemo } from './demo.js';
import { accessFromBearerToken } from './tokens.js';

const run = promisify(execFile);
const TSX = path.resolve('node_modules/.bin/tsx');

let database: TestDatabase;
let server: OAuthTestApp;
let firstLoad: boolean;

beforeAll(async () => {
  database = await openTestDatabase();
  await loadDemoIcs(database.db, 'test');
  server = await startOAuthApp(database.db);
  firstLoad = await loadOAuthDemo(database.db, { appOrigin: server.url });
});
afterAll(async () => {
  await server?.close();
  await database?.close();
});

describe('loadOAuthDemo', () => {
  it('registers the demo app and a backend client per partner organisation, once', async () => {
    expect(firstLoad).toBe(true);
    expect(await loadOAuthDemo(database.db, { appOrigin: server.url })).toBe(false);
    const clients = await listClients(database.db);
    const app = clients.find((c) => c.clientId === DEMO_APP_ID);
    expect(app).toMatchObject({ kind: 'public_app', launchUri: `${server.url}/smart-demo/launch.html`, redirectUris: [`${server.url}/smart-demo/app.html`] });
    const backends = clients.filter((c) => c.kind === 'backend_service');
    expect(backends.map((c) => c.organisation).sort()).toEqual(['E06000019', 'E10000034', 'R1A', 'RLQ', 'RWP', 'RYA', undefined].sort());
    // Only public keys are registered.
    for (const c of backends) expect(JSON.stringify(c.jwks)).not.toMatch(/"d":/);
  });

  it('npm run token prints a token for a demo backend client, from its demo key', async () => {
    for (const client of [DEMO_BACKEND_CLIENTS[1], DEMO_BACKEND_CLIENTS[2]]) {
      if (!client) throw new Error('no demo client');
      const { stdout } = await run(TSX, ['src/cli/token.ts', '--client', client.clientId, '--key', demoKeyFile(client.clientId), '--scope', 'system/*.rs', '--url', server.url]);
      const access = await accessFromBearerToken(database.db, stdout.trim());
      expect(access).toMatchObject({ kind: 'client', subject: client.clientId, organisation: client.organisation, purpose: 'HSYSADMIN', scopes: [{ context: 'system', type: '*', actions: 'rs' }] });
    }
  });

  it('npm run token explains a refusal and a missing argument', async () => {
    const refused = await run(TSX, ['src/cli/token.ts', '--client', 'openics-demo-rwp', '--key', demoKeyFile('openics-demo-rlq'), '--scope', 'system/*.rs', '--url', server.url]).catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toMatch(/401 invalid_client/);
    const usage = await run(TSX, ['src/cli/token.ts', '--client', 'x']).catch((e: { code: number; stderr: string }) => e);
    expect(usage).toMatchObject({ code: 2 });
    expect((usage as { stderr: string }).stderr).toMatch(/--client, --key and --scope are all needed/);
  });
});

describe('npm run clients', () => {
  it('makes a key, registers a backend client with it, lists it and removes it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openics-clients-'));
    const env = { ...process.env, OPENICS_DATA_DIR: path.join(dir, 'data'), DATABASE_URL: '' };
    try {
      const keyFile = path.join(dir, 'feed.private.jwk.json');
      const keygen = await run(TSX, ['src/cli/clients.ts', 'keygen', '--alg', 'ES384', '--out', keyFile], { env });
      const publicFile = path.join(dir, 'feed.public.json');
      fs.writeFileSync(publicFile, keygen.stdout);
      expect(JSON.parse(fs.readFileSync(keyFile, 'utf8'))).toMatchObject({ kty: 'EC', crv: 'P-384', alg: 'ES384' });
      expect(keygen.stdout).not.toMatch(/"d":/);
      expect(fs.statSync(keyFile).mode & 0o077).toBe(0);

      const bad = await run(TSX, ['src/cli/clients.ts', 'add', '--id', 'feed', '--name', 'A feed', '--kind', 'backend_service', '--scope', 'patient/*.rs', '--jwks-file', publicFile], { env, timeout: 120_000 }).catch(
        (e: { code: number; stderr: string }) => e,
      );
      expect(bad).toMatchObject({ code: 1 });
      expect((bad as { stderr: string }).stderr).toMatch(/scope: a backend service has only system\/ scopes/);
      await run(TSX, ['src/cli/clients.ts', 'add', '--id', 'feed', '--name', 'A feed', '--kind', 'backend_service', '--scope', 'system/*.rs', '--jwks-file', publicFile], { env, timeout: 120_000 });
      const listed = await run(TSX, ['src/cli/clients.ts', 'list'], { env, timeout: 120_000 });
      expect(listed.stdout).toMatch(/feed {2}backend_service {2}A feed\n {4}scope: system\/\*\.rs/);
      const removed = await run(TSX, ['src/cli/clients.ts', 'remove', 'feed'], { env, timeout: 120_000 });
      expect(removed.stdout).toContain('Removed feed');
      expect((await run(TSX, ['src/cli/clients.ts', 'list'], { env, timeout: 120_000 })).stdout).toContain('No clients are registered');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
