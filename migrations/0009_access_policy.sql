-- Authorisation in the data layer (src/access/policy). See src/access/README.md, "Policy".
--
-- The FHIR store calls the policy's write hook in the same transaction as every write, so these
-- tables never disagree with the records they are derived from. The FHIR row filter reads them
-- with EXISTS probes keyed by patient_key / person_key and party.
--
-- Persons: every Patient resource has a patient_key (a hash of its id; src/fhir/indexer.ts).
-- Each source organisation has its own Patient resource for a resident, so one person may have
-- several keys. access_person_link maps each key to a person_key; a key starts as its own
-- person. The master patient index (a later issue) links keys by giving them one person_key
-- (linkPatientKeys in src/access/policy/persons.ts, which also re-keys the rows below). A
-- relationship, consent or break-glass recorded against any linked key then covers them all.

CREATE TABLE access_person_link (
  patient_key bigint PRIMARY KEY,
  person_key  bigint NOT NULL
);
CREATE INDEX access_person_link_person ON access_person_link (person_key, patient_key);

-- Legitimate relationships between a resident and an organisation (or one practitioner), found
-- in the records: registration (Patient.generalPractitioner / managingOrganization), an
-- encounter, an episode of care, a referral (ServiceRequest requester or performer), care team
-- membership, social care involvement (a council's EpisodeOfCare). until is null while open.
CREATE TABLE access_relationship (
  person_key   bigint      NOT NULL,
  patient_key  bigint      NOT NULL,
  patient_id   text        NOT NULL,
  -- ODS code (or ONS GSS code of a council) of the organisation, or 'Practitioner/<id>'
  party        text        NOT NULL,
  basis        text        NOT NULL CHECK (basis IN ('registration', 'encounter', 'episode', 'referral', 'care-team', 'social-care')),
  since        timestamptz,
  until        timestamptz,
  source_type  text        NOT NULL,
  source_id    text        NOT NULL
);
CREATE INDEX access_relationship_party ON access_relationship (party, person_key, until);
CREATE INDEX access_relationship_person ON access_relationship (person_key);
CREATE INDEX access_relationship_source ON access_relationship (source_type, source_id);

-- Objections and opt-outs, from FHIR Consent resources (src/access/policy/consent.ts).
--  objection:        the resident objects to sharing: other organisations than a record's holder
--                    do not see it (organisations: only these; null: every other organisation),
--                    except by break-glass;
--  national-opt-out: the National Data Opt-out: no secondary use (analytics, planning, exports).
CREATE TABLE access_consent (
  person_key     bigint      NOT NULL,
  patient_key    bigint      NOT NULL,
  patient_id     text        NOT NULL,
  kind           text        NOT NULL CHECK (kind IN ('objection', 'national-opt-out')),
  organisations  text[],
  valid_from     timestamptz,
  valid_until    timestamptz,
  source_id      text        NOT NULL
);
CREATE INDEX access_consent_person ON access_consent (person_key, kind);
CREATE INDEX access_consent_source ON access_consent (source_id);

-- Sensitive records: the classes of a resource's meta.security labels (src/access/policy/labels.ts)
-- and its holder (the ODS code in meta.source). The current version's labels apply to every
-- version of the resource.
CREATE TABLE access_resource_label (
  resource_key  bigint NOT NULL,
  patient_key   bigint NOT NULL,
  class         text   NOT NULL CHECK (class IN ('sexual-health', 'gender-identity', 'safeguarding', 'mental-health', 'substance-misuse', 'restricted', 'very-restricted')),
  holder        text,
  PRIMARY KEY (resource_key, class)
);
CREATE INDEX access_resource_label_patient ON access_resource_label (patient_key);

-- Break-glass: a user's time-limited emergency access to one resident's record, with the stated
-- reason, flagged for the privacy officer's review.
CREATE TABLE access_break_glass (
  id             text        PRIMARY KEY,
  user_subject   text        NOT NULL,
  user_display   text        NOT NULL,
  role           text        NOT NULL,
  organisation   text        NOT NULL,
  patient_id     text        NOT NULL,
  patient_key    bigint      NOT NULL,
  person_key     bigint      NOT NULL,
  reason         text        NOT NULL CHECK (length(btrim(reason)) >= 10),
  purpose        text        NOT NULL DEFAULT 'ETREAT',
  granted_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL CHECK (expires_at > granted_at),
  review_status  text        NOT NULL DEFAULT 'pending' CHECK (review_status IN ('pending', 'appropriate', 'inappropriate')),
  reviewed_by    text,
  reviewed_at    timestamptz,
  review_note    text
);
CREATE INDEX access_break_glass_user ON access_break_glass (user_subject, organisation, expires_at);
CREATE INDEX access_break_glass_person ON access_break_glass (person_key);
CREATE INDEX access_break_glass_review ON access_break_glass (review_status, granted_at);
