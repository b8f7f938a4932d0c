-- The ICS structure module: organisations, places, PCNs, bodies, people, memberships, and the
-- functions and decisions map. Everything is scoped by the ICS (its ICB's ODS code) so one
-- database can hold the demo ICS and any skeleton built with `npm run ics -- create`.

CREATE TABLE ics (
  code        text PRIMARY KEY,            -- the ICB's ODS code, e.g. QGH
  name        text NOT NULL,               -- e.g. Herefordshire and Worcestershire
  region      text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Organisations are national (one trust may serve several ICSs) and keyed by ODS code;
-- councils, which ODS does not code consistently, by their ONS GSS code.
CREATE TABLE organisation (
  code        text PRIMARY KEY,
  name        text NOT NULL,
  kind        text NOT NULL CHECK (kind IN (
                'nhs_england', 'icb', 'nhs_trust', 'foundation_trust', 'gp_practice', 'pcn',
                'upper_tier_council', 'unitary_council', 'lower_tier_council',
                'vcse', 'healthwatch', 'independent_provider', 'social_care_provider', 'gp_federation')),
  -- For trusts: which services they provide; drives the provider collaborative and place rules.
  services    text[] NOT NULL DEFAULT '{}' CHECK (services <@ ARRAY['acute', 'community', 'mental_health', 'ambulance', 'specialist']::text[]),
  postcode    text,
  latitude    double precision,
  longitude   double precision,
  website     text
);

-- Which organisations are partners in which ICS (practices and PCNs are linked through their own tables).
CREATE TABLE ics_partner (
  ics_code    text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  org_code    text NOT NULL REFERENCES organisation(code),
  PRIMARY KEY (ics_code, org_code)
);

CREATE TABLE place (
  id                  text PRIMARY KEY,    -- e.g. QGH-E06000019
  ics_code            text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  name                text NOT NULL,
  gss_code            text,                -- local authority district the place follows
  council_code        text REFERENCES organisation(code),  -- the district or unitary council
  upper_tier_code     text REFERENCES organisation(code),  -- the council with social care and public health duties
  UNIQUE (ics_code, name)
);

CREATE TABLE pcn (
  org_code    text PRIMARY KEY REFERENCES organisation(code),
  ics_code    text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  place_id    text REFERENCES place(id)
);

CREATE TABLE practice (
  org_code              text PRIMARY KEY REFERENCES organisation(code),
  ics_code              text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  pcn_code              text REFERENCES pcn(org_code),
  place_id              text REFERENCES place(id),
  lad_code              text,
  registered_patients   integer,           -- NHS England list size used for the 2022/23 allocations
  population            double precision,  -- 2025/26 allocation population
  weighted_population   double precision   -- 2025/26 final core weighted population (needs-based)
);
CREATE INDEX practice_ics ON practice (ics_code);

CREATE TABLE person (
  id          text PRIMARY KEY,
  ics_code    text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  name        text NOT NULL,
  email       text
);

-- Roles people hold in organisations (chief executive of a trust, director of public health
-- of a council, clinical director of a PCN). Board independence is judged from these.
CREATE TABLE organisation_role (
  id          text PRIMARY KEY,
  person_id   text NOT NULL REFERENCES person(id) ON DELETE CASCADE,
  org_code    text NOT NULL REFERENCES organisation(code),
  role        text NOT NULL,
  start_date  date NOT NULL,
  end_date    date,
  CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX organisation_role_org ON organisation_role (org_code);

-- A body is anything that meets and decides: the ICB board and its committees, the ICP,
-- place-based partnerships, provider collaboratives, clinical networks.
CREATE TABLE body (
  id              text PRIMARY KEY,
  ics_code        text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  kind            text NOT NULL CHECK (kind IN ('icb_board', 'icp', 'committee', 'place_partnership', 'provider_collaborative', 'clinical_network')),
  name            text NOT NULL,
  parent_id       text REFERENCES body(id),          -- a committee's parent board
  committee_type  text CHECK (committee_type IN ('audit', 'remuneration', 'quality', 'finance', 'primary_care_commissioning', 'people', 'other')),
  place_id        text REFERENCES place(id),         -- a place partnership's place
  form            text CHECK (form IN ('consultative_forum', 'icb_committee', 'joint_committee', 'individual_director', 'lead_provider')),
  model           text CHECK (model IN ('provider_leadership_board', 'lead_provider', 'shared_leadership')),
  lead_org_code   text REFERENCES organisation(code),
  quorum          integer CHECK (quorum IS NULL OR quorum > 0), -- voting members who must be present
  description     text,
  UNIQUE (ics_code, name)
);

CREATE TABLE body_organisation (
  body_id     text NOT NULL REFERENCES body(id) ON DELETE CASCADE,
  org_code    text NOT NULL REFERENCES organisation(code),
  PRIMARY KEY (body_id, org_code)
);

CREATE TABLE membership (
  id          text PRIMARY KEY,
  body_id     text NOT NULL REFERENCES body(id) ON DELETE CASCADE,
  person_id   text NOT NULL REFERENCES person(id),
  role        text NOT NULL,
  org_code    text REFERENCES organisation(code),    -- the organisation the member comes from
  voting      boolean NOT NULL DEFAULT true,
  start_date  date NOT NULL,
  end_date    date,
  CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX membership_body ON membership (body_id);
CREATE INDEX membership_person ON membership (person_id);

-- The functions and decisions map.
CREATE TABLE ics_function (
  id                  text PRIMARY KEY,
  ics_code            text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  name                text NOT NULL,
  description         text,
  -- Where the statutory duty starts (the ICB itself, or NHS England delegating to the ICB).
  source_org_code     text NOT NULL REFERENCES organisation(code),
  -- Who answers for it. The rules check holds this to the ICB whatever is delegated.
  accountable_org_code text NOT NULL REFERENCES organisation(code),
  budget_pounds       numeric(14, 2),
  UNIQUE (ics_code, name)
);

CREATE TABLE delegation (
  id              text PRIMARY KEY,
  function_id     text NOT NULL REFERENCES ics_function(id) ON DELETE CASCADE,
  -- Exactly one delegate: a body (committee, place partnership, collaborative) or a named person.
  to_body_id      text REFERENCES body(id),
  to_person_id    text REFERENCES person(id),
  place_id        text REFERENCES place(id),          -- limits the delegation to one place
  budget_pounds   numeric(14, 2) CHECK (budget_pounds IS NULL OR budget_pounds >= 0),
  decisions       text NOT NULL,                      -- what the delegate may decide
  start_date      date NOT NULL,
  end_date        date,
  CHECK ((to_body_id IS NULL) <> (to_person_id IS NULL)),
  CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX delegation_function ON delegation (function_id);

-- Every edit to the structure, so a board secretary can see what changed, when and by whom.
CREATE TABLE structure_change (
  id          bigserial PRIMARY KEY,
  ics_code    text NOT NULL REFERENCES ics(code) ON DELETE CASCADE,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  summary     text NOT NULL,
  detail      jsonb NOT NULL DEFAULT '{}'
);
