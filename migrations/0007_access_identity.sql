-- Identity and sessions (src/access/identity). See src/access/README.md, "Identity and sessions".
--
-- Users are people: staff, who hold roles at organisations, and citizens, who are residents and
-- are known by their NHS number. A user's id is opaque and stable; it is what the audit trail and
-- tokens name, never the NHS number.

CREATE TABLE access_user (
  id                 text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
  -- What the person types at the built-in sign-in: lower case, unique.
  username           text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._@-]{2,99}$'),
  display_name       text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
  kind               text NOT NULL CHECK (kind IN ('staff', 'citizen')),
  -- Citizens only: the NHS number that links them to their Patient records (each source
  -- organisation holds its own Patient resource for a resident, so there may be several).
  nhs_number         text UNIQUE CHECK (nhs_number ~ '^[0-9]{10}$'),
  -- scrypt in PHC string format ($scrypt$ln=..,r=..,p=..$salt$hash); NULL for users who only
  -- sign in through an external provider (NHS CIS2, NHS login).
  password_hash      text CHECK (password_hash LIKE '$scrypt$%'),
  -- The external provider's issuer and subject, for users who sign in through one.
  external_issuer    text,
  external_subject   text,
  disabled_at        timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'citizen') = (nhs_number IS NOT NULL)),
  CHECK ((external_issuer IS NULL) = (external_subject IS NULL)),
  UNIQUE (external_issuer, external_subject)
);

-- The roles a user holds, each at one organisation (ODS code, or ONS code for a council).
-- Not a foreign key to organisation: a user signing in through NHS CIS2 may hold a role at an
-- organisation outside the ICSs this database holds.
CREATE TABLE access_role_assignment (
  user_id        text NOT NULL REFERENCES access_user (id) ON DELETE CASCADE,
  role           text NOT NULL CHECK (role IN (
                   'doctor', 'nurse', 'allied_health_professional', 'social_worker', 'care_coordinator',
                   'administrator', 'analyst', 'leader', 'board_member', 'privacy_officer', 'citizen')),
  organisation   text NOT NULL CHECK (organisation ~ '^[A-Z0-9-]{3,12}$'),
  -- The national RBAC role code it maps from or to, when known (e.g. R8000).
  national_code  text,
  PRIMARY KEY (user_id, role, organisation)
);

-- Proxy access: a citizen (a parent, a carer) allowed to see another resident's record, by that
-- resident's NHS number, for a period.
CREATE TABLE access_proxy (
  proxy_user_id       text NOT NULL REFERENCES access_user (id) ON DELETE CASCADE,
  patient_nhs_number  text NOT NULL CHECK (patient_nhs_number ~ '^[0-9]{10}$'),
  -- How the proxy is related to the resident: an HL7 v3 RoleCode
  -- (http://terminology.hl7.org/CodeSystem/v3-RoleCode), e.g. PRN (parent), GUARD (guardian).
  relationship        text NOT NULL CHECK (relationship ~ '^[A-Z]{2,12}$'),
  valid_from          date NOT NULL,
  valid_to            date,
  CHECK (valid_to IS NULL OR valid_to >= valid_from),
  PRIMARY KEY (proxy_user_id, patient_nhs_number)
);
CREATE INDEX access_proxy_patient ON access_proxy (patient_nhs_number);

-- Server-side sessions of the built-in sign-in. The cookie holds a random token; only its
-- SHA-256 is stored, so a copy of this table cannot be used to sign in.
CREATE TABLE access_session (
  token_hash       text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  user_id          text NOT NULL REFERENCES access_user (id) ON DELETE CASCADE,
  -- The role and organisation the user chose to act in; NULL until a user holding several
  -- has chosen (such a session allows nothing but the choice).
  role             text,
  organisation     text,
  -- Citizens: the FHIR Patient ids resolved at sign-in (their own, and those they are proxy for).
  own_patients     text[] NOT NULL DEFAULT '{}',
  proxy_patients   text[] NOT NULL DEFAULT '{}',
  created_at       timestamptz NOT NULL,
  last_seen_at     timestamptz NOT NULL,
  -- Absolute end, whatever the activity; the idle limit is measured from last_seen_at.
  expires_at       timestamptz NOT NULL,
  CHECK ((role IS NULL) = (organisation IS NULL)),
  CHECK (expires_at > created_at),
  -- Taking the role away ends the sessions acting in it.
  FOREIGN KEY (user_id, role, organisation) REFERENCES access_role_assignment (user_id, role, organisation) ON DELETE CASCADE
);
CREATE INDEX access_session_user ON access_session (user_id);
CREATE INDEX access_session_expires ON access_session (expires_at);
