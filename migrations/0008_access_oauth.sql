-- OpenICS as an OAuth 2.0 / OpenID Connect authorisation server (SMART App Launch 2.0 and SMART
-- Backend Services). See src/access/README.md, "OAuth and SMART".

-- The apps and systems allowed to ask for tokens. Registered by an administrator
-- (npm run clients) or by the demo loader; never by the apps themselves.
CREATE TABLE oauth_client (
  client_id      text PRIMARY KEY CHECK (client_id ~ '^[A-Za-z0-9._~-]{3,100}$'),
  name           text NOT NULL,
  -- public_app: a browser or native SMART app without a secret (PKCE only);
  -- confidential_app: a SMART app with a server that authenticates with its own key (private_key_jwt);
  -- backend_service: a system with no user (SMART Backend Services: client_credentials + private_key_jwt).
  kind           text NOT NULL CHECK (kind IN ('public_app', 'confidential_app', 'backend_service')),
  -- The organisation the client acts for (ODS code, or ONS code for a council); a backend
  -- service's tokens carry it. NULL for an app that acts only for its signed-in users.
  organisation   text REFERENCES organisation (code),
  redirect_uris  text[] NOT NULL DEFAULT '{}',
  -- The app's launch URL for an EHR launch from a patient page (SMART "launch_uri").
  launch_uri     text,
  -- Browser origins allowed to call the API (CORS), e.g. https://app.example.org
  origins        text[] NOT NULL DEFAULT '{}',
  -- Public keys for private_key_jwt: a JWK Set, or a URL to fetch one from.
  jwks           jsonb,
  jwks_uri       text,
  -- The scopes the client may be granted, space separated, SMART syntax with wildcards allowed
  -- (e.g. "openid fhirUser launch launch/patient patient/*.rs offline_access").
  scope          text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  disabled_at    timestamptz,
  CHECK (kind = 'backend_service' OR cardinality(redirect_uris) > 0),
  CHECK (kind = 'public_app' OR jwks IS NOT NULL OR jwks_uri IS NOT NULL),
  CHECK (jwks IS NULL OR jwks_uri IS NULL)
);

-- Everything oidc-provider keeps between requests (sessions, interactions, grants, codes,
-- access and refresh tokens, replay detection), through its adapter (src/access/oauth/adapter.ts).
-- Bearer credentials (codes and tokens) are stored under the SHA-256 of their value, never the value.
CREATE TABLE oauth_model (
  model        text NOT NULL,
  id           text NOT NULL,
  payload      jsonb NOT NULL,
  grant_id     text,
  uid          text,
  user_code    text,
  expires_at   timestamptz,
  consumed_at  timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX oauth_model_grant ON oauth_model (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oauth_model_uid ON oauth_model (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX oauth_model_user_code ON oauth_model (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oauth_model_expires ON oauth_model (expires_at) WHERE expires_at IS NOT NULL;

-- Signing keys generated on first start when OAUTH_SIGNING_KEY is not configured (development
-- and the demo only: production configures its key and this table stays empty).
CREATE TABLE oauth_signing_key (
  kid          text PRIMARY KEY,
  private_jwk  jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- An EHR launch: a signed-in user opened a registered app from a patient's page. The app gets
-- `launch=<id>` and trades it, during authorisation, for the patient it is bound to.
CREATE TABLE oauth_launch (
  id          text PRIMARY KEY,
  client_id   text NOT NULL REFERENCES oauth_client (client_id) ON DELETE CASCADE,
  user_id     text NOT NULL,
  patient     text NOT NULL,
  encounter   text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX oauth_launch_expires ON oauth_launch (expires_at);

-- What one grant (one authorisation of one app by one user) is bound to: the SMART launch
-- context and the role the user acts in. Every token of the grant (and its refreshes) carries it.
CREATE TABLE oauth_grant_context (
  grant_id      text PRIMARY KEY,
  account_id    text NOT NULL,
  client_id     text NOT NULL,
  patient       text,
  encounter     text,
  role          text,
  organisation  text,
  launch_id     text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL
);
CREATE INDEX oauth_grant_context_expires ON oauth_grant_context (expires_at);
