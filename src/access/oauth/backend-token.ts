/**
 * SMART Backend Services, the client side: sign a client assertion with the client's private key
 * (private_key_jwt, RS384 or ES384) and trade it for an access token with client_credentials.
 * Used by `npm run token` and by the tests; any other SMART backend client does the same.
 */
import { randomUUID } from 'node:crypto';
import { importJWK, type JWK, SignJWT } from 'jose';

export interface BackendTokenRequest {
  /** The token endpoint, e.g. http://localhost:3000/oauth/token */
  tokenUrl: string;
  clientId: string;
  /** The client's private key as a JWK (with "d"). */
  privateKey: JWK;
  scope: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

export class TokenRequestError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string | undefined,
  ) {
    super(`the token endpoint answered ${status} ${error}${description ? `: ${description}` : ''}`);
    this.name = 'TokenRequestError';
  }
}

/** The algorithm a key signs with: its own `alg`, else RS384 for RSA and ES384 for P-384 (SMART's two). */
export function assertionAlg(key: JWK): string {
  if (typeof key.alg === 'string') return key.alg;
  if (key.kty === 'RSA') return 'RS384';
  if (key.kty === 'EC' && key.crv === 'P-384') return 'ES384';
  if (key.kty === 'EC' && key.crv === 'P-256') return 'ES256';
  throw new Error('the key must be RSA or EC (P-384 or P-256)');
}

/** A client assertion JWT: iss = sub = client, aud = token endpoint, five minutes, a fresh jti. */
export async function clientAssertion(tokenUrl: string, clientId: string, privateKey: JWK): Promise<string> {
  if (privateKey.d === undefined) throw new Error('the key file must hold the private key (with "d")');
  const alg = assertionAlg(privateKey);
  const key = await importJWK(privateKey, alg);
  return new SignJWT({})
    .setProtectedHeader({ alg, typ: 'JWT', ...(privateKey.kid ? { kid: privateKey.kid } : {}) })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenUrl)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key);
}

export async function requestBackendToken(request: BackendTokenRequest): Promise<TokenResponse> {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    scope: request.scope,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await clientAssertion(request.tokenUrl, request.clientId, request.privateKey),
  });
  const response = await fetch(request.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON: reported below with the status.
  }
  if (!response.ok || typeof json.access_token !== 'string') {
    throw new TokenRequestError(response.status, typeof json.error === 'string' ? json.error : 'unexpected_response', typeof json.error_description === 'string' ? json.error_description : undefined);
  }
  return json as unknown as TokenResponse;
}
