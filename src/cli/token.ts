/**
 * `npm run -s token -- --client <id> --key <private JWK file> --scope "system/*.cruds"`: prints an
 * access token for a registered backend client, for scripts and FHIR clients. It does what any
 * SMART Backend Services client does: finds the token endpoint in the server's SMART
 * configuration, signs a client assertion with the key (RS384 or ES384), and asks for a
 * client_credentials token.
 *
 *   --url <OpenICS URL>   default OPENICS_PUBLIC_URL, else http://localhost:<PORT or 3000>
 *   --json                print the whole token response instead of the token alone
 *
 * The server must be running. See docs/access.md, "Tokens for scripts and FHIR clients".
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import { requestBackendToken, TokenRequestError } from '../access/oauth/backend-token.js';

const USAGE = 'usage: npm run -s token -- --client <id> --key <private JWK file> --scope "system/*.cruds" [--url <OpenICS URL>] [--json]';

class UsageError extends Error {}

async function tokenEndpoint(base: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`${base}/.well-known/smart-configuration`, { headers: { accept: 'application/json' } });
  } catch (error) {
    throw new UsageError(`cannot reach OpenICS at ${base} (${error instanceof Error ? error.message : String(error)}); is it running? Set --url`);
  }
  if (!response.ok) throw new UsageError(`${base}/.well-known/smart-configuration answered ${response.status}; is this OpenICS?`);
  const configuration = (await response.json()) as { token_endpoint?: unknown };
  if (typeof configuration.token_endpoint !== 'string') throw new UsageError(`${base} has no token_endpoint in its SMART configuration`);
  return configuration.token_endpoint;
}

async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { client: { type: 'string' }, key: { type: 'string' }, scope: { type: 'string' }, url: { type: 'string' }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  if (!values.client || !values.key || !values.scope) throw new UsageError('--client, --key and --scope are all needed');
  let privateKey: JWK;
  try {
    privateKey = JSON.parse(fs.readFileSync(values.key, 'utf8')) as JWK;
  } catch (error) {
    throw new UsageError(`--key: cannot read ${values.key} as a JWK (${error instanceof Error ? error.message : String(error)})`);
  }
  const base = (values.url ?? (process.env.OPENICS_PUBLIC_URL || `http://localhost:${process.env.PORT || 3000}`)).replace(/\/+$/, '');
  const token = await requestBackendToken({ tokenUrl: await tokenEndpoint(base), clientId: values.client, privateKey, scope: values.scope });
  process.stdout.write(values.json ? `${JSON.stringify(token, null, 2)}\n` : `${token.access_token}\n`);
  return 0;
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage = error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'));
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`openics: ${usage || error instanceof TokenRequestError ? message : `unexpected error: ${message}`}\n${usage ? `${USAGE}\n` : ''}`);
    process.exit(usage ? 2 : 1);
  },
);
