/**
 * `npm run clients -- <command>`: register the apps and systems that may ask OpenICS for tokens.
 *
 *   npm run clients -- list
 *   npm run clients -- add --id <id> --name <name> --kind public_app|confidential_app|backend_service
 *                          --scope "<scopes>" [--organisation <ODS or ONS code>]
 *                          [--redirect-uri <url>]... [--launch-uri <url>] [--origin <origin>]...
 *                          [--jwks-file <public JWK or JWK Set file> | --jwks-uri <url>]
 *   npm run clients -- remove <id>      the client can no longer get tokens; all its tokens are revoked
 *   npm run clients -- keygen --alg ES384|RS384 --out <file>
 *                                       a new key pair: the private JWK to <file> (only its owner may
 *                                       read it), the public JWK Set to standard output, to register
 *
 * Uses the same database as `npm start` (DATABASE_URL or the embedded engine in ./data), so stop
 * the server first when it runs on the embedded engine. See docs/access.md.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { CLIENT_KINDS, type ClientKind, listClients, registerClient, removeClient } from '../access/oauth/clients.js';
import { publicJwk } from '../access/oauth/demo.js';
import { ConfigError, loadConfig } from '../core/config.js';
import { type Database, DatabaseUnavailableError, openDatabase } from '../core/db/database.js';
import { migrate } from '../core/db/migrate.js';
import { UserError, ValidationError } from '../core/errors.js';

const USAGE = `usage: npm run clients -- list
       npm run clients -- add --id <id> --name <name> --kind ${CLIENT_KINDS.join('|')} --scope "<scopes>"
                              [--organisation <code>] [--redirect-uri <url>]... [--launch-uri <url>]
                              [--origin <origin>]... [--jwks-file <file> | --jwks-uri <url>]
       npm run clients -- remove <id>
       npm run clients -- keygen --alg ES384|RS384 --out <file>`;

class UsageError extends Error {}

async function withDatabase<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrate(db);
    return await work(db);
  } finally {
    await db.close();
  }
}

function readJwks(file: string): { keys: JWK[] } {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--jwks-file: cannot read ${file} as JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const keys = value && typeof value === 'object' && 'keys' in value ? (value as { keys: JWK[] }).keys : [value as JWK];
  return { keys };
}

async function add(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      id: { type: 'string' },
      name: { type: 'string' },
      kind: { type: 'string' },
      scope: { type: 'string' },
      organisation: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'launch-uri': { type: 'string' },
      origin: { type: 'string', multiple: true },
      'jwks-file': { type: 'string' },
      'jwks-uri': { type: 'string' },
    },
    strict: true,
  });
  const missing = (['id', 'name', 'kind', 'scope'] as const).filter((k) => !values[k]);
  if (missing.length > 0) throw new UsageError(`add needs ${missing.map((m) => `--${m}`).join(', ')}`);
  const kind = values.kind as ClientKind;
  if (!CLIENT_KINDS.includes(kind)) throw new UsageError(`--kind must be one of ${CLIENT_KINDS.join(', ')}`);
  await withDatabase((db) =>
    registerClient(db, {
      clientId: values.id ?? '',
      name: values.name ?? '',
      kind,
      organisation: values.organisation,
      redirectUris: values['redirect-uri'] ?? [],
      launchUri: values['launch-uri'],
      origins: values.origin ?? [],
      jwks: values['jwks-file'] ? readJwks(values['jwks-file']) : undefined,
      jwksUri: values['jwks-uri'],
      scope: values.scope ?? '',
    }),
  );
  process.stdout.write(`Registered ${values.id ?? ''} (${kind}).\n`);
  return 0;
}

async function keygen(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { alg: { type: 'string', default: 'ES384' }, out: { type: 'string' } }, strict: true });
  if (values.alg !== 'ES384' && values.alg !== 'RS384') throw new UsageError('--alg must be ES384 or RS384 (what SMART Backend Services servers must support)');
  if (!values.out) throw new UsageError('keygen needs --out <file> for the private key');
  if (fs.existsSync(values.out)) throw new UsageError(`${values.out} exists; choose another file (a key is never overwritten)`);
  const { privateKey } = await generateKeyPair(values.alg, { extractable: true, ...(values.alg === 'RS384' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  const full: JWK = { ...jwk, alg: values.alg, use: 'sig', kid: await calculateJwkThumbprint(jwk) };
  fs.writeFileSync(values.out, `${JSON.stringify(full, null, 2)}\n`, { mode: 0o600 });
  process.stderr.write(`Private key written to ${values.out}: keep it with the client, never share it. Register the public key below (--jwks-file).\n`);
  process.stdout.write(`${JSON.stringify({ keys: [publicJwk(full)] }, null, 2)}\n`);
  return 0;
}

async function run(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case 'list': {
      const clients = await withDatabase((db) => listClients(db));
      if (clients.length === 0) process.stdout.write('No clients are registered.\n');
      for (const c of clients) {
        process.stdout.write(`${c.clientId}  ${c.kind}${c.organisation ? `  ${c.organisation}` : ''}  ${c.name}\n    scope: ${c.scope}\n`);
        if (c.redirectUris.length > 0) process.stdout.write(`    redirect: ${c.redirectUris.join(' ')}\n`);
        if (c.launchUri) process.stdout.write(`    launch: ${c.launchUri}\n`);
      }
      return 0;
    }
    case 'add':
      return add(rest);
    case 'remove': {
      const id = rest[0];
      if (!id) throw new UsageError('remove needs the client id');
      const removed = await withDatabase((db) => removeClient(db, id));
      process.stdout.write(removed ? `Removed ${id}; its tokens are revoked.\n` : `No client ${id} is registered.\n`);
      return removed ? 0 : 1;
    }
    case 'keygen':
      return keygen(rest);
    case undefined:
      throw new UsageError('no command given');
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`openics: ${error.message}\n${USAGE}\n`);
      process.exit(2);
    }
    if (error instanceof ValidationError) {
      process.stderr.write(`openics: the registration was refused:\n${error.problems.map((p) => `  ${p.field}: ${p.message}`).join('\n')}\n`);
      process.exit(1);
    }
    const known = error instanceof UserError || error instanceof ConfigError || error instanceof DatabaseUnavailableError;
    process.stderr.write(`openics: ${known ? error.message : `unexpected error: ${error instanceof Error ? error.message : String(error)}`}\n`);
    process.exit(1);
  },
);
