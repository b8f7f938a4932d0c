// The OpenICS demo SMART app: a minimal SMART App Launch 2.0 client in the browser, with no
// library, so each step is plain to read. EHR launch: launch.html?iss=…&launch=… → authorize →
// app.html?code=… → token → FHIR reads. Standalone: app.html → "Choose a patient" → the same.
// It is a public client: PKCE (S256), no secret, and it sends no cookies to the server.

const root = document.getElementById('smart-app');
const CLIENT_ID = root.dataset.clientId;
const REDIRECT_URI = root.dataset.redirectUri;
const OWN_FHIR = root.dataset.fhirBase;
const STORE = 'openics-smart-demo';

function show(id, text) {
  const element = document.getElementById(id);
  element.textContent = text;
  element.closest('[hidden]')?.removeAttribute('hidden');
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function random() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function getJson(url, token) {
  const response = await fetch(url, {
    credentials: 'omit',
    headers: { accept: 'application/fhir+json, application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body };
}

/** Starts an authorisation: SMART configuration, PKCE, then off to OpenICS's authorize endpoint. */
async function authorize(iss, scope, launch) {
  const { status, body } = await getJson(`${iss}/.well-known/smart-configuration`);
  if (status !== 200) throw new Error(`the FHIR server's SMART configuration answered ${status}`);
  const verifier = random();
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = random();
  sessionStorage.setItem(STORE, JSON.stringify({ state, verifier, iss, tokenEndpoint: body.token_endpoint }));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope,
    state,
    aud: iss,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(launch ? { launch } : {}),
  });
  location.assign(`${body.authorization_endpoint}?${params}`);
}

function patientName(patient) {
  const name = patient.name?.[0];
  return name?.text || [...(name?.given ?? []), name?.family].filter(Boolean).join(' ') || 'Name not recorded';
}

function outcomeText(body) {
  return body?.issue?.map((i) => i.diagnostics).filter(Boolean).join(' ') ?? '';
}

/** Back from OpenICS with a code: trade it for a token, then read what the token allows. */
async function finish(params) {
  const saved = JSON.parse(sessionStorage.getItem(STORE) ?? 'null');
  sessionStorage.removeItem(STORE);
  history.replaceState(null, '', location.pathname);
  if (params.get('error')) throw new Error(`OpenICS did not authorise the app: ${params.get('error_description') ?? params.get('error')}`);
  if (!saved || saved.state !== params.get('state')) throw new Error('the answer does not belong to a sign-in this app started (state does not match)');
  const response = await fetch(saved.tokenEndpoint, {
    method: 'POST',
    credentials: 'omit',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: params.get('code'), redirect_uri: REDIRECT_URI, client_id: CLIENT_ID, code_verifier: saved.verifier }),
  });
  const token = await response.json();
  if (!response.ok) throw new Error(`the token endpoint answered ${response.status}: ${token.error_description ?? token.error}`);

  show('token-patient', token.patient ?? 'none');
  show('token-scope', token.scope ?? '');
  show('token-user', token.fhirUser ?? 'not given');

  const patient = await getJson(`${saved.iss}/Patient/${encodeURIComponent(token.patient)}`, token.access_token);
  if (patient.status === 200) {
    show('patient-name', patientName(patient.body));
    show('patient-born', patient.body.birthDate ?? 'not recorded');
  } else {
    show('patient-name', `Could not read the patient (${patient.status}): ${outcomeText(patient.body)}`);
  }
  const observations = await getJson(`${saved.iss}/Observation?patient=${encodeURIComponent(token.patient)}&_summary=count`, token.access_token);
  show('observations', observations.status === 200 ? String(observations.body.total ?? 0) : `not readable (${observations.status})`);

  // Anything else: the app may try, and shows what it could not read.
  const form = document.getElementById('other-form');
  form.removeAttribute('hidden');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const id = new FormData(form).get('other').trim();
    const other = await getJson(`${saved.iss}/Patient/${encodeURIComponent(id)}`, token.access_token);
    show('other-result', other.status === 200 ? `Read ${patientName(other.body)} (${other.status})` : `Could not read Patient/${id}: ${other.status} ${outcomeText(other.body)}`);
  });
}

async function main() {
  const params = new URLSearchParams(location.search);
  if (root.dataset.page === 'launch') {
    const iss = params.get('iss');
    const launch = params.get('launch');
    if (!iss || !launch) throw new Error('this page is opened by OpenICS with iss and launch; start from a patient’s page');
    show('status', 'Connecting to OpenICS…');
    await authorize(iss, 'openid fhirUser launch patient/*.rs', launch);
    return;
  }
  if (params.has('code') || params.has('error')) {
    show('status', 'Signed in. Reading the record…');
    await finish(params);
    show('status', 'Done.');
    return;
  }
  const start = document.getElementById('standalone');
  start.removeAttribute('hidden');
  start.addEventListener('click', () => {
    authorize(OWN_FHIR, 'openid fhirUser launch/patient patient/*.rs').catch((error) => show('error', error.message));
  });
}

main().catch((error) => show('error', error.message));
